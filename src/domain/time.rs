//! Timestamps: stored as milliseconds since the Unix epoch, shown as RFC 3339.

use chrono::{DateTime, SecondsFormat, Utc};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// `ms` as an RFC 3339 UTC timestamp with milliseconds, as the spec's examples show.
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_render_like_the_spec_examples() {
        assert_eq!(
            super::rfc3339(1_674_039_105_904),
            "2023-01-18T10:51:45.904Z"
        );
    }
}
