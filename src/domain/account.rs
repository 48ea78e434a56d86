//! Accounts: the AXP `Account` resource, its validation rules and its features.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::feature::{Feature, Features};
use super::ids::AccountId;
use super::role::FeatureGrants;
use super::schemas::{AccountFeatures, AddressType};
use super::violation::{Code, Violation, Violations, check_len, check_max_items};

/// The spec's pattern for account names.
pub const NAME_PATTERN: &str =
    r#"^(?=.*[a-zA-Z0-9\p{L}])[a-zA-Z0-9\p{L}(){};,:'^+<>&£@$¥€`~?#%+*"\\=\[\]\-\_\.\!\|\ ]+$"#;
/// The spec's pattern for domain names.
pub const DOMAIN_PATTERN: &str = r"^((?!-)[A-Za-z0-9\p{L}-]{1,63}(?<!-)\.)+[A-Za-z\p{L}]{2,63}$";
/// The spec's pattern for emergency e-mail addresses.
pub const EMAIL_PATTERN: &str = r"^[a-zA-Z\p{L}0-9+-_.]+(?:\.[a-zA-Z\p{L}0-9+-_.]+)*@(?:[a-zA-Z\p{L}0-9-]+\.)+[a-zA-Z\p{L}]{2,6}$";
/// The spec's pattern for address names.
pub const ADDRESS_NAME_PATTERN: &str =
    r"^[a-zA-Z\p{L}0-9]+([ ]*[a-zA-Z\p{L}0-9-\_\*\=\+\$\:\;\&\~\,\?\%\!\|\{\}\`\.\']+)*$";
/// The spec's pattern for zip codes.
pub const ZIP_PATTERN: &str = r"^[A-Za-z0-9\p{L}_ -]*$";
pub use super::ids::UUID_PATTERN;
/// The spec's pattern for account property names and keys and node type names.
pub const LABEL_PATTERN: &str = r"^[a-zA-Z0-9\p{L}\-\_\.\ ]+$";
/// The spec's pattern for profile ids.
pub const PROFILE_ID_PATTERN: &str = r"^[a-zA-Z0-9\-\_\.\ ]+$";

/// The address types the spec enumerates.
pub const ADDRESS_TYPES: [&str; 23] = [
    "OFFICE",
    "APARTMENT",
    "BASEMENT",
    "BUILDING",
    "DEPARTMENT",
    "FLOOR",
    "FRONT",
    "KEY",
    "LOBBY",
    "LOT",
    "LOWER",
    "PENTHOUSE",
    "PIER",
    "REAR",
    "ROOM",
    "SIDE",
    "SLIP",
    "SPACE",
    "STOP",
    "SUITE",
    "TRAILER",
    "UNIT",
    "UPPER",
];

