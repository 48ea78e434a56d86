#!/usr/bin/env bash
# The benchmark suite of issue #8 ("Speed"), in one command: every scenario of the
# issue on SQLite and on PostgreSQL, compared with its targets. See bench/README.md.
#
#   bench/suite.sh [--backends sqlite,postgres] [--scale F] [--inventory N]
#                  [--accounts N] [--numbers N] [--duration S] [--connections C[,C...]]
#                  [--restarts R] [--concurrency C] [--seed-procs P] [--csv FILE]
#                  [--backlog-duration B] [--drain-runs N]
#                  [--no-lists] [--rev REV | --no-build] [--no-record] [--smoke]
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
#    (client_credentials). Adds also run at 32 connections. Per run: requests/s, p50,
#    p99, max, the server's CPU per request, its RSS (sampled every 100 ms, and VmHWM).
#    Any non-2xx answer, socket error or failed check makes the script exit non-zero.
# 4. Job drain. A server with --workers 0 takes adds for B seconds (--backlog-duration,
#    default 6 x S: tens of thousands of jobs, so that start-up and polling are noise)
#    at 32 connections (a backlog of pending jobs); a server with its default workers
#    is then started on a copy of that database and runs them until none is pending or
#    running; every number must then be ACTIVE or INACTIVE and every job succeeded. The
#    time is the server's own: from the first to the last of the backlog's jobs to finish
#    (updated_at in the job table): jobs/s. The time from exec to the client's poll
#    seeing the queue empty is shown beside it. N drains (--drain-runs, default 3), each
#    on a fresh copy of the backlog: the figure is the median run's, with the range.
# 5. Report. A table per backend, the two side by side, and the targets of issue #16
#    (ratios to the same run's /healthz rate) with pass/MISS; appended to RESULTS.md
#    with the machine, revision and load averages.
# 6. List pages (issue #16's list row): bench/lists.sh on the same binary and backends
#    (its own 100,000-number account, its own RESULTS.md section when this records);
#    --no-lists skips it.
#
# Environment: CARGO_TARGET_DIR (default /tmp/bench-target), BENCH_DATABASE_URL (default
# postgres://root@127.0.0.1:5432/test; a server where this may create and drop
# databases), BENCH_KEEP=1 keeps the temporary directory (logs, wrk outputs, SQLite
# files), BENCH_RUST_LOG (the servers' RUST_LOG, default the server's own
# info,sqlx=warn), BENCH_DRAIN_TIMEOUT (seconds, default 1800).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
client="$here/suiteclient.py"

backends=sqlite,postgres
scale=1
inventory=
accounts=
numbers=
duration=10
backlog_duration=
drain_runs=3
connections=1,64
restarts=5
concurrency=32
seed_procs=2
csv=
drain_timeout=${BENCH_DRAIN_TIMEOUT:-1800}
lists=1

while (($#)); do
    case $1 in
        --backends) backends=$2; shift 2 ;;
        --scale) scale=$2; shift 2 ;;
        --inventory) inventory=$2; shift 2 ;;
        --accounts) accounts=$2; shift 2 ;;
        --numbers) numbers=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --backlog-duration) backlog_duration=$2; shift 2 ;;
        --drain-runs) drain_runs=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --restarts) restarts=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --seed-procs) seed_procs=$2; shift 2 ;;
        --csv) csv=$2; shift 2 ;;
        --no-lists) lists=0; shift ;;
        *) common_flag "$@"; shift "$flag_shift" ;;
    esac
done
[[ $scale =~ ^[0-9]*\.?[0-9]+$ ]] || bad_usage "--scale must be a positive number"
scaled() { "$py" -c 'import sys; print(max(1, round(float(sys.argv[1]) * float(sys.argv[2]))))' "$1" "$scale"; }
inventory=${inventory:-$(scaled 1000000)}
accounts=${accounts:-$(scaled 1000)}
numbers=${numbers:-$(scaled 100000)}
if ((smoke)); then
    # Well under a minute after the build, SQLite only, nothing written to RESULTS.md.
    inventory=10000 accounts=10 numbers=200 duration=2 connections=64 restarts=3
    backends=sqlite record=0
fi
# Smoke keeps the backlog phase as short as the other runs.
((smoke)) && backlog_duration=$duration
backlog_duration=${backlog_duration:-$((duration * 6))}
for v in inventory accounts numbers duration backlog_duration drain_runs restarts concurrency seed_procs; do
    need_posint "--${v//_/-}" "${!v}"
