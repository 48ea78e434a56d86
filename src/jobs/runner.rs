//! Workers: claim a due job, let the provisioner decide, finish it under the fence.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::simulator::{Decision, Provisioner};
use super::{Cause, Ending, account, apply, number};
use crate::domain::lifecycle::JobKind;
use crate::store::emulator::Rule;

/// Ends a job as failed and applies that to its resource, if the claim still holds.
async fn fail(
    tx: &mut crate::store::Tx,
    job: &Job,
    why: String,
    cause: Cause,
    now: i64,
) -> Result<bool, StoreError> {
    let ok = store::jobs::finish(tx, job, Finish::Failed, Some(&why), now).await?;
    if ok {
        apply(tx, job, &Ending::Failed(why), cause, now).await?;
    }
    Ok(ok)
}

/// The most jobs a worker claims and finishes in one transaction each. Bounded so
/// that a batch's jobs finish well within their lease, and workers share a backlog.
const CLAIM_BATCH: i64 = 64;

/// The emulator state key of the random seed.
pub const SEED_KEY: &str = "seed";
use crate::clock::{Clock, real_now_ms};
use crate::store::jobs::{Finish, Job};
use crate::store::{self, Db, StoreError};

/// How jobs run.
#[derive(Debug, Clone, Copy)]
pub struct JobSettings {
    /// How long a claim lasts before another worker may take the job (real time).
    pub lease: Duration,
    /// Attempts before a transiently failing job fails for good.
    pub max_attempts: i32,
    /// The first retry's delay; each next one doubles, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How often an idle worker looks for due jobs (enqueues here wake it at once).
    pub poll: Duration,
    /// The simulated time each kind of work takes, unless asked otherwise.
    pub delays: super::Delays,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(10),
            max_attempts: 5,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            poll: Duration::from_millis(100),
            delays: super::Delays::default(),
        }
    }
}

struct Inner {
    db: Db,
    clock: Clock,
    settings: JobSettings,
    provisioner: Box<dyn Provisioner>,
    wake: Notify,
    errors: super::backoff::WorkerErrors,
}

/// The job engine of one server: shared by handlers (to wake workers) and workers.
#[derive(Clone)]
pub struct Jobs(Arc<Inner>);

impl Jobs {
    /// An engine on `db`.
    pub fn new(db: Db, clock: Clock, settings: JobSettings, provisioner: impl Provisioner) -> Self {
        Self(Arc::new(Inner {
            db,
            clock,
            settings,
            provisioner: Box::new(provisioner),
            wake: Notify::new(),
            errors: super::backoff::WorkerErrors::default(),
        }))
    }

    /// The engine's settings.
    pub fn settings(&self) -> JobSettings {
        self.0.settings
    }

    /// The workers' backend failures, for `/metrics`.
    pub fn worker_errors(&self) -> &super::backoff::WorkerErrors {
        &self.0.errors
    }

    /// Tells idle workers that a job was committed.
    pub fn wake(&self) {
        self.0.wake.notify_waiters();
    }

    /// Starts `n` workers that stop claiming once `stop` turns true; a job in hand is
    /// finished first.
    pub fn spawn_workers(&self, n: usize, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        (0..n)
            .map(|i| {
                let jobs = self.clone();
                let mut stop = stop.clone();
                tokio::spawn(async move {
                    tracing::debug!(worker = i, "job worker started");
                    let mut failures = 0u32;
                    while !*stop.borrow() {
                        match jobs.run_one().await {
                            Ok(ran) => {
                                failures = 0;
                                jobs.0.errors.succeeded();
                                if ran {
                                    continue;
                                }
                            }
                            Err(e) => {
                                failures = failures.saturating_add(1);
                                jobs.0.errors.failed(&e);
                                tokio::select! {
                                    _ = tokio::time::sleep(super::backoff::pause(failures)) => {}
                                    _ = stop.changed() => {}
                                }
                                continue;
                            }
                        }
                        let notified = jobs.0.wake.notified();
                        tokio::select! {
                            _ = notified => {}
                            _ = tokio::time::sleep(jobs.0.settings.poll) => {}
                            _ = stop.changed() => {}
                        }
                    }
                })
            })
            .collect()
    }

