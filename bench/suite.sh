#!/usr/bin/env bash
# The benchmark suite of issue #8 ("Speed"), in one command: every scenario of the
# issue on SQLite and on PostgreSQL, compared with its targets. See bench/README.md.
#
#   bench/suite.sh [--backends sqlite,postgres] [--scale F] [--inventory N]
#                  [--accounts N] [--numbers N] [--duration S] [--connections C[,C...]]
#                  [--restarts R] [--concurrency C] [--seed-procs P] [--csv FILE]
#                  [--rev REV | --no-build] [--no-record] [--smoke]
#
# Per backend:
# 1. Seed. A fresh database; `ccadmin inventory import` of N numbers (default 1,000,000,
#    bench/gen_inventory.py); then `ccadmin serve --demo` with zero simulated delays and
#    bench/suiteclient.py, as the demo Administrator, creates the accounts (default
#    1,000, feature voice), one ACO element in each, and adds the numbers (default
#    100,000: 10 % to the first account, the rest round-robin), C requests at a time;
#    then waits until no job is pending or running and checks the database: every
#    account, element and number there, every number ACTIVE or INACTIVE, every job
#    succeeded. The server stops (its peak RSS is kept).
# 2. Start-up. RUNS times (default 5): exec of `ccadmin serve` on that database, without
#    --demo as in production, to the first 200 of /readyz; the median is the figure.
#    The same with --demo, for reference.
# 3. Load. `ccadmin serve --demo` again (zero delays), and wrk, on the same machine,
#    drives each scenario for S seconds (default 10) at each connection count (default
#    1 and 64; after a warm-up for the reads): GET /healthz; GET of one phone number, of
#    one account, of one ACO element (as the Administrator: JWT and appkey checked, rows
#    read); GET phone-numbers with a filter and a page; GET available-phone-numbers with
#    countryCode, type and areaCode; POST phone-numbers (adds of distinct available
#    numbers over all accounts), each run followed by the wait until every job is done
#    and a check that every accepted add is ACTIVE or INACTIVE; token issue
#    (client_credentials). Per run: requests/s, p50, p99, max, the server's CPU per
#    request, its RSS (sampled every 100 ms, and VmHWM). Any non-2xx answer, socket
#    error or failed check makes the script exit non-zero.
# 4. Report. A table per backend, the two side by side, and the targets of issue #8
#    (ratios to the same run's /healthz rate) with pass/MISS; appended to RESULTS.md
#    with the machine, revision and load averages.
#
# Environment: CARGO_TARGET_DIR (default /tmp/bench-target), BENCH_DATABASE_URL (default
# postgres://root@127.0.0.1:5432/test; a server where this may create and drop
# databases), BENCH_KEEP=1 keeps the temporary directory (logs, wrk outputs, SQLite
# files), BENCH_RUST_LOG (the servers' RUST_LOG, default the server's own
# info,sqlx=warn), BENCH_DRAIN_TIMEOUT (seconds, default 1800).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
client="$here/suiteclient.py"
# The interpreter itself, not a version manager's shim: each call costs less.
py=$(python3 -c 'import sys; print(sys.executable)')

backends=sqlite,postgres
scale=1
inventory=
accounts=
numbers=
duration=10
connections=1,64
restarts=5
concurrency=32
seed_procs=2
csv=
build=1
record=1
smoke=0
rev_arg=
drain_timeout=${BENCH_DRAIN_TIMEOUT:-1800}

usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit "${1:-0}"; }

while (($#)); do
    case $1 in
        --backends) backends=$2; shift 2 ;;
        --scale) scale=$2; shift 2 ;;
        --inventory) inventory=$2; shift 2 ;;
        --accounts) accounts=$2; shift 2 ;;
        --numbers) numbers=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --restarts) restarts=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --seed-procs) seed_procs=$2; shift 2 ;;
        --csv) csv=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --rev) rev_arg=$2; shift 2 ;;
        --no-record) record=0; shift ;;
        --smoke) smoke=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "suite.sh: unknown argument: $1" >&2; usage 2 ;;
    esac