done
[[ $connections =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || bad_usage "--connections must be like 64 or 1,64"
((numbers < inventory)) || bad_usage "--numbers must be below --inventory"
IFS=, read -ra conn_arr <<<"$connections"
parse_backends "$backends"
need_cmd wrk "apt-get install -y wrk"
if uses_postgres; then need_cmd psql "the PostgreSQL client"; fi

# since T0: seconds elapsed since an $EPOCHREALTIME.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

make_work suite "logs, wrk outputs, SQLite files"
build_binary

# measure's RSS sampler, stopped at exit too.
sampler_pid=
cleanup_hook() { if [[ -n $sampler_pid ]]; then kill -TERM "$sampler_pid" 2>/dev/null; fi; }

# The load's server: the demo credentials, zero simulated delays (an add's activation
# job is due at once), tokens that outlive the run.
serve_flags=(--demo --feature-delay-ms 0 --number-delay-ms 0 --access-token-ttl 86400)

# --- databases ------------------------------------------------------------------------
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
        postgres) psql "$(pg_url "$2")" -qAt -v ON_ERROR_STOP=1 -c "$q" ;;
    esac
}

# numbers_state BACKEND NAME: "numbers inprogress not_terminal jobs_not_succeeded".
numbers_state() {
    dbq "$1" "$2" "select (select count(*) from phone_number),
        (select count(*) from phone_number where status = 'INPROGRESS'),
        (select count(*) from phone_number where status not in ('ACTIVE', 'INACTIVE')),
        (select count(*) from job where state <> 'succeeded')"
}

# --- one scenario run -----------------------------------------------------------------
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
    read -r rps p50 p99 max requests non2xx errors <<<"$(wrk_stats "$out")"
    ((non2xx == 0 && errors == 0)) ||
        die "$backend $name c=$c: $non2xx non-2xx answers and $errors socket errors (see $out)"
    cpu_ms=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$requests" 'BEGIN {printf "%.3f", (b - a) * 1000 / n}')
    echo "$backend|$name|$c|$rps|$p50|$p99|$max|$requests|$cpu_ms|$(mib "$rss_peak")|$(mib "$hwm")|$busy" >>"$work/rows"
    log "$backend $name c=$c: $rps req/s, p50 $p50 ms, p99 $p99 ms, server CPU $cpu_ms ms/req, RSS $(mib "$rss_peak") MiB"
}

# fact BACKEND KEY VALUE: a figure for the report.
fact() { echo "$2=$3" >>"$work/$1.facts"; }

# --- the inventory --------------------------------------------------------------------
if uses_postgres; then pg_require; fi
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

loadavg=$(load_average)
tag="ccb$$_suite$RANDOM"
: >"$work/rows"
max_c=${conn_arr[-1]}
for c in "${conn_arr[@]}"; do ((c > max_c)) && max_c=$c; done
# Adds also run at 32 connections, where issue #16 asks every add to be answered 202,
# and so does the drain's backlog.
drain_conns=32
add_conns=("${conn_arr[@]}")
[[ " ${conn_arr[*]} " == *" $drain_conns "* ]] || add_conns+=("$drain_conns")
warmup=$(((duration + 4) / 5))
((smoke)) && warmup=0
# Adds per run: more than wrk can send in DURATION seconds (it starts over past the end,
# and the 409s then fail the run), within what the inventory has left.
adds_per_run=$((duration * 20000))

