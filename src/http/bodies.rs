//! The rendered bodies of single-resource GETs (an account, a phone number, an
//! element), kept so that a repeated GET costs neither a database read nor a
//! rendering.
//!
//! Each body is tagged with the write epoch read before the database was (see
//! `store::epoch`), and is served only while the epoch has not moved and for at most
//! the revocation bound (`--client-cache-ttl-ms`). So a GET never shows a body older
//! than a write whose answer this instance already sent; another instance's write is
//! seen once it is announced (PostgreSQL), and in any case within the bound.
//!
//! Every check that decides 400, 401 or 403 runs before the cache is consulted, and
//! the key names everything the body depends on besides the database: the path and,
//! where the caller shapes the body, the caller's view.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::response::Response;
use serde_json::Value;

use super::AppState;
use super::error::Result;
use super::preconditions::{Conditions, representation};

/// Entries beyond this many are dropped all at once (a safety net: the keys are
/// resources that exist, so only a very large database reaches it).
const MAX_ENTRIES: usize = 100_000;

struct Entry {
    epoch: u64,
    at: Instant,
    body: Bytes,
    /// Its entity tag (`preconditions`).
    tag: Arc<str>,
}

/// The cache of one instance.
pub struct Bodies {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Bodies {
    /// An empty cache whose entries live at most `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &str, epoch: u64) -> Option<(Bytes, Arc<str>)> {
        let entries = self.lock();
        let e = entries.get(key)?;
        (e.epoch == epoch && e.at.elapsed() < self.ttl).then(|| (e.body.clone(), e.tag.clone()))
    }

    fn put(&self, key: String, epoch: u64, body: Bytes, tag: Arc<str>) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                epoch,
                at: Instant::now(),
                body,
                tag,
            },
        );
    }

    /// Drops every entry (the epoch already makes them unused; this frees them).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The answer from the body under `key` if it is still good, else from `read`'s,
/// rendered and kept; `conditions` (`If-None-Match`) apply either way. Only a 200 is
/// kept: an error (a 404 included) is answered as it comes.
pub async fn cached<F>(
    state: &AppState,
    conditions: &Conditions,
    key: String,
    read: F,
) -> Result<Response>
where
    F: Future<Output = Result<Value>>,
{
    // Before the database is read: a write that commits during the read moves the
    // epoch past this tag, so what the read saw is never served after it.
    let epoch = state.db.epoch().current();
    if let Some((body, tag)) = state.bodies.get(&key, epoch) {
        return conditions.answer(body, &tag);
    }
    let value = read.await?;
    let (bytes, tag) = representation(&value)?;
    let (body, tag) = (Bytes::from(bytes), Arc::<str>::from(tag));
    state.bodies.put(key, epoch, body.clone(), tag.clone());
    conditions.answer(body, &tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_served_only_at_its_epoch_and_within_its_lifetime() {
        let bodies = Bodies::new(Duration::from_secs(60));
        bodies.put("k".into(), 3, Bytes::from_static(b"{}"), "t".into());
        assert!(bodies.get("k", 3).is_some());
        assert!(bodies.get("k", 4).is_none());
        let expired = Bodies::new(Duration::ZERO);
        expired.put("k".into(), 3, Bytes::from_static(b"{}"), "t".into());
        assert!(expired.get("k", 3).is_none());
    }
}
