#!/usr/bin/env python3
"""Python shared by the benchmark clients (bench/*client.py) and bench/lib.sh (python3
standard library only). The clients import it; lib.sh runs it:

  benchlib.py port                      print a free loopback TCP port
  benchlib.py pgurl URL DBNAME          URL with its database replaced by DBNAME
  benchlib.py ready BASE TIMEOUT_S PID  poll GET BASE/readyz until it answers 200; give up
                                        if process PID exits first
  benchlib.py wrk FILE                  parse `wrk --latency` output: "req_per_s p50_ms
                                        p99_ms max_ms requests non2xx errors"

BASE is like http://127.0.0.1:PORT.
"""

import http.client
import json
import os
import re
import socket
import sys
import time
import urllib.parse

# The demo seed's credentials: the Administrator (acts in every account) and the
# Account Administrator of ABCDEF.
ADMIN = {"account": "PLATFM", "appkey": "demo-admin-appkey",
         "client_id": "demo-admin", "client_secret": "demo-admin-secret"}
TENANT = {"account": "ABCDEF", "appkey": "demo-appkey",
          "client_id": "demo-client", "client_secret": "demo-secret"}
# Every account feature, in the order of the API's documentation.
FEATURES = [
    "voice", "chat", "messaging", "email", "ucs", "recorder", "aci", "bvr",
    "matching", "outbound", "cmvoice", "automatedoutreach", "advancedcmvoice",
    "realtimevoicetranscription",
]
# How often the drain polls the job list.
POLL_S = 0.05


def die(msg):
    """Exits with MSG on stderr, prefixed with the running program's name."""
    prog = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    print(f"{prog}: {msg}", file=sys.stderr)
    sys.exit(1)


def conn(base, timeout=60):
    u = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def alive(pid):
    """Whether process PID is there and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def readyz(base):
    """One GET BASE/readyz: whether it answered 200 (False on a connection error)."""
    try:
        c = conn(base, 5)
        c.request("GET", "/readyz")
        r = c.getresponse()
        r.read()
        c.close()
        return r.status == 200
    except (OSError, http.client.HTTPException):
        return False


def token(base, who):
    """An access token of WHO (ADMIN or TENANT), by client_credentials."""
    form = urllib.parse.urlencode({
        "grant_type": "client_credentials",
        "client_id": who["client_id"],
        "client_secret": who["client_secret"],
    })
    c = conn(base)
    c.request("POST", f"/api/auth/v1/{who['account']}/protocol/openid-connect/token", form,
              {"appkey": who["appkey"], "content-type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status != 200:
        die(f"token of {who['client_id']}: {r.status} {data[:300]!r}")
    return json.loads(data)["access_token"]


def headers(tok, who):
    return {"authorization": f"Bearer {tok}", "appkey": who["appkey"]}


def drain(jobs, timeout_s):
    """Polls every POLL_S until no job is pending or running, then prints the epoch time
    it saw that. JOBS(state) returns the first job in that state, as a list."""
    deadline = time.monotonic() + float(timeout_s)
    while True:
        # Pending first: once it is empty no job can become pending again (the load has
        # stopped and the default simulator never retries), so an empty running list
        # after it means drained.
        if not jobs("pending") and not jobs("running"):
            print(f"{time.time():.6f}")
            return
        if time.monotonic() > deadline:
            die(f"jobs still pending or running after {timeout_s}s")
        time.sleep(POLL_S)


def cmd_port():
    print(free_port())


def cmd_pgurl(url, dbname):
    u = urllib.parse.urlsplit(url)
    print(urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, u.fragment)))


def cmd_ready(base, timeout_s, pid):
    deadline = time.monotonic() + float(timeout_s)
    while time.monotonic() < deadline:
        if not alive(int(pid)):
            die(f"the server (pid {pid}) exited before it was ready")
        if readyz(base):
            return
        time.sleep(0.02)
    die(f"{base}/readyz not ready after {timeout_s}s")


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ms(value):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not m:
        die(f"unreadable wrk duration {value!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def cmd_wrk(path):
    text = open(path).read()
    try:
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
        p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
        p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
        mx = ms(re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", text, re.M).group(1))
        requests = int(re.search(r"(\d+) requests in", text).group(1))
    except AttributeError:
        die(f"unreadable wrk output in {path}:\n{text}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    print(f"{rps:.0f} {p50:.2f} {p99:.2f} {mx:.2f} {requests} "
          f"{int(non2xx.group(1)) if non2xx else 0} "
          f"{sum(map(int, errors.groups())) if errors else 0}")


def run_command(cmds, doc):
    """Runs the command named by the first argument. CMDS maps each name to (function,
    how many arguments it takes, or "*" for any number); a call that fits none exits
    with DOC, the program's usage."""
    a = sys.argv[1:]
    if a and a[0] in cmds:
        fn, n = cmds[a[0]]
        if n == "*" or len(a) - 1 == n:
            return fn(*a[1:])
    die(doc)


def main():
    run_command({"port": (cmd_port, 0), "pgurl": (cmd_pgurl, 2), "ready": (cmd_ready, 3),
                 "wrk": (cmd_wrk, 1)}, __doc__)


if __name__ == "__main__":
    main()
