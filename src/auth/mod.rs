//! Authentication and authorisation: the OAuth2 grants of the token endpoint, access
//! tokens, and the checks every API call passes.

pub mod directory;
pub mod grant;
pub mod secret;
pub mod token;

use std::time::Duration;

pub use directory::{ClientDirectory, ClientFacts};
pub use grant::{Grant, GrantError, TokenResponse};
pub use token::{Claims, TokenError, Tokens};

/// Lifetimes of what the token endpoint issues.
#[derive(Debug, Clone, Copy)]
pub struct TokenLifetimes {
    pub access: Duration,
    pub refresh: Duration,
}

/// The authentication service shared by the HTTP layer.
pub struct Auth {
    pub tokens: Tokens,
    pub clients: ClientDirectory,
    pub lifetimes: TokenLifetimes,
    pub(crate) verified: grant::VerifiedSecrets,
}

impl Auth {
    /// Builds the service around loaded signing keys.
    pub fn new(tokens: Tokens, lifetimes: TokenLifetimes, cache_ttl: Duration) -> Self {
        Self {
            tokens,
            clients: ClientDirectory::new(cache_ttl),
            lifetimes,
            verified: grant::VerifiedSecrets::default(),
        }
    }

    /// Forgets everything cached about clients (after an emulator reset).
    pub fn forget_all(&self) {
        self.clients.clear();
        self.verified.clear();
    }

    /// Forgets what this instance cached about a client (after a revoke here; other
    /// instances notice within the directory's TTL).
    pub fn forget_client(&self, client_id: &str) {
        self.clients.forget(client_id);
        self.verified.forget(client_id);
    }
}
