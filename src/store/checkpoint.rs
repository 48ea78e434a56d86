//! Checkpoints of SQLite's write-ahead log, off the writer's path.
//!
//! By default SQLite checkpoints inside the commit that grows the log past 1,000 pages:
//! on the one write connection, while every other writer queues behind it. Profiled
//! under phone-number adds that was 7 % of the server's CPU plus the file's fsync, all
//! of it on the serial path. So the write connection never checkpoints
//! (`wal_autocheckpoint = 0`), and this task does, on a read connection: a while after
//! the first commit since its last checkpoint, a `PASSIVE` one, which copies what no
//! reader still needs and never blocks the writer or the readers. An idle database is
//! not woken. The last connection to close checkpoints what is left, as SQLite always
//! does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::Notify;

/// How long after a commit the log is checkpointed: long enough that one checkpoint
/// covers many commits under load, short enough that the log stays small (a few
/// thousand pages at the writer's pace).
const AFTER: Duration = Duration::from_millis(100);

/// The checkpointing task's handle: commits [`wrote`](Checkpoints::wrote) to it.
#[derive(Debug, Default)]
pub(crate) struct Checkpoints {
    wake: Notify,
    stopped: AtomicBool,
}

impl Checkpoints {
    /// Starts checkpointing the database of `read` on its connections.
    pub(crate) fn start(read: SqlitePool) -> Arc<Self> {
        let this = Arc::new(Checkpoints::default());
        tokio::spawn(run(this.clone(), read));
        this
    }

    /// A commit added to the log.
    pub(crate) fn wrote(&self) {
        self.wake.notify_one();
    }

    /// Ends the task (at shutdown).
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

async fn run(this: Arc<Checkpoints>, read: SqlitePool) {
    loop {
        this.wake.notified().await;
        if this.stopped.load(Ordering::Acquire) {
            return;
        }
        tokio::time::sleep(AFTER).await;
        if this.stopped.load(Ordering::Acquire) || read.is_closed() {
            return;
        }
        // A failure (the disk full, the file gone) leaves the log as it is, to be
        // checkpointed by the next attempt: nothing committed depends on it.
        if let Err(e) = sqlx::query("pragma wal_checkpoint(passive)")
            .execute(&read)
            .await
        {
            tracing::debug!(error = %e, "a WAL checkpoint failed");
        }
    }
}
