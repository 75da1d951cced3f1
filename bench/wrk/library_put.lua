-- PUT /books/{id} of the library domain over the ids 1..books, uniformly at
-- random: each replaces the book, its copies and their loans.
-- Usage: wrk ... -s library_put.lua URL -- <books> <run> <authors> <branches>
--        <members> <copies per book> <loans per copy>
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(dir .. "common.lua")

setup = common.setup

local books, shape

function init(args)
  common.seed()
  books = common.arg(args, 1, "books")
  shape = common.book_shape(args, 2)
end

function request()
  return common.put_book(math.random(1, books), shape)
end
