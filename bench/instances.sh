#!/usr/bin/env bash
# Benchmark of several `ccadmin serve` instances sharing one PostgreSQL database: request
# and job throughput with 1, 2 and 3 instances under a mixed load. See bench/README.md.
#
#   bench/instances.sh [--instances N[,N...]] [--duration S] [--concurrency C]
#                      [--workers W] [--write-pct P] [--features K] [--client-procs P]
#                      [--repeat R] [--rev REV | --no-build] [--no-record] [--smoke]
#
# Per N (and per run with --repeat R): a fresh PostgreSQL database, `ccadmin migrate`,
# then N instances started together on it (each on its own port, --demo, --workers W,
# zero simulated delays), each waited for on /readyz. Tokens are obtained before the
# clock starts. bench/instclient.py then drives C concurrent clients for S seconds,
# spreading requests round-robin over the instances: reads (GET of account ABCDEF and
# of one of its phone numbers) and, P % of the time, writes that create jobs (account
# creates with K features: K jobs; phone-number adds from the demo inventory: 1 job).
# When the load stops, the script waits until no job is pending or running, then checks
# in the database that every job succeeded, that there are exactly as many as the
# accepted writes imply, each applied once (one worker transition per resource), and
# that every accepted account and number is there. Any answer other than 200 (reads)
# or 202 (writes), or any failed check, makes the script exit non-zero.
# The binary is built from the working tree, or with --rev from a committed revision
# (exported with git archive, so edits in progress cannot leak into it).
#
# Environment: CARGO_TARGET_DIR (default /tmp/bench-target), BENCH_DATABASE_URL (default
# postgres://root@127.0.0.1:5432/test; a server where this may create and drop
# databases), BENCH_KEEP=1 keeps the temporary directory (server logs, load summaries).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
client="$here/instclient.py"
# The interpreter itself, not a version manager's shim: each call costs less.
py=$(python3 -c 'import sys; print(sys.executable)')

instances_list=1,2,3
duration=20
concurrency=32
workers=2
write_pct=20
features=2
client_procs=2
repeat=1
build=1
record=1
smoke=0
rev_arg=
drain_timeout=${BENCH_DRAIN_TIMEOUT:-600}

usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit "${1:-0}"; }

while (($#)); do
    case $1 in
        --instances) instances_list=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --write-pct) write_pct=$2; shift 2 ;;
        --features) features=$2; shift 2 ;;
        --client-procs) client_procs=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --rev) rev_arg=$2; shift 2 ;;
        --no-record) record=0; shift ;;
        --smoke) smoke=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "instances.sh: unknown argument: $1" >&2; usage 2 ;;
    esac
done
if ((smoke)); then
    # Seconds long, 1 and 2 instances, nothing written to RESULTS.md: for CI.
    instances_list=1,2 duration=3 concurrency=8 repeat=1 record=0
