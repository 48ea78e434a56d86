//! `GET /api/admin/account/v1/accounts/{accountId}/events`: the signed-in account's
//! transitions, live, in both modes; another account's path is refused and another
//! account's events never arrive.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Creds, TestApp, spawn_app, spawn_app_with, status_json};

fn events_path(account: &str) -> String {
    format!("/api/admin/account/v1/accounts/{account}/events")
}

async fn open(app: &TestApp, account: &str, creds: &Creds) -> reqwest::Response {
    let res = app
        .http
        .get(app.url(&events_path(account)))
        .bearer_auth(&creds.token)
        .header("appkey", &creds.appkey)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    res
}

/// The events' data read from `res` until `done` holds of them or 10 s pass.
async fn read_until(res: &mut reqwest::Response, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let parse = |text: &str| -> Vec<Value> {
        text.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(|d| serde_json::from_str(d).expect("JSON data"))
            .collect()
    };
    while !done(&parse(&text)) && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), res.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    parse(&text)
}

backend_tests! {
    async fn an_account_administrator_follows_only_its_own_account(b: Backend) {
        let app = spawn_app(&b).await;
        let (admin, demo) = (app.admin().await, app.demo().await);

        // Another account's stream: 403 before anything; no token: 401.
        let (status, body) = status_json(app.get(&events_path("AQWSDE"), &demo).await).await;
        assert_eq!(status, 403, "{body}");
        let res = app.http.get(app.url(&events_path("ABCDEF"))).send().await.unwrap();
        assert_eq!(res.status(), 401);

        let mut mine = open(&app, "ABCDEF", &demo).await;
        let mut theirs = open(&app, "AQWSDE", &admin).await;
        // Account B (AQWSDE) changes: a feature; account A (ABCDEF) adds a number.
        let put = json!({"name": "SyncG", "domains": [{"domainName": "avaya.com"}], "accountSize": 10, "features": {"voice": {}}});
        assert_eq!(app.put("/api/admin/account/v1/accounts/AQWSDE", &admin, &put).await.status(), 202);
        let (status, number) = status_json(app.post("/api/admin/voice/v1/accounts/ABCDEF/phone-numbers", &demo,
            &json!({"phoneNumber": "+12702289911"})).await).await;
        assert_eq!(status, 202, "{number}");
        app.finish_jobs().await;

        let id = number["phoneNumberId"].as_str().unwrap();
        let seen = read_until(&mut mine, |d| d.iter().any(|t| t["resourceId"] == id && t["to"] == "ACTIVE")).await;
        assert!(seen.iter().all(|t| t["accountId"] == "ABCDEF"), "another account's events reached ABCDEF: {seen:?}");
        let of_number: Vec<(&Value, &Value)> = seen.iter().filter(|t| t["resourceId"] == id).map(|t| (&t["from"], &t["to"])).collect();
        assert_eq!(of_number, [(&Value::Null, &json!("INPROGRESS")), (&json!("INPROGRESS"), &json!("ACTIVE"))], "{seen:?}");

        let seen = read_until(&mut theirs, |d| d.iter().any(|t| t["to"] == "COMPLETED")).await;
        assert!(seen.iter().all(|t| t["accountId"] == "AQWSDE"), "{seen:?}");
        assert!(seen.iter().any(|t| t["resourceId"] == "features.voice" && t["to"] == "COMPLETED"), "{seen:?}");
    }

    async fn a_client_sees_no_transition_of_a_feature_it_was_not_granted(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let created = app.create_client("ABCDEF", &json!({"roles": ["Account Administrator"], "features": ["chat"]})).await;
        let chat_only = app.login("ABCDEF", created["clientId"].as_str().unwrap(), created["clientSecret"].as_str().unwrap(),
            created["appkey"].as_str().unwrap()).await;
        let mut stream = open(&app, "ABCDEF", &chat_only).await;
        let put = json!({"name": "Demo Contact Center", "domains": [{"domainName": "demo.example.com"}], "accountSize": 100,
            "features": {"voice": {}, "chat": {}}});
        assert_eq!(app.put("/api/admin/account/v1/accounts/ABCDEF", &admin, &put).await.status(), 202);
        app.finish_jobs().await;
        let seen = read_until(&mut stream, |d| d.iter().any(|t| t["resourceId"] == "features.chat" && t["to"] == "COMPLETED")).await;
        assert!(seen.iter().any(|t| t["resourceId"] == "features.chat" && t["to"] == "COMPLETED"), "{seen:?}");
        assert!(!seen.iter().any(|t| t["resourceId"] == "features.voice"), "an ungranted feature's transitions: {seen:?}");
    }

    async fn a_stream_resumes_after_last_event_id(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let mut first = open(&app, "ABCDEF", &demo).await;
        let (status, number) = status_json(app.post("/api/admin/voice/v1/accounts/ABCDEF/phone-numbers", &demo,
            &json!({"phoneNumber": "+12702289911"})).await).await;
        assert_eq!(status, 202, "{number}");
        app.finish_jobs().await;
        let seen = read_until(&mut first, |d| d.len() >= 2).await;
        assert_eq!(seen.len(), 2, "{seen:?}");
        drop(first);
        let mut again = app.http.get(app.url(&events_path("ABCDEF"))).bearer_auth(&demo.token).header("appkey", &demo.appkey)
            .header("Last-Event-ID", seen[0]["seq"].to_string()).send().await.unwrap();
        assert_eq!(again.status(), 200);
        let replay = read_until(&mut again, |d| !d.is_empty()).await;
        assert_eq!(replay.first().map(|t| &t["seq"]), Some(&seen[1]["seq"]), "{replay:?}");
        let (status, body) = status_json(app.http.get(app.url(&events_path("ABCDEF"))).bearer_auth(&demo.token)
            .header("appkey", &demo.appkey).header("Last-Event-ID", "x").send().await.unwrap()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["violations"][0]["field"], "Last-Event-ID");
    }

    async fn the_stream_works_outside_emulator_mode(b: Backend) {
        let app = spawn_app_with(&b, |a| {
            a.demo = false;
            a.admin.admin_account_id = Some("PLATFM".into());
            a.admin.admin_client_id = Some("root".into());
            a.admin.admin_client_secret = Some("root-secret".into());
            a.admin.admin_appkey = Some("root-appkey".into());
        }).await;
        let admin = app.login("PLATFM", "root", "root-secret", "root-appkey").await;
        let (status, _) = status_json(app.get("/_ccadmin/jobs", &admin).await).await;
        assert_eq!(status, 404, "not in emulator mode");
        let (status, account) = status_json(app.post("/api/admin/account/v1/accounts", &admin, &json!({
            "name": "Streamed", "domains": [{"domainName": "streamed.example.com"}], "accountSize": 5})).await).await;
        assert_eq!(status, 202, "{account}");
        let id = account["accountId"].as_str().unwrap();
        let mut stream = open(&app, id, &admin).await;
        let put = json!({"name": "Streamed", "domains": [{"domainName": "streamed.example.com"}], "accountSize": 5, "features": {"voice": {}}});
        assert_eq!(app.put(&format!("/api/admin/account/v1/accounts/{id}"), &admin, &put).await.status(), 202);
        app.finish_jobs().await;
        let seen = read_until(&mut stream, |d| d.iter().any(|t| t["to"] == "COMPLETED")).await;
        assert!(seen.iter().any(|t| t["resourceId"] == "features.voice" && t["to"] == "COMPLETED"), "{seen:?}");
    }
}
