#!/usr/bin/env python3
"""HTTP side of bench/instances.sh (python3 standard library only).

  instclient.py prepare BASE OUT            obtain the tokens of the load (Administrator
                                            and the demo client of ABCDEF) and the id of one
                                            of ABCDEF's phone numbers (adding one if it holds
                                            none); write them to OUT
  instclient.py load PREP NUMBERS BASES DURATION_S CONC PROCS WRITE_PCT FEATURES TAG
                                            the timed mixed load (below); prints a JSON
                                            summary on stdout
  instclient.py drain BASE PREP TIMEOUT_S   poll the job list every 50 ms until nothing is
                                            pending or running; print the epoch time seen
  instclient.py cpu PID...                  "pid seconds": CPU time of each process still there
  instclient.py cpudiff BEFORE AFTER        CPU seconds between two saved `cpu` outputs
  instclient.py merge FILE KEY=NUMBER...    the JSON object in FILE with these fields added
  instclient.py summarize                   read the runs of one N (merged load summaries,
                                            one JSON object a line) on stdin and print the
                                            median run's table row

The load: CONC clients (threads, spread over PROCS processes so that one interpreter's
lock does not cap the rate), each with a keep-alive connection to every instance of
BASES (comma-separated), send request k of client t to instance (t + k) mod N: a
round-robin balancer per request. Each request is a write with probability WRITE_PCT %
(alternately an account create with FEATURES features, as the Administrator, and a
phone-number add to ABCDEF from the file NUMBERS, as its Account Administrator; once
the numbers run out, writes are account creates), otherwise a read (alternately GET
/accounts/ABCDEF and GET of one of ABCDEF's numbers, as ABCDEF's Account
Administrator). Every answer other than 200 (reads) or 202 (writes) is an error. No
token is requested during the load: tokens come from PREP (signing keys live in the
database, so every instance accepts them). What the benchmark clients share is in
bench/benchlib.py.
"""

import array
import http.client
import json
import multiprocessing
import os
import random
import resource
import sys
import threading
import time

from benchlib import ADMIN, FEATURES, TENANT, conn, die, drain, headers, run_command, token

ACCOUNTS = "/api/admin/account/v1/accounts"
NUMBERS = "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers"
MAX_ERROR_SAMPLES = 5


def get_json(base, path, tok, who):
    c = conn(base)
    c.request("GET", path, headers=headers(tok, who))
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status != 200:
        die(f"GET {path}: {r.status} {data[:300]!r}")
    return json.loads(data)


