-- Shared by the three scenario scripts (loaded with dofile in every wrk thread's Lua state).
--
-- Environment (set by run.sh):
--   BENCH_SYSTEM    outreach | pocketbase
--   BENCH_TOKEN     the bearer token of the account manager / the PocketBase user
--   BENCH_USER_ID   PocketBase only: the user's record id (owner / user of what is created)
--   BENCH_AREA      minLat,minLon,maxLat,maxLon of the seeded area
--   BENCH_PARTNERS  a file of "id lat lon" lines: the seeded partners of this system
--   BENCH_RUN       a tag unique to this run (goes into created names)
--   BENCH_OUT       where done() writes this run's figures as one JSON object
--   BENCH_SEED      base of the per-thread random seeds

SYSTEM = os.getenv("BENCH_SYSTEM") or error("BENCH_SYSTEM is not set")
TOKEN = os.getenv("BENCH_TOKEN") or error("BENCH_TOKEN is not set")
USER_ID = os.getenv("BENCH_USER_ID") or ""
RUN = os.getenv("BENCH_RUN") or "0"
assert(SYSTEM == "outreach" or SYSTEM == "pocketbase", "BENCH_SYSTEM must be outreach or pocketbase")

do
  local a = {}
  for v in string.gmatch(os.getenv("BENCH_AREA") or "", "[^,]+") do a[#a + 1] = tonumber(v) end
  assert(#a == 4, "BENCH_AREA must be minLat,minLon,maxLat,maxLon")
  AREA = { min_lat = a[1], min_lon = a[2], max_lat = a[3], max_lon = a[4] }
end

-- The main state numbers the threads and keeps them for done().
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

function common_init()
  tid = tid or 0
  counter = 0
  statuses = {}   -- status code -> count
  samples = {}    -- status code -> first body seen (non-2xx only, truncated)
  math.randomseed((tonumber(os.getenv("BENCH_SEED")) or 1) * 1000 + tid)
  for _ = 1, 10 do math.random() end
  if SYSTEM == "outreach" then
    wrk.headers["Authorization"] = "Bearer " .. TOKEN
  else
    wrk.headers["Authorization"] = TOKEN
  end
  wrk.headers["Accept"] = "application/json"
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if (status < 200 or status > 299) and samples[status] == nil then
    samples[status] = string.sub(body or "", 1, 400)
  end
end

function rand_between(lo, hi) return lo + (hi - lo) * math.random() end

function pick(list) return list[math.random(#list)] end

-- "id lat lon" lines.
function load_partners()
  local path = os.getenv("BENCH_PARTNERS") or error("BENCH_PARTNERS is not set")
  local list = {}
  for line in io.lines(path) do
    local id, lat, lon = string.match(line, "^(%S+)%s+(%S+)%s+(%S+)")
    if id then list[#list + 1] = { id = id, lat = tonumber(lat), lon = tonumber(lon) } end
  end
  assert(#list > 0, "no partners in " .. path)
  return list
end

function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function json_value(v)
  local t = type(v)
  if t == "number" then
    if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
    return string.format("%.17g", v)
  elseif t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = json_string(tostring(k)) .. ":" .. json_value(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "boolean" then
    return tostring(v)
  elseif v == nil then
    return "null"
  end
  return json_string(tostring(v))
end

function done(summary, latency, requests)
  local all_statuses, all_samples = {}, {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses") or {}
    for code, n in pairs(s) do all_statuses[tostring(code)] = (all_statuses[tostring(code)] or 0) + n end
    local b = thread:get("samples") or {}
    for code, body in pairs(b) do
      if all_samples[tostring(code)] == nil then all_samples[tostring(code)] = body end
    end
  end
  local out = {
    system = SYSTEM,
    run = RUN,
    threads = #threads,
    requests = summary.requests,
    duration_us = summary.duration,
    bytes = summary.bytes,
    errors = {
      connect = summary.errors.connect,
      read = summary.errors.read,
      write = summary.errors.write,
      status = summary.errors.status,
      timeout = summary.errors.timeout,
    },
    latency_us = {
      mean = latency.mean,
      p50 = latency:percentile(50.0),
      p90 = latency:percentile(90.0),
      p99 = latency:percentile(99.0),
      max = latency.max,
    },
    statuses = all_statuses,
    error_samples = all_samples,
  }
  local path = os.getenv("BENCH_OUT")
  if path and path ~= "" then
    local f = assert(io.open(path, "w"))
    f:write(json_value(out), "\n")
    f:close()
  end
end
