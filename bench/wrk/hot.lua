-- GET <path>/{id} over the ids 1..hot_ids, uniformly at random.
-- Usage: wrk ... -s hot.lua URL -- <hot_ids> [path, default /objects]
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(dir .. "common.lua")

setup = common.setup

local hot_ids, path

function init(args)
  common.seed()
  hot_ids = common.arg(args, 1, "hot_ids")
  path = common.path(args, 2)
end

function request()
  return wrk.format("GET", path .. math.random(1, hot_ids))
end
