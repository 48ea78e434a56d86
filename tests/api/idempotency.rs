//! `Idempotency-Key` (extension): a retry answers the first answer and does nothing
//! more; another request under the key is 422; a key still running is 409 on its
//! instance and waits on another; a crash between commit and answer loses neither the
//! write nor its answer; keys belong to one client.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;
use crate::process::ServerProcess;

const NUMBERS: &str = "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers";
const ACCOUNTS: &str = "/api/admin/account/v1/accounts";

/// Sends `method path` with `creds`, an optional JSON body and an `Idempotency-Key`;
/// the status, whether it was a replay, and the body.
async fn keyed(
    http: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    creds: &Creds,
    key: &[u8],
    body: Option<&Value>,
) -> (u16, bool, Value) {
    let mut req = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(&creds.token)
        .header("appkey", &creds.appkey)
        .header(
            "Idempotency-Key",
            reqwest::header::HeaderValue::from_bytes(key).expect("a header value"),
        );
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().await.expect("the request is sent");
    let replayed = res
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    let (status, body) = status_json(res).await;
    (status, replayed, body)
}

async fn post_keyed(
    app: &TestApp,
    path: &str,
    creds: &Creds,
    key: &str,
    body: &Value,
) -> (u16, bool, Value) {
    keyed(
        &app.http,
        &app.address,
        Method::POST,
        path,
        creds,
        key.as_bytes(),
        Some(body),
    )
    .await
}

