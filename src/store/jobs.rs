//! The job queue and the transition journal.

use serde_json::Value;
use sqlx::FromRow;

use super::{Result, StoreError, Tx, dialect, on_conn};
use crate::domain::AccountId;
use crate::domain::lifecycle::{Cause, JobKind};

/// A job to enqueue, in the same transaction as the change that needs it.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: JobKind,
    pub account_id: AccountId,
    pub resource_id: String,
    pub payload: Value,
    /// When it becomes due, on the server's clock.
    pub run_at: i64,
    pub max_attempts: i32,
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    /// The stored kind's name: one this version may not know (see [`Job::kind`]).
    pub kind: String,
    pub account_id: AccountId,
    pub resource_id: String,
    pub payload: Value,
    pub attempts: i32,
    pub max_attempts: i32,
    /// The fencing token of this claim.
    pub lease_token: String,
}

#[derive(FromRow)]
struct JobRow {
    id: String,
    kind: String,
    account_id: String,
    resource_id: String,
    payload: String,
    attempts: i32,
    max_attempts: i32,
    lease_token: Option<String>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(r: JobRow) -> Result<Self> {
        Ok(Job {
            id: r.id,
            kind: r.kind,
            account_id: AccountId::try_from(r.account_id)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            resource_id: r.resource_id,
            payload: serde_json::from_str(&r.payload)?,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            lease_token: r.lease_token.unwrap_or_default(),
        })
    }
}

impl Job {
    /// The job's kind; `None` for a kind this version does not know (a newer
    /// version's job on a shared database).
    pub fn kind(&self) -> Option<JobKind> {
        JobKind::parse(&self.kind)
    }
}

/// Writes a pending job; returns its id.
pub async fn enqueue(tx: &mut Tx, job: &NewJob, now: i64) -> Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    let payload = serde_json::to_string(&job.payload)?;
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into job (id, kind, account_id, resource_id, payload, state, attempts, max_attempts, run_at, created_at, updated_at)
             values ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $8, $8)",
        )
        .bind(&id)
        .bind(job.kind.as_str())
        .bind(job.account_id.as_str())
        .bind(&job.resource_id)
        .bind(&payload)
        .bind(job.max_attempts)
        .bind(job.run_at)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(id)
}

