#!/usr/bin/env python3
"""HTTP and process side of bench/suite.sh (python3 standard library only).

  suiteclient.py shuffle IN OUT SEED      the lines of IN (available numbers) in a random
                                          order fixed by SEED, to OUT
  suiteclient.py seed BASE POOL ACCOUNTS NUMBERS CONC PROCS OUT
                                          as the demo Administrator: create ACCOUNTS
                                          accounts (feature voice), one ACO element in
                                          each, then add the first NUMBERS numbers of POOL
                                          (10 % to the first account, the rest round-robin
                                          over the others), CONC requests at a time over
                                          PROCS processes; every answer must be 202. Writes
                                          the ids and timings to OUT (JSON)
  suiteclient.py addfile SEEDED POOL START COUNT OUT
                                          "ACCOUNT,NUMBER" lines for the add scenario: COUNT
                                          numbers of POOL from line START on, round-robin
                                          over the accounts of SEEDED
  suiteclient.py token BASE OUT           an access token of the demo Administrator;
                                          also written to OUT as {"admin": TOKEN}
  suiteclient.py targets BASE TOKEN SEEDED OUT
                                          the resources the read scenarios GET (an account,
                                          its element, one of its numbers), each checked to
                                          answer 200; writes their paths to OUT (JSON)
  suiteclient.py drain BASE TOKEN_FILE TIMEOUT_S
                                          poll the job list every 50 ms until nothing is
                                          pending or running; print the epoch time seen
                                          (bench/instclient.py)
  suiteclient.py startup RUNS TIMEOUT_S LOG CMD...
                                          RUNS times: exec CMD (its "@PORT@" replaced by a
                                          free port), time until GET /readyz first answers
                                          200, stop it (SIGTERM); print "median min max" ms
                                          and each run on stderr
  suiteclient.py rss PID OUT              sample VmRSS of PID every 100 ms until SIGTERM;
                                          then write "max_kib samples" to OUT
  suiteclient.py report WORK BACKENDS MAX_C
                                          the markdown report (targets with pass/MISS, the
                                          backends side by side, every run) from suite.sh's
                                          WORK/rows and WORK/BACKEND.facts

BASE is like http://127.0.0.1:PORT. The Administrator acts in every account, so one
token serves the seeding and every read scenario. What the benchmark clients share is
in bench/benchlib.py.
"""

import http.client
import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time

import benchlib
import instclient
from benchlib import ADMIN, conn, die

ACCOUNTS = "/api/admin/account/v1/accounts"
VOICE = "/api/admin/voice/v1/accounts"
BIG_SHARE = 0.10


def headers(tok, json_body=False):
    h = benchlib.headers(tok, ADMIN)
    if json_body:
        h["content-type"] = "application/json"
    return h


def request(c, method, path, tok, body=None):
    c.request(method, path, body=None if body is None else json.dumps(body),
              headers=headers(tok, body is not None))
    r = c.getresponse()
    return r.status, r.read()


# --- seeding --------------------------------------------------------------------------

def run_parallel(base, tok, items, conc, send, label):
    """Sends each item once over `conc` keep-alive connections (threads of this process);
    `send(c, tok, item)` returns (ok, result or error text). Returns the results in order;
    dies on the first failure."""
    results = [None] * len(items)
    lock = threading.Lock()
    state = {"next": 0, "errors": [], "done": 0}
    t0 = time.monotonic()

    def worker():
        c = conn(base)
        while True:
            with lock:
                i = state["next"]
                if i >= len(items) or state["errors"]:
                    break
                state["next"] += 1
            try:
                ok, res = send(c, tok, items[i])
            except (OSError, http.client.HTTPException) as e:
                ok, res = False, repr(e)
                c.close()
                c = conn(base)
            with lock:
                if ok:
                    results[i] = res
                    state["done"] += 1
                else:
                    state["errors"].append(f"{label} {i}: {res}")
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(min(conc, len(items)) or 1)]
    for t in threads:
        t.start()
    last = t0
    while any(t.is_alive() for t in threads):
        time.sleep(0.2)
        if time.monotonic() - last >= 10:
            last = time.monotonic()
            with lock:
                done = state["done"]
            print(f"suiteclient: {label}: {done} of {len(items)} "
                  f"({done / (last - t0):.0f}/s)", file=sys.stderr)
    for t in threads:
        t.join()
    if state["errors"]:
        die(f"{label}: " + "; ".join(state["errors"][:5]))
    return results