    /// Claims and runs a batch of due jobs; false when none was due.
    pub async fn run_one(&self) -> Result<bool, StoreError> {
        Ok(self.run_batch().await? > 0)
    }

    /// Claims up to [`CLAIM_BATCH`] due jobs in one transaction, decides each, and
    /// finishes them together in one more; returns how many it claimed.
    async fn run_batch(&self) -> Result<usize, StoreError> {
        let inner = &self.0;
        let real = real_now_ms();
        let mut tx = inner.db.write().await?;
        // A claim lost in a database crash only leaves the job pending, to be claimed
        // again: it need not wait for the flush. The finish below stays durable.
        tx.relax_durability().await?;
        let jobs = store::jobs::claim_many(
            &mut tx,
            inner.clock.now_ms(),
            real,
            real + inner.settings.lease.as_millis() as i64,
            CLAIM_BATCH,
        )
        .await?;
        // An idle poll changed nothing: it ends without a commit, which would move the
        // write epoch (and on PostgreSQL announce a write) for nothing.
        if jobs.is_empty() {
            return Ok(0);
        }
        tx.commit().await?;
        let n = jobs.len();
        self.process(jobs).await?;
        Ok(n)
    }

    /// Runs every due job, including those that become due through retries that are
    /// already due, until none is left; returns how many runs there were. For tests and
    /// the emulator's clock controls.
    pub async fn run_until_idle(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        loop {
            match self.run_batch().await? {
                0 => return Ok(n),
                ran => n += ran,
            }
        }
    }

    /// Runs every job to its end, moving the clock forward to each next due job (its
    /// simulated delay or retry backoff), never further; returns how many runs there
    /// were. What the emulator's "advance" does, and what tests use instead of sleeping.
    pub async fn run_until_settled(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        // Bounded: each round either runs a job or moves the clock to one.
        for _ in 0..100_000 {
            n += self.run_until_idle().await?;
            let mut tx = self.0.db.read().await?;
            let next = store::jobs::next_due(&mut tx).await?;
            drop(tx);
            match next {
                Some(at) => {
                    let now = self.0.clock.now_ms();
                    if at > now {
                        self.0.clock.advance(at - now);
                    }
                }
                None => break,
            }
        }
        Ok(n)
    }

