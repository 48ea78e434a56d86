//! Creating, replacing and deleting voice elements.

use crate::clock::Clock;
use crate::domain::element::{Element, ElementBody, ElementStatus, ElementType};
use crate::domain::{AccountId, Code, ElementId, Violation};
use crate::jobs::element::{self as element_jobs, Change, ElementJob, ElementRef};
use crate::store::{self, Conflict, Db, StoreError, Tx};

use super::ServiceError;
use super::idempotency::{self as keys, Keyed};
use super::preconditions::{self, Precondition};
use crate::jobs::{Cause, Provisioning};

fn conflict(e: StoreError, t: ElementType) -> ServiceError {
    match e {
        StoreError::Conflict(Conflict::ElementType) => ServiceError::Conflict {
            detail: format!(
                "Only one instance of {} element can be created for an account.",
                match t {
                    ElementType::Aco => "Avaya Cloud Office",
                    ElementType::MsTeams => "Microsoft Teams",
                }
            ),
            violations: Vec::new(),
        },
        StoreError::Conflict(Conflict::ElementName) => ServiceError::Conflict {
            detail: "A resource with the same unique constraint values already exists.".to_owned(),
            violations: vec![Violation::new(
                "name",
                Code::Duplicate,
                t.name_taken_message(),
            )],
        },
        e => e.into(),
    }
}

/// Either finishes the write at once (the seed's default: the 202 shows SUCCESS), or
/// leaves the element IN_PROGRESS with a job that decides it.
async fn provision(
    tx: &mut Tx,
    account: &AccountId,
    element: &Element,
    from: Option<ElementStatus>,
    generation: i64,
    p: &Provisioning,
    now: i64,
) -> Result<(), ServiceError> {
    let e = ElementRef {
        account,
        element_type: element.element_type,
        id: &element.element_id,
    };
    let change = Change {
        from: from.map(ElementStatus::as_str),
        to: element.status.as_str(),
        message: None,
        cause: Cause::Request,
    };
    element_jobs::journal(tx, e, change, now).await?;
    if element.status == ElementStatus::InProgress {
        let schedule = p.schedule(element_jobs::kind(element.element_type), now);
        let job = ElementJob {
            generation,
            prefer: p.prefer.clone(),
        };
        element_jobs::start(tx, e, job, schedule, now).await?;
    } else {
        // A finished write supersedes whatever an earlier one left running.
        store::jobs::cancel_for(tx, account, &element.element_id, now).await?;
    }
    Ok(())
}

fn initial_status(p: &Provisioning, t: ElementType) -> ElementStatus {
    if p.is_immediate(element_jobs::kind(t)) {
        ElementStatus::Success
    } else {
        ElementStatus::InProgress
    }
}

/// Creates an element of type `t` in `account`.
pub async fn create(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    t: ElementType,
    body: ElementBody,
    p: &Provisioning,
    keyed: Option<&Keyed<'_, Element>>,
) -> Result<Element, ServiceError> {
    let now = clock.now_ms();
    let element = Element {
        element_id: ElementId::generate().to_string(),
        element_type: t,
        body,
        status: initial_status(p, t),
        status_message: None,
    };
    let mut tx = db.write().await?;
    keys::reserve(&mut tx, keyed).await?;
    store::elements::insert(&mut tx, account, &element, now)
        .await
        .map_err(|e| conflict(e, t))?;
    provision(&mut tx, account, &element, None, 1, p, now).await?;
    keys::complete(&mut tx, keyed, &element).await?;
    tx.commit().await?;
    Ok(element)
}

/// Replaces element `id` (the spec's complete replacement).
// The request's parts, each its own type; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub async fn replace(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    t: ElementType,
    id: &ElementId,
    body: ElementBody,
    p: &Provisioning,
    pre: Option<&dyn Precondition>,
) -> Result<Element, ServiceError> {
    let now = clock.now_ms();
    let mut tx = db.write().await?;
    preconditions::check(&mut tx, pre).await?;
    let Some((current, _)) = store::elements::get(&mut tx, account, t, id).await? else {
        return Err(not_found(t, id));
    };
    let previous = current.status;
    let element = Element {
        body,
        status: initial_status(p, t),
        status_message: None,
        ..current
    };
    let generation = store::elements::replace(&mut tx, account, &element, now)
        .await
        .map_err(|e| conflict(e, t))?
        .ok_or_else(|| not_found(t, id))?;
    provision(
        &mut tx,
        account,
        &element,
        Some(previous),
        generation,
        p,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(element)
}

/// Deletes element `id`, cancelling its unfinished work.
pub async fn delete(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    t: ElementType,
    id: &ElementId,
    pre: Option<&dyn Precondition>,
) -> Result<(), ServiceError> {
    let now = clock.now_ms();
    let mut tx = db.write().await?;
    preconditions::check(&mut tx, pre).await?;
    if !store::elements::delete(&mut tx, account, t, id).await? {
        return Err(not_found(t, id));
    }
    store::jobs::cancel_for(&mut tx, account, id.as_str(), now).await?;
    let e = ElementRef {
        account,
        element_type: t,
        id: id.as_str(),
    };
    let change = Change {
        from: None,
        to: "DELETED",
        message: None,
        cause: Cause::Request,
    };
    element_jobs::journal(&mut tx, e, change, now).await?;
    tx.commit().await?;
    Ok(())
}

/// 404 for an element.
pub fn not_found(t: ElementType, id: &ElementId) -> ServiceError {
    ServiceError::NotFound {
        what: match t {
            ElementType::Aco => "Avaya Cloud Office element",
            ElementType::MsTeams => "MS Teams element",
        },
        key: "elementId",
        id: id.to_string(),
    }
}