for backend in "${backend_arr[@]}"; do
    db="${tag}_$backend"
    : >"$work/$backend.facts"
    fact "$backend" load_before "$(load_average)"
    fresh_db "$backend" "$db"

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
    # shellcheck disable=SC2046 # storage_args is split on purpose
    start_server "$work/$backend.seed.log" "$backend" "${serve_flags[@]}" $(storage_args "$backend" "$db")
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
        psql "$(pg_url "$db")" -qAt -v ON_ERROR_STOP=1 -c 'vacuum analyze' ||
            die "postgres: vacuum analyze failed"
    fi
    fact "$backend" load_after_seed "$(load_average)"

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
    # shellcheck disable=SC2046
    start_server "$work/$backend.serve.log" "$backend" "${serve_flags[@]}" $(storage_args "$backend" "$db")
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

    # Adds: each run has its own numbers (after the seeded ones in the shuffled pool),
    # and so has the backlog of the drain (step 4).
    next=$numbers
    runs_left=$((${#add_conns[@]} + 1))
    for c in "${add_conns[@]}"; do
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

    # --- 4. job drain -----------------------------------------------------------------
    # A backlog made by adds to a server without workers, then drained by a server with
    # its default workers: jobs/s from its exec until nothing is pending or running.
    log "$backend: job drain (a backlog of adds made with --workers 0)"
    # Every number left: past its end wrk sends GET /healthz (suite-add.lua then-healthz),
    # so the backlog is what the run has time for, at most this.
    count=$((pool_size - next))
    ((count > 0)) || die "$backend: no numbers left for the drain's backlog"
    "$py" "$client" addfile "$work/$backend.seeded.json" "$work/$backend.pool" "$next" "$count" \
        "$work/$backend.backlog" >/dev/null
    # shellcheck disable=SC2046
    start_server "$work/$backend.backlog.log" "$backend" "${serve_flags[@]}" --workers 0 $(storage_args "$backend" "$db")
    token=$("$py" "$client" token "$base" "$work/$backend.token.json")
    duration=$backlog_duration measure "$backend" backlog "$drain_conns" -s "$here/suite-add.lua" "$base/" -- \
        "$work/$backend.backlog" "$token" demo-admin-appkey 2 then-healthz
    stop_server
    read -r backlog before_ms <<<"$(dbq "$backend" "$db" "select count(*) filter (where state = 'pending'),
        coalesce(max(updated_at) filter (where state <> 'pending'), 0) from job")"
    ((backlog > 0)) || die "$backend: the drain's backlog is empty"
    # Each drain on a fresh copy of the backlog: single runs moved by a fifth from one
    # to the next on the benchmark machine.
    runs=()
    for ((rep = 1; rep <= drain_runs; rep++)); do
        copy="${db}_drain$rep"
        clone_db "$backend" "$db" "$copy"
        t0=$EPOCHREALTIME
        # shellcheck disable=SC2046
        start_server "$work/$backend.drain$rep.log" "$backend" "${serve_flags[@]}" $(storage_args "$backend" "$copy")
        token=$("$py" "$client" token "$base" "$work/$backend.token.json")
        interruptible "$py" "$client" drain "$base" "$work/$backend.token.json" "$drain_timeout" >"$work/drained"
        polled_s=$(awk -v a="$t0" -v d="$(<"$work/drained")" 'BEGIN {printf "%.3f", d - a}')
        stop_server
        read -r _ inprogress not_terminal jobs_left <<<"$(numbers_state "$backend" "$copy")"
        ((inprogress == 0 && not_terminal == 0 && jobs_left == 0)) ||
            die "$backend drain $rep: $inprogress numbers INPROGRESS, $not_terminal not ACTIVE/INACTIVE, $jobs_left jobs not succeeded after the drain"
        # The server's own time: the backlog's jobs are those updated after every earlier
        # job ended; from the first of them to finish to the last (its first batch's claim
        # is the only work not counted: milliseconds).
        read -r drained span_ms <<<"$(dbq "$backend" "$copy" "select count(*), max(updated_at) - min(updated_at)
            from job where updated_at > $before_ms")"
        ((drained == backlog)) || die "$backend drain $rep: $drained jobs ended after the backlog was made, $backlog were pending"
        drain_s=$(awk -v ms="$span_ms" 'BEGIN {printf "%.3f", (ms > 0 ? ms : 1) / 1000}')
        rate=$(awk -v n="$backlog" -v s="$drain_s" 'BEGIN {printf "%.0f", n / s}')
        log "$backend: drain $rep of $drain_runs: $backlog jobs in ${drain_s}s by the server's clock ($rate jobs/s); ${polled_s}s from exec to the poll seeing none left"
        runs+=("$rate $drain_s $polled_s")
        drop_db "$backend" "$copy"
    done
    # The median run (the slower middle one for an even count), and the range.
    mapfile -t sorted < <(printf '%s\n' "${runs[@]}" | sort -n)
    read -r rate drain_s polled_s <<<"${sorted[(drain_runs - 1) / 2]}"
    lo=${sorted[0]%% *} hi=${sorted[-1]%% *}
    fact "$backend" drain "$backlog|$drain_s|$polled_s|$lo|$hi|$drain_runs"
    log "$backend: drain, median of $drain_runs: $rate jobs/s ($lo–$hi)"
    fact "$backend" load_after "$(load_average)"
    drop_db "$backend" "$db"
    rm -f "$work/$backend".adds-c* "$work/$backend.backlog" "$work/$backend.pool"
done

# --- report ---------------------------------------------------------------------------
"$py" "$client" report "$work" "$backends" "$max_c" >"$work/report.md"
echo
cat "$work/report.md"
echo
misses=$(grep -c '| MISS |' "$work/report.md" || true)
log "targets missed: $misses (see the table above)"

if ((record)); then
    out=$(results_file)
    {
        results_head suite
        echo "- ccadmin: $rev, release build; PostgreSQL: ${pg_version:-not run} (same machine); wrk $(wrk_version) on the same machine (-t2, -t1 at 1 connection)"
        echo "- data: $inventory inventory numbers (bench/gen_inventory.py, seed 1), $accounts accounts with an ACO element each, $numbers numbers added through the API (10 % to one account, the rest round-robin), plus the demo seed"
        echo "- load: $duration s per run after a ${warmup} s warm-up (reads), connections $connections; the server is \`serve ${serve_flags[*]}\` (2 workers); start-up: median of $restarts"
        results_load
        echo "- command: \`bench/suite.sh --backends $backends --inventory $inventory --accounts $accounts --numbers $numbers --duration $duration --connections $connections --restarts $restarts --concurrency $concurrency$(rev_flag)\`"
        echo
        cat "$work/report.md"
    } >>"$out"
    log "appended to $out"
fi

# --- 6. list pages --------------------------------------------------------------------
if ((lists)); then
    lists_args=(--no-build --backends "$backends")
    ((record)) && lists_args+=(--record)
    ((smoke)) && lists_args+=(--smoke)
    "$here/lists.sh" "${lists_args[@]}" || die "bench/lists.sh failed"
fi
