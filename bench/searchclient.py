#!/usr/bin/env python3
"""Helpers of bench/search.sh (standard library only).

  searchclient.py port                      a free TCP port on 127.0.0.1
  searchclient.py pgurl URL DBNAME          URL with its database replaced by DBNAME
  searchclient.py ready BASE TIMEOUT_S      waits until BASE/readyz answers 200
  searchclient.py token BASE                the demo client's access token (ABCDEF)
  searchclient.py check BASE TOKEN QUERY    one search: "status total returned ms"
  searchclient.py timed OUT -- CMD...       runs CMD (stdout to OUT, stderr passed on),
                                            prints "wall_s user_s sys_s exit_status"
  searchclient.py wrk FILE                  parses `wrk --latency` output: "req_per_s
                                            p50_ms p99_ms max_ms requests non2xx errors"
  searchclient.py cpu PID                   user+system CPU seconds of a process
  searchclient.py cpustat                   "busy total" jiffies of all CPUs (/proc/stat)
  searchclient.py busy BEFORE AFTER         % of all CPUs busy between two cpustat outputs
"""

import http.client
import json
import os
import re
import resource
import socket
import subprocess
import sys
import time
import urllib.parse

ACCOUNT = "ABCDEF"
APPKEY = "demo-appkey"
SEARCH = f"/api/admin/voice/v1/accounts/{ACCOUNT}/available-phone-numbers"


def die(msg):
    print(f"searchclient.py: {msg}", file=sys.stderr)
    sys.exit(1)


def conn(base):
    u = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def cmd_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_pgurl(url, db):
    u = urllib.parse.urlsplit(url)
    print(urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + db, u.query, u.fragment)))


def cmd_ready(base, timeout_s):
    deadline = time.monotonic() + float(timeout_s)
    while time.monotonic() < deadline:
        try:
            c = conn(base)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    die(f"{base} not ready after {timeout_s} s")


def cmd_token(base):
    c = conn(base)
    body = urllib.parse.urlencode({
        "grant_type": "client_credentials",
        "client_id": "demo-client",
        "client_secret": "demo-secret",
    })
    c.request("POST", f"/api/auth/v1/{ACCOUNT}/protocol/openid-connect/token", body, {
        "appkey": APPKEY,
        "content-type": "application/x-www-form-urlencoded",
    })
    r = c.getresponse()
    data = r.read()
    if r.status != 200:
        die(f"token: {r.status} {data[:300]!r}")
    print(json.loads(data)["access_token"])


def cmd_check(base, token, query):
    c = conn(base)
    t0 = time.perf_counter()
    c.request("GET", f"{SEARCH}?{query}", headers={
        "authorization": f"Bearer {token}",
        "appkey": APPKEY,
    })
    r = c.getresponse()
    data = r.read()
    ms = (time.perf_counter() - t0) * 1000
    if r.status != 200:
        print(f"{r.status} - - {ms:.1f}")
        print(data[:500].decode(errors="replace"), file=sys.stderr)
        return
    page = json.loads(data)
    print(f"{r.status} {page['pagination']['total']} {len(page['phoneNumbers'])} {ms:.1f}")


def cmd_timed(out, cmd):
    t0 = time.perf_counter()
    with open(out, "wb") as f:
        rc = subprocess.run(cmd, stdout=f).returncode
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"{wall:.3f} {ru.ru_utime:.2f} {ru.ru_stime:.2f} {rc}")


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


def cmd_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    print(f"{(int(fields[11]) + int(fields[12])) / ticks:.2f}")


def cmd_cpustat():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    print(sum(v[:8]) - idle, sum(v[:8]))


def cmd_busy(before, after):
    b0, t0 = map(int, before.split())
    b1, t1 = map(int, after.split())
    print(f"{100 * (b1 - b0) / max(t1 - t0, 1):.0f}")


def main():
    a = sys.argv[1:]
    if not a:
        print(__doc__)
        sys.exit(2)
    cmd, rest = a[0], a[1:]
    if cmd == "timed":
        if len(rest) < 3 or rest[1] != "--":
            die("usage: timed OUT -- CMD...")
        return cmd_timed(rest[0], rest[2:])
    fns = {"port": cmd_port, "pgurl": cmd_pgurl, "ready": cmd_ready, "token": cmd_token,
           "check": cmd_check, "wrk": cmd_wrk, "cpu": cmd_cpu,
           "cpustat": cmd_cpustat, "busy": cmd_busy}
    if cmd not in fns:
        die(f"unknown command {cmd}")
    fns[cmd](*rest)


if __name__ == "__main__":
    main()
