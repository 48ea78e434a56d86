//! Phone numbers of a contact center, and the inventory they come from.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::phone::E164;
use super::schemas::AvailableNumberType;
use super::violation::{Code, Violation, Violations, check_len};

/// The spec's message for a number whose activation waits for documents.
pub const VERIFICATION_MESSAGE: &str = "Verification needed. Please send the necessary documents to siptrunksupport@avaya.com to activate it.";

/// The longest phone number (the spec's `maxLength`).
pub const NUMBER_MAX_LEN: usize = 15;

/// The voice spec's pattern for country codes.
pub const COUNTRY_PATTERN: &str = "^[A-Z]{2}$";

/// What the available search's `phoneNumber` takes: digits the numbers contain,
/// optionally after a leading `+` (at most [`NUMBER_MAX_LEN`] characters).
pub const FRAGMENT_PATTERN: &str = r"^\+?[0-9]+$";

static FRAGMENT_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(FRAGMENT_PATTERN).expect("the fragment pattern is a valid regex"));

/// The account id of `:getByPhoneNumbers`: an account's, or `*` with which an
/// Administrator names the account in the filter.
pub const ACCOUNT_OR_ANY_PATTERN: &str = r"^([a-zA-Z]{6}|\*)$";

static ACCOUNT_OR_ANY_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(ACCOUNT_OR_ANY_PATTERN).expect("the account-or-any pattern is a valid regex")
});

/// A number's type: LOCAL or TOLLFREE, UNKNOWN until activation tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = "LOCAL")]
pub enum NumberType {
    #[serde(rename = "LOCAL")]
    Local,
    #[serde(rename = "TOLLFREE")]
    TollFree,
    #[serde(rename = "UNKNOWN")]
    Unknown,
}

impl NumberType {
    /// The type as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberType::Local => "LOCAL",
            NumberType::TollFree => "TOLLFREE",
            NumberType::Unknown => "UNKNOWN",
        }
    }

    /// An inventory type (`LOCAL` or `TOLLFREE`).
    pub fn parse_inventory(s: &str) -> Option<Self> {
        match s {
            "LOCAL" => Some(NumberType::Local),
            "TOLLFREE" => Some(NumberType::TollFree),
            _ => None,
        }
    }

    /// Any stored type.
    pub fn parse(s: &str) -> Option<Self> {
        Self::parse_inventory(s).or((s == "UNKNOWN").then_some(NumberType::Unknown))
    }
}

/// A number's status: INPROGRESS until its activation ends, then ACTIVE, INACTIVE
/// (documents needed) or FAILED; DISABLED by an Administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = "ACTIVE")]
pub enum NumberStatus {
    #[serde(rename = "INPROGRESS")]
    InProgress,
    #[serde(rename = "ACTIVE")]
    Active,
    #[serde(rename = "INACTIVE")]
    Inactive,
    #[serde(rename = "DISABLED")]
    Disabled,
    #[serde(rename = "FAILED")]
    Failed,
}

impl NumberStatus {
    /// Every status, for filters.
    pub const ALL: [NumberStatus; 5] = [
        NumberStatus::InProgress,
        NumberStatus::Active,
        NumberStatus::Inactive,
        NumberStatus::Disabled,
        NumberStatus::Failed,
    ];

    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberStatus::InProgress => "INPROGRESS",
            NumberStatus::Active => "ACTIVE",
            NumberStatus::Inactive => "INACTIVE",
            NumberStatus::Disabled => "DISABLED",
            NumberStatus::Failed => "FAILED",
        }
    }

    /// Parses a stored status.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// An ISO country code as the voice spec writes it: two upper-case ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountryCode(String);

impl CountryCode {
    /// Parses `value`, naming `field` in the violation when it is not two upper-case
    /// letters.
    pub fn parse_field(field: &str, value: &str) -> Result<Self, Violation> {
        if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(Violation::pattern(field, COUNTRY_PATTERN))
        }
    }

    /// The code, two upper-case letters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the available-number search's `phoneNumber` looks for: 1 to
