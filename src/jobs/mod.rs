//! The durable asynchronous engine: jobs written with the resource change that needs
//! them, claimed by workers under a lease, decided by a provisioner, and finished
//! under a fence so that each job makes exactly one terminal transition.

pub mod account;
pub mod backoff;
pub mod element;
pub mod number;
pub mod org;
pub mod runner;
pub mod simulator;

pub use runner::{JobSettings, Jobs};
pub use simulator::{Decision, Provisioner, Simulator};

use crate::domain::element::ElementType;
use crate::store::{StoreError, Tx, jobs::Job};

/// Every job kind and the outcomes a rule or `Prefer` may name for it. Emulator rules
/// are keyed by these kinds.
pub const KINDS: [(&str, &[&str]); 6] = [
    (account::FEATURE, &["COMPLETED", "FAILED"]),
    (account::RENAME, &["COMPLETED", "FAILED"]),
    (element::ACO, &["SUCCESS", "FAILED"]),
    (element::MSTEAMS, &["SUCCESS", "FAILED"]),
    (number::ACTIVATION, &["ACTIVE", "INACTIVE", "FAILED"]),
    (org::NODE, &["COMPLETED", "FAILED"]),
];

/// Enqueues a job of `kind` on a resource of `account`, in the caller's transaction.
pub async fn enqueue(
    tx: &mut Tx,
    kind: &str,
    account: &crate::domain::AccountId,
    resource_id: &str,
    payload: &impl serde::Serialize,
    schedule: account::Schedule,
    now: i64,
) -> Result<(), StoreError> {
    let job = crate::store::jobs::NewJob {
        kind: kind.to_owned(),
        account_id: account.clone(),
        resource_id: resource_id.to_owned(),
        payload: serde_json::to_value(payload)?,
        run_at: schedule.run_at,
        max_attempts: schedule.max_attempts,
    };
    crate::store::jobs::enqueue(tx, &job, now).await?;
    Ok(())
}

/// How one run of a job ended, as the provisioner decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The work is done; with the success outcome a preference or rule named, if any.
    Succeeded(Option<String>),
    /// The work failed for good; the message says why.
    Failed(String),
}

/// Applies a job's terminal outcome to its resource, in the transaction that finishes
/// the job. Unknown kinds (a newer version's jobs seen by an older binary) fail.
pub async fn apply(
    tx: &mut Tx,
    job: &Job,
    outcome: &Outcome,
    cause: &str,
    now: i64,
) -> Result<(), StoreError> {
    match job.kind.as_str() {
        account::FEATURE => account::apply_feature(tx, job, outcome, cause, now).await,
        account::RENAME => account::apply_rename(tx, job, outcome, cause, now).await,
        element::ACO => element::apply(tx, job, ElementType::Aco, outcome, cause, now).await,
        element::MSTEAMS => {
            element::apply(tx, job, ElementType::MsTeams, outcome, cause, now).await
        }
        number::ACTIVATION => number::apply(tx, job, outcome, cause, now).await,
        org::NODE => org::apply(tx, job, outcome, cause, now).await,
        other => {
            tracing::error!(kind = other, job = %job.id, "a job of unknown kind was failed");
            Ok(())
        }
    }
}
