//! Faults of the database: PostgreSQL stopped and started again under writes, a server
//! started before PostgreSQL, SQLite on a full disk, and a busy pool that is not an
//! outage. Outages answer 503 problem+json with `Retry-After`, quickly; the server
//! recovers without a restart and loses nothing it accepted.
//!
//! PostgreSQL faults use a cluster of their own (`initdb` in a temporary directory, on
//! a free port), never the shared one that other tests and CI use at the same time.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ccadmin::config::StorageArgs;
use reqwest::Response;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Creds, assert_problem, spawn_app, status_json};
use crate::process::ServerProcess;

/// Every answer during an outage comes well within this.
const QUICK: Duration = Duration::from_secs(5);
/// The server serves again within this of the database's return.
const RECOVERY: Duration = Duration::from_secs(15);

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A PostgreSQL cluster of this test's own, stopped (by its postmaster's process id
/// if `pg_ctl` cannot) and removed when dropped.
struct PrivateCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl PrivateCluster {
    /// `initdb` into a temporary directory as the `postgres` user (initdb refuses
    /// root), trust authentication, superuser `root`; not started. `None` (with the
    /// reason printed) where that is not possible.
    fn create() -> Option<Self> {
        if !is_root() {
            eprintln!("skipped: the private PostgreSQL cluster needs root (to run as postgres)");
            return None;
        }
        let Some(bin) = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .find(|b| b.join("initdb").exists())
        }) else {
            eprintln!("skipped: no PostgreSQL server binaries under /usr/lib/postgresql");
            return None;
        };
        let dir = tempfile::tempdir().expect("a temp dir");
        let ok = Command::new("chown")
            .arg("postgres:")
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chown to postgres");
        let cluster = Self {
            dir,
            bin,
            port: free_port(),
        };
        let ok = cluster
            .as_postgres("initdb")
            .args(["-A", "trust", "-U", "root", "--no-sync", "-D"])
            .arg(cluster.data())
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "initdb");
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn as_postgres(&self, tool: &str) -> Command {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
        cmd
    }

    fn url(&self) -> String {
        format!("postgres://root@127.0.0.1:{}/postgres", self.port)
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40",
            self.port,
            self.dir.path().display()
        );
        let ok = self
            .as_postgres("pg_ctl")
            .args(["-w", "-t", "30", "-o", &opts, "-l"])
            .arg(self.dir.path().join("log"))
            .arg("-D")
            .arg(self.data())
            .arg("start")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "pg_ctl start");
    }

    fn stop(&self) {
        let ok = self
            .as_postgres("pg_ctl")
            .args(["-w", "-t", "30", "-m", "fast", "-D"])
            .arg(self.data())
            .arg("stop")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "pg_ctl stop");
    }

    fn postmaster_pid(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.data().join("postmaster.pid")).ok()?;
        text.lines().next().map(str::to_owned)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if let Some(pid) = self.postmaster_pid() {
            let _ = self
                .as_postgres("pg_ctl")
                .args(["-w", "-t", "10", "-m", "immediate", "-D"])
                .arg(self.data())
                .arg("stop")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if self.postmaster_pid().is_some() {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn storage_on(url: &str) -> StorageArgs {
    StorageArgs {
        data_dir: std::env::temp_dir().join("ccadmin-test-data"),
        database_url: Some(url.to_owned()),
        db_max_connections: 5,
        ..StorageArgs::default()
    }
}

async fn create_account(
    http: &reqwest::Client,
    base: &str,
    creds: &Creds,
    name: &str,
) -> reqwest::Result<Response> {
    let body = json!({"name": name, "domains": [{"domainName": format!("{}.example.com", name.to_lowercase().replace(' ', "-"))}],
        "accountSize": 1, "features": {"voice": {}}});
    http.post(format!("{base}/api/admin/account/v1/accounts"))
        .bearer_auth(&creds.token)
        .header("appkey", &creds.appkey)
        .json(&body)
        .timeout(Duration::from_secs(20))
        .send()
        .await
}

async fn get(http: &reqwest::Client, base: &str, creds: &Creds, path: &str) -> Response {
    http.get(format!("{base}{path}"))
        .bearer_auth(&creds.token)
        .header("appkey", &creds.appkey)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("the request is answered")
}

async fn status_of(http: &reqwest::Client, url: &str) -> u16 {
    http.get(url)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

/// Asserts the 503 of an outage: problem+json, `Retry-After`, the kind's members.
async fn assert_unavailable(res: Response) {
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(res.headers()["retry-after"], "2");
    let (_, body) = status_json(res).await;
    assert_problem(&body, 503, "service-unavailable", "Service Unavailable");
}

/// What writers saw: accepted names, and the slowest answer of each kind.
#[derive(Default)]
struct Seen {
    accepted: Vec<String>,
    unavailable: usize,
    slowest_503: Duration,
    other: Vec<String>,
    first_503_at: Option<Instant>,
}

/// `n` writers create accounts until `stop` is set; every 503 is checked in full.
fn spawn_writers(
    n: usize,
    base: &str,
    creds: &Creds,
    tag: &str,
    stop: Arc<std::sync::atomic::AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..n)
        .map(|w| {
            let (base, creds, tag, stop, seen) = (
                base.to_owned(),
                creds.clone(),
                tag.to_owned(),
                stop.clone(),
                seen.clone(),
            );
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                for i in 0.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        return;
                    }
                    let name = format!("{tag} {w} {i}");
                    let started = Instant::now();
                    let res = match create_account(&http, &base, &creds, &name).await {
                        Ok(res) => res,
                        Err(e) => {
                            seen.lock().unwrap().other.push(format!("{name}: {e}"));
                            continue;
                        }
                    };
                    let took = started.elapsed();
                    match res.status().as_u16() {
                        202 => {
                            let (_, body) = status_json(res).await;
                            let id = body["accountId"].as_str().expect("an accountId").to_owned();
                            seen.lock().unwrap().accepted.push(id);
                        }
                        503 => {
                            {
                                let mut s = seen.lock().unwrap();
                                s.unavailable += 1;
                                s.slowest_503 = s.slowest_503.max(took);
                                s.first_503_at.get_or_insert(Instant::now());
                            }
                            assert_unavailable(res).await;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        s => {
                            let body = res.text().await.unwrap_or_default();
                            seen.lock()
                                .unwrap()
                                .other
                                .push(format!("{name}: {s} {body}"));
                        }
                    }
                }
            })
        })
        .collect()
}

