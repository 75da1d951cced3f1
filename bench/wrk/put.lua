-- PUT /objects/{id} over the ids 1..objects, uniformly at random, each with a
-- fresh name and a random seeded category and related object.
-- Usage: wrk ... -s put.lua URL -- <objects> <categories>
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(dir .. "common.lua")

setup = common.setup

local objects, categories

function init(args)
  common.seed()
  objects = common.arg(args, 1, "objects")
  categories = common.arg(args, 2, "categories")
end

function request()
  return common.put_object(math.random(1, objects), categories)
end
