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
"""
import pathlib
import re
import sqlite3
import sys
import time
import uuid

SOURCE = pathlib.Path(__file__).resolve().parent.parent / "src/store/numbers/add.rs"


def consts(src, names):
    out = {}
    for name in names:
        m = re.search(r'const %s: &str =\s*"(.*?)";' % name, src, re.S)
        if not m:
            sys.exit(f"{name} not found in {SOURCE}")
        # `$n` (sqlx) is `?n` for Python's driver.
        out[name] = re.sub(r"\$(\d+)", r"?\1", m.group(1).replace("\\n", "\n"))
    return out


def arity(sql):
    return max((int(n) for n in re.findall(r"\?(\d+)", sql)), default=0)


def main(db, n, batch, order):
    src = SOURCE.read_text()
    q = consts(src, ["INSERT_NUMBER", "HOLD", "SUFFIXES", "GRAMS", "COUNT", "COUNT_CONFLICT",
                     "JOURNAL", "JOB", "END_ACTIVATION", "END_JOURNAL"])
    write = [("insert", q["INSERT_NUMBER"]), ("hold", q["HOLD"]), ("suffixes", q["SUFFIXES"]),
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


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5) or sys.argv[4:] not in ([], ["sorted"], ["random"]):
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), (sys.argv[4:] or ["sorted"])[0])
