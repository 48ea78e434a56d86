#!/usr/bin/env bash
# Benchmark of the asynchronous job engine: jobs completed per second with zero
# simulated delay, on SQLite and on PostgreSQL. See bench/README.md.
#
#   bench/jobs.sh [--accounts N] [--numbers M] [--workers W[,W...]]
#                 [--backends sqlite,postgres] [--repeat R] [--concurrency C]
#                 [--rev REV | --no-build] [--no-record] [--smoke]
#
# Per backend: phase A seeds a fresh database with N accounts of 14 features each (N*14
# pending jobs) through the API, with --workers 0; with --numbers M instead an inventory
# of M numbers and more, N accounts (feature voice) and M phone-number adds spread over
# them (M activation jobs, and the accounts' own). Phase B, once per W, restarts the
# server on a copy of that database with --workers W and times it from /readyz until no
# job is pending or running, then checks that every job succeeded. With --repeat R,
# each W runs R times (each on its own copy) and the median run is reported.
# The binary is built from the working tree, or with --rev from a committed revision
# (exported with git archive, so edits in progress cannot leak into it).
#
# Environment: CARGO_TARGET_DIR (default /tmp/bench-target), BENCH_DATABASE_URL (default
# postgres://root@127.0.0.1:5432/test; a server where this may create and drop
# databases), BENCH_KEEP=1 keeps the temporary directory (logs, SQLite files).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
client="$here/jobclient.py"

accounts=500
workers_list=4
backends=sqlite,postgres
concurrency=16
repeat=1
features=14
numbers=0
drain_timeout=${BENCH_DRAIN_TIMEOUT:-1800}

while (($#)); do
    case $1 in
        --accounts) accounts=$2; shift 2 ;;
        --numbers) numbers=$2; shift 2 ;;
        --workers) workers_list=$2; shift 2 ;;
        --backends) backends=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        *) common_flag "$@"; shift "$flag_shift" ;;
    esac
done
if ((smoke)); then
    # Seconds long, SQLite only, nothing written to RESULTS.md: for CI.
    accounts=20 backends=sqlite record=0
fi
need_posint --accounts "$accounts"
need_posint --repeat "$repeat"
[[ $numbers =~ ^[0-9]+$ ]] || bad_usage "--numbers must be a number"
[[ $workers_list =~ ^[0-9]+(,[0-9]+)*$ ]] || bad_usage "--workers must be like 4 or 1,2,4"
IFS=, read -ra workers_arr <<<"$workers_list"
for w in "${workers_arr[@]}"; do ((w > 0)) || bad_usage "--workers must be > 0"; done
parse_backends "$backends"
jobs_total=$((accounts * features))
# Activation jobs: an add's job is read and ended with its number (the path adds take).
if ((numbers > 0)); then
    # The accounts' voice feature jobs are drained too; the total is read after seeding.
    jobs_total=
fi

make_work bench "server logs, SQLite files"
build_binary

# --- server ---------------------------------------------------------------------------
# start_timed_server LOG WORKERS STORAGE_ARGS...: starts it in the background and waits
# until it is ready; sets server_pid, base, and ready_at (the epoch time /readyz first
# answered). Unlike lib.sh's start_server, the readiness poller starts first.
start_timed_server() {
    local logfile=$1 workers=$2
    shift 2
    local port rundir poller
    port=$(free_port)
    base="http://127.0.0.1:$port"
    rundir=$(mktemp -d "$work/run.XXXXXX")
    # The readiness poller runs before the server starts: the workers start with the
    # server, so seeing /readyz late would hide work from the measurement.
    "$py" "$client" ready "$base" 60 "$rundir" >"$rundir/ready" &
    poller=$!
    until [[ -e $rundir/polling ]]; do
        kill -0 "$poller" 2>/dev/null || die "the readiness poller failed"
        sleep 0.01
    done
    "${run_env[@]}" "$bin" serve --demo --workers "$workers" --feature-delay-ms 0 --number-delay-ms 0 \
        --listen "127.0.0.1:$port" "$@" >"$logfile" 2>&1 &
    server_pid=$!
    echo "$server_pid" >"$rundir/pid.tmp" && mv "$rundir/pid.tmp" "$rundir/pid"
    wait "$poller" || {
        tail -20 "$logfile" >&2
        die "the server did not become ready (log: $logfile)"
    }
    ready_at=$(<"$rundir/ready")
}

