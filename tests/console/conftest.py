"""Fixtures of the console's browser tests: one chromium for the run, a fresh page per
test that records every request it makes, axe-core and screenshots on demand.

Run by scripts/console.sh, which starts the server and sets CONSOLE_BASE,
CONSOLE_AXE and CONSOLE_SCREENSHOTS."""

import json
import os
import urllib.request
from urllib.parse import urlencode

import pytest
from playwright.sync_api import sync_playwright

BASE = os.environ.get("CONSOLE_BASE", "http://127.0.0.1:8080")
AXE = os.environ.get("CONSOLE_AXE", "target/console-axe/node_modules/axe-core/axe.min.js")
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS", "target/console-screenshots")

ADMIN = ("PLATFM", "demo-admin", "demo-admin-secret", "demo-admin-appkey")
ACCOUNT_ADMIN = ("ABCDEF", "demo-client", "demo-secret", "demo-appkey")


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    # bypass_csp: only so that the tests can inject axe-core (the page itself allows only
    # its own origin); the requests recorded below check what the console loads.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    # The console loads and calls nothing but its own origin.
    foreign = [u for u in requests if not (u.startswith(BASE + "/") or u.startswith("data:") or u.startswith("blob:"))]
    assert not foreign, f"requests to another origin: {foreign}"
    assert not errors, f"script errors: {errors}"


def sign_in(page, creds):
    account, client, secret, appkey = creds
    page.goto(BASE + "/")
    page.get_by_label("Account ID").fill(account)
    page.get_by_label("Client ID").fill(client)
    page.get_by_label("Client secret").fill(secret)
    page.get_by_label("App key").fill(appkey)
    page.get_by_label("App key").press("Enter")
    page.get_by_role("button", name="Sign out").wait_for()


def check_page(page, name):
    """axe-core on the page as it is (no serious or critical violation), and a
    full-page screenshot to target/console-screenshots/<name>.png."""
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=AXE)
    result = page.evaluate("async () => (await axe.run(document)).violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))")
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: accessibility violations: {json.dumps(bad, indent=1)}"


class Api:
    """The API from the test, as another client."""

    def __init__(self, creds):
        self.account, client, secret, self.appkey = creds
        body = urlencode({"grant_type": "client_credentials", "client_id": client, "client_secret": secret}).encode()
        req = urllib.request.Request(f"{BASE}/api/auth/v1/{self.account}/protocol/openid-connect/token", data=body,
                                     headers={"appkey": self.appkey})
        self.token = json.load(urllib.request.urlopen(req))["access_token"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.token}", "appkey": self.appkey}
        if data is not None:
            headers["content-type"] = "application/json"
        req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req) as res:
            text = res.read()
            return json.loads(text) if text else None


@pytest.fixture(scope="session")
def admin_api():
    return Api(ADMIN)
