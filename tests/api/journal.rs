//! The request journal (`/_ccadmin/requests`): what a test's code sent under `/api/`
//! and what it got, filtered and counted, secrets never kept.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

const NUMBERS: &str = "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers";

async fn journal(app: &TestApp, admin: &Creds, query: &str) -> Vec<Value> {
    let (status, body) =
        status_json(app.get(&format!("/_ccadmin/requests{query}"), admin).await).await;
    assert_eq!(status, 200, "{body}");
    body["requests"].as_array().expect("requests").clone()
}

async fn count(app: &TestApp, admin: &Creds, filter: &Value) -> u64 {
    let (status, body) =
        status_json(app.post("/_ccadmin/requests:count", admin, filter).await).await;
    assert_eq!(status, 200, "{body}");
    body["count"].as_u64().expect("a count")
}

backend_tests! {
    async fn a_real_add_and_a_token_grant_are_recorded_with_their_answers(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let demo = app.demo().await;
        let res = app.post(NUMBERS, &demo, &json!({"phoneNumber": "+16062128688"})).await;
        assert_eq!(res.status(), 202);
        let added: Value = res.json().await.expect("a JSON body");

        let all = journal(&app, &admin, "").await;
        // Newest first: the add, the demo login, the admin login; /_ccadmin is not recorded.
        assert_eq!(all.len(), 3, "{all:#?}");
        let add = &all[0];
        assert_eq!(add["method"], "POST");
        assert_eq!(add["path"], NUMBERS);
        assert_eq!(add["status"], 202);
        assert_eq!(add["accountId"], "ABCDEF");
        assert_eq!(add["clientId"], "demo-client");
        assert!(add["durationMs"].as_f64().is_some_and(|d| d >= 0.0), "{add}");
        assert!(add["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{add}");
        assert!(add.get("fault").is_none(), "{add}");
        let sent: Value = serde_json::from_str(add["request"]["body"].as_str().expect("a request body")).expect("JSON");
        assert_eq!(sent, json!({"phoneNumber": "+16062128688"}));
        assert_eq!(add["request"]["headers"]["content-type"], "application/json");
        assert_eq!(add["request"]["bodyTruncated"], false);
        let answered: Value = serde_json::from_str(add["response"]["body"].as_str().expect("a response body")).expect("JSON");
        assert_eq!(answered, added);
        assert_eq!(add["response"]["headers"]["content-type"], "application/json");

        let grant = &all[1];
        assert_eq!(grant["method"], "POST");
        assert_eq!(grant["path"], "/api/auth/v1/ABCDEF/protocol/openid-connect/token");
        assert_eq!(grant["status"], 200);
        assert_eq!(grant["accountId"], "ABCDEF");
        assert_eq!(grant["clientId"], "demo-client");
        assert_eq!(grant["request"]["body"], "grant_type=client_credentials&client_id=demo-client&client_secret=***");
        let tokens: Value = serde_json::from_str(grant["response"]["body"].as_str().unwrap()).expect("JSON");
        assert_eq!(tokens["access_token"], "***");
        assert_eq!(tokens["refresh_token"], "***");
        assert_eq!(tokens["expires_in"], 900, "{tokens}");

        // By id.
        let id = add["id"].as_str().unwrap();
        let (status, one) = status_json(app.get(&format!("/_ccadmin/requests/{id}"), &admin).await).await;
        assert_eq!(status, 200);
        assert_eq!(&one, add);
        let (status, body) = status_json(app.get("/_ccadmin/requests/nope", &admin).await).await;
        assert_eq!(status, 404);
        assert_problem(&body, 404, "resource-not-found", "Resource Not Found");
    }

    async fn filters_count_and_clear_select_what_they_say(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let demo = app.demo().await;
        assert_eq!(app.get("/api/admin/account/v1/accounts/ABCDEF", &demo).await.status(), 200);
        assert_eq!(app.get("/api/admin/account/v1/accounts/AQWSDE", &demo).await.status(), 403);
        assert_eq!(app.get("/api/admin/voice/v1/accounts/ABCDEF/phone-numbers?pageSize=5", &demo).await.status(), 200);
        assert_eq!(app.call(Method::GET, "/api/admin/account/v1/accounts/ABCDEF", None, None).await.status(), 401);
        let before = time_now(&app, &admin).await;
        assert_eq!(app.get("/api/admin/account/v1/accounts/AQWSDE", &admin).await.status(), 200);

        let forbidden = journal(&app, &admin, "?status=403").await;
        assert_eq!(forbidden.len(), 1);
        assert_eq!(forbidden[0]["path"], "/api/admin/account/v1/accounts/AQWSDE");
        assert_eq!(forbidden[0]["clientId"], "demo-client");
        let unauthorised = journal(&app, &admin, "?status=401").await;
        assert_eq!(unauthorised.len(), 1);
        assert!(unauthorised[0].get("clientId").is_none(), "{}", unauthorised[0]);
        assert_eq!(journal(&app, &admin, "?method=get&accountId=ABCDEF").await.len(), 3);
        let listed = journal(&app, &admin, "?path=/api/admin/voice/*").await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["query"], "pageSize=5");
        assert_eq!(journal(&app, &admin, "?path=/api/admin/account/v1/accounts/ABCDEF").await.len(), 2);
        assert_eq!(journal(&app, &admin, "?limit=2").await.len(), 2);
        let since = journal(&app, &admin, &format!("?since={before}")).await;
        assert_eq!(since.len(), 1, "{since:#?}");
        assert_eq!(since[0]["accountId"], "AQWSDE");

        assert_eq!(count(&app, &admin, &json!({})).await, 7);
        assert_eq!(count(&app, &admin, &json!({"method": "GET", "path": "*/accounts/*", "status": 200, "accountId": "ABCDEF"})).await, 2);
        assert_eq!(count(&app, &admin, &json!({"path": "/api/auth/*"})).await, 2);
        let res = app.call(Method::POST, "/_ccadmin/requests:count", Some(&admin), None).await;
        let (status, body) = status_json(res).await;
        assert_eq!(status, 415, "a JSON body is required: {{}} for all");
        assert_problem(&body, 415, "unsupported-media-type", "Unsupported Media Type");

        let res = app.call(Method::DELETE, "/_ccadmin/requests", Some(&admin), None).await;
        assert_eq!(res.status(), 204);
        assert_eq!(journal(&app, &admin, "").await, Vec::<Value>::new());
    }

    async fn bad_filters_are_refused_with_their_violations(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        for (query, field, code) in [
            ("limit=0", "limit", 20004), ("limit=1001", "limit", 20004), ("limit=x", "limit", 20004),
            ("since=yesterday", "since", 20005), ("status=abc", "status", 20001), ("status=42", "status", 20004),
        ] {
            let (status, body) = status_json(app.get(&format!("/_ccadmin/requests?{query}"), &admin).await).await;
            assert_eq!(status, 400, "{query}: {body}");
            assert_problem(&body, 400, "constraint-violation", "Constraint Violation");
            assert_eq!(violations(&body), vec![(field.to_owned(), code)], "{query}");
        }
        let (status, body) = status_json(app.get("/_ccadmin/requests?limit=0&since=x", &admin).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("since".to_owned(), 20005), ("limit".to_owned(), 20004)]);
        assert_eq!(journal(&app, &admin, "?limit=1000&since=2020-01-01T00:00:00%2B02:00").await.len(), 1);
        let (status, body) = status_json(app.post("/_ccadmin/requests:count", &admin, &json!({"status": "x"})).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("status".to_owned(), 20001)]);
        let demo = app.demo().await;
        assert_eq!(app.get("/_ccadmin/requests", &demo).await.status(), 403);
        assert_eq!(app.call(Method::GET, "/_ccadmin/requests", None, None).await.status(), 401);
    }

    async fn bodies_are_cut_at_64_kib_and_say_so(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let long = "x".repeat(100_000);
        let body = json!({"profileName": long});
        let res = app.post("/api/admin/user/v1/accounts/ABCDEF/profiles", &admin, &body).await;
        assert_eq!(res.status(), 400);
        let sent = serde_json::to_vec(&body).unwrap().len() as u64;
        let entry = &journal(&app, &admin, "?path=*/profiles").await[0];
        assert_eq!(entry["request"]["bodyTruncated"], true);
        assert_eq!(entry["request"]["bodySize"], sent);
        assert_eq!(entry["request"]["body"].as_str().unwrap().len(), 64 * 1024);
        assert_eq!(entry["response"]["bodyTruncated"], false);
        // Not only what the journal kept: the operation read the whole body.
        assert!(entry["response"]["body"].as_str().unwrap().contains("violations"), "{}", entry["response"]);
    }

    async fn secrets_never_enter_the_journal(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        // The password grant: client secret, user password, and the tokens answered.
        let res = app.token_request("ABCDEF", Some("demo-appkey"), &[
            ("grant_type", "password"), ("client_id", "demo-client"), ("client_secret", "demo-secret"),
            ("username", "demo-user"), ("password", "demo-password")]).await;
        let (status, tokens) = status_json(res).await;
        assert_eq!(status, 200);
        let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        // The refresh grant.
        let res = app.token_request("ABCDEF", Some("demo-appkey"), &[
            ("grant_type", "refresh_token"), ("client_id", "demo-client"), ("client_secret", "demo-secret"),
            ("refresh_token", &refresh)]).await;
        let (status, refreshed) = status_json(res).await;
        assert_eq!(status, 200);
        // A new client: its secret and appkey are in the answer.
        let created = app.create_client("AQWSDE", &json!({"roles": ["Account Administrator"]})).await;
        let new_secret = created["clientSecret"].as_str().unwrap().to_owned();
        let new_appkey = created["appkey"].as_str().unwrap().to_owned();
        // Secrets in a JSON body at depth and in a query string.
        let nested = json!({"name": "x", "a": [{"clientSecret": "nested-client-secret", "appkey": "nested-appkey",
            "deeper": {"access_token": "nested-access-token", "refresh_token": "nested-refresh-token"}}]});
        app.post("/api/admin/user/v1/accounts/ABCDEF/profiles", &admin, &nested).await;
        let demo = Creds { token: access.clone(), appkey: "demo-appkey".into() };
        let query = "/api/admin/account/v1/accounts/ABCDEF?access_token=query-access-token&client_secret=query-secret&appkey=query-appkey&password=query-password&refresh_token=query-refresh";
        assert_eq!(app.get(query, &demo).await.status(), 200);

        let (status, all) = status_json(app.get("/_ccadmin/requests?limit=1000", &admin).await).await;
        assert_eq!(status, 200);
        let text = all.to_string();
        let secrets = [
            "demo-secret", "demo-password", "demo-appkey", "demo-admin-secret", "demo-admin-appkey",
            &refresh, &access, refreshed["access_token"].as_str().unwrap(), refreshed["refresh_token"].as_str().unwrap(),
            &admin.token, &new_secret, &new_appkey,
            "nested-client-secret", "nested-appkey", "nested-access-token", "nested-refresh-token",
            "query-access-token", "query-secret", "query-appkey", "query-password", "query-refresh",
        ];
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} is in the journal");
        }
        // What stands in their place.
        let requests = all["requests"].as_array().unwrap();
        let get = requests.iter().find(|r| r["query"].is_string()).expect("the query request");
        assert_eq!(get["query"], "access_token=***&client_secret=***&appkey=***&password=***&refresh_token=***");
        assert_eq!(get["request"]["headers"]["authorization"], "***");
        assert_eq!(get["request"]["headers"]["appkey"], "***");
        assert_eq!(get["clientId"], "demo-client");
        assert!(requests.iter().any(|r| r["request"]["body"].as_str().is_some_and(|b| b.contains("password=***"))));
        assert!(requests.iter().any(|r| r["response"]["body"].as_str().is_some_and(|b| b.contains(r#""clientSecret":"***""#))));
    }

    async fn a_journal_turned_off_records_nothing(b: Backend) {
        let app = spawn_app_with(&b, |a| a.journal_max_entries = 0).await;
        let admin = app.admin().await;
        assert_eq!(app.get("/api/admin/account/v1/accounts/ABCDEF", &admin).await.status(), 200);
        assert_eq!(journal(&app, &admin, "").await, Vec::<Value>::new());
    }

    async fn the_journal_keeps_the_newest_entries_within_its_bound(b: Backend) {
        let app = spawn_app_with(&b, |a| a.journal_max_entries = 3).await;
        let admin = app.admin().await;
        for id in ["ABCDEF", "AQWSDE", "ABCDEF", "AQWSDE"] {
            assert_eq!(app.get(&format!("/api/admin/account/v1/accounts/{id}"), &admin).await.status(), 200);
        }
        let all = journal(&app, &admin, "").await;
        let accounts: Vec<&str> = all.iter().map(|e| e["accountId"].as_str().unwrap()).collect();
        assert_eq!(accounts, ["AQWSDE", "ABCDEF", "AQWSDE"]);
    }
}

/// The server clock's time now, as RFC 3339 (URL-safe: `Z`, no offset sign).
async fn time_now(app: &TestApp, admin: &Creds) -> String {
    // Entries at the same millisecond count as after it: keep clear of both sides.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (_, clock) = status_json(app.get("/_ccadmin/clock", admin).await).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    clock["now"].as_str().unwrap().to_owned()
}