def cmd_prepare(base, out):
    admin = token(base, ADMIN)
    tenant = token(base, TENANT)
    numbers = get_json(base, f"{NUMBERS}?pageSize=1", tenant, TENANT).get("phoneNumbers")
    if numbers:
        number_id = numbers[0]["phoneNumberId"]
    else:
        # The demo seed gives ABCDEF no number: add one to read (its activation is one
        # job, before the load).
        free = get_json(base, "/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers"
                        "?countryCode=US&type=LOCAL&pageSize=1", tenant, TENANT)
        c = conn(base)
        c.request("POST", NUMBERS, json.dumps({"phoneNumber": free["phoneNumbers"][0]["phoneNumber"]}),
                  headers(tenant, TENANT) | {"content-type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        if r.status != 202:
            die(f"POST {NUMBERS}: {r.status} {data[:300]!r}")
        number_id = json.loads(data)["phoneNumberId"]
    get_json(base, f"{NUMBERS}/{number_id}", tenant, TENANT)
    get_json(base, f"{ACCOUNTS}/ABCDEF", tenant, TENANT)
    with open(out, "w") as f:
        json.dump({"admin": admin, "tenant": tenant, "number_id": number_id}, f)


# --- the load -------------------------------------------------------------------------

class Numbers:
    """This process's share of the available numbers, handed out once each."""

    def __init__(self, numbers):
        self.numbers = numbers
        self.i = 0
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            if self.i >= len(self.numbers):
                return None
            self.i += 1
            return self.numbers[self.i - 1]


def client(t, cfg, prep, numbers, start, stats, lock):
    bases = cfg["bases"]
    n = len(bases)
    conns = [conn(b) for b in bases]
    rng = random.Random(f"{cfg['tag']}-{t}")
    label = "".join(ch for ch in cfg["tag"].lower() if ch.isascii() and ch.isalnum())
    features = {f: {} for f in FEATURES[:cfg["features"]]}
    admin_h = headers(prep["admin"], ADMIN) | {"content-type": "application/json"}
    tenant_h = headers(prep["tenant"], TENANT)
    tenant_post_h = tenant_h | {"content-type": "application/json"}
    read_paths = [f"{ACCOUNTS}/ABCDEF", f"{NUMBERS}/{prep['number_id']}"]
    reads = array.array("d")
    writes = array.array("d")
    counts = {"reads": 0, "accounts": 0, "numbers": 0, "errors": 0}
    per_instance = [0] * n
    samples = []
    k = reads_done = writes_done = 0
    wait_for = start["barrier"]
    wait_for.wait()
    t_end = start["at"] + cfg["duration"]
    last = start["at"]
    while True:
        now = time.monotonic()
        if now >= t_end:
            break
        i = (t + k) % n
        k += 1
        if rng.random() * 100 < cfg["write_pct"]:
            number = numbers.take() if writes_done % 2 else None
            writes_done += 1
            if number is None:
                kind = "accounts"
                name = f"Inst {cfg['tag']} {t} {k}"
                body = json.dumps({
                    "name": name,
                    "domains": [{"domainName": f"i{label}-{t}-{k}.example.com"}],
                    "accountSize": 10,
                    "features": features,
                })
                req = ("POST", ACCOUNTS, body, admin_h)
            else:
                kind = "numbers"
                req = ("POST", NUMBERS, json.dumps({"phoneNumber": number}), tenant_post_h)
            ok = 202
        else:
            kind = "reads"
            req = ("GET", read_paths[reads_done % 2], None, tenant_h)
            reads_done += 1
            ok = 200
        c = conns[i]
        t0 = time.monotonic()
        try:
            c.request(req[0], req[1], body=req[2], headers=req[3])
            r = c.getresponse()
            data = r.read()
            status = r.status
        except (OSError, http.client.HTTPException) as e:
            status, data = None, repr(e).encode()
            c.close()
            conns[i] = conn(bases[i])
        t1 = time.monotonic()
        last = t1
        per_instance[i] += 1
        if status == ok:
            counts[kind] += 1
            (reads if kind == "reads" else writes).append(t1 - t0)
        else:
            counts["errors"] += 1
            if len(samples) < MAX_ERROR_SAMPLES:
                samples.append(f"{req[0]} {bases[i]}{req[1]}: {status} {data[:300]!r}")
    for c in conns:
        c.close()
    with lock:
        for key, v in counts.items():
            stats[key] += v
        for j, v in enumerate(per_instance):
            stats["per_instance"][j] += v
        stats["samples"].extend(samples)
        stats["reads_lat"].extend(reads)
        stats["writes_lat"].extend(writes)
        stats["last"] = max(stats["last"], last)


def proc_main(p, cfg, prep, numbers, mp_barrier, shared_start, queue):
    threads_here = [t for t in range(cfg["conc"]) if t % cfg["procs"] == p]
    stats = {"reads": 0, "accounts": 0, "numbers": 0, "errors": 0,
             "per_instance": [0] * len(cfg["bases"]), "samples": [],
             "reads_lat": array.array("d"), "writes_lat": array.array("d"), "last": 0.0}
    lock = threading.Lock()
    start = {"barrier": threading.Barrier(len(threads_here) + 1), "at": 0.0}
    nums = Numbers(numbers)
    threads = [threading.Thread(target=client, args=(t, cfg, prep, nums, start, stats, lock))
               for t in threads_here]
    for th in threads:
        th.start()
    mp_barrier.wait()
    start["at"] = shared_start.value
    start["barrier"].wait()
    for th in threads:
        th.join()
    stats["reads_lat"] = stats["reads_lat"].tobytes()
    stats["writes_lat"] = stats["writes_lat"].tobytes()
    stats["numbers_left"] = len(numbers) - nums.i
    queue.put(stats)


def pct(sorted_values, p):
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[i]


def cmd_load(prep_file, numbers_file, bases, duration, conc, procs, write_pct, features, tag):
    with open(prep_file) as f:
        prep = json.load(f)
    with open(numbers_file) as f:
        all_numbers = [line.strip() for line in f if line.strip()]
    random.Random(tag).shuffle(all_numbers)
    cfg = {"bases": bases.split(","), "duration": float(duration), "conc": int(conc),
           "procs": max(1, min(int(procs), int(conc))), "write_pct": float(write_pct),
           "features": int(features), "tag": tag}
    ctx = multiprocessing.get_context("fork")
    mp_barrier = ctx.Barrier(cfg["procs"] + 1)
    shared_start = ctx.Value("d", 0.0, lock=False)
    queue = ctx.Queue()
    procs_ = []
    for p in range(cfg["procs"]):
        share = all_numbers[p::cfg["procs"]]
        pr = ctx.Process(target=proc_main,
                         args=(p, cfg, prep, share, mp_barrier, shared_start, queue))
        pr.start()
        procs_.append(pr)
    # Every process has its threads and connections ready: start together, a moment
    # from now (CLOCK_MONOTONIC is one clock for all processes).
    shared_start.value = time.monotonic() + 0.2
    t_start_epoch = time.time() + 0.2
    mp_barrier.wait()
    results = [queue.get() for _ in procs_]
    for pr in procs_:
        pr.join()
        if pr.exitcode != 0:
            die(f"a load process exited with status {pr.exitcode}")
    reads_lat, writes_lat = array.array("d"), array.array("d")
    total = {"reads": 0, "accounts": 0, "numbers": 0, "errors": 0}
    per_instance = [0] * len(cfg["bases"])
    samples = []
    last = 0.0
    numbers_left = 0
    for r in results:
        for key in total:
            total[key] += r[key]
        per_instance = [a + b for a, b in zip(per_instance, r["per_instance"])]
        samples += r["samples"]
        reads_lat.frombytes(r["reads_lat"])
        writes_lat.frombytes(r["writes_lat"])
        last = max(last, r["last"])
        numbers_left += r["numbers_left"]
    elapsed = max(last - shared_start.value, cfg["duration"])
    client_cpu = sum(ru.ru_utime + ru.ru_stime for ru in (
        resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))
    rl, wl = sorted(reads_lat), sorted(writes_lat)
    writes = total["accounts"] + total["numbers"]
    print(json.dumps({
        "start": t_start_epoch, "elapsed": elapsed,
        "reads": total["reads"], "accounts": total["accounts"], "numbers": total["numbers"],
        "writes": writes, "errors": total["errors"], "error_samples": samples[:MAX_ERROR_SAMPLES],
        "reads_per_s": total["reads"] / elapsed, "writes_per_s": writes / elapsed,
        "requests_per_s": (total["reads"] + writes + total["errors"]) / elapsed,
        "read_p50_ms": pct(rl, 50) * 1000, "read_p99_ms": pct(rl, 99) * 1000,
        "write_p50_ms": pct(wl, 50) * 1000, "write_p99_ms": pct(wl, 99) * 1000,
        "per_instance": per_instance, "numbers_left": numbers_left, "client_cpu_s": client_cpu,
        "expected_jobs": total["accounts"] * cfg["features"] + total["numbers"],
    }))


def cmd_drain(base, prep_file, timeout_s):
    with open(prep_file) as f:
        prep = json.load(f)
    h = headers(prep["admin"], ADMIN)
    c = conn(base)

    def jobs(state):
        c.request("GET", f"/_ccadmin/jobs?state={state}&limit=1", headers=h)
        r = c.getresponse()
        data = r.read()
        if r.status != 200:
            die(f"GET /_ccadmin/jobs?state={state}: {r.status} {data[:300]!r}")
        return json.loads(data)["jobs"]

    drain(jobs, timeout_s)


def cmd_cpu(*pids):
    """One "pid seconds" line (user + system CPU) per process of PIDS still there."""
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        print(pid, (int(fields[11]) + int(fields[12])) / ticks)


def cmd_cpudiff(before, after):
    """CPU seconds used between two `cpu` outputs, summed over the processes of AFTER (a
    process absent from BEFORE counts from zero: it started in between)."""
    def read(path):
        with open(path) as f:
            return {p: float(v) for p, v in (line.split() for line in f if line.strip())}
    b, a = read(before), read(after)
    print(f"{sum(v - b.get(p, 0.0) for p, v in a.items()):.2f}")


def cmd_merge(path, *pairs):
    """The JSON object in PATH with KEY=NUMBER pairs added, on one line."""
    with open(path) as f:
        d = json.load(f)
    for pair in pairs:
        key, _, value = pair.partition("=")
        d[key] = float(value)
    print(json.dumps(d))


def cmd_summarize():
    """Runs of one N, one JSON object a line: the median run by requests/s, as a table
    row, with the spread of requests/s over the runs."""
    runs = [json.loads(line) for line in sys.stdin if line.strip()]
    runs.sort(key=lambda r: r["requests_per_s"])
    m = runs[len(runs) // 2]
    rates = [r["requests_per_s"] for r in runs]
    spread = f"{min(rates):.0f}–{max(rates):.0f}" if len(runs) > 1 else "–"
    print("|".join([
        str(int(m["instances"])), str(int(m["workers"])), f"{m['elapsed']:.1f}",
        f"{m['reads_per_s']:.0f}", f"{m['writes_per_s']:.1f}", f"{m['requests_per_s']:.0f}",
        spread,
        f"{m['read_p50_ms']:.1f}", f"{m['read_p99_ms']:.1f}",
        f"{m['write_p50_ms']:.1f}", f"{m['write_p99_ms']:.1f}",
        str(m["errors"]), str(int(m["jobs"])), f"{m['drain_s']:.1f}", f"{m['jobs_per_s']:.0f}",
        f"{m['server_cpu_s']:.1f}", f"{m['pg_cpu_s']:.1f}", f"{m['client_cpu_s']:.1f}",
        f"{m['machine_cpu_s']:.1f}",
    ]))


def main():
    run_command({
        "prepare": (cmd_prepare, 2), "load": (cmd_load, 9), "drain": (cmd_drain, 3),
        "summarize": (cmd_summarize, 0), "cpudiff": (cmd_cpudiff, 2),
        "merge": (cmd_merge, "*"), "cpu": (cmd_cpu, "*"),
    }, __doc__)


if __name__ == "__main__":
    main()
