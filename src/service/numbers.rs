//! Adding, changing, releasing, disabling and verifying phone numbers.

use crate::clock::Clock;
use crate::domain::number::{
    NUMBER_MAX_LEN, NewPhoneNumber, NumberSettings, NumberStatus, NumberType, PhoneNumber,
    not_available,
};
use crate::domain::phone::E164;
use crate::domain::{AccountId, Code, PhoneNumberId, Violation};
use crate::jobs::number::{self as number_jobs, ActivationJob};
use crate::store::{self, Conflict, Db, StoreError};

use super::ServiceError;
use super::idempotency::{self as keys, Keyed};
use super::preconditions::{self, Precondition};
use crate::jobs::{Cause, JobKind, Provisioning};

fn already_added() -> ServiceError {
    ServiceError::Conflict {
        detail: "Number already exists".to_owned(),
        violations: vec![Violation::new(
            "phoneNumber",
            Code::Duplicate,
            "Number already exists",
        )],
    }
}

/// 404 for a number.
pub fn not_found(id: &PhoneNumberId) -> ServiceError {
    ServiceError::NotFound {
        what: "Phone number",
        key: "phoneNumberId",
        id: id.to_string(),
    }
}

/// Adds an available number to `account`: it is held in the same transaction, and an
/// activation job decides where it ends (202 shows INPROGRESS, type UNKNOWN).
pub async fn add(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    new: NewPhoneNumber,
    p: &Provisioning,
    keyed: Option<&Keyed<'_, PhoneNumber>>,
) -> Result<PhoneNumber, ServiceError> {
    let now = clock.now_ms();
    let number = new.phone_number().as_str();
    let mut tx = db.write().await?;
    keys::reserve(&mut tx, keyed).await?;
    // One read for both checks (see `store::numbers::add`).
    let found = store::numbers::add_lookup(&mut tx, account, number).await?;
    if found.mine {
        return Err(already_added());
    }
    let Some((entry, held_by)) = found.entry else {
        // Not in the inventory: say why, invalid in the plan or merely not offered.
        let why = E164::parse("phoneNumber", number, NUMBER_MAX_LEN)
            .err()
            .unwrap_or_else(|| not_available(number));
        return Err(ServiceError::Invalid(vec![why]));
    };
    match held_by {
        // Held by this account: a concurrent add of the same number committed between
        // the check above and this read (PostgreSQL reads each statement afresh), so
        // this is the same 409 as a sequential repeat.
        Some(holder) if holder == account.as_str() => return Err(already_added()),
        Some(_) => return Err(ServiceError::Invalid(vec![not_available(number)])),
        None => {}
    }
    if let Some(c) = new.country_code()
        && c != entry.country_code
    {
        return Err(ServiceError::Invalid(vec![Violation::new(
            "countryCode",
            Code::InvalidValue,
            format!("{number} is offered as {}, not {c}", entry.country_code),
        )]));
    }
    let n = PhoneNumber {
        phone_number_id: PhoneNumberId::generate().to_string(),
        account_id: account.to_string(),
        phone_number: number.to_owned(),
        country_code: entry.country_code.clone(),
        number_type: NumberType::Unknown,
        settings: new.settings().clone(),
        status: NumberStatus::InProgress,
        status_message: None,
    };
    let job = number_jobs::activation(
        account,
        &n.phone_number_id,
        &ActivationJob {
            generation: 1,
            prefer: p.prefer.clone(),
        },
        p.schedule(JobKind::NumberActivation, now),
    )?;
    // The number, its hold, its journal entry and its job, in one statement.
    match store::numbers::add(&mut tx, &n, &entry, &job, Cause::Request, now).await {
        Ok(true) => {}
        Ok(false) => return Err(ServiceError::Invalid(vec![not_available(number)])),
        // Another request added it first. If it was this account's, that is the same
        // 409 as a sequential repeat; else the number is simply not available. The
        // failed statement ends the transaction on PostgreSQL, so look in a new one.
        Err(StoreError::Conflict(Conflict::PhoneNumber)) => {
            drop(tx);
            let mut read = db.read().await?;
            return Err(
                match store::numbers::get_by_number(&mut read, account, number).await? {
                    Some(_) => already_added(),
                    None => ServiceError::Invalid(vec![not_available(number)]),
                },
            );
        }
        Err(e) => return Err(e.into()),
    }
    keys::complete(&mut tx, keyed, &n).await?;
    tx.commit().await?;
    Ok(n)
}

