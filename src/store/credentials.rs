//! What authentication needs: signing keys, clients, users and refresh tokens.

use sqlx::FromRow;

use super::{Result, StoreError, Tx, on_conn};
use crate::domain::{AccountId, FeatureGrants, Role};

/// A stored HS256 signing key.
#[derive(Debug, Clone, FromRow)]
pub struct SigningKey {
    pub kid: String,
    pub secret: Vec<u8>,
}

/// Stores `key` unless a key with its `kid` exists (several instances may try at once).
pub async fn insert_key_if_absent(tx: &mut Tx, key: &SigningKey, now: i64) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query("insert into signing_key (kid, secret, created_at) values ($1, $2, $3) on conflict do nothing")
            .bind(&key.kid)
            .bind(&key.secret)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Every signing key, newest first.
pub async fn keys(tx: &mut Tx) -> Result<Vec<SigningKey>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_as("select kid, secret from signing_key order by created_at desc, kid")
            .fetch_all(&mut *c)
            .await
    })?)
}

/// A client (an application credential) of an account.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub account_id: AccountId,
    pub secret_hash: String,
    pub appkey: String,
    pub roles: Vec<Role>,
    pub features: FeatureGrants,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(FromRow)]
struct ClientRow {
    client_id: String,
    account_id: String,
    secret_hash: String,
    appkey: String,
    roles: String,
    features: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(r: ClientRow) -> Result<Self> {
        Ok(Client {
            client_id: r.client_id,
            account_id: AccountId::try_from(r.account_id)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            secret_hash: r.secret_hash,
            appkey: r.appkey,
            roles: serde_json::from_str(&r.roles)?,
            features: serde_json::from_str(&r.features)?,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        })
    }
}

const CLIENT_COLUMNS: &str =
    "client_id, account_id, secret_hash, appkey, roles, features, created_at, revoked_at";