// The `regex` crate has no look-around, so the spec's look-arounds are checked in code
// and these are the look-around-free remainders of the spec's patterns.
static NAME_CHARS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^[a-zA-Z0-9\p{L}(){};,:'^+<>&£@$¥€`~?#%*"\\=\[\]\-_.!| ]+$"#)
        .expect("the account name pattern is a valid regex")
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-zA-Z\p{L}0-9+-_.]+(?:\.[a-zA-Z\p{L}0-9+-_.]+)*@(?:[a-zA-Z\p{L}0-9-]+\.)+[a-zA-Z\p{L}]{2,6}$")
        .expect("the e-mail pattern is a valid regex")
});
static ADDRESS_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-zA-Z\p{L}0-9]+([ ]*[a-zA-Z\p{L}0-9\-_*=+$:;&~,?%!|{}`.']+)*$")
        .expect("the address name pattern is a valid regex")
});
static ZIP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9\p{L}_ -]*$").expect("the zip pattern is a valid regex")
});
static LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-zA-Z0-9\p{L}\-_. ]+$").expect("the label pattern is a valid regex")
});
static LETTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\p{L}").expect("the letter class is a valid regex"));

fn is_letter(c: char) -> bool {
    let mut buf = [0u8; 4];
    LETTER.is_match(c.encode_utf8(&mut buf))
}

/// Checks an account name against the spec's pattern and length.
pub fn check_account_name(field: &str, name: &str) -> Result<(), Violation> {
    check_len(field, name, 1, 255)?;
    let has_alnum = name
        .chars()
        .any(|c| c.is_ascii_alphanumeric() || is_letter(c));
    if has_alnum && NAME_CHARS.is_match(name) {
        Ok(())
    } else {
        Err(Violation::pattern(field, NAME_PATTERN))
    }
}

/// Checks a domain name against the spec's pattern (labels of 1 to 63 characters that
/// neither start nor end with `-`, then a top-level label of 2 to 63 letters).
pub fn check_domain_name(field: &str, domain: &str) -> Result<(), Violation> {
    check_len(field, domain, 3, 255)?;
    let labels: Vec<&str> = domain.split('.').collect();
    let (tld, rest) = labels.split_last().expect("split yields at least one item");
    let label_ok = |l: &&str| {
        let n = l.chars().count();
        (1..=63).contains(&n)
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || is_letter(c))
    };
    let tld_n = tld.chars().count();
    let tld_ok =
        (2..=63).contains(&tld_n) && tld.chars().all(|c| c.is_ascii_alphabetic() || is_letter(c));
    if !rest.is_empty() && rest.iter().all(label_ok) && tld_ok {
        Ok(())
    } else {
        Err(Violation::pattern(field, DOMAIN_PATTERN))
    }
}

fn check_pattern(field: &str, value: &str, re: &Regex, pattern: &str) -> Result<(), Violation> {
    if re.is_match(value) {
        Ok(())
    } else {
        Err(Violation::pattern(field, pattern))
    }
}

/// A domain of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    /// The domain name, unique within the account (compared case-insensitively).
    #[schema(
        min_length = 3,
        max_length = 255,
        pattern = r"^((?!-)[A-Za-z0-9\p{L}-]{1,63}(?<!-)\.)+[A-Za-z\p{L}]{2,63}$",
        example = "acme.com"
    )]
    pub domain_name: String,
    /// Whether this is the account's default domain; exactly one is.
    pub is_default: bool,
}

/// A postal address of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = r"^[a-zA-Z\p{L}0-9]+([ ]*[a-zA-Z\p{L}0-9-\_\*\=\+\$\:\;\&\~\,\?\%\!\|\{\}\`\.\']+)*$",
        example = "OfficeAddress"
    )]
    pub address_name: String,
    /// Generated when the request has none; lower-case.
    #[schema(
        min_length = 36,
        max_length = 36,
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        example = "c8c2909d-75e9-484a-94c0-b7e8d29771fe"
    )]
    pub address_id: String,
    #[schema(min_length = 1, max_length = 16, example = "E-11")]
    pub street_number: String,
    #[schema(min_length = 2, max_length = 128, example = "Allstate Pkwy")]
    pub street_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<AddressType>)]
    pub address_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 64, example = "300A")]
    pub address_type_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 128, example = "Markham")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_length = 1, max_length = 3, example = "ON")]
    pub state: Option<String>,
    #[schema(min_length = 2, max_length = 2, example = "IN")]
    pub country_code: String,
    #[schema(
        min_length = 4,
        max_length = 16,
        pattern = r"^[A-Za-z0-9\p{L}_ -]*$",
        example = "L3R9T8"
    )]
    pub zip: String,
    /// Whether this is the account's default address; exactly one is.
    pub is_default: bool,
}

/// A free-form name/value pair of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountProperty {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = r"^[a-zA-Z0-9\p{L}\-\_\.\ ]+$",
        example = "dnis"
    )]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = r"^[a-zA-Z0-9\p{L}\-\_\.\ ]+$",
        example = "dnis"
    )]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 255, example = "1234")]
    pub value: Option<String>,
}

/// A level of the account's organization structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationNodeType {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = r"^[a-zA-Z0-9\p{L}\-\_\.\ ]+$",
        example = "Location"
    )]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = 1)]
    pub position: Option<i32>,
}

/// A reference to a user profile of the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Profile)]
pub struct ProfileRef {
    #[schema(
        min_length = 6,
        max_length = 6,
        pattern = r"^[a-zA-Z0-9\-\_\.\ ]+$",
        example = "AQXSWF"
    )]
    pub profile_id: String,
    /// The profile in the user API: `/api/admin/user/v1/accounts/{accountId}/profiles/{profileId}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 255,
        example = "/api/admin/user/v1/accounts/ABCDEF/profiles/AQXSWF"
    )]
    pub url: Option<String>,
    /// The profile's current name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 255, example = "profileAccount")]
    pub name: Option<String>,
}

