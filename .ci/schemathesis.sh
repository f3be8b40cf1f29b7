#!/usr/bin/env bash
# API fuzzing from the spec: Schemathesis against the demo server, every role in one run. Every check but two (see docs/SECURITY.md): zero 5xx, zero answers that break the
# schema, every status and content type documented, every guarded route refusing a missing token.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${OUTREACH_BIN:-${CARGO_TARGET_DIR:-target}/debug/outreach}"
VENV=${ST_VENV:-target/schemathesis-venv}
ST_VERSION=4.32.5
EXAMPLES="${ST_MAX_EXAMPLES:-30}"
if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$ST_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

DATA=$(mktemp -d)
# OUTREACH_DEMO_DIR (SQLite only): a data directory already seeded with the demo, copied here.
if [ -n "${OUTREACH_DEMO_DIR:-}" ] && [ -z "${DATABASE_URL:-}" ]; then cp -a "$OUTREACH_DEMO_DIR/." "$DATA/"; fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
# Rate limits up: the fuzzer logs in and registers far faster than any person.
# DATABASE_URL, when set, names the database to serve from (PostgreSQL in CI's second run).
env -i PATH="$PATH" ${DATABASE_URL:+DATABASE_URL="$DATABASE_URL"} \
  OUTREACH_DATA_DIR="$DATA" OUTREACH_BIND="127.0.0.1:$PORT" RUST_LOG=warn \
  OUTREACH_ACCESS_TOKEN_TTL_SECS=86400 \
  OUTREACH_LOGIN_ACCOUNT_BURST=100000 OUTREACH_LOGIN_ACCOUNT_PER_MINUTE=100000 \
  OUTREACH_LOGIN_IP_BURST=100000 OUTREACH_LOGIN_IP_PER_MINUTE=100000 \
  OUTREACH_REGISTER_IP_BURST=100000 OUTREACH_REGISTER_IP_PER_MINUTE=100000 \
  OUTREACH_REGISTER_EVENT_BURST=100000 OUTREACH_REGISTER_EVENT_PER_MINUTE=100000 \
  "$BIN" serve --demo >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 600); do curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$BASE/readyz" >/dev/null

login() {
  curl -fsS -H 'content-type: application/json' \
    -d "{\"phone\": \"$1\", \"password\": \"outreach-demo-2026\"}" "$BASE/api/v1/auth/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# One run: each request as the next role in turn (.ci/schemathesis_roles.py); `ignored_auth`
# sends every guarded operation without a token as well.
tokens=""
for who in 13800000004:account_manager 13800000003:supervisor 13800000002:sub_branch_manager \
           13800000001:branch_manager 13800000000:admin; do
  tokens="$tokens ${who#*:}=$(login "${who%%:*}")"
done
echo "-- schemathesis as every role in turn, $EXAMPLES examples per operation"
ST_ROLE_TOKENS="$tokens" SCHEMATHESIS_HOOKS=.ci/schemathesis_roles.py \
  "$VENV/bin/st" --config-file .ci/schemathesis.toml run "$BASE/api-spec/openapi.json" --url "$BASE" \
  --checks all --exclude-checks positive_data_acceptance,unsupported_method \
  --max-examples "$EXAMPLES" --seed 1 --generation-database none --no-color
if grep -E "panicked|status=5[0-9][0-9]" "$DATA/server.log"; then
  echo "FAIL: the server log shows a panic or a 5xx" >&2
  exit 1
fi
echo "schemathesis: no failures"
