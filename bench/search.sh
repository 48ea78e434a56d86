#!/usr/bin/env bash
# Benchmark of the number inventory at scale: import rate and available-number search
# latency, on SQLite and on PostgreSQL. See bench/README.md.
#
#   bench/search.sh [--rows N] [--backends sqlite,postgres] [--repeat R] [--duration S]
#                   [--connections C[,C...]] [--area-code A] [--csv FILE] [--seed S]
#                   [--no-search] [--one-import] [--rev REV | --no-build] [--no-record]
#                   [--smoke]
#
# 1. bench/gen_inventory.py writes N numbers (default 1,000,000) in the import format.
# 2. Per backend, `ccadmin inventory import` of that file into a fresh, migrated database,
#    four times: with and without --no-plan-check, each on every core and pinned to one
#    (taskset -c 0). Wall time, rows/s and the importer's CPU time are reported. With
#    --repeat R the four run R times, interleaved, and the median run of each is
#    reported with the spread (the machine may be shared: see "machine busy %").
#    --one-import runs only the plan-checked import on every core (to measure search).
# 3. On the database of the plan-checked import on every core, `ccadmin serve --demo
#    --workers 0` (the demo seed adds its ~5,700 numbers), and wrk drives the
#    available-number search with each query shape, page 1 (default size 5) and page 3
#    of size 10, at each connection count (default 1,16,64) for S seconds (default 10)
#    after a short warm-up: req/s, p50, p99, max, and the server's CPU time per request.
#    PostgreSQL's tables are VACUUM ANALYZEd first (the import already does; this keeps
#    older revisions comparable); SQLite's are left as ccadmin leaves them (no ANALYZE).
# The binary is built from the working tree (release profile), or with --rev from a
# committed revision exported with git archive (so edits in progress cannot leak in),
# and copied, so a build by another benchmark meanwhile cannot swap it under this run.
#
# Environment: CARGO_TARGET_DIR (default /tmp/bench-target), BENCH_DATABASE_URL (default
# postgres://root@127.0.0.1:5432/test; a server where this may create and drop
# databases), BENCH_KEEP=1 keeps the temporary directory (CSV, logs, SQLite files).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
helper="$here/searchclient.py"
# The servers' and importer's log level: warnings only, unless BENCH_RUST_LOG says.
run_env=(env -i PATH="$PATH" HOME="$HOME" RUST_LOG="${BENCH_RUST_LOG:-warn}")
run_env+=("${server_env[@]}")

rows=1000000
backends=sqlite,postgres
duration=10
connections=1,16,64
area=212
csv=
seed=1
repeat=1
search=1
one_import=0

while (($#)); do
    case $1 in
        --rows) rows=$2; shift 2 ;;
        --backends) backends=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --area-code) area=$2; shift 2 ;;
        --csv) csv=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        --no-search) search=0; shift ;;
        --one-import) one_import=1; shift ;;
        *) common_flag "$@"; shift "$flag_shift" ;;
    esac
done
if ((smoke)); then
    # Under a minute, SQLite only, nothing written to RESULTS.md: for CI.
    rows=2000 duration=2 backends=sqlite record=0 connections=16
