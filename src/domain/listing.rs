//! Listing rules shared by every list endpoint: page numbers and sizes, the
//! accounts-style `filter` grammar and `orderBy`. Each endpoint passes its own limits
//! and field names; the links that point at neighbouring pages are built in
//! `http::listing`.

use super::violation::{Code, Violation};

/// Page-size rules of one endpoint, as its spec states them.
#[derive(Debug, Clone, Copy)]
pub struct PageRules {
    pub default_size: u32,
    pub min_size: u32,
    pub max_size: u32,
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based page number.
    pub number: u32,
    pub size: u32,
}

/// The largest page number accepted; beyond it offsets would overflow nothing useful.
const MAX_PAGE_NUMBER: u32 = 1_000_000;

impl Page {
    /// Parses `pageNumber` and `pageSize`. Out-of-range values are rejected, never
    /// clamped, so a client learns that it did not get what it asked for.
    pub fn parse(
        rules: PageRules,
        number: Option<&str>,
        size: Option<&str>,
    ) -> Result<Self, Vec<Violation>> {
        let mut errors = Vec::new();
        let mut int = |field: &str, raw: Option<&str>, default: u32, min: u32, max: u32| match raw {
            None => default,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if n >= i64::from(min) && n <= i64::from(max) => n as u32,
                Ok(_) => {
                    errors.push(Violation::new(
                        field,
                        Code::Range,
                        format!("must be between {min} and {max}"),
                    ));
                    default
                }
                Err(_) => {
                    errors.push(Violation::new(
                        field,
                        Code::InvalidType,
                        "must be an integer",
                    ));
                    default
                }
            },
        };
        let number = int("pageNumber", number, 1, 1, MAX_PAGE_NUMBER);
        let size = int(
            "pageSize",
            size,
            rules.default_size,
            rules.min_size,
            rules.max_size,
        );
        if errors.is_empty() {
            Ok(Self { number, size })
        } else {
            Err(errors)
        }
    }

    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        (i64::from(self.number) - 1) * i64::from(self.size)
    }

    /// True when rows exist after this page.
    pub fn has_next(&self, total: i64) -> bool {
        self.offset() + i64::from(self.size) < total
    }
}

/// How a filter value is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// `field=value`: the exact string, case-sensitive.
    Exact(String),
    /// `field:value`: the whole value, ignoring case.
    Equals(String),
    /// `field:value*`
    Prefix(String),
    /// `field:*value`
    Suffix(String),
    /// `field:*value*`
    Contains(String),
}

impl Match {
    /// A SQL `LIKE` pattern (escape character `\`) for the case-insensitive forms,
    /// lower-cased so that it compares against lower-cased columns on both backends.
    pub fn like_pattern(&self) -> Option<String> {
        let esc = |s: &str| {
            s.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        };
        match self {
            Match::Exact(_) => None,
            Match::Equals(s) => Some(esc(s)),
            Match::Prefix(s) => Some(format!("{}%", esc(s))),
            Match::Suffix(s) => Some(format!("%{}", esc(s))),
            Match::Contains(s) => Some(format!("%{}%", esc(s))),
        }
    }

    /// The compared text, without wildcards.
    pub fn value(&self) -> &str {
        match self {
            Match::Exact(s)
            | Match::Equals(s)
            | Match::Prefix(s)
            | Match::Suffix(s)
            | Match::Contains(s) => s,
        }
    }
}

/// One parsed `filter` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter<F> {
    pub field: F,
    pub matcher: Match,
}

/// The spec's maximum length of `filter` and `orderBy`.
pub const EXPRESSION_MAX: usize = 255;

/// Parses the accounts-style filter: `field:value`, `field:prefix*`, `field:*suffix`,
/// `field:*infix*` (case-insensitive) or `field=value` (exact). Everything after the
/// operator is the value, commas included, since account names may contain commas.
pub fn parse_filter<F: Copy>(raw: &str, fields: &[(&str, F)]) -> Result<Filter<F>, Violation> {
    let invalid = |msg: String| Violation::new("filter", Code::InvalidExpression, msg);
    if raw.chars().count() > EXPRESSION_MAX {
        return Err(Violation::size("filter", 0, EXPRESSION_MAX));
    }
    let names = || {
        fields
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(at) = raw.find([':', '=']) else {
        return Err(invalid(format!(
            "must be <field>:<value> or <field>=<value> with <field> one of {}",
            names()
        )));
    };
    let (name, op, value) = (&raw[..at], &raw[at..=at], &raw[at + 1..]);
    let Some(field) = fields.iter().find(|(n, _)| *n == name).map(|(_, f)| *f) else {
        return Err(invalid(format!(
            "cannot filter on '{name}'; fields: {}",
            names()
        )));
    };
    if op == "=" {
        return Ok(Filter {
            field,
            matcher: Match::Exact(value.to_owned()),
        });
    }
    let lead = value.starts_with('*');
    let rest = if lead { &value[1..] } else { value };
    let trail = rest.ends_with('*');
    let inner = if trail { &rest[..rest.len() - 1] } else { rest };
    if inner.is_empty() || inner.contains('*') {
        return Err(invalid(
            "the value must be non-empty, with '*' only at its start or end".to_owned(),
        ));
    }
    let inner = inner.to_owned();
    let matcher = match (lead, trail) {
        (false, false) => Match::Equals(inner),
        (false, true) => Match::Prefix(inner),
        (true, false) => Match::Suffix(inner),
        (true, true) => Match::Contains(inner),
    };
    Ok(Filter { field, matcher })
}

/// A parsed `orderBy`: a field and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderBy<F> {
    pub field: F,
    pub descending: bool,
}