/// Polls `url` until it answers `status`; how long that took.
async fn wait_for_status(
    http: &reqwest::Client,
    url: &str,
    status: u16,
    limit: Duration,
) -> Duration {
    let started = Instant::now();
    while status_of(http, url).await != status {
        assert!(
            started.elapsed() < limit,
            "{url} did not answer {status} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

async fn metric(http: &reqwest::Client, base: &str, name: &str) -> f64 {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

// Two threads: pg_ctl and the filler block theirs while the writers go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_a_stopped_postgres_gets_quick_503s_and_the_server_recovers_without_a_restart() {
    let Some(cluster) = PrivateCluster::create() else {
        return;
    };
    cluster.start();
    let server = ServerProcess::start_with(
        &storage_on(&cluster.url()),
        &["--workers", "2", "--feature-delay-ms", "0"],
    )
    .await;
    let base = server.address.clone();
    let admin = server.admin().await;
    let http = reqwest::Client::new();

    // Arrange: 4 writers add accounts while PostgreSQL stops and starts again.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let writers = spawn_writers(4, &base, &admin, "Pg Fault", stop.clone(), seen.clone());
    while seen.lock().unwrap().accepted.len() < 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Act: stop it.
    let stopped_at = Instant::now();
    cluster.stop();
    let stop_took = stopped_at.elapsed();

    // Assert: /readyz 503 within seconds, /healthz 200, reads and writes 503.
    let to_unready = wait_for_status(&http, &format!("{base}/readyz"), 503, QUICK).await;
    assert_eq!(status_of(&http, &format!("{base}/healthz")).await, 200);
    let started = Instant::now();
    let res = get(
        &http,
        &base,
        &admin,
        "/api/admin/account/v1/accounts/ABCDEF",
    )
    .await;
    assert!(
        started.elapsed() < QUICK,
        "a read took {:?}",
        started.elapsed()
    );
    assert_unavailable(res).await;
    // The process's own metrics are served during the outage.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(metric(&http, &base, "ccadmin_job_worker_error_streaks_total").await >= 1.0);
    assert!(metric(&http, &base, "ccadmin_job_worker_error_streak").await >= 1.0);
    let outage = seen.lock().unwrap().unavailable;
    assert!(outage > 0, "no write was refused during the outage");

    // Act: start it again.
    cluster.start();
    let back_at = Instant::now();
    let to_ready = wait_for_status(&http, &format!("{base}/readyz"), 200, RECOVERY).await;
    let accepted_before = seen.lock().unwrap().accepted.len();
    while seen.lock().unwrap().accepted.len() < accepted_before + 20 {
        assert!(
            back_at.elapsed() < RECOVERY,
            "writes are not accepted again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let to_writes = back_at.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.expect("a writer ends");
    }

    // Nothing accepted is lost, and the workers finish every job.
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let first_503 = seen
        .first_503_at
        .map(|t| t.saturating_duration_since(stopped_at));
    eprintln!(
        "postgres outage: pg_ctl stop {stop_took:?}; first 503 {first_503:?} after stop began; /readyz 503 after {to_unready:?}; \
         slowest 503 {:?}; {} refused; /readyz 200 {to_ready:?} and writes accepted {to_writes:?} after start",
        seen.slowest_503, seen.unavailable
    );
    assert!(
        seen.slowest_503 < QUICK,
        "a 503 took {:?}",
        seen.slowest_503
    );
    assert!(
        seen.other.iter().all(|o| !o.contains(" 500 ")),
        "{:?}",
        seen.other
    );
    assert!(
        seen.other.len() <= 8,
        "unexpected answers: {:?}",
        seen.other
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    for id in &seen.accepted {
        loop {
            let res = get(
                &http,
                &base,
                &admin,
                &format!("/api/admin/account/v1/accounts/{id}"),
            )
            .await;
            let (status, account) = status_json(res).await;
            assert_eq!(status, 200, "{id} is missing: {account}");
            if account["enabledFeatures"] == "voice" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{id} never provisioned: {account}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(
        metric(&http, &base, "ccadmin_job_worker_error_streak").await,
        0.0
    );
    server.kill();
}

#[tokio::test]
async fn fault_a_server_started_before_postgres_answers_503_until_it_connects() {
    let Some(cluster) = PrivateCluster::create() else {
        return;
    };
    let server = ServerProcess::spawn(&storage_on(&cluster.url()), &["--db-connect-timeout", "60"]);
    let base = server.address.clone();
    let http = reqwest::Client::new();

    // While PostgreSQL is down: alive, not ready, the API 503.
    wait_for_status(
        &http,
        &format!("{base}/healthz"),
        200,
        Duration::from_secs(20),
    )
    .await;
    let res = http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("an answer");
    let (status, body) = status_json(res).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (503, Some("starting")),
        "{body}"
    );
    let started = Instant::now();
    let res = http
        .get(format!("{base}/api/admin/account/v1/accounts/ABCDEF"))
        .send()
        .await
        .expect("an answer");
    assert!(started.elapsed() < QUICK);
    assert_unavailable(res).await;

    // Once it starts, the server connects and serves, without a restart.
    cluster.start();
    let back_at = Instant::now();
    wait_for_status(&http, &format!("{base}/readyz"), 200, RECOVERY).await;
    eprintln!(
        "started before postgres: ready {:?} after postgres started",
        back_at.elapsed()
    );
    let admin = server.admin().await;
    let res = create_account(&http, &base, &admin, "Late Start")
        .await
        .expect("an answer");
    assert_eq!(res.status(), 202);
    server.kill();
}

#[tokio::test]
async fn fault_a_server_that_cannot_reach_postgres_in_time_exits_with_a_reason() {
    let Some(cluster) = PrivateCluster::create() else {
        return;
    };
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_ccadmin"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db-connect-timeout",
            "2",
            "--database-url",
            &cluster.url(),
        ])
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("the database is not reachable"), "{log}");
    assert!(log.contains("gave up reaching the database"), "{log}");
    // Not a terminal: no colour codes in the log.
    assert!(!log.contains('\u{1b}'), "{log}");
}

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(Self(dir.to_path_buf()))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Writes zeros to `path` until the file system is full.
fn fill(path: &Path) -> u64 {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("the filler is created");
    let block = vec![0u8; 64 * 1024];
    let mut written = 0;
    while let Ok(n) = f.write(&block) {
        if n == 0 {
            break;
        }
        written += n as u64;
    }
    let _ = f.flush();
    written
}

// Two threads: pg_ctl and the filler block theirs while the writers go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_sqlite_on_a_full_disk_answers_503_keeps_reading_and_recovers_once_space_is_freed() {
    if !is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let root = tempfile::tempdir().expect("a temp dir");
    let data = root.path().join("data");
    let mount = match Tmpfs::mount(&data, "24m") {
        Ok(m) => m,
        Err(e) => {
            eprintln!("skipped: cannot mount a tmpfs: {e}");
            return;
        }
    };
    let storage = StorageArgs {
        data_dir: data.clone(),
        ..StorageArgs::default()
    };
    let server =
        ServerProcess::start_with(&storage, &["--workers", "2", "--feature-delay-ms", "0"]).await;
    let base = server.address.clone();
    let admin = server.admin().await;
    let http = reqwest::Client::new();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let writers = spawn_writers(4, &base, &admin, "Disk Fault", stop.clone(), seen.clone());
    while seen.lock().unwrap().accepted.len() < 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Act: fill the disk while the writers write.
    let filler = data.join("filler");
    let filled_at = Instant::now();
    fill(&filler);
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().unavailable < 10 {
        assert!(
            Instant::now() < deadline,
            "no 503 on a full disk: {:?}",
            seen.lock().unwrap().other
        );
        // Space SQLite frees (a checkpoint) is taken again, so the disk stays full.
        fill(&data.join(format!("filler-{}", filled_at.elapsed().as_millis())));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let to_503 = filled_at.elapsed();

    // Assert: reads are served, the server stays ready, writes answer 503.
    let res = get(
        &http,
        &base,
        &admin,
        "/api/admin/account/v1/accounts/ABCDEF",
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(status_of(&http, &format!("{base}/readyz")).await, 200);
    assert_eq!(status_of(&http, &format!("{base}/healthz")).await, 200);

    // Act: free the space.
    for entry in std::fs::read_dir(&data).expect("the data dir") {
        let path = entry.expect("an entry").path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("filler"))
        {
            std::fs::remove_file(path).expect("the filler is removed");
        }
    }
    let freed_at = Instant::now();
    let accepted_before = seen.lock().unwrap().accepted.len();
    while seen.lock().unwrap().accepted.len() < accepted_before + 20 {
        assert!(
            freed_at.elapsed() < RECOVERY,
            "writes are not accepted again: {:?}",
            seen.lock().unwrap().other
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let to_writes = freed_at.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.expect("a writer ends");
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    eprintln!(
        "full disk: first 503s {to_503:?} after filling; slowest 503 {:?}; {} refused; writes accepted {to_writes:?} after freeing",
        seen.slowest_503, seen.unavailable
    );
    assert!(
        seen.slowest_503 < QUICK,
        "a 503 took {:?}",
        seen.slowest_503
    );
    assert!(
        seen.other.is_empty(),
        "unexpected answers: {:?}",
        seen.other
    );
    for id in &seen.accepted {
        let res = get(
            &http,
            &base,
            &admin,
            &format!("/api/admin/account/v1/accounts/{id}"),
        )
        .await;
        assert_eq!(res.status(), 200, "{id} is missing");
    }
    assert!(
        server.terminate(Duration::from_secs(20)).is_some(),
        "the server stops"
    );

    use sqlx::Connection;
    let url = format!("sqlite://{}", data.join("ccadmin.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("the database opens");
    let check: String = sqlx::query_scalar("pragma integrity_check")
        .fetch_one(&mut conn)
        .await
        .expect("a check");
    assert_eq!(check, "ok");
    conn.close().await.expect("closed");
    drop(mount);
}

backend_tests! {
    async fn fault_a_burst_of_64_concurrent_writes_is_all_accepted_and_the_server_stays_ready(b: Backend) {
        // Arrange
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        // Act: 64 creates at once, more than the pool has connections.
        let burst = (0..64).map(|i| {
            let (http, base, admin) = (app.http.clone(), app.address.clone(), admin.clone());
            tokio::spawn(async move {
                let res = create_account(&http, &base, &admin, &format!("Burst {i}")).await.expect("an answer");
                res.status().as_u16()
            })
        });
        let burst: Vec<_> = burst.collect();
        let ready = status_of(&app.http, &app.url("/readyz")).await;
        let mut statuses = Vec::new();
        for t in burst {
            statuses.push(t.await.expect("a request ends"));
        }
        // Assert
        assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");
        assert_eq!(ready, 200);
        assert_eq!(status_of(&app.http, &app.url("/readyz")).await, 200);
        let res = app.get("/api/admin/account/v1/accounts?filter=name:Burst*&pageSize=5", &admin).await;
        let (status, page) = status_json(res).await;
        assert_eq!((status, page["pagination"]["total"].as_i64()), (200, Some(64)), "{page}");
    }
}
