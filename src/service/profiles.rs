//! Profiles (an extension: the user API's profiles that accounts and nodes reference)
//! and the resolution of those references, which account and node writes share.

use crate::clock::Clock;
use crate::domain::account::ProfileRef;
use crate::domain::audit::{Author, Event};
use crate::domain::org::{ProfileBody, profile_url};
use crate::domain::{AccountId, Code, Violation};
use crate::store::org::Profile;
use crate::store::{self, Conflict, Db, StoreError, Tx};

use super::ServiceError;
use super::idempotency::{self as keys, Keyed};
use super::preconditions::{self, Precondition};

/// 404 for a profile.
pub fn profile_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound {
        what: "Profile",
        key: "profileId",
        id: id.to_owned(),
    }
}

/// Resolves profile references against the account: each must exist (400 on
/// `profiles[i].profileId` otherwise); `name` and `url` are filled from the profile.
pub async fn resolve_profiles(
    tx: &mut Tx,
    account: &AccountId,
    ids: &[String],
) -> Result<Vec<ProfileRef>, ServiceError> {
    let known = store::org::profiles(tx, account).await?;
    let mut violations = Vec::new();
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        match known.iter().find(|p| &p.profile_id == id) {
            Some(p) => out.push(reference(account, p)),
            None => violations.push(Violation::new(
                format!("profiles[{i}].profileId"),
                Code::InvalidValue,
                format!("no profile {id} in account {account}"),
            )),
        }
    }
    if violations.is_empty() {
        Ok(out)
    } else {
        Err(ServiceError::Invalid(violations))
    }
}

/// A profile reference as shown: the id, the url in the user API, the current name.
pub fn reference(account: &AccountId, p: &Profile) -> ProfileRef {
    ProfileRef {
        profile_id: p.profile_id.clone(),
        url: Some(profile_url(account.as_str(), &p.profile_id)),
        name: Some(p.profile_name.clone()),
    }
}

fn profile_name_taken(name: &str) -> ServiceError {
    ServiceError::Conflict {
        detail: format!("Profile with profileName:{name} already exists"),
        violations: vec![Violation::new(
            "profileName",
            Code::Duplicate,
            "must be unique within the account",
        )],
    }
}

/// Creates a profile with a generated 6-letter id.
pub async fn create_profile(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    body: ProfileBody,
    author: &Author,
    keyed: Option<&Keyed<'_, Profile>>,
) -> Result<Profile, ServiceError> {
    for _ in 0..8 {
        let id = AccountId::generate().to_string();
        let mut tx = db.write().await?;
        keys::reserve(&mut tx, keyed).await?;
        match store::org::insert_profile(&mut tx, account, &id, &body, clock.now_ms(), false).await
        {
            Ok(()) => {
                let data = serde_json::json!({"profileId": id, "profileName": body.profile_name(), "description": body.description()});
                super::audit(
                    &mut tx,
                    account,
                    Event::Created,
                    author,
                    "PROFILE",
                    data,
                    clock.now_ms(),
                )
                .await?;
                let profile = Profile {
                    profile_id: id,
                    profile_name: body.profile_name().to_owned(),
                    description: body.description().map(str::to_owned),
                };
                keys::complete(&mut tx, keyed, &profile).await?;
                tx.commit().await?;
                return Ok(profile);
            }
            Err(StoreError::Conflict(Conflict::ProfileName)) => {
                return Err(profile_name_taken(body.profile_name()));
            }
            Err(StoreError::Conflict(Conflict::ProfileId)) => {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(anyhow::anyhow!("could not find a free profile id").into())
}

/// Replaces a profile's fields; references show the new name at once.
pub async fn update_profile(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    id: &str,
    body: ProfileBody,
    author: &Author,
    pre: Option<&dyn Precondition>,
) -> Result<Profile, ServiceError> {
    let mut tx = db.write().await?;
    preconditions::check(&mut tx, pre).await?;
    match store::org::update_profile(&mut tx, account, id, &body, clock.now_ms()).await {
        Ok(true) => {}
        Ok(false) => return Err(profile_not_found(id)),
        Err(StoreError::Conflict(Conflict::ProfileName)) => {
            return Err(profile_name_taken(body.profile_name()));
        }
        Err(e) => return Err(e.into()),
    }
    let data = serde_json::json!({"profileId": id, "profileName": body.profile_name(), "description": body.description()});
    super::audit(
        &mut tx,
        account,
        Event::Updated,
        author,
        "PROFILE",
        data,
        clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(Profile {
        profile_id: id.to_owned(),
        profile_name: body.profile_name().to_owned(),
        description: body.description().map(str::to_owned),
    })
}

/// Deletes a profile nothing references (409 naming the referrers otherwise).
pub async fn delete_profile(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    id: &str,
    author: &Author,
    pre: Option<&dyn Precondition>,
) -> Result<(), ServiceError> {
    let mut tx = db.write().await?;
    preconditions::check(&mut tx, pre).await?;
    if store::org::profile(&mut tx, account, id).await?.is_none() {
        return Err(profile_not_found(id));
    }
    let (by_account, nodes) = store::org::profile_referrers(&mut tx, account, id).await?;
    if by_account || !nodes.is_empty() {
        let mut referrers = Vec::new();
        if by_account {
            referrers.push(format!("account {account}"));
        }
        if !nodes.is_empty() {
            referrers.push(format!("organization nodes {}", nodes.join(", ")));
        }
        return Err(ServiceError::Conflict {
            detail: format!("Profile {id} is referenced by {}.", referrers.join(" and ")),
            violations: Vec::new(),
        });
    }
    store::org::delete_profile(&mut tx, account, id).await?;
    let data = serde_json::json!({"profileId": id});
    super::audit(
        &mut tx,
        account,
        Event::Deleted,
        author,
        "PROFILE",
        data,
        clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