fi
need_posint --rows "$rows"
need_posint --repeat "$repeat"
need_posint --duration "$duration" "whole seconds"
[[ $connections =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || bad_usage "--connections must be like 16 or 16,64"
[[ $area =~ ^[0-9]{1,5}$ ]] || bad_usage "--area-code must be 1 to 5 digits"
IFS=, read -ra conn_arr <<<"$connections"
parse_backends "$backends"
need_cmd wrk "apt-get install -y wrk"
need_cmd taskset util-linux

cores=$(nproc)

# The query shapes: name|query|what it is. Fragments: a 3-digit one matches ~1-2 % of
# the numbers, a 5-digit one a few dozen, 1 and 2 digits most of them.
scenarios=(
    "a|countryCode=US&type=LOCAL|country and type"
    "b|countryCode=US&type=LOCAL&areaCode=$area|+ areaCode"
    "c|countryCode=US&type=LOCAL&phoneNumber=467|3-digit fragment"
    "d|countryCode=US&type=LOCAL&phoneNumber=84213|5-digit fragment"
    "e1|countryCode=US&type=LOCAL&phoneNumber=7|1-digit fragment"
    "e2|countryCode=US&type=LOCAL&phoneNumber=42|2-digit fragment"
)
pages=("" "&pageNumber=3&pageSize=10")

make_work search "CSV, logs, SQLite files"
build_binary

# --- the inventory --------------------------------------------------------------------
if uses_postgres; then pg_require; fi
if [[ -z $csv ]]; then
    csv="$work/inventory.csv"
    log "generating $rows numbers (seed $seed)"
    "$py" "$here/gen_inventory.py" -n "$rows" --seed "$seed" -o "$csv" 2>"$work/gen.log" ||
        die "the generator failed: $(cat "$work/gen.log")"
    mix=$(sed 's/^gen_inventory: [0-9]* numbers //' "$work/gen.log")
else
    [[ -f $csv ]] || die "no such file: $csv"
    rows=$(($(wc -l <"$csv") - 1))
    mix="(from $csv)"
fi
log "inventory: $mix"

loadavg=$(load_average)
import_rows=()
search_rows=()
search_db=()
tag="ccs$$_$RANDOM"

# --- import ---------------------------------------------------------------------------
# variant: label|import flags|taskset cores ("" = every core)
variants=(
    "plan check|--|"
    "plan check|--|0"
    "no plan check|--no-plan-check|"
    "no plan check|--no-plan-check|0"
)
((one_import)) && variants=("plan check|--|")
# Summarizes the runs of one variant, one "wall user sys busy" a line: the median run
# (by wall time) and the spread of rows/s.
summarize='
import sys
rows = int(sys.argv[1])
runs = sorted([float(x) for x in line.split()] for line in sys.stdin if line.strip())
wall, user, sys_s, busy = runs[len(runs) // 2]
rates = [rows / r[0] for r in runs]
spread = f"{min(rates):.0f}–{max(rates):.0f}" if len(runs) > 1 else "–"
print(f"{wall:.1f}|{rows / wall:.0f}|{spread}|{user:.1f}|{sys_s:.1f}|{busy:.0f}")
'
for backend in "${backend_arr[@]}"; do
    declare -A runs=() counts=()
    for ((r = 1; r <= repeat; r++)); do
        i=0
        for v in "${variants[@]}"; do
            IFS='|' read -r label flags pin <<<"$v"
            i=$((i + 1))
            db="${tag}_${backend}_import${i}_$r"
            fresh_db "$backend" "$db"
            cmd=("${run_env[@]}")
            cores_label="all $cores"
            if [[ -n $pin ]]; then
                cmd=(taskset -c "$pin" "${cmd[@]}")
                cores_label="1 (taskset -c $pin)"
            fi
            [[ $flags == -- ]] && flags=
            log "$backend: import, $label, cores: $cores_label (run $r of $repeat)"
            stat0=$(cpustat)
            # shellcheck disable=SC2046,SC2086
            read -r wall user sys status <<<"$("$py" "$helper" timed "$work/$db.import.json" -- \
                "${cmd[@]}" "$bin" inventory import $flags $(storage_args "$backend" "$db") "$csv" \
                2>"$work/$db.import.err")"
            busy=$(busy_pct "$stat0" "$(cpustat)")
            ((status == 0)) || die "$backend: import failed: $(tail -5 "$work/$db.import.err")"
            read -r imported skipped <<<"$("$py" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["imported"], r["skipped"])' "$work/$db.import.json")"
            ((imported + skipped == rows)) || die "$backend: imported $imported + skipped $skipped != $rows rows"
            ((imported > rows / 2)) || die "$backend: only $imported of $rows rows imported"
            runs[$i]+="$wall $user $sys $busy"$'\n'
            counts[$i]="$imported|$skipped"
            rate=$("$py" -c 'import sys; print(f"{int(sys.argv[1]) / float(sys.argv[2]):.0f}")' "$rows" "$wall")
            log "$backend: $rows rows in ${wall}s ($rate rows/s; CPU user ${user}s sys ${sys}s; machine busy ${busy}%); $imported imported, $skipped skipped"
            # Only the first plan-checked, every-core database is served below.
            if ((i == 1 && r == 1 && search)); then
                search_db+=("$backend:$db")
            else
                drop_db "$backend" "$db"
            fi
        done
    done
    i=0
    for v in "${variants[@]}"; do
        IFS='|' read -r label flags pin <<<"$v"
        i=$((i + 1))
        cores_label="all $cores"
        [[ -n $pin ]] && cores_label="1 (taskset -c $pin)"
        import_rows+=("$backend|$label|$cores_label|$rows|${counts[$i]}|$(printf '%s' "${runs[$i]}" | "$py" -c "$summarize" "$rows")")
    done
    unset runs counts
done

# --- search ---------------------------------------------------------------------------
warmup=$(((duration + 4) / 5))
for entry in "${search_db[@]}"; do
    backend=${entry%%:*} db=${entry#*:}
    if [[ $backend == postgres ]]; then
        psql "$(pg_url "$db")" -qAt -v ON_ERROR_STOP=1 \
            -c 'vacuum analyze number_inventory' || die "postgres: vacuum analyze failed"
    fi
    log "$backend: serving the imported inventory (--demo --workers 0)"
    # shellcheck disable=SC2046 # storage_args is split on purpose
    start_server "$work/$backend.serve.log" "$backend" --demo --workers 0 $(storage_args "$backend" "$db")
    for s in "${scenarios[@]}"; do
        IFS='|' read -r name query what <<<"$s"
        for p in "${pages[@]}"; do
            q="$query$p"
            label=$name
            [[ -n $p ]] && label="$name p3"
            token=$("$py" "$helper" token "$base")
            read -r status total _ _ <<<"$("$py" "$helper" check "$base" "$token" "$q")"
            [[ $status == 200 ]] || die "$backend $label: GET ?$q answered $status"
            url="$base/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers?$q"
            hdr=(-H "Authorization: Bearer $token" -H "appkey: demo-appkey")
            c=${conn_arr[-1]}
            wrk -t"$((c < 2 ? c : 2))" -c"$c" -d"${warmup}s" --timeout 30s "${hdr[@]}" "$url" >/dev/null
            for c in "${conn_arr[@]}"; do
                out="$work/$backend-$name${p:+-p3}-c$c.wrk"
                cpu0=$(cpu_seconds "$server_pid")
                stat0=$(cpustat)
                wrk -t"$((c < 2 ? c : 2))" -c"$c" -d"${duration}s" --timeout 30s --latency "${hdr[@]}" "$url" >"$out"
                busy=$(busy_pct "$stat0" "$(cpustat)")
                cpu1=$(cpu_seconds "$server_pid")
                read -r rps p50 p99 max requests non2xx errors <<<"$(wrk_stats "$out")"
                ((non2xx == 0 && errors == 0)) ||
                    die "$backend $label c=$c: $non2xx non-2xx answers and $errors socket errors (see $out)"
                cpu_ms=$("$py" -c 'import sys; a, b, n = map(float, sys.argv[1:]); print(f"{(b - a) * 1000 / n:.2f}")' "$cpu0" "$cpu1" "$requests")
                search_rows+=("$backend|$label|$what|\`?$q\`|$total|$c|$rps|$p50|$p99|$max|$cpu_ms|$busy")
                log "$backend $label c=$c: $rps req/s, p50 ${p50} ms, p99 ${p99} ms (total $total)"
            done
        done
    done
    stop_server
done

# --- report ---------------------------------------------------------------------------
import_table=$(md_table \
    '| backend | variant | cores | rows | imported | skipped | seconds | rows/s | rows/s min–max | importer CPU user s | sys s | machine busy % |' \
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|' "${import_rows[@]}")
search_table=$(md_table \
    '| backend | scenario | shape | query | total | conns | req/s | p50 ms | p99 ms | max ms | server CPU ms/req | machine busy % |' \
    '|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|' "${search_rows[@]}")
echo
echo "$import_table"
# The target: p99 under 5 ms for scenarios a-d. One line per backend: how many of its
# a-d runs meet it, and the p99 of each at the lowest connection count.
target=$(printf '%s\n' "${search_rows[@]}" | "$py" -c '
import sys
rows = [l.rstrip("\n").split("|") for l in sys.stdin if l.strip()]
for backend in dict.fromkeys(r[0] for r in rows):
    ad = [r for r in rows if r[0] == backend and r[1].split()[0] in "abcd" and len(r[1].split()[0]) == 1]
    if not ad:
        continue
    met = sum(float(r[8]) < 5 for r in ad)
    low = min(int(r[5]) for r in ad)
    at_low = ", ".join(f"{r[1]} {float(r[8]):g}" for r in ad if int(r[5]) == low)
    print(f"{backend}: met in {met} of {len(ad)} runs of a-d; p99 ms at {low} connection(s): {at_low}")
')
if ((search)); then
    echo
    echo "$search_table"
    echo
    while read -r line; do log "p99 < 5 ms target: $line"; done <<<"$target"
fi

if ((record)); then
    out=$(results_file)
    {
        results_head search
        echo "- ccadmin: $rev, release build; PostgreSQL: ${pg_version:-not run} (same machine); wrk $(wrk_version), 2 threads, on the same machine"
        echo "- N = $rows numbers $mix, plus the demo seed's when serving"
        ((search)) && echo "- search: $duration s per run after a ${warmup} s warm-up, connections $connections; page 1 is the default size 5, \`p3\` is pageNumber=3&pageSize=10"
        results_load
        echo "- command: \`bench/search.sh --rows $rows --backends $backends --repeat $repeat --duration $duration --connections $connections${rev_arg:+ --rev $rev_arg}$( ((search)) || echo ' --no-search')\`"
        if ((!search)); then
            :
        else
            while read -r line; do echo "- p99 < 5 ms target, $line"; done <<<"$target"
        fi
        echo
        echo "Import (\`ccadmin inventory import\`, a fresh migrated database each run; median of $repeat run(s), CPU and busy of that run; importer CPU excludes the PostgreSQL server's):"
        echo
        echo "$import_table"
        if ((search)); then
            echo
            echo "Search (\`GET /api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers\`; total = the answer's \`pagination.total\`):"
            echo
            echo "$search_table"
        fi
    } >>"$out"
    log "appended to $out"
fi
