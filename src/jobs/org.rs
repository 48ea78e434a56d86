//! Organization node jobs: provisioning an added or updated node.

use serde::{Deserialize, Serialize};

use super::Schedule;
use super::{Cause, Ending, JobKind};
use crate::domain::AccountId;
use crate::domain::feature::{Action, IN_PROGRESS_MESSAGE, Status, status_str};
use crate::domain::prefer::Prefer;
use crate::store::jobs::{Job, Transition};
use crate::store::{self, StoreError, Tx};

/// The payload of a node job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeJob {
    pub generation: i64,
    pub action: Action,
    #[serde(default)]
    pub prefer: Prefer,
}

/// Journals a node's status change.
pub async fn journal(
    tx: &mut Tx,
    account: &AccountId,
    id: &str,
    to: Status,
    message: &str,
    cause: Cause,
    now: i64,
) -> Result<(), StoreError> {
    store::jobs::record_transition(
        tx,
        &Transition {
            at: now,
            account_id: account.as_str(),
            resource_kind: JobKind::OrgNode,
            resource_id: id,
            from: (to != Status::InProgress).then_some(status_str(Status::InProgress)),
            to: status_str(to),
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
        Status::InProgress,
        IN_PROGRESS_MESSAGE,
        Cause::Request,
        now,
    )
    .await?;
    super::enqueue(tx, JobKind::OrgNode, account, id, &job, schedule, now).await?;
    Ok(())
}

pub(super) async fn apply(
    tx: &mut Tx,
    job: &Job,
    ending: &Ending,
    cause: Cause,
    now: i64,
) -> Result<(), StoreError> {
    let payload: NodeJob = serde_json::from_value(job.payload.clone())?;
    // The seeds' words: "Completed successfully" / "Operation failed".
    let (status, message) = match ending {
        Ending::Succeeded(_) => (Status::Completed, "Completed successfully"),
        Ending::Failed(_) => (Status::Failed, "Operation failed"),
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
        let detail = match ending {
            Ending::Failed(why) => format!("{message}: {why}"),
            Ending::Succeeded(_) => message.to_owned(),
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
