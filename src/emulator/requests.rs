//! The request journal: what integrators' code sent under `/api/` and what it got,
//! in memory on this instance, bounded by entries and bytes (the oldest go first).
//! Secrets are masked before an entry gets here (`http::requests`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderName, HeaderValue};
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::domain::fault::PathPattern;

/// Headers as recorded, secret values already replaced: kept as the request had them
/// (no copy of names or values) and turned into text only when read.
#[derive(Debug, Clone, Default)]
pub struct Headers(pub Vec<(HeaderName, HeaderValue)>);

impl Headers {
    /// The first value of `name`, if it is text.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .and_then(|(_, v)| v.to_str().ok())
    }

    fn weight(&self) -> usize {
        self.0
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 32)
            .sum()
    }
}

/// An object of lower-case names, a repeated header's values joined by `, `.
impl Serialize for Headers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut names: Vec<&HeaderName> = Vec::new();
        for (n, _) in &self.0 {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let mut map = s.serialize_map(Some(names.len()))?;
        for name in names {
            let values: Vec<String> = self
                .0
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            map.serialize_entry(name.as_str(), &values.join(", "))?;
        }
        map.end()
    }
}

/// One side of an exchange: headers and body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorRecordedMessage)]
pub struct Message {
    /// Header names (lower case) and values, secrets as `***`; a repeated header's
    /// values joined by `, `.
    #[schema(value_type = Object, example = json!({"content-type": "application/json", "authorization": "***"}))]
    pub headers: Headers,
    /// The body as text (not valid UTF-8: replaced characters), at most 64 KiB of it,
    /// secrets as `***`; absent when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub body: Option<String>,
    /// The body's size in bytes, when known (all of it, not only what is kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub body_size: Option<u64>,
    /// True when the body was longer than 64 KiB and `body` holds its beginning.
    pub body_truncated: bool,
}

/// The fault injected into a request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorInjectedFault)]
pub struct FaultNote {
    /// The fault's name.
    #[schema(example = "slow-numbers")]
    pub name: String,
    /// The status it answered, if it set one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = 503)]
    pub status: Option<u16>,
    /// The delay it added, if it set one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub delay_ms: Option<u64>,
    /// True when it closed the connection without an answer.
    pub drop: bool,
}

/// A recorded request and its answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorRecordedRequest)]
pub struct Entry {
    #[schema(example = "3f1c2a9e-6a55-4a52-8d4e-1c0b8c7d7d10")]
    pub id: String,
    /// When it arrived, on the server's clock.
    #[schema(format = DateTime, example = "2025-01-01T12:00:00.000Z")]
    pub time: String,
    #[serde(skip)]
    pub time_ms: i64,
    #[schema(example = "POST")]
    pub method: String,
    #[schema(example = "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers")]
    pub path: String,
    /// The query string without `?`, secrets as `***`; absent when there was none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "pageSize=10")]
    pub query: Option<String>,
    /// The status answered; absent when the connection was dropped (a fault).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = 202)]
    pub status: Option<u16>,
    /// From arrival to the end of the answer, in milliseconds.
    #[schema(example = 3.25)]
    pub duration_ms: f64,
    /// The account the path names, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "ABCDEF")]
    pub account_id: Option<String>,
    /// The client of the request's valid token, or the token endpoint's `client_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "demo-client")]
    pub client_id: Option<String>,
    pub request: Message,
    pub response: Message,
    /// The fault injected into it, if one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub fault: Option<FaultNote>,
}

impl Entry {
    /// Roughly the memory it takes, for the journal's byte bound.
    fn weight(&self) -> usize {
        let message = |m: &Message| m.body.as_ref().map_or(0, String::len) + m.headers.weight();
        256 + self.path.len()
            + self.query.as_ref().map_or(0, String::len)
            + message(&self.request)
            + message(&self.response)
    }
}

/// Which entries a list or count takes; every field optional.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Compared ignoring case.
    pub method: Option<String>,
    /// Exact, or with `*` wildcards.
    pub path: Option<PathPattern>,
    pub status: Option<u16>,
    pub account_id: Option<String>,
    /// Only entries at or after this instant (server clock, ms).
    pub since_ms: Option<i64>,
}

impl Filter {
    fn accepts(&self, e: &Entry) -> bool {
        self.method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&e.method))
            && self.path.as_ref().is_none_or(|p| p.matches(&e.path))
            && self.status.is_none_or(|s| e.status == Some(s))
            && self
                .account_id
                .as_ref()
                .is_none_or(|a| e.account_id.as_deref() == Some(a.as_str()))
            && self.since_ms.is_none_or(|t| e.time_ms >= t)
    }
}

