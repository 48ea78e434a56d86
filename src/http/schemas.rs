//! Types that exist only to be described in `/openapi.json`: the shapes of what a
//! handler reads by hand (query strings, the token form) or writes through a type the
//! document cannot name, and the enumerations of values the handlers check as strings.
//! Nothing constructs them, hence `allow(dead_code)`; each says what it documents.
//!
//! The HTTP modules' documentation-only types are here; those of the domain's bodies
//! stay beside them in `src/domain` (layers point down: a domain body cannot name a type
//! of `http`). The emulator's are in `http/emulator.rs`.

use serde::Serialize;

use crate::domain::element::ElementOut;
use crate::domain::schemas::AvailableNumberType;

// ---------------------------------------------------------------------------------
// Authentication (`http::auth`)

// Documentation of the form `TokenRequest::parse` reads.
/// A token request, one of three grants. An empty field counts as missing; other
/// fields are ignored.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub(crate) enum TokenForm {
    ClientCredentials(ClientCredentialsForm),
    Password(PasswordForm),
    RefreshToken(RefreshTokenForm),
}

/// The `client_credentials` grant: a token for the client itself.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GenerateTokenRequest)]
#[allow(dead_code)]
pub(crate) struct ClientCredentialsForm {
    #[schema(inline)]
    grant_type: ClientCredentialsGrant,
    #[schema(min_length = 1, example = "client_id")]
    client_id: String,
    #[schema(min_length = 1, example = "client_secret")]
    client_secret: String,
}

/// The `password` grant: a token for a user of the account, through the client.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ResourceOwnerPasswordRequest)]
#[allow(dead_code)]
pub(crate) struct PasswordForm {
    #[schema(inline)]
    grant_type: PasswordGrant,
    #[schema(min_length = 1, example = "client_id")]
    client_id: String,
    #[schema(min_length = 1, example = "client_secret")]
    client_secret: String,
    #[schema(min_length = 1, example = "user-account")]
    username: String,
    #[schema(min_length = 1, example = "password1")]
    password: String,
}

/// The `refresh_token` grant: new tokens for a refresh token of the same client.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = RefreshTokenRequest)]
#[allow(dead_code)]
pub(crate) struct RefreshTokenForm {
    #[schema(inline)]
    grant_type: RefreshTokenGrant,
    #[schema(min_length = 1, example = "client_id")]
    client_id: String,
    #[schema(min_length = 1, example = "client_secret")]
    client_secret: String,
    /// A refresh token from an earlier answer; each is single use.
    #[schema(min_length = 1)]
    refresh_token: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[allow(dead_code, non_camel_case_types)]
pub(crate) enum ClientCredentialsGrant {
    client_credentials,
}

#[derive(Serialize, utoipa::ToSchema)]
#[allow(dead_code, non_camel_case_types)]
pub(crate) enum PasswordGrant {
    password,
}

#[derive(Serialize, utoipa::ToSchema)]
#[allow(dead_code, non_camel_case_types)]
pub(crate) enum RefreshTokenGrant {
    refresh_token,
}

// ---------------------------------------------------------------------------------
// Phone numbers and available numbers (`http::numbers`)

/// `pageNumber` and `pageSize` of the voice lists (documentation of what
/// `listing::page` reads with `NUMBER_PAGES`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct PageParams {
    /// The page to return, from 1.
    #[param(minimum = 1, maximum = 1000000, default = 1, example = 1)]
    page_number: Option<u32>,
    /// The most numbers a page holds.
    #[param(minimum = 1, maximum = 50, default = 5, example = 5)]
    page_size: Option<u32>,
}

/// `filter` of `searchPhoneNumbers` (documentation of what `number_query` reads).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct SearchParams {
    /// Expressions on `phoneNumber`, `displayName`, `countryCode`, `type` or `status`,
    /// joined by commas, every one must hold: `field:value` (the whole value ignoring
    /// case, or with a `*` wildcard at its start and/or end) or `field=value` (exact,
    /// case-sensitive).
    #[param(
        max_length = 255,
        pattern = r"^(phoneNumber|displayName|countryCode|type|status)(=[^,]*|:\*?[^*,]+\*?)(,(phoneNumber|displayName|countryCode|type|status)(=[^,]*|:\*?[^*,]+\*?))*$",
        example = "countryCode:US"
    )]
    filter: Option<String>,
}

/// The query of `listAvailablePhoneNumbers` (documentation of what
/// `available_numbers` reads; the page parameters are [`PageParams`]).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct AvailableParams {
    /// The ISO country code of the numbers.
    #[param(min_length = 2, max_length = 2, pattern = "^[A-Z]{2}$", example = "US")]
    country_code: String,
    /// The type of the numbers.
    #[param(rename = "type", inline)]
    number_type: AvailableNumberType,
    /// The area code of the numbers, compared exactly: the NANP area code (`330`),
    /// elsewhere the national destination code.
    #[param(min_length = 1, max_length = 5, example = "330")]
    area_code: Option<String>,
    /// Digits the numbers contain, optionally after a leading `+`.
    #[param(
        min_length = 1,
        max_length = 15,
        pattern = r"^\+?[0-9]+$",
        example = "+1647"
    )]
    phone_number: Option<String>,
}

/// `type` of `getAvailableCountries`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct CountriesParams {
    /// The type of the numbers.
    #[param(rename = "type", inline)]
    number_type: AvailableNumberType,
}

// ---------------------------------------------------------------------------------
// Organization nodes (`http::org`)

/// The `orderBy` values of the node list (documentation).
#[derive(Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) enum NodeOrderBy {
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "name asc")]
    NameAsc,
    #[serde(rename = "name desc")]
    NameDesc,
    #[serde(rename = "accountId")]
    AccountId,
    #[serde(rename = "accountId asc")]
    AccountIdAsc,
    #[serde(rename = "accountId desc")]
    AccountIdDesc,
}

/// An organization node id (documentation of the items of `organizationNodeIds`).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, pattern = "^[a-zA-Z]{6}$", example = "ACDSFE")]
#[allow(dead_code)]
pub(crate) struct NodeIdItem(String);

/// The operation a node's status describes (documentation of `action`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
pub(crate) enum NodeAction {
    ADD,
    UPDATE,
}

/// Where a node's operation stands (documentation of `status`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms, non_camel_case_types)]
pub(crate) enum NodeStatus {
    IN_PROGRESS,
    COMPLETED,
    FAILED,
}

// ---------------------------------------------------------------------------------
// Voice elements (`http::voice`)

/// Every element of an account, of both types.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct ElementList<'a> {
    elements: Vec<ElementOut<'a>>,
}
