#!/usr/bin/env python3
"""Setup, seeding, the fairness checks and the report of the Outreach / PocketBase benchmark.

Python 3 standard library only. Called by run.sh, one subcommand per step:

  wait URL                  until URL answers 200 (or a timeout)
  free-port                 print a free TCP port on 127.0.0.1
  pb-setup                  settings, collections, rules and indexes, the user and its token
  outreach-login            the demo account manager's token
  seed                      the same N partners into both systems, and the id lists for wrk
  check                     one create of each kind on both, and the box row counts on both
  report                    the Markdown table (stdout) and the JSON file from the runs' figures

State moves between steps in WORK/state.json.
"""

import argparse
import concurrent.futures as futures
import http.client
import json
import math
import os
import random
import socket
import statistics
import sys
import threading
import time
import urllib.parse

# ---------------------------------------------------------------------------------------------
# HTTP


class Client:
    """A keep-alive JSON client, one connection per thread."""

    def __init__(self, base, token=None, bearer=True):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.token, self.bearer = token, bearer
        self.local = threading.local()

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=120)
            self.local.conn = c
        return c

    def call(self, method, path, body=None, token=None):
        headers = {"Accept": "application/json"}
        token = self.token if token is None else token  # "" sends none
        if token:
            headers["Authorization"] = ("Bearer " + token) if self.bearer else token
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            c = self._conn()
            try:
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, OSError):
                c.close()
                self.local.conn = None
                if attempt:
                    raise
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return r.status, parsed, len(raw)


def die(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)


def expect(status, body, ok, what):
    if status not in ok:
        die(f"{what}: HTTP {status}: {json.dumps(body, ensure_ascii=False)[:800]}")
    return body


def load_state(work):
    path = os.path.join(work, "state.json")
    return json.load(open(path)) if os.path.exists(path) else {}


def save_state(work, **kv):
    state = load_state(work)
    state.update(kv)
    tmp = os.path.join(work, "state.json.tmp")
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1, ensure_ascii=False)
    os.replace(tmp, os.path.join(work, "state.json"))
    return state


# ---------------------------------------------------------------------------------------------
# small commands


def cmd_free_port(_):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_wait(a):
    deadline = time.time() + a.timeout
    u = urllib.parse.urlsplit(a.url)
    while time.time() < deadline:
        if a.pid and not os.path.exists(f"/proc/{a.pid}"):
            die(f"the server (pid {a.pid}) exited before {a.url} answered")
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=2)
            c.request("GET", u.path or "/")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    die(f"{a.url} did not answer 200 within {a.timeout} s")


# ---------------------------------------------------------------------------------------------
# PocketBase: collections with the fields of Outreach's create, rules that match its auth

CATEGORIES = ["supermarket", "community", "school", "garment_wholesale", "seafood_wholesale",
              "bookkeeping_agency", "other"]
STATUSES = ["prospect", "contacted", "negotiating", "signed", "active", "paused", "terminated"]
AUDIENCE_UNITS = ["households", "students", "stalls", "clients", "members", "people"]
PURPOSES = ["relationship", "alliance_negotiation", "event_planning", "market_sweep", "service",
            "follow_up", "other"]
OUTCOMES = ["positive", "neutral", "negative", "no_contact"]


def text(name, required=False, max_len=0, pattern=""):
    return {"name": name, "type": "text", "required": required, "max": max_len, "pattern": pattern}


def number(name, required=False, lo=None, hi=None, only_int=False):
    return {"name": name, "type": "number", "required": required, "min": lo, "max": hi, "onlyInt": only_int}


def select(name, values, required=False):
    return {"name": name, "type": "select", "required": required, "maxSelect": 1, "values": values}


def relation(name, collection_id, required=True):
    return {"name": name, "type": "relation", "required": required, "collectionId": collection_id,
            "maxSelect": 1, "cascadeDelete": False}


