//! Creating and replacing accounts. Each feature change and a rename become jobs of
//! the asynchronous engine, committed with the account change.

use std::collections::BTreeMap;

use crate::clock::Clock;
use crate::domain::account::{Account, AccountBody};
use crate::domain::audit::{Author, Event};
use crate::domain::feature::{Action, Feature, FeatureAction, Status, diff};
use crate::domain::{AccountId, Code, FeatureGrants, Violation};
use crate::jobs::account::{self as account_jobs, FeatureJob, RenameJob};
use crate::jobs::{JobKind, Provisioning};
use crate::store::{self, Conflict, Db, StoreError, Tx};

use super::ServiceError;
use super::idempotency::{self as keys, Keyed};
use super::preconditions::{self, Precondition};

/// Who asks for a change, as far as account rules care.
#[derive(Debug, Clone)]
pub struct Actor {
    pub administrator: bool,
    pub features: FeatureGrants,
    /// Who the audit records name.
    pub author: Author,
}

fn name_taken(name: &str) -> ServiceError {
    ServiceError::Conflict {
        detail: format!("Account with AccountName:{name} already exists"),
        violations: Vec::new(),
    }
}

/// Starts an operation: its status row, and a job per feature change and rename.
async fn start_operation(
    tx: &mut Tx,
    id: &AccountId,
    action: Action,
    changes: &BTreeMap<Feature, Action>,
    rename: bool,
    p: &Provisioning,
    now: i64,
) -> Result<(), ServiceError> {
    let generation = store::accounts::begin_operation(tx, id, action, rename, now).await?;
    for (feature, change) in changes {
        let job = FeatureJob {
            feature: *feature,
            action: *change,
            generation,
            prefer: p.prefer.clone(),
        };
        account_jobs::start_feature(tx, id, job, p.schedule(JobKind::AccountFeature, now), now)
            .await?;
    }
    if rename {
        let job = RenameJob {
            generation,
            prefer: p.prefer.clone(),
        };
        account_jobs::start_rename(tx, id, job, p.schedule(JobKind::AccountRename, now), now)
            .await?;
    }
    Ok(())
}

/// Records a just-inserted account's creation: an ADD operation provisioning each of
/// its features.
pub async fn record_creation(
    tx: &mut Tx,
    account: &Account,
    p: &Provisioning,
    now: i64,
) -> Result<(), ServiceError> {
    let changes = diff(&BTreeMap::new(), account.body.feature_map());
    start_operation(
        tx,
        &account.account_id,
        Action::Add,
        &changes,
        false,
        p,
        now,
    )
    .await
}

/// Creates an account with a generated id.
pub async fn create(
    db: &Db,
    clock: &Clock,
    body: AccountBody,
    p: &Provisioning,
    author: &Author,
    keyed: Option<&Keyed<'_, Account>>,
) -> Result<Account, ServiceError> {
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
        keys::reserve(&mut tx, keyed).await?;
        match store::accounts::insert(&mut tx, &account, now).await {
            Ok(()) => {}
            Err(StoreError::Conflict(Conflict::AccountName)) => return Err(name_taken(&body.name)),
            Err(StoreError::Conflict(Conflict::AccountId)) => continue,
            Err(e) => return Err(e.into()),
        }
        // A new account has no profiles yet: any reference is to a missing one.
        resolve_refs(&mut tx, &account.account_id, account.body.profiles.clone()).await?;
        record_creation(&mut tx, &account, p, now).await?;
        let data = account.to_out(&account.body, None);
        super::audit(
            &mut tx,
            &account.account_id,
            Event::Created,
            author,
            "ACCOUNT",
            data,
            now,
        )
        .await?;
        keys::complete(&mut tx, keyed, &account).await?;
        tx.commit().await?;
        return Ok(account);
    }
    Err(anyhow::anyhow!("could not find a free account id").into())
}