done
[[ $scale =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "suite.sh: --scale must be a positive number" >&2; exit 2; }
scaled() { "$py" -c 'import sys; print(max(1, round(float(sys.argv[1]) * float(sys.argv[2]))))' "$1" "$scale"; }
inventory=${inventory:-$(scaled 1000000)}
accounts=${accounts:-$(scaled 1000)}
numbers=${numbers:-$(scaled 100000)}
if ((smoke)); then
    # Well under a minute after the build, SQLite only, nothing written to RESULTS.md.
    inventory=10000 accounts=10 numbers=200 duration=2 connections=64 restarts=3
    backends=sqlite record=0
fi
posint='^[1-9][0-9]*$'
for v in inventory accounts numbers duration restarts concurrency seed_procs; do
    [[ ${!v} =~ $posint ]] || { echo "suite.sh: --${v//_/-} must be a positive integer" >&2; exit 2; }
done
[[ $connections =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "suite.sh: --connections must be like 64 or 1,64" >&2; exit 2; }
((numbers < inventory)) || { echo "suite.sh: --numbers must be below --inventory" >&2; exit 2; }
IFS=, read -ra conn_arr <<<"$connections"
IFS=, read -ra backend_arr <<<"$backends"
for b in "${backend_arr[@]}"; do
    [[ $b == sqlite || $b == postgres ]] || { echo "suite.sh: unknown backend: $b" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "suite.sh: needs wrk (apt-get install -y wrk)" >&2; exit 2; }
if [[ " ${backend_arr[*]} " == *" postgres "* ]]; then
    command -v psql >/dev/null || { echo "suite.sh: needs psql (the PostgreSQL client)" >&2; exit 2; }
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/bench-target}
bin="$CARGO_TARGET_DIR/release/ccadmin"
pg_admin_url=${BENCH_DATABASE_URL:-postgres://root@127.0.0.1:5432/test}

log() { printf '[suite.sh %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
# since T0: seconds elapsed since an $EPOCHREALTIME.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ccadmin-suite.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- build ----------------------------------------------------------------------------
# As bench/jobs.sh does (see there): what the binary was built from is stamped next to
# it, and the ccadmin crate is cleaned first so that the binary is always this source's.
stamp="$bin.bench-rev"
if ((build)); then
    if [[ -n $rev_arg ]]; then
        sha=$(git -C "$root" rev-parse --verify "$rev_arg^{commit}") || die "no such revision: $rev_arg"
        src="$CARGO_TARGET_DIR/bench-src/$sha"
        if [[ ! -f $src/Cargo.toml ]]; then
            mkdir -p "$src.tmp$$"
            git -C "$root" archive "$sha" | tar -x -C "$src.tmp$$"
            mv -T "$src.tmp$$" "$src" 2>/dev/null || rm -rf "$src.tmp$$"
        fi
        rev="${sha:0:7}"
    else
        src=$root
        rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
        if [[ -n $(git -C "$root" status --porcelain -- src migrations data build.rs Cargo.toml Cargo.lock 2>/dev/null) ]]; then
            rev="$rev+uncommitted changes"
        fi
    fi
    log "building the release binary of $rev (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    (cd "$src" && cargo clean --release --quiet -p ccadmin && cargo build --release --quiet --bin ccadmin) ||
        die "the build failed"
    echo "$rev" >"$stamp"
elif [[ -n $rev_arg ]]; then
    die "--rev and --no-build exclude each other"
fi
[[ -x $bin ]] || die "no binary at $bin (build it, or drop --no-build)"
if [[ -f $stamp && ! $bin -nt $stamp ]]; then
    rev=$(<"$stamp")
else
    rev="unknown (built outside the bench scripts)"
fi
# Run a private copy: a build into the same target directory during the run (another
# checkout, another benchmark) must not swap the binary under it.
cp "$bin" "$work/ccadmin"
bin="$work/ccadmin"

# --- cleanup --------------------------------------------------------------------------
server_pid=
child_pid=
sampler_pid=
pg_dbs=()
psql_admin() { psql "$pg_admin_url" -qAt -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
    local rc=$?
    [[ -n $child_pid ]] && kill -TERM "$child_pid" 2>/dev/null
    [[ -n $sampler_pid ]] && kill -TERM "$sampler_pid" 2>/dev/null
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    for db in "${pg_dbs[@]}"; do
        psql_admin -c "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 ||
            log "could not drop database $db"
    done
    if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then
        log "kept $work (logs, wrk outputs, SQLite files)"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# interruptible CMD...: runs CMD in the background and waits for it, so that a signal
# to this script is handled at once rather than when CMD ends.
interruptible() {
    "$@" &
    child_pid=$!
    local rc=0
    wait "$child_pid" || rc=$?
    child_pid=
    return "$rc"
}

# A clean environment: no DATABASE_URL or CCADMIN_* of the caller leaks in.
run_env=(env -i PATH="$PATH" HOME="$HOME" RUST_LOG="${BENCH_RUST_LOG:-info,sqlx=warn}")
# The load's server: the demo credentials, zero simulated delays (an add's activation
# job is due at once), tokens that outlive the run.
serve_flags=(--demo --feature-delay-ms 0 --number-delay-ms 0 --access-token-ttl 86400)

# --- databases ------------------------------------------------------------------------
# storage_args BACKEND NAME: the flags of database NAME (a directory or a database).
storage_args() {
    case $1 in
        sqlite) echo "--data-dir $work/$2" ;;
        postgres) echo "--database-url $("$py" "$client" pgurl "$pg_admin_url" "$2")" ;;
    esac
}

# dbq BACKEND NAME SQL: the first row of SQL's answer, space-separated (SQLite read-only,
# so it may run beside the server).
dbq() {
    case $1 in
        sqlite)
            "$py" - "$work/$2/ccadmin.db" "$3" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(*c.execute(sys.argv[2]).fetchone())
EOF
            ;;
        postgres) psql "$("$py" "$client" pgurl "$pg_admin_url" "$2")" -qAt -F ' ' -v ON_ERROR_STOP=1 -c "$3" ;;
    esac
}