/// The writable part of an account, validated: what a PUT replaces whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountBody {
    /// The account's name, unique on the platform (compared ignoring case).
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r#"^(?=.*[a-zA-Z0-9\p{L}])[a-zA-Z0-9\p{L}(){};,:'^+<>&£@$¥€`~?#%+*"\\=\[\]\-\_\.\!\|\ ]+$"#,
        example = "Acme"
    )]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 1024)]
    pub description: Option<String>,
    #[schema(max_items = 50)]
    pub domains: Vec<Domain>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, schema_with = emergency_email_addresses)]
    pub emergency_email_addresses: Option<Vec<String>>,
    /// The most users the account may have.
    #[schema(minimum = 1, example = 500)]
    pub account_size: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_items = 50)]
    pub addresses: Option<Vec<Address>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_items = 50)]
    pub account_properties: Option<Vec<AccountProperty>>,
    /// The levels of the account's organization structure.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_items = 50)]
    pub organization_node_types: Option<Vec<OrganizationNodeType>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_items = 200)]
    pub profiles: Option<Vec<ProfileRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<AccountFeatures>)]
    pub features: Option<Features>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_length = 2, max_length = 2, example = "IN")]
    pub country_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        min_length = 2,
        max_length = 256,
        example = "Europe/Berlin"
    )]
    pub timezone: Option<String>,
}

/// The schema of `emergencyEmailAddresses`: at most 10 addresses.
fn emergency_email_addresses() -> utoipa::openapi::Array {
    use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(255))
                .pattern(Some(EMAIL_PATTERN))
                .examples(["account1@acc.com"]),
        )
        .max_items(Some(10))
        .build()
}

impl AccountBody {
    /// The lower-cased name that platform-wide uniqueness is decided on.
    pub fn name_key(&self) -> String {
        self.name.to_lowercase()
    }

    /// The account as a caller granted only `grants` sees it: the seed says an
    /// Account Administrator has no access to features it was not granted.
    pub fn visible_to(&self, grants: &FeatureGrants) -> AccountBody {
        let mut out = self.clone();
        out.features = self.features.as_ref().map(|f| {
            Features::from_map(
                f.as_map()
                    .iter()
                    .filter(|(k, _)| grants.allows(k.as_str()))
                    .map(|(k, v)| (*k, v.clone()))
                    .collect(),
            )
        });
        out
    }

    /// A replacement by a caller granted only `grants` leaves the features it cannot
    /// see as they are in `current` when it omits them (it never saw them).
    pub fn keeping_hidden_features(
        mut self,
        current: &AccountBody,
        grants: &FeatureGrants,
    ) -> AccountBody {
        let mut map = self.feature_map().clone();
        for (k, v) in current.feature_map() {
            if !grants.allows(k.as_str()) {
                map.entry(*k).or_insert_with(|| v.clone());
            }
        }
        self.features =
            (!map.is_empty() || self.features.is_some()).then(|| Features::from_map(map));
        self
    }

    /// The features, empty when none were given.
    pub fn feature_map(&self) -> &BTreeMap<Feature, Value> {
        static EMPTY: BTreeMap<Feature, Value> = BTreeMap::new();
        self.features
            .as_ref()
            .map(Features::as_map)
            .unwrap_or(&EMPTY)
    }
}

/// A stored account.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub account_id: AccountId,
    pub is_default: bool,
    pub enabled: bool,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub body: AccountBody,
}

/// An account as the API shows it. An Account Administrator sees only the features
/// its client was granted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Account)]
pub struct AccountOut<'a> {
    #[schema(max_length = 1024, example = "/api/admin/account/v1/accounts/ABCDEF")]
    url: String,
    #[schema(
        min_length = 6,
        max_length = 6,
        pattern = "^[a-zA-Z]{6}$",
        example = "ABCDEF"
    )]
    account_id: &'a str,
    #[serde(flatten)]
    body: &'a AccountBody,
    /// True for the platform's default account only.
    is_default: bool,
    /// Always true: no operation disables an account.
    enabled: bool,
    /// The features whose provisioning completed (or that are being updated),
    /// comma-separated in the spec's order; absent when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "voice,chat")]
    enabled_features: Option<String>,
    #[schema(format = DateTime, example = "2021-11-13T20:25:39.534Z")]
    created_at: String,
}

impl Account {
    /// The account's canonical URL path.
    pub fn url(&self) -> String {
        format!("/api/admin/account/v1/accounts/{}", self.account_id)
    }

