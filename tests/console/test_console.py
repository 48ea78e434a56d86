"""The web console in chromium: both roles, every page, live changes, errors."""

import re
import time

from playwright.sync_api import expect

from conftest import ACCOUNT_ADMIN, ADMIN, BASE, check_page, sign_in


def test_the_sign_in_page_is_accessible_and_says_why_a_sign_in_failed(page):
    page.goto(BASE + "/")
    expect(page).to_have_url(BASE + "/console")
    expect(page.get_by_text("The demo credentials are public")).to_be_visible()
    check_page(page, "sign-in")
    page.get_by_label("Account ID").fill("ABCDEF")
    page.get_by_label("Client ID").fill("demo-client")
    page.get_by_label("Client secret").fill("wrong")
    page.get_by_label("App key").fill("demo-appkey")
    page.get_by_label("Client secret").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("401")
    assert page.evaluate("sessionStorage.length") == 0
    check_page(page, "sign-in-failed")


def test_the_administrator_sees_every_account_and_an_accounts_fields(page, admin_api):
    sign_in(page, ADMIN)
    table = page.locator("table")
    expect(table.get_by_role("link", name="ABCDEF")).to_be_visible()
    expect(table.get_by_text("SyncG", exact=True)).to_be_visible()
    # The token is kept in sessionStorage only.
    assert page.evaluate("localStorage.length") == 0
    assert "token" in page.evaluate("sessionStorage.getItem('ccadmin.session')")
    check_page(page, "accounts-administrator")
    page.get_by_label("Filter by name (or a filter expression)").fill("Sync")
    page.get_by_label("Filter by name (or a filter expression)").press("Enter")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name="AQWSDE").click()
    expect(page.get_by_role("heading", name="Account AQWSDE")).to_be_visible()
    expect(page.get_by_text("Account for SyncG")).to_be_visible()
    # Another client adds a feature: it shows, then COMPLETED, without a reload.
    admin_api.call("PUT", "/api/admin/account/v1/accounts/AQWSDE", {
        "name": "SyncG", "description": "Account for SyncG", "domains": [{"domainName": "avaya.com", "isDefault": True}],
        "accountSize": 10, "countryCode": "IN", "features": {"voice": {"consult": True}}})
    expect(page.locator('tr[data-feature="voice"] .badge')).to_have_text("COMPLETED")
    check_page(page, "account-detail")


def test_the_account_administrator_sees_only_its_account(page):
    sign_in(page, ACCOUNT_ADMIN)
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody").get_by_role("link", name="ABCDEF")).to_be_visible()
    expect(page.get_by_text("SyncG")).to_have_count(0)
    expect(page.get_by_text("PLATFM")).to_have_count(0)
    expect(page.get_by_role("link", name="Emulator")).to_have_count(0)
    check_page(page, "accounts-account-administrator")


def add_first_available(page, area_code):
    page.get_by_label("Type").select_option("LOCAL")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Area code").fill(area_code)
    page.get_by_role("button", name="Search", exact=True).click()
    row = page.locator("tr[data-available]").first
    number = row.get_attribute("data-available")
    row.get_by_role("button", name=f"Add {number}").click()
    return number


