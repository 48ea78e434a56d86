//! The asynchronous engine through the account status lifecycle: success, failure
//! and re-attempt, retries, superseding, lost claims, expired leases, concurrency.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Creds, TestApp, spawn_app, spawn_app_with, status_json, violations};

const AQWSDE: &str = "/api/admin/account/v1/accounts/AQWSDE";

fn seed_body(voice: Value) -> Value {
    json!({"name": "SyncG", "description": "Account for SyncG",
           "domains": [{"domainName": "avaya.com", "isDefault": true}],
           "accountSize": 10, "countryCode": "IN", "features": {"voice": voice}})
}

async fn put_with(app: &TestApp, creds: &Creds, body: &Value, prefer: &str) -> (u16, Value) {
    let res = app
        .http
        .put(app.url(AQWSDE))
        .bearer_auth(&creds.token)
        .header("appkey", &creds.appkey)
        .header("prefer", prefer)
        .json(body)
        .send()
        .await
        .unwrap();
    status_json(res).await
}

/// The journaled transitions of AQWSDE's voice feature, as (from, to, cause).
async fn voice_transitions(app: &TestApp) -> Vec<(Option<String>, String, String)> {
    let admin = app.admin().await;
    let (status, body) = status_json(
        app.get(
            "/_ccadmin/transitions?accountId=AQWSDE&resourceId=features.voice",
            &admin,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["from"].as_str().map(str::to_owned),
                t["to"].as_str().unwrap().to_owned(),
                t["cause"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

backend_tests! {
    async fn a_failed_feature_reports_the_seeds_failure_and_a_new_put_reattempts_it(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let body = seed_body(json!({"consult": true}));
        let (status, _) = put_with(&app, &admin, &body, "outcome=FAILED").await;
        assert_eq!(status, 202);
        app.finish_jobs().await;
        // The seed's "Update Failed" status, word for word.
        assert_eq!(app.account_status("AQWSDE", &admin).await, json!({
            "action": "UPDATE", "status": "FAILED", "message": "Operation failed", "accountId": "AQWSDE",
            "features": {"voice": {"action": "ADD", "status": "FAILED", "message": "The feature could not be added"}}
        }));
        let (_, account) = status_json(app.get(AQWSDE, &admin).await).await;
        assert!(account.get("enabledFeatures").is_none(), "{account}");

        // "A client should re-attempt any failed features using the Update Account."
        assert_eq!(app.put(AQWSDE, &admin, &body).await.status(), 202);
        assert_eq!(app.account_status("AQWSDE", &admin).await["features"]["voice"]["status"], "IN_PROGRESS");
        app.finish_jobs().await;
        let status = app.account_status("AQWSDE", &admin).await;
        assert_eq!(status["status"], "COMPLETED");
        assert_eq!(status["features"]["voice"], json!({"action": "ADD", "status": "COMPLETED", "message": "Feature added successfully"}));
        let (_, account) = status_json(app.get(AQWSDE, &admin).await).await;
        assert_eq!(account["enabledFeatures"], "voice");

        assert_eq!(voice_transitions(&app).await, vec![
            (None, "IN_PROGRESS".into(), "request".into()),
            (Some("IN_PROGRESS".into()), "FAILED".into(), "prefer".into()),
            (Some("FAILED".into()), "IN_PROGRESS".into(), "request".into()),
            (Some("IN_PROGRESS".into()), "COMPLETED".into(), "worker".into()),
        ]);
    }

    async fn transient_failures_are_retried_with_backoff_then_succeed(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, _) = put_with(&app, &admin, &seed_body(json!({"consult": true})), "retries=2").await;
        assert_eq!(status, 202);
        app.clock.advance(200);
        assert_eq!(app.run_due_jobs().await, 1, "the first attempt fails transiently");
        assert_eq!(app.account_status("AQWSDE", &admin).await["status"], "IN_PROGRESS");
        assert_eq!(app.run_due_jobs().await, 0, "the retry waits for its backoff");
        let runs = app.finish_jobs().await;
        assert_eq!(runs, 2, "one more transient failure, then success");
        assert_eq!(app.account_status("AQWSDE", &admin).await["status"], "COMPLETED");
    }

    async fn a_job_that_keeps_failing_transiently_fails_after_its_attempts(b: Backend) {
        let app = spawn_app_with(&b, |a| a.job_max_attempts = 3).await;
        let admin = app.admin().await;
        let (status, _) = put_with(&app, &admin, &seed_body(json!({"consult": true})), "retries=10").await;
        assert_eq!(status, 202);
        assert_eq!(app.finish_jobs().await, 3);
        let status = app.account_status("AQWSDE", &admin).await;
        assert_eq!(status["status"], "FAILED");
        assert_eq!(status["features"]["voice"]["message"], "The feature could not be added");
        let (_, body) = status_json(app.get("/_ccadmin/jobs?accountId=AQWSDE", &admin).await).await;
        let job = &body["jobs"][0];
        assert_eq!(job["state"], "failed");
        assert_eq!(job["attempts"], 3);
        assert!(job["lastError"].as_str().unwrap().contains("gave up after 3 attempts"), "{job}");
    }

    async fn a_put_supersedes_the_unfinished_work_of_an_earlier_one(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, _) = put_with(&app, &admin, &seed_body(json!({"consult": true})), "delay=1h, outcome=FAILED").await;
        assert_eq!(status, 202);
        let (status, _) = put_with(&app, &admin, &seed_body(json!({"consult": false})), "delay=1s").await;
        assert_eq!(status, 202);
        app.finish_jobs().await;
        let status = app.account_status("AQWSDE", &admin).await;
        assert_eq!(status["status"], "COMPLETED", "{status}");
        assert_eq!(status["features"]["voice"], json!({"action": "UPDATE", "status": "COMPLETED", "message": "Feature updated successfully"}));
        let (_, account) = status_json(app.get(AQWSDE, &admin).await).await;
        assert_eq!(account["features"]["voice"], json!({"consult": false}));
        let (_, body) = status_json(app.get("/_ccadmin/jobs?accountId=AQWSDE", &admin).await).await;
        let states: Vec<&str> = body["jobs"].as_array().unwrap().iter().map(|j| j["state"].as_str().unwrap()).collect();
        assert_eq!(states, ["cancelled", "succeeded"]);
    }

    async fn a_worker_that_lost_its_claim_writes_nothing(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, _) = put_with(&app, &admin, &seed_body(json!({"consult": true})), "delay=0s").await;
        assert_eq!(status, 202);
        // A second process on the same database claims the job, then a newer PUT
        // supersedes it while that worker is still busy.
        let db = ccadmin::open(&app.args.storage).await.unwrap();
        let now = app.clock.now_ms();
        let mut tx = db.write().await.unwrap();
        let claimed = ccadmin::store::jobs::claim(&mut tx, now, now, now + 60_000).await.unwrap().expect("a due job");
        tx.commit().await.unwrap();
        let (status, _) = put_with(&app, &admin, &seed_body(json!({"consult": false})), "delay=0s").await;
        assert_eq!(status, 202);
        app.finish_jobs().await;
        // The late worker's completion is refused by the fence.
        let mut tx = db.write().await.unwrap();
        let kept = ccadmin::store::jobs::finish(&mut tx, &claimed, ccadmin::store::jobs::Finish::Failed, Some("late"), now).await.unwrap();
        assert!(!kept);
        drop(tx);
        let status = app.account_status("AQWSDE", &admin).await;
        assert_eq!(status["status"], "COMPLETED");
        assert_eq!(status["features"]["voice"]["action"], "UPDATE");
        db.close().await;
    }

    async fn a_job_whose_worker_died_runs_again_after_its_lease_and_ends_once(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, _) = put_with(&app, &admin, &seed_body(json!({"consult": true})), "delay=0s").await;
        assert_eq!(status, 202);
        // A worker claims it with a lease that has already run out, then dies.
        let db = ccadmin::open(&app.args.storage).await.unwrap();
        let now = app.clock.now_ms();
        let real = ccadmin::clock::real_now_ms();
        let mut tx = db.write().await.unwrap();
        assert!(ccadmin::store::jobs::claim(&mut tx, now, real, real - 1).await.unwrap().is_some());
        tx.commit().await.unwrap();
        db.close().await;
        assert_eq!(app.run_due_jobs().await, 1, "the expired claim is taken over");
        assert_eq!(app.run_due_jobs().await, 0);
        assert_eq!(app.account_status("AQWSDE", &admin).await["status"], "COMPLETED");
        let (_, body) = status_json(app.get("/_ccadmin/jobs?accountId=AQWSDE", &admin).await).await;
        assert_eq!(body["jobs"][0]["attempts"], 2);
        let terminal = voice_transitions(&app).await.into_iter().filter(|(_, to, _)| to != "IN_PROGRESS").count();
        assert_eq!(terminal, 1, "exactly one terminal transition");
    }

    async fn bad_prefer_headers_are_refused_and_ignored_outside_emulator_mode(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        for prefer in ["outcome=ACTIVE", "delay=forever", "retries=-1"] {
            let (status, body) = put_with(&app, &admin, &seed_body(json!({})), prefer).await;
            assert_eq!(status, 400, "{prefer}");
            assert_eq!(violations(&body), vec![("Prefer".to_owned(), 20005)], "{prefer}");
        }
        let prod = spawn_app_with(&b, |a| a.demo = false).await;
        let creds_file = prod.db.data_dir().map(|d| d.join("admin-credentials.json"));
        if let Some(path) = creds_file {
            let c: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let admin = prod.login(c["accountId"].as_str().unwrap(), c["clientId"].as_str().unwrap(),
                c["clientSecret"].as_str().unwrap(), c["appkey"].as_str().unwrap()).await;
            let (status, _) = status_json(prod.get("/_ccadmin/jobs", &admin).await).await;
            assert_eq!(status, 404, "no emulator controls in production mode");
        }
    }

    async fn a_failed_rename_is_reattempted_and_never_left_unfinished(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let mut body = seed_body(json!({}));
        body["name"] = json!("SyncG Renamed");
        let (status, _) = put_with(&app, &admin, &body, "outcome=FAILED").await;
        assert_eq!(status, 202);
        app.finish_jobs().await;
        assert_eq!(app.account_status("AQWSDE", &admin).await["status"], "FAILED");
        // The same name again: the failed rename is re-attempted, not forgotten.
        assert_eq!(app.put(AQWSDE, &admin, &body).await.status(), 202);
        assert_eq!(app.account_status("AQWSDE", &admin).await["status"], "IN_PROGRESS");
        app.finish_jobs().await;
        assert_eq!(app.account_status("AQWSDE", &admin).await["status"], "COMPLETED");
        let (_, journal) = status_json(app.get("/_ccadmin/transitions?accountId=AQWSDE&resourceKind=account.rename", &admin).await).await;
        let tos: Vec<&str> = journal["transitions"].as_array().unwrap().iter().map(|t| t["to"].as_str().unwrap()).collect();
        assert_eq!(tos, ["IN_PROGRESS", "FAILED", "IN_PROGRESS", "COMPLETED"]);
    }

    async fn work_of_an_earlier_put_keeps_the_status_in_progress(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, _) = put_with(&app, &admin, &seed_body(json!({"consult": true})), "delay=5s").await;
        assert_eq!(status, 202);
        // A second PUT that leaves voice alone changes only the description.
        let mut body = seed_body(json!({"consult": true}));
        body["description"] = json!("Changed");
        assert_eq!(app.put(AQWSDE, &admin, &body).await.status(), 202);
        let status = app.account_status("AQWSDE", &admin).await;
        assert_eq!(status["status"], "IN_PROGRESS", "{status}");
        assert_eq!(status["features"]["voice"]["status"], "IN_PROGRESS");
        app.finish_jobs().await;
        assert_eq!(app.account_status("AQWSDE", &admin).await["status"], "COMPLETED");
    }

    async fn a_feature_stays_enabled_while_it_is_updated(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        assert_eq!(app.put(AQWSDE, &admin, &seed_body(json!({"consult": true}))).await.status(), 202);
        app.finish_jobs().await;
        let (status, _) = put_with(&app, &admin, &seed_body(json!({"consult": false})), "outcome=FAILED").await;
        assert_eq!(status, 202);
        let (_, during) = status_json(app.get(AQWSDE, &admin).await).await;
        assert_eq!(during["enabledFeatures"], "voice");
        app.finish_jobs().await;
        let (_, after) = status_json(app.get(AQWSDE, &admin).await).await;
        assert_eq!(after["enabledFeatures"], "voice", "a failed update leaves the feature as it was");
    }

    async fn fifty_concurrent_writes_never_fail_with_5xx(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let mut tasks = Vec::new();
        for i in 0..64 {
            let (http, url, creds) = (app.http.clone(), app.url("/api/admin/account/v1/accounts"), admin.clone());
            tasks.push(tokio::spawn(async move {
                let name = format!("Concurrent {}", i % 48);
                http.post(url).bearer_auth(&creds.token).header("appkey", &creds.appkey)
                    .json(&json!({"name": name, "domains": [{"domainName": "c.example.com"}], "accountSize": 1,
                                  "features": {"voice": {}, "chat": {}}}))
                    .send().await.unwrap().status().as_u16()
            }));
        }
        let mut codes = Vec::new();
        for t in tasks {
            codes.push(t.await.unwrap());
        }
        assert_eq!(codes.iter().filter(|c| **c == 202).count(), 48, "{codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == 409).count(), 16, "{codes:?}");
        assert_eq!(app.finish_jobs().await, 96);
        let (_, page) = status_json(app.call(Method::GET, "/api/admin/account/v1/accounts?filter=name:Concurrent*&pageSize=50", Some(&admin), None).await).await;
        assert_eq!(page["pagination"]["total"], 48);
    }
}