    /// The representation the API answers with, showing `body` (the account's own, or
    /// the part a caller may see). `enabled_features` lists the features whose
    /// provisioning completed, comma-separated, as the spec's `enabledFeatures`.
    pub fn to_out<'a>(
        &'a self,
        body: &'a AccountBody,
        enabled_features: Option<String>,
    ) -> AccountOut<'a> {
        AccountOut {
            url: self.url(),
            account_id: self.account_id.as_str(),
            body,
            is_default: self.is_default,
            enabled: self.enabled,
            enabled_features,
            created_at: super::time::rfc3339(self.created_at),
        }
    }
}

/// An account as a client sends it (POST or PUT). Every field is optional here so that
/// a missing required field is reported as a violation rather than a parse failure;
/// read-only fields (`accountId`, `isDefault`, `enabled`, `url`, `createdAt`,
/// `enabledFeatures`) and unknown fields are ignored, as the spec sets no
/// `additionalProperties: false`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = AccountRequest,
    description = "An account as a client sends it. Read-only fields (`accountId`, \
        `isDefault`, `enabled`, `url`, `createdAt`, `enabledFeatures`) and unknown \
        fields are ignored."
)]
pub struct AccountIn {
    /// Unique on the platform, ignoring case (409 otherwise).
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = r#"^(?=.*[a-zA-Z0-9\p{L}])[a-zA-Z0-9\p{L}(){};,:'^+<>&£@$¥€`~?#%+*"\\=\[\]\-\_\.\!\|\ ]+$"#,
        example = "Acme"
    )]
    name: Option<String>,
    #[schema(nullable = false, max_length = 1024)]
    description: Option<String>,
    /// Unique within the account, ignoring case; the first is the default unless one is
    /// marked, and at most one may be.
    #[schema(required = true, nullable = false, max_items = 50)]
    domains: Option<Vec<DomainIn>>,
    #[schema(nullable = false, schema_with = emergency_email_addresses)]
    emergency_email_addresses: Option<Vec<Option<String>>>,
    /// The most users the account may have. An Account Administrator may not change it
    /// (403).
    #[schema(
        required = true,
        nullable = false,
        value_type = Option<i32>,
        minimum = 1,
        maximum = 2147483647,
        example = 500
    )]
    account_size: Option<i64>,
    /// The first is the default unless one is marked, and at most one may be.
    #[schema(nullable = false, max_items = 50)]
    addresses: Option<Vec<AddressIn>>,
    #[schema(nullable = false, max_items = 50)]
    account_properties: Option<Vec<AccountProperty>>,
    #[schema(nullable = false, max_items = 50)]
    organization_node_types: Option<Vec<OrganizationNodeType>>,
    /// Each must be a profile of the account (so a new account can have none).
    #[schema(nullable = false, max_items = 200)]
    profiles: Option<Vec<ProfileRefIn>>,
    /// A complete replacement: a feature left out is removed. An Account Administrator
    /// may change only the features its client was granted (403).
    #[schema(nullable = false, value_type = Option<AccountFeatures>)]
    features: Option<serde_json::Map<String, Value>>,
    #[schema(nullable = false, min_length = 2, max_length = 2, example = "IN")]
    country_code: Option<String>,
    #[schema(
        nullable = false,
        min_length = 2,
        max_length = 256,
        example = "Europe/Berlin"
    )]
    timezone: Option<String>,
}

/// A domain as a client sends it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DomainRequest)]
struct DomainIn {
    #[schema(
        required = true,
        nullable = false,
        min_length = 3,
        max_length = 255,
        pattern = r"^((?!-)[A-Za-z0-9\p{L}-]{1,63}(?<!-)\.)+[A-Za-z\p{L}]{2,63}$",
        example = "acme.com"
    )]
    domain_name: Option<String>,
    #[schema(nullable = false, default = false)]
    is_default: Option<bool>,
}

