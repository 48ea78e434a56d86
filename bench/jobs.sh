#!/usr/bin/env bash
# Benchmark of the asynchronous job engine: jobs completed per second with zero
# simulated delay, on SQLite and on PostgreSQL. See bench/README.md.
#
#   bench/jobs.sh [--accounts N] [--workers W[,W...]] [--backends sqlite,postgres]
#                 [--repeat R] [--concurrency C] [--rev REV | --no-build] [--no-record]
#                 [--smoke]
#
# Per backend: phase A seeds a fresh database with N accounts of 14 features each (N*14
# pending jobs) through the API, with --workers 0; phase B, once per W, restarts the
# server on a copy of that database with --workers W and times it from /readyz until no
# job is pending or running, then checks that all N*14 jobs succeeded. With --repeat R,
# each W runs R times (each on its own copy) and the median run is reported.
# The binary is built from the working tree, or with --rev from a committed revision
# (exported with git archive, so edits in progress cannot leak into it).
#
# Environment: CARGO_TARGET_DIR (default /tmp/bench-target), BENCH_DATABASE_URL (default
# postgres://root@127.0.0.1:5432/test; a server where this may create and drop
# databases), BENCH_KEEP=1 keeps the temporary directory (logs, SQLite files).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
client="$here/jobclient.py"
# The interpreter itself, not a version manager's shim: each call costs less.
py=$(python3 -c 'import sys; print(sys.executable)')

accounts=500
workers_list=4
backends=sqlite,postgres
concurrency=16
build=1
record=1
smoke=0
rev_arg=
repeat=1
features=14
drain_timeout=${BENCH_DRAIN_TIMEOUT:-1800}

usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit "${1:-0}"; }

while (($#)); do
    case $1 in
        --accounts) accounts=$2; shift 2 ;;
        --workers) workers_list=$2; shift 2 ;;
        --backends) backends=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --rev) rev_arg=$2; shift 2 ;;
        --no-record) record=0; shift ;;
        --smoke) smoke=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "jobs.sh: unknown argument: $1" >&2; usage 2 ;;
    esac
done
if ((smoke)); then
    # Seconds long, SQLite only, nothing written to RESULTS.md: for CI.
    accounts=20 backends=sqlite record=0