def create_account(c, tok, i):
    body = {"name": f"Suite {i}", "domains": [{"domainName": f"suite{i}.example.com"}],
            "accountSize": 100, "features": {"voice": {}}}
    status, data = request(c, "POST", ACCOUNTS, tok, body)
    if status != 202:
        return False, f"{status} {data[:300]!r}"
    return True, json.loads(data)["accountId"]


def create_element(c, tok, account):
    body = {"name": "Suite ACO", "description": "bench suite", "environment": "Production",
            "didNumbers": []}
    status, data = request(c, "POST", f"{VOICE}/{account}/aco-elements", tok, body)
    if status != 202:
        return False, f"{status} {data[:300]!r}"
    return True, json.loads(data)["elementId"]


def add_number(c, tok, item):
    account, number = item
    status, data = request(c, "POST", f"{VOICE}/{account}/phone-numbers", tok,
                           {"phoneNumber": number})
    if status != 202:
        return False, f"{account} {number}: {status} {data[:300]!r}"
    return True, None


def _add_proc(base, tok, items, conc, label, queue):
    try:
        run_parallel(base, tok, items, conc, add_number, label)
        queue.put(None)
    except SystemExit:
        queue.put(f"{label} failed (see above)")


def assign(accounts, numbers):
    """(account, number) pairs: BIG_SHARE of the numbers to the first account, the rest
    round-robin over the others (all of them to the one account if there is only one)."""
    big = int(len(numbers) * BIG_SHARE) if len(accounts) > 1 else len(numbers)
    rest = accounts[1:] or accounts
    return [(accounts[0] if i < big else rest[(i - big) % len(rest)], n)
            for i, n in enumerate(numbers)]


def read_pool(path, start, count):
    out = []
    with open(path) as f:
        for i, line in enumerate(f):
            if i < start:
                continue
            if len(out) >= count:
                break
            if line.strip():
                out.append(line.strip())
    return out


