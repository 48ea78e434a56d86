//! Access tokens: HS256-signed JWTs whose keys live in the database, so that every
//! instance on one database signs and accepts the same tokens.
//!
//! HS256 verifies in about 2 µs; RS256 with a pure-Rust RSA costs about 100 times that
//! per request, and nothing outside ccadmin needs to verify its tokens.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::domain::Role;
use crate::store::{self, Db, StoreError, credentials::SigningKey};

/// The `iss` of every token.
pub const ISSUER: &str = "ccadmin";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    /// The user for the password grant, else the client.
    pub sub: String,
    /// The client the token was issued to (OpenID Connect's authorized party).
    pub azp: String,
    /// The account the token acts for.
    #[serde(rename = "accountId")]
    pub account_id: String,
    pub roles: Vec<Role>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token was signed with an unknown key")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
}

struct KeySet {
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
}

/// Signs and verifies access tokens.
pub struct Tokens {
    keys: RwLock<KeySet>,
    validation: Validation,
    last_reload: Mutex<Instant>,
    /// Tokens whose signature this instance has checked against the current key set,
    /// and their claims. Every request carries its token, and most carry one seen
    /// before; looking it up costs a hash of its text instead of two base64 decodings,
    /// an HMAC and a JSON parse. Expiry is still checked on every use. Emptied when
    /// the key set is replaced, so a token is never accepted on a key this instance
    /// no longer holds.
    verified: Mutex<HashMap<String, Claims>>,
}

/// The most verified tokens remembered; past it the memory starts over. A live
/// deployment has a token per client and hour or so; anyone minting more only makes
/// their own requests verify again.
const VERIFIED_MAX: usize = 4096;

/// The kid of the key created on first start. Instances that start together all try
/// to insert it; one wins and all read back the same secret.
const FIRST_KID: &str = "k1";

impl Tokens {
    /// Loads the signing keys, creating the first one if the database has none.
    pub async fn load(db: &Db, now_ms: i64) -> Result<Self, StoreError> {
        let mut secret = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let mut tx = db.write().await?;
        store::credentials::insert_key_if_absent(
            &mut tx,
            &SigningKey {
                kid: FIRST_KID.to_owned(),
                secret,
            },
            now_ms,
        )
        .await?;
        let keys = store::credentials::keys(&mut tx).await?;
        tx.commit().await?;

        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the server's clock in `verify`, to the second.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[ISSUER]);
        Ok(Self {
            keys: RwLock::new(key_set(&keys)?),
            validation,
            last_reload: Mutex::new(Instant::now()),
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// Signs `claims` with the current key.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(keys.signing_kid.clone());
        jsonwebtoken::encode(&header, claims, &keys.signing)
    }

    /// Checks the signature and expiry of `token` at `now_secs`.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<Claims, TokenError> {
        let cached = self.verified().get(token).cloned();
        let claims = match cached {
            Some(claims) => claims,
            None => {
                // The key set stays read-locked until the token is remembered: a
                // replacement of the set (which empties the memory under its write
                // lock) cannot fall between the check and the insert.
                let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
                let claims = self.check_signature(&keys, token)?;
                let mut verified = self.verified();
                if verified.len() >= VERIFIED_MAX {
                    verified.clear();
                }
                verified.insert(token.to_owned(), claims.clone());
                claims
            }
        };
        if claims.exp <= now_secs {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// The claims of `token` if it is well-formed and signed by a key of `keys`.
    fn check_signature(&self, keys: &KeySet, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::BadSignature);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = keys.verifying.get(&kid).ok_or(TokenError::UnknownKey)?;
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                _ => TokenError::Malformed,
            }
        })?;
        Ok(data.claims)
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, HashMap<String, Claims>> {
        self.verified.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Re-reads the keys when a token names one this instance has not seen (another
    /// instance rotated), at most once a second so forged kids cannot load the database.
    pub async fn reload(&self, db: &Db) -> Result<bool, StoreError> {
        {
            let mut last = self.last_reload.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < Duration::from_secs(1) {
                return Ok(false);
            }
            *last = Instant::now();
        }
        self.reload_now(db).await?;
        Ok(true)
    }

    /// Re-reads the keys now (after a state import replaced them).
    pub async fn reload_now(&self, db: &Db) -> Result<(), StoreError> {
        let mut tx = db.read().await?;
        let keys = store::credentials::keys(&mut tx).await?;
        let set = key_set(&keys)?;
        let mut current = self.keys.write().unwrap_or_else(|p| p.into_inner());
        *current = set;
        // While the new set is held exclusively, so that no verification against the old
        // set lands in the memory after it was emptied.
        self.verified().clear();
        Ok(())
    }
}

fn key_set(keys: &[SigningKey]) -> Result<KeySet, StoreError> {
    let newest = keys
        .first()
        .ok_or_else(|| StoreError::Corrupt("no signing key".to_owned()))?;
    Ok(KeySet {
        signing_kid: newest.kid.clone(),
        signing: EncodingKey::from_secret(&newest.secret),
        verifying: keys
            .iter()
            .map(|k| (k.kid.clone(), DecodingKey::from_secret(&k.secret)))
            .collect(),
    })
}
