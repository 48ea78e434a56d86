//! Group commit on SQLite: concurrent write transactions share one commit.
//!
//! SQLite has one writer, so writes already queue for the one write connection. Here
//! the queue keeps one outer transaction open across callers instead of a `BEGIN
//! IMMEDIATE … COMMIT` each: the first caller of a batch begins it, every later one
//! works inside a `SAVEPOINT` of its own, and one `COMMIT` ends the batch. A caller's
//! failure (an error, or its future dropped half way: a client that went away) rolls
//! back to its own savepoint only. [`GroupTx::commit`] returns only once the `COMMIT`
//! that holds the caller's work succeeded, so a 2xx still means committed; if that
//! `COMMIT` fails, every caller of the batch gets the error (none has answered yet).
//!
//! Who commits: the caller that finishes while nobody waits for the connection (so a
//! lone request is never delayed), or the one that finds the batch full ([`MAX_BATCH`])
//! or old ([`MAX_AGE`]). A caller left waiting longer than [`STALL`] (its successor's
//! request was cancelled before it got the connection) commits the batch itself.
//!
//! Savepoints nest rather than being released: `COMMIT` ends them all, so a successful
//! caller costs no statement of its own at the end. Each is named after the caller's
//! place in the batch, so a `ROLLBACK TO` finds the caller's own or none.
//!
//! A caller's transaction exists from before its `BEGIN` or `SAVEPOINT` is sent, so a
//! caller dropped at any await, that one included, is rolled back.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use super::checkpoint::Checkpoints;
use super::{Result, StoreError, availability};

/// The most callers one commit takes: a bound on how long the first of them waits
/// under a steady queue, and on the savepoint nesting.
const MAX_BATCH: usize = 64;
/// How long after the first caller of a batch finished the batch is committed even
/// while more callers queue.
const MAX_AGE: Duration = Duration::from_millis(4);
/// How long a finished caller waits for someone else to commit its batch before it
/// commits it itself. Only reached when the caller expected to commit vanished.
const STALL: Duration = Duration::from_millis(20);

/// Why a batch's commit failed, as each of its callers gets it.
#[derive(Debug, Clone)]
struct Failed {
    unavailable: bool,
    message: String,
}

impl Failed {
    fn of(e: &sqlx::Error) -> Self {
        Failed {
            unavailable: availability::is_unavailable(e),
            message: e.to_string(),
        }
    }
}

impl From<Failed> for StoreError {
    fn from(f: Failed) -> Self {
        let message = format!("the group commit failed: {}", f.message);
        if f.unavailable {
            StoreError::Unavailable(sqlx::Error::Io(std::io::Error::other(message)))
        } else {
            StoreError::Backend(sqlx::Error::Protocol(message))
        }
    }
}

/// What the one write connection is doing, behind the writers' queue (a fair mutex:
/// callers get the connection in the order they asked).
struct State {
    /// The write pool's one connection, once taken (it stays here until it fails or
    /// the database closes).
    conn: Option<PoolConnection<Sqlite>>,
    /// The outer transaction is open.
    open: bool,
    /// Callers whose work is in the open transaction, waiting for its commit.
    batch: Vec<oneshot::Sender<Result<(), Failed>>>,
    /// When the first of them finished.
    since: Option<Instant>,
    /// Batches ended so far: a caller's batch ended once this moved past its value.
    epoch: u64,
    /// Told of every commit: it checkpoints the log (the connection does not).
    checkpoints: Arc<Checkpoints>,
}

impl State {
    /// Commits the open transaction and answers every caller of the batch.
    async fn flush(&mut self) {
        let result = match self.conn.as_deref_mut() {
            Some(c) if self.open => sqlx::query("COMMIT").execute(c).await.map(|_| ()),
            _ => Ok(()),
        };
        self.open = false;
        self.epoch += 1;
        self.since = None;
        let batch = std::mem::take(&mut self.batch);
        match result {
            Ok(()) => {
                self.checkpoints.wrote();
                for caller in batch {
                    let _ = caller.send(Ok(()));
                }
                if self.checkpoints.restart_due() {
                    self.finish_checkpoint().await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, callers = batch.len(), "a group commit failed");
                let failed = Failed::of(&e);
                for caller in batch {
                    let _ = caller.send(Err(failed.clone()));
                }
                self.discard().await;
            }
        }
    }

