//! Test harness: a real server on an ephemeral port with its own database (a temp
//! SQLite file, or a fresh PostgreSQL database on `TEST_DATABASE_URL`), talked to over
//! HTTP.

use std::collections::BTreeSet;
use std::path::PathBuf;

use ccadmin::config::{ServeArgs, StorageArgs};
use reqwest::{Method, Response};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Which database a test runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// PostgreSQL at `TEST_DATABASE_URL`, or `None` (the test is skipped) when it is
    /// unset, except under `CI=true`, where a missing database is a failure.
    pub fn postgres() -> Option<Self> {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(Backend::Postgres(url)),
            _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!(
                    "CI=true but TEST_DATABASE_URL is not set: the PostgreSQL run must not be skipped"
                )
            }
            _ => {
                eprintln!("TEST_DATABASE_URL is not set: PostgreSQL run skipped");
                None
            }
        }
    }
}

/// Defines tests that each run once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! backend_tests {
    ($( $(#[$meta:meta])* async fn $name:ident($b:ident: Backend) $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test]
                async fn sqlite() {
                    let $b = $crate::helpers::Backend::Sqlite;
                    $body
                }

                #[tokio::test]
                async fn postgres() {
                    let Some($b) = $crate::helpers::Backend::postgres() else { return };
                    $body
                }
            }
        )*
    };
}

/// A database that lives as long as the test.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    pub async fn create(backend: &Backend) -> Self {
        match backend {
            Backend::Sqlite => TestDb::Sqlite(tempfile::tempdir().expect("a temp dir")),
            Backend::Postgres(admin_url) => {
                use sqlx::Connection;
                let name = format!("ccadmin_t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(admin_url)
                    .await
                    .expect("PostgreSQL at TEST_DATABASE_URL is reachable");
                sqlx::query(&format!("create database {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create the test database");
                let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                TestDb::Postgres {
                    admin_url: admin_url.clone(),
                    name,
                    url: url.to_string(),
                }
            }
        }
    }

    pub fn storage(&self) -> StorageArgs {
        match self {
            TestDb::Sqlite(dir) => StorageArgs {
                data_dir: dir.path().to_path_buf(),
                ..StorageArgs::default()
            },
            TestDb::Postgres { url, .. } => StorageArgs {
                data_dir: std::env::temp_dir().join("ccadmin-test-data"),
                database_url: Some(url.clone()),
                db_max_connections: 5,
                ..StorageArgs::default()
            },
        }
    }

    /// The SQLite data directory, for tests that look at files.
    pub fn data_dir(&self) -> Option<PathBuf> {
        match self {
            TestDb::Sqlite(dir) => Some(dir.path().to_path_buf()),
            TestDb::Postgres { .. } => None,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside any runtime (or inside one that is shutting down), so
            // the database is dropped from a thread with its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    use sqlx::Connection;
                    let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
                    sqlx::query(&format!("drop database if exists {name} with (force)"))
                        .execute(&mut conn)
                        .await?;
                    Ok::<_, sqlx::Error>(())
                })
                .map_err(std::io::Error::other)
            })
            .join();
        }
    }
}

/// Credentials to call the API with.
#[derive(Debug, Clone)]
pub struct Creds {
    pub token: String,
    pub appkey: String,
}

/// A running server and an HTTP client for it.
pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub db: TestDb,
    pub args: ServeArgs,
    /// The server's job engine: tests run jobs by hand (no background workers).
    pub jobs: ccadmin::jobs::Jobs,
    /// The server's clock, which tests advance past simulated delays.
    pub clock: ccadmin::clock::Clock,
    server: Server,
}

