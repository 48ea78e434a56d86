//! ccadmin: the contact-center administration APIs of the Avaya Experience Platform,
//! as a server that keeps its state in SQLite or PostgreSQL.
//!
//! A request enters through [`http`] (routing, authentication, extraction), is checked
//! against [`domain`] rules, goes through [`service`] operations (and, for the
//! `/_ccadmin` controls, [`emulator`] operations) that each run in one [`store`]
//! transaction, and is answered by `http` again, errors included. Work that finishes
//! later is enqueued as [`jobs`] in that same transaction and finished by workers.
//! Layers point one way: `http` → `service`/`emulator` → `jobs`/`auth` → `store` →
//! `domain`. [`bootstrap`] makes the first-start and demo data, [`inventory`] the
//! number inventory, [`clock`] the server's (emulator-movable) time.

pub mod auth;
pub mod bootstrap;
pub mod clock;
pub mod config;
pub mod domain;
pub mod emulator;
pub mod http;
pub mod inventory;
pub mod jobs;
pub mod service;
mod startup;
pub mod store;
pub mod testing;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::auth::{Auth, TokenLifetimes, Tokens};
use crate::bootstrap::Bootstrapped;
use crate::clock::Clock;
use crate::config::ServeArgs;
use crate::http::AppState;
use crate::jobs::{Delays, JobSettings, Jobs, Simulator};
use crate::store::{Db, Location};

/// How long in-flight requests may take to finish after a stop signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A built server: database migrated, bootstrap done, socket bound.
pub struct App {
    listener: TcpListener,
    router: axum::Router,
    db: Db,
    bootstrapped: Bootstrapped,
    jobs: Jobs,
    clock: Clock,
    workers: usize,
    shutdown: tokio::sync::watch::Sender<bool>,
    /// Emulator mode: follow the clock and the faults other instances persist.
    follow_clock: bool,
    auth: Arc<Auth>,
    /// The state's generation at start: an import moves it on (see `follow_state`).
    generation: i64,
    port_file: Option<std::path::PathBuf>,
    /// The injected faults this instance applies.
    faults: Arc<emulator::faults::Faults>,
}

impl App {
    /// Opens the database, applies migrations, bootstraps, and binds the socket.
    pub async fn build(args: &ServeArgs) -> anyhow::Result<Self> {
        // Bound first, so that while the database is unreachable the socket answers
        // `/readyz` 503 (and the API 503) rather than refusing connections.
        let (listener, starting) = startup::bind(args.listen)?;
        let connect_limit = Duration::from_secs(args.db_connect_timeout);
        let db = startup::open_database(&args.storage, connect_limit).await?;
        let clock = Clock::default();
        if let Some(path) = &args.state {
            load_state_at_start(&db, &clock, path, args.state_replace).await?;
        }
        let bootstrapped =
            bootstrap::bootstrap(&db, &clock, &args.admin, &args.storage.data_dir, args.demo)
                .await?;
        let tokens = Tokens::load(&db, clock.now_ms()).await?;
        let auth = Auth::new(
            tokens,
            TokenLifetimes {
                access: Duration::from_secs(args.access_token_ttl.max(1)),
                refresh: Duration::from_secs(args.refresh_token_ttl.max(1)),
            },
            Duration::from_millis(args.client_cache_ttl_ms),
        );
        let settings = JobSettings {
            lease: Duration::from_millis(args.job_lease_ms.max(100)),
            max_attempts: args.job_max_attempts.max(1),
            delays: Delays {
                feature_ms: args.feature_delay_ms.max(0),
                element_ms: args.element_delay_ms.max(0),
                number_ms: args.number_delay_ms.max(0),
            },
            ..JobSettings::default()
        };
        let simulator = Simulator {
            emulator: args.emulator_mode(),
        };
        let jobs = Jobs::new(db.clone(), clock.clone(), settings, simulator);
        let faults = Arc::new(emulator::faults::Faults::default());
        if args.emulator_mode() {
            emulator::clock::restore(&db, &clock).await?;
            emulator::faults::refresh(&db, &faults).await?;
        }
        let generation = emulator::state::generation(&db).await?;
        let auth = Arc::new(auth);
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let state = AppState {
            db: db.clone(),
            auth: auth.clone(),
            clock: clock.clone(),
            jobs: jobs.clone(),
            emulator: args.emulator_mode(),
            demo: args.demo,
            shutdown: shutdown_rx,
            metrics: Arc::new(http::metrics::Metrics::new(
                args.metrics_token.clone(),
                jobs.worker_errors(),
            )),
            faults: faults.clone(),
            requests: Arc::new(emulator::requests::RequestJournal::new(
                args.journal_max_entries,
                args.journal_max_bytes,
            )),
            idempotency: Arc::default(),
        };
        starting.stop().await;
        Ok(Self {
            listener,
            router: http::router(state),
            db,
            bootstrapped,
            jobs,
            clock,
            workers: args.workers,
            shutdown,
            follow_clock: args.emulator_mode(),
            auth,
            generation,
            port_file: args.port_file.clone(),
            faults,
        })
    }