def cmd_seed(base, pool, n_accounts, n_numbers, conc, procs, out):
    n_accounts, n_numbers, conc, procs = int(n_accounts), int(n_numbers), int(conc), int(procs)
    numbers = read_pool(pool, 0, n_numbers)
    if len(numbers) < n_numbers:
        die(f"the inventory has {len(numbers)} available numbers, {n_numbers} wanted")
    tok = benchlib.token(base, ADMIN)
    timings = {}
    t0 = time.monotonic()
    accounts = run_parallel(base, tok, list(range(1, n_accounts + 1)), conc, create_account,
                            "accounts")
    timings["accounts_s"] = time.monotonic() - t0
    t0 = time.monotonic()
    elements = run_parallel(base, tok, accounts, conc, create_element, "elements")
    timings["elements_s"] = time.monotonic() - t0
    pairs = assign(accounts, numbers)
    procs = max(1, min(procs, conc))
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    t0 = time.monotonic()
    ps = [ctx.Process(target=_add_proc,
                      args=(base, tok, pairs[p::procs], max(1, conc // procs),
                            f"numbers (process {p + 1} of {procs})", queue))
          for p in range(procs)]
    for p in ps:
        p.start()
    failures = [m for m in (queue.get() for _ in ps) if m]
    for p in ps:
        p.join()
    if failures or any(p.exitcode for p in ps):
        die("adding numbers failed: " + "; ".join(failures))
    timings["numbers_s"] = time.monotonic() - t0
    with open(out, "w") as f:
        json.dump({"accounts": accounts, "elements": dict(zip(accounts, elements)),
                   "numbers": len(pairs), "big_account": accounts[0],
                   "big_account_numbers": sum(1 for a, _ in pairs if a == accounts[0]),
                   **timings}, f)
    print(" ".join(f"{k}={v:.2f}" for k, v in timings.items()))


def cmd_addfile(seeded, pool, start, count, out):
    with open(seeded) as f:
        accounts = json.load(f)["accounts"]
    numbers = read_pool(pool, int(start), int(count))
    with open(out, "w") as f:
        for i, n in enumerate(numbers):
            f.write(f"{accounts[i % len(accounts)]},{n}\n")
    print(len(numbers))


def cmd_shuffle(src, dst, seed):
    with open(src) as f:
        lines = [line.strip() for line in f if line.strip()]
    random.Random(int(seed)).shuffle(lines)
    with open(dst, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(len(lines))


# --- the read targets, checks, drain ---------------------------------------------------

def get_json(c, path, tok):
    status, data = request(c, "GET", path, tok)
    if status != 200:
        die(f"GET {path}: {status} {data[:300]!r}")
    return json.loads(data)


def cmd_token(base, out):
    """Also writes {"admin": token} to OUT, as bench/instclient.py's drain reads it."""
    tok = benchlib.token(base, ADMIN)
    with open(out, "w") as f:
        json.dump({"admin": tok}, f)
    print(tok)


def cmd_targets(base, tok, seeded, out):
    with open(seeded) as f:
        s = json.load(f)
    account = s["big_account"]
    c = conn(base)
    page = get_json(c, f"{VOICE}/{account}/phone-numbers?pageSize=1", tok)
    if not page["phoneNumbers"]:
        die(f"account {account} holds no number")
    paths = {
        "account": f"{ACCOUNTS}/{account}",
        "number": f"{VOICE}/{account}/phone-numbers/{page['phoneNumbers'][0]['phoneNumberId']}",
        "element": f"{VOICE}/{account}/aco-elements/{s['elements'][account]}",
        "list": f"{VOICE}/{account}/phone-numbers?filter=countryCode:US,type:LOCAL"
                "&pageNumber=2&pageSize=10",
        "search": f"{VOICE}/{account}/available-phone-numbers?countryCode=US&type=LOCAL"
                  "&areaCode=212",
    }
    totals = {}
    for name, path in paths.items():
        body = get_json(c, path, tok)
        if "pagination" in body:
            totals[name] = body["pagination"]["total"]
            if not body["phoneNumbers"]:
                die(f"GET {path}: an empty page")
    with open(out, "w") as f:
        json.dump({"account": account, "paths": paths, "totals": totals}, f)


# --- processes ------------------------------------------------------------------------

def cmd_startup(runs, timeout_s, log, *cmd):
    """Exec to the first 200 of /readyz, RUNS times. The server inherits this process's
    environment (suite.sh runs it under env -i)."""
    times = []
    for r in range(int(runs)):
        port = benchlib.free_port()
        argv = [a.replace("@PORT@", str(port)) for a in cmd]
        with open(f"{log}.{r + 1}", "wb") as logf:
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT)
            deadline = t0 + float(timeout_s)
            ready = None
            while time.perf_counter() < deadline and p.poll() is None:
                if benchlib.readyz(f"http://127.0.0.1:{port}"):
                    ready = time.perf_counter() - t0
                    break
                time.sleep(0.001)
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if ready is None:
            die(f"start-up run {r + 1}: not ready within {timeout_s}s (log: {log}.{r + 1})")
        times.append(ready * 1000)
        print(f"suiteclient: start-up run {r + 1}: {ready * 1000:.1f} ms", file=sys.stderr)
    print(f"{statistics.median(times):.1f} {min(times):.1f} {max(times):.1f}")


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0])
    return out