/// [`NUMBER_MAX_LEN`] ASCII digits, optionally after a leading `+`. So it has no
/// character that a `like` pattern treats specially, and each of its characters sorts
/// before `:`, which the search's index ranges rely on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchFragment(String);

impl SearchFragment {
    /// Parses `value`, naming `field` in the violation when it is not a fragment.
    pub fn parse_field(field: &str, value: &str) -> Result<Self, Violation> {
        if value.len() <= NUMBER_MAX_LEN && FRAGMENT_RE.is_match(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(Violation::new(
                field,
                Code::Pattern,
                "must be 1 to 15 characters: digits, optionally after a leading +",
            ))
        }
    }

    /// The fragment as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it starts with `+`, so that it can only match at a number's start.
    pub fn is_leading(&self) -> bool {
        self.0.starts_with('+')
    }

    /// Its length in characters (ASCII, so also in bytes).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true: a fragment has at least one character.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Checks the account id of `:getByPhoneNumbers`: six letters or `*`.
pub fn check_account_or_any(field: &str, value: &str) -> Result<(), Violation> {
    if ACCOUNT_OR_ANY_RE.is_match(value) {
        Ok(())
    } else {
        Err(Violation::pattern(field, ACCOUNT_OR_ANY_PATTERN))
    }
}

/// The fields of a number a client may set (PUT replaces them whole).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_calling_party_number: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_media_location: Option<String>,
}

/// A number to add. Read-only fields of `PhoneNumber` (`phoneNumberId`, `type`,
/// `accountId`, `status`, `statusMessage`) are ignored.
// `POST .../phone-numbers` as sent.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PhoneNumberRequest)]
pub struct PhoneNumberIn {
    /// The number to add, in E.164 form; it must be available to the account (see
    /// `available-phone-numbers`).
    #[schema(
        required = true,
        nullable = false,
        min_length = 5,
        max_length = 15,
        pattern = r"^\+[1-9]\d{3,13}$",
        example = "+16479308804"
    )]
    phone_number: Option<String>,
    /// When sent, it must be the country the inventory offers the number in.
    #[schema(
        nullable = false,
        min_length = 2,
        max_length = 2,
        pattern = "^[A-Z]{2}$",
        example = "US"
    )]
    country_code: Option<String>,
    /// Any name that identifies the number easily.
    #[schema(nullable = false, max_length = 255, example = "private Number")]
    display_name: Option<String>,
    /// Whether the number is a caller id.
    #[schema(nullable = false, example = true)]
    is_calling_party_number: Option<bool>,
    /// The preferred media location, instead of the default.
    #[schema(nullable = false, min_length = 1, max_length = 7, example = "US-LA")]
    preferred_media_location: Option<String>,
}

/// A validated request to add a number.
#[derive(Debug, Clone)]
pub struct NewPhoneNumber {
    pub phone_number: E164,
    pub country_code: Option<String>,
    pub settings: NumberSettings,
}

fn check_settings(v: &mut Violations, display_name: &Option<String>, location: &Option<String>) {
    if let Some(d) = display_name {
        v.check(check_len("displayName", d, 0, 255));
    }
    if let Some(l) = location {
        v.check(check_len("preferredMediaLocation", l, 1, 7));
    }
}

impl TryFrom<PhoneNumberIn> for NewPhoneNumber {
    type Error = Vec<Violation>;

    fn try_from(input: PhoneNumberIn) -> Result<Self, Self::Error> {
        let mut v = Violations::new();
        let number = match &input.phone_number {
            None => {
                v.push(Violation::required("phoneNumber"));
                None
            }
            // The plan is checked only for numbers absent from the inventory: every
            // plan check grows the numbering plan's regex caches, per thread, with each
            // new number (tests/api/soak.rs measured it).
            Some(n) => v.check(E164::parse_form("phoneNumber", n, NUMBER_MAX_LEN)),
        };
        if let Some(c) = &input.country_code {
            v.check(CountryCode::parse_field("countryCode", c));
        }
        check_settings(&mut v, &input.display_name, &input.preferred_media_location);
        match (number, v.is_empty()) {
            (Some(phone_number), true) => Ok(NewPhoneNumber {
                phone_number,
                country_code: input.country_code,
                settings: NumberSettings {
                    display_name: input.display_name,
                    is_calling_party_number: input.is_calling_party_number,
                    preferred_media_location: input.preferred_media_location,
                },
            }),
            _ => Err(v.into_vec()),
        }
    }
}