/// Cancels every unfinished job on a resource (it was superseded or deleted). A
/// worker still running one of them loses its fence and cannot finish it.
pub async fn cancel_for(
    tx: &mut Tx,
    account: &AccountId,
    resource_id: &str,
    now: i64,
) -> Result<u64> {
    Ok(on_conn!(tx, |c| {
        sqlx::query(
            "update job set state = 'cancelled', lease_token = null, lease_until = null, updated_at = $3
             where account_id = $1 and resource_id = $2 and state in ('pending', 'running')",
        )
        .bind(account.as_str())
        .bind(resource_id)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?)
}

// The claim differs by backend (`dialect::skip_locked`). Each candidate set has its own
// statement so that it is a range of one partial index (`job_pending`, `job_lease`, which
// hold only the jobs in that state): an `or` of the two made both engines scan every job.
const EXPIRED: &str = "state = 'running' and lease_until < $2 order by lease_until";
const DUE: &str = "state = 'pending' and run_at <= $1 order by run_at, created_at";

/// Claims a job whose previous claim expired before `real_now` or, failing that, the
/// most overdue job that is due at `now` (server clock); the claim lasts until
/// `lease_until` (real time).
pub async fn claim(tx: &mut Tx, now: i64, real_now: i64, lease_until: i64) -> Result<Option<Job>> {
    Ok(claim_many(tx, now, real_now, lease_until, 1).await?.pop())
}

/// Claims up to `limit` jobs: those whose previous claim expired before `real_now`
/// first, then the most overdue due at `now` (server clock), each claim until
/// `lease_until` (real time) under a fencing token of its own (the batch's random
/// token and the job's id: a lost claim of one job is still told from a new one).
/// One statement per candidate set, so a worker pays the round trips once per batch.
pub async fn claim_many(
    tx: &mut Tx,
    now: i64,
    real_now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Job>> {
    let lock = dialect::skip_locked(tx.backend());
    let mut jobs = Vec::new();
    for candidates in [EXPIRED, DUE] {
        let wanted = limit - jobs.len() as i64;
        if wanted <= 0 {
            break;
        }
        let sql = format!(
            "update job set state = 'running', attempts = attempts + 1,
                lease_until = $3, lease_token = $4 || id, updated_at = $1
             where id in (select id from job where {candidates} limit $5{lock})
             returning id, kind, account_id, resource_id, payload, attempts, max_attempts, lease_token"
        );
        let token = format!("{}:", uuid::Uuid::new_v4().simple());
        let rows: Vec<JobRow> = on_conn!(tx, |c| {
            sqlx::query_as(&sql)
                .bind(now)
                .bind(real_now)
                .bind(lease_until)
                .bind(&token)
                .bind(wanted)
                .fetch_all(&mut *c)
                .await
        })?;
        for row in rows {
            jobs.push(Job::try_from(row)?);
        }
    }
    Ok(jobs)
}

/// How a claimed job ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Succeeded,
    Failed,
}

/// Ends a job, if `token` still holds its claim: false means the claim was lost (the
/// lease expired and another worker took it, or the job was cancelled), and the
/// caller must roll back whatever it was about to write.
pub async fn finish(
    tx: &mut Tx,
    job: &Job,
    how: Finish,
    error: Option<&str>,
    now: i64,
) -> Result<bool> {
    let state = match how {
        Finish::Succeeded => "succeeded",
        Finish::Failed => "failed",
    };
    let n = on_conn!(tx, |c| {
        sqlx::query(
            "update job set state = $3, last_error = $4, lease_until = null, updated_at = $5
             where id = $1 and lease_token = $2 and state = 'running'",
        )
        .bind(&job.id)
        .bind(&job.lease_token)
        .bind(state)
        .bind(error)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Ends `jobs` as succeeded in one statement, each only if its own token still holds
/// its claim (as [`finish`]); returns the ids of those it ended. A job missing from the
/// answer lost its claim, and the caller must not apply its end.
pub async fn succeed_many(tx: &mut Tx, jobs: &[&Job], now: i64) -> Result<Vec<String>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut pairs = String::new();
    for i in 0..jobs.len() {
        let (a, b) = (2 * i + 2, 2 * i + 3);
        if i > 0 {
            pairs.push_str(", ");
        }
        pairs.push_str(&format!("(cast(${a} as text), cast(${b} as text))"));
    }
    // A join rather than `(id, lease_token) in (values …)`: SQLite's planner looks a
    // joined row up by the primary key, a row-value `in` it may scan for.
    let sql = format!(
        "update job set state = 'succeeded', last_error = null, lease_until = null, updated_at = $1
         from (select column1 as id, column2 as token from (values {pairs}) t) v
         where job.id = v.id and job.lease_token = v.token and job.state = 'running'
         returning job.id"
    );
    Ok(on_conn!(tx, |c| {
        let mut q = sqlx::query_scalar(&sql).bind(now);
        for job in jobs {
            q = q.bind(&job.id).bind(&job.lease_token);
        }
        q.fetch_all(&mut *c).await
    })?)
}

/// The advisory lock key of [`take_settle_turn`]: "cc_settl" in ASCII, read as
/// one number, so that it is told from other holders of advisory locks.
pub const SETTLE_LOCK: i64 = 0x6363_5f73_6574_746c;

/// Waits for this transaction's turn to write job ends, which lasts until it ends: on
/// PostgreSQL one settle at a time across every instance; SQLite's one writer already
/// is one. Ends touch shared rows (an account's `phone_number_tally` slots, through the
/// trigger) in no set order, so two batches settling together each waited for the
/// other's locks until its commit, or deadlocked: two workers drained 1,680 jobs/s
/// where one drained 4,281. Taken first, before any row lock, it cannot close a cycle.
///
/// Once the turn is held, the settle waits at most [`SETTLE_LOCK_WAIT`] for any row. A
/// request locks its resource, then cancels the resource's jobs; a settle ends its jobs,
/// then applies them to their resources: the opposite order, and PostgreSQL's deadlock
/// check (after one second) may end either side, the request with a 500. Timed out
/// first, the settle yields: it rolls back, the request goes on, and the jobs are ended
/// one by one (`Jobs::process`) or, still blocked, claimed again after their lease.
pub async fn take_settle_turn(tx: &mut Tx) -> Result<()> {
    if let super::Conn::Postgres(c) = tx.conn().await? {
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(SETTLE_LOCK)
            .execute(&mut *c)
            .await?;
        sqlx::query(SETTLE_LOCK_WAIT).execute(&mut *c).await?;
    }
    Ok(())
}

/// How long a settle waits for a row lock: well under PostgreSQL's default
/// `deadlock_timeout` (1 s), so that the settle, not a request, gives way.
const SETTLE_LOCK_WAIT: &str = "set local lock_timeout = '250ms'";

/// Puts a job back to pending until `run_at` after a transient failure, if `token`
/// still holds its claim.
pub async fn reschedule(
    tx: &mut Tx,
    job: &Job,
    run_at: i64,
    error: &str,
    now: i64,
) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query(
            "update job set state = 'pending', run_at = $3, last_error = $4, lease_until = null, lease_token = null,
                 updated_at = $5
             where id = $1 and lease_token = $2 and state = 'running'",
        )
        .bind(&job.id)
        .bind(&job.lease_token)
        .bind(run_at)
        .bind(error)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// The journal's latest `seq` (0 when it is empty): where a stream that wants only
/// new transitions starts.
pub async fn last_seq(tx: &mut Tx) -> Result<i64> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_scalar("select coalesce(max(seq), 0) from transition")
            .fetch_one(&mut *c)
            .await
    })?)
}

