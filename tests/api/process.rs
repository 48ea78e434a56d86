//! The real `ccadmin` binary as a separate process, for tests that kill it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ccadmin::config::StorageArgs;

use crate::helpers::{Creds, TestDb};

/// A running `ccadmin serve` process.
pub struct ServerProcess {
    child: Child,
    pub address: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl ServerProcess {
    /// Starts `ccadmin serve --demo` on `db` with `extra` arguments and waits until ready.
    pub async fn start(db: &TestDb, extra: &[&str]) -> Self {
        let server = Self::spawn(&db.storage(), extra);
        server.wait_ready().await;
        server
    }

    /// Starts `ccadmin serve --demo` on `storage` with `extra` arguments and waits
    /// until ready.
    pub async fn start_with(storage: &StorageArgs, extra: &[&str]) -> Self {
        let server = Self::spawn(storage, extra);
        server.wait_ready().await;
        server
    }

    /// Starts `ccadmin serve --demo` on `storage` with `extra` arguments; returns at
    /// once, before it is ready.
    pub fn spawn(storage: &StorageArgs, extra: &[&str]) -> Self {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ccadmin"));
        cmd.args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(&storage.data_dir)
            .args(extra)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(url) = &storage.database_url {
            cmd.args(["--database-url", url]);
        }
        let child = cmd.spawn().expect("the ccadmin binary starts");
        Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits up to 30 s for `/readyz` to answer 200.
    pub async fn wait_ready(&self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(res) = http.get(format!("{}/readyz", self.address)).send().await
                && res.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready");
    }

    /// Sends SIGTERM and waits up to `limit` for the exit; its code, if it exited.
    pub fn terminate(mut self, limit: Duration) -> Option<i32> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Kills the process with SIGKILL: no shutdown, no cleanup.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The demo Administrator's credentials.
    pub async fn admin(&self) -> Creds {
        let grant = (
            "PLATFM",
            "demo-admin",
            "demo-admin-secret",
            "demo-admin-appkey",
        );
        client_credentials(&reqwest::Client::new(), &self.address, grant)
            .await
            .expect("the demo Administrator gets a token")
    }
}

/// The demo Account Administrator of `ABCDEF`: (account, client id, secret, appkey).
pub const DEMO_CLIENT: (&str, &str, &str, &str) =
    ("ABCDEF", "demo-client", "demo-secret", "demo-appkey");

/// A `client_credentials` grant from the server at `base`, for `(account, client id,
/// secret, appkey)`; the error says what the token endpoint answered.
pub async fn client_credentials(
    http: &reqwest::Client,
    base: &str,
    (account, client_id, secret, appkey): (&str, &str, &str, &str),
) -> Result<Creds, String> {
    let res = http
        .post(format!(
            "{base}/api/auth/v1/{account}/protocol/openid-connect/token"
        ))
        .header("appkey", appkey)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let body: serde_json::Value = res.json().await.map_err(|e| e.to_string())?;
    match body["access_token"].as_str() {
        Some(t) if status == 200 => Ok(Creds {
            token: t.to_owned(),
            appkey: appkey.to_owned(),
        }),
        _ => Err(format!("{status}: {body}")),
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
