# Shell code shared by the benchmark scripts (bench/jobs.sh, search.sh, instances.sh,
# suite.sh). Each sources it right after `set -euo pipefail`:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sourcing only sets variables and defines functions; the script calls them. It sets:
#   here, root          bench/ and the checkout it is in
#   py                  the python3 interpreter itself (not a version manager's shim:
#                       each call costs less)
#   bench_name          the script's file name, for messages (jobs.sh, ...)
#   build, record, smoke, rev_arg
#                       the common flags' values (see common_flag)
#   CARGO_TARGET_DIR    exported, default /tmp/bench-target
#   pg_admin_url        $BENCH_DATABASE_URL, default postgres://root@127.0.0.1:5432/test
#   run_env             the clean environment the server runs in (see there)
#   work, server_pid, child_pid, pg_dbs
#                       what the cleanup at exit ends, drops or removes (see make_work)
# See "Common to every script" in bench/README.md.

# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # variables set for, or by, the scripts sourcing it
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
bench_script=${BASH_SOURCE[1]}
bench_name=${bench_script##*/}
benchlib_py="$here/benchlib.py"
py=$(python3 -c 'import sys; print(sys.executable)')

build=1
record=1
smoke=0
rev_arg=

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/bench-target}
pg_admin_url=${BENCH_DATABASE_URL:-postgres://root@127.0.0.1:5432/test}
# A clean environment: no DATABASE_URL or CCADMIN_* of the caller leaks in.
run_env=(env -i PATH="$PATH" HOME="$HOME" RUST_LOG="${BENCH_RUST_LOG:-info,sqlx=warn}")
# Variables asked for by name (BENCH_SERVER_ENV="NAME=VALUE ..."): the only way a setting
# of the caller's reaches the servers, so that an experiment's does not go unnoticed.
read -ra server_env <<<"${BENCH_SERVER_ENV:-}"
run_env+=("${server_env[@]}")

work=
server_pid=
child_pid=
pg_dbs=()

log() { printf '[%s %(%H:%M:%S)T] %s\n' "$bench_name" -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- arguments ------------------------------------------------------------------------
# usage [STATUS]: prints the script's header comment (its usage) and exits.
usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$bench_script"; exit "${1:-0}"; }

# bad_usage MESSAGE: a wrong flag value; exits with status 2.
bad_usage() { echo "$bench_name: $*" >&2; exit 2; }

# common_flag ARGS...: the flags every script takes, for the last branch of its argument
# loop: --rev REV, --no-build, --no-record, --smoke and -h/--help; anything else is an
# unknown argument. Sets flag_shift, how many arguments the flag took.
common_flag() {
    case $1 in
        --rev) rev_arg=$2; flag_shift=2 ;;
        --no-build) build=0; flag_shift=1 ;;
        --no-record) record=0; flag_shift=1 ;;
        --smoke) smoke=1; flag_shift=1 ;;
        -h|--help) usage 0 ;;
        *) echo "$bench_name: unknown argument: $1" >&2; usage 2 ;;
    esac
}

# need_posint FLAG VALUE [WHAT]: exits unless VALUE is a positive integer ("FLAG must be
# WHAT", default "a positive integer").
need_posint() { [[ $2 =~ ^[1-9][0-9]*$ ]] || bad_usage "$1 must be ${3:-a positive integer}"; }

# parse_backends LIST: sets backend_arr from a comma-separated list of sqlite, postgres.
parse_backends() {
    local b
    IFS=, read -ra backend_arr <<<"$1"
    for b in "${backend_arr[@]}"; do
        [[ $b == sqlite || $b == postgres ]] || bad_usage "unknown backend: $b"
    done
}

# uses_postgres: whether backend_arr holds postgres.
uses_postgres() { [[ " ${backend_arr[*]} " == *" postgres "* ]]; }

# need_cmd COMMAND HINT: exits unless COMMAND is installed ("needs COMMAND (HINT)").
need_cmd() { command -v "$1" >/dev/null || bad_usage "needs $1 ($2)"; }

# --- temporary directory and cleanup --------------------------------------------------
# make_work NAME WHAT: creates the temporary directory $work (ccadmin-NAME.XXXXXX) and
# sets the cleanup at exit: it stops interruptible's child, runs the script's
# cleanup_hook if it defines one (its own processes), stops $server_pid, drops the
# databases of pg_dbs, and removes $work, or keeps it (BENCH_KEEP=1, or a failure) and
# says so: "kept $work (WHAT)". An empty $work (the build failed) is removed.
make_work() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/ccadmin-$1.XXXXXX")
    work_holds=$2
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