# --- databases ------------------------------------------------------------------------
# db_counts BACKEND NAME: "total succeeded failed cancelled span_ms" of the job table,
# span_ms being the time between the first and the last job finishing (server clock).
db_counts() {
    dbq "$1" "$2" "select count(*), count(*) filter (where state = 'succeeded'),
        count(*) filter (where state = 'failed'), count(*) filter (where state = 'cancelled'),
        coalesce(max(updated_at) - min(updated_at), 0) from job"
}

# --- the benchmark --------------------------------------------------------------------
if uses_postgres; then pg_require; fi

loadavg=$(load_average)
results=()
# Summarizes the runs of one (backend, W), one
# "seconds span_ms server_cpu0 server_cpu1 rss_kib machine_busy0 machine_busy1" a line.
summarize='
import sys
b, w, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = sorted([float(x) for x in line.split()] for line in sys.stdin if line.strip())
secs, span_ms, cpu0, cpu1, rss, busy0, busy1 = runs[len(runs) // 2]
rates = [n / r[0] for r in runs]
spread = f"{min(rates):.0f}–{max(rates):.0f}" if len(runs) > 1 else "–"
print("|".join([b, w, str(n), f"{secs:.2f}", f"{n / secs:.0f}", spread,
                f"{span_ms / 1000:.2f}", f"{cpu1 - cpu0:.2f}", f"{busy1 - busy0:.2f}",
                f"{rss / 1024:.1f}"]))
'
tag="ccb$$_$RANDOM"
for backend in "${backend_arr[@]}"; do
    seed="${tag}_seed"
    [[ $backend == postgres ]] && pg_create "$seed"
    if ((numbers > 0)); then
        # shellcheck disable=SC2046
        "${run_env[@]}" "$bin" migrate $(storage_args "$backend" "$seed") >"$work/$backend-migrate.log" 2>&1 ||
            die "$backend: migrate failed"
        if [[ ! -f $work/inventory.csv ]]; then
            # Half again as many numbers as the adds take, all of them available.
            "$py" "$here/gen_inventory.py" -n "$((numbers * 3 / 2 + 1000))" --seed 1 \
                -o "$work/inventory.csv" 2>"$work/gen.log" || die "the generator failed"
        fi
        # shellcheck disable=SC2046
        "${run_env[@]}" "$bin" inventory import $(storage_args "$backend" "$seed") "$work/inventory.csv" \
            >"$work/$backend-import.json" 2>&1 || die "$backend: the import failed"
        agg="string_agg(phone_number, ' ')"
        [[ $backend == sqlite ]] && agg="group_concat(phone_number, ' ')"
        dbq "$backend" "$seed" "select $agg from (select phone_number
            from number_inventory where held_by is null order by phone_number limit $numbers) t" |
            tr ' ' '\n' >"$work/$backend.pool"
        (($(wc -l <"$work/$backend.pool") >= numbers)) || die "$backend: fewer than $numbers numbers available"
        log "$backend: phase A: seeding $accounts accounts and $numbers phone-number adds with --workers 0"
    else
        log "$backend: phase A: seeding $accounts accounts ($jobs_total jobs) with --workers 0"
    fi
    # shellcheck disable=SC2046 # storage_args is split on purpose
    start_timed_server "$work/$backend-seed.log" 0 $(storage_args "$backend" "$seed")
    if ((numbers > 0)); then
        interruptible "$py" "$here/suiteclient.py" seed "$base" "$work/$backend.pool" "$accounts" \
            "$numbers" 32 2 "$work/$backend.seeded.json" >&2
    else
        interruptible "$py" "$client" create "$base" "$accounts" "$concurrency"
    fi
    # Reused in phase B (the copies keep the signing keys), so that no token grant
    # (a password hash) runs while the jobs are timed.
    BENCH_TOKEN=$("$py" "$client" token "$base")
    export BENCH_TOKEN
    pending=$("$py" "$client" count "$base" pending 2>/dev/null || echo "?")
    stop_server
    read -r total _ <<<"$(db_counts "$backend" "$seed")"
    ((numbers == 0)) || jobs_total=$total
    ((total == jobs_total)) || die "$backend: seeded $total jobs, expected $jobs_total"
    log "$backend: phase A done: $total jobs, $pending pending"

    for w in "${workers_arr[@]}"; do
        runs=()
        for ((rep = 1; rep <= repeat; rep++)); do
            db="${tag}_w${w}_r$rep"
            clone_db "$backend" "$seed" "$db"
            log "$backend: phase B: --workers $w (run $rep of $repeat)"
            # shellcheck disable=SC2046
            start_timed_server "$work/$backend-w$w-r$rep.log" "$w" $(storage_args "$backend" "$db")
            t_ready=$ready_at
            busy0=$(busy_seconds)
            cpu0=$(cpu_seconds "$server_pid")
            interruptible "$py" "$client" drain "$base" "$drain_timeout" >"$work/done"
            t_done=$(<"$work/done")
            busy1=$(busy_seconds)
            cpu1=$(cpu_seconds "$server_pid")
            rss_kib=$(hwm_kib "$server_pid")
            api_succeeded=
            if ((numbers == 0 && jobs_total < 10000)); then
                api_succeeded=$("$py" "$client" count "$base" succeeded)
            fi
            stop_server
            read -r total succeeded failed cancelled span_ms <<<"$(db_counts "$backend" "$db")"
            ((succeeded == jobs_total && total == jobs_total)) ||
                die "$backend W=$w: $succeeded of $total jobs succeeded ($failed failed, $cancelled cancelled), expected $jobs_total"
            [[ -z $api_succeeded || $api_succeeded == "$jobs_total" ]] ||
                die "$backend W=$w: the API counts $api_succeeded succeeded jobs, expected $jobs_total"
            secs=$("$py" -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.3f}")' "$t_ready" "$t_done")
            runs+=("$secs $span_ms $cpu0 $cpu1 $rss_kib $busy0 $busy1")
            log "$backend: --workers $w: $jobs_total jobs in ${secs}s, peak RSS $((rss_kib / 1024)) MiB"
        done
        # The median run (by seconds) stands for the series; the range shows the spread.
        results+=("$(printf '%s\n' "${runs[@]}" | "$py" -c "$summarize" "$backend" "$w" "$jobs_total")")
    done
