#!/usr/bin/env bash
# Browser test of the manager map page (/map) and of the public registration pages (/e/…, at a
# phone's width): headless Chromium (Debian's `chromium`, installed
# here when missing) drives the page against a demo server on a free port with a fresh data
# directory. Screenshots land in target/browser/. Run from anywhere: `bash web/browser-test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)

# Chromium, and a Chinese font so that the screenshots show the page as its users see it.
chromium_bin=${CHROMIUM:-/usr/bin/chromium}
packages=()
[ -x "$chromium_bin" ] || packages+=(chromium)
if ! { command -v fc-list >/dev/null && fc-list :lang=zh family | grep -q .; }; then packages+=(fonts-wqy-microhei); fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "installing: ${packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# build.rs installs web/node_modules on the first cargo build; install here too when run alone.
if [ ! -f web/node_modules/playwright-core/package.json ] || ! cmp -s web/package-lock.json web/node_modules/.outreach-installed-lock.json; then
  (cd web && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  cp web/package-lock.json web/node_modules/.outreach-installed-lock.json
  touch -r web/package-lock.json web/node_modules/.outreach-installed-lock.json
fi

# The debug binary the suite uses (after `cargo test` this is a no-op); OUTREACH_BIN overrides.
bin=${OUTREACH_BIN:-${CARGO_TARGET_DIR:-target}/debug/outreach}
if [ -z "${OUTREACH_BIN:-}" ]; then
  cargo build --locked --quiet --bin outreach
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
data=$(mktemp -d)
# OUTREACH_DEMO_DIR: a data directory already seeded with the demo (CI seeds one for every step
# that needs it); `serve --demo` then finds it seeded and starts at once.
if [ -n "${OUTREACH_DEMO_DIR:-}" ]; then cp -a "$OUTREACH_DEMO_DIR/." "$data/"; fi
mkdir -p target/browser
log=target/browser/server.log
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT INT TERM

base="http://127.0.0.1:$port"
echo "starting the demo server on $base (log: $log)"
OUTREACH_DATA_DIR="$data" OUTREACH_BIND="127.0.0.1:$port" RUST_LOG="${RUST_LOG:-warn}" \
  "$bin" serve --demo >"$log" 2>&1 &
server=$!

# Ready, then seeded: the server answers requests only after the demo seed has finished, so a
# successful login of the demo branch manager means the data is there.
deadline=$(( $(date +%s) + 180 ))
until curl -fsS -o /dev/null --max-time 2 "$base/readyz" 2>/dev/null || curl -fsS -o /dev/null --max-time 2 "$base/healthz" 2>/dev/null; do
  kill -0 "$server" 2>/dev/null || { echo "FAIL: the server exited"; cat "$log"; exit 1; }
  [ "$(date +%s)" -lt "$deadline" ] || { echo "FAIL: the server did not become ready"; tail -50 "$log"; exit 1; }
  sleep 0.5
done
until curl -fsS -o /dev/null --max-time 60 -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"phone":"13800000001","password":"outreach-demo-2026"}' 2>/dev/null; do
  kill -0 "$server" 2>/dev/null || { echo "FAIL: the server exited"; cat "$log"; exit 1; }
  [ "$(date +%s)" -lt "$deadline" ] || { echo "FAIL: the demo login did not succeed"; tail -50 "$log"; exit 1; }
  sleep 1
done
echo "demo server ready after $(( $(date +%s) - started )) s"

MAP_URL="$base/map" CHROMIUM="$chromium_bin" SCREENSHOT_DIR="$root/target/browser" node web/tests/map.test.mjs
BASE_URL="$base" CHROMIUM="$chromium_bin" SCREENSHOT_DIR="$root/target/browser" node web/tests/public.test.mjs
echo "browser test passed in $(( $(date +%s) - started )) s; screenshots in target/browser/"
