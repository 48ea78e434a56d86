#!/usr/bin/env python3
"""Helpers of bench/search.sh (standard library only; what the benchmark clients share
is in bench/benchlib.py).

  searchclient.py token BASE                the demo client's access token (ABCDEF)
  searchclient.py check BASE TOKEN QUERY    one search: "status total returned ms"
  searchclient.py timed OUT -- CMD...       runs CMD (stdout to OUT, stderr passed on),
                                            prints "wall_s user_s sys_s exit_status"
"""

import json
import resource
import subprocess
import sys
import time

import benchlib
from benchlib import TENANT, conn, die

SEARCH = f"/api/admin/voice/v1/accounts/{TENANT['account']}/available-phone-numbers"


def cmd_token(base):
    print(benchlib.token(base, TENANT))


def cmd_check(base, token, query):
    c = conn(base)
    t0 = time.perf_counter()
    c.request("GET", f"{SEARCH}?{query}", headers=benchlib.headers(token, TENANT))
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


def main():
    a = sys.argv[1:]
    if a and a[0] == "timed":
        if len(a) < 4 or a[2] != "--":
            die("usage: timed OUT -- CMD...")
        return cmd_timed(a[1], a[3:])
    benchlib.run_command({"token": (cmd_token, 1), "check": (cmd_check, 3)}, __doc__)


if __name__ == "__main__":
    main()
