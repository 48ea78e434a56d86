//! Injected faults (emulator mode): which requests a fault matches and what it does to
//! them, validated. The HTTP layer applies them; `emulator::faults` keeps them.

use serde::Deserialize;

use super::{AccountId, Code, Violation, Violations};

/// The pattern of a fault's name (its path parameter).
pub const NAME_PATTERN: &str = "^[A-Za-z0-9._-]{1,64}$";

/// The longest injected delay: a minute, well past any client's usual timeout, yet
/// short enough that a forgotten fault cannot hold a connection for long.
pub const MAX_DELAY_MS: u64 = 60_000;

/// The most uses `times` may allow.
pub const MAX_TIMES: i64 = 1_000_000_000;

/// A path pattern: literal text in which `*` stands for any run of characters, `/`
/// included (`/api/*/phone-numbers*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern(String);

impl PathPattern {
    /// The pattern as written; every string is a valid pattern.
    pub fn new(pattern: impl Into<String>) -> Self {
        Self(pattern.into())
    }

    /// True when `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        glob(self.0.as_bytes(), text.as_bytes())
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Wildcard matching with one backtracking point (the last `*`): linear in practice,
/// never exponential whatever the pattern.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// What a fault does to a request it fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultAction {
    /// Answer this status (problem+json) instead of running the operation.
    pub status: Option<u16>,
    /// Wait this long first (before the operation, the status or the drop).
    pub delay_ms: Option<u64>,
    /// Close the connection without an answer.
    pub drop: bool,
}

/// A validated fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub name: String,
    /// Upper case, or `*` for every method.
    pub method: String,
    pub path: PathPattern,
    /// Only requests whose path names this account.
    pub account_id: Option<AccountId>,
    pub action: FaultAction,
    /// The chance it fires on a matching request, in parts per million.
    pub probability_ppm: i64,
    /// Uses left (`None`: unlimited); the fault removes itself after the last.
    pub times: Option<i64>,
}

impl Fault {
    /// True when the fault applies to `method path` on `account` (the path's account).
    pub fn matches(&self, method: &str, path: &str, account: Option<&str>) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && self
                .account_id
                .as_ref()
                .is_none_or(|a| account == Some(a.as_str()))
            && self.path.matches(path)
    }

    /// The probability as a fraction.
    pub fn probability(&self) -> f64 {
        self.probability_ppm as f64 / 1_000_000.0
    }
}