/// The settings of a number: a complete replacement, omitted ones are removed. Other
/// fields are ignored.
// `PUT .../phone-numbers/{id}` as sent.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UpdatePhoneNumber)]
pub struct NumberSettingsIn {
    /// Any name that identifies the number easily.
    #[schema(nullable = false, max_length = 255, example = "private Number")]
    display_name: Option<String>,
    /// Whether the number is a caller id.
    #[schema(nullable = false, example = true)]
    is_calling_party_number: Option<bool>,
    /// The preferred media location, instead of the default.
    #[schema(nullable = false, min_length = 1, max_length = 7, example = "US-LA")]
    preferred_media_location: Option<String>,
}

impl TryFrom<NumberSettingsIn> for NumberSettings {
    type Error = Vec<Violation>;

    fn try_from(input: NumberSettingsIn) -> Result<Self, Self::Error> {
        let mut v = Violations::new();
        check_settings(&mut v, &input.display_name, &input.preferred_media_location);
        v.finish(|| NumberSettings {
            display_name: input.display_name,
            is_calling_party_number: input.is_calling_party_number,
            preferred_media_location: input.preferred_media_location,
        })
    }
}

/// A number an account holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    pub phone_number_id: String,
    pub account_id: String,
    pub phone_number: String,
    pub country_code: String,
    pub number_type: NumberType,
    pub settings: NumberSettings,
    pub status: NumberStatus,
    pub status_message: Option<String>,
}

/// A number an account holds, as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PhoneNumber)]
pub struct PhoneNumberOut<'a> {
    /// The number's id (a lower-case UUID).
    #[schema(example = "c8c2909d-75e9-484a-94c0-b7e8d29771fe")]
    phone_number_id: &'a str,
    /// The number in E.164 form.
    #[schema(
        min_length = 5,
        max_length = 15,
        pattern = r"^\+[1-9]\d{3,13}$",
        example = "+16479308804"
    )]
    phone_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 255, example = "private Number")]
    display_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = true)]
    is_calling_party_number: Option<bool>,
    /// The ISO country code the inventory offers the number in.
    #[schema(min_length = 2, max_length = 2, pattern = "^[A-Z]{2}$", example = "US")]
    country_code: &'a str,
    /// UNKNOWN until the activation ends.
    #[serde(rename = "type")]
    #[schema(value_type = NumberType)]
    number_type: &'static str,
    /// The account that holds the number.
    #[schema(
        min_length = 6,
        max_length = 6,
        pattern = "^[a-zA-Z]{6}$",
        example = "ABCDEF"
    )]
    account_id: &'a str,
    #[schema(value_type = NumberStatus)]
    status: &'static str,
    /// Why the activation failed, or what it waits for (INACTIVE: the documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        example = "Verification needed. Please send the necessary documents to siptrunksupport@avaya.com to activate it."
    )]
    status_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_length = 1, max_length = 7, example = "US-LA")]
    preferred_media_location: Option<&'a str>,
}

impl PhoneNumber {
    /// The representation the API answers with.
    pub fn to_out(&self) -> PhoneNumberOut<'_> {
        PhoneNumberOut {
            phone_number_id: &self.phone_number_id,
            phone_number: &self.phone_number,
            display_name: self.settings.display_name.as_deref(),
            is_calling_party_number: self.settings.is_calling_party_number,
            country_code: &self.country_code,
            number_type: self.number_type.as_str(),
            account_id: &self.account_id,
            status: self.status.as_str(),
            status_message: self.status_message.as_deref(),
            preferred_media_location: self.settings.preferred_media_location.as_deref(),
        }
    }
}

/// A number of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryEntry {
    pub phone_number: String,
    pub country_code: String,
    pub number_type: NumberType,
    pub area_code: String,
    pub documentation_required: bool,
}

