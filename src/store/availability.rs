//! Telling an outage from a bug. Which database errors mean "the database cannot serve
//! now, try again" (an HTTP 503) is decided here and nowhere else; and a watch on
//! PostgreSQL lets requests fail fast while it cannot be reached, instead of each one
//! waiting out the pool's connection retries.

use std::future::Future;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgDatabaseError};
use sqlx::sqlite::SqliteError;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::watch;

/// How long a request waits for a PostgreSQL connection while the watch sees the
/// database down: long enough to notice that it is back before the watch does, short
/// enough that an outage answers at once.
const DOWN_WAIT: Duration = Duration::from_millis(500);
/// How often the watch checks a database that answers, and one that does not.
const UP_PERIOD: Duration = Duration::from_secs(1);
const DOWN_PERIOD: Duration = Duration::from_millis(250);
/// A check that takes longer than this counts as a failure: a database that cannot
/// answer `select 1` in this time cannot serve requests either.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// True when `e` says that the database cannot serve now (unreachable, shutting down,
/// out of disk, read-only, an I/O error, no connection free in time), rather than that
/// a statement is wrong.
pub(crate) fn is_unavailable(e: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    match e {
        // Sockets and the SQLite worker thread: the connection is gone.
        E::Io(_) | E::Tls(_) | E::WorkerCrashed => true,
        // No connection within `--db-acquire-timeout-ms`, or the pool is shutting down.
        E::PoolTimedOut | E::PoolClosed => true,
        E::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                pg_unavailable(pg.code())
            } else if db.try_downcast_ref::<SqliteError>().is_some() {
                // The extended result code, in decimal.
                db.code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .is_some_and(sqlite_unavailable)
            } else {
                false
            }
        }
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs of outages: class 08 (connection exception), 53 (insufficient
/// resources: disk full, out of memory, too many connections), 58 (system error, I/O),
/// a server shutting down or starting (57P01-57P03), and a read-only server (25006: a
/// standby, or `default_transaction_read_only`).
fn pg_unavailable(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("58")
        || matches!(code, "57P01" | "57P02" | "57P03" | "25006")
}

/// SQLite result codes of outages, by primary code (the low byte of the extended one):
/// BUSY (another process held the lock past the busy timeout), NOMEM, READONLY (a
/// read-only file or file system), IOERR, FULL (disk full), CANTOPEN. CORRUPT and the
/// rest stay errors of ours.
fn sqlite_unavailable(extended: i32) -> bool {
    matches!(extended & 0xff, 5 | 7 | 8 | 10 | 13 | 14)
}

/// Whether PostgreSQL answers, as a connection of its own (outside the pool) sees it.
/// A busy pool does not make it "down": only a failed connect or check does.
#[derive(Debug, Clone)]
pub struct Health {
    up: watch::Receiver<bool>,
}

impl Health {
    /// Starts watching the database of `pool` until the pool closes. It counts as down
    /// until the first check succeeds.
    pub(crate) fn watch(pool: &PgPool, opts: PgConnectOptions) -> Self {
        let (tx, rx) = watch::channel(false);
        let closed = pool.close_event();
        tokio::spawn(async move {
            let mut closed = std::pin::pin!(closed);
            let mut conn: Option<PgConnection> = None;
            loop {
                let result = probe(&opts, &mut conn).await;
                let up = result.is_ok();
                let was = tx.send_replace(up);
                match (&result, was) {
                    (Err(e), true) => {
                        tracing::warn!(error = %e, "PostgreSQL does not answer; requests get 503 until it does")
                    }
                    (Ok(()), false) => tracing::info!("PostgreSQL answers"),
                    _ => {}
                }
                let pause = if up { UP_PERIOD } else { DOWN_PERIOD };
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = &mut closed => break,
                }
            }
            if let Some(c) = conn {
                let _ = c.close().await;
            }
        });
        Self { up: rx }
    }

    /// True while the last check succeeded.
    pub fn is_up(&self) -> bool {
        *self.up.borrow()
    }

    /// Runs `op` (an acquire or a begin on the pool): in full while the database is up,
    /// but abandoned as soon as the watch sees it go down; for at most [`DOWN_WAIT`]
    /// while it is down.
    pub(crate) async fn guard<T>(
        &self,
        op: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        let mut up = self.up.clone();
        if !*up.borrow_and_update() {
            return tokio::time::timeout(DOWN_WAIT, op)
                .await
                .unwrap_or_else(|_| Err(not_answering()));
        }
        let down = async move {
            if up.wait_for(|up| !*up).await.is_err() {
                // The watch ended with the pool: nothing more to wait for.
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            r = op => r,
            () = down => Err(not_answering()),
        }
    }
}

/// The error of a request refused because the watch sees PostgreSQL down (the watch
/// logs the cause when it changes).
pub(crate) fn not_answering() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        "PostgreSQL does not answer",
    ))
}

/// Checks the watch's own connection, opening a new one when it has none or it failed.
async fn probe(
    opts: &PgConnectOptions,
    conn: &mut Option<PgConnection>,
) -> Result<(), sqlx::Error> {
    if let Some(c) = conn.as_mut() {
        match tokio::time::timeout(PROBE_TIMEOUT, c.ping()).await {
            Ok(Ok(())) => return Ok(()),
            // Broken: drop it and try a fresh one below, so a restarted server counts
            // as up at once.
            _ => *conn = None,
        }
    }
    let c = tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(opts))
        .await
        .unwrap_or(Err(sqlx::Error::PoolTimedOut))?;
    *conn = Some(c);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_disk_full_and_io_errors_are_outages() {
        // SQLITE_FULL, SQLITE_IOERR_WRITE (778), SQLITE_READONLY_DBMOVED (1032).
        for code in [13, 778, 1032, 14, 5] {
            assert!(sqlite_unavailable(code), "{code}");
        }
    }

    #[test]
    fn sqlite_corruption_and_constraints_are_not_outages() {
        // SQLITE_CORRUPT, SQLITE_CONSTRAINT_UNIQUE (2067), SQLITE_ERROR.
        for code in [11, 2067, 1] {
            assert!(!sqlite_unavailable(code), "{code}");
        }
    }

    #[test]
    fn postgres_connection_and_shutdown_states_are_outages() {
        for code in [
            "08006", "08001", "57P01", "57P03", "53100", "58030", "25006",
        ] {
            assert!(pg_unavailable(code), "{code}");
        }
        for code in ["23505", "42P01", "22P02", "40001"] {
            assert!(!pg_unavailable(code), "{code}");
        }
    }

    #[test]
    fn pool_timeouts_and_io_errors_are_outages_and_decode_errors_are_not() {
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(is_unavailable(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        ))));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!is_unavailable(&sqlx::Error::ColumnNotFound("x".into())));
    }
}
