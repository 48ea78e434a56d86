//! Storage: one interface, SQLite and PostgreSQL behind it.
//!
//! SQL is written once, with `$n` placeholders that both sqlx drivers understand, and
//! run through [`on_conn!`] against whichever connection a [`Tx`] holds; only what must
//! differ between the dialects is kept side by side. Every query of tenant data takes
//! the account id, so no query can reach across accounts.

use std::str::FromStr;
use std::time::Duration;

use futures_util::future::BoxFuture;
use sqlx::pool::{PoolConnection, PoolConnectionMetadata};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{
    Connection, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction,
};

pub mod accounts;
pub mod audit;
pub mod availability;
pub(crate) mod bulk;
mod checkpoint;
pub mod credentials;
pub(crate) mod dialect;
pub mod elements;
pub mod emulator;
pub mod epoch;
pub mod faults;
mod group;
pub mod idempotency;
pub mod jobs;
pub mod locks;
pub mod numbers;
pub mod org;
pub mod state;

/// Runs `$body` with `$c` bound to the transaction's connection, whichever backend it
/// is. The body is compiled once per backend, so the same query code serves both.
macro_rules! on_conn {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx.conn().await? {
            $crate::store::Conn::Sqlite($c) => $body,
            $crate::store::Conn::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_conn;

/// A uniqueness rule of the schema that a write broke. The database names the rule
/// in its own way (PostgreSQL the index, SQLite the columns); [`Conflict::of`] is the
/// one place that reads those names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Account names are unique across the platform, ignoring case.
    AccountName,
    /// A generated account id that is taken (try another).
    AccountId,
    /// One element of each type per account.
    ElementType,
    /// Element names are unique within the account, ignoring case.
    ElementName,
    /// A phone number is held by at most one account.
    PhoneNumber,
    /// Profile names are unique within the account, ignoring case.
    ProfileName,
    /// A generated profile id that is taken (try another).
    ProfileId,
    /// Node names are unique within the account, ignoring case.
    NodeName,
    /// Another rule; the database's name for it.
    Other(String),
}

/// Each rule with its PostgreSQL index name and SQLite's column list (the migrations
/// of both backends create the same indexes).
const CONFLICTS: [(Conflict, &str, &str); 8] = [
    (
        Conflict::AccountName,
        "account_name_key",
        "account.name_key",
    ),
    (Conflict::AccountId, "account_pkey", "account.account_id"),
    (
        Conflict::ElementType,
        "voice_element_element_type",
        "voice_element.account_id, voice_element.element_type",
    ),
    (
        Conflict::ElementName,
        "voice_element_name_key",
        "voice_element.account_id, voice_element.name_key",
    ),
    (
        Conflict::PhoneNumber,
        "phone_number_number",
        "phone_number.phone_number",
    ),
    (
        Conflict::ProfileName,
        "profile_profile_key",
        "profile.account_id, profile.profile_key",
    ),
    (
        Conflict::ProfileId,
        "profile_pkey",
        "profile.account_id, profile.profile_id",
    ),
    (
        Conflict::NodeName,
        "org_node_name_key",
        "org_node.account_id, org_node.name_key",
    ),
];

impl Conflict {
    /// The rule a unique violation names: PostgreSQL's constraint, or SQLite's
    /// message (`UNIQUE constraint failed: table.column, ...`).
    fn of(db: &dyn sqlx::error::DatabaseError) -> Self {
        let named = match db.constraint() {
            Some(constraint) => CONFLICTS.iter().find(|(_, pg, _)| *pg == constraint),
            None => {
                let columns = db
                    .message()
                    .strip_prefix("UNIQUE constraint failed: ")
                    .unwrap_or_default();
                CONFLICTS.iter().find(|(_, _, sqlite)| *sqlite == columns)
            }
        };
        match named {
            Some((conflict, _, _)) => conflict.clone(),
            None => Conflict::Other(
                db.constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| db.message().to_owned()),
            ),
        }
    }
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule of the database refused the write.
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// A stored value could not be read back (a bug or a hand-edited database).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The database cannot serve now: unreachable, shutting down, out of disk,
    /// read-only, an I/O error, or no connection free within the acquire timeout
    /// (`availability::is_unavailable`). Retrying later may succeed.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// The database refused a statement for any other reason (a bug of ours).
    #[error(transparent)]
    Backend(sqlx::Error),
    /// Migrations could not be applied.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// True when the database cannot serve now and a retry may succeed.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(e)) => {
                availability::is_unavailable(e)
            }
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // Unique violations are recognised here and nowhere else.
        if let Some(db) = e.as_database_error()
            && db.is_unique_violation()
        {
            return StoreError::Conflict(Conflict::of(db));
        }
        if availability::is_unavailable(&e) {
            return StoreError::Unavailable(e);
        }
        StoreError::Backend(e)
    }
}