/// A number of the inventory that no account holds, as the search answers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AvailablePhoneNumber)]
pub struct AvailableOut<'a> {
    /// The number in E.164 form.
    #[schema(
        min_length = 5,
        max_length = 15,
        pattern = r"^\+[1-9]\d{3,13}$",
        example = "+16479308804"
    )]
    phone_number: &'a str,
    /// The ISO country code.
    #[schema(min_length = 2, max_length = 2, pattern = "^[A-Z]{2}$", example = "US")]
    country_code: &'a str,
    #[serde(rename = "type")]
    #[schema(value_type = AvailableNumberType)]
    number_type: &'static str,
    /// Whether the number stays INACTIVE after it is added, until documents are sent.
    #[schema(example = true)]
    documentation_required: bool,
}

impl InventoryEntry {
    /// The representation the search answers with.
    pub fn to_out(&self) -> AvailableOut<'_> {
        AvailableOut {
            phone_number: &self.phone_number,
            country_code: &self.country_code,
            number_type: self.number_type.as_str(),
            documentation_required: self.documentation_required,
        }
    }
}

/// The violation for a number that is not in the inventory or is held by another
/// account: the same answer for both, so nothing tells that another account has it.
pub fn not_available(number: &str) -> Violation {
    Violation::new(
        "phoneNumber",
        Code::InvalidValue,
        format!("{number} is not available to add; search available-phone-numbers"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_seeds_add_request_is_valid() {
        let input: PhoneNumberIn = serde_json::from_value(json!({"phoneNumber": "+16479308804",
            "displayName": "private Number", "countryCode": "US", "isCallingPartyNumber": true}))
        .unwrap();
        let n = NewPhoneNumber::try_from(input).unwrap();
        assert_eq!(n.phone_number.as_str(), "+16479308804");
    }

    #[test]
    fn a_country_code_is_two_upper_case_letters() {
        assert_eq!(CountryCode::parse_field("c", "US").unwrap().as_str(), "US");
        for bad in ["us", "USA", "U", "", "Ü1"] {
            assert_eq!(
                CountryCode::parse_field("c", bad).unwrap_err().code,
                Code::Pattern,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_leading_plus_makes_a_fragment_leading() {
        let f = SearchFragment::parse_field("f", "+1647").unwrap();
        assert!(f.is_leading());
        assert_eq!(f.len(), 5);
        assert!(
            !SearchFragment::parse_field("f", "1647")
                .unwrap()
                .is_leading()
        );
    }

    #[test]
    fn fragments_are_digits_after_at_most_one_plus() {
        for ok in ["1", "+1", "+16479308804", "123456789012345"] {
            assert!(SearchFragment::parse_field("f", ok).is_ok(), "{ok}");
        }
        for bad in ["", "+", "++1", "1+", "12a", "1234567890123456", "\u{663}"] {
            assert_eq!(
                SearchFragment::parse_field("f", bad).unwrap_err().code,
                Code::Pattern,
                "{bad}"
            );
        }
    }

    #[test]
    fn the_batch_account_id_is_six_letters_or_a_star() {
        for ok in ["ABCDEF", "abcdef", "*"] {
            assert!(check_account_or_any("accountId", ok).is_ok(), "{ok}");
        }
        for bad in ["", "**", "ABCDE", "ABCDEFG", "ABC*EF", "ABCDE1"] {
            assert!(check_account_or_any("accountId", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_numbers_countries_and_locations_are_named() {
        let input: PhoneNumberIn =
            serde_json::from_value(json!({"phoneNumber": "12", "countryCode": "us",
            "preferredMediaLocation": "TOO-LONG-X"}))
            .unwrap();
        let e = NewPhoneNumber::try_from(input).unwrap_err();
        let got: Vec<_> = e
            .iter()
            .map(|v| (v.field.as_str(), v.code.as_i32()))
            .collect();
        assert_eq!(
            got,
            [
                ("phoneNumber", 20006),
                ("countryCode", 20006),
                ("preferredMediaLocation", 20003)
            ]
        );
    }
}
