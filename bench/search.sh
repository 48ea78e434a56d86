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

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
helper="$here/searchclient.py"
py=$(python3 -c 'import sys; print(sys.executable)')

rows=1000000
backends=sqlite,postgres
duration=10
connections=1,16,64
area=212
csv=
seed=1
build=1
repeat=1
search=1
one_import=0
rev_arg=
record=1
smoke=0

usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit "${1:-0}"; }

while (($#)); do
    case $1 in
        --rows) rows=$2; shift 2 ;;
        --backends) backends=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --area-code) area=$2; shift 2 ;;
        --csv) csv=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --repeat) repeat=$2; shift 2 ;;
        --no-search) search=0; shift ;;
        --one-import) one_import=1; shift ;;
        --rev) rev_arg=$2; shift 2 ;;
        --no-record) record=0; shift ;;
        --smoke) smoke=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "search.sh: unknown argument: $1" >&2; usage 2 ;;
    esac
done
if ((smoke)); then
    # Under a minute, SQLite only, nothing written to RESULTS.md: for CI.
    rows=2000 duration=2 backends=sqlite record=0 connections=16
fi
[[ $rows =~ ^[1-9][0-9]*$ ]] || { echo "search.sh: --rows must be a positive integer" >&2; exit 2; }
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "search.sh: --repeat must be a positive integer" >&2; exit 2; }
[[ $duration =~ ^[1-9][0-9]*$ ]] || { echo "search.sh: --duration must be whole seconds" >&2; exit 2; }
[[ $connections =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "search.sh: --connections must be like 16 or 16,64" >&2; exit 2; }
[[ $area =~ ^[0-9]{1,5}$ ]] || { echo "search.sh: --area-code must be 1 to 5 digits" >&2; exit 2; }
IFS=, read -ra conn_arr <<<"$connections"
IFS=, read -ra backend_arr <<<"$backends"
for b in "${backend_arr[@]}"; do
    [[ $b == sqlite || $b == postgres ]] || { echo "search.sh: unknown backend: $b" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "search.sh: needs wrk (apt-get install -y wrk)" >&2; exit 2; }
command -v taskset >/dev/null || { echo "search.sh: needs taskset (util-linux)" >&2; exit 2; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/bench-target}
pg_admin_url=${BENCH_DATABASE_URL:-postgres://root@127.0.0.1:5432/test}
cores=$(nproc)

log() { printf '[search.sh %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

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

# --- build ----------------------------------------------------------------------------
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
    # As in jobs.sh: cargo fingerprints the ccadmin crate alike whichever directory it is
    # built from, so a --rev build after a build of the work tree (or the reverse) can be
    # taken for fresh and leave the other's binary in place. Cleaning the crate
    # (dependencies are kept) makes the binary always this source's.
    (cd "$src" && cargo clean --release --quiet -p ccadmin && cargo build --release --quiet --bin ccadmin) ||
        die "the build failed"
else
    [[ -z $rev_arg ]] || die "--rev and --no-build exclude each other"
    rev="unknown (--no-build)"
fi
[[ -x $CARGO_TARGET_DIR/release/ccadmin ]] || die "no binary at $CARGO_TARGET_DIR/release/ccadmin"
work=$(mktemp -d "${TMPDIR:-/tmp}/ccadmin-search.XXXXXX")
cp "$CARGO_TARGET_DIR/release/ccadmin" "$work/ccadmin"
bin="$work/ccadmin"

# --- cleanup --------------------------------------------------------------------------
server_pid=
pg_dbs=()
psql_admin() { psql "$pg_admin_url" -qAt -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
    local rc=$?
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    for db in "${pg_dbs[@]}"; do
        psql_admin -c "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 ||
            log "could not drop database $db"
    done
    if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then
        log "kept $work (CSV, logs, SQLite files)"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A clean environment: no DATABASE_URL or CCADMIN_* of the caller leaks in.
run_env=(env -i PATH="$PATH" HOME="$HOME" RUST_LOG="${BENCH_RUST_LOG:-warn}")

# storage_args BACKEND NAME: the flags of database NAME (a directory or a database).
storage_args() {
    case $1 in
        sqlite) echo "--data-dir $work/$2" ;;
        postgres) echo "--database-url $("$py" "$helper" pgurl "$pg_admin_url" "$2")" ;;
    esac
}

# fresh_db BACKEND NAME: an empty, migrated database.
fresh_db() {
    if [[ $1 == postgres ]]; then
        pg_dbs+=("$2")
        psql_admin -c "create database \"$2\""
    fi
    # shellcheck disable=SC2046 # storage_args is split on purpose
    "${run_env[@]}" "$bin" migrate $(storage_args "$1" "$2") >"$work/$2.migrate.log" 2>&1 ||
        die "$1: migrate failed (log: $work/$2.migrate.log)"
}

drop_db() {
    case $1 in
        sqlite) rm -rf "${work:?}/$2" ;;
        postgres) psql_admin -c "drop database if exists \"$2\" with (force)" ;;
    esac
}

