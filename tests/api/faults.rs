//! Injected faults (`/_ccadmin/faults`): statuses, delays and dropped connections on
//! requests under `/api/`, after authentication, with `times` and seeded
//! probabilities, shared by every instance on the database.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::backend_tests;
use crate::helpers::*;

const ACCOUNT: &str = "/api/admin/account/v1/accounts/ABCDEF";
const NUMBERS: &str = "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers";

async fn put_fault(app: &TestApp, admin: &Creds, name: &str, body: &Value) -> Value {
    let (status, out) = status_json(
        app.put(&format!("/_ccadmin/faults/{name}"), admin, body)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{out}");
    out
}

async fn faults(app: &TestApp, admin: &Creds) -> Vec<Value> {
    let (status, body) = status_json(app.get("/_ccadmin/faults", admin).await).await;
    assert_eq!(status, 200, "{body}");
    body["faults"].as_array().expect("faults").clone()
}

backend_tests! {
    async fn an_injected_status_answers_problem_json_without_running_the_operation(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let demo = app.demo().await;
        let out = put_fault(&app, &admin, "numbers-down", &json!({"method": "post", "path": "/api/admin/voice/v1/accounts/*/phone-numbers", "status": 503})).await;
        assert_eq!(out, json!({"name": "numbers-down", "method": "POST", "path": "/api/admin/voice/v1/accounts/*/phone-numbers",
            "status": 503, "drop": false, "probability": 1.0}));
        assert_eq!(faults(&app, &admin).await, vec![out]);

        let res = app.post(NUMBERS, &demo, &json!({"phoneNumber": "+16062128688"})).await;
        assert_eq!(res.headers()["retry-after"], "1");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let (status, body) = status_json(res).await;
        assert_eq!(status, 503);
        assert_problem(&body, 503, "injected-fault", "Service Unavailable");
        assert!(body["detail"].as_str().unwrap().contains("numbers-down"), "{body}");
        // The operation did not run.
        let (_, list) = status_json(app.get(NUMBERS, &demo).await).await;
        assert_eq!(list["pagination"]["total"], 0, "{list}");
        // Other methods and paths are untouched.
        assert_eq!(app.get(NUMBERS, &demo).await.status(), 200);
        // The journal says which fault answered.
        let (_, journal) = status_json(app.get("/_ccadmin/requests?status=503", &admin).await).await;
        assert_eq!(journal["requests"][0]["fault"], json!({"name": "numbers-down", "status": 503, "drop": false}));

        put_fault(&app, &admin, "numbers-down", &json!({"method": "POST", "path": "*/phone-numbers", "status": 429})).await;
        let res = app.post(NUMBERS, &demo, &json!({"phoneNumber": "+16062128688"})).await;
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()["retry-after"], "1");
        let (_, body) = status_json(res).await;
        assert_problem(&body, 429, "injected-fault", "Too Many Requests");

        put_fault(&app, &admin, "numbers-down", &json!({"method": "POST", "path": "*/phone-numbers", "status": 500})).await;
        let res = app.post(NUMBERS, &demo, &json!({"phoneNumber": "+16062128688"})).await;
        assert_eq!(res.status(), 500);
        assert!(res.headers().get("retry-after").is_none());

        assert_eq!(app.call(Method::DELETE, "/_ccadmin/faults/numbers-down", Some(&admin), None).await.status(), 204);
        assert_eq!(app.call(Method::DELETE, "/_ccadmin/faults/numbers-down", Some(&admin), None).await.status(), 204);
        assert_eq!(app.post(NUMBERS, &demo, &json!({"phoneNumber": "+16062128688"})).await.status(), 202);
    }

    async fn a_delay_holds_the_real_operation(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        put_fault(&app, &admin, "slow", &json!({"method": "GET", "path": ACCOUNT, "delayMs": 600})).await;
        let started = Instant::now();
        let (status, body) = status_json(app.get(ACCOUNT, &admin).await).await;
        assert!(started.elapsed() >= Duration::from_millis(600), "{:?}", started.elapsed());
        assert_eq!(status, 200);
        assert_eq!(body["accountId"], "ABCDEF");
        let started = Instant::now();
        assert_eq!(app.get("/api/admin/account/v1/accounts/AQWSDE", &admin).await.status(), 200);
        assert!(started.elapsed() < Duration::from_millis(600), "another path is not delayed");
        let (_, journal) = status_json(app.get(&format!("/_ccadmin/requests?path={ACCOUNT}"), &admin).await).await;
        let entry = &journal["requests"][0];
        assert_eq!(entry["fault"], json!({"name": "slow", "delayMs": 600, "drop": false}));
        assert!(entry["durationMs"].as_f64().unwrap() >= 600.0, "{entry}");
    }

    async fn a_drop_closes_the_connection_without_an_answer(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        put_fault(&app, &admin, "gone", &json!({"method": "*", "path": ACCOUNT, "drop": true})).await;
        let res = app.http.get(app.url(ACCOUNT)).bearer_auth(&admin.token).header("appkey", &admin.appkey).send().await;
        let err = res.expect_err("no answer");
        assert!(!err.is_timeout() && !err.is_status(), "{err:?}");
        // The server goes on serving; the journal shows the drop, with no status.
        let (_, journal) = status_json(app.get(&format!("/_ccadmin/requests?path={ACCOUNT}"), &admin).await).await;
        let entry = &journal["requests"][0];
        assert_eq!(entry["fault"], json!({"name": "gone", "drop": true}));
        assert!(entry.get("status").is_none(), "{entry}");
        assert_eq!(app.call(Method::DELETE, "/_ccadmin/faults", Some(&admin), None).await.status(), 204);
        assert_eq!(faults(&app, &admin).await, Vec::<Value>::new());
        assert_eq!(app.get(ACCOUNT, &admin).await.status(), 200);
    }

    async fn times_fires_exactly_that_many_times_then_the_fault_removes_itself(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        put_fault(&app, &admin, "thrice", &json!({"method": "GET", "path": ACCOUNT, "status": 503, "times": 3})).await;
        assert_eq!(faults(&app, &admin).await[0]["times"], 3);
        let calls = (0..12).map(|_| app.get(ACCOUNT, &admin));
        let statuses: Vec<u16> = futures_util::future::join_all(calls).await.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 3, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 9, "{statuses:?}");
        assert_eq!(faults(&app, &admin).await, Vec::<Value>::new());
    }

    async fn probability_draws_from_a_seeded_sequence_of_its_own(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        put_fault(&app, &admin, "flaky", &json!({"method": "GET", "path": ACCOUNT, "status": 503, "probability": 0.5})).await;
        let mut runs = Vec::new();
        for _ in 0..2 {
            assert_eq!(app.put("/_ccadmin/seed", &admin, &json!({"seed": 42})).await.status(), 200);
            let mut run = Vec::new();
            for _ in 0..16 {
                run.push(app.get(ACCOUNT, &admin).await.status().as_u16());
            }
            runs.push(run);
        }
        assert_eq!(runs[0], runs[1], "the same seed gives the same outcomes");
        assert!(runs[0].contains(&503) && runs[0].contains(&200), "{:?}", runs[0]);
        // Another seed, another sequence.
        assert_eq!(app.put("/_ccadmin/seed", &admin, &json!({"seed": 7})).await.status(), 200);
        let mut other = Vec::new();
        for _ in 0..16 {
            other.push(app.get(ACCOUNT, &admin).await.status().as_u16());
        }
        assert_ne!(other, runs[0]);
        // Probability 0 never fires, 1 always.
        put_fault(&app, &admin, "flaky", &json!({"method": "GET", "path": ACCOUNT, "status": 503, "probability": 0})).await;
        assert_eq!(app.get(ACCOUNT, &admin).await.status(), 200);
    }

    async fn faults_never_touch_the_controls_and_authentication_comes_first(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        put_fault(&app, &admin, "everything", &json!({"method": "*", "path": "*", "status": 503})).await;
        // The controls still answer.
        assert_eq!(faults(&app, &admin).await.len(), 1);
        assert_eq!(app.get("/_ccadmin/clock", &admin).await.status(), 200);
        assert_eq!(app.get("/healthz", &admin).await.status(), 200);
        // No token, a bad token, a wrong appkey: 401, not the fault.
        let (status, body) = status_json(app.call(Method::GET, ACCOUNT, None, None).await).await;
        assert_eq!(status, 401);
        assert_problem(&body, 401, "unauthorized", "Unauthorized");
        let forged = Creds { token: "not.a.token".into(), appkey: admin.appkey.clone() };
        assert_eq!(app.get(ACCOUNT, &forged).await.status(), 401);
        let wrong_key = Creds { token: admin.token.clone(), appkey: "wrong".into() };
        assert_eq!(app.get(ACCOUNT, &wrong_key).await.status(), 401);
        // Unrouted paths answer 404 first.
        assert_eq!(app.get("/api/nothing/here", &admin).await.status(), 404);
        // A valid caller gets the fault, also a caller the operation would refuse.
        assert_eq!(app.get(ACCOUNT, &admin).await.status(), 503);
        // The token endpoint has no token to check: the fault applies to it.
        let res = app.token_request("ABCDEF", Some("demo-appkey"),
            &[("grant_type", "client_credentials"), ("client_id", "demo-client"), ("client_secret", "demo-secret")]).await;
        assert_eq!(res.status(), 503);
        // An account-scoped fault only touches that account.
        put_fault(&app, &admin, "everything", &json!({"method": "GET", "path": "*", "accountId": "AQWSDE", "status": 503})).await;
        assert_eq!(app.get(ACCOUNT, &admin).await.status(), 200);
        assert_eq!(app.get("/api/admin/account/v1/accounts/AQWSDE", &admin).await.status(), 503);
        // Administrator only.
        let demo = app.demo().await;
        assert_eq!(app.get("/_ccadmin/faults", &demo).await.status(), 403);
        assert_eq!(app.put("/_ccadmin/faults/x", &demo, &json!({"method": "GET", "path": "*", "status": 503})).await.status(), 403);
    }

    async fn reset_clears_the_faults(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        put_fault(&app, &admin, "down", &json!({"method": "GET", "path": ACCOUNT, "status": 503})).await;
        assert_eq!(app.get(ACCOUNT, &admin).await.status(), 503);
        assert_eq!(app.call(Method::POST, "/_ccadmin/reset", Some(&admin), None).await.status(), 204);
        assert_eq!(faults(&app, &admin).await, Vec::<Value>::new());
        assert_eq!(app.get(ACCOUNT, &admin).await.status(), 200);
        // The reset also emptied the journal: only what came after it is there.
        let (_, journal) = status_json(app.get("/_ccadmin/requests", &admin).await).await;
        assert_eq!(journal["requests"].as_array().unwrap().len(), 1, "{journal}");
    }

    async fn bad_faults_are_refused_with_every_violation(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let cases: [(Value, Vec<(&str, i64)>); 8] = [
            (json!({}), vec![("method", 20002), ("path", 20002), ("status", 20002)]),
            (json!({"method": "FETCH", "path": "api", "drop": true}), vec![("method", 20005), ("path", 20005)]),
            (json!({"method": "GET", "path": "/a", "status": 200}), vec![("status", 20004)]),
            (json!({"method": "GET", "path": "/a", "status": 503, "drop": true}), vec![("drop", 20005)]),
            (json!({"method": "GET", "path": "/a", "delayMs": 60001, "probability": -0.1, "times": 0}),
                vec![("delayMs", 20004), ("probability", 20004), ("times", 20004)]),
            (json!({"method": "GET", "path": "/a", "drop": true, "accountId": "ABC"}), vec![("accountId", 20006)]),
            (json!({"method": "GET", "path": "/a", "status": "503"}), vec![("status", 20001)]),
            (json!({"method": "GET", "path": "/a", "drop": "yes"}), vec![("drop", 20001)]),
        ];
        for (body, expected) in cases {
            let (status, problem) = status_json(app.put("/_ccadmin/faults/f", &admin, &body).await).await;
            assert_eq!(status, 400, "{body}: {problem}");
            assert_problem(&problem, 400, "constraint-violation", "Constraint Violation");
            let expected: Vec<(String, i64)> = expected.into_iter().map(|(f, c)| (f.to_owned(), c)).collect();
            assert_eq!(violations(&problem), expected, "{body}");
        }
        let (status, problem) = status_json(app.put("/_ccadmin/faults/bad%20name", &admin, &json!({"method": "GET", "path": "/a", "drop": true})).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&problem), vec![("name".to_owned(), 20006)]);
        assert_eq!(faults(&app, &admin).await, Vec::<Value>::new());
    }

    async fn two_instances_share_the_faults_and_their_uses(b: Backend) {
        let a = spawn_app(&b).await;
        let other = Instance::start(&a).await;
        let admin = a.admin().await;

        put_fault(&a, &admin, "shared", &json!({"method": "GET", "path": ACCOUNT, "status": 503})).await;
        wait_for_status(|| other.get(ACCOUNT, &admin), 503).await;
        assert_eq!(a.call(Method::DELETE, "/_ccadmin/faults/shared", Some(&admin), None).await.status(), 204);
        wait_for_status(|| other.get(ACCOUNT, &admin), 200).await;

        // Two uses between the two instances, then neither applies it.
        put_fault(&a, &admin, "twice", &json!({"method": "GET", "path": "/api/admin/account/v1/accounts/AQWSDE", "status": 503, "times": 2})).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let path = "/api/admin/account/v1/accounts/AQWSDE";
        assert_eq!(other.get(path, &admin).await.status(), 503);
        assert_eq!(a.get(path, &admin).await.status(), 503);
        assert_eq!(other.get(path, &admin).await.status(), 200);
        assert_eq!(a.get(path, &admin).await.status(), 200);
        other.stop().await;
    }
}

/// A second server on the same database as `app`.
struct Instance {
    address: String,
    http: reqwest::Client,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Instance {
    async fn start(app: &TestApp) -> Self {
        let mut args = app.args.clone();
        args.listen = "127.0.0.1:0".parse().expect("a valid address");
        let server = ccadmin::App::build(&args)
            .await
            .expect("the second server builds");
        let address = format!("http://127.0.0.1:{}", server.port());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Self {
            address,
            http: reqwest::Client::new(),
            stop,
            task,
        }
    }

    async fn get(&self, path: &str, creds: &Creds) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .bearer_auth(&creds.token)
            .header("appkey", &creds.appkey)
            .send()
            .await
            .expect("the request is sent")
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("the server task ends")
            .expect("the server stops cleanly");
    }
}

/// Waits (up to 5 s: the instances re-read faults every second) for `call` to answer
/// `status`.
async fn wait_for_status<F, Fut>(mut call: F, status: u16)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = call().await.status().as_u16();
        if got == status {
            return;
        }
        assert!(Instant::now() < deadline, "still {got}, not {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
