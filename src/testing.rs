//! Starting ccadmin from a Rust test, in-process: like moto's `ThreadedMotoServer`, a
//! [`TestServer`] runs on its own thread and runtime, on a free port of 127.0.0.1,
//! with a temporary SQLite database and the demo data, and hands back the base URL and
//! the demo credentials. It works from `#[test]` and `#[tokio::test]` alike, and stops
//! (and deletes its database) when dropped.
//!
//! ```no_run
//! let server = ccadmin::testing::TestServer::start().expect("ccadmin starts");
//! let token_url = server.url("/api/auth/v1/PLATFM/protocol/openid-connect/token");
//! let admin = &server.admin; // client_id, client_secret, appkey, account_id
//! # let _ = (token_url, admin);
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;

use crate::bootstrap::{DEMO_ACCOUNT, DEMO_DEFAULT_ACCOUNT, demo};
use crate::config::{ServeArgs, StorageArgs};

/// A client's credentials, for the token endpoint.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub appkey: String,
}

/// A ccadmin server running in this process for a test.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    pub addr: SocketAddr,
    /// The demo Administrator (of the default account `PLATFM`).
    pub admin: Credentials,
    /// The demo Account Administrator of `ABCDEF`.
    pub client: Credentials,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    dir: PathBuf,
}

impl TestServer {
    /// Starts a demo server (emulator mode, two workers, default delays).
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {})
    }

    /// Starts a demo server with adjusted arguments (`--workers 0`, delays, ...); the
    /// listen address and the database are the harness's own.
    pub fn start_with(adjust: impl FnOnce(&mut ServeArgs)) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("ccadmin-test-{}", uuid::Uuid::new_v4()));
        let mut args = ServeArgs {
            demo: true,
            ..ServeArgs::default()
        };
        adjust(&mut args);
        args.listen = "127.0.0.1:0".parse().context("a loopback address")?;
        args.storage = StorageArgs {
            data_dir: dir.clone(),
            database_url: None,
            ..args.storage
        };
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<SocketAddr>>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("ccadmin-test-server".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let app = match crate::App::build(&args).await {
                        Ok(app) => app,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(app.local_addr()));
                    let stopped = async {
                        let _ = stopped.await;
                    };
                    if let Err(e) = app.run_until_stopped(stopped).await {
                        tracing::warn!(error = %e, "the test server stopped with an error");
                    }
                });
            })
            .context("cannot start the server's thread")?;
        let addr = ready_rx
            .recv()
            .context("the server's thread ended before it was ready")?
            .inspect_err(|_| {
                let _ = std::fs::remove_dir_all(&dir);
            })?;
        Ok(Self {
            base_url: format!("http://{addr}"),
            addr,
            admin: Credentials {
                account_id: DEMO_DEFAULT_ACCOUNT.to_owned(),
                client_id: demo::ADMIN_CLIENT.to_owned(),
                client_secret: demo::ADMIN_SECRET.to_owned(),
                appkey: demo::ADMIN_APPKEY.to_owned(),
            },
            client: Credentials {
                account_id: DEMO_ACCOUNT.to_owned(),
                client_id: demo::CLIENT.to_owned(),
                client_secret: demo::SECRET.to_owned(),
                appkey: demo::APPKEY.to_owned(),
            },
            stop: Some(stop),
            thread: Some(thread),
            dir,
        })
    }

    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for TestServer {
    /// Stops the server (in-flight requests finish), waits for its thread, and deletes
    /// its database.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