# --- the inventory --------------------------------------------------------------------
if [[ " ${backend_arr[*]} " == *" postgres "* ]]; then
    psql_admin -c 'select 1' >/dev/null ||
        die "PostgreSQL at $pg_admin_url does not answer (set BENCH_DATABASE_URL, or --backends sqlite)"
    pg_version=$(psql_admin -c 'show server_version')
fi
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

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
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
            stat0=$("$py" "$helper" cpustat)
            # shellcheck disable=SC2046,SC2086
            read -r wall user sys status <<<"$("$py" "$helper" timed "$work/$db.import.json" -- \
                "${cmd[@]}" "$bin" inventory import $flags $(storage_args "$backend" "$db") "$csv" \
                2>"$work/$db.import.err")"
            busy=$("$py" "$helper" busy "$stat0" "$("$py" "$helper" cpustat)")
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
start_server() {
    local backend=$1 db=$2 port
    port=$("$py" "$helper" port)
    base="http://127.0.0.1:$port"
    # shellcheck disable=SC2046
    "${run_env[@]}" "$bin" serve --demo --workers 0 --listen "127.0.0.1:$port" \
        $(storage_args "$backend" "$db") >"$work/$backend.serve.log" 2>&1 &
    server_pid=$!
    "$py" "$helper" ready "$base" 300 || die "$backend: the server did not become ready (log: $work/$backend.serve.log)"
}

stop_server() {
    kill -TERM "$server_pid"
    local rc=0
    wait "$server_pid" || rc=$?
    server_pid=
    ((rc == 0)) || log "the server exited with status $rc"
}

warmup=$(((duration + 4) / 5))
for entry in "${search_db[@]}"; do
    backend=${entry%%:*} db=${entry#*:}
    if [[ $backend == postgres ]]; then
        psql "$("$py" "$helper" pgurl "$pg_admin_url" "$db")" -qAt -v ON_ERROR_STOP=1 \
            -c 'vacuum analyze number_inventory' || die "postgres: vacuum analyze failed"
    fi
    log "$backend: serving the imported inventory (--demo --workers 0)"
    start_server "$backend" "$db"
    for s in "${scenarios[@]}"; do
        IFS='|' read -r name query what <<<"$s"
        for p in "${pages[@]}"; do
            q="$query$p"
            label=$name
            [[ -n $p ]] && label="$name p3"
            token=$("$py" "$helper" token "$base")
            read -r status total returned first_ms <<<"$("$py" "$helper" check "$base" "$token" "$q")"
            [[ $status == 200 ]] || die "$backend $label: GET ?$q answered $status"
            url="$base/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers?$q"
            hdr=(-H "Authorization: Bearer $token" -H "appkey: demo-appkey")
            c=${conn_arr[-1]}
            wrk -t"$((c < 2 ? c : 2))" -c"$c" -d"${warmup}s" --timeout 30s "${hdr[@]}" "$url" >/dev/null
            for c in "${conn_arr[@]}"; do
                out="$work/$backend-$name${p:+-p3}-c$c.wrk"
                cpu0=$("$py" "$helper" cpu "$server_pid")
                stat0=$("$py" "$helper" cpustat)
                wrk -t"$((c < 2 ? c : 2))" -c"$c" -d"${duration}s" --timeout 30s --latency "${hdr[@]}" "$url" >"$out"
                busy=$("$py" "$helper" busy "$stat0" "$("$py" "$helper" cpustat)")
                cpu1=$("$py" "$helper" cpu "$server_pid")
                read -r rps p50 p99 max requests non2xx errors <<<"$("$py" "$helper" wrk "$out")"
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
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
machine="$cores × ${cpu_model:-unknown CPU}, $(uname -sr)"
import_table=$(
    echo '| backend | variant | cores | rows | imported | skipped | seconds | rows/s | rows/s min–max | importer CPU user s | sys s | machine busy % |'
    echo '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
    for r in "${import_rows[@]}"; do echo "| ${r//|/ | } |"; done
)
search_table=$(
    echo '| backend | scenario | shape | query | total | conns | req/s | p50 ms | p99 ms | max ms | server CPU ms/req | machine busy % |'
    echo '|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|'
    for r in "${search_rows[@]}"; do echo "| ${r//|/ | } |"; done
)
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
    out="$here/RESULTS.md"
    [[ -f $out ]] || printf '# Benchmark results\n\nEach section below is one run of a benchmark, appended by its script; newest last.\n' >"$out"
    {
        echo
        echo "## search: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        echo "- machine: $machine"
        echo "- ccadmin: $rev, release build; PostgreSQL: ${pg_version:-not run} (same machine); wrk $(wrk -v 2>&1 | awk 'NR==1 {print $2}'), 2 threads, on the same machine"
        echo "- N = $rows numbers $mix, plus the demo seed's when serving"
        ((search)) && echo "- search: $duration s per run after a ${warmup} s warm-up, connections $connections; page 1 is the default size 5, \`p3\` is pageNumber=3&pageSize=10"
        echo "- load average (1, 5, 15 min) before the run: $loadavg; after: $(cut -d' ' -f1-3 /proc/loadavg)"
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