    /// The bound address (port 0 in the arguments picks a free port).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has a local address")
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The job engine, to run jobs by hand (tests, with no workers).
    pub fn jobs(&self) -> Jobs {
        self.jobs.clone()
    }

    /// The server's clock.
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// What bootstrap found or created.
    pub fn bootstrapped(&self) -> &Bootstrapped {
        &self.bootstrapped
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish for up
    /// to [`SHUTDOWN_GRACE`] and closes the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let workers = self
            .jobs
            .spawn_workers(self.workers, self.shutdown.subscribe());
        {
            // Several instances on one database share the emulator's clock and faults:
            // whoever changes them persists them, the others pick them up within a
            // second (so no request reads the faults from the database). A state
            // import (by any instance or the CLI) is picked up the same way.
            let (db, clock, auth, faults, mut stop) = (
                self.db.clone(),
                self.clock.clone(),
                self.auth.clone(),
                self.faults.clone(),
                self.shutdown.subscribe(),
            );
            let (emulator, mut seen) = (self.follow_clock, self.generation);
            tokio::spawn(async move {
                while !*stop.borrow() {
                    match emulator::state::follow(&db, &clock, &auth, emulator, seen).await {
                        Ok(generation) => seen = generation,
                        Err(e) => {
                            tracing::debug!(error = %e, "reading the state's generation failed")
                        }
                    }
                    if emulator && let Err(e) = emulator::clock::restore(&db, &clock).await {
                        tracing::debug!(error = %e, "reading the shared clock failed");
                    }
                    if emulator && let Err(e) = emulator::faults::refresh(&db, &faults).await {
                        tracing::debug!(error = %e, "reading the injected faults failed");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => {}
                    }
                }
            });
        }
        let stop = self.shutdown;
        let signal = async move {
            shutdown.await;
            // Workers stop claiming and event streams end, so connections can drain.
            let _ = stop.send(true);
            let _ = stopping_tx.send(());
        };
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        if let Some(path) = &self.port_file {
            // The socket is bound and listening, so a connection made from now on is
            // queued and served as soon as the server below runs.
            let addr = self.listener.local_addr()?;
            write_port_file(path, addr)?;
        }
        let serve = axum::serve(self.listener, service).with_graceful_shutdown(signal);
        let serve = tokio::spawn(async move { serve.await });
        let mut serve = std::pin::pin!(serve);
        tokio::select! {
            res = &mut serve => res??,
            _ = stopping_rx => {
                if tokio::time::timeout(SHUTDOWN_GRACE, &mut serve).await.is_err() {
                    tracing::warn!("in-flight requests did not finish in time; stopping anyway");
                }
            }
        }
        // Workers finish the job in hand; one that does not in time leaves a lease that
        // expires, and the job runs again after the restart.
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, futures_join(workers)).await;
        self.db.close().await;
        Ok(())
    }
}

async fn futures_join(handles: Vec<tokio::task::JoinHandle<()>>) {
    for h in handles {
        let _ = h.await;
    }
}

/// `serve --state`: loads the snapshot at `path` into an empty database, or into one
/// with data when `replace` says so.
async fn load_state_at_start(
    db: &Db,
    clock: &Clock,
    path: &std::path::Path,
    replace: bool,
) -> anyhow::Result<()> {
    if !replace && !emulator::state::is_empty(db).await? {
        anyhow::bail!(
            "--state {}: the database already has data; --state-replace replaces it with the snapshot",
            path.display()
        );
    }
    let file = std::fs::File::open(path).with_context(|| format!("--state {}", path.display()))?;
    let imported = emulator::state::import(db, clock.now_ms(), file)
        .await
        .with_context(|| format!("--state {}", path.display()))?;
    tracing::info!(path = %path.display(), rows = ?imported.rows, "state loaded");
    Ok(())
}

/// Writes `HOST:PORT` and a newline to `path` through a temporary file in the same
/// directory and a rename, so that a reader never sees half of it.
fn write_port_file(path: &std::path::Path, addr: SocketAddr) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("--port-file {} names no file", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, format!("{addr}\n"))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Opens and migrates the database that `storage` selects.
pub async fn open(storage: &config::StorageArgs) -> anyhow::Result<Db> {
    let location = storage.location()?;
    if let Location::Sqlite(path) = &location
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let db = Db::connect(
        &location,
        storage.durability,
        storage.db_max_connections,
        Duration::from_millis(storage.db_acquire_timeout_ms),
    )
    .await
    .context("cannot open the database")?;
    db.migrate().await.context("cannot apply migrations")?;
    Ok(db)
}

/// Completes on SIGINT or SIGTERM.
pub async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("stop signal received; finishing in-flight requests");
}