/// The methods a fault may name, besides `*`.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A fault as sent (`PUT /_ccadmin/faults/{name}`): every field optional until checked.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorFaultRequest)]
pub struct FaultIn {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`, `OPTIONS` (any case), or `*`.
    #[schema(required = true, nullable = false, example = "GET")]
    pub method: Option<String>,
    /// The request path, where `*` stands for any run of characters (`/` included).
    #[schema(
        required = true,
        nullable = false,
        example = "/api/admin/voice/v1/accounts/*/phone-numbers*"
    )]
    pub path: Option<String>,
    /// Only requests whose path names this account.
    #[schema(nullable = false, pattern = "^[a-zA-Z]{6}$", example = "ABCDEF")]
    pub account_id: Option<String>,
    /// Answer this status (400 to 599) as problem+json without running the operation.
    #[schema(nullable = false, minimum = 400, maximum = 599, example = 503)]
    pub status: Option<i64>,
    /// Wait this many milliseconds (0 to 60000) before anything else.
    #[schema(nullable = false, minimum = 0, maximum = 60000, example = 1500)]
    pub delay_ms: Option<i64>,
    /// Close the connection without an answer (not with `status`).
    #[schema(nullable = false)]
    pub drop: Option<bool>,
    /// The chance (0 to 1, default 1) that it fires on a matching request, drawn from
    /// the faults' own seeded sequence.
    #[schema(nullable = false, minimum = 0, maximum = 1, example = 0.5)]
    pub probability: Option<f64>,
    /// Fire this many times (1 to 10^9), then remove itself; absent: until deleted.
    #[schema(nullable = false, minimum = 1, maximum = 1_000_000_000, example = 2)]
    pub times: Option<i64>,
}

/// A violation for a fault name that breaks [`NAME_PATTERN`], if it does.
pub fn check_name(name: &str) -> Result<(), Violation> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Violation::pattern("name", NAME_PATTERN))
    }
}

impl FaultIn {
    /// The fault named `name`, or every rule it breaks.
    pub fn into_fault(self, name: &str) -> Result<Fault, Vec<Violation>> {
        let mut v = Violations::new();
        v.check(check_name(name));
        let method = match self.method.as_deref() {
            None => {
                v.push(Violation::required("method"));
                None
            }
            Some(m) => {
                let upper = m.to_ascii_uppercase();
                if upper == "*" || METHODS.contains(&upper.as_str()) {
                    Some(upper)
                } else {
                    v.push(Violation::new(
                        "method",
                        Code::InvalidValue,
                        format!("must be * or one of {}", METHODS.join(", ")),
                    ));
                    None
                }
            }
        };
        let path = match self.path.as_deref() {
            None => {
                v.push(Violation::required("path"));
                None
            }
            Some(p) if !(p.starts_with('/') || p.starts_with('*')) => {
                v.push(Violation::new(
                    "path",
                    Code::InvalidValue,
                    "must start with / or *",
                ));
                None
            }
            Some(p) if p.len() > 2048 => {
                v.push(Violation::size("path", 1, 2048));
                None
            }
            Some(p) => Some(PathPattern::new(p)),
        };
        let account_id = self
            .account_id
            .as_deref()
            .and_then(|a| v.check(AccountId::parse_field("accountId", a)));
        let status = self.status.and_then(|s| {
            let ok = u16::try_from(s).ok().filter(|s| (400..=599).contains(s));
            if ok.is_none() {
                v.push(Violation::new(
                    "status",
                    Code::Range,
                    "must be between 400 and 599",
                ));
            }
            ok
        });
        let delay_ms = self.delay_ms.and_then(|d| {
            let ok = u64::try_from(d).ok().filter(|d| *d <= MAX_DELAY_MS);
            if ok.is_none() {
                v.push(Violation::new(
                    "delayMs",
                    Code::Range,
                    format!("must be between 0 and {MAX_DELAY_MS}"),
                ));
            }
            ok
        });
        let drop = self.drop.unwrap_or(false);
        if self.status.is_none() && self.delay_ms.is_none() && !drop {
            v.push(Violation::new(
                "status",
                Code::Required,
                "a fault needs status, delayMs or drop",
            ));
        }
        if self.status.is_some() && drop {
            v.push(Violation::new(
                "drop",
                Code::InvalidValue,
                "a dropped connection has no status: send status or drop, not both",
            ));
        }
        let p = self.probability.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&p) {
            v.push(Violation::new(
                "probability",
                Code::Range,
                "must be between 0 and 1",
            ));
        }
        if let Some(t) = self.times
            && !(1..=MAX_TIMES).contains(&t)
        {
            v.push(Violation::new(
                "times",
                Code::Range,
                format!("must be between 1 and {MAX_TIMES}"),
            ));
        }
        let (Some(method), Some(path)) = (method, path) else {
            return Err(v.into_vec());
        };
        v.finish(|| Fault {
            name: name.to_owned(),
            method,
            path,
            account_id,
            action: FaultAction {
                status,
                delay_ms,
                drop,
            },
            probability_ppm: (p * 1_000_000.0).round() as i64,
            times: self.times,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_matches_any_run_of_characters_slashes_included() {
        let p = PathPattern::new("/api/*/phone-numbers*");
        assert!(p.matches("/api/admin/voice/v1/accounts/ABCDEF/phone-numbers"));
        assert!(p.matches("/api/x/phone-numbers/123"));
        assert!(!p.matches("/api/x/elements"));
        assert!(PathPattern::new("*").matches(""));
        assert!(PathPattern::new("/a").matches("/a"));
        assert!(!PathPattern::new("/a").matches("/ab"));
        assert!(PathPattern::new("*b*b").matches("abab"));
    }

    #[test]
    fn many_stars_do_not_take_exponential_time() {
        let p = PathPattern::new("*a*a*a*a*a*a*a*a*a*a*b");
        assert!(!p.matches(&"a".repeat(10_000)));
    }

    fn fault(json: &str) -> Result<Fault, Vec<Violation>> {
        serde_json::from_str::<FaultIn>(json)
            .expect("valid JSON")
            .into_fault("f")
    }

    fn fields(r: Result<Fault, Vec<Violation>>) -> Vec<String> {
        r.expect_err("refused")
            .into_iter()
            .map(|v| v.field)
            .collect()
    }

    #[test]
    fn a_fault_needs_a_method_a_path_and_something_to_do() {
        assert_eq!(fields(fault("{}")), ["method", "path", "status"]);
    }

    #[test]
    fn a_status_outside_400_to_599_is_refused() {
        assert_eq!(
            fields(fault(r#"{"method":"GET","path":"/api/*","status":200}"#)),
            ["status"]
        );
    }

    #[test]
    fn drop_and_status_together_are_refused() {
        assert_eq!(
            fields(fault(
                r#"{"method":"GET","path":"/api/*","status":503,"drop":true}"#
            )),
            ["drop"]
        );
    }

    #[test]
    fn probability_and_times_have_ranges() {
        assert_eq!(
            fields(fault(
                r#"{"method":"GET","path":"/a","delayMs":1,"probability":1.5,"times":0}"#
            )),
            ["probability", "times"]
        );
    }

    #[test]
    fn a_valid_fault_defaults_to_certain_and_unlimited() {
        let f = fault(r#"{"method":"get","path":"/api/*","status":503,"accountId":"ABCDEF"}"#)
            .expect("valid");
        assert_eq!(f.method, "GET");
        assert_eq!(f.probability_ppm, 1_000_000);
        assert_eq!(f.times, None);
        assert!(f.matches("GET", "/api/x", Some("ABCDEF")));
        assert!(!f.matches("GET", "/api/x", Some("AQWSDE")));
        assert!(!f.matches("POST", "/api/x", Some("ABCDEF")));
    }

    #[test]
    fn a_bad_name_is_refused() {
        let r = serde_json::from_str::<FaultIn>(r#"{"method":"GET","path":"/a","drop":true}"#)
            .expect("valid JSON")
            .into_fault("a/b");
        assert_eq!(fields(r), ["name"]);
    }
}