    /// Decides each claimed job, then writes their ends in one transaction. If that
    /// transaction fails, each job is written in one of its own, so one job's failure
    /// does not hold back the others' (their claims would only expire and run again).
    async fn process(&self, jobs: Vec<Job>) -> Result<(), StoreError> {
        let mut rules = HashMap::new();
        let mut decided = Vec::with_capacity(jobs.len());
        for job in jobs {
            let (decision, cause) = self.decide(&job, &mut rules).await?;
            decided.push((job, decision, cause));
        }
        let now = self.0.clock.now_ms();
        if decided.len() > 1 {
            match self.settle_all(&decided, now).await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, jobs = decided.len(), "a batch of job ends failed; writing them one by one");
                }
            }
        }
        let mut first_error = None;
        for (job, decision, cause) in &decided {
            if let Err(e) = self
                .settle_all(
                    std::slice::from_ref(&(job.clone(), decision.clone(), *cause)),
                    now,
                )
                .await
            {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// What the provisioner decides for `job`; `rules` keeps the rules read for this
    /// batch, by kind.
    async fn decide(
        &self,
        job: &Job,
        rules: &mut HashMap<JobKind, Option<Rule>>,
    ) -> Result<(Decision, Cause), StoreError> {
        let inner = &self.0;
        let prefer = account::prefer_of(job);
        let rule = match job.kind() {
            Some(kind) if inner.provisioner.honours_rules() => {
                if let Some(rule) = rules.get(&kind) {
                    rule.clone()
                } else {
                    let mut tx = inner.db.read().await?;
                    let rule = store::emulator::rule(&mut tx, kind).await?;
                    rules.insert(kind, rule.clone());
                    rule
                }
            }
            _ => None,
        };
        let draw = if inner.provisioner.needs_draw(&prefer, rule.as_ref()) {
            let mut tx = inner.db.write().await?;
            let seed = store::emulator::state(&mut tx, SEED_KEY).await?;
            let n = store::emulator::next_draw(&mut tx).await?;
            tx.commit().await?;
            Some(super::simulator::draw(
                seed.and_then(|s| s.parse().ok()).unwrap_or(0),
                n,
            ))
        } else {
            None
        };
        Ok(if job.attempts > job.max_attempts {
            // Claimed again after crashes more often than it may be tried.
            (
                Decision::Fail(format!("gave up after {} attempts", job.max_attempts)),
                Cause::Worker,
            )
        } else {
            inner.provisioner.decide(job, &prefer, rule.as_ref(), draw)
        })
    }

    /// Writes the ends of `decided` jobs in one transaction. A job whose claim was lost
    /// (lease expired, or cancelled) writes nothing: its fenced update matched no row.
    /// Number activations that succeeded, the bulk of a backlog of adds, are written
    /// together: their jobs in one statement, their numbers' ends in one read and one
    /// write (`number::apply_succeeded`); the other ends one by one.
    async fn settle_all(
        &self,
        decided: &[(Job, Decision, Cause)],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.0.db.write().await?;
        store::jobs::take_settle_turn(&mut tx).await?;
        let (activations, others): (Vec<_>, Vec<_>) =
            decided.iter().partition(|(job, decision, _)| {
                job.kind() == Some(JobKind::NumberActivation)
                    && matches!(decision, Decision::Succeed(_))
            });
        if !activations.is_empty() {
            let jobs: Vec<&Job> = activations.iter().map(|(job, _, _)| job).collect();
            let kept: HashSet<String> = store::jobs::succeed_many(&mut tx, &jobs, now)
                .await?
                .into_iter()
                .collect();
            let mut ended = Vec::with_capacity(kept.len());
            for (job, decision, cause) in &activations {
                if !kept.contains(&job.id) {
                    tracing::info!(job = %job.id, "job claim lost; result discarded");
                } else if let Decision::Succeed(named) = decision {
                    ended.push((job, *named, *cause));
                }
            }
            number::apply_succeeded(&mut tx, &ended, now).await?;
        }
        for (job, decision, cause) in others {
            let kept = match decision.clone() {
                Decision::Succeed(named) => {
                    let ok =
                        store::jobs::finish(&mut tx, job, Finish::Succeeded, None, now).await?;
                    if ok {
                        apply(&mut tx, job, &Ending::Succeeded(named), *cause, now).await?;
                    }
                    ok
                }
                Decision::Retry(why) if job.attempts < job.max_attempts => {
                    let run_at = now + self.backoff(job.attempts).as_millis() as i64;
                    store::jobs::reschedule(&mut tx, job, run_at, &why, now).await?
                }
                // A transient failure on the last attempt ends the job; the message says so.
                Decision::Retry(why) => {
                    let why = format!("{why}; gave up after {} attempts", job.attempts);
                    fail(&mut tx, job, why, *cause, now).await?
                }
                Decision::Fail(why) => fail(&mut tx, job, why, *cause, now).await?,
            };
            if !kept {
                tracing::info!(job = %job.id, "job claim lost; result discarded");
            }
        }
        tx.commit().await
    }

    /// Exponential backoff with jitter: base * 2^(attempt-1), capped, ±25%.
    fn backoff(&self, attempt: i32) -> Duration {
        let s = &self.0.settings;
        let exp = s
            .base_backoff
            .saturating_mul(1u32 << attempt.clamp(1, 20).saturating_sub(1));
        let capped = exp.min(s.max_backoff);
        capped.mul_f64(rand::thread_rng().gen_range(0.75..=1.25))
    }
}