/// Inserts a client; with `if_absent`, an existing client id is left as it is.
pub async fn insert_client(tx: &mut Tx, client: &Client, if_absent: bool) -> Result<bool> {
    let roles = serde_json::to_string(&client.roles)?;
    let features = serde_json::to_string(&client.features)?;
    let sql = format!(
        "insert into client ({CLIENT_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8){}",
        if if_absent {
            " on conflict (client_id) do nothing"
        } else {
            ""
        }
    );
    let done = on_conn!(tx, |c| {
        sqlx::query(&sql)
            .bind(&client.client_id)
            .bind(client.account_id.as_str())
            .bind(&client.secret_hash)
            .bind(&client.appkey)
            .bind(&roles)
            .bind(&features)
            .bind(client.created_at)
            .bind(client.revoked_at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Replaces a client's secret hash and appkey (the bootstrap administrator's, when the
/// operator sets new ones) and un-revokes it.
pub async fn reset_client(
    tx: &mut Tx,
    client_id: &str,
    secret_hash: &str,
    appkey: &str,
) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query("update client set secret_hash = $2, appkey = $3, revoked_at = null where client_id = $1")
            .bind(client_id)
            .bind(secret_hash)
            .bind(appkey)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The client `client_id` of `account`, revoked or not.
pub async fn client(tx: &mut Tx, account: &AccountId, client_id: &str) -> Result<Option<Client>> {
    let sql =
        format!("select {CLIENT_COLUMNS} from client where account_id = $1 and client_id = $2");
    let row: Option<ClientRow> = on_conn!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(account.as_str())
            .bind(client_id)
            .fetch_optional(&mut *c)
            .await
    })?;
    row.map(Client::try_from).transpose()
}

/// A client by id alone, for bootstrap, which must find it in whatever account it is.
pub async fn client_by_id(tx: &mut Tx, client_id: &str) -> Result<Option<Client>> {
    let sql = format!("select {CLIENT_COLUMNS} from client where client_id = $1");
    let row: Option<ClientRow> = on_conn!(tx, |c| sqlx::query_as(&sql)
        .bind(client_id)
        .fetch_optional(&mut *c)
        .await)?;
    row.map(Client::try_from).transpose()
}

/// The clients of `account`, oldest first.
pub async fn clients(tx: &mut Tx, account: &AccountId) -> Result<Vec<Client>> {
    let sql = format!(
        "select {CLIENT_COLUMNS} from client where account_id = $1 order by created_at, client_id"
    );
    let rows: Vec<ClientRow> = on_conn!(tx, |c| sqlx::query_as(&sql)
        .bind(account.as_str())
        .fetch_all(&mut *c)
        .await)?;
    rows.into_iter().map(Client::try_from).collect()
}

/// True when some client of the platform has the Administrator role and is not revoked.
pub async fn any_administrator(tx: &mut Tx, default_account: &AccountId) -> Result<bool> {
    let n: i64 = on_conn!(tx, |c| {
        sqlx::query_scalar(
            "select count(*) from client where account_id = $1 and revoked_at is null and roles like '%\"Administrator\"%'",
        )
        .bind(default_account.as_str())
        .fetch_one(&mut *c)
        .await
    })?;
    Ok(n > 0)
}

/// Revokes a client and every refresh token it holds; false when there was no such
/// live client.
pub async fn revoke_client(
    tx: &mut Tx,
    account: &AccountId,
    client_id: &str,
    now: i64,
) -> Result<bool> {
    let done = on_conn!(tx, |c| {
        let done = sqlx::query(
            "update client set revoked_at = $3 where account_id = $1 and client_id = $2 and revoked_at is null",
        )
        .bind(account.as_str())
        .bind(client_id)
        .bind(now)
        .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?;
        sqlx::query(
            "update refresh_token set revoked_at = $2 where client_id = $1 and revoked_at is null",
        )
        .bind(client_id)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())?;
        Ok::<_, sqlx::Error>(done)
    })?;
    Ok(done == 1)
}

/// A user of an account, for the password grant.
#[derive(Debug, Clone)]
pub struct User {
    pub account_id: AccountId,
    pub username: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
}

/// Inserts a user unless the account already has one with that name.
pub async fn insert_user_if_absent(tx: &mut Tx, user: &User, now: i64) -> Result<bool> {
    let roles = serde_json::to_string(&user.roles)?;
    let done = on_conn!(tx, |c| {
        sqlx::query(
            "insert into app_user (account_id, username, password_hash, roles, created_at)
             values ($1, $2, $3, $4, $5) on conflict do nothing",
        )
        .bind(user.account_id.as_str())
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(&roles)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// The user `username` of `account`.
pub async fn user(tx: &mut Tx, account: &AccountId, username: &str) -> Result<Option<User>> {
    let row: Option<(String, String)> = on_conn!(tx, |c| {
        sqlx::query_as(
            "select password_hash, roles from app_user where account_id = $1 and username = $2",
        )
        .bind(account.as_str())
        .bind(username)
        .fetch_optional(&mut *c)
        .await
    })?;
    row.map(|(password_hash, roles)| {
        Ok(User {
            account_id: account.clone(),
            username: username.to_owned(),
            password_hash,
            roles: serde_json::from_str(&roles)?,
        })
    })
    .transpose()
}

/// A refresh token as stored: only its hash.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub token_hash: String,
    pub client_id: String,
    pub username: Option<String>,
    pub expires_at: i64,
}

/// Stores a refresh token.
pub async fn insert_refresh(tx: &mut Tx, t: &RefreshToken, now: i64) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into refresh_token (token_hash, client_id, username, expires_at, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&t.token_hash)
        .bind(&t.client_id)
        .bind(&t.username)
        .bind(t.expires_at)
        .bind(now)
        .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Consumes a live refresh token of `client_id`: it is revoked in the same statement,
/// so a token can be exchanged once only (rotation). Returns the username it was
/// issued for, `Some(None)` for a client token, and `None` when it is unknown,
/// expired, revoked or another client's.
pub async fn consume_refresh(
    tx: &mut Tx,
    client_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<Option<Option<String>>> {
    let row: Option<(Option<String>,)> = on_conn!(tx, |c| {
        sqlx::query_as(
            "update refresh_token set revoked_at = $3
             where token_hash = $1 and client_id = $2 and revoked_at is null and expires_at > $3
             returning username",
        )
        .bind(token_hash)
        .bind(client_id)
        .bind(now)
        .fetch_optional(&mut *c)
        .await
    })?;
    Ok(row.map(|(u,)| u))
}

/// Until when (real time, ms) attempts for a client are refused, if they are.
pub async fn login_locked_until(
    tx: &mut Tx,
    account: &AccountId,
    client_id: &str,
) -> Result<Option<i64>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_scalar(
            "select locked_until from login_failure where account_id = $1 and client_id = $2",
        )
        .bind(account.as_str())
        .bind(client_id)
        .fetch_optional(&mut *c)
        .await
    })?)
}

/// Counts a failed attempt within a window of `window_ms`; returns the failures in
/// the window, this one included, and the window's start.
pub async fn record_login_failure(
    tx: &mut Tx,
    account: &AccountId,
    client_id: &str,
    now: i64,
    window_ms: i64,
) -> Result<i64> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_scalar(
            "insert into login_failure (account_id, client_id, failures, first_at, locked_until) values ($1, $2, 1, $3, 0)
             on conflict (account_id, client_id) do update set
                 failures = case when login_failure.first_at < $3 - $4 then 1 else login_failure.failures + 1 end,
                 first_at = case when login_failure.first_at < $3 - $4 then $3 else login_failure.first_at end
             returning failures",
        )
        .bind(account.as_str())
        .bind(client_id)
        .bind(now)
        .bind(window_ms)
        .fetch_one(&mut *c)
        .await
    })?)
}

/// Refuses attempts for a client until `until`.
pub async fn lock_login(
    tx: &mut Tx,
    account: &AccountId,
    client_id: &str,
    until: i64,
) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "update login_failure set locked_until = $3 where account_id = $1 and client_id = $2",
        )
        .bind(account.as_str())
        .bind(client_id)
        .bind(until)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Forgets a client's failures after a successful attempt.
pub async fn clear_login_failures(tx: &mut Tx, account: &AccountId, client_id: &str) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query("delete from login_failure where account_id = $1 and client_id = $2")
            .bind(account.as_str())
            .bind(client_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}