fi
[[ $accounts =~ ^[1-9][0-9]*$ ]] || { echo "jobs.sh: --accounts must be a positive integer" >&2; exit 2; }
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "jobs.sh: --repeat must be a positive integer" >&2; exit 2; }
[[ $workers_list =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "jobs.sh: --workers must be like 4 or 1,2,4" >&2; exit 2; }
IFS=, read -ra workers_arr <<<"$workers_list"
IFS=, read -ra backend_arr <<<"$backends"
for w in "${workers_arr[@]}"; do ((w > 0)) || { echo "jobs.sh: --workers must be > 0" >&2; exit 2; }; done
for b in "${backend_arr[@]}"; do
    [[ $b == sqlite || $b == postgres ]] || { echo "jobs.sh: unknown backend: $b" >&2; exit 2; }
done
jobs_total=$((accounts * features))

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/bench-target}
bin="$CARGO_TARGET_DIR/release/ccadmin"
pg_admin_url=${BENCH_DATABASE_URL:-postgres://root@127.0.0.1:5432/test}

log() { printf '[jobs.sh %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ccadmin-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- build ----------------------------------------------------------------------------
# What the binary was built from is stamped next to it, for RESULTS.md.
stamp="$bin.bench-rev"
if ((build)); then
    if [[ -n $rev_arg ]]; then
        sha=$(git -C "$root" rev-parse --verify "$rev_arg^{commit}") || die "no such revision: $rev_arg"
        src="$CARGO_TARGET_DIR/bench-src/$sha"
        if [[ ! -f $src/Cargo.toml ]]; then
            mkdir -p "$src"
            git -C "$root" archive "$sha" | tar -x -C "$src"
        fi
        rev="${sha:0:7}"
    else
        src=$root
        rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
        if [[ -n $(git -C "$root" status --porcelain -- src migrations build.rs Cargo.toml Cargo.lock 2>/dev/null) ]]; then
            rev="$rev+uncommitted changes"
        fi
    fi
    log "building the release binary of $rev (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    # Cargo fingerprints the ccadmin crate the same way whatever directory it is built
    # from, and its dependency info may name the files of another checkout or export
    # (one that did not change), so a build after one from elsewhere can be taken for
    # fresh and leave the other's binary in place. Cleaning the crate (dependencies are
    # kept) makes the binary always this source's.
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
    rev="unknown (built outside jobs.sh)"
fi
# Run a private copy: a build into the same target directory during the run (another
# checkout, another benchmark) must not swap the binary under it.
cp "$bin" "$work/ccadmin"
bin="$work/ccadmin"

# --- cleanup --------------------------------------------------------------------------
server_pid=
child_pid=
pg_dbs=()
cleanup() {
    local rc=$?
    [[ -n $child_pid ]] && kill -TERM "$child_pid" 2>/dev/null
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    for db in "${pg_dbs[@]}"; do
        psql "$pg_admin_url" -qAt -v ON_ERROR_STOP=1 \
            -c "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 ||
            log "could not drop database $db"
    done
    if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then
        log "kept $work (server logs, SQLite files)"
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

# --- server ---------------------------------------------------------------------------
# start_server LOG WORKERS STORAGE_ARGS...: starts it in the background and waits until
# it is ready; sets server_pid, base, and ready_at (the epoch time /readyz first answered).
start_server() {
    local logfile=$1 workers=$2
    shift 2
    local port rundir poller
    port=$("$py" "$client" port)
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
    # A clean environment: no DATABASE_URL or CCADMIN_* of the caller leaks in.
    env -i PATH="$PATH" HOME="$HOME" RUST_LOG="${BENCH_RUST_LOG:-info,sqlx=warn}" \
        "$bin" serve --demo --workers "$workers" --feature-delay-ms 0 \
        --listen "127.0.0.1:$port" "$@" >"$logfile" 2>&1 &
    server_pid=$!
    echo "$server_pid" >"$rundir/pid.tmp" && mv "$rundir/pid.tmp" "$rundir/pid"
    wait "$poller" || {
        tail -20 "$logfile" >&2
        die "the server did not become ready (log: $logfile)"
    }
    ready_at=$(<"$rundir/ready")
}

stop_server() {
    kill -TERM "$server_pid"
    local rc=0
    wait "$server_pid" || rc=$?
    server_pid=
    ((rc == 0)) || log "the server exited with status $rc"
}

# cpu_seconds PID: user + system CPU time the process has used.
cpu_seconds() {
    local stat ticks
    stat=$(cat "/proc/$1/stat")
    stat=${stat##*) }
    read -ra f <<<"$stat"
    ticks=$(getconf CLK_TCK)
    "$py" -c 'import sys; u, s, t = map(int, sys.argv[1:]); print(f"{(u + s) / t:.2f}")' \
        "${f[11]}" "${f[12]}" "$ticks"
}

# busy_seconds: CPU time the whole machine has spent busy (all cores, all processes).
busy_seconds() {
    awk -v t="$(getconf CLK_TCK)" '/^cpu / {printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / t}' /proc/stat
}

# --- databases ------------------------------------------------------------------------
psql_admin() { psql "$pg_admin_url" -qAt -v ON_ERROR_STOP=1 "$@"; }

# storage_args BACKEND NAME: the server flags of database NAME (a directory or a database).
storage_args() {
    case $1 in
        sqlite) echo "--data-dir $work/$2" ;;
        postgres) echo "--database-url $("$py" "$client" pgurl "$pg_admin_url" "$2")" ;;
    esac
}

# clone_db BACKEND FROM TO: a fresh copy of a seeded database (the server is stopped).
clone_db() {
    case $1 in
        sqlite) cp -a "$work/$2" "$work/$3" ;;
        postgres)
            pg_dbs+=("$3")
            psql_admin -c "create database \"$3\" template \"$2\"" ;;
    esac
}

