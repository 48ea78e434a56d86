//! Audit records: who changed what in an account, when, from where.

use chrono::DateTime;
use serde::{Deserialize, Serialize};

use super::schemas::RecordType;
use super::violation::{Code, Violation, Violations, check_len};

/// What happened to the audited object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
#[schema(as = AuditEvent)]
pub enum Event {
    Created,
    Updated,
    Deleted,
}

impl Event {
    /// The event as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Created => "CREATED",
            Event::Updated => "UPDATED",
            Event::Deleted => "DELETED",
        }
    }
}

/// The only record type of the spec.
pub const RECORD_TYPE: &str = "ACCOUNT";

/// The spec's pattern for `author` in a search.
pub const AUTHOR_PATTERN: &str = "^[a-zA-Z0-9@._-]+$";

/// The most records one export may hold (the spec).
pub const EXPORT_MAX: i64 = 1000;

/// Who made a change, as audit records name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// The user (password grant) or client behind the token.
    pub id: String,
    /// The caller's IP address (IPv4 when it is one, IPv4-mapped included).
    pub ip: String,
}

/// The spec's `AuditSearchFilter` as sent: the records dated from `startDate` to
/// `endDate` (both inclusive) that match every other field given.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditSearchFilter)]
pub struct AuditFilterIn {
    /// RFC 3339, with `Z` or an offset.
    #[schema(required = true, nullable = false, format = DateTime, example = "2021-11-13T20:25:39.534Z")]
    start_date: Option<String>,
    /// RFC 3339, with `Z` or an offset; not before `startDate`.
    #[schema(required = true, nullable = false, format = DateTime, example = "2021-11-15T16:07:12.723Z")]
    end_date: Option<String>,
    /// The author's id, exactly.
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[a-zA-Z0-9@._-]+$",
        example = "jsmith@example.com"
    )]
    author: Option<String>,
    #[schema(nullable = false, value_type = Option<Event>)]
    event: Option<String>,
    #[serde(rename = "type")]
    #[schema(required = true, nullable = false, value_type = Option<RecordType>)]
    record_type: Option<String>,
    /// The author's IP address, exactly.
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 15,
        example = "165.225.72.60"
    )]
    ip_address: Option<String>,
    /// A substring, ignoring case, of any field but the date (the whole `auditData`
    /// JSON included).
    #[schema(nullable = false, min_length = 1, max_length = 255, example = "Acme")]
    search_keyword: Option<String>,
}

/// A validated search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    /// Milliseconds since the epoch, inclusive.
    pub start: i64,
    pub end: i64,
    pub author: Option<String>,
    pub event: Option<Event>,
    pub ip_address: Option<String>,
    /// Lower-cased.
    pub keyword: Option<String>,
}

fn date(v: &mut Violations, field: &str, value: &Option<String>) -> Option<i64> {
    match value {
        None => {
            v.push(Violation::required(field));
            None
        }
        Some(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(d) => Some(d.timestamp_millis()),
            Err(_) => {
                v.push(Violation::new(
                    field,
                    Code::InvalidValue,
                    "must be an ISO 8601 date-time with a time zone",
                ));
                None
            }
        },
    }
}

impl TryFrom<AuditFilterIn> for AuditFilter {
    type Error = Vec<Violation>;

    fn try_from(input: AuditFilterIn) -> Result<Self, Self::Error> {
        let mut v = Violations::new();
        let start = date(&mut v, "startDate", &input.start_date);
        let end = date(&mut v, "endDate", &input.end_date);
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            v.push(Violation::new(
                "endDate",
                Code::InvalidValue,
                "must not be before startDate",
            ));
        }
        match input.record_type.as_deref() {
            None => v.push(Violation::required("type")),
            Some(RECORD_TYPE) => {}
            Some(_) => v.push(Violation::new(
                "type",
                Code::InvalidValue,
                "must be ACCOUNT",
            )),
        }
        if let Some(a) = &input.author
            && v.check(check_len("author", a, 1, 255)).is_some()
            && !a
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "@._-".contains(c))
        {
            v.push(Violation::pattern("author", AUTHOR_PATTERN));
        }
        let event = match input.event.as_deref() {
            None => None,
            Some("CREATED") => Some(Event::Created),
            Some("UPDATED") => Some(Event::Updated),
            Some("DELETED") => Some(Event::Deleted),
            Some(_) => {
                v.push(Violation::new(
                    "event",
                    Code::InvalidValue,
                    "must be one of CREATED, UPDATED, DELETED",
                ));
                None
            }
        };
        if let Some(ip) = &input.ip_address {
            v.check(check_len("ipAddress", ip, 1, 15));
        }
        if let Some(k) = &input.search_keyword {
            v.check(check_len("searchKeyword", k, 1, 255));
        }
        v.finish(|| AuditFilter {
            start: start.unwrap_or_default(),
            end: end.unwrap_or_default(),
            author: input.author,
            event,
            ip_address: input.ip_address,
            keyword: input.search_keyword.map(|k| k.to_lowercase()),
        })
    }
}

/// The text `searchKeyword` searches: every field but the date, lower-cased.
pub fn search_text(event: Event, author: &str, ip: &str, data: &serde_json::Value) -> String {
    format!("{} {author} {ip} {RECORD_TYPE} {data}", event.as_str()).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_specs_example_filter_is_valid() {
        let input: AuditFilterIn = serde_json::from_value(json!({"startDate": "2021-11-13T20:25:39.534Z",
            "endDate": "2021-11-15T16:07:12.723Z", "event": "CREATED", "author": "jsmith@example.com",
            "type": "ACCOUNT", "ipAddress": "165.225.72.60", "searchKeyword": "Chris Dunbar"}))
        .unwrap();
        let f = AuditFilter::try_from(input).unwrap();
        assert_eq!(f.keyword.as_deref(), Some("chris dunbar"));
        assert!(f.start < f.end);
    }

    #[test]
    fn the_documented_author_pattern_is_the_one_checked() {
        let v = serde_json::to_value(<AuditFilterIn as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(v["properties"]["author"]["pattern"], AUTHOR_PATTERN);
    }

    #[test]
    fn dates_type_and_order_are_checked() {
        let input: AuditFilterIn =
            serde_json::from_value(json!({"startDate": "2021-11-15T00:00:00Z",
            "endDate": "2021-11-13T00:00:00Z", "type": "USER", "event": "VIEWED"}))
            .unwrap();
        let e = AuditFilter::try_from(input).unwrap_err();
        let fields: Vec<_> = e.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["endDate", "type", "event"]);
    }
}
