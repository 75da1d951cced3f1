-- 95% GET and 5% PUT /books/{id} of the library domain, both over the ids
-- 1..hot_ids, so that the writes keep invalidating views the reads have
-- cached (the book's view holds its copies and their loans).
-- Usage: wrk ... -s library_mixed.lua URL -- <hot_ids> <run> <authors>
--        <branches> <members> <copies per book> <loans per copy> [write percent]
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(dir .. "common.lua")

setup = common.setup

local hot_ids, shape, write_percent

function init(args)
  common.seed()
  hot_ids = common.arg(args, 1, "hot_ids")
  shape = common.book_shape(args, 2)
  write_percent = tonumber(args[8]) or 5
end

function request()
  local id = math.random(1, hot_ids)
  if math.random() * 100 < write_percent then
    return common.put_book(id, shape)
  end
  return wrk.format("GET", "/books/" .. id)
end
