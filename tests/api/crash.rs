//! Kill -9 in the middle of writes and provisioning: after a restart every accepted
//! request is there, every job ends exactly once, nothing is duplicated.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Creds, TestDb};
use crate::process::ServerProcess;

const FEATURES: [&str; 3] = ["voice", "chat", "email"];

async fn create(http: &reqwest::Client, base: &str, creds: &Creds, i: usize) -> Option<String> {
    let body = json!({"name": format!("Crash {i}"), "domains": [{"domainName": format!("crash{i}.example.com")}],
        "accountSize": 1, "features": {"voice": {}, "chat": {}, "email": {}}});
    let res = http
        .post(format!("{base}/api/admin/account/v1/accounts"))
        .bearer_auth(&creds.token)
        .header("appkey", &creds.appkey)
        .json(&body)
        .send()
        .await
        .ok()?;
    if res.status() != 202 {
        return None;
    }
    let body: Value = res.json().await.ok()?;
    body["accountId"].as_str().map(str::to_owned)
}

async fn get(http: &reqwest::Client, base: &str, creds: &Creds, path: &str) -> Value {
    let res = http
        .get(format!("{base}{path}"))
        .bearer_auth(&creds.token)
        .header("appkey", &creds.appkey)
        .send()
        .await
        .expect("the request is sent");
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.expect("a JSON body")
}

backend_tests! {
    async fn a_killed_server_loses_no_accepted_work_and_finishes_every_job_once(b: Backend) {
        let db = TestDb::create(&b).await;
        let args = ["--workers", "2", "--job-lease-ms", "1000", "--feature-delay-ms", "0"];
        let server = ServerProcess::start(&db, &args).await;
        let admin = server.admin().await;
        let base = server.address.clone();

        // 8 writers create accounts (3 jobs each) until the server dies under them.
        let accepted = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut writers = Vec::new();
        for w in 0..8 {
            let (base, admin, accepted) = (base.clone(), admin.clone(), accepted.clone());
            writers.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                for i in 0..1000 {
                    match create(&http, &base, &admin, w * 1000 + i).await {
                        Some(id) => accepted.lock().unwrap().push(id),
                        None => return,
                    }
                }
            }));
        }
        let started = Instant::now();
        while accepted.lock().unwrap().len() < 40 && started.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.kill();
        for w in writers {
            w.await.unwrap();
        }
        let accepted = accepted.lock().unwrap().clone();
        assert!(accepted.len() >= 40, "only {} creates were accepted", accepted.len());

        let server = ServerProcess::start(&db, &args).await;
        let http = reqwest::Client::new();
        // Within the lease (1 s) plus a margin, every job is finished.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let pending = get(&http, &server.address, &admin, "/_ccadmin/jobs?state=pending&limit=1").await;
            let running = get(&http, &server.address, &admin, "/_ccadmin/jobs?state=running&limit=1").await;
            if pending["jobs"].as_array().unwrap().is_empty() && running["jobs"].as_array().unwrap().is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "jobs still unfinished after the restart");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // Every account whose create got a 202 exists, fully provisioned.
        for id in &accepted {
            let status = get(&http, &server.address, &admin, &format!("/api/admin/account/v1/accounts/{id}")).await;
            assert_eq!(status["enabledFeatures"], "voice,chat,email", "{id}");
        }
        // Nothing is duplicated: names are unique, and each committed account had its
        // jobs run to exactly one terminal transition per feature.
        let page = get(&http, &server.address, &admin, "/api/admin/account/v1/accounts?filter=name:Crash*&pageSize=5").await;
        let total = page["pagination"]["total"].as_i64().unwrap() as usize;
        assert!(total >= accepted.len(), "{total} < {}", accepted.len());
        let journal = get(&http, &server.address, &admin, "/_ccadmin/transitions?resourceKind=account.feature&limit=10000").await;
        let mut terminal: HashMap<(String, String), usize> = HashMap::new();
        for t in journal["transitions"].as_array().unwrap() {
            if t["to"] != "IN_PROGRESS" {
                assert_eq!(t["to"], "COMPLETED", "{t}");
                *terminal.entry((t["accountId"].as_str().unwrap().to_owned(), t["resourceId"].as_str().unwrap().to_owned())).or_default() += 1;
            }
        }
        assert_eq!(terminal.len(), total * FEATURES.len(), "one terminal transition per feature of every account");
        assert!(terminal.values().all(|n| *n == 1), "a job ended twice: {terminal:?}");
        let jobs = get(&http, &server.address, &admin, "/_ccadmin/jobs?limit=10000").await;
        let jobs = jobs["jobs"].as_array().unwrap();
        assert_eq!(jobs.len(), total * FEATURES.len());
        assert!(jobs.iter().all(|j| j["state"] == "succeeded"), "{jobs:?}");
        server.kill();

        if let Some(dir) = db.data_dir() {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.join("ccadmin.db").display())).await.unwrap();
            let check: String = sqlx::query_scalar("pragma integrity_check").fetch_one(&mut conn).await.unwrap();
            assert_eq!(check, "ok");
        }
    }
}