fi
posint='^[1-9][0-9]*$'
[[ $instances_list =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "instances.sh: --instances must be like 2 or 1,2,3" >&2; exit 2; }
[[ $duration =~ $posint ]] || { echo "instances.sh: --duration must be whole seconds" >&2; exit 2; }
[[ $concurrency =~ $posint ]] || { echo "instances.sh: --concurrency must be a positive integer" >&2; exit 2; }
[[ $workers =~ $posint ]] || { echo "instances.sh: --workers must be a positive integer" >&2; exit 2; }
[[ $write_pct =~ ^[0-9]+$ ]] && ((write_pct <= 100)) || { echo "instances.sh: --write-pct must be 0 to 100" >&2; exit 2; }
[[ $features =~ $posint ]] && ((features <= 14)) || { echo "instances.sh: --features must be 1 to 14" >&2; exit 2; }
[[ $client_procs =~ $posint ]] || { echo "instances.sh: --client-procs must be a positive integer" >&2; exit 2; }
[[ $repeat =~ $posint ]] || { echo "instances.sh: --repeat must be a positive integer" >&2; exit 2; }
IFS=, read -ra instances_arr <<<"$instances_list"
command -v psql >/dev/null || { echo "instances.sh: needs psql (the PostgreSQL client)" >&2; exit 2; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/bench-target}
bin="$CARGO_TARGET_DIR/release/ccadmin"
pg_admin_url=${BENCH_DATABASE_URL:-postgres://root@127.0.0.1:5432/test}

log() { printf '[instances.sh %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ccadmin-instances.XXXXXX")
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
server_pids=()
child_pid=
pg_dbs=()
psql_admin() { psql "$pg_admin_url" -qAt -v ON_ERROR_STOP=1 "$@"; }
stop_servers() {
    local pid rc
    for pid in "${server_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${server_pids[@]}"; do
        for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        ((rc == 0)) || log "server $pid exited with status $rc"
    done
    server_pids=()
}
cleanup() {
    local rc=$?
    [[ -n $child_pid ]] && kill -TERM "$child_pid" 2>/dev/null
    stop_servers 2>/dev/null
    for db in "${pg_dbs[@]}"; do
        psql_admin -c "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 ||
            log "could not drop database $db"
    done
    if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then
        log "kept $work (server logs, load summaries)"
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

# cpu_snapshot FILE PID...: saves the CPU time of each process (for cpu_used).
cpu_snapshot() { local f=$1; shift; "$py" "$client" cpu "$@" >"$f"; }
# cpu_used BEFORE AFTER: CPU seconds used in between by the processes of AFTER.
cpu_used() { "$py" "$client" cpudiff "$1" "$2"; }
# pg_backends DB: the pids of PostgreSQL's backends connected to DB (the instances' pools).
pg_backends() { psql_admin -c "select pid from pg_stat_activity where datname = '$1'"; }

# busy_seconds: CPU time the whole machine has spent busy (all cores, all processes).
busy_seconds() {
    awk -v t="$(getconf CLK_TCK)" '/^cpu / {printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / t}' /proc/stat
}

# db_state URL: "jobs succeeded feature_jobs activation_jobs rerun_jobs worker_transitions
# twice_applied abcdef_numbers inprogress_numbers accounts unfinished_features".
db_state() {
    psql "$1" -qAt -F ' ' -v ON_ERROR_STOP=1 -c "
        select count(*), count(*) filter (where state = 'succeeded'),
            count(*) filter (where kind = 'account.feature'),
            count(*) filter (where kind = 'number.activation'),
            count(*) filter (where attempts > 1),
            (select count(*) from transition where cause = 'worker'),
            (select count(*) from (select 1 from transition where cause = 'worker'
                group by account_id, resource_kind, resource_id having count(*) > 1) d),
            (select count(*) from phone_number where account_id = 'ABCDEF'),
            (select count(*) from phone_number where status = 'INPROGRESS'),
            (select count(*) from account),
            (select count(*) from account_feature_status where status <> 'COMPLETED')
        from job"
}

# --- the benchmark --------------------------------------------------------------------
psql_admin -c 'select 1' >/dev/null || die "PostgreSQL at $pg_admin_url does not answer (set BENCH_DATABASE_URL)"
pg_version=$(psql_admin -c 'show server_version')
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
tag="cci$$_$RANDOM"
results=()
ran_out=()
for n in "${instances_arr[@]}"; do
    runs="$work/n$n.runs"
    : >"$runs"
    for ((rep = 1; rep <= repeat; rep++)); do
        db="${tag}_n${n}_r$rep"
        dburl=$("$py" "$client" pgurl "$pg_admin_url" "$db")
        pg_dbs+=("$db")
        psql_admin -c "create database \"$db\""
        env -i PATH="$PATH" HOME="$HOME" "$bin" migrate --database-url "$dburl" \
            >"$work/$db.migrate.log" 2>&1 || die "migrate failed (log: $work/$db.migrate.log)"
        log "N=$n: starting $n instance(s) on $db (run $rep of $repeat)"
        bases=()
        for ((i = 1; i <= n; i++)); do
            port=$("$py" "$client" port)
            bases+=("http://127.0.0.1:$port")
            # A clean environment: no DATABASE_URL or CCADMIN_* of the caller leaks in.
            env -i PATH="$PATH" HOME="$HOME" RUST_LOG="${BENCH_RUST_LOG:-info,sqlx=warn}" \
                "$bin" serve --demo --workers "$workers" --database-url "$dburl" \
                --feature-delay-ms 0 --element-delay-ms 0 --number-delay-ms 0 \
                --listen "127.0.0.1:$port" >"$work/$db.i$i.log" 2>&1 &
            server_pids+=("$!")
        done
        for ((i = 0; i < n; i++)); do
            "$py" "$client" ready "${bases[i]}" 120 "${server_pids[i]}" || {
                tail -20 "$work/$db.i$((i + 1)).log" >&2
                die "instance $((i + 1)) did not become ready (log: $work/$db.i$((i + 1)).log)"
            }
        done
        # Tokens (password hashes) and the number to read, before the clock starts; then
        # the numbers still available, each added at most once during the load.
        "$py" "$client" prepare "${bases[0]}" "$work/$db.prep.json"
        psql "$dburl" -qAt -v ON_ERROR_STOP=1 \
            -c 'select phone_number from number_inventory where held_by is null' >"$work/$db.numbers"
        # The readable number's activation may still be running: let it end first.
        "$py" "$client" drain "${bases[0]}" "$work/$db.prep.json" 60 >/dev/null
        read -r jobs0 _ feat0 act0 _ wt0 _ nums0 _ accts0 _ <<<"$(db_state "$dburl")"

        all_bases=$(IFS=,; echo "${bases[*]}")
        busy0=$(busy_seconds)
        cpu_snapshot "$work/$db.cpu0" "${server_pids[@]}"
        # shellcheck disable=SC2046 # one pid a word
        cpu_snapshot "$work/$db.pg0" $(pg_backends "$db")
        interruptible "$py" "$client" load "$work/$db.prep.json" "$work/$db.numbers" "$all_bases" \
            "$duration" "$concurrency" "$client_procs" "$write_pct" "$features" "$tag" >"$work/$db.load.json"
        interruptible "$py" "$client" drain "${bases[0]}" "$work/$db.prep.json" "$drain_timeout" >"$work/$db.done"
        busy1=$(busy_seconds)
        cpu_snapshot "$work/$db.cpu1" "${server_pids[@]}"
        # shellcheck disable=SC2046
        cpu_snapshot "$work/$db.pg1" $(pg_backends "$db")
        t_done=$(<"$work/$db.done")
        stop_servers

        read -r jobs succeeded feat act rerun wt twice nums inprogress accts unfinished <<<"$(db_state "$dburl")"
        read -r start elapsed reads accounts numbers errors expected numbers_left <<<"$("$py" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["start"], "%.2f" % d["elapsed"], d["reads"], d["accounts"], d["numbers"], d["errors"],
      d["expected_jobs"], d["numbers_left"])
for s in d["error_samples"]:
    print("  " + s, file=sys.stderr)
print("per instance: " + ", ".join(map(str, d["per_instance"])), file=sys.stderr)' "$work/$db.load.json")"
        [[ $expected =~ ^[0-9]+$ ]] || die "N=$n: unreadable load summary $work/$db.load.json"
        log "N=$n: $reads reads, $accounts account creates, $numbers number adds, $errors errors in ${elapsed}s; $((jobs - jobs0)) jobs"
        ((errors == 0)) || die "N=$n: $errors requests failed (samples above; logs in $work)"
        ((jobs - jobs0 == expected)) ||
            die "N=$n: $((jobs - jobs0)) jobs were created, the accepted writes imply $expected"
        ((feat - feat0 == accounts * features && act - act0 == numbers)) ||
            die "N=$n: $((feat - feat0)) feature jobs (expected $((accounts * features))) and $((act - act0)) activations (expected $numbers)"
        ((succeeded == jobs)) || die "N=$n: only $succeeded of $jobs jobs succeeded"
        ((rerun == 0)) || die "N=$n: $rerun jobs ran more than once (attempts > 1)"
        ((wt - wt0 == expected && twice == 0)) ||
            die "N=$n: $((wt - wt0)) worker transitions for $expected jobs, $twice resources finished more than once"
        ((nums - nums0 == numbers && inprogress == 0)) ||
            die "N=$n: ABCDEF gained $((nums - nums0)) numbers for $numbers accepted adds; $inprogress still INPROGRESS"
        ((accts - accts0 == accounts && unfinished == 0)) ||
            die "N=$n: $((accts - accts0)) accounts for $accounts accepted creates; $unfinished features not COMPLETED"
        if ((numbers_left == 0 && write_pct > 0)); then
            ran_out+=("$n")
            log "N=$n: warning: the inventory ran out; later writes were all account creates"
        fi

        jobs_new=$((jobs - jobs0))
        read -r drain_s jobs_rate <<<"$("$py" -c '
import sys
start, elapsed, done, jobs = map(float, sys.argv[1:])
print(f"{max(done - start - elapsed, 0):.3f} {jobs / (done - start):.1f}")' "$start" "$elapsed" "$t_done" "$jobs_new")"
        server_cpu=$(cpu_used "$work/$db.cpu0" "$work/$db.cpu1")
        pg_cpu=$(cpu_used "$work/$db.pg0" "$work/$db.pg1")
        machine_cpu=$("$py" -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$busy0" "$busy1")
        log "N=$n: drained ${drain_s}s after the load; $jobs_rate jobs/s over load and drain; all $jobs jobs succeeded"
        "$py" "$client" merge "$work/$db.load.json" instances="$n" workers="$workers" \
            jobs="$jobs_new" drain_s="$drain_s" jobs_per_s="$jobs_rate" \
            server_cpu_s="$server_cpu" pg_cpu_s="$pg_cpu" machine_cpu_s="$machine_cpu" >>"$runs"
        psql_admin -c "drop database if exists \"$db\" with (force)"
    done
    results+=("$("$py" "$client" summarize <"$runs")")
done

# --- report ---------------------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
machine="$(nproc) × ${cpu_model:-unknown CPU}, $(uname -sr)"
header='| instances | workers each | load s | reads/s | writes/s | requests/s | requests/s min–max | read p50 ms | read p99 ms | write p50 ms | write p99 ms | errors | jobs | drain s | jobs/s | server CPU s | PostgreSQL CPU s | client CPU s | machine CPU s |'
rule='|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
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
    [[ -f $out ]] || printf '# Benchmark results\n\nEach section below is one run of a benchmark, appended by its script; newest last.\n' >"$out"
    {
        echo
        echo "## instances: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        echo "- machine: $machine"
        echo "- ccadmin: $rev, release build; PostgreSQL: $pg_version (same machine); load client bench/instclient.py on the same machine ($client_procs processes)"
        echo "- N = $instances_list instance(s) on one database, --workers $workers each, zero simulated delays; $concurrency clients for $duration s, requests round-robin over the instances; $write_pct % writes (half account creates with $features features, half phone-number adds), the rest reads; median of $repeat run(s) by requests/s"
        ((${#ran_out[@]} == 0)) ||
            echo "- the demo inventory ran out at N = $(IFS=,; echo "${ran_out[*]}"): the later writes of those runs were all account creates"
        echo "- load average (1, 5, 15 min) before the run: $loadavg; after: $(cut -d' ' -f1-3 /proc/loadavg)"
        rev_flag=
        [[ $rev =~ ^[0-9a-f]{7,}$ ]] && rev_flag=" --rev $rev"
        echo "- command: \`bench/instances.sh --instances $instances_list --duration $duration --concurrency $concurrency --workers $workers --write-pct $write_pct --features $features --client-procs $client_procs --repeat $repeat$rev_flag\`"
        echo
        echo "$table"
    } >>"$out"
    log "appended to $out"
fi
