#!/usr/bin/env bash
# Benchmark of the phone-number list pages on one large account (issue #16, "Lists"), on
# SQLite and on PostgreSQL. See bench/README.md.
#
#   bench/lists.sh [--backends sqlite,postgres] [--numbers N] [--samples S] [--seed S]
#                  [--rev REV | --no-build] [--record] [--smoke]
#
# Per backend:
# 1. Seed. A fresh, migrated database; `ccadmin serve --demo --workers 0`; the demo
#    account ABCDEF gets N more numbers (default 100,000) through the server's own
#    state snapshot: bench/listclient.py exports it (GET /_ccadmin/state?inventory=false),
#    adds N phone_number rows (and their inventory entries) and loads it back (PUT), then
#    checks the list's total. PostgreSQL's tables are VACUUM ANALYZEd after it, as
#    autovacuum would in time; SQLite's log is checkpointed, as ccadmin's own task
#    would within a second or two (SQLite's tables are left as ccadmin leaves them).
# 2. Measure. At one connection (keep-alive, Python's http.client), S timed GETs (default
#    200, after 5 untimed) of pages 1, 10, 50, 100 and the last one (pageSize 50) of
#    each scenario: unfiltered, each equality filter (status, countryCode, type and the
#    three together), each orderBy field in both directions, filters with an order, and
#    contains-filters (`*x*`). Each answer's total and page length are checked. p50, p99
#    (nearest rank) and max, and GET /healthz the same way for reference.
# 3. Report. A table per backend with pass/MISS per target (p99 < 5 ms for pages 1-100
#    and < 25 ms for the last page, any order, unfiltered or equality filters; < 25 ms
#    for every page with a contains-filter); with --record (or from bench/suite.sh) a
#    section appended to RESULTS.md. Exit status 0 even when a target is missed (the
#    count is logged); non-zero when a request fails or an answer is wrong.
#
# Environment: CARGO_TARGET_DIR (default /tmp/bench-target), BENCH_DATABASE_URL (default
# postgres://root@127.0.0.1:5432/test; a server where this may create and drop
# databases), BENCH_KEEP=1 keeps the temporary directory (logs, SQLite files).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
client="$here/listclient.py"
run_env=(env -i PATH="$PATH" HOME="$HOME" RUST_LOG="${BENCH_RUST_LOG:-warn}")
run_env+=("${server_env[@]}")

backends=sqlite,postgres
numbers=100000
samples=200
seed=1
# Unlike the other scripts, a section is appended only when asked (--record).
record=0

while (($#)); do
    case $1 in
        --backends) backends=$2; shift 2 ;;
        --numbers) numbers=$2; shift 2 ;;
        --samples) samples=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --record) record=1; shift ;;
        *) common_flag "$@"; shift "$flag_shift" ;;
    esac
done
if ((smoke)); then
    # Seconds, SQLite only, nothing written to RESULTS.md: for CI.
    numbers=3000 samples=5 backends=sqlite record=0
fi
need_posint --numbers "$numbers"
need_posint --samples "$samples"
need_posint --seed "$seed"
parse_backends "$backends"

make_work lists "logs, SQLite files"
build_binary
if uses_postgres; then pg_require; fi

loadavg=$(load_average)
tag="ccl$$_$RANDOM"
rows=()
seeded=()
for backend in "${backend_arr[@]}"; do
    db="${tag}_$backend"
    fresh_db "$backend" "$db"
    # shellcheck disable=SC2046 # storage_args is split on purpose
    start_server "$work/$backend.serve.log" "$backend" --demo --workers 0 $(storage_args "$backend" "$db")
    log "$backend: seeding ABCDEF with $numbers numbers through the state import"
    read -r total secs <<<"$("$py" "$client" seed "$base" "$numbers" "$seed")"
    log "$backend: ABCDEF lists $total numbers (seeded in ${secs}s)"
    seeded+=("$backend: $total numbers in ABCDEF, seeded in ${secs} s")
    if [[ $backend == postgres ]]; then
        psql "$(pg_url "$db")" -qAt -v ON_ERROR_STOP=1 -c 'vacuum analyze' ||
            die "postgres: vacuum analyze failed"
    else
        # The import's log copied into the database, as the server's checkpoint task
        # does within a second or two: measured while it ran, the first pages' p99 was
        # two to three times the rest's.
        "$py" -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("pragma wal_checkpoint(passive)").fetchone()' \
            "$work/$db/ccadmin.db" || die "sqlite: checkpoint failed"
    fi
    log "$backend: measuring ($samples samples a page, 1 connection)"
    while IFS= read -r line; do
        rows+=("$backend|$line")
        IFS='|' read -r name _ _ page _ p99 _ _ verdict <<<"$line"
        log "$backend $name page $page: p99 ${p99} ms $verdict"
    done < <("$py" "$client" measure "$base" "$samples")
    stop_server
    drop_db "$backend" "$db"
done

table=$(md_table \
    '| backend | scenario | query | total | page | p50 ms | p99 ms | max ms | p99 target ms | verdict |' \
    '|---|---|---|---:|---|---:|---:|---:|---|---|' "${rows[@]}")
echo
echo "$table"
echo
misses=$(grep -c '| MISS |' <<<"$table" || true)
checked=$(grep -cE '\| (pass|MISS) \|' <<<"$table" || true)
log "targets missed: $misses of $checked"

if ((record)); then
    out=$(results_file)
    {
        results_head lists
        echo "- ccadmin: $rev, release build; PostgreSQL: ${pg_version:-not run} (same machine); the client (bench/listclient.py, Python http.client, one keep-alive connection) on the same machine"
        echo "- data: $numbers numbers added to ABCDEF through the state import (bench/listclient.py seed, seed $seed), plus the demo seed's; $(IFS=';'; echo "${seeded[*]}")"
        echo "- $samples timed requests a page after 5 untimed, pageSize 50; the server is \`serve --demo --workers 0\`"
        results_load
        echo "- command: \`bench/lists.sh --backends $backends --numbers $numbers --samples $samples --seed $seed$(rev_flag) --record\`"
        echo "- targets missed: $misses of $checked"
        echo
        echo "$table"
    } >>"$out"
    log "appended to $out"
fi