#[derive(Default)]
struct Inner {
    /// Oldest first.
    entries: VecDeque<(Arc<Entry>, usize)>,
    bytes: usize,
}

/// The journal of this instance.
pub struct RequestJournal {
    max_entries: usize,
    max_bytes: usize,
    inner: Mutex<Inner>,
}

impl RequestJournal {
    /// A journal keeping at most `max_entries` entries and about `max_bytes` bytes;
    /// either 0 turns recording off.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            max_entries,
            max_bytes,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// True when requests are recorded.
    pub fn is_on(&self) -> bool {
        self.max_entries > 0 && self.max_bytes > 0
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every change below leaves the deque whole, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds an entry, dropping the oldest ones beyond the bounds.
    pub fn record(&self, entry: Entry) {
        if !self.is_on() {
            return;
        }
        let weight = entry.weight();
        let mut inner = self.inner();
        inner.entries.push_back((Arc::new(entry), weight));
        inner.bytes += weight;
        while inner.entries.len() > self.max_entries
            || (inner.bytes > self.max_bytes && inner.entries.len() > 1)
        {
            match inner.entries.pop_front() {
                Some((_, w)) => inner.bytes -= w,
                None => break,
            }
        }
    }

    /// Up to `limit` entries that `filter` accepts, newest first.
    pub fn list(&self, filter: &Filter, limit: usize) -> Vec<Arc<Entry>> {
        let inner = self.inner();
        inner
            .entries
            .iter()
            .rev()
            .filter(|(e, _)| filter.accepts(e))
            .take(limit)
            .map(|(e, _)| e.clone())
            .collect()
    }

    /// How many entries `filter` accepts.
    pub fn count(&self, filter: &Filter) -> usize {
        let inner = self.inner();
        inner
            .entries
            .iter()
            .filter(|(e, _)| filter.accepts(e))
            .count()
    }

    /// The entry `id`, if still kept.
    pub fn get(&self, id: &str) -> Option<Arc<Entry>> {
        let inner = self.inner();
        inner
            .entries
            .iter()
            .rev()
            .find(|(e, _)| e.id == id)
            .map(|(e, _)| e.clone())
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        let mut inner = self.inner();
        inner.entries.clear();
        inner.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize, body: usize) -> Entry {
        let message = Message {
            headers: Headers::default(),
            body: Some("x".repeat(body)),
            body_size: Some(body as u64),
            body_truncated: false,
        };
        Entry {
            id: i.to_string(),
            time: String::new(),
            time_ms: i as i64,
            method: "GET".into(),
            path: format!("/api/{i}"),
            query: None,
            status: Some(200),
            duration_ms: 0.0,
            account_id: None,
            client_id: None,
            request: message.clone(),
            response: message,
            fault: None,
        }
    }

    #[test]
    fn the_oldest_entries_go_beyond_the_entry_bound() {
        let j = RequestJournal::new(3, 1 << 20);
        for i in 0..5 {
            j.record(entry(i, 1));
        }
        let ids: Vec<String> = j
            .list(&Filter::default(), 10)
            .iter()
            .map(|e| e.id.clone())
            .collect();
        assert_eq!(ids, ["4", "3", "2"]);
    }

    #[test]
    fn the_oldest_entries_go_beyond_the_byte_bound() {
        let j = RequestJournal::new(100, 5_000);
        for i in 0..10 {
            j.record(entry(i, 1_000));
        }
        assert_eq!(j.count(&Filter::default()), 2);
    }

    #[test]
    fn filters_and_since_select_entries() {
        let j = RequestJournal::new(100, 1 << 20);
        for i in 0..10 {
            j.record(entry(i, 1));
        }
        let f = Filter {
            path: Some(PathPattern::new("/api/*")),
            since_ms: Some(7),
            ..Filter::default()
        };
        assert_eq!(j.count(&f), 3);
        assert_eq!(
            j.get("3").map(|e| e.path.clone()).as_deref(),
            Some("/api/3")
        );
    }

    #[test]
    fn a_journal_without_room_records_nothing() {
        let j = RequestJournal::new(0, 1 << 20);
        j.record(entry(1, 1));
        assert!(!j.is_on());
        assert_eq!(j.count(&Filter::default()), 0);
    }
}
