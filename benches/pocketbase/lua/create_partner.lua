-- Scenario 1: create a partner. One unique name per request (run tag, thread id, counter), a
-- random position in the seeded area, the same fields on both systems.
dofile((os.getenv("BENCH_LUA_DIR") or ".") .. "/common.lua")

local BRANDS = { "华润万家", "天虹", "美宜佳", "百佳", "家乐福", "永辉", "沃尔玛", "易初莲花", "新一佳", "好又多" }
local STREETS = { "北街", "建设路", "港口路", "胜利路", "江华路", "跃进路", "迎宾大道", "白沙大道", "堤东路", "紫茶路" }
local SURNAMES = { "陈", "李", "黄", "张", "梁", "吴", "刘", "林", "何", "谭" }
local GIVEN = { "伟", "芳", "敏", "静", "强", "磊", "洁", "军", "勇", "艳" }
local CATEGORIES = { "supermarket", "community", "school", "garment_wholesale", "seafood_wholesale", "bookkeeping_agency", "other" }
local PAINS = { "收银找零不便", "缺少营销活动", "资金周转紧张", "会员拉新难" }

function init(args)
  common_init()
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local lat = rand_between(AREA.min_lat, AREA.max_lat)
  local lon = rand_between(AREA.min_lon, AREA.max_lon)
  local street = pick(STREETS)
  local name = string.format("%s%s店 R%sT%dN%d", pick(BRANDS), street, RUN, tid, counter)
  local category = pick(CATEGORIES)
  local cadence = (category == "supermarket" or category == "garment_wholesale" or category == "seafood_wholesale") and 14 or 30
  local common = string.format(
    '"name":%s,"category":"%s","status":"prospect","address":%s,"contact_name":%s,'
      .. '"contact_phone":"139%08d","audience_size":%d,"pain_points":[%s],'
      .. '"visit_cadence_days":%d,"geofence_m":200',
    json_string(name), category,
    json_string(string.format("江门市蓬江区%s%d号", street, math.random(1, 400))),
    json_string(pick(SURNAMES) .. pick(GIVEN) .. pick(GIVEN)),
    math.random(0, 99999999), math.random(50, 5000), json_string(pick(PAINS)), cadence)
  local body, path
  if SYSTEM == "outreach" then
    path = "/api/v1/partners"
    body = string.format('{%s,"location":{"lat":%.6f,"lon":%.6f}}', common, lat, lon)
  else
    path = "/api/collections/partners/records"
    body = string.format('{%s,"lat":%.6f,"lon":%.6f,"owner":"%s"}', common, lat, lon, USER_ID)
  end
  return wrk.format("POST", path, nil, body)
end
