//! Field-level violations: the `violations[]` items of an AXP problem body.
//!
//! Every code the server can answer is a variant of [`Code`], so that the table in
//! `docs/errors.md` and the code cannot drift apart.

use serde::Serialize;

/// A violation code. The spec defines 20002, 20006 and 20007; the others are ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The body or a value is not of the expected JSON type, or is not JSON at all.
    InvalidType,
    /// A required value is missing or `null` (spec).
    Required,
    /// A string or array is shorter or longer than allowed.
    Size,
    /// A number is outside its allowed range.
    Range,
    /// A value is not one of the allowed values.
    InvalidValue,
    /// A string does not match the required pattern (spec).
    Pattern,
    /// Too many records were asked for at once (spec).
    TooManyRecords,
    /// A value appears twice where it must be unique.
    Duplicate,
    /// A filter or orderBy expression cannot be parsed.
    InvalidExpression,
    /// The caller may not change this field.
    ReadOnly,
}

impl Code {
    /// The integer sent in `violations[].code`.
    pub fn as_i32(self) -> i32 {
        match self {
            Code::InvalidType => 20001,
            Code::Required => 20002,
            Code::Size => 20003,
            Code::Range => 20004,
            Code::InvalidValue => 20005,
            Code::Pattern => 20006,
            Code::TooManyRecords => 20007,
            Code::Duplicate => 20008,
            Code::InvalidExpression => 20009,
            Code::ReadOnly => 20010,
        }
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(self.as_i32())
    }
}

/// One thing wrong with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Violation {
    /// The path of the field: `name`, `domains[1].domainName`, a path or query parameter.
    pub field: String,
    /// A human-readable explanation; clients should act on `code`, not on this text.
    pub message: String,
    /// The machine-readable code (docs/errors.md lists them).
    #[schema(value_type = i32, minimum = 20001, maximum = 20010, example = 20006)]
    pub code: Code,
}

impl Violation {
    /// A violation of `field` with `code`.
    pub fn new(field: impl Into<String>, code: Code, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            code,
        }
    }

    /// `field` is missing or null.
    pub fn required(field: impl Into<String>) -> Self {
        Self::new(field, Code::Required, "must not be null")
    }

    /// `field` does not match `pattern`, worded as the spec words it.
    pub fn pattern(field: impl Into<String>, pattern: &str) -> Self {
        Self::new(field, Code::Pattern, format!("must match \"{pattern}\""))
    }

    /// `field` has a length outside `min..=max`.
    pub fn size(field: impl Into<String>, min: usize, max: usize) -> Self {
        Self::new(
            field,
            Code::Size,
            format!("size must be between {min} and {max}"),
        )
    }
}

/// Collects violations while a request is converted into domain values.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one violation.
    pub fn push(&mut self, v: Violation) {
        self.0.push(v);
    }

    /// Records the error of a checked value, if any, and passes the value on.
    pub fn check<T>(&mut self, r: Result<T, Violation>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, else every violation.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<Violation>> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self.0)
        }
    }

    /// The recorded violations.
    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }
}

/// Checks that `value` has between `min` and `max` characters (Unicode scalar values).
pub fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), Violation> {
    let n = value.chars().count();
    if n < min || n > max {
        Err(Violation::size(field, min, max))
    } else {
        Ok(())
    }
}

/// Checks that a list has at most `max` items.
pub fn check_max_items(field: &str, len: usize, max: usize) -> Result<(), Violation> {
    if len > max {
        Err(Violation::size(field, 0, max))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_integers() {
        assert_eq!(Code::Required.as_i32(), 20002);
        assert_eq!(Code::Pattern.as_i32(), 20006);
        assert_eq!(Code::TooManyRecords.as_i32(), 20007);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(check_len("name", "ééé", 1, 3).is_ok());
        assert!(check_len("name", "éééé", 1, 3).is_err());
    }
}