/// The feature changes a replacement starts: what differs from the stored account,
/// plus the re-attempt of every feature whose last change failed (the seed: "A client
/// should re-attempt any failed features using the Update Account").
fn changes_to_make(
    current: &AccountBody,
    new: &AccountBody,
    statuses: &BTreeMap<Feature, (FeatureAction, i64)>,
) -> BTreeMap<Feature, Action> {
    let mut changes = diff(current.feature_map(), new.feature_map());
    for (feature, (status, _)) in statuses {
        if changes.contains_key(feature) || !status.is_failed() {
            continue;
        }
        let wanted = new.feature_map().contains_key(feature);
        match (status.status, wanted) {
            (Status::Failed, true) => {
                changes.insert(*feature, status.action);
            }
            (Status::DeleteFailed, false) => {
                changes.insert(*feature, Action::Delete);
            }
            _ => {}
        }
    }
    changes
}

/// Replaces the writable fields of account `id` (the spec's complete replacement).
pub async fn replace(
    db: &Db,
    clock: &Clock,
    id: &AccountId,
    body: AccountBody,
    actor: &Actor,
    p: &Provisioning,
    pre: Option<&dyn Precondition>,
) -> Result<Account, ServiceError> {
    let now = clock.now_ms();
    let mut tx = db.write().await?;
    preconditions::check(&mut tx, pre).await?;
    let current =
        store::accounts::get(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                what: "Account",
                key: "AccountId",
                id: id.to_string(),
            })?;
    let body = if actor.administrator {
        body
    } else {
        body.keeping_hidden_features(&current.body, &actor.features)
    };
    let statuses = store::accounts::feature_statuses(&mut tx, id).await?;
    let changes = changes_to_make(&current.body, &body, &statuses);
    // Body checks (400) come before the body-dependent refusals (403).
    let mut body = body;
    body.profiles = resolve_refs(&mut tx, id, body.profiles).await?;
    check_actor(actor, &current.body, &body, &changes)?;

    match store::accounts::update(&mut tx, id, &body, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(Conflict::AccountName)) => return Err(name_taken(&body.name)),
        Err(e) => return Err(e.into()),
    }
    // A rename that is still running or failed is carried into this operation (and
    // re-attempted), so it always reaches an end that the statuses show.
    let unfinished_rename = matches!(
        store::accounts::rename_status(&mut tx, id).await?,
        Some(Status::InProgress | Status::Failed)
    );
    let rename = current.body.name != body.name || unfinished_rename;
    start_operation(&mut tx, id, Action::Update, &changes, rename, p, now).await?;
    let account = Account { body, ..current };
    let data = account.to_out(&account.body, None);
    super::audit(
        &mut tx,
        id,
        Event::Updated,
        &actor.author,
        "ACCOUNT",
        data,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(account)
}

/// Checks that referenced profiles exist in the account, filling `name` and `url`
/// from them (the reference's own `url` and `name` are read-only).
async fn resolve_refs(
    tx: &mut Tx,
    id: &AccountId,
    refs: Option<Vec<crate::domain::account::ProfileRef>>,
) -> Result<Option<Vec<crate::domain::account::ProfileRef>>, ServiceError> {
    match refs {
        None => Ok(None),
        Some(refs) => {
            let ids: Vec<String> = refs.into_iter().map(|r| r.profile_id).collect();
            Ok(Some(super::profiles::resolve_profiles(tx, id, &ids).await?))
        }
    }
}

/// The spec: "An Account Administrator can not modify this field" (accountSize); the
/// seed: an Account Administrator reaches only the features it was granted.
fn check_actor(
    actor: &Actor,
    current: &AccountBody,
    new: &AccountBody,
    changes: &BTreeMap<Feature, Action>,
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

/// The spec's `enabledFeatures`: the features of `body` whose provisioning completed,
/// comma-separated, in the spec's order.
pub fn enabled_features(
    body: &AccountBody,
    statuses: &BTreeMap<Feature, (FeatureAction, i64)>,
) -> Option<String> {
    let names: Vec<_> = body
        .feature_map()
        .keys()
        .filter(|f| {
            statuses
                .get(f)
                // A feature being updated, or whose update failed, stays enabled.
                .is_some_and(|(s, _)| s.status == Status::Completed || s.action == Action::Update)
        })
        .map(|f| f.as_str())
        .collect();
    (!names.is_empty()).then(|| names.join(","))
}
