//! ccadmin: the contact-center administration APIs of the Avaya Experience Platform,
//! as a server that keeps its state in SQLite or PostgreSQL.
//!
//! A request enters through [`http`] (routing, authentication, extraction), is checked
//! against [`domain`] rules, goes through [`service`] operations that run in one
//! [`store`] transaction, and is answered by `http` again, errors included.

pub mod auth;
pub mod bootstrap;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod service;
pub mod store;

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
use crate::store::{Db, Location};

/// How long in-flight requests may take to finish after a stop signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A built server: database migrated, bootstrap done, socket bound.
pub struct App {
    listener: TcpListener,
    router: axum::Router,
    db: Db,
    bootstrapped: Bootstrapped,
}

impl App {
    /// Opens the database, applies migrations, bootstraps, and binds the socket.
    pub async fn build(args: &ServeArgs) -> anyhow::Result<Self> {
        let db = open(&args.storage).await?;
        let clock = Clock::default();
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
        let state = AppState {
            db: db.clone(),
            auth: Arc::new(auth),
            clock,
        };
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        Ok(Self {
            listener,
            router: http::router(state),
            db,
            bootstrapped,
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
        let signal = async move {
            shutdown.await;
            let _ = stopping_tx.send(());
        };
        let serve = axum::serve(self.listener, self.router).with_graceful_shutdown(signal);
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
        self.db.close().await;
        Ok(())
    }
}

/// Opens and migrates the database that `storage` selects.
pub async fn open(storage: &config::StorageArgs) -> anyhow::Result<Db> {
    let location = storage.location()?;
    if let Location::Sqlite(path) = &location
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let db = Db::connect(&location, storage.durability, storage.db_max_connections)
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
