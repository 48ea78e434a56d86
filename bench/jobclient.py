#!/usr/bin/env python3
"""HTTP side of bench/jobs.sh (python3 stdlib only).

  jobclient.py ready   BASE TIMEOUT_S DIR poll GET /readyz until it answers 200 and print
                                          the epoch time it did; creates DIR/polling once
                                          polling, and gives up if the pid written to
                                          DIR/pid (when it appears) exits
  jobclient.py create  BASE N CONC        create accounts 1..N (14 features each)
  jobclient.py drain   BASE TIMEOUT_S     poll the job list every 50 ms until nothing is
                                          pending or running; print the epoch time seen
  jobclient.py count   BASE STATE         count jobs in STATE (needs <= 10000 of them)

  jobclient.py token   BASE               print an access token of the demo Administrator

BASE is like http://127.0.0.1:PORT. Calls authenticate as the demo Administrator, with
$BENCH_TOKEN when set (a token from an earlier server on the same database: signing keys
live in the database), so that phase B spends no CPU on a token grant; a new one is
fetched if it is refused. What the benchmark clients share is in bench/benchlib.py.
"""

import http.client
import json
import os
import sys
import threading
import time

import benchlib
from benchlib import ADMIN, FEATURES, conn, die


def token(base):
    return benchlib.token(base, ADMIN)


def headers(tok):
    return benchlib.headers(tok, ADMIN)


class Auth:
    def __init__(self, base):
        self.base = base
        self.tok = os.environ.get("BENCH_TOKEN") or token(base)

    def refresh(self):
        self.tok = token(self.base)


def get_json(c, path, auth):
    for attempt in range(2):
        c.request("GET", path, headers=headers(auth.tok))
        r = c.getresponse()
        body = r.read()
        if r.status == 401 and attempt == 0:
            auth.refresh()
            continue
        break
    if r.status != 200:
        die(f"GET {path}: {r.status} {body[:300]!r}")
    return json.loads(body)


def cmd_ready(base, timeout_s, rundir):
    # Started before the server, so that readiness is seen within milliseconds even
    # though the workers start working at once.
    deadline = time.monotonic() + float(timeout_s)
    open(os.path.join(rundir, "polling"), "w").close()
    pid = None
    while time.monotonic() < deadline:
        if pid is None:
            try:
                with open(os.path.join(rundir, "pid")) as f:
                    pid = int(f.read().strip() or 0) or None
            except FileNotFoundError:
                pass
        if pid is not None and not benchlib.alive(pid):
            die(f"the server (pid {pid}) exited before it was ready")
        if benchlib.readyz(base):
            print(f"{time.time():.6f}")
            return
        time.sleep(0.002)
    die(f"{base}/readyz not ready after {timeout_s}s")


def cmd_create(base, n, conc):
    n, conc = int(n), int(conc)
    tok = token(base)
    features = {f: {} for f in FEATURES}
    lock = threading.Lock()
    next_i = [1]
    errors = []

    def worker():
        c = conn(base)
        while True:
            with lock:
                i = next_i[0]
                if i > n or errors:
                    break
                next_i[0] += 1
            body = json.dumps({
                "name": f"Bench {i}",
                "domains": [{"domainName": f"bench{i}.example.com"}],
                "accountSize": 10,
                "features": features,
            })
            h = headers(tok) | {"content-type": "application/json"}
            try:
                c.request("POST", "/api/admin/account/v1/accounts", body=body, headers=h)
                r = c.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors.append(f"account {i}: {e!r}")
                break
            if r.status not in (200, 201, 202):
                with lock:
                    errors.append(f"account {i}: {r.status} {data[:300]!r}")
                break
        c.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        die("account creation failed: " + "; ".join(errors[:5]))
    dt = time.monotonic() - t0
    print(f"created {n} accounts in {dt:.2f}s ({n / dt:.0f}/s, {n * len(FEATURES)} jobs)",
          file=sys.stderr)


def cmd_drain(base, timeout_s):
    tok = Auth(base)
    c = conn(base)
    benchlib.drain(lambda state: get_json(c, f"/_ccadmin/jobs?state={state}&limit=1", tok)["jobs"],
                   timeout_s)


def cmd_count(base, state):
    tok = Auth(base)
    c = conn(base)
    jobs = get_json(c, f"/_ccadmin/jobs?state={state}&limit=10000", tok)["jobs"]
    if len(jobs) >= 10000:
        die("10000 or more jobs: count them in the database instead")
    print(len(jobs))


def cmd_token(base):
    print(token(base))


def main():
    benchlib.run_command({
        "ready": (cmd_ready, 3), "create": (cmd_create, 3), "drain": (cmd_drain, 2),
        "count": (cmd_count, 2), "token": (cmd_token, 1),
    }, __doc__)


if __name__ == "__main__":
    main()
