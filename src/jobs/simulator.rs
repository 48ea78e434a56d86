//! The built-in provisioner: a simulator of the platform and its carriers. It decides
//! each job's outcome from the request's `Prefer` header; everything else succeeds.

use crate::domain::prefer::Prefer;
use crate::store::jobs::Job;

/// What the provisioner decided for one run of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Succeed,
    /// Fail for good with this message.
    Fail(String),
    /// Fail transiently; the job is retried with backoff.
    Retry(String),
}

/// The simulator.
#[derive(Debug, Clone, Default)]
pub struct Simulator;

impl Simulator {
    /// Decides the run of `job` (attempt `job.attempts`, counting from 1).
    pub fn decide(&self, job: &Job, prefer: &Prefer) -> Decision {
        if let Some(n) = prefer.retries
            && job.attempts <= n as i32
        {
            return Decision::Retry(format!(
                "simulated transient failure {} of {n} (Prefer: retries={n})",
                job.attempts
            ));
        }
        match prefer.outcome.as_deref() {
            Some(o) if is_failure(o) => {
                Decision::Fail(format!("simulated failure (Prefer: outcome={o})"))
            }
            _ => Decision::Succeed,
        }
    }
}

/// Outcomes that end a resource in failure.
fn is_failure(outcome: &str) -> bool {
    matches!(outcome, "FAILED" | "DELETE_FAILED")
}