    /// Checkpoints the frames the last background checkpoint left (those committed
    /// while it ran), on the write connection between two transactions, so that the
    /// next transaction writes the log from its start ([`Checkpoints`]). A reader still
    /// on older frames can keep it from finishing; the next long log asks again.
    async fn finish_checkpoint(&mut self) {
        if let Some(c) = self.conn.as_deref_mut()
            && let Err(e) = sqlx::query("pragma wal_checkpoint(passive)")
                .execute(c)
                .await
        {
            tracing::debug!(error = %e, "the writer's WAL checkpoint failed");
        }
    }

    /// Gives up the connection after a failure left it in an unknown state (a
    /// rollback that failed, a commit that failed): closing it rolls back whatever it
    /// held, and the pool opens a fresh one for the next caller, as `before_acquire`
    /// does for the other pools. Callers still waiting for a commit get `e`.
    async fn fail(&mut self, e: &sqlx::Error) {
        let failed = Failed::of(e);
        for caller in std::mem::take(&mut self.batch) {
            let _ = caller.send(Err(failed.clone()));
        }
        self.open = false;
        self.epoch += 1;
        self.since = None;
        self.discard().await;
    }

    async fn discard(&mut self) {
        if let Some(conn) = self.conn.take() {
            tracing::warn!("the write connection was left in an unknown state; replacing it");
            let _ = conn.close().await;
        }
    }

    /// Whether the finishing caller should commit now rather than leave it to the
    /// next one.
    fn due(&self, waiting: usize) -> bool {
        waiting == 0
            || self.batch.len() >= MAX_BATCH
            || self.since.is_some_and(|t| t.elapsed() >= MAX_AGE)
    }
}

