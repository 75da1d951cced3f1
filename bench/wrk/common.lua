-- Shared by the bench/wrk scripts: per-thread random seeds and the request
-- bodies. Each script does `dofile(<this folder> .. "/common.lua")`.
local common = {}

local thread_counter = 0

-- Gives every wrk thread its own number, so that threads draw different ids.
function common.setup(thread)
  thread_counter = thread_counter + 1
  thread:set("thread_number", thread_counter)
end

-- Seeds this thread's generator from the clock and its number.
function common.seed()
  math.randomseed(os.time() * 1000 + (thread_number or 0))
end

-- Reads the positive integer argument `i` of `wrk ... -- a1 a2`, or fails.
function common.arg(args, i, name)
  local x = tonumber(args[i])
  if x == nil or x < 1 or x ~= math.floor(x) then
    error(string.format("argument %d (%s) must be a positive integer, got %s", i, name, tostring(args[i])))
  end
  return x
end

local write_counter = 0

-- A PUT /objects/{id} request with a fresh name and a random child that
-- references one of the seeded categories and related objects.
function common.put_object(id, categories)
  write_counter = write_counter + 1
  local name = string.format("w%d-%d", thread_number or 0, write_counter)
  local body = string.format(
    '{"name":"%s","child":{"access_code":"AC-%s","related_object_id":%d,"category_id":%d}}',
    name, name, math.random(1, categories), math.random(1, categories))
  return wrk.format("PUT", "/objects/" .. id, {["Content-Type"] = "application/json"}, body)
end

return common
