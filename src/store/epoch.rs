//! The write epoch: a number that moves whenever what the database holds may have
//! changed under this instance's feet. It moves after every write transaction this
//! instance commits (before the write's answer is sent), when another instance
//! announces a write (PostgreSQL `NOTIFY`), when the announcement channel is
//! re-established (announcements may have been missed meanwhile), and on an emulator
//! reset or a state import.
//!
//! A cache of what the database holds tags each entry with the epoch it read *before*
//! it read the database, and trusts the entry only while the epoch has not moved since.
//! So no entry is older than a write whose commit this instance saw end: the commit
//! either ended before the tag was read (the read saw it), or moved the epoch past the
//! tag. Entries also live at most the revocation bound, which is what bounds a change
//! made by another SQLite process (a CLI command), which announces nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::Notify;

/// The PostgreSQL channel on which instances announce their writes; the payload is
/// the announcing instance's id, so that it ignores its own.
const CHANNEL: &str = "ccadmin_writes";
/// The least time between two announcements of one instance: a burst of writes is
/// announced a few times, not once per write, and still well within the 2 s bound.
const ANNOUNCE_PAUSE: Duration = Duration::from_millis(20);
/// How long the listener waits before connecting again after a failure.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// This instance's write epoch (shared by the clones of one `Db`).
#[derive(Debug, Clone, Default)]
pub struct Epoch(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    value: AtomicU64,
    /// Woken by this instance's commits, for the PostgreSQL announcer.
    wrote: Notify,
}

impl Epoch {
    /// The epoch now. A cache reads it before it reads the database.
    pub fn current(&self) -> u64 {
        self.0.value.load(Ordering::SeqCst)
    }

    /// A write transaction of this instance committed: moves the epoch (and has it
    /// announced to other instances on PostgreSQL). The one call a commit makes, after
    /// the commit and before the write's answer is sent.
    pub fn committed(&self) {
        self.advance();
        self.0.wrote.notify_one();
    }

    /// Something changed that this instance did not commit (another instance's write, a
    /// reconnect, a reset or import): every cached entry is stale.
    pub fn advance(&self) {
        self.0.value.fetch_add(1, Ordering::SeqCst);
    }

    /// On PostgreSQL: announces this instance's commits to the other instances and
    /// moves the epoch on theirs, until `pool` closes. The listener has a connection of
    /// its own (not one of the pool's), re-established after a loss; each time the epoch
    /// moves, since announcements sent meanwhile are lost.
    pub(crate) fn share(&self, pool: &PgPool, opts: PgConnectOptions) {
        let me = uuid::Uuid::new_v4().to_string();
        let announcer = {
            let (epoch, pool, me) = (self.clone(), pool.clone(), me.clone());
            async move {
                loop {
                    epoch.0.wrote.notified().await;
                    let sent = sqlx::query("select pg_notify($1, $2)")
                        .bind(CHANNEL)
                        .bind(&me)
                        .execute(&pool)
                        .await;
                    if let Err(e) = sent {
                        tracing::debug!(error = %e, "a write could not be announced; others see it within the cache's lifetime");
                    }
                    tokio::time::sleep(ANNOUNCE_PAUSE).await;
                }
            }
        };
        let own = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_lazy_with(opts);
        let listener = listen(self.clone(), own.clone(), me);
        let closed = pool.close_event();
        tokio::spawn(async move {
            tokio::select! {
                () = announcer => {}
                () = listener => {}
                () = closed => {}
            }
            own.close().await;
        });
    }
}

/// Moves `epoch` on every other instance's announcement and on every (re)connection.
async fn listen(epoch: Epoch, own: PgPool, me: String) {
    loop {
        let mut listener = match PgListener::connect_with(&own).await {
            Ok(l) => l,
            Err(_) => {
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            }
        };
        if listener.listen(CHANNEL).await.is_err() {
            tokio::time::sleep(RETRY_PAUSE).await;
            continue;
        }
        // Whatever was announced before this point was not heard.
        epoch.advance();
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) if n.payload() == me => {}
                Ok(Some(_)) => epoch.advance(),
                // Lost and re-established: announcements in between were missed.
                Ok(None) => epoch.advance(),
                Err(_) => {
                    epoch.advance();
                    tokio::time::sleep(RETRY_PAUSE).await;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_and_announcements_move_the_epoch() {
        let epoch = Epoch::default();
        let tag = epoch.current();
        epoch.committed();
        assert_ne!(epoch.current(), tag);
        let tag = epoch.current();
        epoch.advance();
        assert_ne!(epoch.current(), tag);
        assert_eq!(epoch.clone().current(), epoch.current());
    }
}
