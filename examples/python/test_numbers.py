"""Phone numbers against ccadmin: the lifecycle, forced outcomes, and snapshots."""

NUMBERS = "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers"
AVAILABLE = "/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers"


def available_number(server, demo):
    res = demo.get(server.url(AVAILABLE),
                   params={"countryCode": "US", "type": "LOCAL", "areaCode": "212", "pageSize": 5})
    assert res.status_code == 200, res.text
    return res.json()["phoneNumbers"][0]["phoneNumber"]


def add_number(server, demo, headers=None):
    res = demo.post(server.url(NUMBERS), json={"phoneNumber": available_number(server, demo)},
                    headers=headers or {})
    assert res.status_code == 202, res.text
    assert res.json()["status"] == "INPROGRESS"
    return res.json()["phoneNumberId"]


def status_of(server, demo, number_id):
    res = demo.get(server.url(f"{NUMBERS}/{number_id}"))
    assert res.status_code == 200, res.text
    return res.json()["status"]


def transitions(server, number_id):
    res = server.admin.get(server.url("/_ccadmin/transitions"), params={"resourceId": number_id})
    assert res.status_code == 200, res.text
    return [(t["to"], t["cause"]) for t in res.json()["transitions"]]


def test_an_added_number_becomes_active(server):
    demo = server.login("ABCDEF", "demo-client", "demo-secret", "demo-appkey")
    number_id = add_number(server, demo)

    server.settle()

    assert status_of(server, demo, number_id) == "ACTIVE"
    assert transitions(server, number_id) == [("INPROGRESS", "request"), ("ACTIVE", "worker")]


def test_prefer_forces_a_failure(server):
    demo = server.login("ABCDEF", "demo-client", "demo-secret", "demo-appkey")
    number_id = add_number(server, demo, headers={"Prefer": "outcome=FAILED"})

    server.settle()

    assert status_of(server, demo, number_id) == "FAILED"
    assert transitions(server, number_id)[-1] == ("FAILED", "prefer")


def test_a_rule_fails_every_activation(server):
    res = server.admin.put(server.url("/_ccadmin/rules/number.activation"), json={"outcome": "FAILED"})
    assert res.status_code == 200, res.text
    demo = server.login("ABCDEF", "demo-client", "demo-secret", "demo-appkey")
    number_id = add_number(server, demo)

    server.settle()

    assert status_of(server, demo, number_id) == "FAILED"
    assert transitions(server, number_id)[-1] == ("FAILED", "rule")


def test_each_test_starts_from_the_demo_data(server):
    demo = server.login("ABCDEF", "demo-client", "demo-secret", "demo-appkey")
    res = demo.get(server.url(NUMBERS))
    assert res.status_code == 200, res.text
    assert res.json()["pagination"]["total"] == 0
    rules = server.admin.get(server.url("/_ccadmin/rules")).json()
    assert rules["rules"] == []


def test_a_snapshot_brings_a_world_back(server):
    demo = server.login("ABCDEF", "demo-client", "demo-secret", "demo-appkey")
    number_id = add_number(server, demo)
    server.settle()
    snapshot = server.admin.get(server.url("/_ccadmin/state"), params={"inventory": "false"})
    assert snapshot.status_code == 200
    server.reset()
    assert demo.get(server.url(f"{NUMBERS}/{number_id}")).status_code == 404

    res = server.admin.put(server.url("/_ccadmin/state"), data=snapshot.content,
                           headers={"Content-Type": "application/json"})

    assert res.status_code == 200, res.text
    assert res.json()["rows"]["phone_number"] == 1
    assert status_of(server, demo, number_id) == "ACTIVE"
