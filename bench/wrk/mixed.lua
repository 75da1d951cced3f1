-- 95% GET and 5% PUT /objects/{id}, both over the ids 1..hot_ids, so that
-- the writes keep invalidating views the reads have cached.
-- Usage: wrk ... -s mixed.lua URL -- <hot_ids> <categories> [write percent]
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(dir .. "common.lua")

setup = common.setup

local hot_ids, categories, write_percent

function init(args)
  common.seed()
  hot_ids = common.arg(args, 1, "hot_ids")
  categories = common.arg(args, 2, "categories")
  write_percent = tonumber(args[3]) or 5
end

function request()
  local id = math.random(1, hot_ids)
  if math.random() * 100 < write_percent then
    return common.put_object(id, categories)
  end
  return wrk.format("GET", "/objects/" .. id)
end