/// An address as a client sends it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AddressRequest)]
struct AddressIn {
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 32,
        pattern = r"^[a-zA-Z\p{L}0-9]+([ ]*[a-zA-Z\p{L}0-9-\_\*\=\+\$\:\;\&\~\,\?\%\!\|\{\}\`\.\']+)*$",
        example = "OfficeAddress"
    )]
    address_name: Option<String>,
    /// Generated when absent, so an address sent without one gets a new id.
    #[schema(
        nullable = false,
        min_length = 36,
        max_length = 36,
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        example = "c8c2909d-75e9-484a-94c0-b7e8d29771fe"
    )]
    address_id: Option<String>,
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 16,
        example = "E-11"
    )]
    street_number: Option<String>,
    #[schema(
        required = true,
        nullable = false,
        min_length = 2,
        max_length = 128,
        example = "Allstate Pkwy"
    )]
    street_name: Option<String>,
    #[schema(nullable = false, value_type = Option<AddressType>)]
    address_type: Option<String>,
    #[schema(nullable = false, max_length = 64, example = "300A")]
    address_type_number: Option<String>,
    #[schema(nullable = false, max_length = 128, example = "Markham")]
    city: Option<String>,
    #[schema(nullable = false, min_length = 1, max_length = 3, example = "ON")]
    state: Option<String>,
    #[schema(
        required = true,
        nullable = false,
        min_length = 2,
        max_length = 2,
        example = "IN"
    )]
    country_code: Option<String>,
    #[schema(
        required = true,
        nullable = false,
        min_length = 4,
        max_length = 16,
        pattern = r"^[A-Za-z0-9\p{L}_ -]*$",
        example = "L3R9T8"
    )]
    zip: Option<String>,
    #[schema(nullable = false, default = false)]
    is_default: Option<bool>,
}

/// A profile reference as a client sends it: `url` and `name` are checked, then
/// replaced by the profile's own.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ProfileRequest)]
struct ProfileRefIn {
    #[schema(
        required = true,
        nullable = false,
        min_length = 6,
        max_length = 6,
        pattern = r"^[a-zA-Z0-9\-\_\.\ ]+$",
        example = "AQXSWF"
    )]
    profile_id: Option<String>,
    #[schema(nullable = false, min_length = 1, max_length = 255)]
    url: Option<String>,
    #[schema(nullable = false, max_length = 255)]
    name: Option<String>,
}

fn required<'a>(v: &mut Violations, field: &str, value: &'a Option<String>) -> Option<&'a str> {
    match value {
        Some(s) => Some(s.as_str()),
        None => {
            v.push(Violation::required(field));
            None
        }
    }
}

impl TryFrom<AccountIn> for AccountBody {
    type Error = Vec<Violation>;

    fn try_from(input: AccountIn) -> Result<Self, Self::Error> {
        let mut v = Violations::new();

        if let Some(name) = required(&mut v, "name", &input.name) {
            v.check(check_account_name("name", name));
        }
        if let Some(d) = &input.description {
            v.check(check_len("description", d, 0, 1024));
        }

        let domains = validate_domains(&mut v, input.domains);

        if let Some(emails) = &input.emergency_email_addresses {
            v.check(check_max_items("emergencyEmailAddresses", emails.len(), 10));
            for (i, e) in emails.iter().enumerate() {
                let field = format!("emergencyEmailAddresses[{i}]");
                match e {
                    None => v.push(Violation::required(field)),
                    Some(e) => {
                        if v.check(check_len(&field, e, 0, 255)).is_some() {
                            v.check(check_pattern(&field, e, &EMAIL, EMAIL_PATTERN));
                        }
                    }
                }
            }
        }

        let account_size = match input.account_size {
            None => {
                v.push(Violation::required("accountSize"));
                0
            }
            Some(n) if n < 1 || n > i64::from(i32::MAX) => {
                v.push(Violation::new(
                    "accountSize",
                    Code::Range,
                    format!("must be between 1 and {}", i32::MAX),
                ));
                0
            }
            Some(n) => i32::try_from(n).unwrap_or(0),
        };

        let addresses = input.addresses.map(|a| validate_addresses(&mut v, a));

        if let Some(props) = &input.account_properties {
            v.check(check_max_items("accountProperties", props.len(), 50));
            for (i, p) in props.iter().enumerate() {
                for (what, val) in [("name", &p.name), ("key", &p.key)] {
                    if let Some(s) = val {
                        let field = format!("accountProperties[{i}].{what}");
                        if v.check(check_len(&field, s, 1, 255)).is_some() {
                            v.check(check_pattern(&field, s, &LABEL, LABEL_PATTERN));
                        }
                    }
                }
                if let Some(s) = &p.value {
                    v.check(check_len(
                        &format!("accountProperties[{i}].value"),
                        s,
                        0,
                        255,
                    ));
                }
            }
        }

        if let Some(types) = &input.organization_node_types {
            v.check(check_max_items("organizationNodeTypes", types.len(), 50));
            for (i, t) in types.iter().enumerate() {
                if let Some(s) = &t.name {
                    let field = format!("organizationNodeTypes[{i}].name");
                    if v.check(check_len(&field, s, 1, 255)).is_some() {
                        v.check(check_pattern(&field, s, &LABEL, LABEL_PATTERN));
                    }
                }
            }
        }

        let profiles = input.profiles.map(|p| validate_profiles(&mut v, p));

        let features = input
            .features
            .map(|f| match Features::parse("features", f) {
                Ok(f) => Some(f),
                Err(errs) => {
                    errs.into_iter().for_each(|e| v.push(e));
                    None
                }
            })
            .and_then(|f| f);

        if let Some(c) = &input.country_code {
            v.check(check_len("countryCode", c, 2, 2));
        }
        if let Some(t) = &input.timezone {
            v.check(check_len("timezone", t, 2, 256));
        }

        v.finish(|| AccountBody {
            name: input.name.unwrap_or_default(),
            description: input.description,
            domains,
            emergency_email_addresses: input
                .emergency_email_addresses
                .map(|e| e.into_iter().flatten().collect()),
            account_size,
            addresses,
            account_properties: input.account_properties,
            organization_node_types: input.organization_node_types,
            profiles,
            features,
            country_code: input.country_code,
            timezone: input.timezone,
        })
    }
}

