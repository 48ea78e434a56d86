//! `ETag`, `If-None-Match` and `If-Match` (extension, RFC 9110) on the five single
//! resources: accounts, nodes, elements, phone numbers, profiles.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::*;

const NUMBERS: &str = "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers";

/// Sends `method path` with `creds`, a JSON body if any, and `headers`; the status,
/// the `ETag` and the body.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    creds: &Creds,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, Option<String>, String) {
    let mut req = app
        .http
        .request(method, app.url(path))
        .bearer_auth(&creds.token)
        .header("appkey", &creds.appkey);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().await.expect("the request is sent");
    let status = res.status().as_u16();
    let etag = res
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, etag, res.text().await.unwrap())
}

async fn etag_of(app: &TestApp, path: &str, creds: &Creds) -> String {
    let (status, etag, body) = send(app, Method::GET, path, creds, &[], None).await;
    assert_eq!(status, 200, "{path}: {body}");
    etag.unwrap_or_else(|| panic!("{path}: no ETag"))
}

/// One single resource: where it is, who may change it, a valid and an invalid
/// replacement, and whether it can be deleted.
struct Case {
    path: String,
    creds: Creds,
    put: Value,
    put_status: u16,
    bad_put: Value,
    deletable: bool,
}

async fn cases(app: &TestApp) -> Vec<Case> {
    let demo = app.demo().await;
    let admin = app.admin().await;
    let (_, n) = status_json(
        app.post(NUMBERS, &demo, &json!({"phoneNumber": "+16062128688"}))
            .await,
    )
    .await;
    let (_, e) = status_json(
        app.post(
            "/api/admin/voice/v1/accounts/ABCDEF/aco-elements",
            &demo,
            &json!({"name": "Avaya Cloud Office", "environment": "Production"}),
        )
        .await,
    )
    .await;
    let (_, node) = status_json(
        app.post(
            "/api/admin/account/v1/accounts/AQWSDE/organization-nodes",
            &admin,
            &json!({"name": "Pune", "parentPath": "AccountSyncG"}),
        )
        .await,
    )
    .await;
    let (_, p) = status_json(
        app.post(
            "/api/admin/user/v1/accounts/AQWSDE/profiles",
            &admin,
            &json!({"profileName": "Etag Agents"}),
        )
        .await,
    )
    .await;
    vec![
        Case {
            path: "/api/admin/account/v1/accounts/ABCDEF".into(),
            creds: admin.clone(),
            put: json!({"name": "Renamed", "domains": [{"domainName": "renamed.example.com"}], "accountSize": 10, "features": {"voice": {}}}),
            put_status: 202,
            bad_put: json!({"name": ""}),
            deletable: false,
        },
        Case {
            path: format!("{NUMBERS}/{}", n["phoneNumberId"].as_str().unwrap()),
            creds: demo.clone(),
            put: json!({"displayName": "Front desk"}),
            put_status: 202,
            bad_put: json!({"displayName": 12}),
            deletable: true,
        },
        Case {
            path: format!(
                "/api/admin/voice/v1/accounts/ABCDEF/aco-elements/{}",
                e["elementId"].as_str().unwrap()
            ),
            creds: demo.clone(),
            put: json!({"name": "Avaya Cloud Office", "environment": "Development"}),
            put_status: 202,
            bad_put: json!({"name": ""}),
            deletable: true,
        },
        Case {
            path: format!(
                "/api/admin/account/v1/accounts/AQWSDE/organization-nodes/{}",
                node["organizationNodeId"].as_str().unwrap()
            ),
            creds: admin.clone(),
            put: json!({"name": "Pune West", "parentPath": "AccountSyncG"}),
            put_status: 200,
            bad_put: json!({"name": ""}),
            deletable: true,
        },
        Case {
            path: format!(
                "/api/admin/user/v1/accounts/AQWSDE/profiles/{}",
                p["profileId"].as_str().unwrap()
            ),
            creds: admin.clone(),
            put: json!({"profileName": "Etag Agents 2"}),
            put_status: 200,
            bad_put: json!({"profileName": ""}),
            deletable: true,
        },
    ]
}

