//! Safe retries (extension): the `Idempotency-Key` of a write and the answer it keeps,
//! and the entity tags of single resources (`ETag`, `If-Match`, `If-None-Match`).
//! No I/O: the keys live in `store::idempotency`, the checks in `http::idempotency`
//! and `http::preconditions`.

use sha2::{Digest, Sha256};

use super::{Code, Violation};

/// The header a client names its retries with (IETF draft "The Idempotency-Key HTTP
/// Header Field").
pub const HEADER: &str = "Idempotency-Key";

/// How long a key answers again: 24 hours of real time (never the emulator's clock,
/// which tests move by days).
pub const KEY_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// The longest key taken.
pub const KEY_MAX_LEN: usize = 255;

/// A client's key: 1 to 255 printable ASCII characters (space to `~`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses the header's bytes, naming the header in the violation.
    pub fn parse(raw: &[u8]) -> Result<Self, Violation> {
        if raw.is_empty() || raw.len() > KEY_MAX_LEN {
            return Err(Violation::size(HEADER, 1, KEY_MAX_LEN));
        }
        if !raw.iter().all(|b| (0x20..=0x7e).contains(b)) {
            return Err(Violation::new(
                HEADER,
                Code::InvalidValue,
                "must be printable ASCII characters (space to ~)",
            ));
        }
        // Every byte is ASCII, so this cannot fail.
        Ok(Self(String::from_utf8_lossy(raw).into_owned()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whose key it is and for what: a key belongs to the calling client (the token's
/// account and client) and one operation, so another client's or another operation's
/// use of the same string is another key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyScope {
    pub account_id: String,
    pub client_id: String,
    /// The operation's id (`addPhoneNumber`...).
    pub operation: &'static str,
    pub key: IdempotencyKey,
}

/// A keyed request: its scope and the fingerprint of what it asked.
#[derive(Debug, Clone)]
pub struct KeyedRequest {
    pub scope: KeyScope,
    /// SHA-256 (hex) of the method, path with query and body bytes.
    pub fingerprint: String,
}

/// The fingerprint of a request: the same key sent with another one is refused.
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b"\n");
    h.update(path_and_query.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

/// An answer as first sent, kept for replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    /// The headers that matter to a client (`Location`, `Content-Type`, `ETag`).
    pub headers: Vec<(String, String)>,
    /// The body (always JSON text here).
    pub body: String,
}

/// What a key's stored record says about a new request with that key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// The same request: answer this again.
    Replay(StoredAnswer),
    /// Another request with the same key: 422.
    OtherRequest,
}

impl Seen {
    /// Compares a stored record's fingerprint with the new request's.
    pub fn of(stored_fingerprint: &str, request: &KeyedRequest, answer: StoredAnswer) -> Self {
        if stored_fingerprint == request.fingerprint {
            Seen::Replay(answer)
        } else {
            Seen::OtherRequest
        }
    }
}

/// A strong entity tag of a representation: the quoted start of its SHA-256, so that it
/// changes whenever the representation does (a status set by a job included).
pub fn entity_tag(representation: &[u8]) -> String {
    let digest = Sha256::digest(representation);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether an `If-Match` or `If-None-Match` value names `etag`: `*` names any current
/// representation; otherwise a comma-separated list of entity tags. `If-Match` compares
/// strongly (a weak tag never matches); `If-None-Match` weakly (RFC 9110 13.1.1-2).
pub fn condition_matches(header: &str, etag: &str, weak_comparison: bool) -> bool {
    let header = header.trim();
    if header == "*" {
        return true;
    }
    header.split(',').map(str::trim).any(|tag| {
        if let Some(weak) = tag.strip_prefix("W/") {
            weak_comparison && weak == etag
        } else {
            tag == etag
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_key_is_refused() {
        assert_eq!(IdempotencyKey::parse(b"").unwrap_err().field, HEADER);
    }

    #[test]
    fn a_key_of_256_characters_is_refused_and_255_taken() {
        assert!(IdempotencyKey::parse(&[b'a'; 256]).is_err());
        assert!(IdempotencyKey::parse(&[b'a'; 255]).is_ok());
    }

    #[test]
    fn a_key_with_a_control_or_non_ascii_character_is_refused() {
        assert!(IdempotencyKey::parse(b"a\tb").is_err());
        assert!(IdempotencyKey::parse("caf\u{e9}".as_bytes()).is_err());
        assert!(IdempotencyKey::parse(b"a b~").is_ok());
    }

    #[test]
    fn the_fingerprint_depends_on_the_body_and_path() {
        let a = fingerprint("POST", "/x", b"{}");
        assert_eq!(a, fingerprint("POST", "/x", b"{}"));
        assert_ne!(a, fingerprint("POST", "/x", b"{ }"));
        assert_ne!(a, fingerprint("POST", "/y", b"{}"));
    }

    #[test]
    fn the_entity_tag_is_strong_and_follows_the_representation() {
        let t = entity_tag(b"{\"a\":1}");
        assert!(t.starts_with('"') && t.ends_with('"'));
        assert_ne!(t, entity_tag(b"{\"a\":2}"));
    }

    #[test]
    fn if_match_is_star_or_a_list_compared_strongly() {
        let t = entity_tag(b"x");
        assert!(condition_matches("*", &t, false));
        assert!(condition_matches(&format!("\"zz\", {t}"), &t, false));
        assert!(!condition_matches(&format!("W/{t}"), &t, false));
        assert!(condition_matches(&format!("W/{t}"), &t, true));
        assert!(!condition_matches("\"other\"", &t, true));
    }
}
