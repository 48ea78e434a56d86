//! Phone numbers in E.164, checked against the numbering plan (libphonenumber's
//! metadata through the `phonenumber` crate), not only against a pattern.

use std::sync::LazyLock;

use regex::Regex;

use super::violation::{Code, Violation};

/// The voice spec's pattern for phone numbers.
pub const E164_PATTERN: &str = r"^\+[1-9]\d{3,13}$";

// ASCII only: with Unicode on, `\d` would also take other scripts' digits (`+1٣٣٣٣`),
// which JSON Schema's ECMA-262 `\d` does not.
static E164_RE: LazyLock<Regex> = LazyLock::new(|| {
    regex::RegexBuilder::new(E164_PATTERN)
        .unicode(false)
        .build()
        .expect("the E.164 pattern is a valid regex")
});

/// A valid phone number in E.164 form (`+16479308804`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

/// Facts the numbering plan gives about a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFacts {
    /// The country calling code (`1` for every NANP country).
    pub calling_code: u16,
    /// The ISO region the number belongs to (`CA` for +1 647...), if one does.
    pub region: Option<String>,
    /// The NANP area code (the first three national digits), for +1 numbers.
    pub area_code: Option<String>,
    /// True for toll-free numbers.
    pub toll_free: bool,
    /// True if the plan assigns the number (a range in service, of a valid length).
    pub valid: bool,
}

impl E164 {
    /// Checks the spec's pattern and length only (for data already checked against
    /// the plan, such as the shipped demo inventory).
    pub fn check_form(field: &str, value: &str, max_len: usize) -> Result<(), Violation> {
        if value.len() > max_len {
            return Err(Violation::size(field, 5, max_len));
        }
        if !E164_RE.is_match(value) {
            return Err(Violation::pattern(field, E164_PATTERN));
        }
        Ok(())
    }

    /// Parses `value`: the spec's pattern and length, then the numbering plan.
    pub fn parse(field: &str, value: &str, max_len: usize) -> Result<Self, Violation> {
        Self::check_form(field, value, max_len)?;
        let valid = phonenumber::parse(None, value)
            .map(|n| n.is_valid())
            .unwrap_or(false);
        if !valid {
            return Err(Violation::new(
                field,
                Code::InvalidValue,
                "is not a valid phone number in its country's numbering plan",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// A number of the spec's pattern and length whose plan check is left to the caller
    /// (a number to add is checked against the inventory, whose numbers were checked
    /// when imported; see `service::numbers::add`).
    pub fn parse_form(field: &str, value: &str, max_len: usize) -> Result<Self, Violation> {
        Self::check_form(field, value, max_len)?;
        Ok(Self(value.to_owned()))
    }

    /// The number as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the numbering plan says about the number.
    pub fn facts(&self) -> PlanFacts {
        facts(&self.0)
    }
}

/// What the numbering plan says about an E.164 string (parsed, never sliced).
pub fn facts(e164: &str) -> PlanFacts {
    let Ok(n) = phonenumber::parse(None, e164) else {
        return PlanFacts {
            calling_code: 0,
            region: None,
            area_code: None,
            toll_free: false,
            valid: false,
        };
    };
    let calling_code = n.code().value();
    let national = n.national().value().to_string();
    // Each of the crate's questions (region, type, validity) finds the number's region
    // again, which for +1 means trying every NANP region's patterns: ask for the type
    // and the region once each. "Valid" is the crate's definition: a known type.
    let db = &phonenumber::metadata::DATABASE;
    let number_type = n.number_type(db);
    PlanFacts {
        calling_code,
        // Non-geographic codes (toll-free +800...) have the pseudo-region "001": none.
        region: n
            .metadata(db)
            .and_then(|m| m.id().parse::<phonenumber::country::Id>().ok())
            .map(|id| id.as_ref().to_owned()),
        area_code: (calling_code == 1 && national.len() == 10).then(|| national[..3].to_owned()),
        toll_free: number_type == phonenumber::Type::TollFree,
        valid: number_type != phonenumber::Type::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_of_other_scripts_break_the_pattern() {
        let v = E164::parse_form("n", "+1\u{663}\u{663}\u{663}\u{663}", 15).unwrap_err();
        assert_eq!(v.code, Code::Pattern);
    }

    #[test]
    fn the_seeds_numbers_are_valid() {
        for n in [
            "+16479308804",
            "+16062128688",
            "+12702289911",
            "+16479308815",
        ] {
            assert!(E164::parse("n", n, 15).is_ok(), "{n}");
        }
    }

    #[test]
    fn pattern_length_and_plan_are_each_checked() {
        assert_eq!(E164::parse("n", "12", 15).unwrap_err().code, Code::Pattern);
        assert_eq!(
            E164::parse("n", "+1647930880412", 13).unwrap_err().code,
            Code::Size
        );
        assert_eq!(
            E164::parse("n", "+10000000000", 15).unwrap_err().code,
            Code::InvalidValue
        );
    }

    #[test]
    fn nanp_numbers_share_plus_one_and_keep_their_region_and_area_code() {
        let f = facts("+16479308804");
        assert_eq!(
            (f.calling_code, f.region.as_deref(), f.area_code.as_deref()),
            (1, Some("CA"), Some("647"))
        );
    }
}
