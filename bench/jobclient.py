#!/usr/bin/env python3
"""HTTP side of bench/jobs.sh (python3 stdlib only).

  jobclient.py port                       print a free loopback TCP port
  jobclient.py ready   BASE TIMEOUT_S DIR poll GET /readyz until it answers 200 and print
                                          the epoch time it did; creates DIR/polling once
                                          polling, and gives up if the pid written to
                                          DIR/pid (when it appears) exits
  jobclient.py create  BASE N CONC        create accounts 1..N (14 features each)
  jobclient.py drain   BASE TIMEOUT_S     poll the job list every 50 ms until nothing is
                                          pending or running; print the epoch time seen
  jobclient.py count   BASE STATE         count jobs in STATE (needs <= 10000 of them)
  jobclient.py pgurl   URL DBNAME         URL with its database replaced by DBNAME

  jobclient.py token   BASE               print an access token of the demo Administrator

BASE is like http://127.0.0.1:PORT. Calls authenticate as the demo Administrator, with
$BENCH_TOKEN when set (a token from an earlier server on the same database: signing keys
live in the database), so that phase B spends no CPU on a token grant; a new one is
fetched if it is refused.
"""

import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request

ACCOUNT = "PLATFM"
APPKEY = "demo-admin-appkey"
CLIENT_ID = "demo-admin"
CLIENT_SECRET = "demo-admin-secret"
FEATURES = [
    "voice", "chat", "messaging", "email", "ucs", "recorder", "aci", "bvr",
    "matching", "outbound", "cmvoice", "automatedoutreach", "advancedcmvoice",
    "realtimevoicetranscription",
]
POLL_S = 0.05


def die(msg):
    print(f"jobclient: {msg}", file=sys.stderr)
    sys.exit(1)


def token(base):
    form = urllib.parse.urlencode({
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }).encode()
    req = urllib.request.Request(
        f"{base}/api/auth/v1/{ACCOUNT}/protocol/openid-connect/token",
        data=form,
        headers={"appkey": APPKEY, "content-type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["access_token"]


def headers(tok):
    return {"authorization": f"Bearer {tok}", "appkey": APPKEY}


def conn(base):
    u = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


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


def cmd_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def cmd_ready(base, timeout_s, rundir):
    # Started before the server, so that readiness is seen within milliseconds even
    # though the workers start working at once.
    u = urllib.parse.urlsplit(base)
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
        if pid is not None and not alive(pid):
            die(f"the server (pid {pid}) exited before it was ready")
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
            c.request("GET", "/readyz")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                print(f"{time.time():.6f}")
                return
        except (OSError, http.client.HTTPException):
            pass
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
    deadline = time.monotonic() + float(timeout_s)
    while True:
        # Pending first: once it is empty no job can become pending again (the default
        # simulator never retries), so an empty running list after it means drained.
        busy = get_json(c, "/_ccadmin/jobs?state=pending&limit=1", tok)["jobs"] or \
            get_json(c, "/_ccadmin/jobs?state=running&limit=1", tok)["jobs"]
        if not busy:
            print(f"{time.time():.6f}")
            return
        if time.monotonic() > deadline:
            die(f"jobs still pending or running after {timeout_s}s")
        time.sleep(POLL_S)


def cmd_count(base, state):
    tok = Auth(base)
    c = conn(base)
    jobs = get_json(c, f"/_ccadmin/jobs?state={state}&limit=10000", tok)["jobs"]
    if len(jobs) >= 10000:
        die("10000 or more jobs: count them in the database instead")
    print(len(jobs))


def cmd_token(base):
    print(token(base))


def cmd_pgurl(url, dbname):
    u = urllib.parse.urlsplit(url)
    print(urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, u.fragment)))


def main():
    cmds = {
        "port": (cmd_port, 0), "ready": (cmd_ready, 3), "create": (cmd_create, 3),
        "drain": (cmd_drain, 2), "count": (cmd_count, 2), "pgurl": (cmd_pgurl, 2),
        "token": (cmd_token, 1),
    }
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or len(sys.argv) - 2 != cmds[sys.argv[1]][1]:
        die(__doc__)
    fn, _ = cmds[sys.argv[1]]
    fn(*sys.argv[2:])


if __name__ == "__main__":
    main()