def test_a_number_added_from_the_search_turns_active_without_a_reload(page, admin_api):
    sign_in(page, ACCOUNT_ADMIN)
    page.get_by_role("link", name="Voice").click()
    expect(page.get_by_role("heading", name="Voice of ABCDEF")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    number = add_first_available(page, "415")
    row = page.locator(f'tr[data-number="{number}"]')
    expect(row.locator(".badge")).to_have_text("ACTIVE")
    # A number another client adds appears in the open list, and turns ACTIVE.
    other = admin_api.call("GET", "/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers?countryCode=US&type=LOCAL&areaCode=512&pageSize=5")
    theirs = other["phoneNumbers"][0]["phoneNumber"]
    admin_api.call("POST", "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers", {"phoneNumber": theirs})
    expect(page.locator(f'tr[data-number="{theirs}"] .badge')).to_have_text("ACTIVE")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    # The voice filter.
    page.get_by_label("Filter", exact=True).fill(f"phoneNumber={theirs}")
    page.get_by_role("button", name="Filter numbers").click()
    expect(page.locator("tr[data-number]")).to_have_count(1)
    page.get_by_label("Filter", exact=True).fill("")
    page.get_by_role("button", name="Filter numbers").click()
    expect(page.locator("tr[data-number]")).to_have_count(2)
    # Edit, then release.
    row.get_by_role("button", name=f"Edit {number}").click()
    page.get_by_label("Display name").fill("Front desk")
    page.get_by_role("button", name="Save number").click()
    expect(row).to_contain_text("Front desk")
    check_page(page, "voice")
    release = row.get_by_role("button", name="Release")
    release.click()
    row.get_by_role("button", name="Confirm release").click()
    expect(page.locator(f'tr[data-number="{number}"]')).to_have_count(0)


def test_a_rule_that_fails_numbers_shows_failed_with_its_message(page, admin_api):
    sign_in(page, ADMIN)
    page.get_by_role("link", name="Emulator").click()
    rule = page.get_by_role("form", name="Rule for number.activation")
    rule.get_by_label("Outcome").select_option("FAILED")
    rule.get_by_role("button", name="Save rule").click()
    expect(page.locator('tr[data-kind="number.activation"]')).to_contain_text("outcome FAILED")
    try:
        expect(page.locator(".feed li").first).to_be_visible()
        check_page(page, "emulator")
        page.get_by_label("Working account").select_option("ABCDEF")
        page.get_by_role("link", name="Voice").click()
        expect(page.get_by_role("heading", name="Voice of ABCDEF")).to_be_visible()
        number = add_first_available(page, "617")
        row = page.locator(f'tr[data-number="{number}"]')
        expect(row.locator(".badge")).to_have_text("FAILED")
        expect(row.locator(".status-message")).to_contain_text("simulated failure")
        check_page(page, "voice-failed-number")
        # The Administrator may disable and enable it.
        row.get_by_role("button", name="Disable").click()
        expect(row.locator(".badge")).to_have_text("DISABLED")
        row.get_by_role("button", name="Enable").click()
        expect(row.locator(".badge")).to_have_text("FAILED")
    finally:
        admin_api.call("DELETE", "/_ccadmin/rules/number.activation")


def test_a_node_created_under_syncg_appears_in_the_tree(page, admin_api):
    sign_in(page, ADMIN)
    page.get_by_label("Working account").select_option("AQWSDE")
    page.get_by_role("link", name="Organization").click()
    expect(page.get_by_role("heading", name="Organization of AQWSDE")).to_be_visible()
    create = page.get_by_role("form", name="Create a node")
    create.get_by_label("Name").fill("ConsoleTeam")
    create.get_by_label("Parent").select_option("AccountSyncG")
    create.get_by_label("Name").press("Enter")
    node = page.locator('li[data-path="AccountSyncG/ConsoleTeam"]')
    expect(node.locator(".badge").first).to_have_text("COMPLETED")
    create.get_by_label("Name").fill("ConsoleDesk")
    create.get_by_label("Parent").select_option("AccountSyncG/ConsoleTeam")
    create.get_by_role("button", name="Create node").click()
    child = page.locator('li[data-path="AccountSyncG/ConsoleTeam/ConsoleDesk"]')
    expect(child).to_be_visible()
    # Collapse and expand.
    page.get_by_role("button", name="Collapse ConsoleTeam").click()
    expect(child).to_have_count(0)
    page.get_by_role("button", name="Expand ConsoleTeam").click()
    expect(child).to_be_visible()
    # Rename, then move to the root.
    child.get_by_role("button", name=re.compile("Edit")).click()
    edit = page.get_by_role("form", name="Edit node ConsoleDesk")
    edit.get_by_label("Name").fill("ConsoleDesk2")
    edit.get_by_label("Parent").select_option("AccountSyncG")
    edit.get_by_role("button", name="Save node").click()
    expect(page.locator('li[data-path="AccountSyncG/ConsoleDesk2"] .badge')).to_have_text("COMPLETED")
    # A node another client creates, and that fails, shows without a reload.
    admin_api.call("PUT", "/_ccadmin/rules/org.node", {"outcome": "FAILED"})
    try:
        admin_api.call("POST", "/api/admin/account/v1/accounts/AQWSDE/organization-nodes",
                       {"name": "Doomed", "parentPath": "AccountSyncG/ConsoleTeam"})
        doomed = page.locator('li[data-path="AccountSyncG/ConsoleTeam/Doomed"]')
        expect(doomed.locator(".badge")).to_have_text("FAILED")
        expect(doomed).to_contain_text("Operation failed")
    finally:
        admin_api.call("DELETE", "/_ccadmin/rules/org.node")
    check_page(page, "organization")


def test_a_conflict_is_shown_next_to_its_field(page, admin_api):
    sign_in(page, ACCOUNT_ADMIN)
    page.get_by_role("link", name="Voice").click()
    # Typing in the Teams form while another client creates the ACO element: the ACO
    # section changes live, the form being typed in is left alone.
    teams = page.get_by_role("form", name="Create Microsoft Teams element")
    teams.get_by_label("Name").fill("Shared Name")
    admin_api.call("POST", "/api/admin/voice/v1/accounts/ABCDEF/aco-elements",
                   {"name": "Shared Name", "environment": "Production"})
    expect(page.locator('[data-element-type="ACO"] .badge')).to_have_text("SUCCESS")
    expect(teams.get_by_label("Name")).to_have_value("Shared Name")
    expect(teams.get_by_label("Name")).to_be_focused()
    teams.get_by_label("Name").press("Enter")
    section = page.locator('[data-element-type="MSTeams"]')
    expect(section.get_by_role("alert")).to_contain_text("Conflict (409)")
    name = teams.get_by_label("Name")
    expect(name).to_have_attribute("aria-invalid", "true")
    error = page.locator("#" + name.get_attribute("aria-describedby"))
    expect(error).to_contain_text("already exists")
    check_page(page, "voice-conflict")
    # Edit the ACO element, then delete it.
    aco_section = page.locator('[data-element-type="ACO"]')
    aco_section.get_by_role("button", name="Edit Avaya Cloud Office element").click()
    edit = page.get_by_role("form", name="Edit Avaya Cloud Office element")
    edit.get_by_label("Description").fill("Edited in the console")
    edit.get_by_role("button", name="Save element").click()
    expect(aco_section).to_contain_text("Edited in the console")
    aco_section.get_by_role("button", name="Delete Avaya Cloud Office element").click()
    aco_section.get_by_role("button", name="Click again to delete").click()
    expect(page.get_by_role("form", name="Create Avaya Cloud Office element")).to_be_visible()


def test_audit_records_are_searched_and_exported(page):
    sign_in(page, ADMIN)
    page.get_by_label("Working account").select_option("AQWSDE")
    page.get_by_role("link", name="Audit records").click()
    expect(page.get_by_role("heading", name="Audit records of AQWSDE")).to_be_visible()
    page.get_by_label("Keyword").fill("organization")
    page.get_by_role("button", name="Search records").click()
    expect(page.locator("tbody tr").first).to_be_visible()
    with page.expect_download() as d:
        page.get_by_role("button", name="Export CSV").click()
    path = d.value.path()
    assert open(path).readline().strip() != ""
    check_page(page, "audit")
    # A broken filter: the violation sits next to its field.
    page.get_by_label("From").fill("yesterday")
    page.get_by_role("button", name="Search records").click()
    expect(page.get_by_label("From")).to_have_attribute("aria-invalid", "true")


def test_an_expired_token_is_renewed_and_a_refused_renewal_returns_to_sign_in(page):
    sign_in(page, ACCOUNT_ADMIN)
    # The access token stops working: the kept credentials get a new one.
    page.evaluate("""() => { const s = JSON.parse(sessionStorage.getItem('ccadmin.session'));
        s.token = 'expired'; sessionStorage.setItem('ccadmin.session', JSON.stringify(s)); }""")
    page.get_by_role("link", name="Audit records").click()
    expect(page.get_by_role("heading", name="Audit records of ABCDEF")).to_be_visible()
    # Neither works any more: back to the sign-in form, saying why.
    page.evaluate("""() => { const s = JSON.parse(sessionStorage.getItem('ccadmin.session'));
        s.token = 'expired'; s.secret = 'revoked'; sessionStorage.setItem('ccadmin.session', JSON.stringify(s)); }""")
    page.get_by_role("link", name="Voice").click()
    expect(page.get_by_role("alert")).to_contain_text("session expired")
    expect(page.get_by_label("Account ID")).to_be_visible()
    page.get_by_label("Account ID").wait_for()


def test_sign_out_forgets_the_session(page):
    sign_in(page, ACCOUNT_ADMIN)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Client secret")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('ccadmin.session')") is None