/// A stored enum's name read back through its serde names, the same ones it was
/// written with (`ADD`, `IN_PROGRESS`...): an unknown one is corrupt data.
pub(crate) fn parse_enum<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    Ok(serde_json::from_value(serde_json::Value::String(
        s.to_owned(),
    ))?)
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Result of a storage operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How hard SQLite works to keep a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    /// WAL with `synchronous=NORMAL`: a process crash loses nothing committed; a power
    /// loss may lose the last transactions (never corrupts).
    Normal,
    /// WAL with `synchronous=FULL`: every commit also survives power loss, at the cost
    /// of an fsync per commit.
    Full,
}

/// Where the data lives.
#[derive(Debug, Clone)]
pub enum Location {
    /// An SQLite file.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

/// Connection pools of the chosen backend.
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite allows one writer at a time. All writes go through a one-connection pool
    /// so that they queue in the process instead of failing with "database is locked",
    /// and concurrent ones share a commit (`group`); reads use their own pool and never
    /// wait for writes (WAL).
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
        writer: std::sync::Arc<group::Writer>,
        epoch: epoch::Epoch,
    },
    /// PostgreSQL: one pool for reads and writes, and the watch that tells an
    /// unreachable server from a busy pool.
    Postgres {
        pool: PgPool,
        health: availability::Health,
        epoch: epoch::Epoch,
    },
}

