//! The Accounts API: the seed's requests, replace semantics, roles, listing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, assert_problem, spawn_app, status_json, violations};

const ACCOUNTS: &str = "/api/admin/account/v1/accounts";
const AQWSDE: &str = "/api/admin/account/v1/accounts/AQWSDE";

/// The accounts seed's PUT body, word for word.
fn seed_put_body() -> Value {
    json!({
        "name": "SyncG", "isDefault": false, "description": "Account for SyncG",
        "domains": [{"domainName": "avaya.com", "isDefault": true}],
        "accountSize": 10, "accountId": "AQWSDE", "enabled": true, "countryCode": "IN",
        "features": {"voice": {
            "cloudSwitchAccountDID": "cloudSwitchAccountDIDId",
            "cloudSwitchAccountUCID": "cloudSwitchAccountUCIDId",
            "voiceProvider": "UCCC", "deleteVoiceProviderData": true, "consult": true}},
        "profiles": [{"profileId": "AQXSWF", "url": "/api/admin/user/v1/accounts/AVSDER/profiles/ASEDFG"}]
    })
}

/// Asserts that every field of `expected` is in `actual` with the same value.
fn assert_contains(actual: &Value, expected: &Value) {
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&actual[k], v, "field {k} of {actual}");
    }
}

async fn create_account(app: &TestApp, name: &str) -> Value {
    let admin = app.admin().await;
    let res = app
        .post(ACCOUNTS, &admin, &json!({"name": name, "domains": [{"domainName": format!("{}.example.com", name.to_lowercase())}], "accountSize": 5}))
        .await;
    let (status, body) = status_json(res).await;
    assert_eq!(status, 202, "{body}");
    body
}

