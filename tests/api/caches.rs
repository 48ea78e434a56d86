//! The read caches' rules (docs/architecture.md, "Performance choices"): a GET never
//! shows a body older than a write this instance answered 2xx; another instance's
//! change (a write, a revocation) is seen within the 2 s bound; a reset and a state
//! import flush what was cached. Each GET is repeated before the change, so that the
//! body is served from the cache when the change comes.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Creds, TestApp, TestDb, spawn_app, status_json};
use crate::process::{ServerProcess, client_credentials};

const AQWSDE: &str = "/api/admin/account/v1/accounts/AQWSDE";
const NUMBERS: &str = "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers";
const AVAILABLE: &str = "/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers";
/// The revocation bound, plus time for a request on a loaded machine.
const BOUND: Duration = Duration::from_millis(3_000);

/// The accounts seed's AQWSDE with another `name`.
fn aqwsde_named(name: &str) -> Value {
    json!({
        "name": name, "isDefault": false, "description": "Account for SyncG",
        "domains": [{"domainName": "avaya.com", "isDefault": true}],
        "accountSize": 10, "accountId": "AQWSDE", "enabled": true, "countryCode": "IN",
        "features": {"voice": {
            "cloudSwitchAccountDID": "cloudSwitchAccountDIDId",
            "cloudSwitchAccountUCID": "cloudSwitchAccountUCIDId",
            "voiceProvider": "UCCC", "deleteVoiceProviderData": true, "consult": true}}
    })
}

/// GETs `path` twice (the second from the cache, if it keeps it) and returns the body.
async fn get_twice(app: &TestApp, path: &str, creds: &Creds) -> Value {
    let (status, first) = status_json(app.get(path, creds).await).await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = status_json(app.get(path, creds).await).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(first, second);
    second
}

async fn rename(app: &TestApp, admin: &Creds, name: &str) {
    let (status, body) = status_json(app.put(AQWSDE, admin, &aqwsde_named(name)).await).await;
    assert_eq!(status, 202, "{body}");
}

