//! The token endpoint's grants: `client_credentials`, `password` and `refresh_token`.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Auth, Claims, secret, token::ISSUER};
use crate::domain::{AccountId, Code, Role, Violation};
use crate::store::{self, Db, StoreError, credentials::RefreshToken};

/// A parsed token request.
#[derive(Debug, Clone)]
pub enum Grant {
    ClientCredentials,
    Password { username: String, password: String },
    RefreshToken { refresh_token: String },
}

/// A token request: the client's credentials and what it asks for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub client_id: String,
    pub client_secret: String,
    pub grant: Grant,
}

/// Why a token request was refused.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// Required parameters are missing (OAuth2 `invalid_request`).
    #[error("invalid request")]
    InvalidRequest(Vec<Violation>),
    /// The grant type is not one of the three (OAuth2 `unsupported_grant_type`).
    #[error("unsupported grant type")]
    UnsupportedGrantType(String),
    /// Unknown or revoked client, wrong secret or wrong appkey (OAuth2 `invalid_client`).
    #[error("invalid client")]
    InvalidClient,
    /// Wrong user credentials, or an unknown, expired or used refresh token (OAuth2
    /// `invalid_grant`).
    #[error("invalid grant")]
    InvalidGrant,
    /// The account in the path does not exist.
    #[error("account not found")]
    AccountNotFound,
    /// Too many bad secrets for this client lately; try again after this many seconds.
    #[error("too many failed attempts")]
    TooManyAttempts(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("token signing failed: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
}

/// The tokens a grant issues (the spec's `GenerateTokenResponse`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GenerateTokenResponse)]
pub struct TokenResponse {
    /// An HS256 JWT for the `Authorization: Bearer` header of API calls.
    #[schema(example = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0....")]
    pub access_token: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// A new single-use refresh token (refreshing rotates it).
    #[schema(example = "b2a1f0...")]
    pub refresh_token: String,
}

impl TokenRequest {
    /// Parses the form fields of a token request.
    pub fn parse(form: &HashMap<String, String>) -> Result<Self, GrantError> {
        let mut missing = Vec::new();
        let mut field = |name: &str| match form.get(name).filter(|v| !v.is_empty()) {
            Some(v) => v.clone(),
            None => {
                missing.push(Violation::required(name));
                String::new()
            }
        };
        let grant_type = field("grant_type");
        let client_id = field("client_id");
        let client_secret = field("client_secret");
        let grant = match grant_type.as_str() {
            "client_credentials" => Grant::ClientCredentials,
            "password" => Grant::Password {
                username: field("username"),
                password: field("password"),
            },
            "refresh_token" => Grant::RefreshToken {
                refresh_token: field("refresh_token"),
            },
            // Reported as missing above.
            "" => Grant::ClientCredentials,
            other => return Err(GrantError::UnsupportedGrantType(other.to_owned())),
        };
        if missing.is_empty() {
            Ok(Self {
                client_id,
                client_secret,
                grant,
            })
        } else {
            Err(GrantError::InvalidRequest(missing))
        }
    }
}

/// Remembers which secrets this instance already verified, so that a client asking for
/// tokens again pays a SHA-256 instead of an Argon2 verification (tens of
/// milliseconds of CPU). Keyed by client id and the stored hash, so a changed secret
/// misses; salted per process, so the map alone reveals nothing usable.
#[derive(Default)]
pub(crate) struct VerifiedSecrets {
    salt: std::sync::OnceLock<[u8; 16]>,
    entries: Mutex<HashMap<String, (String, [u8; 32])>>,
}

impl VerifiedSecrets {
    fn digest(&self, secret: &str) -> [u8; 32] {
        let salt = self.salt.get_or_init(rand::random);
        let mut h = Sha256::new();
        h.update(salt);
        h.update(secret.as_bytes());
        h.finalize().into()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, [u8; 32])>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn known(&self, client_id: &str, stored_hash: &str, secret: &str) -> bool {
        let d = self.digest(secret);
        self.lock().get(client_id).is_some_and(|(h, known)| {
            h == stored_hash && subtle::ConstantTimeEq::ct_eq(&known[..], &d[..]).into()
        })
    }

    fn remember(&self, client_id: &str, stored_hash: &str, secret: &str) {
        let d = self.digest(secret);
        let mut entries = self.lock();
        if entries.len() > 100_000 {
            entries.clear();
        }
        entries.insert(client_id.to_owned(), (stored_hash.to_owned(), d));
    }

    pub(crate) fn forget(&self, client_id: &str) {
        self.lock().remove(client_id);
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
}

impl Auth {
    /// Checks a token request against the database and issues tokens.
    pub async fn issue(
        &self,
        db: &Db,
        account: &AccountId,
        appkey: Option<&str>,
        req: TokenRequest,
        now_ms: i64,
    ) -> Result<TokenResponse, GrantError> {
        let mut tx = db.read().await?;
        if !store::accounts::exists(&mut tx, account).await? {
            return Err(GrantError::AccountNotFound);
        }
        let client = store::credentials::client(&mut tx, account, &req.client_id)
            .await?
            .filter(|c| c.revoked_at.is_none())
            .ok_or(GrantError::InvalidClient)?;
        // Checked before the secret, so a locked-out guesser costs no Argon2 work.
        let real_now = crate::clock::real_now_ms();
        let locked_until =
            store::credentials::login_locked_until(&mut tx, account, &client.client_id).await?;
        if let Some(until) = locked_until
            && until > real_now
        {
            return Err(GrantError::TooManyAttempts(
                ((until - real_now) as u64).div_ceil(1000),
            ));
        }
        drop(tx);

        let appkey_ok = appkey.is_some_and(|k| secret::constant_time_eq(k, &client.appkey));
        let mut secret_ok =
            self.verified
                .known(&client.client_id, &client.secret_hash, &req.client_secret);
        if !secret_ok && appkey_ok {
            secret_ok =
                secret::verify_blocking(req.client_secret.clone(), client.secret_hash.clone())
                    .await;
            if secret_ok {
                self.verified
                    .remember(&client.client_id, &client.secret_hash, &req.client_secret);
            }
        }
        if !(appkey_ok && secret_ok) {
            self.count_failure(db, account, &client.client_id, real_now)
                .await?;
            return Err(GrantError::InvalidClient);
        }
        if locked_until.is_some() {
            // Earlier failures are forgiven once the right secret is given.
            let mut tx = db.write().await?;
            store::credentials::clear_login_failures(&mut tx, account, &client.client_id).await?;
            tx.commit().await?;
        }

        let now = now_ms;
        let (username, roles) = match req.grant {
            Grant::ClientCredentials => (None, client.roles.clone()),
            Grant::Password { username, password } => {
                let mut tx = db.read().await?;
                let user = store::credentials::user(&mut tx, account, &username)
                    .await?
                    .ok_or(GrantError::InvalidGrant)?;
                drop(tx);
                if !secret::verify_blocking(password, user.password_hash).await {
                    return Err(GrantError::InvalidGrant);
                }
                (Some(username), user.roles)
            }
            Grant::RefreshToken { refresh_token } => {
                let hash = secret::sha256_hex(&refresh_token);
                let mut tx = db.write().await?;
                let issued_for =
                    store::credentials::consume_refresh(&mut tx, &client.client_id, &hash, now)
                        .await?
                        .ok_or(GrantError::InvalidGrant)?;
                let roles = match &issued_for {
                    None => client.roles.clone(),
                    Some(u) => {
                        store::credentials::user(&mut tx, account, u)
                            .await?
                            .ok_or(GrantError::InvalidGrant)?
                            .roles
                    }
                };
                tx.commit().await?;
                (issued_for, roles)
            }
        };
        self.tokens_for(db, account, &client.client_id, username, roles, now)
            .await
    }

    /// Counts a bad secret; past the limit, the client's attempts are refused for a
    /// while that doubles with each further failure (see [`LOGIN_LIMITS`]).
    async fn count_failure(
        &self,
        db: &Db,
        account: &AccountId,
        client_id: &str,
        now: i64,
    ) -> Result<(), GrantError> {
        let mut tx = db.write().await?;
        let failures = store::credentials::record_login_failure(
            &mut tx,
            account,
            client_id,
            now,
            LOGIN_LIMITS.window_ms,
        )
        .await?;
        if failures >= LOGIN_LIMITS.free_failures {
            let extra = (failures - LOGIN_LIMITS.free_failures).min(16) as u32;
            let pause = (1_000i64 << extra).min(LOGIN_LIMITS.max_pause_ms);
            store::credentials::lock_login(&mut tx, account, client_id, now + pause).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn tokens_for(
        &self,
        db: &Db,
        account: &AccountId,
        client_id: &str,
        username: Option<String>,
        roles: Vec<Role>,
        now_ms: i64,
    ) -> Result<TokenResponse, GrantError> {
        let now = now_ms / 1000;
        let expires_in = self.lifetimes.access.as_secs() as i64;
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: username.clone().unwrap_or_else(|| client_id.to_owned()),
            azp: client_id.to_owned(),
            account_id: account.as_str().to_owned(),
            roles,
            iat: now,
            exp: now + expires_in,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let access_token = self.tokens.sign(&claims)?;
        let refresh_token = secret::random_token(32);
        let mut tx = db.write().await?;
        store::credentials::insert_refresh(
            &mut tx,
            &RefreshToken {
                token_hash: secret::sha256_hex(&refresh_token),
                client_id: client_id.to_owned(),
                username,
                expires_at: now_ms + self.lifetimes.refresh.as_millis() as i64,
            },
            now_ms,
        )
        .await?;
        tx.commit().await?;
        Ok(TokenResponse {
            access_token,
            expires_in,
            refresh_token,
        })
    }
}

/// How the token endpoint slows down repeated bad secrets for one client.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Failures counted together while they fall within this window.
    pub window_ms: i64,
    /// Failures allowed in a window before attempts are refused for a while.
    pub free_failures: i64,
    /// The longest pause: 1 s after the limit, doubling per further failure, up to this.
    pub max_pause_ms: i64,
}

/// The documented limits: 5 failures within 5 minutes, then pauses of 1, 2, 4 ... up
/// to 60 seconds. A success clears the count, so the right caller is never locked out
/// for longer than the current pause.
pub const LOGIN_LIMITS: LoginLimits = LoginLimits {
    window_ms: 5 * 60_000,
    free_failures: 5,
    max_pause_ms: 60_000,
};

/// The OAuth2 error code of a refusal, for the problem body.
pub fn oauth_error(e: &GrantError) -> Option<&'static str> {
    match e {
        GrantError::InvalidRequest(_) => Some("invalid_request"),
        GrantError::UnsupportedGrantType(_) => Some("unsupported_grant_type"),
        GrantError::InvalidClient => Some("invalid_client"),
        GrantError::InvalidGrant => Some("invalid_grant"),
        _ => None,
    }
}

/// The violation that names an unsupported grant type.
pub fn unsupported_grant_violation(grant_type: &str) -> Violation {
    Violation::new(
        "grant_type",
        Code::InvalidValue,
        format!(
            "unsupported grant type '{grant_type}'; must be one of client_credentials, password, refresh_token"
        ),
    )
}