# available BACKEND NAME: every available number of the inventory, one a line.
available() {
    local q='select phone_number from number_inventory where held_by is null order by phone_number'
    case $1 in
        sqlite)
            "$py" - "$work/$2/ccadmin.db" "$q" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
sys.stdout.write("".join(r[0] + "\n" for r in c.execute(sys.argv[2])))
EOF
            ;;
        postgres) psql "$("$py" "$client" pgurl "$pg_admin_url" "$2")" -qAt -v ON_ERROR_STOP=1 -c "$q" ;;
    esac
}

# numbers_state BACKEND NAME: "numbers inprogress not_terminal jobs_not_succeeded".
numbers_state() {
    dbq "$1" "$2" "select (select count(*) from phone_number),
        (select count(*) from phone_number where status = 'INPROGRESS'),
        (select count(*) from phone_number where status not in ('ACTIVE', 'INACTIVE')),
        (select count(*) from job where state <> 'succeeded')"
}

# --- server ---------------------------------------------------------------------------
# start_server BACKEND NAME LOG: serve NAME with serve_flags; sets server_pid and base.
start_server() {
    local port
    port=$("$py" "$client" port)
    base="http://127.0.0.1:$port"
    # shellcheck disable=SC2046 # storage_args is split on purpose
    "${run_env[@]}" "$bin" serve "${serve_flags[@]}" --listen "127.0.0.1:$port" \
        $(storage_args "$1" "$2") >"$3" 2>&1 &
    server_pid=$!
    "$py" "$client" ready "$base" 300 "$server_pid" || {
        tail -20 "$3" >&2
        die "$1: the server did not become ready (log: $3)"
    }
}

