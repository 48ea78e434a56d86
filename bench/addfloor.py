#!/usr/bin/env python3
"""The SQL floor of a phone-number add on SQLite: the add's own statements, run
directly on one connection (no HTTP, no sqlx, no hops between threads), per statement.

    bench/addfloor.py DB N BATCH [sorted|random]

DB is a copy of a ccadmin SQLite database holding an imported inventory (say,
`ccadmin inventory import --data-dir D inventory.csv` with bench/gen_inventory.py's
CSV); it is written to. N available numbers (the first in number order, as bench/suite.sh adds them, or
taken at random: more pages touched per add) are added to ABCDEF with
the statements of src/store/numbers/add.rs (read from the source, so they are the
server's own text): the savepoint and lookup, the write script's statements one by one,
then the activation's end and its journal entry; BATCH adds share a commit, as the
server's group commit does. The connection is set up as the server's writer (WAL,
synchronous NORMAL, temp_store MEMORY, no automatic checkpoint). Prints microseconds per
add for each statement and the adds/s the sum allows: what the one writer can do at
best, whatever the rest of the server does. The job's claim and finish are not counted.

    bench/addfloor.py --postgres URL N [sorted|random]

The same on PostgreSQL: URL names a ccadmin database holding an imported inventory and
at least one account (`ccadmin serve --demo` on it once makes the demo's); it is
written to: 500 adds first, unmeasured, then `analyze`, then the N measured. pgbench (PostgreSQL's, found under /usr/lib/postgresql) runs, on one
connection with prepared statements as sqlx does, each add as the server does: the
lookup (locking the area's count), the write statement of add.rs (its data-modifying
CTEs, built from the same parts as the server's), the commit; then the activation's
end with its journal entry and its commit. It prints the latency of each statement, the
round trip (the latency of an empty `begin`), and the database's own work per add: each
statement's latency less a round trip, commits excluded (on this connection a commit
waits for the WAL's flush, which is not work). That work is what the database spends on
an add however many connections share it: its CPU per add at best.
"""
import glob
import os
import subprocess
import tempfile
import pathlib
import re
import sqlite3
import sys
import time
import uuid

SOURCE = pathlib.Path(__file__).resolve().parent.parent / "src/store/numbers/add.rs"


def consts(src, names, mark="?"):
    """The `&str` constants `names` of `src`, each `$n` (sqlx) written `{mark}n`: `?n` for
    Python's sqlite3, `$n` as it is for PostgreSQL."""
    out = {}
    for name in names:
        m = re.search(r'const %s: &str =\s*"(.*?)";' % name, src, re.S)
        if not m:
            sys.exit(f"{name} not found in {SOURCE}")
        out[name] = re.sub(r"\$(\d+)", mark + r"\1",
                           m.group(1).replace("\\n", "\n"))
    return out


def arity(sql):
    return max((int(n) for n in re.findall(r"\?(\d+)", sql)), default=0)


