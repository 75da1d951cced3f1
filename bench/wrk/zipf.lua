-- GET <path>/{id} over the ids 1..objects, Zipf-distributed (s = 1.1): the
-- rank r is drawn with probability proportional to 1 / r^s from a table
-- precomputed in init, and ranks map to ids through a fixed shuffle so that
-- popularity does not follow insertion order.
-- Usage: wrk ... -s zipf.lua URL -- <objects> [s * 100] [path, default /objects]
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(dir .. "common.lua")

setup = common.setup

local cdf = {}
local id_of_rank = {}
local n, path

function init(args)
  n = common.arg(args, 1, "objects")
  local s = (tonumber(args[2]) or 110) / 100
  path = common.path(args, 3)
  local total = 0
  for r = 1, n do
    total = total + 1 / r ^ s
    cdf[r] = total
  end
  for r = 1, n do
    cdf[r] = cdf[r] / total
    id_of_rank[r] = r
  end
  -- The same shuffle in every thread and every run.
  math.randomseed(42)
  for i = n, 2, -1 do
    local j = math.random(1, i)
    id_of_rank[i], id_of_rank[j] = id_of_rank[j], id_of_rank[i]
  end
  common.seed()
end

-- The smallest rank whose cumulative probability reaches u.
local function rank_of(u)
  local lo, hi = 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo
end

function request()
  return wrk.format("GET", path .. id_of_rank[rank_of(math.random())])
end
