//! Audit records: one per accepted write, searched and exported as the spec says.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Creds, TestApp, assert_problem, spawn_app, status_json, violations};

const SEARCH: &str = "/api/admin/account/v1/accounts/AQWSDE/audit-records:search";
const EXPORT: &str = "/api/admin/account/v1/accounts/AQWSDE/audit-records:export";

fn all_time(extra: Value) -> Value {
    let mut f = json!({"startDate": "2000-01-01T00:00:00Z", "endDate": "2999-01-01T00:00:00Z", "type": "ACCOUNT"});
    for (k, v) in extra.as_object().unwrap() {
        f[k] = v.clone();
    }
    f
}

async fn search(app: &TestApp, creds: &Creds, query: &str, filter: Value) -> Value {
    let (status, body) =
        status_json(app.post(&format!("{SEARCH}{query}"), creds, &filter).await).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Makes one write of each audited kind in AQWSDE.
async fn write_everything(app: &TestApp, admin: &Creds) {
    let account = json!({"name": "SyncG", "domains": [{"domainName": "avaya.com"}], "accountSize": 10, "features": {"voice": {}}});
    assert_eq!(
        app.put("/api/admin/account/v1/accounts/AQWSDE", admin, &account)
            .await
            .status(),
        202
    );
    let (_, p) = status_json(
        app.post(
            "/api/admin/user/v1/accounts/AQWSDE/profiles",
            admin,
            &json!({"profileName": "Chris Dunbar"}),
        )
        .await,
    )
    .await;
    let pid = p["profileId"].as_str().unwrap().to_owned();
    assert_eq!(
        app.put(
            &format!("/api/admin/user/v1/accounts/AQWSDE/profiles/{pid}"),
            admin,
            &json!({"profileName": "Chris D"})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/admin/user/v1/accounts/AQWSDE/profiles/{pid}"),
            Some(admin),
            None
        )
        .await
        .status(),
        204
    );
    let (_, n) = status_json(
        app.post(
            "/api/admin/account/v1/accounts/AQWSDE/organization-nodes",
            admin,
            &json!({"name": "PuneLocation", "parentPath": "SyncG"}),
        )
        .await,
    )
    .await;
    let nid = n["organizationNodeId"].as_str().unwrap().to_owned();
    let nodes = "/api/admin/account/v1/accounts/AQWSDE/organization-nodes";
    assert_eq!(
        app.put(
            &format!("{nodes}/{nid}"),
            admin,
            &json!({"name": "MumbaiLocation", "parentPath": "SyncG"})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.call(Method::DELETE, &format!("{nodes}/{nid}"), Some(admin), None)
            .await
            .status(),
        204
    );
    let client = app
        .create_client("AQWSDE", &json!({"roles": ["Account Administrator"]}))
        .await;
    let revoke = format!(
        "/api/admin/account/v1/accounts/AQWSDE/clients/{}",
        client["clientId"].as_str().unwrap()
    );
    assert_eq!(
        app.call(Method::DELETE, &revoke, Some(admin), None)
            .await
            .status(),
        204
    );
}

backend_tests! {
    async fn every_kind_of_write_is_recorded_without_secrets(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        write_everything(&app, &admin).await;
        let page = search(&app, &admin, "?pageSize=50&orderBy=date%20asc", all_time(json!({}))).await;
        let records = page["auditRecords"].as_array().unwrap();
        let kinds: Vec<(String, String)> = records.iter()
            .map(|r| (r["event"].as_str().unwrap().into(), r["auditData"]["resource"].as_str().unwrap().into())).collect();
        let expected = [("UPDATED", "ACCOUNT"), ("CREATED", "PROFILE"), ("UPDATED", "PROFILE"), ("DELETED", "PROFILE"),
            ("CREATED", "ORGANIZATION_NODE"), ("UPDATED", "ORGANIZATION_NODE"), ("DELETED", "ORGANIZATION_NODE"),
            ("CREATED", "CLIENT"), ("DELETED", "CLIENT")];
        let expected: Vec<(String, String)> = expected.iter().map(|(e, r)| (e.to_string(), r.to_string())).collect();
        assert_eq!(kinds, expected);
        for r in records {
            assert_eq!(r["author"], "demo-admin");
            assert_eq!(r["ipAddress"], "127.0.0.1");
            assert_eq!(r["type"], "ACCOUNT");
            assert!(r["date"].as_str().unwrap().ends_with('Z'));
        }
        assert_eq!(records[0]["auditData"]["features"], json!({"voice": {}}));
        assert_eq!(records[5]["auditData"]["name"], "MumbaiLocation");
        // Sent with the bare root, recorded in the seed's form as every answer shows it.
        assert_eq!(records[4]["auditData"]["parentPath"], "AccountSyncG");
        assert_eq!(records[5]["auditData"]["parentPath"], "AccountSyncG");
        let text = page.to_string();
        assert!(!text.contains("clientSecret") && !text.contains("appkey") && !text.contains("secret_hash"), "{text}");
        assert_eq!(page["pagination"]["total"], 9);
    }

    async fn filters_order_and_pages_follow_the_spec(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        write_everything(&app, &admin).await;
        let total = |v: &Value| v["pagination"]["total"].as_i64().unwrap();
        assert_eq!(total(&search(&app, &admin, "", all_time(json!({"event": "DELETED"}))).await), 3);
        assert_eq!(total(&search(&app, &admin, "", all_time(json!({"author": "demo-admin", "ipAddress": "127.0.0.1"}))).await), 9);
        assert_eq!(total(&search(&app, &admin, "", all_time(json!({"author": "someone-else"}))).await), 0);
        // searchKeyword looks in every field but the date, ignoring case.
        let found = search(&app, &admin, "", all_time(json!({"searchKeyword": "chris dun"}))).await;
        assert_eq!(total(&found), 1);
        assert_eq!(found["auditRecords"][0]["auditData"]["profileName"], "Chris Dunbar");
        assert_eq!(total(&search(&app, &admin, "", all_time(json!({"searchKeyword": "MUMBAI"}))).await), 1);
        assert_eq!(total(&search(&app, &admin, "", all_time(json!({"searchKeyword": "organization_node"}))).await), 3);
        assert_eq!(total(&search(&app, &admin, "", all_time(json!({"searchKeyword": "~~"}))).await), 0, "below the trigram length still works");
        let none = json!({"startDate": "2000-01-01T00:00:00Z", "endDate": "2000-01-02T00:00:00+01:00", "type": "ACCOUNT"});
        assert_eq!(total(&search(&app, &admin, "", none).await), 0);
        // Newest first by default; pages of 5 with working links.
        let first = search(&app, &admin, "", all_time(json!({}))).await;
        assert_eq!(first["auditRecords"][0]["auditData"]["resource"], "CLIENT");
        assert_eq!(first["auditRecords"].as_array().unwrap().len(), 5);
        assert_eq!(first["links"]["next"], "/api/admin/account/v1/accounts/AQWSDE/audit-records:search?pageNumber=2&pageSize=5");
        let asc = search(&app, &admin, "?orderBy=date%20asc", all_time(json!({}))).await;
        assert_eq!(asc["auditRecords"][0]["auditData"]["resource"], "ACCOUNT");
        for (query, body, field) in [("", json!({}), "startDate"), ("", json!({"startDate": "yesterday", "endDate": "2021-01-01T00:00:00Z", "type": "ACCOUNT"}), "startDate"),
                                     ("", all_time(json!({"event": "VIEWED"})), "event"), ("", all_time(json!({"author": "a b"})), "author"),
                                     ("?orderBy=name", all_time(json!({})), "orderBy"), ("?pageSize=51", all_time(json!({})), "pageSize")] {
            let (status, problem) = status_json(app.post(&format!("{SEARCH}{query}"), &admin, &body).await).await;
            assert_eq!(status, 400, "{query} {body}");
            assert_eq!(violations(&problem)[0].0, field, "{query} {body}");
        }
    }

    async fn export_writes_csv_and_refuses_more_than_a_thousand(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        write_everything(&app, &admin).await;
        let res = app.post(&format!("{EXPORT}?orderBy=date%20asc"), &admin, &all_time(json!({"event": "CREATED"}))).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = res.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "Account Id,Date,Event,Author,IP Address,Type,Audit Data");
        assert_eq!(lines.len(), 4, "{csv}");
        assert!(lines[1].starts_with("AQWSDE,") && lines[1].contains(",CREATED,demo-admin,127.0.0.1,ACCOUNT,\"{\"\""), "{csv}");

        // 1,001 records in range: the spec's 400 with 20007.
        let (_, p) = status_json(app.post("/api/admin/user/v1/accounts/AQWSDE/profiles", &admin, &json!({"profileName": "Busy"})).await).await;
        let path = format!("/api/admin/user/v1/accounts/AQWSDE/profiles/{}", p["profileId"].as_str().unwrap());
        for i in 0..992 {
            assert_eq!(app.put(&path, &admin, &json!({"profileName": format!("Busy {i}")})).await.status(), 200);
        }
        let (status, body) = status_json(app.post(EXPORT, &admin, &all_time(json!({}))).await).await;
        assert_eq!(status, 400);
        assert_problem(&body, 400, "constraint-violation", "Constraint Violation");
        assert_eq!(body["violations"], json!([{"field": "interval", "message": "Too many records within the requested time interval.", "code": 20007}]));
        let res = app.post(EXPORT, &admin, &all_time(json!({"event": "DELETED"}))).await;
        assert_eq!(res.status(), 200, "a narrower filter is fine");
    }

    async fn a_limited_account_administrator_sees_only_granted_features_in_records(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let account = json!({"name": "Demo Contact Center", "domains": [{"domainName": "demo.example.com"}], "accountSize": 100,
            "features": {"voice": {"consult": true}, "chat": {}}});
        assert_eq!(app.put("/api/admin/account/v1/accounts/ABCDEF", &admin, &account).await.status(), 202);
        let created = app.create_client("ABCDEF", &json!({"roles": ["Account Administrator"], "features": ["chat"]})).await;
        let chat = app.login("ABCDEF", created["clientId"].as_str().unwrap(), created["clientSecret"].as_str().unwrap(), created["appkey"].as_str().unwrap()).await;
        let (status, page) = status_json(app.post("/api/admin/account/v1/accounts/ABCDEF/audit-records:search", &chat, &all_time(json!({"event": "UPDATED"}))).await).await;
        assert_eq!(status, 200);
        assert_eq!(page["auditRecords"][0]["auditData"]["features"], json!({"chat": {}}));
        let csv = app.post("/api/admin/account/v1/accounts/ABCDEF/audit-records:export", &chat, &all_time(json!({"event": "UPDATED"}))).await.text().await.unwrap();
        assert!(!csv.contains("voice"), "{csv}");
    }

    async fn another_account_sees_none_of_it(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        write_everything(&app, &admin).await;
        let demo = app.demo().await;
        assert_eq!(app.post(SEARCH, &demo, &all_time(json!({}))).await.status(), 403);
        assert_eq!(app.post(EXPORT, &demo, &all_time(json!({}))).await.status(), 403);
        let (status, page) = status_json(app.post("/api/admin/account/v1/accounts/ABCDEF/audit-records:search", &demo, &all_time(json!({}))).await).await;
        assert_eq!(status, 200);
        assert_eq!(page["pagination"]["total"], 0);
    }
}