def cmd_rss(pid, out):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    peak = samples = 0
    while not stop:
        try:
            peak = max(peak, proc_status(pid).get("VmRSS", 0))
            samples += 1
        except FileNotFoundError:
            break
        time.sleep(0.1)
    with open(out, "w") as f:
        f.write(f"{peak} {samples}\n")


# --- the report -----------------------------------------------------------------------

SCENARIOS = {
    "healthz": "`GET /healthz`",
    "number": "`GET` one phone number",
    "account": "`GET` one account",
    "element": "`GET` one ACO element",
    "list": "`GET phone-numbers`, filter + page",
    "search": "`GET available-phone-numbers`",
    "add": "`POST phone-numbers` (add)",
    "token": "`POST token` (client_credentials)",
    "backlog": "`POST phone-numbers`, no workers (the drain's backlog)",
}
SINGLE = ("number", "account", "element")
# The connections of the adds every one of which must be answered 202 (suite.sh's
# drain_conns: the adds run there too, and so does the drain's backlog).
DRAIN_CONNS = 32
# Issue #16's goals: GET rates and adds as % of /healthz, adds/s and jobs/s.
GOALS = {
    "get": {"sqlite": 50, "postgres": 35},
    "add_ratio": {"sqlite": 8},
    "add_rps": {"postgres": 2500},
    "drain": {"sqlite": 5000, "postgres": 2500},
}
RSS_LIMIT_MIB = 150e6 / 2**20  # 150 MB


def load_facts(path):
    facts = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            facts[key] = value
    return facts


def table(header, rows, right_from):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i < right_from else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(out)


