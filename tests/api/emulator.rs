//! The emulator controls: rules, seed, reset, clock, live events.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Creds, TestApp, spawn_app, status_json, violations};

const AQWSDE: &str = "/api/admin/account/v1/accounts/AQWSDE";

fn body_with(features: Value) -> Value {
    json!({"name": "SyncG", "domains": [{"domainName": "avaya.com"}], "accountSize": 10, "features": features})
}

async fn put_rule(app: &TestApp, admin: &Creds, kind: &str, rule: Value) -> (u16, Value) {
    status_json(
        app.call(
            Method::PUT,
            &format!("/_ccadmin/rules/{kind}"),
            Some(admin),
            Some(&rule),
        )
        .await,
    )
    .await
}

/// Creates accounts with one feature each; which of them failed.
async fn failures_with_seed(app: &TestApp, admin: &Creds, seed: u64) -> Vec<bool> {
    let res = app
        .call(
            Method::PUT,
            "/_ccadmin/seed",
            Some(admin),
            Some(&json!({"seed": seed})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let mut out = Vec::new();
    for i in 0..20 {
        let name = format!("Seeded {seed} {i}");
        // The same account content each round, so the draws depend only on the seed.
        let res = app.post("/api/admin/account/v1/accounts", admin,
            &json!({"name": name, "domains": [{"domainName": "s.example.com"}], "accountSize": 1, "features": {"chat": {}}})).await;
        let (_, created) = status_json(res).await;
        app.finish_jobs().await;
        let status = app
            .account_status(created["accountId"].as_str().unwrap(), admin)
            .await;
        out.push(status["status"] == "FAILED");
    }
    out
}

backend_tests! {
    async fn a_rule_fails_every_job_of_its_kind_until_removed(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, rule) = put_rule(&app, &admin, "account.feature", json!({"outcome": "FAILED", "delay": "2s"})).await;
        assert_eq!(status, 200, "{rule}");
        assert_eq!(rule, json!({"resourceKind": "account.feature", "delay": "2000ms", "outcome": "FAILED", "failureProbability": 0.0}));
        assert_eq!(app.put(AQWSDE, &admin, &body_with(json!({"voice": {}}))).await.status(), 202);
        app.clock.advance(1_000);
        assert_eq!(app.run_due_jobs().await, 0, "the rule's 2 s delay applies");
        app.clock.advance(1_000);
        assert_eq!(app.run_due_jobs().await, 1);
        assert_eq!(app.account_status("AQWSDE", &admin).await["status"], "FAILED");
        let (_, journal) = status_json(app.get("/_ccadmin/transitions?accountId=AQWSDE&resourceKind=account.feature", &admin).await).await;
        assert_eq!(journal["transitions"][1]["cause"], "rule");

        let res = app.call(Method::DELETE, "/_ccadmin/rules/account.feature", Some(&admin), None).await;
        assert_eq!(res.status(), 204);
        assert_eq!(app.put(AQWSDE, &admin, &body_with(json!({"voice": {}}))).await.status(), 202);
        app.finish_jobs().await;
        assert_eq!(app.account_status("AQWSDE", &admin).await["status"], "COMPLETED");
    }

    async fn bad_rules_are_refused(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, body) = put_rule(&app, &admin, "account.feature", json!({"outcome": "ACTIVE", "failureProbability": 2, "delay": "soon"})).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("delay".to_owned(), 20005), ("outcome".to_owned(), 20005), ("failureProbability".to_owned(), 20004)]);
        let (status, _) = put_rule(&app, &admin, "no.such.kind", json!({})).await;
        assert_eq!(status, 404);
        let (status, rules) = status_json(app.get("/_ccadmin/rules", &admin).await).await;
        assert_eq!(status, 200);
        assert_eq!(rules["rules"], json!([]));
        assert!(rules["kinds"].as_array().unwrap().iter().any(|k| k["resourceKind"] == "account.rename"));
    }

    async fn a_failure_probability_repeats_with_the_same_seed(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        assert_eq!(put_rule(&app, &admin, "account.feature", json!({"failureProbability": 0.5, "delay": "0s"})).await.0, 200);
        let first = failures_with_seed(&app, &admin, 7).await;
        let reset = app.call(Method::POST, "/_ccadmin/reset", Some(&admin), None).await;
        assert_eq!(reset.status(), 204);
        assert_eq!(put_rule(&app, &admin, "account.feature", json!({"failureProbability": 0.5, "delay": "0s"})).await.0, 200);
        let again = failures_with_seed(&app, &admin, 7).await;
        assert_eq!(first, again, "same seed, same outcomes");
        let failed = first.iter().filter(|f| **f).count();
        assert!((3..=17).contains(&failed), "about half fail: {failed}");
    }

    async fn reset_restores_the_demo_data_and_keeps_the_administrator(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, created) = status_json(app.post("/api/admin/account/v1/accounts", &admin,
            &json!({"name": "Temporary", "domains": [{"domainName": "t.example.com"}], "accountSize": 1})).await).await;
        assert_eq!(status, 202);
        let temp = format!("/api/admin/account/v1/accounts/{}", created["accountId"].as_str().unwrap());
        assert_eq!(app.put(AQWSDE, &admin, &body_with(json!({"voice": {}}))).await.status(), 202);
        let created_client = app.create_client("AQWSDE", &json!({"roles": ["Account Administrator"]})).await;
        let other = app.login("AQWSDE", created_client["clientId"].as_str().unwrap(),
            created_client["clientSecret"].as_str().unwrap(), created_client["appkey"].as_str().unwrap()).await;

        let (status, _) = status_json(app.post("/api/admin/voice/v1/accounts/AQWSDE/phone-numbers", &admin, &json!({"phoneNumber": "+16062128688"})).await).await;
        assert_eq!(status, 202);

        // One account: back to the seed's state, its numbers back in the inventory.
        let res = app.call(Method::POST, "/_ccadmin/reset", Some(&admin), Some(&json!({"accountId": "AQWSDE"}))).await;
        assert_eq!(res.status(), 204);
        let (_, offered) = status_json(app.get("/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers?countryCode=US&type=LOCAL&phoneNumber=6062128688", &admin).await).await;
        assert_eq!(offered["pagination"]["total"], 1, "{offered}");
        let (_, account) = status_json(app.get(AQWSDE, &admin).await).await;
        assert!(account.get("features").is_none(), "{account}");
        assert_eq!(app.get(&temp, &admin).await.status(), 200, "other accounts stay");

        // Everything.
        let res = app.call(Method::POST, "/_ccadmin/reset", Some(&admin), Some(&json!({}))).await;
        assert_eq!(res.status(), 204);
        assert_eq!(app.get(&temp, &admin).await.status(), 404);
        assert_eq!(app.get(AQWSDE, &admin).await.status(), 200, "re-seeded");
        assert_eq!(app.get(AQWSDE, &other).await.status(), 401, "a deleted client's tokens stop working");
        let demo = app.demo().await;
        assert_eq!(app.get("/api/admin/account/v1/accounts/ABCDEF", &demo).await.status(), 200, "demo credentials are re-seeded");
        let (_, jobs) = status_json(app.get("/_ccadmin/jobs", &admin).await).await;
        assert_eq!(jobs["jobs"], json!([]));
        let res = app.call(Method::POST, "/_ccadmin/reset", Some(&admin), Some(&json!({"accountId": "ZZZZZZ"}))).await;
        assert_eq!(res.status(), 404);
        let (status, body) = status_json(app.call(Method::POST, "/_ccadmin/reset", Some(&admin), Some(&json!({"accountId": "PLATFM"}))).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("accountId".to_owned(), 20005)]);
    }

    async fn the_clock_freezes_advances_and_survives_a_restart(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (_, frozen) = status_json(app.call(Method::POST, "/_ccadmin/clock:freeze", Some(&admin), None).await).await;
        assert_eq!(frozen["frozen"], true);
        let (_, advanced) = status_json(app.call(Method::POST, "/_ccadmin/clock:advance", Some(&admin), Some(&json!({"by": "2m"}))).await).await;
        let before = chrono_ms(&frozen["now"]);
        assert_eq!(chrono_ms(&advanced["now"]) - before, 120_000);
        let app = app.restart().await;
        let (_, clock) = status_json(app.get("/_ccadmin/clock", &admin).await).await;
        assert_eq!(clock, advanced, "the frozen instant survives the restart");
        let (status, body) = status_json(app.call(Method::POST, "/_ccadmin/clock:advance", Some(&admin), Some(&json!({"by": "later"}))).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("by".to_owned(), 20005)]);
    }

    async fn settle_runs_every_job_to_its_end(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        assert_eq!(app.put(AQWSDE, &admin, &body_with(json!({"voice": {}, "chat": {}}))).await.status(), 202);
        let (status, body) = status_json(app.call(Method::POST, "/_ccadmin/jobs:settle", Some(&admin), None).await).await;
        assert_eq!(status, 200);
        assert_eq!(body["runs"], 2);
        assert_eq!(app.account_status("AQWSDE", &admin).await["status"], "COMPLETED");
    }

    async fn events_stream_transitions_as_they_happen(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let mut res = app.http.get(app.url("/_ccadmin/events?accountId=AQWSDE"))
            .bearer_auth(&admin.token).header("appkey", &admin.appkey).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        assert_eq!(app.put(AQWSDE, &admin, &body_with(json!({"voice": {}}))).await.status(), 202);
        app.finish_jobs().await;
        let mut text = String::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while text.matches("event: transition").count() < 2 && std::time::Instant::now() < deadline {
            match tokio::time::timeout(std::time::Duration::from_secs(5), res.chunk()).await {
                Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
                _ => break,
            }
        }
        let data: Vec<Value> = text.lines().filter_map(|l| l.strip_prefix("data: ")).map(|d| serde_json::from_str(d).unwrap()).collect();
        assert_eq!(data.len(), 2, "{text}");
        assert_eq!((data[0]["to"].as_str(), data[1]["to"].as_str()), (Some("IN_PROGRESS"), Some("COMPLETED")));
        assert_eq!(data[1]["resourceId"], "features.voice");
        assert!(text.contains(&format!("id: {}", data[1]["seq"])), "{text}");
    }

    async fn only_administrators_reach_the_controls(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        for (method, path) in [(Method::GET, "/_ccadmin/jobs"), (Method::GET, "/_ccadmin/transitions"), (Method::POST, "/_ccadmin/reset"),
                               (Method::GET, "/_ccadmin/rules"), (Method::POST, "/_ccadmin/clock:freeze"), (Method::GET, "/_ccadmin/events")] {
            let (status, _) = status_json(app.call(method.clone(), path, Some(&demo), None).await).await;
            assert_eq!(status, 403, "{method} {path}");
            let (status, _) = status_json(app.call(method.clone(), path, None, None).await).await;
            assert_eq!(status, 401, "{method} {path}");
        }
    }
}

fn chrono_ms(v: &Value) -> i64 {
    // RFC 3339 with milliseconds, UTC: compare through the epoch.
    let s = v.as_str().unwrap();
    let secs = time_to_secs(&s[..19]);
    secs * 1000 + s[20..23].parse::<i64>().unwrap()
}

fn time_to_secs(s: &str) -> i64 {
    // Days from civil (Howard Hinnant's algorithm), enough for test timestamps.
    let (y, m, d) = (
        s[0..4].parse::<i64>().unwrap(),
        s[5..7].parse::<i64>().unwrap(),
        s[8..10].parse::<i64>().unwrap(),
    );
    let (hh, mm, ss) = (
        s[11..13].parse::<i64>().unwrap(),
        s[14..16].parse::<i64>().unwrap(),
        s[17..19].parse::<i64>().unwrap(),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}
