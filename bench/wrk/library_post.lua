-- POST /books of the library domain: each creates a book with its copies and
-- their loans (owned arrays), all inserts.
-- Usage: wrk ... -s library_post.lua URL -- <run> <authors> <branches>
--        <members> <copies per book> <loans per copy>
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(dir .. "common.lua")

setup = common.setup

local shape

function init(args)
  common.seed()
  shape = common.book_shape(args, 1)
end

function request()
  return common.post_book(shape)
end