# db_counts BACKEND NAME: "total succeeded failed cancelled span_ms" of the job table,
# span_ms being the time between the first and the last job finishing (server clock).
db_counts() {
    local q="select count(*), count(*) filter (where state = 'succeeded'),
        count(*) filter (where state = 'failed'), count(*) filter (where state = 'cancelled'),
        coalesce(max(updated_at) - min(updated_at), 0) from job"
    case $1 in
        sqlite)
            "$py" - "$work/$2/ccadmin.db" "$q" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(*c.execute(sys.argv[2]).fetchone())
EOF
            ;;
        postgres)
            psql "$("$py" "$client" pgurl "$pg_admin_url" "$2")" -qAt -F ' ' -v ON_ERROR_STOP=1 -c "$q" ;;
    esac
}

# --- the benchmark --------------------------------------------------------------------
if [[ " ${backend_arr[*]} " == *" postgres "* ]]; then
    psql_admin -c 'select 1' >/dev/null ||
        die "PostgreSQL at $pg_admin_url does not answer (set BENCH_DATABASE_URL, or --backends sqlite)"
    pg_version=$(psql_admin -c 'show server_version')
fi

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
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
    [[ $backend == postgres ]] && { pg_dbs+=("$seed"); psql_admin -c "create database \"$seed\""; }
    log "$backend: phase A: seeding $accounts accounts ($jobs_total jobs) with --workers 0"
    # shellcheck disable=SC2046 # storage_args is split on purpose
    start_server "$work/$backend-seed.log" 0 $(storage_args "$backend" "$seed")
    interruptible "$py" "$client" create "$base" "$accounts" "$concurrency"
    # Reused in phase B (the copies keep the signing keys), so that no token grant
    # (a password hash) runs while the jobs are timed.
    BENCH_TOKEN=$("$py" "$client" token "$base")
    export BENCH_TOKEN
    pending=$("$py" "$client" count "$base" pending 2>/dev/null || echo "?")
    stop_server
    read -r total _ <<<"$(db_counts "$backend" "$seed")"
    ((total == jobs_total)) || die "$backend: seeded $total jobs, expected $jobs_total"
    log "$backend: phase A done: $total jobs, $pending pending"

    for w in "${workers_arr[@]}"; do
        runs=()
        for ((rep = 1; rep <= repeat; rep++)); do
            db="${tag}_w${w}_r$rep"
            clone_db "$backend" "$seed" "$db"
            log "$backend: phase B: --workers $w (run $rep of $repeat)"
            # shellcheck disable=SC2046
            start_server "$work/$backend-w$w-r$rep.log" "$w" $(storage_args "$backend" "$db")
            t_ready=$ready_at
            busy0=$(busy_seconds)
            cpu0=$(cpu_seconds "$server_pid")
            interruptible "$py" "$client" drain "$base" "$drain_timeout" >"$work/done"
            t_done=$(<"$work/done")
            busy1=$(busy_seconds)
            cpu1=$(cpu_seconds "$server_pid")
            rss_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")
            api_succeeded=
            if ((jobs_total < 10000)); then
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
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
machine="$(nproc) × ${cpu_model:-unknown CPU}, $(uname -sr)"
header='| backend | workers | jobs | seconds | jobs/s | jobs/s min–max | engine span s | server CPU s | machine CPU s | peak RSS MiB |'
rule='|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
table=$(
    echo "$header"
    echo "$rule"
    for r in "${results[@]}"; do echo "| ${r//|/ | } |"; done
)
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
    {
        echo
        echo "## jobs: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        echo "- machine: $machine"
        echo "- ccadmin: $rev, release build; PostgreSQL: ${pg_version:-not run} (same machine)"
        echo "- N = $accounts accounts × $features features = $jobs_total jobs; W = $workers_list; feature delay 0 ms; default lease (10 s); median of $repeat run(s) each"
        echo "- load average (1, 5, 15 min) before the run: $loadavg; after: $(cut -d' ' -f1-3 /proc/loadavg)"
        rev_flag=
        [[ $rev =~ ^[0-9a-f]{7,}$ ]] && rev_flag=" --rev $rev"
        echo "- command: \`bench/jobs.sh --accounts $accounts --workers $workers_list --backends $backends --repeat $repeat$rev_flag\`"
        echo
        echo "$table"
    } >>"$out"
    log "appended to $out"
fi