/// Replaces a number's settings; its status stays as it is.
pub async fn update(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    id: &PhoneNumberId,
    settings: NumberSettings,
    pre: Option<&dyn Precondition>,
) -> Result<PhoneNumber, ServiceError> {
    let mut tx = db.write().await?;
    preconditions::check(&mut tx, pre).await?;
    if !store::numbers::replace_settings(&mut tx, account, id, &settings, clock.now_ms()).await? {
        return Err(not_found(id));
    }
    let (n, _) = store::numbers::get(&mut tx, account, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    tx.commit().await?;
    Ok(n)
}

/// Releases a number: it leaves the account and returns to the inventory in the same
/// transaction, its unfinished activation is cancelled.
pub async fn release(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    id: &PhoneNumberId,
    pre: Option<&dyn Precondition>,
) -> Result<(), ServiceError> {
    let now = clock.now_ms();
    let mut tx = db.write().await?;
    preconditions::check(&mut tx, pre).await?;
    let number = store::numbers::delete(&mut tx, account, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    store::numbers::release(&mut tx, &number, account).await?;
    store::jobs::cancel_for(&mut tx, account, id.as_str(), now).await?;
    store::jobs::record_transition(
        &mut tx,
        &store::jobs::Transition {
            at: now,
            account_id: account.as_str(),
            resource_kind: JobKind::NumberActivation,
            resource_id: id.as_str(),
            from: None,
            to: "RELEASED",
            message: None,
            cause: Cause::Request,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A status change an Administrator or the emulator asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberChange {
    /// The carrier accepted the documents: INACTIVE to ACTIVE.
    Verify,
    /// Take the number out of use (any settled status).
    Disable,
    /// Back to the status it had before it was disabled.
    Enable,
}

/// Applies `change` to a number; 409 when its status does not allow it.
pub async fn change_status(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    id: &PhoneNumberId,
    change: NumberChange,
    keyed: Option<&Keyed<'_, PhoneNumber>>,
) -> Result<PhoneNumber, ServiceError> {
    use crate::domain::number::VERIFICATION_MESSAGE;
    let now = clock.now_ms();
    let mut tx = db.write().await?;
    keys::reserve(&mut tx, keyed).await?;
    let (current, _) = store::numbers::get(&mut tx, account, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let from = current.status;
    let target = match (change, from) {
        (NumberChange::Verify, NumberStatus::Inactive) => Some((NumberStatus::Active, None)),
        (
            NumberChange::Disable,
            NumberStatus::Active | NumberStatus::Inactive | NumberStatus::Failed,
        ) => Some((NumberStatus::Disabled, None)),
        (NumberChange::Enable, NumberStatus::Disabled) => {
            let before = store::numbers::status_before_disable(&mut tx, account, id)
                .await?
                .unwrap_or(NumberStatus::Active);
            Some((
                before,
                (before == NumberStatus::Inactive).then_some(VERIFICATION_MESSAGE),
            ))
        }
        _ => None,
    };
    let Some((to, message)) = target else {
        return Err(ServiceError::Conflict {
            detail: format!(
                "The number is {}; it cannot be {}.",
                from.as_str(),
                match change {
                    NumberChange::Verify => "verified (only an INACTIVE number can)",
                    NumberChange::Disable => "disabled (only a settled number can)",
                    NumberChange::Enable => "enabled (only a DISABLED number can)",
                }
            ),
            violations: Vec::new(),
        });
    };
    store::numbers::transition(&mut tx, account, id, from, to, message, now).await?;
    number_jobs::journal(
        &mut tx,
        account,
        id.as_str(),
        (Some(from), to, message),
        Cause::Admin,
        now,
    )
    .await?;
    let (n, _) = store::numbers::get(&mut tx, account, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    keys::complete(&mut tx, keyed, &n).await?;
    tx.commit().await?;
    Ok(n)
}
