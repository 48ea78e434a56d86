//! Element jobs: configuring an Avaya Cloud Office or Microsoft Teams element.

use serde::{Deserialize, Serialize};

use super::Schedule;
use super::{Cause, Ending, JobKind};
use crate::domain::element::{ElementStatus, ElementType};
use crate::domain::prefer::Prefer;
use crate::domain::{AccountId, ElementId};
use crate::store::jobs::{Job, Transition};
use crate::store::{self, StoreError, Tx};

/// The job kind of an element type.
pub fn kind(t: ElementType) -> JobKind {
    match t {
        ElementType::Aco => JobKind::VoiceAco,
        ElementType::MsTeams => JobKind::VoiceMsTeams,
    }
}

/// The payload of an element job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ElementJob {
    pub generation: i64,
    #[serde(default)]
    pub prefer: Prefer,
}

/// Which element a change is about.
#[derive(Debug, Clone, Copy)]
pub struct ElementRef<'a> {
    pub account: &'a AccountId,
    pub element_type: ElementType,
    pub id: &'a str,
}

/// A status change of an element, for the journal.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub message: Option<&'a str>,
    pub cause: Cause,
}

/// Journals an element's status change.
pub async fn journal(
    tx: &mut Tx,
    e: ElementRef<'_>,
    change: Change<'_>,
    now: i64,
) -> Result<(), StoreError> {
    store::jobs::record_transition(
        tx,
        &Transition {
            at: now,
            account_id: e.account.as_str(),
            resource_kind: kind(e.element_type),
            resource_id: e.id,
            from: change.from,
            to: change.to,
            message: change.message,
            cause: change.cause,
        },
    )
    .await
}

/// Supersedes unfinished work on the element and enqueues the configuration of
/// generation `job.generation`.
pub async fn start(
    tx: &mut Tx,
    e: ElementRef<'_>,
    job: ElementJob,
    schedule: Schedule,
    now: i64,
) -> Result<(), StoreError> {
    store::jobs::cancel_for(tx, e.account, e.id, now).await?;
    super::enqueue(
        tx,
        kind(e.element_type),
        e.account,
        e.id,
        &job,
        schedule,
        now,
    )
    .await?;
    Ok(())
}

pub(super) async fn apply(
    tx: &mut Tx,
    job: &Job,
    t: ElementType,
    ending: &Ending,
    cause: Cause,
    now: i64,
) -> Result<(), StoreError> {
    let payload: ElementJob = serde_json::from_value(job.payload.clone())?;
    let (status, message) = match ending {
        Ending::Succeeded(_) => (ElementStatus::Success, None),
        Ending::Failed(why) => (ElementStatus::Failed, Some(why.as_str())),
    };
    // An element's job names it by its id, so one that is not an id has no element.
    let Some(id) = ElementId::parse(&job.resource_id) else {
        return Ok(());
    };
    if store::elements::finish(
        tx,
        &job.account_id,
        &id,
        payload.generation,
        status,
        message,
        now,
    )
    .await?
    {
        let e = ElementRef {
            account: &job.account_id,
            element_type: t,
            id: &job.resource_id,
        };
        let change = Change {
            from: Some(ElementStatus::InProgress.as_str()),
            to: status.as_str(),
            message,
            cause,
        };
        journal(tx, e, change, now).await?;
    }
    Ok(())
}