def test_the_emulator_controls_verify_move_the_clock_and_reset(page, admin_api):
    # A number that waits for its documents (the seed's), added by another client.
    added = admin_api.call("POST", "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers", {"phoneNumber": "+16479308804"})
    sign_in(page, ADMIN)
    page.get_by_label("Working account").select_option("ABCDEF")
    page.get_by_role("link", name="Voice").click()
    row = page.locator('tr[data-number="+16479308804"]')
    expect(row.locator(".badge")).to_have_text("INACTIVE")
    expect(row.locator(".status-message")).to_contain_text("Verification needed")
    page.get_by_role("link", name="Emulator").click()
    verify = page.get_by_role("form", name="Verify a number's documents")
    verify.get_by_label("Phone number ID").fill(added["phoneNumberId"])
    verify.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status").filter(has_text="+16479308804")).to_contain_text("ACTIVE")
    # The clock: advance, freeze, unfreeze.
    before = page.locator("strong.mono").inner_text()
    page.get_by_label("Advance by").fill("5m")
    page.get_by_role("button", name="Advance", exact=True).click()
    expect(page.locator("strong.mono")).not_to_have_text(before)
    page.get_by_role("button", name="Freeze", exact=True).click()
    expect(page.locator('.badge[data-status="FROZEN"]')).to_be_visible()
    page.get_by_role("button", name="Unfreeze").click()
    expect(page.locator('.badge[data-status="FROZEN"]')).to_have_count(0)
    # Reset one account: its numbers go back to the inventory.
    page.get_by_label("Account ID (empty: everything)").fill("ABCDEF")
    page.get_by_role("button", name="Reset").click()
    page.get_by_role("button", name="Click again to reset").click()
    expect(page.get_by_text("Account ABCDEF reset.")).to_be_visible()
    page.get_by_role("link", name="Voice").click()
    expect(page.get_by_text("No phone numbers.")).to_be_visible()
