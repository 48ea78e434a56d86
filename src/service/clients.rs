//! Creating clients: credentials that the token endpoint accepts.

use crate::auth::{Auth, secret};
use crate::clock::Clock;
use crate::domain::{AccountId, Code, FeatureGrants, Role, Violation};
use crate::store::{self, Db, credentials::Client};

use super::ServiceError;

/// A client just created, with the secret shown this once.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub client: Client,
    pub client_secret: String,
}

/// Creates a client of `account` with generated id, secret and appkey. Only clients of
/// the default account may be Administrators.
pub async fn create(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    roles: Vec<Role>,
    features: FeatureGrants,
    author: &crate::domain::audit::Author,
) -> Result<NewClient, ServiceError> {
    let mut tx = db.read().await?;
    let target = store::accounts::get(&mut tx, account)
        .await?
        .ok_or_else(|| ServiceError::NotFound {
            what: "Account",
            key: "AccountId",
            id: account.to_string(),
        })?;
    drop(tx);
    if roles.contains(&Role::Administrator) && !target.is_default {
        return Err(ServiceError::Invalid(vec![Violation::new(
            "roles",
            Code::InvalidValue,
            "only clients of the default account can be Administrators",
        )]));
    }
    let client_secret = secret::random_token(32);
    let client = Client {
        client_id: format!("client-{}", uuid::Uuid::new_v4().simple()),
        account_id: account.clone(),
        secret_hash: secret::hash_blocking(client_secret.clone()).await?,
        appkey: secret::random_token(24),
        roles,
        features,
        created_at: clock.now_ms(),
        revoked_at: None,
    };
    let mut tx = db.write().await?;
    store::credentials::insert_client(&mut tx, &client, false).await?;
    // Neither the secret nor the appkey goes into the record.
    let data = serde_json::json!({"clientId": client.client_id, "roles": client.roles, "features": client.features});
    let now = clock.now_ms();
    super::audit(
        &mut tx,
        account,
        crate::domain::audit::Event::Created,
        author,
        "CLIENT",
        data,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(NewClient {
        client,
        client_secret,
    })
}

/// Revokes a live client of `account` (404 otherwise) and its refresh tokens, with an
/// audit record, and forgets it in this instance's caches; other instances stop
/// accepting its tokens within the client cache's lifetime.
pub async fn revoke(
    db: &Db,
    clock: &Clock,
    auth: &Auth,
    account: &AccountId,
    client_id: &str,
    author: &crate::domain::audit::Author,
) -> Result<(), ServiceError> {
    let now = clock.now_ms();
    let mut tx = db.write().await?;
    if !store::credentials::revoke_client(&mut tx, account, client_id, now).await? {
        return Err(ServiceError::NotFound {
            what: "Client",
            key: "clientId",
            id: client_id.to_owned(),
        });
    }
    let data = serde_json::json!({"clientId": client_id});
    super::audit(
        &mut tx,
        account,
        crate::domain::audit::Event::Deleted,
        author,
        "CLIENT",
        data,
        now,
    )
    .await?;
    tx.commit().await?;
    auth.forget_client(client_id);
    Ok(())
}