fn validate_domains(v: &mut Violations, domains: Option<Vec<DomainIn>>) -> Vec<Domain> {
    let Some(domains) = domains else {
        v.push(Violation::required("domains"));
        return Vec::new();
    };
    v.check(check_max_items("domains", domains.len(), 50));
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<Domain> = Vec::with_capacity(domains.len());
    for (i, d) in domains.into_iter().enumerate() {
        let field = format!("domains[{i}].domainName");
        match d.domain_name {
            None => v.push(Violation::required(field)),
            Some(name) => {
                if v.check(check_domain_name(&field, &name)).is_some()
                    && !seen.insert(name.to_lowercase())
                {
                    v.push(Violation::new(field, Code::Duplicate, "must be unique"));
                }
                out.push(Domain {
                    domain_name: name,
                    is_default: d.is_default.unwrap_or(false),
                });
            }
        }
    }
    // The spec: "Unless specified by the administrator, the first one is marked as default."
    match out.iter().filter(|d| d.is_default).count() {
        0 => {
            if let Some(first) = out.first_mut() {
                first.is_default = true;
            }
        }
        1 => {}
        _ => v.push(Violation::new(
            "domains",
            Code::InvalidValue,
            "only one domain can be the default",
        )),
    }
    out
}

fn validate_addresses(v: &mut Violations, addresses: Vec<AddressIn>) -> Vec<Address> {
    v.check(check_max_items("addresses", addresses.len(), 50));
    let mut out = Vec::with_capacity(addresses.len());
    for (i, a) in addresses.into_iter().enumerate() {
        let f = |name: &str| format!("addresses[{i}].{name}");
        if let Some(s) = required(v, &f("addressName"), &a.address_name)
            && v.check(check_len(&f("addressName"), s, 1, 32)).is_some()
        {
            v.check(check_pattern(
                &f("addressName"),
                s,
                &ADDRESS_NAME,
                ADDRESS_NAME_PATTERN,
            ));
        }
        if let Some(id) = &a.address_id
            && uuid::Uuid::try_parse(id).map(|u| u.hyphenated().to_string().len()) != Ok(id.len())
        {
            v.push(Violation::pattern(f("addressId"), UUID_PATTERN));
        }
        if let Some(s) = required(v, &f("streetNumber"), &a.street_number) {
            v.check(check_len(&f("streetNumber"), s, 1, 16));
        }
        if let Some(s) = required(v, &f("streetName"), &a.street_name) {
            v.check(check_len(&f("streetName"), s, 2, 128));
        }
        if let Some(t) = &a.address_type
            && !ADDRESS_TYPES.contains(&t.as_str())
        {
            v.push(Violation::new(
                f("addressType"),
                Code::InvalidValue,
                format!("must be one of {}", ADDRESS_TYPES.join(", ")),
            ));
        }
        if let Some(s) = &a.address_type_number {
            v.check(check_len(&f("addressTypeNumber"), s, 0, 64));
        }
        if let Some(s) = &a.city {
            v.check(check_len(&f("city"), s, 0, 128));
        }
        if let Some(s) = &a.state {
            v.check(check_len(&f("state"), s, 1, 3));
        }
        if let Some(s) = required(v, &f("countryCode"), &a.country_code) {
            v.check(check_len(&f("countryCode"), s, 2, 2));
        }
        if let Some(s) = required(v, &f("zip"), &a.zip)
            && v.check(check_len(&f("zip"), s, 4, 16)).is_some()
        {
            v.check(check_pattern(&f("zip"), s, &ZIP, ZIP_PATTERN));
        }
        out.push(Address {
            address_name: a.address_name.unwrap_or_default(),
            // A new address gets its id from the server, as the spec's examples show.
            address_id: a
                .address_id
                .map(|s| s.to_lowercase())
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            street_number: a.street_number.unwrap_or_default(),
            street_name: a.street_name.unwrap_or_default(),
            address_type: a.address_type,
            address_type_number: a.address_type_number,
            city: a.city,
            state: a.state,
            country_code: a.country_code.unwrap_or_default(),
            zip: a.zip.unwrap_or_default(),
            is_default: a.is_default.unwrap_or(false),
        });
    }
    // As for domains: the first is the default unless one is marked; two cannot be.
    match out.iter().filter(|a| a.is_default).count() {
        0 => {
            if let Some(first) = out.first_mut() {
                first.is_default = true;
            }
        }
        1 => {}
        _ => v.push(Violation::new(
            "addresses",
            Code::InvalidValue,
            "only one address can be the default",
        )),
    }
    out
}

