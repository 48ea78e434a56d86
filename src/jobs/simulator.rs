//! The built-in provisioner: a simulator of the platform and its carriers. It decides
//! each run of a job from the request's `Prefer` header, then the emulator's rule for
//! the job's kind (a fixed outcome, or a failure probability drawn from the seed), and
//! otherwise succeeds.

use sha2::{Digest, Sha256};

use crate::domain::lifecycle::{Cause, Outcome};
use crate::domain::prefer::Prefer;
use crate::store::emulator::Rule;
use crate::store::jobs::Job;

/// What the provisioner decided for one run of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Succeed; with the success outcome a preference or rule named, if one did
    /// (`INACTIVE` for a number whose documents are pending, say).
    Succeed(Option<Outcome>),
    /// Fail for good with this message.
    Fail(String),
    /// Fail transiently; the job is retried with backoff.
    Retry(String),
}

/// What decides the outcome of each kind of work (account feature, rename, and the
/// resources of later APIs). The engine calls it between the claim and the finish; an
/// implementation that talks to real systems returns `Retry` for transient faults.
pub trait Provisioner: Send + Sync + 'static {
    /// True when deciding under `rule` takes a random draw from the seeded sequence.
    fn needs_draw(&self, prefer: &Prefer, rule: Option<&Rule>) -> bool;

    /// Decides one run of `job` (attempt `job.attempts`, counting from 1).
    fn decide(
        &self,
        job: &Job,
        prefer: &Prefer,
        rule: Option<&Rule>,
        draw: Option<f64>,
    ) -> (Decision, Cause);

    /// True when emulator rules apply.
    fn honours_rules(&self) -> bool;
}

/// The built-in provisioner: the simulator. Rules are honoured only in emulator mode.
#[derive(Debug, Clone, Default)]
pub struct Simulator {
    pub emulator: bool,
}

/// The `n`th number in [0, 1) of the sequence of `seed`: the same seed and the same
/// order of work give the same outcomes.
pub fn draw(seed: u64, n: i64) -> f64 {
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(n.to_be_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

impl Provisioner for Simulator {
    fn honours_rules(&self) -> bool {
        self.emulator
    }

    fn needs_draw(&self, prefer: &Prefer, rule: Option<&Rule>) -> bool {
        self.emulator
            && prefer.retries.is_none()
            && prefer.outcome.is_none()
            && rule.is_some_and(|r| r.outcome.is_none() && r.failure_ppm > 0)
    }

    /// Decides the run of `job` (attempt `job.attempts`, counting from 1); `draw` is
    /// the random number the rule's failure probability compares with, if it needs one.
    fn decide(
        &self,
        job: &Job,
        prefer: &Prefer,
        rule: Option<&Rule>,
        draw: Option<f64>,
    ) -> (Decision, Cause) {
        if let Some(n) = prefer.retries
            && job.attempts <= n as i32
        {
            let why = format!(
                "simulated transient failure {} of {n} (Prefer: retries={n})",
                job.attempts
            );
            return (Decision::Retry(why), Cause::Prefer);
        }
        if let Some(o) = prefer.outcome {
            return if o.is_failure() {
                (
                    Decision::Fail(format!("simulated failure (Prefer: outcome={o})")),
                    Cause::Prefer,
                )
            } else {
                (Decision::Succeed(Some(o)), Cause::Prefer)
            };
        }
        if let Some(rule) = rule.filter(|_| self.emulator) {
            if let Some(o) = rule.outcome {
                return if o.is_failure() {
                    (
                        Decision::Fail(format!(
                            "simulated failure (rule for {}: outcome={o})",
                            rule.resource_kind
                        )),
                        Cause::Rule,
                    )
                } else {
                    (Decision::Succeed(Some(o)), Cause::Rule)
                };
            }
            if let Some(x) = draw
                && x * 1_000_000.0 < rule.failure_ppm as f64
            {
                let p = rule.failure_ppm as f64 / 1_000_000.0;
                return (
                    Decision::Fail(format!(
                        "simulated failure (rule for {}: failure probability {p})",
                        rule.resource_kind
                    )),
                    Cause::Rule,
                );
            }
        }
        (Decision::Succeed(None), Cause::Worker)
    }
}
