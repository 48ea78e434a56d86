//! Several `ccadmin serve` processes on one PostgreSQL database: tokens, jobs, events,
//! uniqueness, revocation, the clock and login limits are shared; killing one loses
//! nothing. (SQLite mode is one process by design.)

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, Creds, TestDb, status_json};
use crate::process::{DEMO_CLIENT, ServerProcess, client_credentials};

async fn call(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    creds: &Creds,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut req = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(&creds.token)
        .header("appkey", &creds.appkey);
    if let Some(b) = body {
        req = req.json(b);
    }
    status_json(req.send().await.expect("the request is sent")).await
}

async fn demo(base: &str) -> Creds {
    client_credentials(&reqwest::Client::new(), base, DEMO_CLIENT)
        .await
        .expect("the demo client gets a token")
}

async fn wait_for<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_instances_share_everything_and_one_can_die() {
    let Some(b) = Backend::postgres() else { return };
    let db = TestDb::create(&b).await;
    let args = [
        "--workers",
        "2",
        "--job-lease-ms",
        "1000",
        "--feature-delay-ms",
        "0",
    ];
    let a = ServerProcess::start(&db, &args).await;
    let bb = ServerProcess::start(&db, &args).await;
    let http = reqwest::Client::new();
    let admin = a.admin().await;

    // A token issued by one instance works on the other.
    let (status, _) = call(
        &http,
        &bb.address,
        reqwest::Method::GET,
        "/api/admin/account/v1/accounts/AQWSDE",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200);

    // B's event stream shows the transitions A's request and workers make.
    let mut events = http
        .get(format!("{}/_ccadmin/events?accountId=AQWSDE", bb.address))
        .bearer_auth(&admin.token)
        .header("appkey", &admin.appkey)
        .send()
        .await
        .unwrap();
    let body = json!({"name": "SyncG", "domains": [{"domainName": "avaya.com"}], "accountSize": 10, "features": {"voice": {}}});
    let (status, _) = call(
        &http,
        &a.address,
        reqwest::Method::PUT,
        "/api/admin/account/v1/accounts/AQWSDE",
        &admin,
        Some(&body),
    )
    .await;
    assert_eq!(status, 202);
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while text.matches("event: transition").count() < 2 && Instant::now() < deadline {
        if let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(Duration::from_secs(5), events.chunk()).await
        {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    assert!(
        text.contains("\"to\":\"IN_PROGRESS\"") && text.contains("\"to\":\"COMPLETED\""),
        "{text}"
    );
    drop(events);

    // The same number added through both at once, for one account: one 202, one 409.
    let d = demo(&a.address).await;
    let add = json!({"phoneNumber": "+16062128688"});
    let (ra, rb) = tokio::join!(
        call(
            &http,
            &a.address,
            reqwest::Method::POST,
            "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers",
            &d,
            Some(&add)
        ),
        call(
            &http,
            &bb.address,
            reqwest::Method::POST,
            "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers",
            &d,
            Some(&add)
        ),
    );
    let mut codes = [ra.0, rb.0];
    codes.sort();
    assert_eq!(codes, [202, 409], "{ra:?} {rb:?}");

    // Login limits are shared: failures on A lock the client on B too.
    let form = |secret: &'static str| {
        [
            ("grant_type", "client_credentials"),
            ("client_id", "demo-client"),
            ("client_secret", secret),
        ]
    };
    for _ in 0..5 {
        let res = http
            .post(format!(
                "{}/api/auth/v1/ABCDEF/protocol/openid-connect/token",
                a.address
            ))
            .header("appkey", "demo-appkey")
            .form(&form("guess"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let res = http
        .post(format!(
            "{}/api/auth/v1/ABCDEF/protocol/openid-connect/token",
            bb.address
        ))
        .header("appkey", "demo-appkey")
        .form(&form("demo-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);

    // The emulator's clock moved on A is followed by B.
    let (_, frozen) = call(
        &http,
        &a.address,
        reqwest::Method::POST,
        "/_ccadmin/clock:freeze",
        &admin,
        None,
    )
    .await;
    let (_, moved) = call(
        &http,
        &a.address,
        reqwest::Method::POST,
        "/_ccadmin/clock:advance",
        &admin,
        Some(&json!({"by": "1m"})),
    )
    .await;
    assert_ne!(frozen["now"], moved["now"]);
    wait_for("B following A's clock", Duration::from_secs(5), || {
        let (http, base, admin, moved) = (
            http.clone(),
            bb.address.clone(),
            admin.clone(),
            moved.clone(),
        );
        async move {
            call(
                &http,
                &base,
                reqwest::Method::GET,
                "/_ccadmin/clock",
                &admin,
                None,
            )
            .await
            .1 == moved
        }
    })
    .await;
    let _ = call(
        &http,
        &a.address,
        reqwest::Method::POST,
        "/_ccadmin/clock:unfreeze",
        &admin,
        None,
    )
    .await;

    // A client revoked through A is refused by B within the documented bound.
    let (_, client) = call(
        &http,
        &a.address,
        reqwest::Method::POST,
        "/api/admin/account/v1/accounts/AQWSDE/clients",
        &admin,
        Some(&json!({"roles": ["Account Administrator"]})),
    )
    .await;
    let res = http
        .post(format!(
            "{}/api/auth/v1/AQWSDE/protocol/openid-connect/token",
            bb.address
        ))
        .header("appkey", client["appkey"].as_str().unwrap())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client["clientId"].as_str().unwrap()),
            ("client_secret", client["clientSecret"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    let (_, tokens) = status_json(res).await;
    let theirs = Creds {
        token: tokens["access_token"].as_str().unwrap().into(),
        appkey: client["appkey"].as_str().unwrap().into(),
    };
    assert_eq!(
        call(
            &http,
            &bb.address,
            reqwest::Method::GET,
            "/api/admin/account/v1/accounts/AQWSDE",
            &theirs,
            None
        )
        .await
        .0,
        200
    );
    let (status, _) = call(
        &http,
        &a.address,
        reqwest::Method::DELETE,
        &format!(
            "/api/admin/account/v1/accounts/AQWSDE/clients/{}",
            client["clientId"].as_str().unwrap()
        ),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let revoked_at = Instant::now();
    wait_for(
        "B refusing the revoked client",
        Duration::from_secs(5),
        || {
            let (http, base, theirs) = (http.clone(), bb.address.clone(), theirs.clone());
            async move {
                call(
                    &http,
                    &base,
                    reqwest::Method::GET,
                    "/api/admin/account/v1/accounts/AQWSDE",
                    &theirs,
                    None,
                )
                .await
                .0 == 401
            }
        },
    )
    .await;
    assert!(
        revoked_at.elapsed() < Duration::from_millis(2_600),
        "{:?}",
        revoked_at.elapsed()
    );

    // Writes and provisioning through both; A is killed half-way.
    let accepted = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for w in 0..6 {
        let (base, admin, accepted) = (
            if w % 2 == 0 {
                a.address.clone()
            } else {
                bb.address.clone()
            },
            admin.clone(),
            accepted.clone(),
        );
        writers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0..40 {
                let body = json!({"name": format!("Multi {w} {i}"), "domains": [{"domainName": "m.example.com"}], "accountSize": 1,
                    "features": {"voice": {}, "chat": {}}});
                let Ok(res) = http.post(format!("{base}/api/admin/account/v1/accounts")).bearer_auth(&admin.token)
                    .header("appkey", &admin.appkey).json(&body).send().await else { return };
                if res.status() != 202 {
                    return;
                }
                let v: Value = res.json().await.unwrap();
                accepted.lock().unwrap().push(v["accountId"].as_str().unwrap().to_owned());
            }
        }));
    }
    wait_for("some writes", Duration::from_secs(20), || {
        let n = accepted.lock().unwrap().len();
        async move { n >= 30 }
    })
    .await;
    a.kill();
    for w in writers {
        w.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();

    // B finishes everything, A's claimed jobs included once their leases end.
    wait_for("every job to finish", Duration::from_secs(30), || {
        let (http, base, admin) = (http.clone(), bb.address.clone(), admin.clone());
        async move {
            let (_, p) = call(
                &http,
                &base,
                reqwest::Method::GET,
                "/_ccadmin/jobs?state=pending&limit=1",
                &admin,
                None,
            )
            .await;
            let (_, r) = call(
                &http,
                &base,
                reqwest::Method::GET,
                "/_ccadmin/jobs?state=running&limit=1",
                &admin,
                None,
            )
            .await;
            p["jobs"] == json!([]) && r["jobs"] == json!([])
        }
    })
    .await;
    for id in &accepted {
        let (status, acc) = call(
            &http,
            &bb.address,
            reqwest::Method::GET,
            &format!("/api/admin/account/v1/accounts/{id}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(acc["enabledFeatures"], "voice,chat", "{id}");
    }
    let (_, page) = call(
        &http,
        &bb.address,
        reqwest::Method::GET,
        "/api/admin/account/v1/accounts?filter=name:Multi*&pageSize=5",
        &admin,
        None,
    )
    .await;
    let total = page["pagination"]["total"].as_i64().unwrap() as usize;
    assert!(total >= accepted.len());
    let (_, journal) = call(
        &http,
        &bb.address,
        reqwest::Method::GET,
        "/_ccadmin/transitions?resourceKind=account.feature&limit=10000",
        &admin,
        None,
    )
    .await;
    let mut terminal: HashMap<(String, String), usize> = HashMap::new();
    for t in journal["transitions"].as_array().unwrap() {
        if t["to"] == "COMPLETED" {
            *terminal
                .entry((
                    t["accountId"].as_str().unwrap().into(),
                    t["resourceId"].as_str().unwrap().into(),
                ))
                .or_default() += 1;
        }
    }
    // Every account's two features, plus AQWSDE's voice, each ended exactly once.
    assert_eq!(terminal.len(), total * 2 + 1);
    assert!(terminal.values().all(|n| *n == 1), "{terminal:?}");
}
