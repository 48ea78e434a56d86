//! The `Prefer` header of emulator mode (as Prism users know it): per request, the
//! outcome and timing of the work a write starts.
//!
//! `Prefer: outcome=FAILED, delay=5s, retries=2` makes the job wait 5 seconds (on the
//! server's clock), fail transiently twice, then end `FAILED`.

use serde::{Deserialize, Serialize};

use super::lifecycle::{JobKind, Outcome};
use super::violation::{Code, Violation};

/// The longest delay a request may ask for.
pub const MAX_DELAY_MS: i64 = 24 * 3_600_000;

/// What a request prefers for the work it starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefer {
    /// The terminal status to reach, one of the work's own (`FAILED`, `INACTIVE`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// How long the work takes before it finishes, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<i64>,
    /// How many transient failures (each retried with backoff) come first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
}

fn invalid(message: String) -> Violation {
    Violation::new("Prefer", Code::InvalidValue, message)
}

/// Parses a duration: `250ms`, `5s`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, factor) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1_000)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        (s, 1_000)
    };
    num.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)?
        .checked_mul(factor)
}

impl Prefer {
    /// Parses the header of a request that starts work of `kind`. Preferences ccadmin
    /// does not know are ignored (RFC 7240); known ones with bad values are refused, so
    /// a typo does not pass unnoticed, and so is an outcome the kind cannot reach.
    pub fn parse(header: &str, kind: JobKind) -> Result<Self, Violation> {
        let mut out = Prefer::default();
        let mut outcome = None;
        for token in header
            .split([',', ';'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let (name, value) = token.split_once('=').unwrap_or((token, ""));
            let value = value.trim().trim_matches('"');
            match name.trim().to_ascii_lowercase().as_str() {
                "outcome" => {
                    if value.is_empty()
                        || !value.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                    {
                        return Err(invalid(format!(
                            "outcome must be a status such as FAILED, not '{value}'"
                        )));
                    }
                    outcome = Some(value);
                }
                "delay" => match parse_duration_ms(value) {
                    Some(ms) if ms <= MAX_DELAY_MS => out.delay_ms = Some(ms),
                    _ => {
                        return Err(invalid(format!(
                            "delay must be like 250ms, 5s, 2m or 1h (at most 24h), not '{value}'"
                        )));
                    }
                },
                "retries" => match value.parse::<u32>() {
                    Ok(n) if n <= 10 => out.retries = Some(n),
                    _ => return Err(invalid(format!("retries must be 0 to 10, not '{value}'"))),
                },
                _ => {}
            }
        }
        // Checked once every preference is read, so that a malformed one is reported
        // first, wherever it stands.
        if let Some(o) = outcome {
            let allowed = kind.outcomes();
            match Outcome::parse(o).filter(|o| allowed.contains(o)) {
                Some(o) => out.outcome = Some(o),
                None => {
                    return Err(invalid(format!(
                        "outcome must be one of {}, not '{o}'",
                        Outcome::list(allowed)
                    )));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_parse_from_either_separator() {
        let p = Prefer::parse("outcome=FAILED, delay=5s; retries=2", JobKind::OrgNode).unwrap();
        assert_eq!(p.outcome, Some(Outcome::Failed));
        assert_eq!(p.delay_ms, Some(5_000));
        assert_eq!(p.retries, Some(2));
    }

    #[test]
    fn unknown_preferences_are_ignored_and_bad_values_refused() {
        assert_eq!(
            Prefer::parse("return=minimal, code=202", JobKind::OrgNode).unwrap(),
            Prefer::default()
        );
        assert!(Prefer::parse("delay=soon", JobKind::OrgNode).is_err());
        assert!(Prefer::parse("outcome=failed", JobKind::OrgNode).is_err());
        assert!(Prefer::parse("retries=99", JobKind::OrgNode).is_err());
        assert!(Prefer::parse("delay=25h", JobKind::OrgNode).is_err());
        // Each kind reaches only its own outcomes.
        assert!(Prefer::parse("outcome=ACTIVE", JobKind::OrgNode).is_err());
        assert!(Prefer::parse("outcome=ACTIVE", JobKind::NumberActivation).is_ok());
    }

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration_ms("250ms"), Some(250));
        assert_eq!(parse_duration_ms("2m"), Some(120_000));
        assert_eq!(parse_duration_ms("1h"), Some(3_600_000));
        assert_eq!(parse_duration_ms("3"), Some(3_000));
        assert_eq!(parse_duration_ms("-1s"), None);
    }
}
