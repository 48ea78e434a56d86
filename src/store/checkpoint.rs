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
//!
//! Copying the log is not enough to keep it small: SQLite starts writing the log from
//! its beginning again only when a write transaction begins with every frame copied,
//! and under a steady stream of commits the passive checkpoint always ends behind the
//! writer. Under load the log then grew without end (890 MB in 5 s of adds), and each
//! frame appended past its end cost the kernel a block allocation and zeroing (15 % of
//! the writer thread's samples). So when a checkpoint finds a long log, the writer is
//! asked ([`Checkpoints::restart_due`]) to checkpoint the frames written since, between
//! two of its transactions, where nothing can be appended meanwhile: the next
//! transaction then reuses the log from its start. `journal_size_limit` truncates a log
//! that grew past it once it is reused.
//!
//! Every other writer waits while the writer copies, so the task first checkpoints
//! again at once, pass after pass, until a pass finds few frames committed since the
//! one before ([`converge`]): the writer then copies about as few. Asked after a single
//! pass, the writer copied what was committed while that pass ran: 20-30 ms of copying,
//! nine times a second under adds, a quarter of the time the writers' queue was held.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::Notify;

/// How long after a commit the log is checkpointed: long enough that one checkpoint
/// covers many commits under load, short enough that the log stays small (a few
/// thousand pages at the writer's pace).
const AFTER: Duration = Duration::from_millis(100);

/// A log this long (in pages) when a checkpoint began asks the writer to let it start
/// over: SQLite's own threshold for checkpointing in a commit. Under a light load the log
/// starts over by itself and stays shorter.
const RESTART_AT: i64 = 1000;

/// Pages committed during a checkpoint's pass few enough for the writer to copy.
const FEW: i64 = 256;
/// The most passes a long log gets before the writer is asked to finish anyway (the
/// writes outpace the copies).
const MAX_PASSES: usize = 8;

/// The checkpointing task's handle: commits [`wrote`](Checkpoints::wrote) to it.
#[derive(Debug, Default)]
pub(crate) struct Checkpoints {
    wake: Notify,
    stopped: AtomicBool,
    /// The last checkpoint left a long log: the writer should finish it.
    restart: AtomicBool,
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

    /// Whether the writer should checkpoint between two transactions, so that the next
    /// one starts the log over; true once per request for it.
    pub(crate) fn restart_due(&self) -> bool {
        self.restart.swap(false, Ordering::AcqRel)
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
        // A long log has not started over since the last checkpoints: commits came
        // while each ran.
        if let Some(log) = checkpoint(&read).await
            && log >= RESTART_AT
            && converge(&read, log).await
        {
            this.restart.store(true, Ordering::Release);
        }
    }
}

/// A `PASSIVE` checkpoint on a connection of `read`: the pages the log held when it
/// began. A failure (the disk full, the file gone) leaves the log as it is, to be
/// checkpointed by the next attempt: nothing committed depends on it.
async fn checkpoint(read: &SqlitePool) -> Option<i64> {
    // (busy, pages in the log when the checkpoint began, pages copied)
    match sqlx::query_as::<_, (i64, i64, i64)>("pragma wal_checkpoint(passive)")
        .fetch_one(read)
        .await
    {
        Ok((_, log, _)) => Some(log),
        Err(e) => {
            tracing::debug!(error = %e, "a WAL checkpoint failed");
            None
        }
    }
}

/// Checkpoints a long log (`log` pages when the last pass began) again at once until a
/// pass finds few pages committed since the one before, so that what the writer has
/// left to copy is small: it copies it while every other writer waits. Whether the
/// writer should still finish (false when the log started over meanwhile, or a
/// checkpoint failed).
async fn converge(read: &SqlitePool, mut log: i64) -> bool {
    for _ in 0..MAX_PASSES {
        let Some(now) = checkpoint(read).await else {
            return false;
        };
        if now < log {
            // Started over since the last pass.
            return now >= RESTART_AT;
        }
        if now - log <= FEW {
            return true;
        }
        log = now;
    }
    true
}
