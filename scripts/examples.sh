#!/usr/bin/env bash
# Runs the pytest example of docs/testing.md (examples/python) against the binary the
# test build made: the recipe integrators copy is itself tested. pytest and requests
# go into a venv under target/ the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

export CCADMIN_BIN="${CCADMIN_BIN:-${CARGO_TARGET_DIR:-target}/debug/ccadmin}"
VENV="${EXAMPLES_VENV:-${CARGO_TARGET_DIR:-target}/examples-venv}"

[ -x "$CCADMIN_BIN" ] || cargo build --quiet
if ! "$VENV/bin/python" -c 'import pytest, requests' 2>/dev/null; then
  echo "==> installing examples/python/requirements.txt into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r examples/python/requirements.txt
fi

# pytest's exit code is this script's: 0 only when every test passed (5, no tests
# collected, is a failure too).
"$VENV/bin/python" -m pytest -q -p no:cacheprovider examples/python "$@"
