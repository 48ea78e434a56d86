#!/usr/bin/env bash
# The published contract, checked against the real server:
#   1. /openapi.json validates as an OpenAPI 3 document (openapi-spec-validator);
#   2. schemathesis generates requests from it for every operation (valid and invalid
#      data, with an Administrator's token and appkey) and fails on any 5xx, any status
#      the document does not declare, any body or content type that does not match it,
#      and any request that takes longer than the timeout (a hang).
# The emulator controls (/_ccadmin: reset, the endless event stream) and the account's
# endless event stream (…/events) are left out here; tests/api/emulator.rs and
# tests/api/events.rs cover them.
#
#   scripts/contract.sh                     # the binary the test build made
#   CONTRACT_EXAMPLES=200 scripts/contract.sh
#   CONTRACT_INCLUDE='phone-numbers' scripts/contract.sh   # only paths matching a regex
#
# It installs its Python tools (pinned) into target/contract-venv the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${CCADMIN_BIN:-${CARGO_TARGET_DIR:-target}/debug/ccadmin}"
VENV="${CONTRACT_VENV:-${CARGO_TARGET_DIR:-target}/contract-venv}"
EXAMPLES="${CONTRACT_EXAMPLES:-25}"
INCLUDE="${CONTRACT_INCLUDE:-.}"
# regress: ECMA-262 regular expressions, the dialect JSON Schema patterns are written in
# (Python's re has no \p{L}); the validator uses it when it is installed.
TOOLS=(schemathesis==4.32.5 openapi-spec-validator==0.9.0 regress==2026.9.1)

[ -x "$BIN" ] || cargo build --quiet
if ! "$VENV/bin/python" -c 'import schemathesis, openapi_spec_validator, regress' 2>/dev/null; then
  echo "==> installing ${TOOLS[*]} into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${TOOLS[@]}"
fi

WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
"$BIN" serve --demo --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" \
  --access-token-ttl 7200 >"$WORK/server.log" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -sf "$BASE/readyz" >/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.1
done

echo "==> /openapi.json validates as OpenAPI"
curl -sf "$BASE/openapi.json" -o "$WORK/openapi.json"
"$VENV/bin/python" - "$WORK/openapi.json" <<'PY'
import json, sys
from openapi_spec_validator import validate
try:
    validate(json.load(open(sys.argv[1])))
except Exception as e:  # the message can quote the whole document: keep its head
    print(f"invalid: {type(e).__name__}: {str(e)[:600]}", file=sys.stderr)
    sys.exit(1)
print("valid")
PY

# The demo Administrator: it may call every operation, on every account.
TOKEN="$(curl -sf "$BASE/api/auth/v1/PLATFM/protocol/openid-connect/token" \
  -H 'appkey: demo-admin-appkey' -d grant_type=client_credentials \
  -d client_id=demo-admin -d client_secret=demo-admin-secret |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"

echo "==> schemathesis: $EXAMPLES examples per operation"
# One worker: CPython 3.11's parser is not thread-safe under hypothesis' lambda
# introspection (SystemError: AST constructor recursion depth mismatch).
"$VENV/bin/schemathesis" --config-file scripts/contract.toml run "$BASE/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path-regex '^/_ccadmin|/events$' \
  --include-path-regex "$INCLUDE" \
  --header "Authorization: Bearer $TOKEN" --header "appkey: demo-admin-appkey" \
  --max-examples "$EXAMPLES" --request-timeout 10 --workers 1 \
  --generation-database none --no-color --suppress-health-check too_slow \
  --seed "${CONTRACT_SEED:-20261201}" \
  "$@"
