//! Element jobs: configuring an Avaya Cloud Office or Microsoft Teams element.

use serde::{Deserialize, Serialize};

use super::Outcome;
use crate::domain::AccountId;
use crate::domain::element::{ElementStatus, ElementType};
use crate::domain::prefer::Prefer;
use crate::store::jobs::{Job, NewJob, Transition};
use crate::store::{self, StoreError, Tx};

/// Configures an Avaya Cloud Office element.
pub const ACO: &str = "voice.aco";
/// Configures a Microsoft Teams element.
pub const MSTEAMS: &str = "voice.msteams";

/// The job kind of an element type.
pub fn kind(t: ElementType) -> &'static str {
    match t {
        ElementType::Aco => ACO,
        ElementType::MsTeams => MSTEAMS,
    }
}

/// The payload of an element job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ElementJob {
    pub generation: i64,
    #[serde(default)]
    pub prefer: Prefer,
}

/// Journals an element's status change.
pub async fn journal(
    tx: &mut Tx,
    account: &AccountId,
    t: ElementType,
    id: &str,
    from: Option<&str>,
    to: &str,
    message: Option<&str>,
    cause: &str,
    now: i64,
) -> Result<(), StoreError> {
    store::jobs::record_transition(
        tx,
        &Transition {
            at: now,
            account_id: account.as_str(),
            resource_kind: kind(t),
            resource_id: id,
            from,
            to,
            message,
            cause,
        },
    )
    .await
}

/// Supersedes unfinished work on the element and enqueues the configuration of
/// generation `job.generation`.
pub async fn start(
    tx: &mut Tx,
    account: &AccountId,
    t: ElementType,
    id: &str,
    job: ElementJob,
    run_at: i64,
    max_attempts: i32,
    now: i64,
) -> Result<(), StoreError> {
    store::jobs::cancel_for(tx, account, id, now).await?;
    store::jobs::enqueue(
        tx,
        &NewJob {
            kind: kind(t).to_owned(),
            account_id: account.clone(),
            resource_id: id.to_owned(),
            payload: serde_json::to_value(&job)?,
            run_at,
            max_attempts,
        },
        now,
    )
    .await?;
    Ok(())
}

pub(super) async fn apply(
    tx: &mut Tx,
    job: &Job,
    t: ElementType,
    outcome: &Outcome,
    cause: &str,
    now: i64,
) -> Result<(), StoreError> {
    let payload: ElementJob = serde_json::from_value(job.payload.clone())?;
    let (status, message) = match outcome {
        Outcome::Succeeded => (ElementStatus::Success, None),
        Outcome::Failed(why) => (ElementStatus::Failed, Some(why.as_str())),
    };
    if store::elements::finish(
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
        journal(
            tx,
            &job.account_id,
            t,
            &job.resource_id,
            Some(ElementStatus::InProgress.as_str()),
            status.as_str(),
            message,
            cause,
            now,
        )
        .await?;
    }
    Ok(())
}