backend_tests! {
    async fn a_get_right_after_a_write_of_this_instance_shows_the_write(b: Backend) {
        let app = spawn_app(&b).await;
        let (admin, demo) = (app.admin().await, app.demo().await);

        // An account rename.
        assert_eq!(get_twice(&app, AQWSDE, &admin).await["name"], "SyncG");
        rename(&app, &admin, "SyncH").await;
        let (status, account) = status_json(app.get(AQWSDE, &admin).await).await;
        assert_eq!((status, &account["name"]), (200, &json!("SyncH")));

        // A number update, and the status change its activation job makes.
        let (_, page) = status_json(app.get(&format!("{AVAILABLE}?countryCode=US&type=LOCAL&pageSize=5"), &demo).await).await;
        let number = page["phoneNumbers"][0]["phoneNumber"].as_str().unwrap().to_owned();
        let (status, added) = status_json(app.post(NUMBERS, &demo, &json!({"phoneNumber": number})).await).await;
        assert_eq!(status, 202, "{added}");
        let path = format!("{NUMBERS}/{}", added["phoneNumberId"].as_str().unwrap());
        assert_eq!(get_twice(&app, &path, &demo).await["status"], "INPROGRESS");
        let (status, _) = status_json(app.put(&path, &demo, &json!({"displayName": "first"})).await).await;
        assert_eq!(status, 202);
        let (status, shown) = status_json(app.get(&path, &demo).await).await;
        assert_eq!((status, &shown["displayName"]), (200, &json!("first")));
        assert_eq!(get_twice(&app, &path, &demo).await["status"], "INPROGRESS");
        assert!(app.finish_jobs().await > 0);
        let (status, shown) = status_json(app.get(&path, &demo).await).await;
        assert_eq!(status, 200);
        assert!(shown["status"] == "ACTIVE" || shown["status"] == "INACTIVE", "{shown}");

        // A removal: the number is gone at once.
        let (status, _) = status_json(app.call(Method::DELETE, &path, Some(&demo), None).await).await;
        assert!(status == 202 || status == 204, "{status}");
        let (status, _) = status_json(app.get(&path, &demo).await).await;
        assert_ne!(status, 200);
    }

    async fn a_reset_and_a_state_import_flush_the_cached_bodies(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, snapshot) = status_json(app.get("/_ccadmin/state", &admin).await).await;
        assert_eq!(status, 200);

        rename(&app, &admin, "Before import").await;
        assert_eq!(get_twice(&app, AQWSDE, &admin).await["name"], "Before import");
        let res = app.http.put(app.url("/_ccadmin/state")).bearer_auth(&admin.token)
            .header("appkey", &admin.appkey).json(&snapshot).send().await.unwrap();
        assert_eq!(res.status(), 200);
        // Signing keys come with the snapshot: log in again.
        let admin = app.admin().await;
        let (status, account) = status_json(app.get(AQWSDE, &admin).await).await;
        assert_eq!((status, &account["name"]), (200, &json!("SyncG")));

        rename(&app, &admin, "Before reset").await;
        assert_eq!(get_twice(&app, AQWSDE, &admin).await["name"], "Before reset");
        let (status, _) = status_json(app.call(Method::POST, "/_ccadmin/reset", Some(&admin), None).await).await;
        assert_eq!(status, 204);
        let admin = app.admin().await;
        let (status, account) = status_json(app.get(AQWSDE, &admin).await).await;
        assert_eq!((status, &account["name"]), (200, &json!("SyncG")));
    }

    async fn another_instances_write_and_revocation_are_seen_within_the_bound(b: Backend) {
        let db = TestDb::create(&b).await;
        let a = ServerProcess::start(&db, &[]).await;
        let other = ServerProcess::start(&db, &[]).await;
        let http = reqwest::Client::new();
        let admin = a.admin().await;
        let call = |base: &str, method: Method, path: &str, creds: &Creds, body: Option<Value>| {
            let mut req = http.request(method, format!("{base}{path}"))
                .bearer_auth(&creds.token).header("appkey", &creds.appkey);
            if let Some(body) = body {
                req = req.json(&body);
            }
            async move { status_json(req.send().await.expect("the request is sent")).await }
        };

        // A rename through the other instance.
        for _ in 0..2 {
            let (status, account) = call(&a.address, Method::GET, AQWSDE, &admin, None).await;
            assert_eq!((status, &account["name"]), (200, &json!("SyncG")));
        }
        let (status, _) = call(&other.address, Method::PUT, AQWSDE, &admin, Some(aqwsde_named("Elsewhere"))).await;
        assert_eq!(status, 202);
        let changed = Instant::now();
        loop {
            let (status, account) = call(&a.address, Method::GET, AQWSDE, &admin, None).await;
            assert_eq!(status, 200);
            if account["name"] == "Elsewhere" {
                break;
            }
            assert!(changed.elapsed() < BOUND, "the rename was not seen within the bound");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // A client revoked through the other instance, whose GETs this one has cached.
        let (status, client) = call(&a.address, Method::POST, "/api/admin/account/v1/accounts/AQWSDE/clients",
            &admin, Some(json!({"roles": ["Account Administrator"]}))).await;
        assert_eq!(status, 201);
        let grant = ("AQWSDE", client["clientId"].as_str().unwrap(),
            client["clientSecret"].as_str().unwrap(), client["appkey"].as_str().unwrap());
        let theirs = client_credentials(&http, &a.address, grant).await.expect("the client logs in");
        for _ in 0..2 {
            assert_eq!(call(&a.address, Method::GET, AQWSDE, &theirs, None).await.0, 200);
        }
        let path = format!("/api/admin/account/v1/accounts/AQWSDE/clients/{}", grant.1);
        assert_eq!(call(&other.address, Method::DELETE, &path, &admin, None).await.0, 204);
        let revoked = Instant::now();
        while call(&a.address, Method::GET, AQWSDE, &theirs, None).await.0 != 401 {
            assert!(revoked.elapsed() < BOUND, "the revocation was not seen within the bound");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
