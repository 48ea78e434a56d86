//! The durable asynchronous engine: jobs written with the resource change that needs
//! them, claimed by workers under a lease, decided by a provisioner, and finished
//! under a fence so that each job makes exactly one terminal transition.

pub mod account;
pub mod backoff;
pub mod element;
pub mod number;
pub mod org;
pub mod runner;
pub mod schedule;
pub mod simulator;

pub use crate::domain::lifecycle::{Cause, JobKind};
pub use runner::{JobSettings, Jobs};
pub use schedule::{Delays, Provisioning, Schedule};
pub use simulator::{Decision, Provisioner, Simulator};

use crate::domain::element::ElementType;
use crate::domain::lifecycle::Outcome;
use crate::store::{StoreError, Tx, jobs::Job};

/// Enqueues a job of `kind` on a resource of `account`, in the caller's transaction.
pub async fn enqueue(
    tx: &mut Tx,
    kind: JobKind,
    account: &crate::domain::AccountId,
    resource_id: &str,
    payload: &impl serde::Serialize,
    schedule: Schedule,
    now: i64,
) -> Result<(), StoreError> {
    let job = crate::store::jobs::NewJob {
        kind,
        account_id: account.clone(),
        resource_id: resource_id.to_owned(),
        payload: serde_json::to_value(payload)?,
        run_at: schedule.run_at,
        max_attempts: schedule.max_attempts,
    };
    crate::store::jobs::enqueue(tx, &job, now).await?;
    Ok(())
}

/// How a job ended, as the provisioner decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The work is done; with the success outcome a preference or rule named, if any.
    Succeeded(Option<Outcome>),
    /// The work failed for good; the message says why.
    Failed(String),
}

/// Applies a job's ending to its resource, in the transaction that finishes
/// the job. Unknown kinds (a newer version's jobs seen by an older binary) fail.
pub async fn apply(
    tx: &mut Tx,
    job: &Job,
    ending: &Ending,
    cause: Cause,
    now: i64,
) -> Result<(), StoreError> {
    let Some(kind) = job.kind() else {
        tracing::error!(kind = %job.kind, job = %job.id, "a job of unknown kind was failed");
        return Ok(());
    };
    match kind {
        JobKind::AccountFeature => account::apply_feature(tx, job, ending, cause, now).await,
        JobKind::AccountRename => account::apply_rename(tx, job, ending, cause, now).await,
        JobKind::VoiceAco => element::apply(tx, job, ElementType::Aco, ending, cause, now).await,
        JobKind::VoiceMsTeams => {
            element::apply(tx, job, ElementType::MsTeams, ending, cause, now).await
        }
        JobKind::NumberActivation => number::apply(tx, job, ending, cause, now).await,
        JobKind::OrgNode => org::apply(tx, job, ending, cause, now).await,
    }
}
