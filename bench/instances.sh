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
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
client="$here/instclient.py"

instances_list=1,2,3
duration=20
concurrency=32
workers=2
write_pct=20
features=2
client_procs=2
repeat=1
drain_timeout=${BENCH_DRAIN_TIMEOUT:-600}

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
        *) common_flag "$@"; shift "$flag_shift" ;;
    esac
done
if ((smoke)); then
    # Seconds long, 1 and 2 instances, nothing written to RESULTS.md: for CI.
    instances_list=1,2 duration=3 concurrency=8 repeat=1 record=0
fi
[[ $instances_list =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || bad_usage "--instances must be like 2 or 1,2,3"
need_posint --duration "$duration" "whole seconds"
need_posint --concurrency "$concurrency"
need_posint --workers "$workers"
if ! [[ $write_pct =~ ^[0-9]+$ ]] || ((write_pct > 100)); then bad_usage "--write-pct must be 0 to 100"; fi
need_posint --features "$features" "1 to 14"
((features <= 14)) || bad_usage "--features must be 1 to 14"
need_posint --client-procs "$client_procs"
need_posint --repeat "$repeat"
IFS=, read -ra instances_arr <<<"$instances_list"
need_cmd psql "the PostgreSQL client"

make_work instances "server logs, load summaries"
build_binary

# --- servers --------------------------------------------------------------------------
# The instances' pids, stopped at exit too.
server_pids=()
stop_servers() {
    local pid rc
    for pid in "${server_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${server_pids[@]}"; do
        rc=0
        reap "$pid" || rc=$?
        ((rc == 0)) || log "server $pid exited with status $rc"
    done
    server_pids=()
}
cleanup_hook() { stop_servers 2>/dev/null; }

# cpu_snapshot FILE PID...: saves the CPU time of each process (for cpu_used).
cpu_snapshot() { local f=$1; shift; "$py" "$client" cpu "$@" >"$f"; }
# cpu_used BEFORE AFTER: CPU seconds used in between by the processes of AFTER.
cpu_used() { "$py" "$client" cpudiff "$1" "$2"; }
# pg_backends DB: the pids of PostgreSQL's backends connected to DB (the instances' pools).
pg_backends() { psql_admin -c "select pid from pg_stat_activity where datname = '$1'"; }

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
pg_require
loadavg=$(load_average)
tag="cci$$_$RANDOM"
results=()
ran_out=()
for n in "${instances_arr[@]}"; do
    runs="$work/n$n.runs"
    : >"$runs"
    for ((rep = 1; rep <= repeat; rep++)); do
        db="${tag}_n${n}_r$rep"
        dburl=$(pg_url "$db")
        fresh_db postgres "$db"
        log "N=$n: starting $n instance(s) on $db (run $rep of $repeat)"
        bases=()
        for ((i = 1; i <= n; i++)); do
            port=$(free_port)
            bases+=("http://127.0.0.1:$port")
            "${run_env[@]}" "$bin" serve --demo --workers "$workers" --database-url "$dburl" \
                --feature-delay-ms 0 --element-delay-ms 0 --number-delay-ms 0 \
                --listen "127.0.0.1:$port" >"$work/$db.i$i.log" 2>&1 &
            server_pids+=("$!")
        done
        for ((i = 0; i < n; i++)); do
            wait_ready "${bases[i]}" "${server_pids[i]}" 120 "$work/$db.i$((i + 1)).log" \
                "instance $((i + 1)) did not become ready"
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
        drop_db postgres "$db"
    done
    results+=("$("$py" "$client" summarize <"$runs")")
done

# --- report ---------------------------------------------------------------------------
header='| instances | workers each | load s | reads/s | writes/s | requests/s | requests/s min–max | read p50 ms | read p99 ms | write p50 ms | write p99 ms | errors | jobs | drain s | jobs/s | server CPU s | PostgreSQL CPU s | client CPU s | machine CPU s |'
rule='|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
table=$(md_table "$header" "$rule" "${results[@]}")
echo
echo "$table"
echo

if ((record)); then
    out=$(results_file)
    {
        results_head instances
        echo "- ccadmin: $rev, release build; PostgreSQL: $pg_version (same machine); load client bench/instclient.py on the same machine ($client_procs processes)"
        echo "- N = $instances_list instance(s) on one database, --workers $workers each, zero simulated delays; $concurrency clients for $duration s, requests round-robin over the instances; $write_pct % writes (half account creates with $features features, half phone-number adds), the rest reads; median of $repeat run(s) by requests/s"
        ((${#ran_out[@]} == 0)) ||
            echo "- the demo inventory ran out at N = $(IFS=,; echo "${ran_out[*]}"): the later writes of those runs were all account creates"
        results_load
        echo "- command: \`bench/instances.sh --instances $instances_list --duration $duration --concurrency $concurrency --workers $workers --write-pct $write_pct --features $features --client-procs $client_procs --repeat $repeat$(rev_flag)\`"
        echo
        echo "$table"
    } >>"$out"
    log "appended to $out"
fi