stop_server() {
    kill -TERM "$server_pid"
    local rc=0
    wait "$server_pid" || rc=$?
    server_pid=
    ((rc == 0)) || log "the server exited with status $rc"
}

# --- one scenario run -----------------------------------------------------------------
# /proc readers, in awk rather than python: they run around every wrk run.
# cpu_seconds PID: user + system CPU seconds of a process.
cpu_seconds() {
    awk -v t="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / t}' "/proc/$1/stat"
}
# cpustat: "busy total" jiffies of all CPUs; busy_pct BEFORE AFTER: % busy in between.
cpustat() { awk '/^cpu / {t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t}' /proc/stat; }
busy_pct() { awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " "); d = y[2] - x[2]; printf "%.0f", 100 * (y[1] - x[1]) / (d > 0 ? d : 1)}'; }
# hwm_kib PID: the process's peak RSS (VmHWM).
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# measure BACKEND SCENARIO CONNS WRK_ARGS...: one wrk run of DURATION seconds, with the
# server's CPU, the machine's, and the server's RSS sampled meanwhile; appends a row to
# $work/rows: backend|scenario|conns|req/s|p50|p99|max|requests|CPU ms/req|sampled RSS
# MiB|VmHWM MiB|machine busy %. Sets wrk_t0 and wrk_t1, when wrk started and ended.
measure() {
    local backend=$1 name=$2 c=$3 out cpu0 cpu1 stat0 busy rss_peak hwm cpu_ms
    shift 3
    out="$work/$backend-$name-c$c.wrk"
    "$py" "$client" rss "$server_pid" "$out.rss" &
    sampler_pid=$!
    cpu0=$(cpu_seconds "$server_pid")
    stat0=$(cpustat)
    wrk_t0=$EPOCHREALTIME
    interruptible wrk -t"$((c < 2 ? c : 2))" -c"$c" -d"${duration}s" --timeout 30s --latency "$@" >"$out"
    wrk_t1=$EPOCHREALTIME
    busy=$(busy_pct "$stat0" "$(cpustat)")
    cpu1=$(cpu_seconds "$server_pid")
    kill -TERM "$sampler_pid"
    wait "$sampler_pid" || true
    sampler_pid=
    read -r rss_peak _ <"$out.rss"
    hwm=$(hwm_kib "$server_pid")
    read -r rps p50 p99 max requests non2xx errors <<<"$("$py" "$client" wrk "$out")"
    ((non2xx == 0 && errors == 0)) ||
        die "$backend $name c=$c: $non2xx non-2xx answers and $errors socket errors (see $out)"
    cpu_ms=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$requests" 'BEGIN {printf "%.3f", (b - a) * 1000 / n}')
    echo "$backend|$name|$c|$rps|$p50|$p99|$max|$requests|$cpu_ms|$(mib "$rss_peak")|$(mib "$hwm")|$busy" >>"$work/rows"
    log "$backend $name c=$c: $rps req/s, p50 $p50 ms, p99 $p99 ms, server CPU $cpu_ms ms/req, RSS $(mib "$rss_peak") MiB"
}

# fact BACKEND KEY VALUE: a figure for the report.
fact() { echo "$2=$3" >>"$work/$1.facts"; }

# --- the inventory --------------------------------------------------------------------
if [[ " ${backend_arr[*]} " == *" postgres "* ]]; then
    psql_admin -c 'select 1' >/dev/null ||
        die "PostgreSQL at $pg_admin_url does not answer (set BENCH_DATABASE_URL, or --backends sqlite)"
    pg_version=$(psql_admin -c 'show server_version')
fi
if [[ -z $csv ]]; then
    csv="$work/inventory.csv"
    log "generating $inventory numbers (bench/gen_inventory.py, seed 1)"
    "$py" "$here/gen_inventory.py" -n "$inventory" --seed 1 -o "$csv" 2>"$work/gen.log" ||
        die "the generator failed: $(cat "$work/gen.log")"
else
    [[ -f $csv ]] || die "no such file: $csv"
    inventory=$(($(wc -l <"$csv") - 1))
