-- Scenario 3: the partners in a 1 km x 1 km box, at most 50, the box at a random position inside
-- the seeded area.
dofile((os.getenv("BENCH_LUA_DIR") or ".") .. "/common.lua")

local HALF_KM = 0.5
local PB_SORT = os.getenv("BENCH_PB_SORT") or ""
local dlat, dlon

function init(args)
  common_init()
  local mid = (AREA.min_lat + AREA.max_lat) / 2
  dlat = HALF_KM / 111.32
  dlon = HALF_KM / (111.32 * math.cos(math.rad(mid)))
end

-- bench.py (sample_boxes) places its check boxes the same way (its own random numbers).
function request()
  counter = counter + 1
  local lat = rand_between(AREA.min_lat + dlat, AREA.max_lat - dlat)
  local lon = rand_between(AREA.min_lon + dlon, AREA.max_lon - dlon)
  local min_lat, max_lat, min_lon, max_lon = lat - dlat, lat + dlat, lon - dlon, lon + dlon
  local path
  if SYSTEM == "outreach" then
    path = string.format("/api/v1/partners?bbox=%.6f,%.6f,%.6f,%.6f&limit=50", min_lon, min_lat, max_lon, max_lat)
  else
    local filter = string.format("(lat>=%.6f && lat<=%.6f && lon>=%.6f && lon<=%.6f)", min_lat, max_lat, min_lon, max_lon)
    path = "/api/collections/partners/records?filter=" .. urlencode(filter) .. "&perPage=50&skipTotal=1"
    if PB_SORT ~= "" then path = path .. "&sort=" .. urlencode(PB_SORT) end
  end
  return wrk.format("GET", path, nil, nil)
end
