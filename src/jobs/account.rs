//! Account jobs: provisioning one feature change, and propagating a rename.

use serde::{Deserialize, Serialize};

use super::{Cause, Ending, JobKind, Schedule};
use crate::domain::AccountId;
use crate::domain::feature::{Action, Feature, FeatureAction, Status, status_str};
use crate::domain::prefer::Prefer;
use crate::store::jobs::{Job, Transition};
use crate::store::{self, StoreError, Tx};

/// The payload of a feature job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeatureJob {
    pub feature: Feature,
    pub action: Action,
    pub generation: i64,
    #[serde(default)]
    pub prefer: Prefer,
}

/// The payload of a rename job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenameJob {
    pub generation: i64,
    #[serde(default)]
    pub prefer: Prefer,
}

fn feature_resource(f: Feature) -> String {
    format!("features.{f}")
}

/// Starts provisioning a feature change: supersedes any unfinished job on the feature,
/// marks it in progress, journals that, and enqueues the job.
pub async fn start_feature(
    tx: &mut Tx,
    account: &AccountId,
    job: FeatureJob,
    schedule: Schedule,
    now: i64,
) -> Result<(), StoreError> {
    let resource = feature_resource(job.feature);
    store::jobs::cancel_for(tx, account, &resource, now).await?;
    let previous = store::accounts::feature_statuses(tx, account)
        .await?
        .remove(&job.feature);
    let status = FeatureAction::in_progress(job.action);
    store::accounts::set_feature_status(tx, account, job.feature, &status, job.generation, now)
        .await?;
    store::jobs::record_transition(
        tx,
        &Transition {
            at: now,
            account_id: account.as_str(),
            resource_kind: JobKind::AccountFeature,
            resource_id: &resource,
            from: previous.as_ref().map(|(p, _)| status_str(p.status)),
            to: status_str(status.status),
            message: Some(&status.message),
            cause: Cause::Request,
        },
    )
    .await?;
    super::enqueue(
        tx,
        JobKind::AccountFeature,
        account,
        &resource,
        &job,
        schedule,
        now,
    )
    .await?;
    Ok(())
}

/// Starts propagating a rename, superseding an unfinished one.
pub async fn start_rename(
    tx: &mut Tx,
    account: &AccountId,
    job: RenameJob,
    schedule: Schedule,
    now: i64,
) -> Result<(), StoreError> {
    store::jobs::cancel_for(tx, account, "name", now).await?;
    store::jobs::record_transition(
        tx,
        &Transition {
            at: now,
            account_id: account.as_str(),
            resource_kind: JobKind::AccountRename,
            resource_id: "name",
            from: None,
            to: status_str(Status::InProgress),
            message: None,
            cause: Cause::Request,
        },
    )
    .await?;
    super::enqueue(
        tx,
        JobKind::AccountRename,
        account,
        "name",
        &job,
        schedule,
        now,
    )
    .await?;
    Ok(())
}

/// The preference a job was started with.
pub fn prefer_of(job: &Job) -> Prefer {
    job.payload
        .get("prefer")
        .cloned()
        .and_then(|p| serde_json::from_value(p).ok())
        .unwrap_or_default()
}

pub(super) async fn apply_feature(
    tx: &mut Tx,
    job: &Job,
    ending: &Ending,
    cause: Cause,
    now: i64,
) -> Result<(), StoreError> {
    let payload: FeatureJob = serde_json::from_value(job.payload.clone())?;
    let status = match ending {
        Ending::Succeeded(_) => FeatureAction::completed(payload.action),
        Ending::Failed(_) => FeatureAction::failed(payload.action),
    };
    // A later operation may have taken the feature over; then this result is stale.
    if store::accounts::finish_feature(
        tx,
        &job.account_id,
        payload.feature,
        &status,
        payload.generation,
        now,
    )
    .await?
    {
        let detail = match ending {
            Ending::Failed(why) => format!("{}: {why}", status.message),
            Ending::Succeeded(_) => status.message.clone(),
        };
        store::jobs::record_transition(
            tx,
            &Transition {
                at: now,
                account_id: job.account_id.as_str(),
                resource_kind: JobKind::AccountFeature,
                resource_id: &job.resource_id,
                from: Some(status_str(
                    FeatureAction::in_progress(payload.action).status,
                )),
                to: status_str(status.status),
                message: Some(&detail),
                cause,
            },
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn apply_rename(
    tx: &mut Tx,
    job: &Job,
    ending: &Ending,
    cause: Cause,
    now: i64,
) -> Result<(), StoreError> {
    let payload: RenameJob = serde_json::from_value(job.payload.clone())?;
    let status = match ending {
        Ending::Succeeded(_) => Status::Completed,
        Ending::Failed(_) => Status::Failed,
    };
    if store::accounts::finish_rename(tx, &job.account_id, status, payload.generation, now).await? {
        let message = match ending {
            Ending::Failed(why) => Some(why.as_str()),
            Ending::Succeeded(_) => None,
        };
        store::jobs::record_transition(
            tx,
            &Transition {
                at: now,
                account_id: job.account_id.as_str(),
                resource_kind: JobKind::AccountRename,
                resource_id: "name",
                from: Some(status_str(Status::InProgress)),
                to: status_str(status),
                message,
                cause,
            },
        )
        .await?;
    }
    Ok(())
}
