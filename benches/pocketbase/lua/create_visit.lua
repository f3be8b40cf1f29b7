-- Scenario 2: record a visit to one of the seeded partners (the same partner list, in the same
-- order, on both systems), from a GPS fix a few metres from it, at the current time.
dofile((os.getenv("BENCH_LUA_DIR") or ".") .. "/common.lua")

local PURPOSES = { "relationship", "alliance_negotiation", "event_planning", "service", "follow_up" }
local OUTCOMES = { "positive", "neutral", "negative" }
local NOTES = { "店长在，沟通了收款码和联名活动", "约了下周带宣传物料", "老板外出，留了资料", "谈了商户贷款需求" }
local NEXT = { "下周回访", "准备活动方案", "提交贷款资料", "联系总部市场部" }
local partners

function init(args)
  common_init()
  wrk.headers["Content-Type"] = "application/json"
  partners = load_partners()
end

function request()
  counter = counter + 1
  local p = pick(partners)
  -- within ~30 m of the partner (its geofence is 200 m)
  local lat = p.lat + rand_between(-0.00025, 0.00025)
  local lon = p.lon + rand_between(-0.00025, 0.00025)
  local common = string.format(
    '"visited_at":"%s","purpose":"%s","outcome":"%s","notes":%s,"next_step":%s,"location_age_s":%d',
    os.date("!%Y-%m-%dT%H:%M:%SZ"), pick(PURPOSES), pick(OUTCOMES), json_string(pick(NOTES)),
    json_string(pick(NEXT)), math.random(1, 20))
  local accuracy = rand_between(5, 30)
  local body, path
  if SYSTEM == "outreach" then
    path = "/api/v1/visits"
    body = string.format('{"partner_id":"%s","location":{"lat":%.6f,"lon":%.6f,"accuracy_m":%.1f},%s}',
      p.id, lat, lon, accuracy, common)
  else
    path = "/api/collections/visits/records"
    body = string.format('{"partner":"%s","user":"%s","lat":%.6f,"lon":%.6f,"accuracy_m":%.1f,%s}',
      p.id, USER_ID, lat, lon, accuracy, common)
  end
  return wrk.format("POST", path, nil, body)
end