/// Available numbers of the demo inventory.
async fn available_numbers(app: &TestApp, creds: &Creds, n: usize) -> Vec<String> {
    let (status, page) = status_json(
        app.get(&format!("/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers?countryCode=US&type=LOCAL&pageSize={n}"), creds)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phoneNumber"].as_str().unwrap().to_owned())
        .collect()
}

async fn number_count(app: &TestApp, creds: &Creds) -> u64 {
    let (_, list) = status_json(app.get(NUMBERS, creds).await).await;
    list["pagination"]["total"].as_u64().unwrap()
}

async fn job_count(app: &TestApp, admin: &Creds) -> usize {
    let (status, jobs) = status_json(app.get("/_ccadmin/jobs?limit=10000", admin).await).await;
    assert_eq!(status, 200, "{jobs}");
    jobs["jobs"].as_array().unwrap().len()
}

/// A connection that holds what a write of the server needs until it is dropped or
/// released: SQLite's write lock, or on PostgreSQL the row of inventory entry `number`
/// (a number add takes its key first, then waits here with the key uncommitted).
enum Hold {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Hold {
    async fn take(db: &TestDb, number: &str) -> Self {
        use sqlx::Connection;
        match db {
            TestDb::Sqlite(dir) => {
                let url = format!("sqlite://{}", dir.path().join("ccadmin.db").display());
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query("begin immediate")
                    .execute(&mut c)
                    .await
                    .unwrap();
                Hold::Sqlite(c)
            }
            TestDb::Postgres { url, .. } => {
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query("begin").execute(&mut c).await.unwrap();
                sqlx::query("select 1 from number_inventory where phone_number = $1 for update")
                    .bind(number)
                    .execute(&mut c)
                    .await
                    .unwrap();
                Hold::Postgres(c)
            }
        }
    }

    /// Waits until `n` statements of the server wait for this hold (PostgreSQL); on
    /// SQLite, whose waits cannot be seen from outside, gives the server a moment.
    async fn until_waiting(&mut self, db: &TestDb, n: i64) {
        match self {
            Hold::Sqlite(_) => tokio::time::sleep(Duration::from_millis(1000)).await,
            Hold::Postgres(_) => {
                use sqlx::Connection;
                let TestDb::Postgres { url, .. } = db else {
                    unreachable!()
                };
                let mut watch = sqlx::PgConnection::connect(url).await.unwrap();
                let deadline = Instant::now() + Duration::from_secs(20);
                loop {
                    let waiting: i64 = sqlx::query_scalar(
                        "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
                    )
                    .fetch_one(&mut watch)
                    .await
                    .unwrap();
                    if waiting >= n {
                        return;
                    }
                    assert!(Instant::now() < deadline, "the server's write never waited");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    async fn release(self) {
        match self {
            Hold::Sqlite(mut c) => {
                sqlx::query("rollback").execute(&mut c).await.unwrap();
            }
            Hold::Postgres(mut c) => {
                sqlx::query("rollback").execute(&mut c).await.unwrap();
            }
        }
    }
}

backend_tests! {
    async fn a_retry_with_the_same_key_answers_the_first_answer_and_adds_nothing(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let admin = app.admin().await;
        let number = available_numbers(&app, &demo, 1).await.remove(0);
        let body = json!({"phoneNumber": number});
        let jobs_before = job_count(&app, &admin).await;

        let (status, replayed, first) = post_keyed(&app, NUMBERS, &demo, "add-1", &body).await;
        assert_eq!((status, replayed), (202, false), "{first}");
        assert_eq!(first["status"], "INPROGRESS");
        // The job finishes: a replay still answers the first answer, not today's state.
        app.finish_jobs().await;
        let (status, replayed, again) = post_keyed(&app, NUMBERS, &demo, "add-1", &body).await;
        assert_eq!((status, replayed), (202, true));
        assert_eq!(again, first);
        assert_eq!(number_count(&app, &demo).await, 1);
        assert_eq!(job_count(&app, &admin).await, jobs_before + 1, "one activation job");

        // Without a key the same request is a new one: 409.
        let (status, _) = status_json(app.post(NUMBERS, &demo, &body).await).await;
        assert_eq!(status, 409);
    }

    async fn every_create_and_start_operation_replays_its_first_answer(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let admin = app.admin().await;
        let number = available_numbers(&app, &demo, 1).await.remove(0);
        // A settled number to disable, then enable.
        let (_, added) = status_json(app.post(NUMBERS, &demo, &json!({"phoneNumber": number})).await).await;
        app.finish_jobs().await;
        let id = added["phoneNumberId"].as_str().unwrap();
        let cases: Vec<(String, Creds, Value, u16)> = vec![
            ("/api/admin/voice/v1/accounts/ABCDEF/aco-elements".into(), demo.clone(),
                json!({"name": "Avaya Cloud Office", "environment": "Production"}), 202),
            ("/api/admin/voice/v1/accounts/ABCDEF/msteams-elements".into(), demo.clone(),
                json!({"name": "Teams", "domain": "exchange.com"}), 202),
            ("/api/admin/account/v1/accounts/AQWSDE/organization-nodes".into(), admin.clone(),
                json!({"name": "Pune", "parentPath": "AccountSyncG"}), 202),
            (ACCOUNTS.into(), admin.clone(),
                json!({"name": "Keyed", "domains": [{"domainName": "keyed.example.com"}], "accountSize": 1, "features": {"voice": {}}}), 202),
            ("/api/admin/user/v1/accounts/AQWSDE/profiles".into(), admin.clone(),
                json!({"profileName": "Keyed Agents"}), 201),
            (format!("{NUMBERS}/{id}:disable"), admin.clone(), json!({}), 200),
            (format!("{NUMBERS}/{id}:enable"), admin.clone(), json!({}), 200),
        ];
        for (path, creds, body, expected) in cases {
            let (status, replayed, first) = post_keyed(&app, &path, &creds, "k", &body).await;
            assert_eq!((status, replayed), (expected, false), "{path}: {first}");
            let (status, replayed, again) = post_keyed(&app, &path, &creds, "k", &body).await;
            assert_eq!((status, replayed), (expected, true), "{path}");
            assert_eq!(again, first, "{path}");
        }
        // Each ran once: one account named Keyed, one profile, the number enabled again.
        let (_, page) = status_json(app.get(&format!("{ACCOUNTS}?filter=name:Keyed"), &admin).await).await;
        assert_eq!(page["pagination"]["total"], 1, "{page}");
        let (_, profiles) = status_json(app.get("/api/admin/user/v1/accounts/AQWSDE/profiles", &admin).await).await;
        assert_eq!(profiles["profiles"].as_array().unwrap().iter().filter(|p| p["profileName"] == "Keyed Agents").count(), 1);
        let (_, n) = status_json(app.get(&format!("{NUMBERS}/{id}"), &demo).await).await;
        assert_ne!(n["status"], "DISABLED", "{n}");
    }

    async fn the_same_key_with_another_request_is_422_and_changes_nothing(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let numbers = available_numbers(&app, &demo, 2).await;
        let (status, _, _) = post_keyed(&app, NUMBERS, &demo, "k-422", &json!({"phoneNumber": numbers[0]})).await;
        assert_eq!(status, 202);
        let (status, replayed, body) = post_keyed(&app, NUMBERS, &demo, "k-422", &json!({"phoneNumber": numbers[1]})).await;
        assert_eq!((status, replayed), (422, false));
        assert_problem(&body, 422, "idempotency-key-reused", "Unprocessable Content");
        assert_eq!(number_count(&app, &demo).await, 1);
        // A replay comes before every other check, a 422 too: even on a path of
        // another account, which this client may not reach (403 without the key).
        let (status, _, _) = post_keyed(&app, "/api/admin/voice/v1/accounts/AQWSDE/phone-numbers", &demo, "k-422", &json!({"phoneNumber": numbers[0]})).await;
        assert_eq!(status, 422);
    }

    async fn a_refusal_the_operation_decided_is_kept_but_not_a_malformed_request(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let number = available_numbers(&app, &demo, 1).await.remove(0);
        let body = json!({"phoneNumber": number});
        assert_eq!(app.post(NUMBERS, &demo, &body).await.status(), 202);
        // The operation decides 409 (already held): kept, the same problem again.
        let (status, replayed, first) = post_keyed(&app, NUMBERS, &demo, "dup", &body).await;
        assert_eq!((status, replayed), (409, false), "{first}");
        let (status, replayed, again) = post_keyed(&app, NUMBERS, &demo, "dup", &body).await;
        assert_eq!((status, replayed), (409, true));
        assert_eq!(again, first, "the same problem, its instance included");
        // A body the handler refuses (400) never reached the operation: nothing kept.
        let bad = json!({"phoneNumber": 12});
        for _ in 0..2 {
            let (status, replayed, _) = post_keyed(&app, NUMBERS, &demo, "bad", &bad).await;
            assert_eq!((status, replayed), (400, false));
        }
    }

    async fn a_5xx_keeps_nothing_so_the_retry_runs(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let admin = app.admin().await;
        let number = available_numbers(&app, &demo, 1).await.remove(0);
        let (status, _) = status_json(app.put("/_ccadmin/faults/once", &admin,
            &json!({"method": "POST", "path": NUMBERS, "status": 503, "times": 1})).await).await;
        assert_eq!(status, 200);
        let body = json!({"phoneNumber": number});
        let (status, _, _) = post_keyed(&app, NUMBERS, &demo, "retry", &body).await;
        assert_eq!(status, 503);
        let (status, replayed, _) = post_keyed(&app, NUMBERS, &demo, "retry", &body).await;
        assert_eq!((status, replayed), (202, false));
        assert_eq!(number_count(&app, &demo).await, 1);
    }

    async fn a_malformed_key_is_400_naming_the_header(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let long = vec![b'k'; 256];
        for key in [&b""[..], &long[..], &b"a\tb"[..], "caf\u{e9}".as_bytes()] {
            let (status, _, body) = keyed(&app.http, &app.address, Method::POST, NUMBERS, &demo, key,
                Some(&json!({"phoneNumber": "+16062128688"}))).await;
            assert_eq!(status, 400, "{key:?}: {body}");
            assert_problem(&body, 400, "constraint-violation", "Constraint Violation");
            assert_eq!(violations(&body)[0].0, "Idempotency-Key", "{body}");
        }
        // 255 printable characters, spaces included, are a key.
        let max: String = std::iter::repeat_n("a ~", 85).collect();
        let (status, _, body) = post_keyed(&app, NUMBERS, &demo, &max, &json!({"phoneNumber": "+16062128688"})).await;
        assert_eq!(status, 202, "{body}");
    }

    async fn a_key_belongs_to_one_client(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let admin = app.admin().await;
        let numbers = available_numbers(&app, &demo, 2).await;
        let (status, _, _) = post_keyed(&app, NUMBERS, &demo, "shared", &json!({"phoneNumber": numbers[0]})).await;
        assert_eq!(status, 202);
        // Another client's use of the same key string is another key: no replay of
        // the demo client's answer, no 422 for another body.
        let (status, replayed, body) = post_keyed(&app, NUMBERS, &admin, "shared", &json!({"phoneNumber": numbers[1]})).await;
        assert_eq!((status, replayed), (202, false), "{body}");
        let (status, replayed, body) = post_keyed(&app, NUMBERS, &admin, "shared", &json!({"phoneNumber": numbers[0]})).await;
        assert_eq!((status, replayed), (422, false), "{body}");
        // And the same key on another operation is another key too.
        let (status, replayed, _) = post_keyed(&app, "/api/admin/user/v1/accounts/ABCDEF/profiles", &demo, "shared", &json!({"profileName": "Shared"})).await;
        assert_eq!((status, replayed), (201, false));
    }

    async fn a_key_still_running_on_this_instance_is_409(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let number = available_numbers(&app, &demo, 1).await.remove(0);
        let body = json!({"phoneNumber": number});
        let mut hold = Hold::take(&app.db, &number).await;
        let first = {
            let (http, base, demo, body) = (app.http.clone(), app.address.clone(), demo.clone(), body.clone());
            tokio::spawn(async move { keyed(&http, &base, Method::POST, NUMBERS, &demo, b"slow", Some(&body)).await })
        };
        hold.until_waiting(&app.db, 1).await;
        let (status, replayed, problem) = post_keyed(&app, NUMBERS, &demo, "slow", &body).await;
        assert_eq!((status, replayed), (409, false), "{problem}");
        assert_problem(&problem, 409, "conflict", "Conflict");
        hold.release().await;
        let (status, replayed, first) = first.await.unwrap();
        assert_eq!((status, replayed), (202, false), "{first}");
        let (status, replayed, again) = post_keyed(&app, NUMBERS, &demo, "slow", &body).await;
        assert_eq!((status, replayed, again), (202, true, first));
    }

    async fn a_retry_after_a_crash_answers_the_committed_result_or_runs_once(b: Backend) {
        let db = TestDb::create(&b).await;
        let args = ["--workers", "0"];
        let server = ServerProcess::start(&db, &args).await;
        let admin = server.admin().await;
        let base = server.address.clone();
        // 6 writers create accounts, each request with its own key, until the server
        // dies under them; each remembers what it sent and what it was answered.
        let sent = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut writers = Vec::new();
        for w in 0..6 {
            let (base, admin, sent) = (base.clone(), admin.clone(), sent.clone());
            writers.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                for i in 0..1000 {
                    let key = format!("crash-{w}-{i}");
                    let body = json!({"name": format!("Idem {w} {i}"), "domains": [{"domainName": format!("idem{w}x{i}.example.com")}],
                        "accountSize": 1, "features": {"voice": {}}});
                    let res = http.post(format!("{base}{ACCOUNTS}")).bearer_auth(&admin.token).header("appkey", &admin.appkey)
                        .header("Idempotency-Key", &key).json(&body).send().await;
                    let answer = match res {
                        Ok(r) if r.status() == 202 => r.json::<Value>().await.ok(),
                        _ => None,
                    };
                    let done = answer.is_none();
                    sent.lock().unwrap().push((key, body, answer));
                    if done {
                        return;
                    }
                }
            }));
        }
        let started = Instant::now();
        while sent.lock().unwrap().len() < 30 && started.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.kill();
        for w in writers {
            w.await.unwrap();
        }
        let sent = sent.lock().unwrap().clone();
        assert!(sent.iter().filter(|(_, _, a)| a.is_some()).count() >= 30);

        let server = ServerProcess::start(&db, &args).await;
        let http = reqwest::Client::new();
        let mut ids = HashSet::new();
        for (key, body, answer) in &sent {
            let (status, replayed, again) = keyed(&http, &server.address, Method::POST, ACCOUNTS, &admin, key.as_bytes(), Some(body)).await;
            assert_eq!(status, 202, "{key}: {again}");
            if let Some(first) = answer {
                // Answered before the crash: the retry is that answer.
                assert!(replayed, "{key}");
                assert_eq!(&again, first, "{key}");
            }
            assert!(ids.insert(again["accountId"].as_str().unwrap().to_owned()), "{key}: an account twice");
        }
        // No request made an account twice.
        let (status, page) = {
            let res = http.get(format!("{}{ACCOUNTS}?filter=name:Idem*&pageSize=5", server.address)).bearer_auth(&admin.token).header("appkey", &admin.appkey).send().await.unwrap();
            status_json(res).await
        };
        assert_eq!(status, 200);
        assert_eq!(page["pagination"]["total"].as_u64().unwrap() as usize, sent.len(), "{page}");
        server.kill();
    }
}

/// Two instances on one PostgreSQL database share keys: a retry on the other instance
/// replays, and one sent there while the first still runs waits for its outcome.
#[tokio::test]
async fn two_instances_share_keys_and_the_second_waits_for_the_first() {
    let Some(b) = Backend::postgres() else { return };
    let db = TestDb::create(&b).await;
    let args = ["--workers", "0"];
    let a = ServerProcess::start(&db, &args).await;
    let bb = ServerProcess::start(&db, &args).await;
    let http = reqwest::Client::new();
    let demo = crate::process::client_credentials(&http, &a.address, crate::process::DEMO_CLIENT)
        .await
        .unwrap();
    let (status, page) = {
        let res = http
            .get(format!("{}/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers?countryCode=US&type=LOCAL&pageSize=2", a.address))
            .bearer_auth(&demo.token)
            .header("appkey", &demo.appkey)
            .send()
            .await
            .unwrap();
        status_json(res).await
    };
    assert_eq!(status, 200);
    let numbers: Vec<String> = page["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phoneNumber"].as_str().unwrap().to_owned())
        .collect();

    // Answered on A, replayed on B.
    let body = json!({"phoneNumber": numbers[0]});
    let (status, replayed, first) = keyed(
        &http,
        &a.address,
        Method::POST,
        NUMBERS,
        &demo,
        b"ab",
        Some(&body),
    )
    .await;
    assert_eq!((status, replayed), (202, false), "{first}");
    let (status, replayed, again) = keyed(
        &http,
        &bb.address,
        Method::POST,
        NUMBERS,
        &demo,
        b"ab",
        Some(&body),
    )
    .await;
    assert_eq!((status, replayed, again), (202, true, first));

    // While A's write holds the key uncommitted, B's request with it waits, then
    // answers A's outcome.
    let body = json!({"phoneNumber": numbers[1]});
    let mut hold = Hold::take(&db, &numbers[1]).await;
    // The add keyed "wait", sent to the instance at `base` in a task of its own.
    let spawn_wait = |base: String| {
        let (http, demo, body) = (http.clone(), demo.clone(), body.clone());
        tokio::spawn(async move {
            keyed(
                &http,
                &base,
                Method::POST,
                NUMBERS,
                &demo,
                b"wait",
                Some(&body),
            )
            .await
        })
    };
    let on_a = spawn_wait(a.address.clone());
    hold.until_waiting(&db, 1).await;
    let on_b = spawn_wait(bb.address.clone());
    hold.until_waiting(&db, 2).await;
    hold.release().await;
    let (status, replayed, from_a) = on_a.await.unwrap();
    assert_eq!((status, replayed), (202, false), "{from_a}");
    let (status, replayed, from_b) = on_b.await.unwrap();
    assert_eq!((status, replayed), (202, true), "{from_b}");
    assert_eq!(from_b, from_a);
    let (_, list) = {
        let res = http
            .get(format!("{}{NUMBERS}", a.address))
            .bearer_auth(&demo.token)
            .header("appkey", &demo.appkey)
            .send()
            .await
            .unwrap();
        status_json(res).await
    };
    assert_eq!(list["pagination"]["total"], 2, "{list}");
}

/// The published contract names the headers, marked as extensions, and the answers.
#[test]
fn the_openapi_document_marks_the_safe_retry_headers_as_extensions() {
    let doc = serde_json::to_value(ccadmin::http::openapi::document()).unwrap();
    let op = |path: &str, method: &str| doc["paths"][path][method].clone();
    let header = |op: &Value, name: &str| -> Value {
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name && p["in"] == "header")
            .cloned()
            .unwrap_or(Value::Null)
    };
    let keyed = [
        (
            "/api/admin/voice/v1/accounts/{accountId}/phone-numbers",
            "post",
        ),
        (
            "/api/admin/voice/v1/accounts/{accountId}/aco-elements",
            "post",
        ),
        (
            "/api/admin/voice/v1/accounts/{accountId}/msteams-elements",
            "post",
        ),
        (
            "/api/admin/account/v1/accounts/{accountId}/organization-nodes",
            "post",
        ),
        ("/api/admin/account/v1/accounts", "post"),
        ("/api/admin/user/v1/accounts/{accountId}/profiles", "post"),
        (
            "/api/admin/voice/v1/accounts/{accountId}/phone-numbers/{phoneNumberId}:disable",
            "post",
        ),
        (
            "/api/admin/voice/v1/accounts/{accountId}/phone-numbers/{phoneNumberId}:enable",
            "post",
        ),
    ];
    for (path, method) in keyed {
        let o = op(path, method);
        assert_eq!(
            header(&o, "Idempotency-Key")["x-ccadmin-extension"],
            true,
            "{path}"
        );
        assert_eq!(o["responses"]["422"]["x-ccadmin-extension"], true, "{path}");
        assert!(o["responses"]["409"].is_object(), "{path}");
    }
    let client_create = op("/api/admin/account/v1/accounts/{accountId}/clients", "post");
    assert!(header(&client_create, "Idempotency-Key").is_null());
    let single = [
        "/api/admin/account/v1/accounts/{accountId}",
        "/api/admin/account/v1/accounts/{accountId}/organization-nodes/{organizationNodeId}",
        "/api/admin/voice/v1/accounts/{accountId}/aco-elements/{elementId}",
        "/api/admin/voice/v1/accounts/{accountId}/msteams-elements/{elementId}",
        "/api/admin/voice/v1/accounts/{accountId}/phone-numbers/{phoneNumberId}",
        "/api/admin/user/v1/accounts/{accountId}/profiles/{profileId}",
    ];
    for path in single {
        let get = op(path, "get");
        assert_eq!(
            header(&get, "If-None-Match")["x-ccadmin-extension"],
            true,
            "{path}"
        );
        assert!(get["responses"]["304"].is_object(), "{path}");
        assert!(
            get["responses"]["200"]["headers"]["ETag"].is_object(),
            "{path}"
        );
        let put = op(path, "put");
        assert_eq!(
            header(&put, "If-Match")["x-ccadmin-extension"],
            true,
            "{path}"
        );
        assert!(put["responses"]["412"].is_object(), "{path}");
    }
}
