-- Shared by the bench/wrk scripts: per-thread random seeds, arguments and the
-- request bodies of both domains (objects and library). Each script does
-- `dofile(<this folder> .. "/common.lua")`.
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

-- The collection path of argument `i` ("/books"), or /objects when it is
-- absent, with a trailing slash for the id.
function common.path(args, i)
  local p = args[i] or "/objects"
  if not p:match("^/[a-z][a-z0-9-]*$") then
    error(string.format("argument %d (path) must look like /books, got %s", i, p))
  end
  return p .. "/"
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

-- The shape of a library book (domains/library.yaml) as the library scripts'
-- arguments give it, from index `first` on: the run number (unique to this
-- wrk run within the bench run, so that unique values never repeat), the
-- numbers of seeded authors, branches and members, copies per book and loans
-- per copy.
function common.book_shape(args, first)
  return {
    run = common.arg(args, first, "run"),
    authors = common.arg(args, first + 1, "authors"),
    branches = common.arg(args, first + 2, "branches"),
    members = common.arg(args, first + 3, "members"),
    copies = common.arg(args, first + 4, "copies"),
    loans = common.arg(args, first + 5, "loans"),
  }
end

local formats = {"hardcover", "paperback", "ebook"}

-- The body of a library book with all its copies and loans: a fresh title,
-- ISBN and barcodes (unique over the bench run), a random seeded author, and
-- per copy a random branch and loans of random members.
function common.book_body(shape)
  write_counter = write_counter + 1
  local key = string.format("w%d-%d-%d", shape.run, thread_number or 0, write_counter)
  local copies = {}
  for c = 1, shape.copies do
    local loans = {}
    for l = 1, shape.loans do
      loans[l] = string.format('{"member_id":%d,"due_on":"2027-01-%02d","returned":%s}',
        math.random(1, shape.members), math.random(1, 28), math.random(0, 1) == 1 and "true" or "false")
    end
    copies[c] = string.format('{"barcode":"%s-%d","branch_id":%d,"loans":[%s]}',
      key, c, math.random(1, shape.branches), table.concat(loans, ","))
  end
  return string.format(
    '{"title":"book %s","isbn":"isbn-%s","format":"%s","price":%d.%02d,"in_print":%s,"author_id":%d,"copies":[%s]}',
    key, key, formats[math.random(1, 3)], math.random(1, 80), math.random(0, 99),
    math.random(0, 3) > 0 and "true" or "false", math.random(1, shape.authors), table.concat(copies, ","))
end

-- A PUT /books/{id} request that replaces the book and all its copies and
-- loans (common.book_body).
function common.put_book(id, shape)
  return wrk.format("PUT", "/books/" .. id, {["Content-Type"] = "application/json"}, common.book_body(shape))
end

-- A POST /books request that creates a book with its copies and loans
-- (common.book_body).
function common.post_book(shape)
  return wrk.format("POST", "/books", {["Content-Type"] = "application/json"}, common.book_body(shape))
end

return common
