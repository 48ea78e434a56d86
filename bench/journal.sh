#!/usr/bin/env bash
# The request journal's cost (issue #17: under 10 % of GET throughput). Two release
# servers with --demo on fresh SQLite databases, one with the journal off
# (--journal-max-entries 0), one with it on (the defaults), and wrk on the same
# machine: GET of one account as the demo Administrator (JWT, appkey and a row read),
# a warm-up each, then RUNS alternating runs of DURATION seconds (off, on, off, on, …,
# so that the machine's other load falls on both alike). Prints each run's requests/s,
# the medians and the overhead. Nothing is recorded in RESULTS.md.
#
#   bench/journal.sh [--duration S] [--connections C] [--runs R] [--no-build]
#
# Environment: CARGO_TARGET_DIR (default target), BENCH_KEEP=1 keeps the temporary
# directory (server logs).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=10
conns=16
runs=3
build=1
while (($#)); do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install -y wrk)" >&2; exit 1; }
target=${CARGO_TARGET_DIR:-target}
[ "$build" = 1 ] && cargo build --release --quiet
work=$(mktemp -d)
cp "$target/release/ccadmin" "$work/ccadmin"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ "${BENCH_KEEP:-0}" = 1 ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start NAME ARGS...: a server; prints its base URL.
start() {
  local name=$1; shift
  local port; port=$(free_port)
  env -i PATH="$PATH" RUST_LOG=warn "$work/ccadmin" serve --demo --workers 0 \
    --data-dir "$work/$name" --listen "127.0.0.1:$port" "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && { echo "http://127.0.0.1:$port"; return; }
    sleep 0.1
  done
  cat "$work/$name.log" >&2; exit 1
}

token() {
  curl -sf -X POST "$1/api/auth/v1/PLATFM/protocol/openid-connect/token" \
    -H 'appkey: demo-admin-appkey' -d grant_type=client_credentials \
    -d client_id=demo-admin -d client_secret=demo-admin-secret |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# rate BASE TOKEN SECONDS: requests/s of one wrk run (fails on any non-2xx answer).
rate() {
  local out
  out=$(wrk -t2 -c"$conns" -d"${3}s" -H "Authorization: Bearer $2" -H 'appkey: demo-admin-appkey' \
    "$1/api/admin/account/v1/accounts/ABCDEF")
  if grep -q 'Non-2xx' <<<"$out"; then echo "$out" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}

off=$(start off --journal-max-entries 0)
on=$(start on)
off_token=$(token "$off")
on_token=$(token "$on")
rate "$off" "$off_token" 3 >/dev/null
rate "$on" "$on_token" 3 >/dev/null
offs=()
ons=()
for i in $(seq 1 "$runs"); do
  offs+=("$(rate "$off" "$off_token" "$duration")")
  ons+=("$(rate "$on" "$on_token" "$duration")")
  echo "run $i: journal off ${offs[-1]} req/s, on ${ons[-1]} req/s"
done
entries=$(curl -sf "$on/_ccadmin/requests?limit=1" -H "Authorization: Bearer $on_token" \
  -H 'appkey: demo-admin-appkey' | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["requests"]))')
[ "$entries" = 1 ] || { echo "the journal recorded nothing" >&2; exit 1; }
python3 - "${offs[*]}" "${ons[*]}" <<'PY'
import statistics, sys
off = statistics.median(float(x) for x in sys.argv[1].split())
on = statistics.median(float(x) for x in sys.argv[2].split())
print(f"median: journal off {off:.0f} req/s, on {on:.0f} req/s; overhead {100 * (off - on) / off:.1f} %")
PY