fn validate_profiles(v: &mut Violations, profiles: Vec<ProfileRefIn>) -> Vec<ProfileRef> {
    static PROFILE_ID: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[a-zA-Z0-9\-_. ]+$").expect("the profile id pattern is a valid regex")
    });
    v.check(check_max_items("profiles", profiles.len(), 200));
    let mut out = Vec::with_capacity(profiles.len());
    for (i, p) in profiles.into_iter().enumerate() {
        let field = format!("profiles[{i}].profileId");
        if let Some(id) = required(v, &field, &p.profile_id)
            && v.check(check_len(&field, id, 6, 6)).is_some()
        {
            v.check(check_pattern(&field, id, &PROFILE_ID, PROFILE_ID_PATTERN));
        }
        if let Some(url) = &p.url {
            v.check(check_len(&format!("profiles[{i}].url"), url, 1, 255));
        }
        if let Some(name) = &p.name {
            v.check(check_len(&format!("profiles[{i}].name"), name, 0, 255));
        }
        out.push(ProfileRef {
            profile_id: p.profile_id.unwrap_or_default(),
            url: p.url,
            name: p.name,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<AccountBody, Vec<Violation>> {
        AccountBody::try_from(serde_json::from_value::<AccountIn>(v).unwrap())
    }

    fn fields(r: Result<AccountBody, Vec<Violation>>) -> Vec<(String, i32)> {
        r.unwrap_err()
            .into_iter()
            .map(|v| (v.field, v.code.as_i32()))
            .collect()
    }

    #[test]
    fn the_seed_account_is_valid() {
        let body = parse(json!({
            "name": "SyncG", "description": "Account for SyncG",
            "domains": [{"domainName": "avaya.com", "isDefault": true}],
            "accountSize": 10, "countryCode": "IN",
            "features": {"voice": {"cloudSwitchAccountDID": "x", "consult": true}},
            "profiles": [{"profileId": "AQXSWF", "url": "/api/admin/user/v1/accounts/AVSDER/profiles/ASEDFG"}]
        }))
        .unwrap();
        assert_eq!(body.name, "SyncG");
        assert_eq!(body.account_size, 10);
    }

    #[test]
    fn missing_required_fields_are_each_reported() {
        assert_eq!(
            fields(parse(json!({}))),
            vec![
                ("name".into(), 20002),
                ("domains".into(), 20002),
                ("accountSize".into(), 20002)
            ]
        );
    }

    #[test]
    fn a_name_of_only_punctuation_is_rejected() {
        assert!(check_account_name("name", "!!!").is_err());
        assert!(check_account_name("name", "Ünïcode & Co. (EU)").is_ok());
        assert!(check_account_name("name", "tab\there").is_err());
    }

    #[test]
    fn domain_names_follow_the_spec_pattern() {
        assert!(check_domain_name("d", "avaya.com").is_ok());
        assert!(check_domain_name("d", "a-b.c.example.org").is_ok());
        assert!(check_domain_name("d", "-ab.com").is_err());
        assert!(check_domain_name("d", "ab-.com").is_err());
        assert!(check_domain_name("d", "localhost").is_err());
        assert!(check_domain_name("d", "a.c0m").is_err());
    }

    #[test]
    fn the_first_domain_becomes_default_unless_one_is_marked() {
        let body = parse(json!({"name": "A", "accountSize": 1,
            "domains": [{"domainName": "a.com"}, {"domainName": "b.com"}]}))
        .unwrap();
        assert!(body.domains[0].is_default);
        assert!(!body.domains[1].is_default);
    }

    #[test]
    fn duplicate_domains_and_two_defaults_are_rejected() {
        let f = fields(parse(json!({"name": "A", "accountSize": 1,
            "domains": [{"domainName": "a.com", "isDefault": true},
                        {"domainName": "A.com", "isDefault": true}]})));
        assert_eq!(
            f,
            vec![
                ("domains[1].domainName".into(), 20008),
                ("domains".into(), 20005)
            ]
        );
    }

    #[test]
    fn account_size_below_one_is_out_of_range() {
        let f = fields(parse(json!({"name": "A", "accountSize": 0,
            "domains": [{"domainName": "a.com"}]})));
        assert_eq!(f, vec![("accountSize".into(), 20004)]);
    }

    /// The patterns of a schema's properties (of their items, for arrays).
    fn patterns<T: utoipa::PartialSchema>() -> BTreeMap<String, String> {
        let v = serde_json::to_value(T::schema()).unwrap();
        v["properties"]
            .as_object()
            .unwrap()
            .iter()
            .filter_map(|(k, p)| {
                let pattern = p["pattern"].as_str().or(p["items"]["pattern"].as_str());
                pattern.map(|s| (k.clone(), s.to_owned()))
            })
            .collect()
    }

    fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_documented_patterns_are_the_ones_checked() {
        let account = expect(&[
            ("name", NAME_PATTERN),
            ("emergencyEmailAddresses", EMAIL_PATTERN),
        ]);
        assert_eq!(patterns::<AccountIn>(), account);
        assert_eq!(patterns::<AccountBody>(), account);
        let domain = expect(&[("domainName", DOMAIN_PATTERN)]);
        assert_eq!(patterns::<DomainIn>(), domain);
        assert_eq!(patterns::<Domain>(), domain);
        let address = expect(&[
            ("addressName", ADDRESS_NAME_PATTERN),
            ("addressId", UUID_PATTERN),
            ("zip", ZIP_PATTERN),
        ]);
        assert_eq!(patterns::<AddressIn>(), address);
        assert_eq!(patterns::<Address>(), address);
        let property = expect(&[("name", LABEL_PATTERN), ("key", LABEL_PATTERN)]);
        assert_eq!(patterns::<AccountProperty>(), property);
        let node_type = expect(&[("name", LABEL_PATTERN)]);
        assert_eq!(patterns::<OrganizationNodeType>(), node_type);
        let profile = expect(&[("profileId", PROFILE_ID_PATTERN)]);
        assert_eq!(patterns::<ProfileRefIn>(), profile);
        assert_eq!(patterns::<ProfileRef>(), profile);
    }

    #[test]
    fn the_documented_address_types_are_the_ones_checked() {
        let v = serde_json::to_value(<AddressType as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(v["enum"], json!(ADDRESS_TYPES));
    }

    #[test]
    fn address_and_email_rules_name_the_item() {
        let f = fields(parse(json!({"name": "A", "accountSize": 1,
            "domains": [{"domainName": "a.com"}],
            "emergencyEmailAddresses": ["ok@example.com", "not-an-email"],
            "addresses": [{"addressName": "Office", "streetNumber": "1", "streetName": "Main",
                           "countryCode": "IN", "zip": "123", "addressType": "CASTLE"}]})));
        assert_eq!(
            f,
            vec![
                ("emergencyEmailAddresses[1]".into(), 20006),
                ("addresses[0].addressType".into(), 20005),
                ("addresses[0].zip".into(), 20003)
            ]
        );
    }
}
