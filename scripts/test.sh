#!/usr/bin/env bash
# Runs every test: unit tests, and the HTTP integration suite on SQLite and, when
# TEST_DATABASE_URL names a PostgreSQL server, on PostgreSQL too (each test creates
# and drops its own database there).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "==> integration tests run on SQLite and on PostgreSQL ($TEST_DATABASE_URL)"
elif [ "${CI:-}" = "true" ]; then
  echo "error: CI=true but TEST_DATABASE_URL is not set; the PostgreSQL run must not be skipped" >&2
  exit 1
else
  echo "==> TEST_DATABASE_URL is not set: PostgreSQL run skipped (SQLite only)"
  echo "    e.g. TEST_DATABASE_URL=postgres://root@127.0.0.1:5432/test $0"
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi

# The published contract against the binary the test build made: only on a full run
# (a filtered run is someone's quick loop).
if [ "$#" -eq 0 ] && [ "${CONTRACT:-1}" != "0" ]; then
  echo "==> contract: /openapi.json validated, schemathesis against it"
  scripts/contract.sh
fi

# The pytest recipe of docs/testing.md, run as integrators would: also only on a full run.
if [ "$#" -eq 0 ] && [ "${EXAMPLES:-1}" != "0" ]; then
  echo "==> examples: the pytest recipe (examples/python) against the binary"
  scripts/examples.sh
fi

# The web console in a real browser (chromium driven by Playwright), likewise only on a
# full run.
if [ "$#" -eq 0 ] && [ "${CONSOLE:-1}" != "0" ]; then
  echo "==> console: the web console in chromium"
  scripts/console.sh
fi

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  echo "==> note: the PostgreSQL run was skipped (set TEST_DATABASE_URL to include it)"
fi
