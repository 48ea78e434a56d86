"""pytest fixtures that start ccadmin for a test session (docs/testing.md).

The binary is `$CCADMIN_BIN`, else `target/debug/ccadmin` of this repository. It is
started on a free port (`--listen 127.0.0.1:0`), which it writes to `--port-file` once
it accepts connections; every test starts from the demo data (`POST /_ccadmin/reset`).
"""

import os
import pathlib
import subprocess
import time

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CCADMIN_BIN") or str(ROOT / "target" / "debug" / "ccadmin")

# The demo credentials that `serve --demo` seeds (README.md).
ADMIN = ("PLATFM", "demo-admin", "demo-admin-secret", "demo-admin-appkey")
DEMO = ("ABCDEF", "demo-client", "demo-secret", "demo-appkey")


class Ccadmin:
    """A running ccadmin and sessions for its demo clients."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.admin = self.login(*ADMIN)

    def url(self, path):
        return self.base_url + path

    def login(self, account, client_id, secret, appkey):
        """A session whose requests carry a client_credentials token and the appkey."""
        res = requests.post(
            self.url(f"/api/auth/v1/{account}/protocol/openid-connect/token"),
            headers={"appkey": appkey},
            data={"grant_type": "client_credentials", "client_id": client_id,
                  "client_secret": secret},
            timeout=10,
        )
        res.raise_for_status()
        session = requests.Session()
        session.headers.update({
            "Authorization": "Bearer " + res.json()["access_token"],
            "appkey": appkey,
        })
        return session

    def reset(self):
        """Back to the demo data: accounts, numbers, jobs, journal, rules, clock."""
        res = self.admin.post(self.url("/_ccadmin/reset"), timeout=30)
        assert res.status_code == 204, res.text

    def settle(self):
        """Runs every pending job to its end now (moving the server's clock)."""
        res = self.admin.post(self.url("/_ccadmin/jobs:settle"), timeout=30)
        assert res.status_code == 200, res.text
        return res.json()


@pytest.fixture(scope="session")
def ccadmin(tmp_path_factory):
    work = tmp_path_factory.mktemp("ccadmin")
    port_file = work / "port"
    log = open(work / "server.log", "w")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["RUST_LOG"] = "warn"
    proc = subprocess.Popen(
        [BIN, "serve", "--demo", "--listen", "127.0.0.1:0", "--port-file", str(port_file),
         "--data-dir", str(work / "data"), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=log, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if proc.poll() is not None:
                raise RuntimeError("ccadmin exited: " + (work / "server.log").read_text())
            if time.monotonic() > deadline:
                raise RuntimeError("ccadmin did not write its port file in time")
            time.sleep(0.05)
        yield Ccadmin("http://" + port_file.read_text().strip())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def server(ccadmin):
    """The session's server, reset to the demo data before the test."""
    ccadmin.reset()
    return ccadmin
