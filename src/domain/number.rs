//! Phone numbers of a contact center, and the inventory they come from.

use serde::{Deserialize, Serialize};

use super::phone::E164;
use super::violation::{Code, Violation, Violations, check_len};

/// The spec's message for a number whose activation waits for documents.
pub const VERIFICATION_MESSAGE: &str = "Verification needed. Please send the necessary documents to siptrunksupport@avaya.com to activate it.";

/// The longest phone number (the spec's `maxLength`).
pub const NUMBER_MAX_LEN: usize = 15;

/// A number's type: LOCAL or TOLLFREE, UNKNOWN until activation tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// A number's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// An ISO country code as the voice spec writes it: two upper-case letters.
pub fn check_country(field: &str, value: &str) -> Result<(), Violation> {
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(Violation::pattern(field, "^[A-Z]{2}$"))
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

/// `POST .../phone-numbers` as sent; read-only fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumberIn {
    phone_number: Option<String>,
    country_code: Option<String>,
    display_name: Option<String>,
    is_calling_party_number: Option<bool>,
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
            v.check(check_country("countryCode", c));
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

/// `PUT .../phone-numbers/{id}` as sent (the spec's `UpdatePhoneNumber`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberSettingsIn {
    display_name: Option<String>,
    is_calling_party_number: Option<bool>,
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

/// A number as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumberOut<'a> {
    phone_number_id: &'a str,
    phone_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_calling_party_number: Option<bool>,
    country_code: &'a str,
    #[serde(rename = "type")]
    number_type: &'static str,
    account_id: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
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

/// An available number as the search answers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailableOut<'a> {
    phone_number: &'a str,
    country_code: &'a str,
    #[serde(rename = "type")]
    number_type: &'static str,
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
