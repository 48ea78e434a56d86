//! Organization node jobs: provisioning an added or updated node.

use serde::{Deserialize, Serialize};

use super::Outcome;
use super::account::Schedule;
use crate::domain::AccountId;
use crate::domain::feature::IN_PROGRESS_MESSAGE;
use crate::domain::prefer::Prefer;
use crate::store::jobs::{Job, Transition};
use crate::store::{self, StoreError, Tx};

/// Provisions an organization node.
pub const NODE: &str = "org.node";

/// The payload of a node job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeJob {
    pub generation: i64,
    pub action: String,
    #[serde(default)]
    pub prefer: Prefer,
}

/// Journals a node's status change.
pub async fn journal(
    tx: &mut Tx,
    account: &AccountId,
    id: &str,
    to: &str,
    message: &str,
    cause: &str,
    now: i64,
) -> Result<(), StoreError> {
    store::jobs::record_transition(
        tx,
        &Transition {
            at: now,
            account_id: account.as_str(),
            resource_kind: NODE,
            resource_id: id,
            from: (to != "IN_PROGRESS").then_some("IN_PROGRESS"),
            to,
            message: Some(message),
            cause,
        },
    )
    .await
}

/// Supersedes unfinished work on the node and enqueues its provisioning.
pub async fn start(
    tx: &mut Tx,
    account: &AccountId,
    id: &str,
    job: NodeJob,
    schedule: Schedule,
    now: i64,
) -> Result<(), StoreError> {
    store::jobs::cancel_for(tx, account, id, now).await?;
    journal(
        tx,
        account,
        id,
        "IN_PROGRESS",
        IN_PROGRESS_MESSAGE,
        "request",
        now,
    )
    .await?;
    super::enqueue(tx, NODE, account, id, &job, schedule, now).await?;
    Ok(())
}

pub(super) async fn apply(
    tx: &mut Tx,
    job: &Job,
    outcome: &Outcome,
    cause: &str,
    now: i64,
) -> Result<(), StoreError> {
    let payload: NodeJob = serde_json::from_value(job.payload.clone())?;
    // The seeds' words: "Completed successfully" / "Operation failed".
    let (status, message) = match outcome {
        Outcome::Succeeded(_) => ("COMPLETED", "Completed successfully"),
        Outcome::Failed(_) => ("FAILED", "Operation failed"),
    };
    if store::org::finish_node(
        tx,
        &job.account_id,
        &job.resource_id,
        payload.generation,
        status,
        message,
        now,
    )
    .await?
    {
        let detail = match outcome {
            Outcome::Failed(why) => format!("{message}: {why}"),
            Outcome::Succeeded(_) => message.to_owned(),
        };
        journal(
            tx,
            &job.account_id,
            &job.resource_id,
            status,
            &detail,
            cause,
            now,
        )
        .await?;
    }
    Ok(())
}