/// The SQLite writers' queue and their shared transaction.
pub struct Writer {
    pool: SqlitePool,
    state: Arc<Mutex<State>>,
    /// Callers waiting for the connection (not yet holding it).
    waiting: AtomicUsize,
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("waiting", &self.waiting.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Counts a caller as waiting for the connection while it exists (also when the
/// caller's future is dropped while it waits).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::AcqRel);
        Waiting(n)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Writer {
    /// The writers of the one-connection pool `pool`.
    pub(crate) fn new(pool: SqlitePool, checkpoints: Arc<Checkpoints>) -> Arc<Self> {
        Arc::new(Writer {
            pool,
            state: Arc::new(Mutex::new(State {
                conn: None,
                open: false,
                batch: Vec::new(),
                since: None,
                epoch: 0,
                checkpoints,
            })),
            waiting: AtomicUsize::new(0),
        })
    }

    /// A write transaction: the connection, with the caller's place in the shared
    /// transaction (its own `BEGIN IMMEDIATE` if it is the first, else a savepoint),
    /// whose statement runs with the caller's first ([`GroupTx::take_begin`],
    /// [`GroupTx::conn`]).
    pub(crate) async fn begin(self: &Arc<Self>) -> Result<GroupTx> {
        // As long as the pool would have waited for its one connection: a queue that
        // does not move in that time answers "unavailable", as before the group commit.
        let mut guard = {
            let _waiting = Waiting::new(&self.waiting);
            tokio::time::timeout(
                self.pool.options().get_acquire_timeout(),
                self.state.clone().lock_owned(),
            )
            .await
            .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolTimedOut))?
        };
        if guard.conn.is_none() {
            guard.conn = Some(self.pool.acquire().await?);
        }
        // The first caller begins the outer transaction; each later one works in a
        // savepoint named after its place in the batch (callers before it joined the
        // batch, none is released before the commit), so that a rollback to it can
        // only ever find its own: after a `SAVEPOINT` that failed, it finds none and
        // fails, rather than undoing the previous caller's work.
        let savepoint = guard.open.then(|| guard.batch.len());
        // Open from here: the caller's transaction exists before its `BEGIN` or
        // `SAVEPOINT` is sent, so a caller dropped while that runs (its client went
        // away) is rolled back by the transaction's drop, like one dropped later. The
        // statement still runs on the connection's thread; marked open only after it,
        // the transaction a `BEGIN` left open was begun again by the next caller, and
        // that and every later batch failed ("cannot start a transaction within a
        // transaction").
        guard.open = true;
        Ok(GroupTx {
            writer: self.clone(),
            guard: Some(guard),
            savepoint,
            begun: false,
            finished: false,
        })
    }

    /// Commits a batch whose callers wait, then gives the connection back to the
    /// pool, so that the pool can close: for shutdown.
    pub(crate) async fn close(&self) {
        let mut state = self.state.lock().await;
        if !state.batch.is_empty() {
            state.flush().await;
        }
        state.checkpoints.stop();
        if let Some(conn) = state.conn.take() {
            if state.open {
                // Only a dropped caller's rollback could still be pending; `close`
                // waited for it through the lock, so this is not reached in practice.
                let _ = conn.close().await;
            } else {
                drop(conn);
            }
        }
        state.open = false;
    }

    /// Waits for the commit of the batch a finished caller joined; commits it
    /// itself if nobody did within [`STALL`].
    async fn wait(
        self: Arc<Self>,
        mut done: oneshot::Receiver<Result<(), Failed>>,
        epoch: u64,
    ) -> Result<()> {
        loop {
            match tokio::time::timeout(STALL, &mut done).await {
                Ok(Ok(result)) => return result.map_err(StoreError::from),
                Ok(Err(_)) => {
                    return Err(StoreError::Unavailable(sqlx::Error::PoolClosed));
                }
                Err(_) => {
                    let writer = self.clone();
                    let flushed = tokio::spawn(async move {
                        let mut state = writer.state.lock().await;
                        if state.epoch == epoch && !state.batch.is_empty() {
                            state.flush().await;
                        }
                    });
                    let _ = flushed.await;
                }
            }
        }
    }
}

/// One caller's write transaction inside the shared one (see the module's comment).
pub struct GroupTx {
    writer: Arc<Writer>,
    /// The connection, held: `None` only once committed or handed to the cleanup.
    guard: Option<OwnedMutexGuard<State>>,
    /// The number of the caller's savepoint, or `None` when it began the outer
    /// transaction (rolling back is then rolling back the whole transaction, which
    /// holds only its work).
    savepoint: Option<usize>,
    /// The caller's `BEGIN` or `SAVEPOINT` was sent, or handed to a statement that
    /// runs it first.
    begun: bool,
    /// The caller's work joined the batch: nothing to roll back on drop.
    finished: bool,
}

impl GroupTx {
    /// The write connection, inside the caller's transaction: begun first if no
    /// statement has begun it ([`GroupTx::take_begin`]).
    pub(crate) async fn conn(&mut self) -> Result<&mut SqliteConnection> {
        self.ready().await?;
        Ok(self.connection())
    }

    /// The write connection as it is, begun or not.
    fn connection(&mut self) -> &mut SqliteConnection {
        self.guard
            .as_mut()
            .and_then(|g| g.conn.as_deref_mut())
            .expect("a GroupTx holds the connection until it is consumed or dropped")
    }

    /// The statement that begins the caller's transaction, if none has run yet, for
    /// the caller to run ahead of its first statement in one query (one hop to the
    /// connection's thread instead of two). From here on the transaction counts as
    /// begun: if that query fails, the rollback on drop runs, and if the begin itself
    /// was what failed, the rollback finds nothing to undo, fails, and the connection
    /// and batch go as for any failed rollback (`undo`).
    pub(crate) fn take_begin(&mut self) -> Option<String> {
        if self.begun {
            return None;
        }
        self.begun = true;
        Some(match self.savepoint {
            None => "BEGIN IMMEDIATE".to_owned(),
            Some(n) => format!("SAVEPOINT caller{n}"),
        })
    }