# bench_cleanup: the trap at exit that make_work sets.
bench_cleanup() {
    local rc=$? db
    if [[ -n $child_pid ]]; then kill -TERM "$child_pid" 2>/dev/null; fi
    if declare -F cleanup_hook >/dev/null; then cleanup_hook || true; fi
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        reap "$server_pid" || true
    fi
    for db in "${pg_dbs[@]}"; do
        psql_admin -c "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 ||
            log "could not drop database $db"
    done
    if [[ ${BENCH_KEEP:-0} != 1 && $rc == 0 ]]; then
        rm -rf "$work"
    elif ! rmdir "$work" 2>/dev/null; then
        log "kept $work ($work_holds)"
    fi
    exit "$rc"
}

# reap PID: waits for PID (a child, already sent SIGTERM) to exit, and kills it if it
# still runs after 15 s; returns its exit status.
reap() {
    local pid=$1 rc=0
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}

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

# --- build ----------------------------------------------------------------------------
# build_binary: the release binary (unless --no-build), from the working tree or, with
# --rev, from that commit exported with git archive into $CARGO_TARGET_DIR/bench-src/SHA
# (so that edits in progress cannot leak into it). Sets rev, what it was built from
# (read back from the stamp next to the binary, ccadmin.bench-rev, with --no-build),
# and bin, a private copy in $work: a build into the same target directory during the
# run (another checkout, another benchmark) must not swap the binary under it.
build_binary() {
    local built="$CARGO_TARGET_DIR/release/ccadmin" stamp sha src
    stamp="$built.bench-rev"
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
        # Cargo fingerprints the ccadmin crate the same way whatever directory it is
        # built from, and its dependency info may name the files of another checkout or
        # export (one that did not change), so a build after one from elsewhere can be
        # taken for fresh and leave the other's binary in place. Cleaning the crate
        # (dependencies are kept) makes the binary always this source's.
        (cd "$src" && cargo clean --release --quiet -p ccadmin && cargo build --release --quiet --bin ccadmin) ||
            die "the build failed"
        echo "$rev" >"$stamp"
    elif [[ -n $rev_arg ]]; then
        die "--rev and --no-build exclude each other"
    fi
    [[ -x $built ]] || die "no binary at $built (build it, or drop --no-build)"
    if [[ -f $stamp && ! $built -nt $stamp ]]; then
        rev=$(<"$stamp")
    else
        rev="unknown (built outside the bench scripts)"
    fi
    cp "$built" "$work/ccadmin"
    bin="$work/ccadmin"
}

# --- databases ------------------------------------------------------------------------
psql_admin() { psql "$pg_admin_url" -qAt -v ON_ERROR_STOP=1 "$@"; }

# pg_require: exits unless PostgreSQL answers at $pg_admin_url; sets pg_version.
pg_require() {
    local hint=
    # A script that takes --backends (it has parsed them) may also do without PostgreSQL.
    [[ -v backend_arr ]] && hint=", or --backends sqlite"
    psql_admin -c 'select 1' >/dev/null ||
        die "PostgreSQL at $pg_admin_url does not answer (set BENCH_DATABASE_URL$hint)"
    pg_version=$(psql_admin -c 'show server_version')
}

# pg_url NAME: the URL of database NAME on the server of $pg_admin_url.
pg_url() { "$py" "$benchlib_py" pgurl "$pg_admin_url" "$1"; }

# pg_create NAME [TEMPLATE]: a new database (a copy of TEMPLATE), dropped at exit.
pg_create() {
    pg_dbs+=("$1")
    psql_admin -c "create database \"$1\"${2:+ template \"$2\"}"
}

# storage_args BACKEND NAME: the server flags of database NAME (a directory in $work, or
# a PostgreSQL database); split on purpose where used.
storage_args() {
    case $1 in
        sqlite) echo "--data-dir $work/$2" ;;
        postgres) echo "--database-url $(pg_url "$2")" ;;
    esac
}

# fresh_db BACKEND NAME: an empty database, migrated (log: $work/NAME.migrate.log).
fresh_db() {
    if [[ $1 == postgres ]]; then pg_create "$2"; fi
    # shellcheck disable=SC2046 # storage_args is split on purpose
    "${run_env[@]}" "$bin" migrate $(storage_args "$1" "$2") >"$work/$2.migrate.log" 2>&1 ||
        die "$1: migrate failed (log: $work/$2.migrate.log)"
}

# clone_db BACKEND FROM TO: a fresh copy of a database (its server stopped).
clone_db() {
    case $1 in
        sqlite) cp -a "$work/$2" "$work/$3" ;;
        postgres) pg_create "$3" "$2" ;;
    esac
}

# drop_db BACKEND NAME: removes database NAME.
drop_db() {
    case $1 in
        sqlite) rm -rf "${work:?}/$2" ;;
        postgres) psql_admin -c "drop database if exists \"$2\" with (force)" ;;
    esac
}