/// The server task; asks it to stop when dropped.
struct Server {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Server {
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("the server task ends")
                .expect("the server stops cleanly");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a demo server on `backend`.
pub async fn spawn_app(backend: &Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts a demo server on `backend` with adjusted arguments.
pub async fn spawn_app_with(backend: &Backend, adjust: impl FnOnce(&mut ServeArgs)) -> TestApp {
    let db = TestDb::create(backend).await;
    let mut args = ServeArgs {
        storage: db.storage(),
        listen: "127.0.0.1:0".parse().expect("a valid address"),
        demo: true,
        workers: 0,
        ..ServeArgs::default()
    };
    adjust(&mut args);
    start(db, args).await
}

async fn start(db: TestDb, args: ServeArgs) -> TestApp {
    let app = ccadmin::App::build(&args).await.expect("the server builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let (jobs, clock) = (app.jobs(), app.clock());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        http: reqwest::Client::new(),
        db,
        args,
        jobs,
        clock,
        server: Server {
            stop: Some(stop),
            task: Some(server),
        },
    }
}

impl TestApp {
    /// Stops the server gracefully and starts a new one on the same database.
    pub async fn restart(self) -> TestApp {
        let args = self.args.clone();
        self.restart_with(args).await
    }

    /// Stops the server gracefully and starts one with `args` on the same database.
    pub async fn restart_with(self, mut args: ServeArgs) -> TestApp {
        self.server.stop().await;
        args.listen = "127.0.0.1:0".parse().expect("a valid address");
        start(self.db, args).await
    }

    /// Runs the jobs that are due now, without moving the clock.
    pub async fn run_due_jobs(&self) -> usize {
        self.jobs.run_until_idle().await.expect("jobs run")
    }

    /// Moves the clock to each next simulated delay or retry until no job is left.
    pub async fn finish_jobs(&self) -> usize {
        self.jobs.run_until_settled().await.expect("jobs run")
    }

    /// POSTs `:listStatuses` for one account as `creds`; the body.
    pub async fn account_status(&self, account: &str, creds: &Creds) -> Value {
        let res = self
            .post(
                "/api/admin/account/v1/accounts:listStatuses",
                creds,
                &serde_json::json!({"accountIds": [account]}),
            )
            .await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.expect("a JSON body");
        body[0].clone()
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Posts a token request form with `appkey`.
    pub async fn token_request(
        &self,
        account: &str,
        appkey: Option<&str>,
        form: &[(&str, &str)],
    ) -> Response {
        let mut req = self
            .http
            .post(self.url(&format!(
                "/api/auth/v1/{account}/protocol/openid-connect/token"
            )))
            .form(form);
        if let Some(k) = appkey {
            req = req.header("appkey", k);
        }
        req.send().await.expect("the request is sent")
    }

    /// A client_credentials token.
    pub async fn login(&self, account: &str, client_id: &str, secret: &str, appkey: &str) -> Creds {
        let res = self
            .token_request(
                account,
                Some(appkey),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", secret),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "login of {client_id} failed");
        let body: Value = res.json().await.expect("a JSON body");
        Creds {
            token: body["access_token"]
                .as_str()
                .expect("an access token")
                .to_owned(),
            appkey: appkey.to_owned(),
        }
    }

    /// The demo Administrator.
    pub async fn admin(&self) -> Creds {
        self.login(
            "PLATFM",
            "demo-admin",
            "demo-admin-secret",
            "demo-admin-appkey",
        )
        .await
    }

    /// The demo Account Administrator of ABCDEF.
    pub async fn demo(&self) -> Creds {
        self.login("ABCDEF", "demo-client", "demo-secret", "demo-appkey")
            .await
    }

    /// Sends `method path` with `creds` and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        creds: Option<&Creds>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self.http.request(method, self.url(path));
        if let Some(c) = creds {
            req = req.bearer_auth(&c.token).header("appkey", &c.appkey);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.expect("the request is sent")
    }

    pub async fn get(&self, path: &str, creds: &Creds) -> Response {
        self.call(Method::GET, path, Some(creds), None).await
    }

    pub async fn put(&self, path: &str, creds: &Creds, body: &Value) -> Response {
        self.call(Method::PUT, path, Some(creds), Some(body)).await
    }

    pub async fn post(&self, path: &str, creds: &Creds, body: &Value) -> Response {
        self.call(Method::POST, path, Some(creds), Some(body)).await
    }

    /// Creates a client of `account` through the API, as the Administrator.
    pub async fn create_client(&self, account: &str, body: &Value) -> Value {
        let admin = self.admin().await;
        let res = self
            .post(
                &format!("/api/admin/account/v1/accounts/{account}/clients"),
                &admin,
                body,
            )
            .await;
        assert_eq!(res.status(), 201);
        res.json().await.expect("a JSON body")
    }
}

/// Page `number` of `size` of the phone-number list at `list` with `query` (filter and
/// order) as `creds`: asserts a 200 whose total is `expected.len()` and whose numbers
/// are that page's slice of `expected`; returns the page.
pub async fn assert_number_page(
    app: &TestApp,
    creds: &Creds,
    (list, query): (&str, &str),
    (number, size): (usize, usize),
    expected: &[String],
) -> Value {
    let q = format!("{query}&pageNumber={number}&pageSize={size}");
    let (status, page) = status_json(app.get(&format!("{list}?{q}"), creds).await).await;
    assert_eq!(status, 200, "{q}: {page}");
    assert_eq!(
        page["pagination"]["total"].as_u64(),
        Some(expected.len() as u64),
        "{q}"
    );
    let from = ((number - 1) * size).min(expected.len());
    let to = (number * size).min(expected.len());
    let got: Vec<&str> = page["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["phoneNumber"].as_str().unwrap())
        .collect();
    assert_eq!(got, expected[from..to], "{q}");
    page
}

/// The status and JSON body of a response.
pub async fn status_json(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.expect("a body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, body)
}

/// Asserts an AXP problem body: all five members, the kind's anchor and title.
pub fn assert_problem(body: &Value, status: u16, anchor: &str, title: &str) {
    assert_eq!(
        body["type"],
        format!("https://developers.avayacloud.com/onecloud-ccaas/docs/error-handling#{anchor}"),
        "{body}"
    );
    assert_eq!(body["title"], title, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    let instance = body["instance"].as_str().expect("an instance");
    let uuid = instance
        .strip_prefix("urn:uuid:")
        .expect("a urn:uuid instance");
    assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{instance}");
}

/// The `(field, code)` pairs of a problem's violations.
pub fn violations(body: &Value) -> Vec<(String, i64)> {
    body["violations"]
        .as_array()
        .unwrap_or_else(|| panic!("no violations in {body}"))
        .iter()
        .map(|v| {
            (
                v["field"].as_str().expect("a field").to_owned(),
                v["code"].as_i64().expect("a code"),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// The routers' operations, read from their source.

/// The Rust files under `dir`, its subfolders' included.
fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
            out.push(path);
        }
    }
    out
}

/// `(METHOD, path)` of every `.route(…)` under `src/http`, parameters as `{}`.
pub fn routed_operations() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut out = BTreeSet::new();
    for path in rust_files(&dir) {
        let src = std::fs::read_to_string(&path).expect("a source file");
        let base = src.find("const BASE: &str = \"").map(|i| {
            let rest = &src[i + "const BASE: &str = \"".len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        });
        let mut from = 0;
        while let Some(i) = src[from..].find(".route(") {
            let start = from + i + ".route(".len();
            let mut depth = 1;
            let mut end = src.len();
            for (j, c) in src[start..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = start + j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let call = &src[start..end];
            from = end;
            let q = call.find('"').expect("a path literal");
            let lit = &call[q + 1..];
            let lit = &lit[..lit.find('"').unwrap()];
            let route = lit
                .replace("{BASE}", base.as_deref().unwrap_or_default())
                .replace("{{", "{")
                .replace("}}", "}");
            let mut methods = 0;
            for m in ["get", "post", "put", "delete", "patch"] {
                let called = call
                    .match_indices(&format!("{m}("))
                    .any(|(i, _)| !call[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
                if called {
                    methods += 1;
                    out.insert((m.to_uppercase(), normalise_template(&route)));
                }
            }
            assert!(methods > 0, "no method found in .route({call})");
        }
    }
    assert!(out.len() > 40, "the router scan found too little: {out:?}");
    out
}

/// A path template as the routers write it: no query, every parameter `{}`, the
/// `*` account a parameter, and `:disable`/`:enable` part of the id parameter.
pub fn normalise_template(path: &str) -> String {
    let path = path
        .split('?')
        .next()
        .unwrap()
        .replace("/accounts/*/", "/accounts/{}/");
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out.replace("{}:disable", "{}").replace("{}:enable", "{}")
}