def main(db, n, batch, order):
    src = SOURCE.read_text()
    q = consts(src, ["INSERT_NUMBER", "HOLD", "GRAMS", "COUNT", "COUNT_CONFLICT",
                     "JOURNAL", "JOB", "END_ACTIVATION", "END_JOURNAL"])
    write = [("insert", q["INSERT_NUMBER"]), ("hold", q["HOLD"]),
             ("grams", q["GRAMS"]), ("count", f"{q['COUNT']} where true {q['COUNT_CONFLICT']}"),
             ("journal", q["JOURNAL"]), ("job", q["JOB"])]
    end = [("end", q["END_ACTIVATION"]), ("end journal", q["END_JOURNAL"] + " where changes() = 1")]
    lookup = """select exists (select 1 from phone_number where account_id = ?1 and phone_number = ?2),
                       i.phone_number, i.country_code, i.number_type, i.area_code,
                       i.documentation_required, i.held_by
                from (select 1 as one) as q left join number_inventory i on i.phone_number = ?2"""
    c = sqlite3.connect(db, isolation_level=None)
    for p in ["journal_mode = wal", "synchronous = normal", "temp_store = memory",
              "wal_autocheckpoint = 0"]:
        c.execute(f"pragma {p}")
    rows = c.execute("select phone_number, country_code, number_type, area_code from number_inventory"
                     f" where held_by is null order by {'random()' if order == 'random' else 'phone_number'}"
                     " limit ?", (n,)).fetchall()
    if len(rows) < n:
        sys.exit(f"only {len(rows)} available numbers")
    t = {}

    def timed(name, sql, args):
        t0 = time.perf_counter()
        c.execute(sql, args).fetchall()
        t[name] = t.get(name, 0.0) + time.perf_counter() - t0

    ids = []
    c.execute("begin immediate")
    for i, (num, cc, nt, ac) in enumerate(rows):
        timed("savepoint", "savepoint caller", ())
        timed("lookup", lookup, ("ABCDEF", num))
        pid = str(uuid.uuid4())
        ids.append(pid)
        args = [num, cc, nt, ac, "ABCDEF", pid, 1000, "UNKNOWN", None, False, None, "INPROGRESS",
                None, "number-activation", "request", str(uuid.uuid4()), "number-activation",
                '{"generation":1}', 5, 1000]
        for name, sql in write:
            timed(name, sql, args[:arity(sql)])
        if (i + 1) % batch == 0:
            timed("commit (add)", "commit", ())
            c.execute("begin immediate")
    timed("commit (add)", "commit", ())
    c.execute("begin immediate")
    for i, pid in enumerate(ids):
        args = ["ABCDEF", pid, 1, "ACTIVE", "LOCAL", None, 2000, "number-activation", "worker"]
        for name, sql in end:
            timed(name, sql, args[:arity(sql)])
        if (i + 1) % batch == 0:
            timed("commit (end)", "commit", ())
            c.execute("begin immediate")
    timed("commit (end)", "commit", ())
    total = sum(t.values())
    for name, secs in sorted(t.items(), key=lambda kv: -kv[1]):
        print(f"{name:14s} {secs / n * 1e6:8.1f} µs/add")
    print(f"{'total':14s} {total / n * 1e6:8.1f} µs/add = {n / total:,.0f} adds/s at best")


# The PostgreSQL mode. sqlx binds each parameter with its Rust type; pgbench's are
# untyped, so each `$n` becomes a cast of a pgbench variable (or a null) to that type.
ADD_TYPES = {7: "bigint", 10: "boolean", 19: "integer", 20: "bigint"}
END_TYPES = {3: "bigint", 7: "bigint"}
# The add's parameters (add.rs numbering): the per-add ones come from the pick table,
# the rest are the constants the SQLite mode uses; None is a null.
ADD_VALUES = {1: ":num", 2: ":cc", 3: ":nt", 4: ":ac", 5: ":account", 6: ":pid", 7: "1000",
              8: "'UNKNOWN'", 9: None, 10: "false", 11: None, 12: "'INPROGRESS'", 13: None,
              14: "'number-activation'", 15: "'request'", 16: ":jid", 17: "'number-activation'",
              18: """'{"generation":1}'""", 19: "5", 20: "1000"}
END_VALUES = {1: ":account", 2: ":pid", 3: "1", 4: "'ACTIVE'", 5: "'LOCAL'", 6: None, 7: "2000",
              8: "'number-activation'", 9: "'worker'"}


def pg_params(sql, values, types):
    """`sql` with each `$n` replaced by its value, cast to the parameter's type."""
    def one(m):
        n = int(m.group(1))
        v = values[n]
        return f"cast({'null' if v is None else v} as {types.get(n, 'text')})"
    return re.sub(r"\$(\d+)", one, sql)


# Adds run before the measured ones, then the database is analyzed.
WARM_UP = 500


