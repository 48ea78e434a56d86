//! What each request needs to know about the client behind its token, cached briefly.
//!
//! A revoked client is refused by every instance within the cache's TTL (2 seconds by
//! default): the bound documented for revocation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::{AccountId, FeatureGrants, Role};
use crate::store::{self, Db, StoreError};

/// The facts about a live client that request checks use.
#[derive(Debug, Clone)]
pub struct ClientFacts {
    pub appkey: String,
    pub roles: Vec<Role>,
    pub features: FeatureGrants,
}

type Entry = (Instant, Option<Arc<ClientFacts>>);

/// A short-lived cache of clients, keyed by account and client id.
pub struct ClientDirectory {
    ttl: Duration,
    entries: Mutex<HashMap<(String, String), Entry>>,
}

impl ClientDirectory {
    /// An empty directory whose entries live for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The live client `client_id` of `account`, or `None` if it is unknown or revoked.
    pub async fn get(
        &self,
        db: &Db,
        account: &AccountId,
        client_id: &str,
    ) -> Result<Option<Arc<ClientFacts>>, StoreError> {
        let key = (account.as_str().to_owned(), client_id.to_owned());
        if let Some((at, facts)) = self.lock().get(&key)
            && at.elapsed() < self.ttl
        {
            return Ok(facts.clone());
        }
        let mut tx = db.read().await?;
        let client = store::credentials::client(&mut tx, account, client_id).await?;
        drop(tx);
        let facts = client.filter(|c| c.revoked_at.is_none()).map(|c| {
            Arc::new(ClientFacts {
                appkey: c.appkey,
                roles: c.roles,
                features: c.features,
            })
        });
        let mut entries = self.lock();
        // Bound the cache: clients are few, but token claims are caller-controlled
        // only after signature checks, so this is a safety net, not a hot path.
        if entries.len() > 100_000 {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), facts.clone()));
        Ok(facts)
    }

    /// Drops every cached entry.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Drops every cached entry of `client_id`.
    pub fn forget(&self, client_id: &str) {
        self.lock().retain(|(_, c), _| c != client_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