/// One connection pool's use.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    /// `read` and `write` (SQLite) or `postgres`.
    pub name: &'static str,
    /// Connections open.
    pub open: u32,
    /// Of those, not lent out.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// The kind of backend, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Db {
    /// Opens the database at `location`, creating an SQLite file if needed. A request
    /// waits up to `acquire_timeout` for a connection while every one is in use.
    pub async fn connect(
        location: &Location,
        durability: Durability,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self> {
        match location {
            Location::Sqlite(path) => {
                let opts = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(match durability {
                        Durability::Normal => SqliteSynchronous::Normal,
                        Durability::Full => SqliteSynchronous::Full,
                    })
                    .foreign_keys(true)
                    // Savepoint journals (every group-commit caller's savepoint copies
                    // the pages it changes) in memory: past 64 KiB SQLite spills them to
                    // a temporary file, which was 14 % of the server's CPU under adds.
                    .pragma("temp_store", "memory")
                    // A log that grew under a burst is cut back to 64 MiB once it is
                    // written from its start again (`checkpoint`).
                    .pragma("journal_size_limit", "67108864")
                    // Only another process (a CLI command) can hold the lock this long.
                    .busy_timeout(Duration::from_secs(10));
                // An in-process connection cannot go stale the way a network one can:
                // sqlx's ping before each acquire would only add a round trip to the
                // connection's thread on every request.
                // The writer leaves checkpoints to `checkpoint`, on a read connection.
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .before_acquire(not_in_transaction)
                    .acquire_timeout(acquire_timeout)
                    .connect_with(opts.clone().pragma("wal_autocheckpoint", "0"))
                    .await?;
                // Reads are CPU-bound, and each connection has its own thread and page
                // cache (2 MiB): readers beyond twice the cores add memory (and a slow
                // warm-up of it), not throughput.
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                let readers = max_connections.min(u32::try_from(cores * 2).unwrap_or(u32::MAX));
                let read = SqlitePoolOptions::new()
                    .max_connections(readers.max(2))
                    .test_before_acquire(false)
                    .before_acquire(not_in_transaction)
                    .acquire_timeout(acquire_timeout)
                    .connect_with(opts)
                    .await?;
                let checkpoints = checkpoint::Checkpoints::start(read.clone());
                let writer = group::Writer::new(write.clone(), checkpoints);
                Ok(Db::Sqlite {
                    read,
                    write,
                    writer,
                    epoch: epoch::Epoch::default(),
                })
            }
            Location::Postgres(url) => {
                let opts = PgConnectOptions::from_str(url)?;
                // One connection of our own first: an unreachable server fails here
                // with its own error ("connection refused"), where the pool would retry
                // until its timeout and then only say that it timed out.
                let first = tokio::time::timeout(
                    Duration::from_secs(10),
                    PgConnection::connect_with(&opts),
                )
                .await
                .map_err(|_| {
                    sqlx::Error::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "connecting to PostgreSQL timed out",
                    ))
                })??;
                let _ = first.close().await;
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(acquire_timeout)
                    .before_acquire(not_in_transaction)
                    .connect_lazy_with(opts.clone());
                let health = availability::Health::watch(&pool, opts.clone());
                let epoch = epoch::Epoch::default();
                epoch.share(&pool, opts);
                Ok(Db::Postgres {
                    pool,
                    health,
                    epoch,
                })
            }
        }
    }

    /// Applies the versioned migrations of this backend. On PostgreSQL the migrator
    /// holds an advisory lock, so instances starting together do not race.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite { write, .. } => sqlx::migrate!("migrations/sqlite").run(write).await?,
            Db::Postgres { pool, .. } => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The write epoch: what caches of the database's content check (`epoch.rs`).
    pub fn epoch(&self) -> &epoch::Epoch {
        match self {
            Db::Sqlite { epoch, .. } | Db::Postgres { epoch, .. } => epoch,
        }
    }

    /// A connection for reads. Statements run on their own (no transaction).
    pub async fn read(&self) -> Result<Tx> {
        Ok(Tx::new(match self {
            Db::Sqlite { read, .. } => TxInner::SqliteRead(read.acquire().await?),
            Db::Postgres { pool, health, .. } => {
                TxInner::PgRead(health.guard(pool.acquire()).await?)
            }
        }))
    }

    /// A read-only transaction that sees one consistent state of the database for its
    /// whole life (an export's). SQLite's deferred `BEGIN` in WAL mode reads one
    /// snapshot and takes no write lock; PostgreSQL's repeatable read does the same.
    pub async fn snapshot(&self) -> Result<Tx> {
        Ok(Tx::new(match self {
            Db::Sqlite { read, .. } => TxInner::SqliteWrite(read.begin().await?),
            Db::Postgres { pool, health, .. } => {
                let mut t = health.guard(pool.begin()).await?;
                sqlx::query("set transaction isolation level repeatable read, read only")
                    .execute(&mut *t)
                    .await?;
                TxInner::PgWrite(t)
            }
        }))
    }

    /// A write transaction. On SQLite it joins the writers' shared transaction (`BEGIN
    /// IMMEDIATE` by the first of a batch, taking the write lock at once rather than
    /// failing to upgrade a read lock later; a savepoint for the others), and its
    /// [`Tx::commit`] returns once the group's commit that holds it succeeded.
    pub async fn write(&self) -> Result<Tx> {
        let inner = match self {
            Db::Sqlite { writer, .. } => TxInner::SqliteGroup(writer.begin().await?),
            Db::Postgres { pool, health, .. } => {
                TxInner::PgWrite(health.guard(pool.begin()).await?)
            }
        };
        Ok(Tx {
            inner,
            epoch: Some(self.epoch().clone()),
        })
    }

    /// Readies tables after a bulk load for the reads that follow: on PostgreSQL, a
    /// vacuum marks their pages all-visible, so index-only scans (the number search)
    /// need not visit the table, and refreshes the planner's statistics. Autovacuum would
    /// get there, but only a while later. Nothing to do on SQLite.
    pub async fn settle_after_bulk_load(&self, tables: &[&str]) -> Result<()> {
        if let Db::Postgres { pool, .. } = self {
            sqlx::query(&format!("vacuum (analyze) {}", tables.join(", ")))
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// The connection pools' use, for `/metrics`.
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        fn stats<D: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<D>) -> PoolStats {
            let open = pool.size();
            PoolStats {
                name,
                open,
                idle: u32::try_from(pool.num_idle()).unwrap_or(open),
                max: pool.options().get_max_connections(),
            }
        }
        match self {
            Db::Sqlite { read, write, .. } => vec![stats("read", read), stats("write", write)],
            Db::Postgres { pool, .. } => vec![stats("postgres", pool)],
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        let mut tx = self.read().await?;
        on_conn!(tx, |c| sqlx::query("select 1")
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Whether this instance can serve: PostgreSQL as its watch last saw it (a busy
    /// pool is still ready), SQLite by a read.
    pub async fn ready(&self) -> Result<()> {
        match self {
            Db::Postgres { health, .. } if !health.is_up() => {
                Err(StoreError::Unavailable(availability::not_answering()))
            }
            Db::Postgres { .. } => Ok(()),
            Db::Sqlite { .. } => self.ping().await,
        }
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        match self {
            Db::Sqlite {
                read,
                write,
                writer,
                ..
            } => {
                read.close().await;
                writer.close().await;
                write.close().await;
            }
            Db::Postgres { pool, .. } => pool.close().await,
        }
    }
}

/// Refuses a pooled connection that is still inside a transaction, so the pool closes
/// it and opens a fresh one. A failed commit or rollback leaves one behind: on a full
/// disk SQLite rolls the transaction back by itself, sqlx's ROLLBACK then fails, and its
/// transaction depth stays up, so every later BEGIN on that (single writer) connection
/// would fail. The depth is exact here: the pool pings a released connection before it
/// is idle again, after the rollback queued on drop.
fn not_in_transaction<C: Connection>(
    conn: &mut C,
    _: PoolConnectionMetadata,
) -> BoxFuture<'_, Result<bool, sqlx::Error>> {
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("a connection was left inside a failed transaction; replacing it");
    }
    Box::pin(async move { Ok(clean) })
}

/// A connection or transaction of either backend. Store functions take `&mut Tx`.
pub struct Tx {
    inner: TxInner,
    /// A write transaction's: moved once it commits.
    epoch: Option<epoch::Epoch>,
}

enum TxInner {
    SqliteRead(PoolConnection<Sqlite>),
    SqliteWrite(Transaction<'static, Sqlite>),
    SqliteGroup(group::GroupTx),
    PgRead(PoolConnection<Postgres>),
    PgWrite(Transaction<'static, Postgres>),
}

/// The connection inside a [`Tx`], typed by backend.
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Tx {
    fn new(inner: TxInner) -> Self {
        Tx { inner, epoch: None }
    }

    /// The backend this transaction runs on, for the few statements that differ.
    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::SqliteRead(_) | TxInner::SqliteWrite(_) | TxInner::SqliteGroup(_) => {
                Backend::Sqlite
            }
            TxInner::PgRead(_) | TxInner::PgWrite(_) => Backend::Postgres,
        }
    }

    /// Lets this transaction commit without waiting for its WAL flush (PostgreSQL's
    /// `synchronous_commit = off`, for this transaction only). Only for writes whose
    /// loss in a database crash is harmless; SQLite is left as configured.
    pub async fn relax_durability(&mut self) -> Result<()> {
        if let TxInner::PgWrite(t) = &mut self.inner {
            sqlx::query("set local synchronous_commit = off")
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// Gives this write transaction the memory of a bulk load: a large page cache on
    /// SQLite (for the rest of the connection's life: the importing CLI's), more sort
    /// memory on PostgreSQL (for this transaction). Inserting a million rows in random
    /// key order into indexes that do not fit SQLite's default 2 MiB cache is bound by
    /// page reads and writes, not by the inserts.
    pub async fn prepare_bulk_load(&mut self) -> Result<()> {
        match &mut self.inner {
            TxInner::SqliteWrite(t) => {
                sqlx::query("pragma cache_size = -524288")
                    .execute(&mut **t)
                    .await?;
            }
            TxInner::SqliteGroup(g) => {
                sqlx::query("pragma cache_size = -524288")
                    .execute(g.conn().await?)
                    .await?;
            }
            TxInner::PgWrite(t) => {
                for sql in [
                    "set local work_mem = '256MB'",
                    "set local maintenance_work_mem = '512MB'",
                ] {
                    sqlx::query(sql).execute(&mut **t).await?;
                }
            }
            TxInner::SqliteRead(_) | TxInner::PgRead(_) => {}
        }
        Ok(())
    }

    /// Gives an SQLite write connection back its default page cache (2 MiB) after
    /// [`Tx::prepare_bulk_load`], for a long-lived server's connection that did one
    /// bulk load (a state import) and goes on with small writes. PostgreSQL's settings
    /// ended with their transaction.
    pub async fn end_bulk_load(&mut self) -> Result<()> {
        let conn: &mut SqliteConnection = match &mut self.inner {
            TxInner::SqliteWrite(t) => t,
            TxInner::SqliteGroup(g) => g.conn().await?,
            _ => return Ok(()),
        };
        sqlx::query("pragma cache_size = -2000")
            .execute(conn)
            .await?;
        Ok(())
    }

    /// The underlying connection, inside the transaction: a group commit's caller
    /// begins its part first if no statement did ([`Tx::take_begin`]).
    pub async fn conn(&mut self) -> Result<Conn<'_>> {
        Ok(match &mut self.inner {
            TxInner::SqliteRead(c) => Conn::Sqlite(c),
            TxInner::SqliteWrite(t) => Conn::Sqlite(t),
            TxInner::SqliteGroup(g) => Conn::Sqlite(g.conn().await?),
            TxInner::PgRead(c) => Conn::Postgres(c),
            TxInner::PgWrite(t) => Conn::Postgres(t),
        })
    }

    /// On SQLite's group commit, the statement that begins this caller's part of the
    /// shared transaction if it has not run yet: a store function may run it ahead of
    /// its first statement, in one query, to save a hop to the connection's thread
    /// (`numbers::add_lookup`). `None` everywhere else.
    pub fn take_begin(&mut self) -> Option<String> {
        match &mut self.inner {
            TxInner::SqliteGroup(g) => g.take_begin(),
            _ => None,
        }
    }

    /// Commits a write transaction; a read connection is simply released.
    pub async fn commit(self) -> Result<()> {
        let committed: Result<()> = match self.inner {
            TxInner::SqliteWrite(t) => t.commit().await.map_err(StoreError::from),
            // Returns once the group's commit that holds this caller's work succeeded.
            TxInner::SqliteGroup(g) => g.commit().await,
            TxInner::PgWrite(t) => t.commit().await.map_err(StoreError::from),
            TxInner::SqliteRead(_) | TxInner::PgRead(_) => Ok(()),
        };
        // After the commit, before the caller answers: caches of what the database
        // holds stop trusting what they read before it. Also after a failed commit,
        // which may have taken effect all the same (a connection lost on the way back).
        if let Some(epoch) = self.epoch {
            epoch.committed();
        }
        committed
    }
}

/// Writes a consistent copy of the SQLite database at `location` to `file` (which must
/// not exist) and returns its size. `vacuum into` reads one snapshot, as any reader does
/// in WAL mode, so a running server's writers carry on meanwhile; one read-only
/// connection is all it opens. The copy is written next to `file`, flushed, then
/// renamed, so `file` is either complete or absent. PostgreSQL has its own tools.
pub async fn backup(location: &Location, file: &std::path::Path) -> anyhow::Result<u64> {
    use anyhow::Context;
    let Location::Sqlite(path) = location else {
        anyhow::bail!(
            "`ccadmin backup` copies SQLite databases; for PostgreSQL use pg_dump (docs/operations.md)"
        );
    };
    anyhow::ensure!(path.exists(), "no database at {}", path.display());
    anyhow::ensure!(
        !file.exists(),
        "{} exists; the backup will not overwrite it",
        file.display()
    );
    let mut partial = file.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let target = partial
        .to_str()
        .context("the backup path is not valid UTF-8")?;
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .busy_timeout(Duration::from_secs(10));
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let copied = sqlx::query("vacuum into $1")
        .bind(target)
        .execute(&mut conn)
        .await
        .context("vacuum into");
    let _ = conn.close().await;
    copied?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("flushing {}", partial.display()))?;
    std::fs::rename(&partial, file)
        .with_context(|| format!("renaming {} to {}", partial.display(), file.display()))?;
    Ok(std::fs::metadata(file)?.len())
}
