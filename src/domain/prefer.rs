//! The `Prefer` header of emulator mode (as Prism users know it): per request, the
//! outcome and timing of the work a write starts.
//!
//! `Prefer: outcome=FAILED, delay=5s, retries=2` makes the job wait 5 seconds (on the
//! server's clock), fail transiently twice, then end `FAILED`.

use serde::{Deserialize, Serialize};

use super::violation::{Code, Violation};

/// The longest delay a request may ask for.
pub const MAX_DELAY_MS: i64 = 24 * 3_600_000;

/// What a request prefers for the work it starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefer {
    /// The terminal status to reach, in the resource's own words (`FAILED`, `INACTIVE`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
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
    /// Parses the header. Preferences ccadmin does not know are ignored (RFC 7240);
    /// known ones with bad values are refused, so a typo does not pass unnoticed.
    pub fn parse(header: &str) -> Result<Self, Violation> {
        let mut out = Prefer::default();
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
                    out.outcome = Some(value.to_owned());
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
        Ok(out)
    }

    /// Checks the outcome against the terminal statuses of the resource.
    pub fn check_outcome(&self, allowed: &[&str]) -> Result<(), Violation> {
        match &self.outcome {
            Some(o) if !allowed.contains(&o.as_str()) => Err(invalid(format!(
                "outcome must be one of {}, not '{o}'",
                allowed.join(", ")
            ))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_parse_from_either_separator() {
        let p = Prefer::parse("outcome=FAILED, delay=5s; retries=2").unwrap();
        assert_eq!(p.outcome.as_deref(), Some("FAILED"));
        assert_eq!(p.delay_ms, Some(5_000));
        assert_eq!(p.retries, Some(2));
    }

    #[test]
    fn unknown_preferences_are_ignored_and_bad_values_refused() {
        assert_eq!(
            Prefer::parse("return=minimal, code=202").unwrap(),
            Prefer::default()
        );
        assert!(Prefer::parse("delay=soon").is_err());
        assert!(Prefer::parse("outcome=failed").is_err());
        assert!(Prefer::parse("retries=99").is_err());
        assert!(Prefer::parse("delay=25h").is_err());
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
