#!/usr/bin/env bash
# The web console in a real browser: Playwright for Python drives Debian's chromium
# against the debug binary in --demo mode, through every page (tests/console/*.py):
# sign-in for both roles, live status changes, errors next to their fields, no request
# to another origin, axe-core on every page, a screenshot of each page in
# target/console-screenshots/.
#
#   scripts/console.sh                 # the binary the test build made
#   scripts/console.sh -k numbers      # pytest arguments pass through
#
# It installs what is missing the first time: chromium (apt), a venv with pinned
# playwright and pytest (target/console-venv), axe-core from npm (target/console-axe).
# Playwright's own browser download is not used: the tests launch /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${CARGO_TARGET_DIR:-target}"
BIN="${CCADMIN_BIN:-$TARGET/debug/ccadmin}"
VENV="${CONSOLE_VENV:-$TARGET/console-venv}"
AXE_DIR="$TARGET/console-axe"
TOOLS=(playwright==1.65.2 pytest==9.0.2)
AXE=axe-core@4.14.1

[ -x "$BIN" ] || cargo build --quiet

if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing chromium (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
if ! "$VENV/bin/python" -c 'import playwright, pytest' 2>/dev/null; then
  echo "==> installing ${TOOLS[*]} into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${TOOLS[@]}"
fi
if [ ! -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ]; then
  echo "==> installing $AXE into $AXE_DIR"
  mkdir -p "$AXE_DIR"
  npm install --silent --no-audit --no-fund --prefix "$AXE_DIR" "$AXE" >/dev/null
fi

WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
"$BIN" serve --demo --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
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

mkdir -p "$TARGET/console-screenshots"
echo "==> console: pytest tests/console against $BASE"
CONSOLE_BASE="$BASE" CONSOLE_AXE="$AXE_DIR/node_modules/axe-core/axe.min.js" \
  CONSOLE_SCREENSHOTS="$TARGET/console-screenshots" \
  "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/console "$@" || {
    echo "--- server log (tail)"; tail -n 40 "$WORK/server.log"; exit 1; }