def autodates():
    return [{"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
            {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True}]


def partners_collection(users_id):
    owner_only = "@request.auth.id != '' && owner = @request.auth.id"
    return {
        "name": "partners",
        "type": "base",
        # Outreach: only an authenticated user creates, as owner the caller (an account manager
        # cannot create for someone else); it lists and reads what is in its scope.
        "listRule": owner_only,
        "viewRule": owner_only,
        "createRule": "@request.auth.id != '' && @request.body.owner = @request.auth.id",
        "updateRule": owner_only,
        "deleteRule": None,
        "fields": [
            text("name", required=True, max_len=100),
            select("category", CATEGORIES, required=True),
            select("status", STATUSES),
            number("lat", required=True, lo=-90, hi=90),
            number("lon", required=True, lo=-180, hi=180),
            text("address", max_len=200),
            text("contact_name", max_len=50),
            text("contact_phone", max_len=20, pattern=r"^1[3-9][0-9]{9}$"),
            number("audience_size", lo=0, hi=10_000_000, only_int=True),
            select("audience_unit", AUDIENCE_UNITS),
            {"name": "pain_points", "type": "json", "maxSize": 0},
            {"name": "agreed_benefits", "type": "json", "maxSize": 0},
            number("visit_cadence_days", lo=1, hi=365, only_int=True),
            number("geofence_m", lo=20, hi=5000, only_int=True),
            relation("owner", users_id),
            *autodates(),
        ],
        "indexes": [
            # the box query's index. No index on owner: every partner here has the same owner,
            # and SQLite (no ANALYZE statistics) would pick an equality index over the range.
            "CREATE INDEX idx_partners_lat_lon ON partners (lat, lon)",
        ],
    }


def visits_collection(users_id, partners_id):
    own = "@request.auth.id != '' && user = @request.auth.id"
    return {
        "name": "visits",
        "type": "base",
        # Outreach: the visitor is the caller, and the partner must be one the caller may see
        # (else 404).
        "listRule": own,
        "viewRule": own,
        "createRule": "@request.auth.id != '' && @request.body.user = @request.auth.id"
                      " && @request.body.partner.owner = @request.auth.id",
        "updateRule": own,
        "deleteRule": None,
        "fields": [
            relation("partner", partners_id, required=False),
            relation("user", users_id),
            number("lat", required=True, lo=-90, hi=90),
            number("lon", required=True, lo=-180, hi=180),
            number("accuracy_m", lo=0),
            number("location_age_s", lo=0),
            {"name": "mock_location", "type": "bool"},
            {"name": "visited_at", "type": "date", "required": True},
            select("purpose", PURPOSES, required=True),
            select("outcome", OUTCOMES),
            text("notes", max_len=2000),
            text("next_step", max_len=500),
            {"name": "next_visit_at", "type": "date"},
            *autodates(),
        ],
        "indexes": [
            "CREATE INDEX idx_visits_user_visited ON visits (user, visited_at)",
            "CREATE INDEX idx_visits_partner ON visits (partner)",
        ],
    }


def cmd_pb_setup(a):
    pb = Client(a.url, bearer=False)
    st, body, _ = pb.call("POST", "/api/collections/_superusers/auth-with-password",
                          {"identity": a.admin_email, "password": a.admin_password})
    admin = expect(st, body, (200,), "superuser login")["token"]
    pb.token = admin
    settings = {
        # seeding goes through the batch API
        "batch": {"enabled": True, "maxRequests": 200, "timeout": 30, "maxBodySize": 0},
        # like Outreach's limits, raised: all the load comes from 127.0.0.1 (off is PB's default)
        "rateLimits": {"enabled": False},
    }
    if not a.logs:
        # PocketBase writes every request into its log database; Outreach runs with
        # RUST_LOG=warn (no request log lines), so PocketBase's request log is off too.
        settings["logs"] = {"maxDays": 0}
    expect(*pb.call("PATCH", "/api/settings", settings)[:2], (200,), "settings")
    st, users, _ = pb.call("GET", "/api/collections/users")
    users_id = expect(st, users, (200,), "users collection")["id"]
    st, body, _ = pb.call("POST", "/api/collections", partners_collection(users_id))
    partners_id = expect(st, body, (200,), "partners collection")["id"]
    st, body, _ = pb.call("POST", "/api/collections", visits_collection(users_id, partners_id))
    expect(st, body, (200,), "visits collection")
    st, body, _ = pb.call("POST", "/api/collections/users/records",
                          {"email": a.user_email, "password": a.user_password,
                           "passwordConfirm": a.user_password, "name": "张客户经理", "verified": True})
    user_id = expect(st, body, (200,), "the PocketBase user")["id"]
    st, body, _ = pb.call("POST", "/api/collections/users/auth-with-password",
                          {"identity": a.user_email, "password": a.user_password}, token="")
    token = expect(st, body, (200,), "the PocketBase user's login")["token"]
    save_state(a.work, pb_url=a.url, pb_admin_token=admin, pb_user_id=user_id, pb_token=token,
               pb_partners_collection=partners_id)
    print(f"PocketBase: collections partners and visits, user {user_id}, request log "
          f"{'on' if a.logs else 'off'}", file=sys.stderr)


def cmd_outreach_login(a):
    o = Client(a.url)
    st, body, _ = o.call("POST", "/api/v1/auth/login", {"phone": a.phone, "password": a.password})
    body = expect(st, body, (200,), "Outreach login")
    save_state(a.work, outreach_url=a.url, outreach_token=body["access_token"],
               outreach_user_id=body["user"]["id"], outreach_role=body["user"]["role"],
               outreach_expires_in=body["expires_in"])
    print(f"Outreach: logged in as {body['user']['name']} ({body['user']['role']}), token for "
          f"{body['expires_in']} s", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# the seeded partners: deterministic from the seed


def area(a):
    """minLat, minLon, maxLat, maxLon: a square of spread_km around the centre."""
    half = a.spread_km / 2
    dlat = half / 111.32
    dlon = half / (111.32 * math.cos(math.radians(a.lat)))
    return [a.lat - dlat, a.lon - dlon, a.lat + dlat, a.lon + dlon]


BRANDS = ["华润万家", "天虹", "美宜佳", "百佳", "家乐福", "永辉", "7-Eleven", "好又多", "新一佳", "益华",
          "绿茵阁", "大参林", "海王星辰", "钱大妈", "见福"]
KINDS = {"supermarket": ["超市", "便利店", "生活超市"], "community": ["花园", "小区", "社区", "新村"],
         "school": ["小学", "中学", "幼儿园", "培训中心"], "garment_wholesale": ["服装批发档", "布料行"],
         "seafood_wholesale": ["海鲜档", "水产行"], "bookkeeping_agency": ["财务代账", "会计服务部"],
         "other": ["茶楼", "药店", "五金店", "汽修厂"]}
STREETS = ["北街", "建设路", "港口路", "胜利路", "江华路", "跃进路", "迎宾大道", "白沙大道", "堤东路", "紫茶路",
           "丰乐路", "东华路", "西环路", "农林路", "义兴路", "江海路", "五邑路", "华园路"]
DISTRICTS = ["蓬江区", "江海区", "新会区"]
SURNAMES = "陈李黄张梁吴刘林何谭郑谢冯区余"
GIVEN = "伟芳敏静强磊洁军勇艳华明丽玲斌"
PAINS = ["收银找零不便", "缺少营销活动", "资金周转紧张", "会员拉新难", "线上订单少", "租金上涨"]
BENEFITS = ["收款码费率优惠", "联名营销活动", "员工代发工资", "商户贷款绿色通道"]


def generate(a):
    """N partners: half around six town centres (Gaussian, sigma 1.5 km), half uniform."""
    rng = random.Random(a.seed)
    min_lat, min_lon, max_lat, max_lon = area(a)
    km_lat, km_lon = 1 / 111.32, 1 / (111.32 * math.cos(math.radians(a.lat)))
    centres = [(rng.uniform(min_lat + 0.3 * (max_lat - min_lat), max_lat - 0.3 * (max_lat - min_lat)),
                rng.uniform(min_lon + 0.3 * (max_lon - min_lon), max_lon - 0.3 * (max_lon - min_lon)))
               for _ in range(6)]
    out = []
    for i in range(a.partners):
        if rng.random() < 0.5:
            clat, clon = rng.choice(centres)
            lat = min(max(rng.gauss(clat, 1.5 * km_lat), min_lat), max_lat)
            lon = min(max(rng.gauss(clon, 1.5 * km_lon), min_lon), max_lon)
        else:
            lat, lon = rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)
        category = rng.choices(CATEGORIES, weights=[30, 25, 10, 8, 8, 7, 12])[0]
        street = rng.choice(STREETS)
        name = f"{rng.choice(BRANDS)}{rng.choice(KINDS[category])}({street}{i + 1}号)"
        out.append({
            "name": name,
            "category": category,
            "status": rng.choice(["prospect", "prospect", "contacted", "negotiating", "signed", "active"]),
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "address": f"江门市{rng.choice(DISTRICTS)}{street}{rng.randint(1, 400)}号",
            "contact_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            "contact_phone": f"139{rng.randint(0, 99_999_999):08d}",
            "audience_size": rng.randint(50, 5000),
            "pain_points": rng.sample(PAINS, rng.randint(0, 2)),
            "agreed_benefits": rng.sample(BENEFITS, rng.randint(0, 2)),
            "visit_cadence_days": 14 if category in ("supermarket", "garment_wholesale", "seafood_wholesale") else 30,
            "geofence_m": 200,
        })
    return out


def outreach_body(p):
    body = {k: v for k, v in p.items() if k not in ("lat", "lon")}
    body["location"] = {"lat": p["lat"], "lon": p["lon"]}
    return body


def pb_body(p, owner):
    body = {k: v for k, v in p.items() if k != "location"}
    body["owner"] = owner
    return body


def cmd_seed(a):
    state = load_state(a.work)
    o = Client(state["outreach_url"], state["outreach_token"])
    pb = Client(state["pb_url"], state["pb_admin_token"], bearer=False)
    partners = generate(a)
    box = area(a)
    save_state(a.work, area=box, partners=a.partners, seed=a.seed)

    # Outreach: parallel single creates, as a phone would
    started = time.time()
    results = [None] * len(partners)
    codes, dup_answers = {}, 0
    lock = threading.Lock()

    def create(i):
        nonlocal dup_answers
        st, body, _ = o.call("POST", "/api/v1/partners", outreach_body(partners[i]))
        with lock:
            codes[st] = codes.get(st, 0) + 1
            if st in (200, 201):
                results[i] = body["id"]
                if body.get("possible_duplicates"):
                    dup_answers += 1
            elif codes[st] <= 3:
                print(f"  Outreach answered {st}: {json.dumps(body, ensure_ascii=False)[:300]}", file=sys.stderr)

    with futures.ThreadPoolExecutor(a.threads) as pool:
        list(pool.map(create, range(len(partners))))
    took = time.time() - started
    print(f"Outreach: {len(partners)} partners in {took:.1f} s ({len(partners) / took:.0f}/s), "
          f"answers {codes}, {dup_answers} with possible_duplicates (not blocking)", file=sys.stderr)
    if any(r is None for r in results):
        die("some Outreach partner creates failed (above)")

    # Everything the account manager sees in the area (the seeded ones and any demo partner of
    # its scope there) goes into PocketBase too, so a box holds the same rows on both.
    visible, cursor = [], ""
    bbox = f"{box[1]:.6f},{box[0]:.6f},{box[3]:.6f},{box[2]:.6f}"
    while True:
        q = urllib.parse.urlencode({"bbox": bbox, "limit": 500, "cursor": cursor})
        st, body, _ = o.call("GET", f"/api/v1/partners?{q}")
        body = expect(st, body, (200,), "Outreach partner list")
        visible.extend(body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            break
    seeded_ids = set(results)
    extra = [p for p in visible if p["id"] not in seeded_ids]
    print(f"Outreach: the account manager sees {len(visible)} partners in the area "
          f"({len(extra)} of them from the demo data); all go into PocketBase", file=sys.stderr)
    if len(visible) - len(extra) != len(partners):
        die(f"Outreach lists {len(visible) - len(extra)} of the {len(partners)} seeded partners")
    mirror = list(partners)
    for p in extra:
        mirror.append({
            "name": p["name"], "category": p["category"], "status": p["status"],
            "lat": p["location"]["lat"], "lon": p["location"]["lon"], "address": p.get("address") or "",
            "contact_name": p.get("contact_name") or "", "contact_phone": p.get("contact_phone") or "",
            "audience_size": p.get("audience_size"), "pain_points": p.get("pain_points") or [],
            "agreed_benefits": p.get("agreed_benefits") or [],
            "visit_cadence_days": p["visit_cadence_days"], "geofence_m": p["geofence_m"],
        })

    # PocketBase: the batch API, 200 creates a request, in order
    started = time.time()
    owner = state["pb_user_id"]
    pb_ids = [None] * len(mirror)
    chunks = [range(i, min(i + 200, len(mirror))) for i in range(0, len(mirror), 200)]

    def batch(rng):
        reqs = [{"method": "POST", "url": "/api/collections/partners/records", "body": pb_body(mirror[i], owner)}
                for i in rng]
        st, body, _ = pb.call("POST", "/api/batch", {"requests": reqs})
        body = expect(st, body, (200,), "PocketBase batch create")
        for i, r in zip(rng, body):
            if r["status"] != 200:
                die(f"PocketBase batch item {i}: {r}")
            pb_ids[i] = r["body"]["id"]

    with futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(batch, chunks))
    took = time.time() - started
    print(f"PocketBase: {len(mirror)} partners in {took:.1f} s (batch API)", file=sys.stderr)

    # The visit scenario's partner lists: line i is the same partner on both systems.
    with open(os.path.join(a.work, "partners.outreach.txt"), "w") as f:
        for oid, p in zip(results, partners):
            f.write(f"{oid} {p['lat']:.6f} {p['lon']:.6f}\n")
    with open(os.path.join(a.work, "partners.pocketbase.txt"), "w") as f:
        for pid, p in zip(pb_ids, partners):
            f.write(f"{pid} {p['lat']:.6f} {p['lon']:.6f}\n")
    save_state(a.work, mirrored=len(mirror), demo_partners_in_area=len(extra))


# ---------------------------------------------------------------------------------------------
# the checks before the runs


def sample_boxes(box, n, seed):
    """Random 1 km boxes inside the area, as box.lua places them."""
    rng = random.Random(seed)
    min_lat, min_lon, max_lat, max_lon = box
    mid = (min_lat + max_lat) / 2
    dlat, dlon = 0.5 / 111.32, 0.5 / (111.32 * math.cos(math.radians(mid)))
    for _ in range(n):
        lat = rng.uniform(min_lat + dlat, max_lat - dlat)
        lon = rng.uniform(min_lon + dlon, max_lon - dlon)
        yield lat - dlat, lon - dlon, lat + dlat, lon + dlon


def cmd_check(a):
    state = load_state(a.work)
    o = Client(state["outreach_url"], state["outreach_token"])
    pb = Client(state["pb_url"], state["pb_token"], bearer=False)
    uid = state["pb_user_id"]
    checks = {}
    ok = True

    # one create of each kind, the bodies the Lua scripts send
    p = generate(argparse.Namespace(**{**vars(a), "partners": 1, "seed": a.seed + 1}))[0]
    p["name"] += " check"
    st_o, body_o, n_o = o.call("POST", "/api/v1/partners", outreach_body(p))
    st_p, body_p, n_p = pb.call("POST", "/api/collections/partners/records", pb_body(p, uid))
    checks["create_partner"] = {"outreach_status": st_o, "pocketbase_status": st_p,
                                "outreach_bytes": n_o, "pocketbase_bytes": n_p,
                                "outreach_possible_duplicates": len((body_o or {}).get("possible_duplicates") or [])
                                if isinstance(body_o, dict) else None}
    print(f"create partner: Outreach {st_o} ({n_o} B), PocketBase {st_p} ({n_p} B)", file=sys.stderr)
    ok &= st_o in (200, 201) and st_p == 200

    # a PocketBase create as someone else must be refused (the rule works)
    st_x, _, _ = pb.call("POST", "/api/collections/partners/records", pb_body(p, "aaaaaaaaaaaaaaa"))
    st_anon, _, _ = pb.call("POST", "/api/collections/partners/records", pb_body(p, uid), token="")
    st_anon_o, _, _ = Client(state["outreach_url"]).call("POST", "/api/v1/partners", outreach_body(p))
    checks["auth"] = {"pocketbase_other_owner": st_x, "pocketbase_no_token": st_anon, "outreach_no_token": st_anon_o}
    print(f"auth: PocketBase create for another owner {st_x}, without a token {st_anon}; "
          f"Outreach without a token {st_anon_o}", file=sys.stderr)
    ok &= st_x >= 400 and st_anon >= 400 and st_anon_o == 401

    # a visit to the first seeded partner
    lines = {s: open(os.path.join(a.work, f"partners.{s}.txt")).readline().split()
             for s in ("outreach", "pocketbase")}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    common = {"visited_at": now, "purpose": "relationship", "outcome": "positive", "notes": "检查",
              "next_step": "下周回访", "location_age_s": 3}
    oid, lat, lon = lines["outreach"]
    st_o, body_o, n_o = o.call("POST", "/api/v1/visits", {
        "partner_id": oid, "location": {"lat": float(lat), "lon": float(lon), "accuracy_m": 12.0}, **common})
    pid = lines["pocketbase"][0]
    st_p, body_p, n_p = pb.call("POST", "/api/collections/visits/records", {
        "partner": pid, "user": uid, "lat": float(lat), "lon": float(lon), "accuracy_m": 12.0, **common})
    verification = body_o.get("verification") if isinstance(body_o, dict) else None
    checks["create_visit"] = {"outreach_status": st_o, "pocketbase_status": st_p, "outreach_bytes": n_o,
                              "pocketbase_bytes": n_p, "outreach_verification": verification,
                              "outreach_project_id": body_o.get("project_id") if isinstance(body_o, dict) else None}
    print(f"create visit: Outreach {st_o} ({n_o} B, verification {json.dumps(verification)}, "
          f"project {checks['create_visit']['outreach_project_id']}), PocketBase {st_p} ({n_p} B)", file=sys.stderr)
    ok &= st_o in (200, 201) and st_p == 200
    if st_p != 200:
        print(f"  PocketBase: {json.dumps(body_p, ensure_ascii=False)[:500]}", file=sys.stderr)
    if st_o not in (200, 201):
        print(f"  Outreach: {json.dumps(body_o, ensure_ascii=False)[:500]}", file=sys.stderr)

    # the box: the same boxes on both, rows per answer
    rows_o, rows_p, bytes_o, bytes_p, differ = [], [], [], [], 0
    for min_lat, min_lon, max_lat, max_lon in sample_boxes(state["area"], a.samples, a.seed + 2):
        q = urllib.parse.urlencode({"bbox": f"{min_lon:.6f},{min_lat:.6f},{max_lon:.6f},{max_lat:.6f}", "limit": 50})
        st_o, body_o, n_o = o.call("GET", f"/api/v1/partners?{q}")
        flt = f"(lat>={min_lat:.6f} && lat<={max_lat:.6f} && lon>={min_lon:.6f} && lon<={max_lon:.6f})"
        params = {"filter": flt, "perPage": 50, "skipTotal": 1}
        if a.pb_sort:
            params["sort"] = a.pb_sort
        st_p, body_p, n_p = pb.call("GET", "/api/collections/partners/records?" + urllib.parse.urlencode(params))
        expect(st_o, body_o, (200,), "Outreach box")
        expect(st_p, body_p, (200,), "PocketBase box")
        ro, rp = len(body_o["items"]), len(body_p["items"])
        rows_o.append(ro)
        rows_p.append(rp)
        bytes_o.append(n_o)
        bytes_p.append(n_p)
        differ += ro != rp
    mean = lambda xs: sum(xs) / len(xs)
    checks["box"] = {"samples": a.samples, "outreach_rows_mean": round(mean(rows_o), 2),
                     "pocketbase_rows_mean": round(mean(rows_p), 2),
                     "boxes_with_different_counts": differ,
                     "full_pages_outreach": sum(r == 50 for r in rows_o),
                     "empty_outreach": sum(r == 0 for r in rows_o),
                     "outreach_bytes_mean": round(mean(bytes_o)), "pocketbase_bytes_mean": round(mean(bytes_p))}
    b = checks["box"]
    print(f"box 1 km, limit 50, {a.samples} boxes: rows per answer Outreach {b['outreach_rows_mean']}, "
          f"PocketBase {b['pocketbase_rows_mean']} ({differ} boxes differ; {b['full_pages_outreach']} full pages, "
          f"{b['empty_outreach']} empty); bytes per answer {b['outreach_bytes_mean']} / {b['pocketbase_bytes_mean']}",
          file=sys.stderr)
    ok &= differ == 0

    # PocketBase's plan for the box query (its SQL: the filter AND the list rule, LIMIT)
    if a.pb_dir:
        import sqlite3
        db = sqlite3.connect(f"file:{os.path.join(a.pb_dir, 'data.db')}?mode=ro", uri=True)
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT partners.* FROM partners WHERE (partners.lat >= ? AND partners.lat <= ?"
            " AND partners.lon >= ? AND partners.lon <= ?) AND (partners.owner = ?) LIMIT 50",
            (22.58, 22.59, 113.08, 113.09, uid)).fetchall()
        db.close()
        checks["box"]["pocketbase_plan"] = "; ".join(row[-1] for row in plan)
        print(f"PocketBase box plan: {checks['box']['pocketbase_plan']}", file=sys.stderr)
        ok &= "idx_partners_lat_lon" in checks["box"]["pocketbase_plan"]
    save_state(a.work, checks=checks, checks_ok=bool(ok))
    if not ok:
        print("WARNING: a check failed (above); the runs go on, the report flags it", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# the report

SCENARIOS = {
    "box": ("partners in a 1 km box, limit 50", 10.0),
    "create_partner": ("create partner", 5.0),
    "create_visit": ("create visit", 5.0),
}


def run_figures(r):
    secs = r["duration_us"] / 1e6
    statuses = {int(k): v for k, v in (r.get("statuses") or {}).items()}
    ok = sum(v for k, v in statuses.items() if 200 <= k <= 299)
    non2xx = sum(v for k, v in statuses.items() if not 200 <= k <= 299)
    e = r["errors"]
    socket_errors = e["connect"] + e["read"] + e["write"] + e["timeout"]
    return {
        "system": r["system"], "round": r["round"], "scenario": r["scenario"],
        "requests": r["requests"], "seconds": round(secs, 2),
        "rps": round(r["requests"] / secs, 1) if secs else 0.0,
        "ok_rps": round(ok / secs, 1) if secs else 0.0,
        "p50_ms": round(r["latency_us"]["p50"] / 1000, 2),
        "p90_ms": round(r["latency_us"]["p90"] / 1000, 2),
        "p99_ms": round(r["latency_us"]["p99"] / 1000, 2),
        "max_ms": round(r["latency_us"]["max"] / 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "non_2xx": non2xx,
        "socket_errors": {k: e[k] for k in ("connect", "read", "write", "timeout")},
        "socket_errors_total": socket_errors,
        "bytes_per_answer": round(r["bytes"] / r["requests"]) if r["requests"] else 0,
        "error_samples": r.get("error_samples") or {},
        "flagged": non2xx > 0 or socket_errors > 0,
    }


def fmt_n(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def cmd_report(a):
    state = load_state(a.work)
    runs = []
    with open(os.path.join(a.work, "runs.jsonl")) as f:
        for line in f:
            if line.strip():
                runs.append(run_figures(json.loads(line)))
    meta = json.load(open(os.path.join(a.work, "meta.json")))
    out = {"meta": meta, "setup": {k: state.get(k) for k in
                                   ("area", "partners", "seed", "mirrored", "demo_partners_in_area", "checks",
                                    "checks_ok", "outreach_role")},
           "scenarios": {}}
    md = []
    md.append(f"# Outreach vs PocketBase {meta['pocketbase_version']}, {meta['date']}")
    md.append("")
    md.append(f"- Outreach: `{meta['outreach_bin']}` ({meta['outreach_build']} build of {meta.get('outreach_bin_mtime')}), "
              f"working tree at commit {meta['commit']}")
    md.append(f"- wrk {meta['wrk_version']}: {meta['conns']} connections, {meta['wrk_threads']} threads, "
              f"{meta['duration']} s per run after {meta['warmup']} s of warm-up, {meta['rounds']} rounds "
              f"alternating Outreach / PocketBase; {meta['cpus']} CPUs, load average at the start "
              f"{meta.get('loadavg_start', '?')}, before the runs {meta['loadavg']}")
    try:
        busy = float(meta.get("loadavg_start", "0").split()[0]) > meta["cpus"] / 2
    except ValueError:
        busy = False
    if busy:
        md.append("- **the machine was busy before the run started (load average above): the figures are "
                  "depressed, for both systems but not necessarily equally.**")
    md.append(f"- data: {state.get('partners')} seeded partners (seed {state.get('seed')}) + "
              f"{state.get('demo_partners_in_area')} demo partners in the area, the same on both")
    if meta["outreach_build"] != "release":
        md.append("- **NOT A RELEASE BUILD: the Outreach figures (and so the ratios) mean nothing.**")
    if not state.get("checks_ok"):
        md.append("- **a pre-run check failed (see the log and `checks` in the JSON).**")
    box = (state.get("checks") or {}).get("box")
    if box:
        md.append(f"- box rows per answer (sample of {box['samples']}): Outreach {box['outreach_rows_mean']}, "
                  f"PocketBase {box['pocketbase_rows_mean']}, {box['boxes_with_different_counts']} boxes differ; "
                  f"bytes per answer {box['outreach_bytes_mean']} / {box['pocketbase_bytes_mean']}")
    md.append("")
    md.append("| scenario | system | round | req/s | 2xx/s | p50 ms | p99 ms | non-2xx | socket errors | statuses |")
    md.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    summary_rows = []
    for key in a.scenarios.split(","):
        title, target = SCENARIOS[key]
        mine = [r for r in runs if r["scenario"] == key]
        if not mine:
            continue
        entry = {"title": title, "target_ratio": target, "runs": mine}
        med = {}
        for system in ("outreach", "pocketbase"):
            rs = [r for r in mine if r["system"] == system]
            for r in rs:
                flag = " ⚠" if r["flagged"] else ""
                se = r["socket_errors"]
                se_text = (f"{r['socket_errors_total']} (c{se['connect']} r{se['read']} w{se['write']} "
                           f"t{se['timeout']})") if r["socket_errors_total"] else "0"
                md.append(f"| {title} | {system}{flag} | {r['round']} | {fmt_n(r['rps'])} | {fmt_n(r['ok_rps'])} | "
                          f"{r['p50_ms']} | "
                          f"{r['p99_ms']} | {r['non_2xx']} | {se_text} | "
                          f"{', '.join(f'{k}: {v}' for k, v in r['statuses'].items())} |")
            if rs:
                med[system] = {
                    "rps": round(statistics.median(r["rps"] for r in rs), 1),
                    "ok_rps": round(statistics.median(r["ok_rps"] for r in rs), 1),
                    "p50_ms": round(statistics.median(r["p50_ms"] for r in rs), 2),
                    "p99_ms": round(statistics.median(r["p99_ms"] for r in rs), 2),
                    "runs": len(rs),
                    "flagged_runs": sum(r["flagged"] for r in rs),
                }
        entry["median"] = med
        if "outreach" in med and "pocketbase" in med:
            # successful answers only: an error answered fast is no throughput
            ratio = med["outreach"]["ok_rps"] / med["pocketbase"]["ok_rps"] if med["pocketbase"]["ok_rps"] else 0.0
            entry["ratio"] = round(ratio, 2)
            entry["target_met"] = ratio >= target
            entry["clean"] = not (med["outreach"]["flagged_runs"] or med["pocketbase"]["flagged_runs"])
            summary_rows.append((title, med, ratio, target, entry["clean"]))
        out["scenarios"][key] = entry
    md.append("")
    md.append("| scenario | Outreach 2xx/s (median) | p50 / p99 ms | PocketBase 2xx/s (median) | p50 / p99 ms | "
              "Outreach / PocketBase | target | errors |")
    md.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for title, med, ratio, target, clean in summary_rows:
        o, p = med["outreach"], med["pocketbase"]
        verdict = ("met" if ratio >= target else "not met") if meta["outreach_build"] == "release" else "no verdict: debug build"
        md.append(f"| {title} | {fmt_n(o['ok_rps'])} | {o['p50_ms']} / {o['p99_ms']} | {fmt_n(p['ok_rps'])} | "
                  f"{p['p50_ms']} / {p['p99_ms']} | **{ratio:.2f}×** | ≥ {target:g}× ({verdict}) | "
                  f"{'none' if clean else '**⚠ runs with errors**'} |")
    flagged = [r for r in runs if r["flagged"]]
    if flagged:
        md.append("")
        md.append("⚠ runs with non-2xx answers or socket errors (first body of each status):")
        for r in flagged:
            for code, body in r["error_samples"].items():
                md.append(f"- {r['scenario']} / {r['system']} / round {r['round']}: {code}: "
                          f"`{body[:200].replace('`', ' ')}`")
    print("\n".join(md))
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
    print(f"\n(JSON: {a.json})")


# ---------------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("free-port")
    s.set_defaults(fn=cmd_free_port)

    s = sub.add_parser("wait")
    s.add_argument("url")
    s.add_argument("--timeout", type=float, default=300)
    s.add_argument("--pid", type=int)
    s.set_defaults(fn=cmd_wait)

    def with_work(s):
        s.add_argument("--work", required=True)

    def with_area(s):
        s.add_argument("--partners", type=int, default=20000)
        s.add_argument("--seed", type=int, default=20261203)
        s.add_argument("--lat", type=float, default=22.58)
        s.add_argument("--lon", type=float, default=113.08)
        s.add_argument("--spread-km", type=float, default=20.0)

    s = sub.add_parser("pb-setup")
    with_work(s)
    s.add_argument("--url", required=True)
    s.add_argument("--admin-email", required=True)
    s.add_argument("--admin-password", required=True)
    s.add_argument("--user-email", required=True)
    s.add_argument("--user-password", required=True)
    s.add_argument("--logs", type=int, default=0)
    s.set_defaults(fn=cmd_pb_setup)

    s = sub.add_parser("outreach-login")
    with_work(s)
    s.add_argument("--url", required=True)
    s.add_argument("--phone", default="13800000004")
    s.add_argument("--password", default="outreach-demo-2026")
    s.set_defaults(fn=cmd_outreach_login)

    s = sub.add_parser("seed")
    with_work(s)
    with_area(s)
    s.add_argument("--threads", type=int, default=16)
    s.set_defaults(fn=cmd_seed)

    s = sub.add_parser("check")
    with_work(s)
    with_area(s)
    s.add_argument("--samples", type=int, default=200)
    s.add_argument("--pb-sort", default="")
    s.add_argument("--pb-dir", help="PocketBase's data directory, for the query plan")
    s.set_defaults(fn=cmd_check)

    s = sub.add_parser("report")
    with_work(s)
    s.add_argument("--json", required=True)
    s.add_argument("--scenarios", default="box,create_partner,create_visit")
    s.set_defaults(fn=cmd_report)

    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
