//! Creating and replacing accounts, with their statuses.

use crate::clock::Clock;
use crate::domain::account::{Account, AccountBody};
use crate::domain::feature::{AccountStatus, Action, diff};
use crate::domain::{AccountId, Code, FeatureGrants, Violation};
use crate::store::{self, Db, accounts::NAME_CONFLICT};

use super::ServiceError;

/// Who asks for a change, as far as account rules care.
#[derive(Debug, Clone)]
pub struct Actor {
    pub administrator: bool,
    pub features: FeatureGrants,
}

fn name_taken(name: &str) -> ServiceError {
    ServiceError::Conflict(format!("Account with AccountName:{name} already exists"))
}

/// Creates an account with a generated id; its status records the ADD of every feature.
pub async fn create(db: &Db, clock: &Clock, body: AccountBody) -> Result<Account, ServiceError> {
    // Six letters give 308 million ids; a clash is rare, and retried with a new id.
    for _ in 0..8 {
        let now = clock.now_ms();
        let account = Account {
            account_id: AccountId::generate(),
            is_default: false,
            enabled: true,
            created_at: now,
            body: body.clone(),
        };
        let mut tx = db.write().await?;
        match store::accounts::insert(&mut tx, &account, now).await {
            Ok(()) => {}
            Err(e) if e.is_conflict_on(NAME_CONFLICT) => return Err(name_taken(&body.name)),
            Err(e) if e.is_conflict_on("account_id") || e.is_conflict_on("pkey") => continue,
            Err(e) => return Err(e.into()),
        }
        let changes = diff(&Default::default(), account.body.feature_map());
        let status = AccountStatus::completed(account.account_id.as_str(), Action::Add, &changes);
        store::accounts::put_status(&mut tx, &status, now).await?;
        tx.commit().await?;
        return Ok(account);
    }
    Err(anyhow::anyhow!("could not find a free account id").into())
}

/// Replaces the writable fields of account `id` (the spec's complete replacement).
pub async fn replace(
    db: &Db,
    clock: &Clock,
    id: &AccountId,
    body: AccountBody,
    actor: &Actor,
) -> Result<Account, ServiceError> {
    let now = clock.now_ms();
    let mut tx = db.write().await?;
    let current =
        store::accounts::get(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                what: "Account",
                key: "AccountId",
                id: id.to_string(),
            })?;
    let changes = diff(current.body.feature_map(), body.feature_map());
    check_actor(actor, &current.body, &body, &changes)?;

    match store::accounts::update(&mut tx, id, &body, now).await {
        Ok(()) => {}
        Err(e) if e.is_conflict_on(NAME_CONFLICT) => return Err(name_taken(&body.name)),
        Err(e) => return Err(e.into()),
    }
    let status = AccountStatus::completed(id.as_str(), Action::Update, &changes);
    store::accounts::put_status(&mut tx, &status, now).await?;
    tx.commit().await?;
    Ok(Account { body, ..current })
}

/// The spec: "An Account Administrator can not modify this field" (accountSize); the
/// seed: an Account Administrator reaches only the features it was granted.
fn check_actor(
    actor: &Actor,
    current: &AccountBody,
    new: &AccountBody,
    changes: &std::collections::BTreeMap<crate::domain::feature::Feature, Action>,
) -> Result<(), ServiceError> {
    if actor.administrator {
        return Ok(());
    }
    let mut violations = Vec::new();
    if new.account_size != current.account_size {
        violations.push(Violation::new(
            "accountSize",
            Code::ReadOnly,
            "An Account Administrator can not modify this field",
        ));
    }
    for feature in changes
        .keys()
        .filter(|f| !actor.features.allows(f.as_str()))
    {
        violations.push(Violation::new(
            format!("features.{feature}"),
            Code::ReadOnly,
            "this client has no permission for this feature",
        ));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        let fields: Vec<_> = violations.iter().map(|v| v.field.as_str()).collect();
        Err(ServiceError::Forbidden {
            detail: format!("The caller may not change: {}.", fields.join(", ")),
            violations,
        })
    }
}

/// The spec's `enabledFeatures`: the account's features, comma-separated, in the
/// spec's order (each completes provisioning as part of the write).
pub fn enabled_features(account: &Account) -> Option<String> {
    let names: Vec<_> = account
        .body
        .feature_map()
        .keys()
        .map(|f| f.as_str())
        .collect();
    (!names.is_empty()).then(|| names.join(","))
}