/// Parses `orderBy` as the specs define it: a case-sensitive field name, optionally
/// followed by ` desc` (or ` asc`).
pub fn parse_order_by<F: Copy>(
    raw: Option<&str>,
    fields: &[(&str, F)],
    default: F,
) -> Result<OrderBy<F>, Violation> {
    let Some(raw) = raw else {
        return Ok(OrderBy {
            field: default,
            descending: false,
        });
    };
    if raw.chars().count() > EXPRESSION_MAX {
        return Err(Violation::size("orderBy", 0, EXPRESSION_MAX));
    }
    let (name, descending) = match raw.split_once(' ') {
        Some((n, "desc")) => (n, true),
        Some((n, "asc")) => (n, false),
        Some(_) => ("", false),
        None => (raw, false),
    };
    fields
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| OrderBy {
            field: *f,
            descending,
        })
        .ok_or_else(|| {
            let names: Vec<_> = fields.iter().map(|(n, _)| *n).collect();
            Violation::new(
                "orderBy",
                Code::InvalidExpression,
                format!(
                    "must be one of {} optionally followed by ' desc'",
                    names.join(", ")
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: PageRules = PageRules {
        default_size: 5,
        min_size: 5,
        max_size: 50,
    };
    const FIELDS: [(&str, u8); 2] = [("name", 1), ("accountId", 2)];

    #[test]
    fn pages_default_to_the_first_of_the_default_size() {
        assert_eq!(
            Page::parse(RULES, None, None).unwrap(),
            Page { number: 1, size: 5 }
        );
    }

    #[test]
    fn out_of_range_page_sizes_are_rejected_not_clamped() {
        let e = Page::parse(RULES, Some("0"), Some("51")).unwrap_err();
        assert_eq!(
            e.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(),
            ["pageNumber", "pageSize"]
        );
        assert_eq!(
            Page::parse(RULES, Some("x"), None).unwrap_err()[0].code,
            Code::InvalidType
        );
    }

    #[test]
    fn has_next_is_false_on_the_last_page() {
        let p = Page { number: 2, size: 5 };
        assert!(p.has_next(11));
        assert!(!p.has_next(10));
    }

    #[test]
    fn filter_forms_parse_to_their_matchers() {
        let m = |s| parse_filter(s, &FIELDS).unwrap().matcher;
        assert_eq!(m("name:SyncG"), Match::Equals("SyncG".into()));
        assert_eq!(m("name:Sync*"), Match::Prefix("Sync".into()));
        assert_eq!(m("name:*G"), Match::Suffix("G".into()));
        assert_eq!(m("name:*yn*"), Match::Contains("yn".into()));
        assert_eq!(m("name=SyncG"), Match::Exact("SyncG".into()));
        assert_eq!(m("name:a,b"), Match::Equals("a,b".into()));
        assert_eq!(parse_filter("accountId:AB*", &FIELDS).unwrap().field, 2);
    }

    #[test]
    fn bad_filters_are_rejected() {
        for bad in [
            "name",
            "colour:red",
            "name:",
            "name:*",
            "name:a*b",
            "name:**",
        ] {
            assert!(parse_filter(bad, &FIELDS).is_err(), "{bad}");
        }
    }

    #[test]
    fn like_patterns_escape_wildcards_in_values() {
        assert_eq!(
            Match::Prefix("50%_a".into()).like_pattern().unwrap(),
            "50\\%\\_a%"
        );
    }

    #[test]
    fn order_by_takes_a_field_and_an_optional_desc() {
        let o = parse_order_by(Some("name desc"), &FIELDS, 1).unwrap();
        assert!(o.descending);
        assert!(parse_order_by(Some("Name"), &FIELDS, 1).is_err());
        assert!(parse_order_by(Some("name sideways"), &FIELDS, 1).is_err());
        assert_eq!(parse_order_by(None, &FIELDS, 2).unwrap().field, 2);
    }
}