done

# --- report ---------------------------------------------------------------------------
header='| backend | workers | jobs | seconds | jobs/s | jobs/s min–max | engine span s | server CPU s | machine CPU s | peak RSS MiB |'
rule='|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
table=$(md_table "$header" "$rule" "${results[@]}")
echo
echo "$table"
echo

if ((record)); then
    out="$here/RESULTS.md"
    if [[ ! -f $out ]]; then
        cat >"$out" <<'EOF'
# Benchmark results

Each section below is one run of a benchmark, appended by its script; newest last.
Figures from different machines or revisions are not comparable. See
[README.md](README.md) for what each benchmark measures and how to run it.

## Benchmarks

- **jobs** (`bench/jobs.sh`): throughput of the asynchronous job engine. N accounts
  with all 14 features each are created through the API with no workers running
  (N*14 pending jobs, zero simulated delay); then the server restarts on that database
  with W workers and is timed from `/readyz` until no job is pending or running.
  `jobs/s` = N*14 / `seconds`; with `--repeat R` the row is the median run and
  `jobs/s min–max` the spread. `engine span s` is the time between the first and the
  last job finishing, read from the job table (a cross-check of `seconds`, which also
  counts up to one 50 ms poll). `server CPU s` is the CPU time the server process used
  while the jobs ran (the database server's is not included); `machine CPU s` what all
  processes used meanwhile (the server, PostgreSQL, the poller, and anything
  else on the machine: well above `server CPU s` on SQLite means competing load);
  `peak RSS` is the server's `VmHWM`. Run:
  `bench/jobs.sh` (defaults: N=500, W=4, SQLite and PostgreSQL, one run).
EOF
    fi
    out=$(results_file)
    {
        results_head jobs
        echo "- ccadmin: $rev, release build; PostgreSQL: ${pg_version:-not run} (same machine)"
        if ((numbers > 0)); then
            echo "- $numbers phone-number adds over $accounts accounts (feature voice): $jobs_total jobs, activations and the accounts' own; W = $workers_list; delays 0 ms; default lease (10 s); median of $repeat run(s) each"
        else
            echo "- N = $accounts accounts × $features features = $jobs_total jobs; W = $workers_list; feature delay 0 ms; default lease (10 s); median of $repeat run(s) each"
        fi
        results_load
        echo "- command: \`bench/jobs.sh --accounts $accounts$( ((numbers > 0)) && echo " --numbers $numbers") --workers $workers_list --backends $backends --repeat $repeat$(rev_flag)\`"
        echo
        echo "$table"
    } >>"$out"
    log "appended to $out"
fi