    /// Begins the caller's transaction, if a statement has not already done so.
    async fn ready(&mut self) -> Result<()> {
        if self.guard.is_none() {
            return Err(StoreError::Unavailable(sqlx::Error::Protocol(
                "the write transaction already failed to begin".to_owned(),
            )));
        }
        let Some(sql) = self.take_begin() else {
            return Ok(());
        };
        let begun = sqlx::query(&sql)
            .persistent(self.savepoint.is_none())
            .execute(self.connection())
            .await;
        if let Err(e) = begun {
            let mut guard = self
                .guard
                .take()
                .expect("a GroupTx holds the connection until it is consumed or dropped");
            if self.savepoint.is_none() {
                // BEGIN failing (the file locked by another process past the busy
                // timeout, the disk gone) leaves no transaction behind.
                guard.open = false;
            } else {
                guard.fail(&e).await;
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// Adds the caller's work to the batch and returns once the commit that holds it
    /// succeeded.
    pub(crate) async fn commit(mut self) -> Result<()> {
        // A transaction that ran no statement still begins, so that the batch's
        // bookkeeping (the first caller's is the outer transaction) holds.
        self.ready().await?;
        let writer = self.writer.clone();
        let mut guard = self
            .guard
            .take()
            .expect("a GroupTx holds the connection until it is consumed or dropped");
        self.finished = true;
        let (tx, rx) = oneshot::channel();
        guard.batch.push(tx);
        guard.since.get_or_insert_with(Instant::now);
        let epoch = guard.epoch;
        if guard.due(writer.waiting.load(Ordering::Acquire)) {
            // In a task of its own: a caller cancelled half way through the COMMIT
            // must not leave the batch without its answer.
            let _ = tokio::spawn(async move { guard.flush().await }).await;
        } else {
            drop(guard);
        }
        writer.wait(rx, epoch).await
    }
}

impl Drop for GroupTx {
    /// A caller that ends without committing (an error returned, or its future dropped)
    /// has its work rolled back before the next caller gets the connection: the
    /// cleanup holds the connection until then.
    fn drop(&mut self) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        if self.finished {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(undo(self.writer.clone(), guard, self.savepoint, self.begun));
            }
            // No runtime left to run the rollback on (shutdown): the connection is
            // closed instead (its thread rolls back as it closes), and the batch's
            // callers, if any could still wait, get an error.
            Err(_) => {
                let mut guard = guard;
                for caller in std::mem::take(&mut guard.batch) {
                    let _ = caller.send(Err(Failed {
                        unavailable: true,
                        message: "the server is shutting down".to_owned(),
                    }));
                }
                guard.open = false;
                guard.epoch += 1;
                guard.since = None;
                if let Some(conn) = guard.conn.take() {
                    drop(conn.detach());
                }
            }
        }
    }
}

/// Rolls back a caller's work that did not commit (see [`GroupTx`]'s `Drop`): its
/// savepoint, or the outer transaction it began (`savepoint` is `None`); nothing if its
/// transaction never `begun`.
async fn undo(
    writer: Arc<Writer>,
    mut guard: OwnedMutexGuard<State>,
    savepoint: Option<usize>,
    begun: bool,
) {
    if !begun {
        match savepoint {
            // The outer transaction was never begun.
            None => guard.open = false,
            // The caller's place in it holds nothing of its own.
            Some(_) => {
                if !guard.batch.is_empty() && guard.due(writer.waiting.load(Ordering::Acquire)) {
                    guard.flush().await;
                }
            }
        }
        return;
    }
    let sql = match savepoint {
        None => "ROLLBACK".to_owned(),
        Some(n) => format!("ROLLBACK TO caller{n}; RELEASE caller{n}"),
    };
    let Some(conn) = guard.conn.as_deref_mut() else {
        return;
    };
    let undone = sqlx::query(&sql).persistent(false).execute(conn).await;
    match undone {
        Ok(_) if savepoint.is_none() => guard.open = false,
        Ok(_) => {
            if !guard.batch.is_empty() && guard.due(writer.waiting.load(Ordering::Acquire)) {
                guard.flush().await;
            }
        }
        // SQLite may have rolled the whole transaction back already (a full disk): the
        // connection's state is unknown, so it goes, and so does the batch's work with
        // it.
        Err(e) => guard.fail(&e).await,
    }
}