/// PostgreSQL: job ends are written one batch at a time across instances, under an
/// advisory lock taken before any row lock (`store::jobs::take_settle_turn`).
#[tokio::test]
async fn on_postgresql_a_batch_of_job_ends_waits_for_its_turn() {
    use sqlx::Connection;
    let Some(pg) = crate::helpers::Backend::postgres() else {
        return;
    };
    // Arrange: another session holds the turn; an account's voice feature waits for
    // its job.
    let app = spawn_app(&pg).await;
    let crate::helpers::TestDb::Postgres { url, .. } = &app.db else {
        unreachable!("a PostgreSQL app has a PostgreSQL database");
    };
    let mut other = sqlx::PgConnection::connect(url).await.unwrap();
    let turn = ccadmin::store::jobs::SETTLE_LOCK;
    sqlx::query("select pg_advisory_lock($1)")
        .bind(turn)
        .execute(&mut other)
        .await
        .unwrap();
    let admin = app.admin().await;
    let (status, _) = put_with(
        &app,
        &admin,
        &seed_body(json!({"consult": true})),
        "delay=0s",
    )
    .await;
    assert_eq!(status, 202);

    // Act: a worker claims the job and decides it, then waits to write its end.
    let jobs = app.jobs.clone();
    let run = tokio::spawn(async move { jobs.run_until_idle().await });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    // Assert: nothing was ended while the turn was held elsewhere.
    assert!(!run.is_finished());
    let waiting = app.account_status("AQWSDE", &admin).await;
    assert_eq!(
        waiting["features"]["voice"]["status"], "IN_PROGRESS",
        "{waiting}"
    );

    // Act: the other session lets go.
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(turn)
        .execute(&mut other)
        .await
        .unwrap();
    other.close().await.unwrap();
    let ran = run.await.unwrap().unwrap();

    // Assert: the end is written.
    assert!(ran >= 1);
    let ended = app.account_status("AQWSDE", &admin).await;
    assert_eq!(ended["status"], "COMPLETED", "{ended}");
    assert_eq!(ended["features"]["voice"]["status"], "COMPLETED", "{ended}");
}