# dbq BACKEND NAME SQL: the first row of SQL's answer, space-separated (SQLite opened
# read-only, so it may run beside the server).
dbq() {
    case $1 in
        sqlite)
            "$py" - "$work/$2/ccadmin.db" "$3" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(*c.execute(sys.argv[2]).fetchone())
EOF
            ;;
        postgres) psql "$(pg_url "$2")" -qAt -F ' ' -v ON_ERROR_STOP=1 -c "$3" ;;
    esac
}

# --- server ---------------------------------------------------------------------------
# free_port: a free TCP port on 127.0.0.1.
free_port() { "$py" "$benchlib_py" port; }

# wait_ready BASE PID TIMEOUT_S LOG WHAT: waits until BASE/readyz answers 200; if it
# does not within TIMEOUT_S, or process PID exits first, shows the end of LOG and dies
# with "WHAT (log: LOG)".
wait_ready() {
    "$py" "$benchlib_py" ready "$1" "$3" "$2" || {
        tail -20 "$4" >&2
        die "$5 (log: $4)"
    }
}

# start_server LOG WHAT SERVE_ARGS...: `ccadmin serve SERVE_ARGS` on a free port, in the
# background in run_env, output to LOG; waits until it is ready. Sets server_pid and base.
start_server() {
    local logfile=$1 what=$2 port
    shift 2
    port=$(free_port)
    base="http://127.0.0.1:$port"
    "${run_env[@]}" "$bin" serve "$@" --listen "127.0.0.1:$port" >"$logfile" 2>&1 &
    server_pid=$!
    wait_ready "$base" "$server_pid" 300 "$logfile" "$what: the server did not become ready"
}

# stop_server: stops $server_pid (SIGTERM) and waits for it; says if it failed.
stop_server() {
    kill -TERM "$server_pid"
    local rc=0
    wait "$server_pid" || rc=$?
    server_pid=
    ((rc == 0)) || log "the server exited with status $rc"
}

# --- measurements from /proc ----------------------------------------------------------
# In awk rather than python: some run around every wrk run.
# cpu_seconds PID: user + system CPU seconds of a process.
cpu_seconds() {
    awk -v t="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / t}' "/proc/$1/stat"
}
# busy_seconds: CPU time the whole machine has spent busy (all cores, all processes).
busy_seconds() {
    awk -v t="$(getconf CLK_TCK)" '/^cpu / {printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / t}' /proc/stat
}
# cpustat: "busy total" jiffies of all CPUs; busy_pct BEFORE AFTER: % busy in between.
cpustat() { awk '/^cpu / {t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t}' /proc/stat; }
busy_pct() { awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " "); d = y[2] - x[2]; printf "%.0f", 100 * (y[1] - x[1]) / (d > 0 ? d : 1)}'; }
# hwm_kib PID: the process's peak RSS (VmHWM).
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# wrk_stats FILE: "req_per_s p50_ms p99_ms max_ms requests non2xx errors" of a
# `wrk --latency` output; wrk_version: the installed wrk's.
wrk_stats() { "$py" "$benchlib_py" wrk "$1"; }
wrk_version() { wrk -v 2>&1 | awk 'NR==1 {print $2}'; }

# --- report ---------------------------------------------------------------------------
# load_average: the 1, 5 and 15 min load averages. A script keeps the one before its
# runs in $loadavg, for results_load.
load_average() { cut -d' ' -f1-3 /proc/loadavg; }

# md_table HEADER RULE ROW...: a markdown table; each ROW is its cells joined by "|".
md_table() {
    local r
    printf '%s\n%s\n' "$1" "$2"
    shift 2
    for r in "$@"; do echo "| ${r//|/ | } |"; done
}

# results_file: the path of RESULTS.md, created (with its title) if missing.
results_file() {
    local out="$here/RESULTS.md"
    [[ -f $out ]] || printf '# Benchmark results\n\nEach section below is one run of a benchmark, appended by its script; newest last.\n' >"$out"
    echo "$out"
}

# results_head NAME: the start of a RESULTS.md section: its title (NAME and the time)
# and the machine ("cores × CPU model, kernel").
results_head() {
    local cpu_model
    cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
    echo
    echo "## $1: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) × ${cpu_model:-unknown CPU}, $(uname -sr)"
}

# results_load: the section's load-average line, before the run ($loadavg) and now.
results_load() { echo "- load average (1, 5, 15 min) before the run: $loadavg; after: $(load_average)"; }

# rev_flag: " --rev SHA" when the binary was built from a known commit, for the
# section's command line.
rev_flag() { if [[ $rev =~ ^[0-9a-f]{7,}$ ]]; then echo " --rev $rev"; fi; }
