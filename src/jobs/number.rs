//! Number jobs: activating a number an account added.

use serde::{Deserialize, Serialize};

use super::{Cause, Ending, JobKind};
use crate::domain::lifecycle::Outcome;
use crate::domain::number::{NumberStatus, NumberType, VERIFICATION_MESSAGE};
use crate::domain::prefer::Prefer;
use crate::domain::{AccountId, PhoneNumberId};
use crate::store::jobs::{Job, Transition};
use crate::store::numbers::{ActivationEnd, ActivationTarget};
use crate::store::{self, StoreError, Tx};

use super::Schedule;

/// The payload of an activation job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActivationJob {
    pub generation: i64,
    #[serde(default)]
    pub prefer: Prefer,
}

/// A status change of a number, for the journal.
pub async fn journal(
    tx: &mut Tx,
    account: &AccountId,
    id: &str,
    change: (Option<NumberStatus>, NumberStatus, Option<&str>),
    cause: Cause,
    now: i64,
) -> Result<(), StoreError> {
    let (from, to, message) = change;
    store::jobs::record_transition(
        tx,
        &Transition {
            at: now,
            account_id: account.as_str(),
            resource_kind: JobKind::NumberActivation,
            resource_id: id,
            from: from.map(NumberStatus::as_str),
            to: to.as_str(),
            message,
            cause,
        },
    )
    .await
}

/// Enqueues the activation of number `id`.
pub async fn start(
    tx: &mut Tx,
    account: &AccountId,
    id: &str,
    job: ActivationJob,
    schedule: Schedule,
    now: i64,
) -> Result<(), StoreError> {
    super::enqueue(
        tx,
        JobKind::NumberActivation,
        account,
        id,
        &job,
        schedule,
        now,
    )
    .await?;
    Ok(())
}

/// The activation job of number `id`, to enqueue with the add that needs it.
pub fn activation(
    account: &AccountId,
    id: &str,
    job: &ActivationJob,
    schedule: Schedule,
) -> Result<store::jobs::NewJob, StoreError> {
    Ok(store::jobs::NewJob {
        kind: JobKind::NumberActivation,
        account_id: account.clone(),
        resource_id: id.to_owned(),
        payload: serde_json::to_value(job)?,
        run_at: schedule.run_at,
        max_attempts: schedule.max_attempts,
    })
}

/// The activation's end: ACTIVE, or INACTIVE with the spec's message when the
/// inventory entry says documents are needed (or a preference/rule names INACTIVE),
/// or FAILED. The type comes from the inventory entry.
pub(super) async fn apply(
    tx: &mut Tx,
    job: &Job,
    ending: &Ending,
    cause: Cause,
    now: i64,
) -> Result<(), StoreError> {
    let payload: ActivationJob = serde_json::from_value(job.payload.clone())?;
    // A number's job names it by its id, so one that is not an id has no number.
    let Some(id) = PhoneNumberId::parse(&job.resource_id) else {
        return Ok(());
    };
    // The number and its inventory entry in one read, the end and its journal entry
    // in one write (`store::numbers::activation_target`, `end_activation`).
    let Some(target) = store::numbers::activation_target(tx, &job.account_id, &id).await? else {
        return Ok(());
    };
    let (status, number_type, message) = end_of(&target, ending);
    store::numbers::end_activation(
        tx,
        &job.account_id,
        &id,
        payload.generation,
        (status, number_type, message),
        (JobKind::NumberActivation, cause),
        now,
    )
    .await?;
    Ok(())
}

/// The end an activation writes: ACTIVE, or INACTIVE with the spec's message when the
/// inventory entry says documents are needed (or a preference/rule names INACTIVE), or
/// FAILED; the type from the inventory entry.
fn end_of<'a>(
    target: &ActivationTarget,
    ending: &'a Ending,
) -> (NumberStatus, NumberType, Option<&'a str>) {
    let number_type = target.entry.map(|(t, _)| t).unwrap_or(NumberType::Unknown);
    let needs_documents = target.entry.is_some_and(|(_, required)| required);
    let (status, message) = match ending {
        Ending::Failed(why) => (NumberStatus::Failed, Some(why.as_str())),
        Ending::Succeeded(Some(Outcome::Inactive)) => {
            (NumberStatus::Inactive, Some(VERIFICATION_MESSAGE))
        }
        Ending::Succeeded(Some(Outcome::Active)) => (NumberStatus::Active, None),
        Ending::Succeeded(_) if needs_documents => {
            (NumberStatus::Inactive, Some(VERIFICATION_MESSAGE))
        }
        Ending::Succeeded(_) => (NumberStatus::Active, None),
    };
    (status, number_type, message)
}

/// Applies the successes of several activation jobs (each job already finished under
/// its fence), as [`apply`] does one by one: their numbers' targets in one read, their
/// ends and journal entries in one write. A job whose number went (released, or the
/// account deleted) or moved on (another generation, already ended) changes nothing.
pub(super) async fn apply_succeeded(
    tx: &mut Tx,
    jobs: &[(&Job, Option<Outcome>, Cause)],
    now: i64,
) -> Result<(), StoreError> {
    let mut parsed = Vec::with_capacity(jobs.len());
    for (job, named, cause) in jobs {
        let payload: ActivationJob = serde_json::from_value(job.payload.clone())?;
        // A number's job names it by its id, so one that is not an id has no number.
        if let Some(id) = PhoneNumberId::parse(&job.resource_id) {
            parsed.push((
                *job,
                id,
                payload.generation,
                Ending::Succeeded(*named),
                *cause,
            ));
        }
    }
    let ids: Vec<_> = parsed
        .iter()
        .map(|(job, id, ..)| (&job.account_id, id))
        .collect();
    let targets = store::numbers::activation_targets(tx, &ids).await?;
    let mut ends = Vec::with_capacity(parsed.len());
    for (job, id, generation, ending, cause) in &parsed {
        let key = (job.account_id.as_str().to_owned(), id.as_str().to_owned());
        let Some(target) = targets.get(&key) else {
            continue;
        };
        let (status, number_type, message) = end_of(target, ending);
        ends.push(ActivationEnd {
            account: &job.account_id,
            id,
            generation: *generation,
            status,
            number_type,
            message,
            cause: *cause,
        });
    }
    store::numbers::end_activations(tx, &ends, now).await?;
    Ok(())
}
