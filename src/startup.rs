//! Start-up while the database is not there yet. The socket is bound first and, until
//! the server is built, answers `/healthz` 200, `/readyz` 503 and the API 503 with
//! `Retry-After`; an unreachable PostgreSQL is retried with backoff, each attempt logged,
//! up to `--db-connect-timeout`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::StorageArgs;
use crate::store::{Db, Location, StoreError};

/// The first and the longest pause between two attempts to reach the database.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(5);

/// The stand-in server that answers while the real one is being built.
pub(crate) struct Starting {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Binds `addr` and serves [`crate::http::health::starting_router`] on it until the
/// returned [`Starting`] is stopped; the listener is the same socket, for the real
/// server, so connections that arrive in between wait in its backlog.
pub(crate) fn bind(addr: SocketAddr) -> anyhow::Result<(TcpListener, Starting)> {
    let socket =
        std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    socket.set_nonblocking(true)?;
    let stand_in = TcpListener::from_std(socket.try_clone()?)?;
    let listener = TcpListener::from_std(socket)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(stand_in, crate::http::health::starting_router())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            });
        if let Err(e) = serve.await {
            tracing::warn!(error = %e, "the start-up responder failed");
        }
    });
    Ok((
        listener,
        Starting {
            stop: Some(stop),
            task: Some(task),
        },
    ))
}

impl Starting {
    /// Stops answering in place of the real server: requests in flight finish, for up
    /// to a second (they answer at once).
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(1), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        // A build that failed: the process exits, nothing more to answer.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Opens and migrates the database; PostgreSQL that cannot be reached is tried again
/// with exponential backoff until `limit` has passed. Other errors, and SQLite's (a
/// local file: waiting would not help), end the start at once.
pub(crate) async fn open_database(storage: &StorageArgs, limit: Duration) -> anyhow::Result<Db> {
    let retry = matches!(storage.location()?, Location::Postgres(_));
    let started = Instant::now();
    let mut pause = FIRST_RETRY;
    let mut attempt = 1u32;
    loop {
        match crate::open(storage).await {
            Ok(db) => {
                if attempt > 1 {
                    tracing::info!(attempt, "the database is reachable; starting");
                }
                return Ok(db);
            }
            Err(e) if retry && is_outage(&e) && started.elapsed() + pause < limit => {
                tracing::warn!(
                    attempt,
                    retry_in_ms = pause.as_millis() as u64,
                    gives_up_in_s = limit.saturating_sub(started.elapsed()).as_secs(),
                    error = %format!("{e:#}"),
                    "the database is not reachable; /readyz answers 503 until it is"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_RETRY);
                attempt += 1;
            }
            Err(e) if attempt > 1 => {
                return Err(e.context(format!(
                    "gave up reaching the database after {attempt} attempts"
                )));
            }
            Err(e) => return Err(e),
        }
    }
}

/// True when a storage outage caused `e`.
fn is_outage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_unavailable)
    })
}