backend_tests! {
    async fn a_get_carries_an_etag_and_if_none_match_answers_304(b: Backend) {
        let app = spawn_app(&b).await;
        for c in cases(&app).await {
            let tag = etag_of(&app, &c.path, &c.creds).await;
            assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
            // Unchanged: the same tag.
            assert_eq!(etag_of(&app, &c.path, &c.creds).await, tag, "{}", c.path);
            let (status, etag, body) = send(&app, Method::GET, &c.path, &c.creds, &[("If-None-Match", &tag)], None).await;
            assert_eq!((status, etag.as_deref(), body.as_str()), (304, Some(tag.as_str()), ""), "{}", c.path);
            for other in ["\"other\"", &format!("W/{tag}, \"x\"")[..], "*"] {
                let (status, _, _) = send(&app, Method::GET, &c.path, &c.creds, &[("If-None-Match", other)], None).await;
                let expected = if other == "\"other\"" { 200 } else { 304 };
                assert_eq!(status, expected, "{}: {other}", c.path);
            }
        }
    }

    async fn a_stale_if_match_is_412_before_the_body_and_changes_nothing(b: Backend) {
        let app = spawn_app(&b).await;
        for c in cases(&app).await {
            let tag = etag_of(&app, &c.path, &c.creds).await;
            let stale = "\"0000\"";
            for body in [&c.put, &c.bad_put] {
                let (status, _, problem) = send(&app, Method::PUT, &c.path, &c.creds, &[("If-Match", stale)], Some(body)).await;
                assert_eq!(status, 412, "{}: {problem}", c.path);
                let problem: Value = serde_json::from_str(&problem).unwrap();
                assert_problem(&problem, 412, "precondition-failed", "Precondition Failed");
            }
            if c.deletable {
                let (status, _, _) = send(&app, Method::DELETE, &c.path, &c.creds, &[("If-Match", stale)], None).await;
                assert_eq!(status, 412, "{}", c.path);
            }
            // Nothing changed.
            assert_eq!(etag_of(&app, &c.path, &c.creds).await, tag, "{}", c.path);
            // A weak tag never matches If-Match (strong comparison).
            let (status, _, _) = send(&app, Method::PUT, &c.path, &c.creds, &[("If-Match", &format!("W/{tag}"))], Some(&c.put)).await;
            assert_eq!(status, 412, "{}", c.path);
            // 404 comes before 412.
            let last = if c.path.ends_with('X') { 'Y' } else { 'X' };
            let missing = format!("{}{last}", &c.path[..c.path.len() - 1]);
            let (status, _, _) = send(&app, Method::PUT, &missing, &c.creds, &[("If-Match", stale)], Some(&c.put)).await;
            assert!(status == 404 || status == 400, "{missing}: {status}");
        }
    }

    async fn a_put_with_the_current_etag_changes_it_and_answers_the_new_one(b: Backend) {
        let app = spawn_app(&b).await;
        for c in cases(&app).await {
            let tag = etag_of(&app, &c.path, &c.creds).await;
            let (status, new_tag, body) = send(&app, Method::PUT, &c.path, &c.creds, &[("If-Match", &tag)], Some(&c.put)).await;
            assert_eq!(status, c.put_status, "{}: {body}", c.path);
            let new_tag = new_tag.unwrap_or_else(|| panic!("{}: no ETag on the PUT", c.path));
            assert_ne!(new_tag, tag, "{}", c.path);
            assert_eq!(etag_of(&app, &c.path, &c.creds).await, new_tag, "{}: the PUT's ETag is the GET's", c.path);
            // The old tag is stale now.
            let (status, _, _) = send(&app, Method::PUT, &c.path, &c.creds, &[("If-Match", &tag)], Some(&c.put)).await;
            assert_eq!(status, 412, "{}", c.path);
            // `*` matches any current representation.
            let (status, _, body) = send(&app, Method::PUT, &c.path, &c.creds, &[("If-Match", "*")], Some(&c.put)).await;
            assert_eq!(status, c.put_status, "{}: {body}", c.path);
            if c.deletable {
                let current = etag_of(&app, &c.path, &c.creds).await;
                let (status, _, body) = send(&app, Method::DELETE, &c.path, &c.creds, &[("If-Match", &current)], None).await;
                assert_eq!(status, 204, "{}: {body}", c.path);
                assert_eq!(send(&app, Method::GET, &c.path, &c.creds, &[], None).await.0, 404);
            }
        }
    }

    async fn the_etag_changes_when_a_job_changes_the_status(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let (status, n) = status_json(app.post(NUMBERS, &demo, &json!({"phoneNumber": "+16062128688"})).await).await;
        assert_eq!(status, 202, "{n}");
        let path = format!("{NUMBERS}/{}", n["phoneNumberId"].as_str().unwrap());
        let before = etag_of(&app, &path, &demo).await;
        app.finish_jobs().await;
        let after = etag_of(&app, &path, &demo).await;
        assert_ne!(before, after);
        let (status, _, _) = send(&app, Method::PUT, &path, &demo, &[("If-Match", &before)], Some(&json!({"displayName": "x"}))).await;
        assert_eq!(status, 412);
        let (status, _, _) = send(&app, Method::GET, &path, &demo, &[("If-None-Match", &before)], None).await;
        assert_eq!(status, 200);
    }

    async fn a_change_committed_after_the_check_is_caught_inside_the_write(b: Backend) {
        // The handler's check passes; another writer changes the number before the
        // PUT's transaction reads it; the PUT's own check then answers 412 and writes
        // nothing.
        use sqlx::Connection;
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let (_, n) = status_json(app.post(NUMBERS, &demo, &json!({"phoneNumber": "+16062128688"})).await).await;
        let id = n["phoneNumberId"].as_str().unwrap().to_owned();
        let path = format!("{NUMBERS}/{id}");
        let tag = etag_of(&app, &path, &demo).await;
        let sneak = "update phone_number set display_name = 'Sneaked in' where phone_number_id = $1";
        let put = {
            let (http, url, demo, tag) = (app.http.clone(), app.url(&path), demo.clone(), tag.clone());
            move || async move {
                http.put(url).bearer_auth(&demo.token).header("appkey", &demo.appkey).header("If-Match", tag)
                    .json(&json!({"displayName": "Mine"})).send().await.unwrap().status().as_u16()
            }
        };
        let status = match &app.db {
            TestDb::Sqlite(dir) => {
                let url = format!("sqlite://{}", dir.path().join("ccadmin.db").display());
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query("begin immediate").execute(&mut c).await.unwrap();
                let task = tokio::spawn(put());
                // The PUT waits for the write lock (its check before the body is done).
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                sqlx::query(sneak).bind(&id).execute(&mut c).await.unwrap();
                sqlx::query("commit").execute(&mut c).await.unwrap();
                task.await.unwrap()
            }
            TestDb::Postgres { url, .. } => {
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query("begin").execute(&mut c).await.unwrap();
                sqlx::query(sneak).bind(&id).execute(&mut c).await.unwrap();
                let task = tokio::spawn(put());
                let mut watch = sqlx::PgConnection::connect(url).await.unwrap();
                loop {
                    let waiting: i64 = sqlx::query_scalar("select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")
                        .fetch_one(&mut watch).await.unwrap();
                    if waiting > 0 { break; }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                sqlx::query("commit").execute(&mut c).await.unwrap();
                task.await.unwrap()
            }
        };
        assert_eq!(status, 412);
        let (_, got) = status_json(app.get(&path, &demo).await).await;
        assert_eq!(got["displayName"], "Sneaked in");
    }
}