def cmd_report(work, backends, max_c):
    """The markdown of suite.sh's report, from WORK/rows and WORK/BACKEND.facts."""
    backends, max_c = backends.split(","), int(max_c)
    runs = {}
    with open(os.path.join(work, "rows")) as f:
        for line in f:
            r = line.rstrip("\n").split("|")
            if len(r) == 12:
                runs[(r[0], r[1], int(r[2]))] = {
                    "rps": float(r[3]), "p50": float(r[4]), "p99": float(r[5]),
                    "max": float(r[6]), "requests": int(r[7]), "cpu": float(r[8]),
                    "rss": float(r[9]), "hwm": float(r[10]), "busy": r[11]}
    facts = {b: load_facts(os.path.join(work, f"{b}.facts")) for b in backends}
    conns = sorted({c for (_, _, c) in runs})
    add_conns = sorted({c for (_, name, c) in runs if name == "add"})

    def ratio(b, name, c):
        h = runs.get((b, "healthz", c))
        r = runs.get((b, name, c))
        return r["rps"] / h["rps"] * 100 if h and r and h["rps"] else None

    def pct(x):
        return "–" if x is None else f"{x:.0f} %"

    # Targets of issue #16, one line each: (label, {backend: (figure, ok)}). Where the
    # issue sets a target per backend, GOALS holds both.
    targets = []

    def per_backend(label, figure, ok):
        targets.append((label, {b: (figure(b), ok(b)) for b in backends}))

    def goal(name, b):
        return GOALS[name].get(b, GOALS[name]["sqlite"])

    def healthz_rps(b):
        return runs[(b, "healthz", max_c)]["rps"]

    for name in SINGLE:
        label = SCENARIOS[name].replace("`GET` ", "")
        per_backend(f"`GET` {label}: ≥ {pct(goal('get', 'sqlite'))} of `/healthz` req/s "
                    f"(PostgreSQL ≥ {pct(goal('get', 'postgres'))}), {max_c} connections",
                    lambda b, n=name: pct(ratio(b, n, max_c)),
                    lambda b, n=name: (ratio(b, n, max_c) or 0) >= goal("get", b))
        per_backend(f"`GET` {label}: p99 < 10 ms, {max_c} connections",
                    lambda b, n=name: f"{runs[(b, n, max_c)]['p99']:.2f} ms",
                    lambda b, n=name: runs[(b, n, max_c)]["p99"] < 10)
    add_c = DRAIN_CONNS

    def add_rps(b):
        return runs[(b, "add", add_c)]["rps"]

    per_backend(f"adds accepted ≥ {GOALS['add_ratio']['sqlite']:.0f} % of `/healthz` req/s "
                f"on SQLite, ≥ {GOALS['add_rps']['postgres']:,}/s on PostgreSQL, "
                f"{add_c} connections",
                lambda b: f"{add_rps(b):.0f}/s ({pct(add_rps(b) / healthz_rps(b) * 100)})",
                lambda b: (add_rps(b) / healthz_rps(b) * 100 >= GOALS["add_ratio"]["sqlite"]
                           if b == "sqlite" else add_rps(b) >= GOALS["add_rps"]["postgres"]))
    fig = {}
    for b in backends:
        parts = [facts[b][f"add_c{c}"].split("|") for c in add_conns]
        added = sum(int(p[1]) for p in parts)
        worst = max(float(p[3]) for p in parts)
        # suite.sh fails the run on any non-2xx answer and unless every add reached
        # ACTIVE or INACTIVE.
        fig[b] = (f"all {added} answered 202; terminal ≤ {worst:.1f} s after the load", True)
    targets.append((f"every add (at {', '.join(map(str, add_conns))} connections) answered 202 "
                    "and reaches `ACTIVE`/`INACTIVE` (checked in the database)", fig))

    def drain_rate(b):
        # jobs|seconds by the server's clock|seconds from exec to the poll seeing none
        # left|slowest|fastest jobs/s|runs, of the median run (older fact files have
        # fewer fields).
        jobs, seconds, *rest = facts[b]["drain"].split("|")
        polled = rest[0] if rest else "?"
        spread = f"median of {rest[3]}, {rest[1]}–{rest[2]} jobs/s; " if len(rest) >= 4 else ""
        return int(jobs) / float(seconds), int(jobs), polled, spread

    per_backend(f"job drain ≥ {goal('drain', 'sqlite'):,} jobs/s "
                f"(PostgreSQL ≥ {goal('drain', 'postgres'):,}; server clock, first to last job)",
                lambda b: f"{drain_rate(b)[0]:.0f} jobs/s ({drain_rate(b)[3]}{drain_rate(b)[1]} jobs; "
                          f"{drain_rate(b)[2]} s exec to empty)",
                lambda b: drain_rate(b)[0] >= goal("drain", b))
    fig = {}
    for b in backends:
        peak = max(float(facts[b]["seed_hwm_mib"]), float(facts[b]["serve_hwm_mib"]))
        fig[b] = (f"{peak:.1f} MiB", peak < RSS_LIMIT_MIB)
    targets.append(("server peak RSS (`VmHWM`, seeding and load servers) < 150 MB (143.1 MiB)", fig))
    fig = {}
    for b in backends:
        med = float(facts[b]["startup_ms"].split("|")[0])
        fig[b] = (f"{med:.0f} ms", med < 200)
    targets.append(("ready (`/readyz` 200) < 200 ms after exec on the seeded database (median)", fig))

    out = ["Targets of issue #16 (ratios to the same backend's `/healthz` rate at the most "
           f"connections, {max_c}; the list targets are bench/lists.sh's):", ""]
    header = ["target"]
    for b in backends:
        header += [b, ""]
    rows = []
    for label, per in targets:
        row = [label]
        for b in backends:
            v, ok = per[b]
            row += [v, "pass" if ok else "MISS"]
        rows.append(row)
    out.append(table(header, rows, 1))

    out += ["", "Load (`% /healthz`: req/s as a share of the same backend's `/healthz` at the same "
            "connections; for adds, req/s is adds accepted per second):", ""]
    header = ["scenario", "conns"]
    for b in backends:
        header += [f"{b} req/s", "% /healthz", "p50 ms", "p99 ms"]
    rows = []
    for name in SCENARIOS:
        for c in conns:
            row = [SCENARIOS[name], c]
            for b in backends:
                r = runs.get((b, name, c))
                row += ([f"{r['rps']:.0f}", pct(ratio(b, name, c)) if name != "healthz" else "",
                         f"{r['p50']:.2f}", f"{r['p99']:.2f}"] if r else ["–"] * 4)
            rows.append(row)
    out.append(table(header, rows, 1))

    out += ["", "Each run in full (server CPU per request from /proc; RSS sampled every 100 ms "
            "during the run, and the server's `VmHWM` after it):", ""]
    rows = []
    for b in backends:
        for name in SCENARIOS:
            for c in conns:
                r = runs.get((b, name, c))
                if r:
                    rows.append([b, SCENARIOS[name], c, f"{r['rps']:.0f}", f"{r['p50']:.2f}",
                                 f"{r['p99']:.2f}", f"{r['max']:.2f}", r["requests"],
                                 f"{r['cpu']:.3f}", f"{r['rss']:.1f}", f"{r['hwm']:.1f}",
                                 r["busy"]])
    out.append(table(["backend", "scenario", "conns", "req/s", "p50 ms", "p99 ms", "max ms",
                      "requests", "server CPU ms/req", "RSS MiB", "VmHWM MiB",
                      "machine busy %"], rows, 2))

    out += ["", "Adds (`accepted`: 202s wrk received; `added`: numbers the database gained, "
            "which may include requests in flight when wrk stopped; `terminal after`: from "
            "the start of the load until no job was pending or running, every added number "
            "then `ACTIVE` or `INACTIVE`):", ""]
    rows = []
    for b in backends:
        for c in add_conns:
            accepted, added, terminal, lag = facts[b][f"add_c{c}"].split("|")
            rows.append([b, c, accepted, added, f"{runs[(b, 'add', c)]['rps']:.0f}",
                         terminal, lag])
    out.append(table(["backend", "conns", "accepted", "added", "accepted/s",
                      "terminal after s", "of which after the load s"], rows, 1))

    out += ["", "Seeding (through the HTTP API, as the demo Administrator) and start-up "
            "(exec to the first `/readyz` 200 on the seeded database):", ""]
    rows = []
    for b in backends:
        f = facts[b]
        n_s = float(f["seed_numbers_s"])
        med, lo, hi = f["startup_ms"].split("|")
        dmed, dlo, dhi = f["startup_demo_ms"].split("|")
        rows.append([b, f"{float(f['import_s']):.1f}", f"{float(f['seed_accounts_s']):.1f}",
                     f"{float(f['seed_elements_s']):.1f}",
                     f"{n_s:.1f} ({int(f['seeded_numbers']) / n_s:.0f}/s)",
                     f"{float(f['seed_drain_s']):.1f}", f"{float(f['seed_total_s']):.1f}",
                     f["seed_hwm_mib"], f"{med} ({lo}–{hi})", f"{dmed} ({dlo}–{dhi})",
                     f["list_total"], f["search_total"],
                     f"{f['load_before']} / {f['load_after_seed']} / {f['load_after']}"])
    out.append(table(["backend", "import s", "accounts s", "elements s", "numbers s (adds/s)",
                      "jobs drained after s", "seeding s", "seeding server VmHWM MiB",
                      "start-up ms, median (min–max)", "with --demo ms", "list total",
                      "search total", "load average before / after seeding / after"],
                     rows, 1))
    print("\n".join(out))


def main():
    a = sys.argv[1:]
    if a and a[0] == "startup" and len(a) >= 5:
        return cmd_startup(*a[1:])
    benchlib.run_command({
        "report": (cmd_report, 3),
        "shuffle": (cmd_shuffle, 3), "seed": (cmd_seed, 7), "addfile": (cmd_addfile, 5),
        "token": (cmd_token, 2), "targets": (cmd_targets, 4),
        "drain": (instclient.cmd_drain, 3), "rss": (cmd_rss, 2),
    }, __doc__)


if __name__ == "__main__":
    main()