fi
((numbers < inventory)) || die "--numbers ($numbers) must be below the inventory ($inventory)"

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
tag="ccb$$_suite$RANDOM"
: >"$work/rows"
max_c=${conn_arr[-1]}
for c in "${conn_arr[@]}"; do ((c > max_c)) && max_c=$c; done
warmup=$(((duration + 4) / 5))
((smoke)) && warmup=0
# Adds per run: more than wrk can send in DURATION seconds (it starts over past the end,
# and the 409s then fail the run), within what the inventory has left.
adds_per_run=$((duration * 20000))

for backend in "${backend_arr[@]}"; do
    db="${tag}_$backend"
    : >"$work/$backend.facts"
    fact "$backend" load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
    [[ $backend == postgres ]] && { pg_dbs+=("$db"); psql_admin -c "create database \"$db\""; }
    # shellcheck disable=SC2046
    "${run_env[@]}" "$bin" migrate $(storage_args "$backend" "$db") >"$work/$backend.migrate.log" 2>&1 ||
        die "$backend: migrate failed (log: $work/$backend.migrate.log)"

    # --- 1. seed ----------------------------------------------------------------------
    log "$backend: importing the inventory ($inventory numbers)"
    t0=$EPOCHREALTIME
    # shellcheck disable=SC2046
    interruptible "${run_env[@]}" "$bin" inventory import $(storage_args "$backend" "$db") "$csv" \
        >"$work/$backend.import.json" 2>"$work/$backend.import.err" ||
        die "$backend: the import failed: $(tail -5 "$work/$backend.import.err")"
    fact "$backend" import_s "$(since "$t0")"
    imported=$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["imported"])' "$work/$backend.import.json")
    fact "$backend" imported "$imported"
    available "$backend" "$db" >"$work/$backend.available"
    pool_size=$("$py" "$client" shuffle "$work/$backend.available" "$work/$backend.pool" 1)
    rm -f "$work/$backend.available"
    ((pool_size > numbers)) || die "$backend: only $pool_size numbers available, $numbers to add"
    log "$backend: $imported numbers imported in $(grep '^import_s=' "$work/$backend.facts" | cut -d= -f2) s"

    log "$backend: seeding $accounts accounts, $accounts ACO elements and $numbers numbers through the API ($concurrency at a time)"
    start_server "$backend" "$db" "$work/$backend.seed.log"
    t0=$EPOCHREALTIME
    interruptible "$py" "$client" seed "$base" "$work/$backend.pool" "$accounts" "$numbers" \
        "$concurrency" "$seed_procs" "$work/$backend.seeded.json" >"$work/$backend.seed.out"
    fact "$backend" seed_requests_s "$(since "$t0")"
    fact "$backend" seeded_numbers "$numbers"
    token=$("$py" "$client" token "$base" "$work/$backend.token.json")
    t1=$EPOCHREALTIME
    interruptible "$py" "$client" drain "$base" "$work/$backend.token.json" "$drain_timeout" >/dev/null
    fact "$backend" seed_drain_s "$(since "$t1")"
    fact "$backend" seed_total_s "$(since "$t0")"
    for kv in $(<"$work/$backend.seed.out"); do fact "$backend" "seed_${kv%%=*}" "${kv#*=}"; done
    fact "$backend" seed_hwm_mib "$(mib "$(hwm_kib "$server_pid")")"
    stop_server
    read -r n_accounts n_elements <<<"$(dbq "$backend" "$db" "select (select count(*) from account), (select count(*) from voice_element)")"
    read -r n_numbers inprogress not_terminal jobs_left <<<"$(numbers_state "$backend" "$db")"
    # The demo seed's accounts: the default one, ABCDEF and AQWSDE.
    ((n_accounts == accounts + 3 && n_elements == accounts)) ||
        die "$backend: $n_accounts accounts and $n_elements elements after seeding, expected $((accounts + 3)) and $accounts"
    ((n_numbers == numbers && inprogress == 0 && not_terminal == 0 && jobs_left == 0)) ||
        die "$backend: $n_numbers numbers ($inprogress INPROGRESS, $not_terminal not ACTIVE/INACTIVE), $jobs_left jobs not succeeded after seeding"
    log "$backend: seeded in $(grep '^seed_total_s=' "$work/$backend.facts" | cut -d= -f2) s: $n_accounts accounts, $n_elements elements, $n_numbers numbers, all ACTIVE or INACTIVE"
    if [[ $backend == postgres ]]; then
        # As autovacuum would in time: fresh planner statistics after the seeding.
        psql "$("$py" "$client" pgurl "$pg_admin_url" "$db")" -qAt -v ON_ERROR_STOP=1 -c 'vacuum analyze' ||
            die "postgres: vacuum analyze failed"
    fi
    fact "$backend" load_after_seed "$(cut -d' ' -f1-3 /proc/loadavg)"

    # --- 2. start-up ------------------------------------------------------------------
    log "$backend: start-up on the seeded database, $restarts runs without --demo, $restarts with"
    # shellcheck disable=SC2046
    read -r med lo hi <<<"$("${run_env[@]}" "$py" "$client" startup "$restarts" 60 "$work/$backend.startup.log" \
        "$bin" serve --listen 127.0.0.1:@PORT@ $(storage_args "$backend" "$db"))"
    fact "$backend" startup_ms "$med|$lo|$hi"
    # shellcheck disable=SC2046
    read -r med lo hi <<<"$("${run_env[@]}" "$py" "$client" startup "$restarts" 60 "$work/$backend.startup-demo.log" \
        "$bin" serve "${serve_flags[@]}" --listen 127.0.0.1:@PORT@ $(storage_args "$backend" "$db"))"
    fact "$backend" startup_demo_ms "$med|$lo|$hi"

    # --- 3. load ----------------------------------------------------------------------
    log "$backend: serving for the load"
    start_server "$backend" "$db" "$work/$backend.serve.log"
    token=$("$py" "$client" token "$base" "$work/$backend.token.json")
    "$py" "$client" targets "$base" "$token" "$work/$backend.seeded.json" "$work/$backend.targets.json"
    totals=$("$py" -c 'import json, sys; t = json.load(open(sys.argv[1]))["totals"]; print(t["list"], t["search"])' "$work/$backend.targets.json")
    fact "$backend" list_total "${totals% *}"
    fact "$backend" search_total "${totals#* }"
    hdr=(-H "Authorization: Bearer $token" -H "appkey: demo-admin-appkey")
    for name in healthz number account element list search; do
        if [[ $name == healthz ]]; then
            url="$base/healthz" args=()
        else
            url="$base$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["paths"][sys.argv[2]])' "$work/$backend.targets.json" "$name")"
            args=("${hdr[@]}")
        fi
        if ((warmup > 0)); then
            wrk -t"$((max_c < 2 ? max_c : 2))" -c"$max_c" -d"${warmup}s" --timeout 30s "${args[@]}" "$url" >/dev/null
        fi
        for c in "${conn_arr[@]}"; do
            measure "$backend" "$name" "$c" "${args[@]}" "$url"
        done
    done

    # Adds: each run has its own numbers (after the seeded ones in the shuffled pool).
    next=$numbers
    runs_left=${#conn_arr[@]}
    for c in "${conn_arr[@]}"; do
        count=$(((pool_size - next) / runs_left))
        ((count < adds_per_run)) || count=$adds_per_run
        runs_left=$((runs_left - 1))
        ((count > 0)) || die "$backend: no numbers left for the adds at c=$c"
        "$py" "$client" addfile "$work/$backend.seeded.json" "$work/$backend.pool" "$next" "$count" \
            "$work/$backend.adds-c$c" >/dev/null
        next=$((next + count))
        read -r before _ <<<"$(numbers_state "$backend" "$db")"
        measure "$backend" add "$c" -s "$here/suite-add.lua" "$base/" -- \
            "$work/$backend.adds-c$c" "$token" demo-admin-appkey "$((c < 2 ? c : 2))"
        interruptible "$py" "$client" drain "$base" "$work/$backend.token.json" "$drain_timeout" >"$work/drained"
        read -r terminal_s lag_s <<<"$(awk -v a="$wrk_t0" -v b="$wrk_t1" -v d="$(<"$work/drained")" \
            'BEGIN {printf "%.2f %.2f", d - a, d - b}')"
        read -r after inprogress not_terminal jobs_left <<<"$(numbers_state "$backend" "$db")"
        accepted=$(tail -1 "$work/rows" | cut -d'|' -f8)
        added=$((after - before))
        # Every 202 wrk saw is there; a request in flight when wrk stopped may have been
        # committed too (at most one per connection).
        ((added >= accepted && added <= accepted + c)) ||
            die "$backend add c=$c: wrk saw $accepted adds accepted, the database gained $added numbers"
        ((inprogress == 0 && not_terminal == 0 && jobs_left == 0)) ||
            die "$backend add c=$c: $inprogress numbers INPROGRESS, $not_terminal not ACTIVE/INACTIVE, $jobs_left jobs not succeeded after the drain"
        fact "$backend" "add_c${c}" "$accepted|$added|$terminal_s|$lag_s"
        log "$backend add c=$c: $added numbers added, all ACTIVE or INACTIVE ${terminal_s}s after the load started (${lag_s}s after it stopped)"
    done

    for c in "${conn_arr[@]}"; do
        measure "$backend" token "$c" -s "$here/suite-token.lua" "$base/" -- \
            PLATFM demo-admin demo-admin-secret demo-admin-appkey
    done
    fact "$backend" serve_hwm_mib "$(mib "$(hwm_kib "$server_pid")")"
    stop_server
    fact "$backend" load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
    if [[ $backend == postgres ]]; then
        psql_admin -c "drop database if exists \"$db\" with (force)"
    else
        rm -rf "${work:?}/$db"
    fi
    rm -f "$work/$backend".adds-c* "$work/$backend.pool"
done

# --- report ---------------------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
machine="$(nproc) × ${cpu_model:-unknown CPU}, $(uname -sr)"
"$py" "$client" report "$work" "$backends" "$max_c" >"$work/report.md"
echo
cat "$work/report.md"
echo
misses=$(grep -c '| MISS |' "$work/report.md" || true)
log "targets missed: $misses (see the table above)"

if ((record)); then
    out="$here/RESULTS.md"
    [[ -f $out ]] || printf '# Benchmark results\n\nEach section below is one run of a benchmark, appended by its script; newest last.\n' >"$out"
    rev_flag=
    [[ $rev =~ ^[0-9a-f]{7,}$ ]] && rev_flag=" --rev $rev"
    {
        echo
        echo "## suite: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        echo "- machine: $machine"
        echo "- ccadmin: $rev, release build; PostgreSQL: ${pg_version:-not run} (same machine); wrk $(wrk -v 2>&1 | awk 'NR==1 {print $2}') on the same machine (-t2, -t1 at 1 connection)"
        echo "- data: $inventory inventory numbers (bench/gen_inventory.py, seed 1), $accounts accounts with an ACO element each, $numbers numbers added through the API (10 % to one account, the rest round-robin), plus the demo seed"
        echo "- load: $duration s per run after a ${warmup} s warm-up (reads), connections $connections; the server is \`serve ${serve_flags[*]}\` (2 workers); start-up: median of $restarts"
        echo "- load average (1, 5, 15 min) before the run: $loadavg; after: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "- command: \`bench/suite.sh --backends $backends --inventory $inventory --accounts $accounts --numbers $numbers --duration $duration --connections $connections --restarts $restarts --concurrency $concurrency$rev_flag\`"
        echo
        cat "$work/report.md"
    } >>"$out"
    log "appended to $out"
fi