/// The earliest `run_at` of a pending job, if any.
pub async fn next_due(tx: &mut Tx) -> Result<Option<i64>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_scalar("select min(run_at) from job where state = 'pending'")
            .fetch_one(&mut *c)
            .await
    })?)
}

/// One status transition of a resource.
#[derive(Debug, Clone)]
pub struct Transition<'a> {
    pub at: i64,
    pub account_id: &'a str,
    pub resource_kind: JobKind,
    pub resource_id: &'a str,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub message: Option<&'a str>,
    pub cause: Cause,
}

/// Journals a transition, in the transaction that makes it.
pub async fn record_transition(tx: &mut Tx, t: &Transition<'_>) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into transition (at, account_id, resource_kind, resource_id, from_status, to_status, message, cause)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(t.at)
        .bind(t.account_id)
        .bind(t.resource_kind.as_str())
        .bind(t.resource_id)
        .bind(t.from)
        .bind(t.to)
        .bind(t.message)
        .bind(t.cause.as_str())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// A job as the emulator lists it.
#[derive(Debug, Clone, FromRow)]
pub struct JobInfo {
    pub id: String,
    pub kind: String,
    pub account_id: String,
    pub resource_id: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Jobs, oldest first, optionally of one account and in one state.
pub async fn list(
    tx: &mut Tx,
    account: Option<&str>,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<JobInfo>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_as(
            "select id, kind, account_id, resource_id, state, attempts, max_attempts, run_at, last_error, created_at, updated_at
             from job where ($1 is null or account_id = $1) and ($2 is null or state = $2)
             order by created_at, id limit $3",
        )
        .bind(account)
        .bind(state)
        .bind(limit)
        .fetch_all(&mut *c)
        .await
    })?)
}

/// A journaled transition as read back.
#[derive(Debug, Clone, FromRow)]
pub struct TransitionRow {
    pub seq: i64,
    pub at: i64,
    pub account_id: String,
    pub resource_kind: String,
    pub resource_id: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub message: Option<String>,
    pub cause: String,
}

/// What to read from the journal.
#[derive(Debug, Clone, Default)]
pub struct TransitionQuery {
    pub account_id: Option<String>,
    pub resource_kind: Option<String>,
    pub resource_id: Option<String>,
    /// Only transitions after this sequence number.
    pub after: i64,
    pub limit: i64,
}

/// Transitions in the order they happened.
pub async fn transitions(tx: &mut Tx, q: &TransitionQuery) -> Result<Vec<TransitionRow>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_as(
            "select seq, at, account_id, resource_kind, resource_id, from_status, to_status, message, cause
             from transition
             where seq > $1 and ($2 is null or account_id = $2) and ($3 is null or resource_kind = $3)
                 and ($4 is null or resource_id = $4)
             order by seq limit $5",
        )
        .bind(q.after)
        .bind(q.account_id.as_deref())
        .bind(q.resource_kind.as_deref())
        .bind(q.resource_id.as_deref())
        .bind(q.limit)
        .fetch_all(&mut *c)
        .await
    })?)
}

/// What `/metrics` reports of the job queue.
#[derive(Debug, Clone, Default)]
pub struct QueueStats {
    /// (kind, state, jobs).
    pub by_kind_and_state: Vec<(String, String, i64)>,
    /// The `run_at` (server clock) of the longest-waiting due pending job.
    pub oldest_due_run_at: Option<i64>,
    /// Running jobs whose claim expired before `real_now` (their worker died or hangs).
    pub expired_leases: i64,
}

/// The queue's shape for `/metrics`, at server time `now` and real time `real_now`.
pub async fn queue_stats(tx: &mut Tx, now: i64, real_now: i64) -> Result<QueueStats> {
    let by_kind_and_state: Vec<(String, String, i64)> = on_conn!(tx, |c| {
        sqlx::query_as("select kind, state, count(*) from job group by kind, state order by 1, 2")
            .fetch_all(&mut *c)
            .await
    })?;
    // Both read a range of one claim index (migration 0010).
    let oldest_due_run_at: Option<i64> = on_conn!(tx, |c| {
        sqlx::query_scalar("select min(run_at) from job where state = 'pending' and run_at <= $1")
            .bind(now)
            .fetch_one(&mut *c)
            .await
    })?;
    let expired_leases: i64 = on_conn!(tx, |c| {
        sqlx::query_scalar("select count(*) from job where state = 'running' and lease_until < $1")
            .bind(real_now)
            .fetch_one(&mut *c)
            .await
    })?;
    Ok(QueueStats {
        by_kind_and_state,
        oldest_due_run_at,
        expired_leases,
    })
}