backend_tests! {
    async fn get_account_answers_the_seeds_account(b: Backend) {
        let app = spawn_app(&b).await;
        let (status, body) = status_json(app.get(AQWSDE, &app.admin().await).await).await;
        assert_eq!(status, 200);
        assert_contains(&body, &json!({
            "name": "SyncG", "isDefault": false, "description": "Account for SyncG",
            "domains": [{"domainName": "avaya.com", "isDefault": true}],
            "accountSize": 10, "accountId": "AQWSDE", "enabled": true, "countryCode": "IN",
            "url": "/api/admin/account/v1/accounts/AQWSDE"
        }));
        assert!(chrono_like(&body["createdAt"]), "{body}");
        assert!(body.get("features").is_none(), "absent optional fields are left out: {body}");
    }

    async fn the_seeds_put_is_accepted_and_its_status_completes(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, body) = status_json(app.put(AQWSDE, &admin, &seed_put_body()).await).await;
        assert_eq!(status, 202, "{body}");
        let mut expected = seed_put_body();
        expected.as_object_mut().unwrap().remove("profiles");
        assert_contains(&body, &expected);
        assert_eq!(body["profiles"][0]["profileId"], "AQXSWF");
        assert!(body.get("enabledFeatures").is_none(), "voice is still being provisioned: {body}");

        // The seed's first status: update in progress.
        let (status, statuses) = status_json(app.post(&format!("{ACCOUNTS}:listStatuses"), &admin, &json!({"accountIds": ["AQWSDE"]})).await).await;
        assert_eq!(status, 200);
        assert_eq!(statuses, json!([{
            "action": "UPDATE", "status": "IN_PROGRESS", "message": "Operation is in progress",
            "accountId": "AQWSDE",
            "features": {"voice": {"action": "ADD", "status": "IN_PROGRESS", "message": "Operation is in progress"}}
        }]));
        // Not before the simulated delay (200 ms on the server's clock) has passed.
        assert_eq!(app.run_due_jobs().await, 0);

        app.finish_jobs().await;
        // The seed's second status: update completed.
        assert_eq!(app.account_status("AQWSDE", &admin).await, json!({
            "action": "UPDATE", "status": "COMPLETED", "message": "Completed successfully",
            "accountId": "AQWSDE",
            "features": {"voice": {"action": "ADD", "status": "COMPLETED", "message": "Feature added successfully"}}
        }));
        let (status, got) = status_json(app.get(AQWSDE, &admin).await).await;
        assert_eq!(status, 200);
        assert_eq!(got["features"], seed_put_body()["features"]);
        assert_eq!(got["enabledFeatures"], "voice");
    }

    async fn put_replaces_the_whole_account_and_ignores_read_only_fields(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        assert_eq!(app.put(AQWSDE, &admin, &seed_put_body()).await.status(), 202);
        app.finish_jobs().await;
        let replacement = json!({"name": "SyncG Renamed", "domains": [{"domainName": "syncg.example.org"}],
            "accountSize": 20, "accountId": "XXXXXX", "isDefault": true, "enabled": false,
            "createdAt": "1999-01-01T00:00:00Z", "url": "/elsewhere"});
        let (status, body) = status_json(app.put(AQWSDE, &admin, &replacement).await).await;
        assert_eq!(status, 202, "{body}");
        let (_, got) = status_json(app.get(AQWSDE, &admin).await).await;
        assert_eq!(got, body);
        assert_contains(&got, &json!({"name": "SyncG Renamed", "accountId": "AQWSDE", "isDefault": false,
            "enabled": true, "accountSize": 20, "url": "/api/admin/account/v1/accounts/AQWSDE",
            "domains": [{"domainName": "syncg.example.org", "isDefault": true}]}));
        for gone in ["description", "countryCode", "features", "profiles", "enabledFeatures"] {
            assert!(got.get(gone).is_none(), "{gone} should be removed: {got}");
        }
        assert_ne!(got["createdAt"], "1999-01-01T00:00:00Z");

        let status = app.account_status("AQWSDE", &admin).await;
        assert_eq!(status["features"]["voice"], json!({"action": "DELETE", "status": "DELETE_IN_PROGRESS", "message": "Operation is in progress"}));
        app.finish_jobs().await;
        let status = app.account_status("AQWSDE", &admin).await;
        assert_eq!(status["features"]["voice"], json!({"action": "DELETE", "status": "DELETED", "message": "Feature deleted successfully"}));
        assert_eq!(status["status"], "COMPLETED");
    }

    async fn a_taken_name_is_409_ignoring_case(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let mut body = seed_put_body();
        body["name"] = json!("demo contact CENTER");
        let (status, problem) = status_json(app.put(AQWSDE, &admin, &body).await).await;
        assert_eq!(status, 409);
        assert_problem(&problem, 409, "conflict", "Conflict");
        assert_eq!(problem["detail"], "Account with AccountName:demo contact CENTER already exists");
        // Keeping one's own name is no conflict.
        assert_eq!(app.put(AQWSDE, &admin, &seed_put_body()).await.status(), 202);
    }

    async fn an_account_administrator_cannot_change_account_size_or_ungranted_features(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let path = "/api/admin/account/v1/accounts/ABCDEF";
        let (_, mut account) = status_json(app.get(path, &demo).await).await;
        account["accountSize"] = json!(101);
        let (status, body) = status_json(app.put(path, &demo, &account).await).await;
        assert_eq!(status, 403);
        assert_problem(&body, 403, "forbidden", "Forbidden");
        assert_eq!(violations(&body), vec![("accountSize".to_owned(), 20010)]);
        assert!(body["detail"].as_str().unwrap().contains("accountSize"));
        // The Administrator may.
        assert_eq!(app.put(path, &app.admin().await, &account).await.status(), 202);

        // A client granted only chat neither sees nor changes voice; chat it may add,
        // and the voice it never saw is kept.
        let admin = app.admin().await;
        let (_, mut full) = status_json(app.get(path, &admin).await).await;
        full["features"] = json!({"voice": {"consult": true}});
        assert_eq!(app.put(path, &admin, &full).await.status(), 202);
        let created = app.create_client("ABCDEF", &json!({"roles": ["Account Administrator"], "features": ["chat"]})).await;
        let chat_only = app.login("ABCDEF", created["clientId"].as_str().unwrap(), created["clientSecret"].as_str().unwrap(), created["appkey"].as_str().unwrap()).await;
        let (_, mut account) = status_json(app.get(path, &chat_only).await).await;
        assert_eq!(account["features"], json!({}), "voice is hidden from this client");
        account["features"] = json!({"voice": {"consult": false}});
        let (status, body) = status_json(app.put(path, &chat_only, &account).await).await;
        assert_eq!(status, 403);
        assert_eq!(violations(&body), vec![("features.voice".to_owned(), 20010)]);
        account["features"] = json!({"chat": {}});
        assert_eq!(app.put(path, &chat_only, &account).await.status(), 202);
        let (_, seen_by_admin) = status_json(app.get(path, &admin).await).await;
        assert_eq!(seen_by_admin["features"], json!({"voice": {"consult": true}, "chat": {}}));
    }

    async fn another_accounts_path_is_403_before_any_lookup(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        for path in [AQWSDE, "/api/admin/account/v1/accounts/ZZZZZZ"] {
            let (status, body) = status_json(app.get(path, &demo).await).await;
            assert_eq!(status, 403, "{path}");
            assert_problem(&body, 403, "forbidden", "Forbidden");
            let (status, _) = status_json(app.put(path, &demo, &json!({"not": "valid"})).await).await;
            assert_eq!(status, 403, "{path}");
        }
        assert_eq!(app.get(ACCOUNTS, &demo).await.status(), 403);
        assert_eq!(app.post(ACCOUNTS, &demo, &json!({})).await.status(), 403);
        let (status, _) = status_json(app.post(&format!("{ACCOUNTS}:listStatuses"), &demo, &json!({"accountIds": ["AQWSDE"]})).await).await;
        assert_eq!(status, 403);
    }

    async fn an_unknown_account_is_404_with_the_specs_detail(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, body) = status_json(app.get("/api/admin/account/v1/accounts/ZZZZZZ", &admin).await).await;
        assert_eq!(status, 404);
        assert_problem(&body, 404, "resource-not-found", "Resource Not Found");
        assert_eq!(body["detail"], "Account with AccountId:ZZZZZZ not found.");
        // Ids are case-sensitive.
        assert_eq!(app.get("/api/admin/account/v1/accounts/aqwsde", &admin).await.status(), 404);
        // 404 comes before the body is looked at.
        assert_eq!(app.put("/api/admin/account/v1/accounts/ZZZZZZ", &admin, &json!({})).await.status(), 404);
        let (status, body) = status_json(app.post(&format!("{ACCOUNTS}:listStatuses"), &admin, &json!({"accountIds": ["ZZZZZZ"]})).await).await;
        assert_eq!(status, 404);
        assert_eq!(body["detail"], "Account with AccountId:ZZZZZZ not found.");
    }

    async fn invalid_account_bodies_name_every_field(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let cases: Vec<(Value, Vec<(&str, i64)>)> = vec![
            (json!({}), vec![("name", 20002), ("domains", 20002), ("accountSize", 20002)]),
            (json!({"name": "", "domains": [], "accountSize": 1}), vec![("name", 20003)]),
            (json!({"name": "!!!", "domains": [{"domainName": "-bad.com"}], "accountSize": 0}),
             vec![("name", 20006), ("domains[0].domainName", 20006), ("accountSize", 20004)]),
            (json!({"name": "A", "domains": [{"domainName": "a.com"}], "accountSize": 1, "countryCode": "IND",
                    "emergencyEmailAddresses": ["nope"], "features": {"voice": {"mpcSIPTrunk": "x".repeat(51)}, "fax": {}}}),
             vec![("emergencyEmailAddresses[0]", 20006), ("features.voice.mpcSIPTrunk", 20003), ("features.fax", 20005), ("countryCode", 20003)]),
            (json!({"name": "A", "domains": [{"domainName": "a.com"}], "accountSize": "ten"}), vec![("accountSize", 20001)]),
            (json!({"name": "A".repeat(256), "domains": [{"domainName": "a.com"}], "accountSize": 1}), vec![("name", 20003)]),
            (json!({"name": "A", "domains": [{"domainName": "a.com"}], "accountSize": 1,
                    "profiles": [{"profileId": "TOOLONG"}, {"url": "/x"}]}),
             vec![("profiles[0].profileId", 20003), ("profiles[1].profileId", 20002)]),
        ];
        for (body, expected) in cases {
            let (status, problem) = status_json(app.put(AQWSDE, &admin, &body).await).await;
            assert_eq!(status, 400, "{body}");
            assert_problem(&problem, 400, "constraint-violation", "Constraint Violation");
            let expected: Vec<(String, i64)> = expected.into_iter().map(|(f, c)| (f.to_owned(), c)).collect();
            assert_eq!(violations(&problem), expected, "{body}");
        }
    }

    async fn an_administrator_creates_accounts_with_generated_ids(b: Backend) {
        let app = spawn_app(&b).await;
        let created = create_account(&app, "Acme").await;
        let id = created["accountId"].as_str().unwrap();
        assert!(id.len() == 6 && id.chars().all(|c| c.is_ascii_uppercase()), "{id}");
        assert_eq!(created["url"], format!("{ACCOUNTS}/{id}"));
        assert_eq!(created["enabled"], true);
        assert_eq!(created["isDefault"], false);
        let admin = app.admin().await;
        let (status, got) = status_json(app.get(&format!("{ACCOUNTS}/{id}"), &admin).await).await;
        assert_eq!(status, 200);
        assert_eq!(got, created);
        let (_, statuses) = status_json(app.post(&format!("{ACCOUNTS}:listStatuses"), &admin, &json!({"accountIds": [id]})).await).await;
        assert_eq!(statuses[0]["action"], "ADD");
        assert_eq!(statuses[0]["status"], "COMPLETED");
        let (status, _) = status_json(app.post(ACCOUNTS, &admin, &json!({"name": "ACME", "domains": [{"domainName": "x.com"}], "accountSize": 1})).await).await;
        assert_eq!(status, 409);
    }

    async fn list_statuses_defaults_to_the_callers_account_and_validates_ids(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let (status, body) = status_json(app.post(&format!("{ACCOUNTS}:listStatuses"), &demo, &json!({})).await).await;
        assert_eq!(status, 200);
        assert_eq!(body[0]["accountId"], "ABCDEF");
        assert_eq!(body[0]["action"], "ADD");
        let (status, body) = status_json(app.post(&format!("{ACCOUNTS}:listStatuses"), &demo, &json!({"accountIds": ["ABCDEF", "AB1"]})).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("accountIds[1]".to_owned(), 20006)]);
        let many: Vec<String> = (0..51).map(|_| "ABCDEF".to_owned()).collect();
        let (status, body) = status_json(app.post(&format!("{ACCOUNTS}:listStatuses"), &demo, &json!({"accountIds": many})).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("accountIds".to_owned(), 20003)]);
    }

    async fn list_accounts_pages_filters_and_orders_as_the_spec_says(b: Backend) {
        let app = spawn_app(&b).await;
        for name in ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"] {
            create_account(&app, name).await;
        }
        let admin = app.admin().await;
        // Platform, Demo Contact Center, SyncG and the six above: 9 accounts.
        let (status, page1) = status_json(app.get(ACCOUNTS, &admin).await).await;
        assert_eq!(status, 200);
        assert_eq!(page1["pagination"], json!({"pageNumber": 1, "pageSize": 5, "total": 9}));
        let names: Vec<&str> = page1["accounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Alpha", "Bravo", "Charlie", "Delta", "Demo Contact Center"]);
        assert_eq!(page1["links"], json!({"prev": "", "next": "/api/admin/account/v1/accounts?pageNumber=2&pageSize=5"}));

        let (_, page2) = status_json(app.get(page1["links"]["next"].as_str().unwrap(), &admin).await).await;
        let names: Vec<&str> = page2["accounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Echo", "Foxtrot", "Platform", "SyncG"]);
        assert_eq!(page2["links"]["next"], "");
        assert_eq!(page2["links"]["prev"], "/api/admin/account/v1/accounts?pageNumber=1&pageSize=5");

        let get = |q: &str| { let q = q.to_owned(); let app = &app; let admin = admin.clone();
            async move { status_json(app.get(&format!("{ACCOUNTS}?{q}"), &admin).await).await } };
        let names_of = |v: &Value| -> Vec<String> { v["accounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_owned()).collect() };

        let (_, body) = get("orderBy=name%20desc&pageSize=5").await;
        assert_eq!(names_of(&body)[0], "SyncG");
        let (_, body) = get("filter=name:syncg").await;
        assert_eq!(names_of(&body), ["SyncG"]);
        let (_, body) = get("filter=name=syncg").await;
        assert_eq!(body["pagination"]["total"], 0, "= is exact");
        let (_, body) = get("filter=name:D*").await;
        assert_eq!(names_of(&body), ["Delta", "Demo Contact Center"]);
        let (_, body) = get("filter=name:*o").await;
        assert_eq!(names_of(&body), ["Bravo", "Echo"]);
        let (_, body) = get("filter=name:*LT*").await;
        assert_eq!(names_of(&body), ["Delta"]);
        let (_, body) = get("filter=accountId:AQWSDE").await;
        assert_eq!(names_of(&body), ["SyncG"]);
        let (_, body) = get("filter=domainName:avaya.com").await;
        assert_eq!(names_of(&body), ["SyncG"]);
        let (_, body) = get("filter=isDefault:true").await;
        assert_eq!(names_of(&body), ["Platform"]);
        let (_, body) = get("filter=name:*a*&pageSize=5&orderBy=accountId").await;
        assert_eq!(body["pagination"]["total"], 6, "{body}");
        assert_eq!(body["links"]["next"], "/api/admin/account/v1/accounts?filter=name%3A*a*&pageSize=5&orderBy=accountId&pageNumber=2");
        let (_, body) = get("filter=name:100%25_sure").await;
        assert_eq!(body["pagination"]["total"], 0, "% and _ are not wildcards");
        let (status, body) = get("pageNumber=99").await;
        assert_eq!(status, 200);
        assert_eq!(body["accounts"], json!([]));
        assert_eq!(body["links"]["prev"], "/api/admin/account/v1/accounts?pageNumber=98&pageSize=5");

        for (q, field, code) in [("pageSize=4", "pageSize", 20004), ("pageSize=51", "pageSize", 20004),
                                 ("pageNumber=0", "pageNumber", 20004), ("pageNumber=x", "pageNumber", 20001),
                                 ("orderBy=Name", "orderBy", 20009), ("filter=color:red", "filter", 20009),
                                 ("filter=isDefault:maybe", "filter", 20005)] {
            let (status, body) = get(q).await;
            assert_eq!(status, 400, "{q}");
            assert_eq!(violations(&body), vec![(field.to_owned(), code)], "{q}");
        }
        let long = "x".repeat(256);
        let (status, _) = get(&format!("filter=name:{long}")).await;
        assert_eq!(status, 400);
    }

    async fn put_and_get_need_a_valid_path_id_after_authentication(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, body) = status_json(app.get("/api/admin/account/v1/accounts/ABC", &admin).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("accountId".to_owned(), 20006)]);
        let (status, _) = status_json(app.call(Method::GET, "/api/admin/account/v1/accounts/ABC", None, None).await).await;
        assert_eq!(status, 401, "401 comes before the path check");
        // A malformed path id is 400 even for an Account Administrator, before 403.
        let (status, _) = status_json(app.get("/api/admin/account/v1/accounts/ABC", &app.demo().await).await).await;
        assert_eq!(status, 400);
    }
}

fn chrono_like(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 24 && s.ends_with('Z') && s.as_bytes()[10] == b'T')
}