def pg_tool(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        sys.exit(f"{name} not found under /usr/lib/postgresql")
    return found[-1]


def psql(url, sql):
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def postgres_main(url, n, order):
    src = SOURCE.read_text()
    q = consts(src, ["INSERT_NUMBER", "HOLD", "GRAMS", "COUNT", "COUNT_CONFLICT", "JOURNAL",
                     "JOB", "END_ACTIVATION", "END_JOURNAL"], mark="$")
    # As add.rs's POSTGRES and END_POSTGRES, and add_lookup on PostgreSQL.
    write = (f"with n as ({q['INSERT_NUMBER']}), h as ({q['HOLD']} returning 1), "
             f"g as ({q['GRAMS']} and exists (select 1 from h)), "
             f"c as ({q['COUNT']} where exists (select 1 from h) {q['COUNT_CONFLICT']}), "
             f"t as ({q['JOURNAL']}), j as ({q['JOB']}) select count(*) from h")
    lookup = """select exists (select 1 from phone_number where account_id = $5 and phone_number = $1),
                       i.phone_number, i.country_code, i.number_type, i.area_code,
                       i.documentation_required, i.held_by,
                       (select 1 from inventory_count c where c.country_code = i.country_code
                        and c.number_type = i.number_type and c.area_code = i.area_code for update)
                from (select 1 as one) as q left join number_inventory i on i.phone_number = $1"""
    end = f"with u as ({q['END_ACTIVATION']} returning 1) {q['END_JOURNAL']} where exists (select 1 from u)"
    account = psql(url, "select account_id from account order by account_id limit 1")
    if not account:
        sys.exit("no account in the database: run `ccadmin serve --demo` on it once")
    psql(url, f"""drop table if exists addfloor_pick; drop sequence if exists addfloor_seq;
        create table addfloor_pick as
          select row_number() over () as i, phone_number as num, country_code as cc,
                 number_type as nt, area_code as ac,
                 gen_random_uuid()::text as pid, gen_random_uuid()::text as jid
          from (select * from number_inventory where held_by is null
                order by {'random()' if order == 'random' else 'phone_number'} limit {n + WARM_UP}) s;
        create unique index on addfloor_pick (i); create sequence addfloor_seq;""")
    got = int(psql(url, "select count(*) from addfloor_pick"))
    if got < n + WARM_UP:
        sys.exit(f"only {got} available numbers")
    one_line = lambda sql: " ".join(sql.split()) + ";"
    steps = [("pick", "select num, cc, nt, ac, pid, jid from addfloor_pick"
                      " where i = (select nextval('addfloor_seq')) \\gset"),
             ("begin (round trip)", "begin;"),
             ("lookup", one_line(pg_params(lookup, ADD_VALUES, ADD_TYPES))),
             ("write", one_line(pg_params(write, ADD_VALUES, ADD_TYPES))),
             ("commit (add)", "commit;"),
             ("begin (end)", "begin;"),
             ("end", one_line(pg_params(end, END_VALUES, END_TYPES))),
             ("commit (end)", "commit;")]
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write("\n".join(sql for _, sql in steps) + "\n")

        def pgbench(adds):
            run = subprocess.run([pg_tool("pgbench"), "-n", "-M", "prepared", "-r", "-c", "1",
                                  "-t", str(adds), "-D", f"account={account}", "-f", f.name, url],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"pgbench failed:\n{run.stderr}")
            return run.stdout

        # Plans as on a database whose statistics are current (autovacuum's steady
        # state) and hold added numbers: planned on an empty table's, the activation's
        # end scanned the account's numbers instead of reading its primary key.
        pgbench(WARM_UP)
        psql(url, "analyze")
        out = pgbench(n)
    finally:
        os.unlink(f.name)
        psql(url, "drop table if exists addfloor_pick; drop sequence if exists addfloor_seq")
    lines = out.split("statement latencies in milliseconds")[1].splitlines()[1:]
    lat = [float(line.split()[0]) * 1000 for line in lines if line.strip()]
    if len(lat) != len(steps):
        sys.exit(f"unexpected pgbench report:\n{out}")
    trip = lat[1]
    for (name, _), us in zip(steps, lat):
        print(f"{name:20s} {us:8.1f} µs")
    work = sum(us - trip for (name, _), us in zip(steps, lat) if name in ("lookup", "write", "end"))
    wall = sum(lat[1:])
    print(f"{'one add, wall':20s} {wall:8.1f} µs (one connection: {1e6 / wall:,.0f} adds/s)")
    print(f"{'database work':20s} {work:8.1f} µs/add = {1e6 / work:,.0f} adds/s a core at best")


if __name__ == "__main__":
    args = sys.argv[1:]
    order = "sorted"
    if args and args[-1] in ("sorted", "random"):
        order = args.pop()
    if len(args) == 3 and args[0] == "--postgres":
        postgres_main(args[1], int(args[2]), order)
    elif len(args) == 3:
        main(args[0], int(args[1]), int(args[2]), order)
    else:
        sys.exit(__doc__)
