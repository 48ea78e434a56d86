//! The Voice API's phone numbers: the numbers an account holds, and the search of
//! numbers available to add.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, Required};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Problem, Result};
use super::extract::{Body, PathParams, PreferHeader, QueryParams};
use super::idempotency::{self as keys, JsonAnswer, KeyHeader};
use super::listing::{self, Links, Pagination};
use super::preconditions::{Conditions, Current, IfMatchParam, IfNoneMatchParam, tagged};
use super::reach::{account_in_reach, account_in_reach_read, resource_path_read_of};
use super::schemas::{AvailableParams, CountriesParams, PageParams, SearchParams};
use crate::domain::listing::{PageRules, parse_filter, parse_order_by};
use crate::domain::number::{
    AvailableOut, CountryCode, NewPhoneNumber, NumberSettings, NumberSettingsIn, NumberStatus,
    NumberType, PhoneNumberIn, PhoneNumberOut, SearchFragment, check_account_or_any,
};
use crate::domain::{AccountId, Code, PhoneNumberId, Violation};
use crate::jobs::JobKind;
use crate::service::numbers::{self as service, NumberChange};
use crate::store;
use crate::store::locks::Resource;
use crate::store::numbers::{AvailableQuery, NumberField, NumberQuery};

const BASE: &str = "/api/admin/voice/v1/accounts";

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            &format!("{BASE}/{{accountId}}/phone-numbers"),
            get(list_numbers).post(add_number),
        )
        .route(
            &format!("{BASE}/{{accountId}}/phone-numbers/{{phoneNumberId}}"),
            get(get_number)
                .put(update_number)
                .delete(release_number)
                .post(number_action),
        )
        .route(
            &format!("{BASE}/{{accountId}}/phone-numbers:list"),
            post(list_by_ids),
        )
        .route(
            &format!("{BASE}/{{accountId}}/phone-numbers:validate"),
            post(validate_ids),
        )
        .route(
            &format!("{BASE}/{{accountId}}/phone-numbers:getByPhoneNumbers"),
            post(get_by_numbers),
        )
        .route(
            &format!("{BASE}/{{accountId}}/available-phone-numbers"),
            get(available_numbers),
        )
        .route(&format!("{BASE}/{{accountId}}/countries"), get(countries))
}

/// The voice spec's page rules: default 5, 1 to 50.
const NUMBER_PAGES: PageRules = PageRules {
    default_size: 5,
    min_size: 1,
    max_size: 50,
};

/// The most ids or numbers one `:list`, `:validate` or `:getByPhoneNumbers` takes.
const MAX_BATCH: usize = 1000;

fn number_json(n: &crate::domain::number::PhoneNumber) -> Result<Value> {
    serde_json::to_value(n.to_out()).map_err(ApiError::internal)
}

/// A number as a GET shows it, read in a write's transaction (`If-Match`).
struct NumberNow<'a> {
    account: &'a AccountId,
    id: &'a PhoneNumberId,
}

impl Current for NumberNow<'_> {
    fn read<'t>(
        &'t self,
        tx: &'t mut store::Tx,
    ) -> futures_util::future::BoxFuture<
        't,
        std::result::Result<Option<Value>, crate::service::ServiceError>,
    > {
        Box::pin(async move {
            match store::numbers::get(tx, self.account, self.id).await? {
                None => Ok(None),
                Some((n, _)) => Ok(Some(
                    serde_json::to_value(n.to_out()).map_err(anyhow::Error::from)?,
                )),
            }
        })
    }
}

/// A number's 200 or 202 answer, kept for an `Idempotency-Key`.
fn number_answer(
    status: StatusCode,
) -> JsonAnswer<impl Fn(&crate::domain::number::PhoneNumber) -> Result<Value> + Send + Sync> {
    JsonAnswer {
        status,
        body: number_json,
    }
}

/// Add a number (AXP `addPhoneNumber`)
///
/// Holds an available number for the account. The answer shows status `INPROGRESS`
/// and type `UNKNOWN`; an activation then ends `ACTIVE`, `INACTIVE` (documents needed)
/// or `FAILED`: poll `GET .../phone-numbers/{phoneNumberId}`.
#[utoipa::path(post, path = "/api/admin/voice/v1/accounts/{accountId}/phone-numbers",
    operation_id = "addPhoneNumber", params(PreferHeader, KeyHeader), tag = "Phone Number", request_body = PhoneNumberIn,
    responses(
        (status = 202, description = "Accepted; the activation runs in the background", body = PhoneNumberOut),
        (status = 400, description = "The request breaks a rule (`violations` names each field), or the number is not available to add (20005 `phoneNumber`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account already holds this number", body = Problem, content_type = "application/problem+json")))]
async fn add_number(
    State(state): State<AppState>,
    caller: Caller,
    key: KeyHeader,
    params: PathParams,
    prefer: PreferHeader,
    body: Body,
) -> Result<Response> {
    let started = keys::begin(&state, &caller, &key, "addPhoneNumber", body.bytes()).await?;
    let account = account_in_reach(&state, &caller, &params).await?;
    let new =
        NewPhoneNumber::try_from(body.json::<PhoneNumberIn>()?).map_err(ApiError::validation)?;
    let p = state
        .provisioning(&prefer, JobKind::NumberActivation)
        .await?;
    let render = number_answer(StatusCode::ACCEPTED);
    let result = service::add(
        &state.db,
        &state.clock,
        &account,
        new,
        &p,
        started.keyed(&render).as_ref(),
    )
    .await;
    let n = started.settle(&state, result).await?;
    state.jobs.wake();
    if let Some(sent) = started.sent() {
        return Ok(sent);
    }
    Ok((StatusCode::ACCEPTED, Json(number_json(&n)?)).into_response())
}

/// Get a number (AXP `getPhoneNumber`)
#[utoipa::path(get, path = "/api/admin/voice/v1/accounts/{accountId}/phone-numbers/{phoneNumberId}",
    operation_id = "getPhoneNumber", tag = "Phone Number", params(IfNoneMatchParam),
    responses((status = 200, description = "The number", body = PhoneNumberOut,
        headers(("ETag" = String, description = "Extension: the number's entity tag"))),
        (status = 304, description = "Extension: `If-None-Match` names the current `ETag`")))]
async fn get_number(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
) -> Result<Response> {
    let (account, id, mut tx) =
        resource_path_read_of::<PhoneNumberId>(&state, &caller, &params, "phoneNumberId").await?;
    let (n, _) = store::numbers::get(&mut tx, &account, &id)
        .await?
        .ok_or_else(|| ApiError::from(service::not_found(&id)))?;
    conditions.read(&number_json(&n)?)
}

/// Update a number (AXP `updatePhoneNumber`)
///
/// Replaces `displayName`, `isCallingPartyNumber` and `preferredMediaLocation`
/// (omitted ones are removed); the status, type and status message stay as they are.
#[utoipa::path(put, path = "/api/admin/voice/v1/accounts/{accountId}/phone-numbers/{phoneNumberId}",
    operation_id = "updatePhoneNumber", tag = "Phone Number", request_body = NumberSettingsIn,
    params(IfMatchParam),
    responses((status = 202, description = "Accepted; the number as it now is", body = PhoneNumberOut,
        headers(("ETag" = String, description = "Extension: the number's new entity tag"))),
        (status = 412, description = "Extension: `If-Match` no longer names the number's `ETag`; nothing changed", body = Problem, content_type = "application/problem+json")))]
async fn update_number(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
    body: Body,
) -> Result<Response> {
    let (account, id, mut tx) =
        resource_path_read_of::<PhoneNumberId>(&state, &caller, &params, "phoneNumberId").await?;
    let Some((current, _)) = store::numbers::get(&mut tx, &account, &id).await? else {
        return Err(service::not_found(&id).into());
    };
    drop(tx);
    conditions.check(&number_json(&current)?)?;
    let settings =
        NumberSettings::try_from(body.json::<NumberSettingsIn>()?).map_err(ApiError::validation)?;
    let pre = conditions.in_write(
        &account,
        Resource::PhoneNumber(id.as_str()),
        NumberNow {
            account: &account,
            id: &id,
        },
    );
    let n = service::update(
        &state.db,
        &state.clock,
        &account,
        &id,
        settings,
        pre.as_ref().map(|p| p as _),
    )
    .await?;
    tagged(StatusCode::ACCEPTED, &number_json(&n)?)
}

/// Release a number (AXP `releasePhoneNumber`)
///
/// The number leaves the account and is available again at once; an unfinished
/// activation is cancelled.
#[utoipa::path(delete, path = "/api/admin/voice/v1/accounts/{accountId}/phone-numbers/{phoneNumberId}",
    operation_id = "releasePhoneNumber", tag = "Phone Number", params(IfMatchParam),
    responses((status = 204, description = "Released; GET is 404 from now on"),
        (status = 412, description = "Extension: `If-Match` no longer names the number's `ETag`; nothing changed", body = Problem, content_type = "application/problem+json")))]
async fn release_number(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
) -> Result<StatusCode> {
    let (account, id, mut tx) =
        resource_path_read_of::<PhoneNumberId>(&state, &caller, &params, "phoneNumberId").await?;
    let pre = conditions.in_write(
        &account,
        Resource::PhoneNumber(id.as_str()),
        NumberNow {
            account: &account,
            id: &id,
        },
    );
    if pre.is_some() {
        let Some((current, _)) = store::numbers::get(&mut tx, &account, &id).await? else {
            return Err(service::not_found(&id).into());
        };
        conditions.check(&number_json(&current)?)?;
    }
    drop(tx);
    service::release(
        &state.db,
        &state.clock,
        &account,
        &id,
        pre.as_ref().map(|p| p as _),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Extension (Administrator): `POST .../phone-numbers/{id}:disable` and `:enable`.
/// A disabled number keeps its place; enabling returns it to the status it had.
/// Documented as two operations, [`disable_number`] and [`enable_number`].
async fn number_action(
    State(state): State<AppState>,
    caller: Caller,
    key: KeyHeader,
    params: PathParams,
) -> Result<Response> {
    let raw = params.raw("phoneNumberId");
    let Some((id, action)) = raw.rsplit_once(':') else {
        return Err(ApiError::MethodNotAllowed);
    };
    let change = match action {
        "disable" => NumberChange::Disable,
        "enable" => NumberChange::Enable,
        _ => return Err(super::error::no_route().await),
    };
    let operation = match change {
        NumberChange::Disable => "disablePhoneNumber",
        _ => "enablePhoneNumber",
    };
    // The actions read no body: the key's fingerprint is the method and path.
    let started = keys::begin(&state, &caller, &key, operation, b"").await?;
    let account = params.account_id()?;
    let id = PhoneNumberId::parse_field("phoneNumberId", id)
        .map_err(|v| ApiError::validation(vec![v]))?;
    caller.require_administrator()?;
    let account = account_in_reach(&state, &caller, &params)
        .await
        .map(|_| account)?;
    let render = number_answer(StatusCode::OK);
    let result = service::change_status(
        &state.db,
        &state.clock,
        &account,
        &id,
        change,
        started.keyed(&render).as_ref(),
    )
    .await;
    let n = started.settle(&state, result).await?;
    if let Some(sent) = started.sent() {
        return Ok(sent);
    }
    Ok(Json(number_json(&n)?).into_response())
}

/// Disable a number (Administrator)
///
/// Takes an `ACTIVE`, `INACTIVE` or `FAILED` number out of use: status `DISABLED`. It
/// stays in the account; `:list` leaves it out and `:validate` calls it invalid.
#[utoipa::path(post, path = "/api/admin/voice/v1/accounts/{accountId}/phone-numbers/{phoneNumberId}:disable",
    operation_id = "disablePhoneNumber", tag = "Phone Number", params(KeyHeader),
    responses(
        (status = 200, description = "The number, now `DISABLED`", body = PhoneNumberOut),
        (status = 409, description = "The number is not `ACTIVE`, `INACTIVE` or `FAILED`", body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
#[allow(dead_code)]
fn disable_number() {
    // Documentation of the `:disable` action that `number_action` serves.
}

/// Enable a number (Administrator)
///
/// Returns a `DISABLED` number to the status it had before it was disabled.
#[utoipa::path(post, path = "/api/admin/voice/v1/accounts/{accountId}/phone-numbers/{phoneNumberId}:enable",
    operation_id = "enablePhoneNumber", tag = "Phone Number", params(KeyHeader),
    responses(
        (status = 200, description = "The number, back in its former status", body = PhoneNumberOut),
        (status = 409, description = "The number is not `DISABLED`", body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
#[allow(dead_code)]
fn enable_number() {
    // Documentation of the `:enable` action that `number_action` serves.
}

const FILTER_FIELDS: [(&str, NumberField); 5] = [
    ("phoneNumber", NumberField::PhoneNumber),
    ("displayName", NumberField::DisplayName),
    ("countryCode", NumberField::CountryCode),
    ("type", NumberField::Type),
    ("status", NumberField::Status),
];

const ORDER_FIELDS: [(&str, NumberField); 4] = [
    ("phoneNumber", NumberField::PhoneNumber),
    ("displayName", NumberField::DisplayName),
    ("countryCode", NumberField::CountryCode),
    ("type", NumberField::Type),
];

/// One page of the account's numbers.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PhoneNumberPage)]
struct NumberPage {
    pagination: Pagination,
    #[schema(value_type = Vec<PhoneNumberOut>)]
    phone_numbers: Vec<Value>,
    links: Links,
}

/// `orderBy` of `searchPhoneNumbers`: its values come from [`ORDER_FIELDS`].
struct SearchOrder;

impl utoipa::IntoParams for SearchOrder {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![order_param(
            &ORDER_FIELDS,
            "phoneNumber",
            "The field to sort by, optionally followed by ` desc` or ` asc`; ties by \
             `phoneNumber`.",
        )]
    }
}

/// An `orderBy` query parameter that takes every value `parse_order_by` takes with
/// these fields, for the document.
fn order_param<F>(fields: &[(&str, F)], default: &str, description: &str) -> Parameter {
    let values = fields
        .iter()
        .flat_map(|(n, _)| [n.to_string(), format!("{n} asc"), format!("{n} desc")]);
    ParameterBuilder::new()
        .name("orderBy")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(values))
                .default(Some(default.into())),
        ))
        .example(Some(format!("{default} desc").into()))
        .build()
}

/// The voice filter: `field:value` (the whole value ignoring case, or with `*`
/// wildcards) or `field=value` (exact), several joined by commas; every one must hold.
fn number_query(query: &QueryParams) -> Result<NumberQuery> {
    let mut violations = Vec::new();
    let page = listing::page(query, NUMBER_PAGES)
        .map_err(|e| {
            if let ApiError::Validation { violations: v, .. } = e {
                violations.extend(v);
            }
        })
        .ok();
    let mut filters = Vec::new();
    if let Some(raw) = query.get("filter") {
        if raw.chars().count() > crate::domain::listing::EXPRESSION_MAX {
            violations.push(Violation::size(
                "filter",
                0,
                crate::domain::listing::EXPRESSION_MAX,
            ));
        } else {
            for part in raw.split(',') {
                match parse_filter(part, &FILTER_FIELDS) {
                    Ok(f) => filters.push(f),
                    Err(v) => violations.push(v),
                }
            }
        }
    }
    let order = parse_order_by(
        query.get("orderBy"),
        &ORDER_FIELDS,
        NumberField::PhoneNumber,
    )
    .map_err(|v| violations.push(v))
    .ok();
    match (page, order) {
        (Some(page), Some(order)) if violations.is_empty() => Ok(NumberQuery {
            filters,
            order,
            page,
        }),
        _ => Err(ApiError::validation(violations)),
    }
}

/// List numbers (AXP `searchPhoneNumbers`)
///
/// One page of the account's numbers, of every status.
#[utoipa::path(get, path = "/api/admin/voice/v1/accounts/{accountId}/phone-numbers",
    operation_id = "searchPhoneNumbers", tag = "Phone Number", params(PageParams, SearchParams, SearchOrder),
    responses((status = 200, description = "One page of the account's numbers", body = NumberPage)))]
async fn list_numbers(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
) -> Result<Json<NumberPage>> {
    let (account, mut tx) = account_in_reach_read(&state, &caller, &params).await?;
    let q = number_query(&query)?;
    let (numbers, total) = store::numbers::list(&mut tx, &account, &q).await?;
    let (pagination, links) = listing::paginate(
        &format!("{BASE}/{account}/phone-numbers"),
        &query,
        q.page,
        total,
    );
    Ok(Json(NumberPage {
        pagination,
        phone_numbers: numbers.iter().map(number_json).collect::<Result<_>>()?,
        links,
    }))
}

/// Parses a bare JSON array body of at most 1000 strings (20007 above).
fn batch(body: &Body, field: &str) -> Result<Vec<String>> {
    let items: Vec<Option<String>> = body.json_array()?;
    if items.len() > MAX_BATCH {
        return Err(ApiError::validation(vec![Violation::new(
            field,
            Code::TooManyRecords,
            format!("Too many records: at most {MAX_BATCH}."),
        )]));
    }
    let mut violations = Vec::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Some(s) => out.push(s),
            None => violations.push(Violation::required(format!("{field}[{i}]"))),
        }
    }
    if violations.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::validation(violations))
    }
}

/// An array of at most [`MAX_BATCH`] strings: the schema of the batch bodies.
fn batch_schema(description: &str, item: &str, example: &str) -> RefOr<Schema> {
    ArrayBuilder::new()
        .description(Some(description))
        .max_items(Some(MAX_BATCH))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(item))
                .examples([example]),
        )
        .into()
}

/// The body of `:list` (documentation of what `batch` reads).
struct PhoneNumberListRequest;

impl utoipa::PartialSchema for PhoneNumberListRequest {
    fn schema() -> RefOr<Schema> {
        batch_schema(
            "A bare JSON array of phone number ids",
            "A phone number id (a UUID in either case); other strings match nothing",
            "c8c2909d-75e9-484a-94c0-b7e8d29771fe",
        )
    }
}

impl utoipa::ToSchema for PhoneNumberListRequest {}

/// The body of `:validate` (documentation of what `batch` reads).
struct PhoneNumberValidateRequest;

impl utoipa::PartialSchema for PhoneNumberValidateRequest {
    fn schema() -> RefOr<Schema> {
        batch_schema(
            "A bare JSON array of phone number ids",
            "A phone number id (a UUID in either case); other strings are invalid",
            "c8c2909d-75e9-484a-94c0-b7e8d29771fe",
        )
    }
}

impl utoipa::ToSchema for PhoneNumberValidateRequest {}

/// The body of `:getByPhoneNumbers` (documentation of what `batch` reads).
struct PhoneNumbersDetailsRequest;

impl utoipa::PartialSchema for PhoneNumbersDetailsRequest {
    fn schema() -> RefOr<Schema> {
        batch_schema(
            "A bare JSON array of phone numbers",
            "A phone number, compared exactly with the account's numbers (E.164)",
            "+16479308804",
        )
    }
}

impl utoipa::ToSchema for PhoneNumbersDetailsRequest {}

/// `orderBy` of `listPhoneNumbers`: its values come from [`LIST_ORDER_FIELDS`].
struct ListOrder;

impl utoipa::IntoParams for ListOrder {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![order_param(
            &LIST_ORDER_FIELDS,
            "displayName",
            "The field to sort by, optionally followed by ` desc` or ` asc`.",
        )]
    }
}

/// The fields `:list` orders by.
const LIST_ORDER_FIELDS: [(&str, NumberField); 2] = [
    ("displayName", NumberField::DisplayName),
    ("phoneNumber", NumberField::PhoneNumber),
];

/// The ids among `ids` that are UUIDs; the others name no number, since every number's
/// id is one.
fn parse_ids(ids: &[String]) -> Vec<PhoneNumberId> {
    ids.iter()
        .filter_map(|id| PhoneNumberId::parse(id))
        .collect()
}

/// List numbers by id (AXP `listPhoneNumbers`)
///
/// The account's numbers with these ids that are not `DISABLED`, each once; unknown
/// ids are left out.
#[utoipa::path(post, path = "/api/admin/voice/v1/accounts/{accountId}/phone-numbers:list",
    operation_id = "listPhoneNumbers", tag = "Phone Number", params(ListOrder),
    request_body = PhoneNumberListRequest,
    responses((status = 200, description = "The numbers found, sorted as `orderBy` says", body = [PhoneNumberOut])))]
async fn list_by_ids(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
    body: Body,
) -> Result<Json<Vec<Value>>> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let ids = parse_ids(&batch(&body, "phoneNumberIds")?);
    let order = parse_order_by(
        query.get("orderBy"),
        &LIST_ORDER_FIELDS,
        NumberField::DisplayName,
    )
    .map_err(|v| ApiError::validation(vec![v]))?;
    let mut tx = state.db.read().await?;
    let mut numbers = store::numbers::find_by_ids(&mut tx, &account, &ids).await?;
    numbers.retain(|n| n.status != NumberStatus::Disabled);
    numbers.sort_by(|a, b| {
        let key = |n: &crate::domain::number::PhoneNumber| match order.field {
            NumberField::DisplayName => (
                n.settings.display_name.clone().unwrap_or_default(),
                n.phone_number.clone(),
            ),
            _ => (n.phone_number.clone(), String::new()),
        };
        let o = key(a).cmp(&key(b));
        if order.descending { o.reverse() } else { o }
    });
    Ok(Json(
        numbers.iter().map(number_json).collect::<Result<_>>()?,
    ))
}

/// A phone number id as sent, and why it is invalid.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ValidatePhoneNumber)]
struct Validated {
    /// The id, as sent.
    #[schema(example = "c8c2909d-75e9-484a-94c0-b7e8d29771fe")]
    id: String,
    /// Why the id is invalid: `Doesn't exist in database` or `Phone number is
    /// disabled`; valid ids have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "Doesn't exist in database")]
    message: Option<String>,
}

/// Which ids of a `:validate` are usable numbers of the account, in the order sent.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = PhoneNumberValidateResponse)]
struct ValidateAnswer {
    valid: Vec<Validated>,
    invalid: Vec<Validated>,
}

/// Validate number ids (AXP `validatePhoneNumbers`)
///
/// Which ids are numbers of the account that can be used: `DISABLED` numbers and
/// unknown ids are invalid, with why.
#[utoipa::path(post, path = "/api/admin/voice/v1/accounts/{accountId}/phone-numbers:validate",
    operation_id = "validatePhoneNumbers", tag = "Phone Number",
    request_body = PhoneNumberValidateRequest,
    responses((status = 200, description = "Every id sent, valid or invalid", body = ValidateAnswer)))]
async fn validate_ids(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    body: Body,
) -> Result<Json<ValidateAnswer>> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let ids = batch(&body, "phoneNumberIds")?;
    let mut tx = state.db.read().await?;
    let found = store::numbers::find_by_ids(&mut tx, &account, &parse_ids(&ids)).await?;
    let (mut valid, mut invalid) = (Vec::new(), Vec::new());
    for raw in ids {
        let id = PhoneNumberId::parse(&raw);
        match found.iter().find(|n| {
            id.as_ref()
                .is_some_and(|id| n.phone_number_id == id.as_str())
        }) {
            None => invalid.push(Validated {
                id: raw,
                message: Some("Doesn't exist in database".to_owned()),
            }),
            Some(n) if n.status == NumberStatus::Disabled => invalid.push(Validated {
                id: raw,
                message: Some("Phone number is disabled".to_owned()),
            }),
            Some(_) => valid.push(Validated {
                id: raw,
                message: None,
            }),
        }
    }
    Ok(Json(ValidateAnswer { valid, invalid }))
}

/// Get numbers by number (AXP `getByPhoneNumbers`)
///
/// The account's numbers among these, of any status, in no set order. With `*` as the
/// account id an Administrator names the account in `filter=accountId=ABCDEF`.
#[utoipa::path(post, path = "/api/admin/voice/v1/accounts/{accountId}/phone-numbers:getByPhoneNumbers",
    operation_id = "getByPhoneNumbers", tag = "Phone Number",
    params(
        ("accountId" = String, Path, description = "The unique 6 character internal id that represents the customer account, or `*` (Administrators only) with the account named in `filter`.",
            min_length = 1, max_length = 6, pattern = r"^([a-zA-Z]{6}|\*)$", example = "ABCDEF"),
        ("filter" = Option<String>, Query, description = "With `*` as the account id, required: `accountId=ABCDEF` (or `accountId:ABCDEF`). Ignored otherwise.",
            example = "accountId=ABCDEF")),
    request_body = PhoneNumbersDetailsRequest,
    responses(
        (status = 200, description = "The account's numbers among those sent", body = [PhoneNumberOut]),
        (status = 404, description = "No such account (the path's, or the filter's with `*`)", body = Problem, content_type = "application/problem+json")))]
async fn get_by_numbers(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
    body: Body,
) -> Result<Json<Vec<Value>>> {
    check_account_or_any("accountId", params.raw("accountId"))
        .map_err(|v| ApiError::validation(vec![v]))?;
    let account = if params.raw("accountId") == "*" {
        caller.require_administrator()?;
        let raw = query.get("filter").unwrap_or_default();
        let id = raw
            .strip_prefix("accountId=")
            .or_else(|| raw.strip_prefix("accountId:"))
            .ok_or_else(|| {
                ApiError::validation(vec![Violation::new(
                    "filter",
                    Code::Required,
                    "with * as the account id, filter must name the account: accountId=ABCDEF",
                )])
            })?;
        let id = AccountId::parse_field("filter", id).map_err(|v| ApiError::validation(vec![v]))?;
        let mut tx = state.db.read().await?;
        if !store::accounts::exists(&mut tx, &id).await? {
            return Err(ApiError::not_found("Account", "AccountId", id.as_str()));
        }
        id
    } else {
        account_in_reach(&state, &caller, &params).await?
    };
    let numbers = batch(&body, "phoneNumbers")?;
    let mut tx = state.db.read().await?;
    let found = store::numbers::find_by_numbers(&mut tx, &account, &numbers).await?;
    Ok(Json(found.iter().map(number_json).collect::<Result<_>>()?))
}

/// One page of the available numbers.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AvailablePhoneNumberPage)]
struct AvailablePage {
    pagination: Pagination,
    #[schema(value_type = Vec<AvailableOut>)]
    phone_numbers: Vec<Value>,
    links: Links,
}

/// The countries with available numbers: ISO codes, sorted.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!(["CA", "US"]))]
struct Countries(Vec<String>);

fn required_type(query: &QueryParams, violations: &mut Vec<Violation>) -> Option<NumberType> {
    match query.get("type") {
        None => {
            violations.push(Violation::required("type"));
            None
        }
        Some(t) => NumberType::parse_inventory(t).or_else(|| {
            violations.push(Violation::new(
                "type",
                Code::InvalidValue,
                "must be one of LOCAL, TOLLFREE",
            ));
            None
        }),
    }
}

/// List available numbers (AXP `listAvailablePhoneNumbers`)
///
/// Numbers of the inventory that no account holds, by country and type, optionally by
/// area code and digits the number contains.
#[utoipa::path(get, path = "/api/admin/voice/v1/accounts/{accountId}/available-phone-numbers",
    operation_id = "listAvailablePhoneNumbers", tag = "Available Phone Numbers",
    params(AvailableParams, PageParams),
    responses((status = 200, description = "One page of the available numbers", body = AvailablePage)))]
async fn available_numbers(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
) -> Result<Json<AvailablePage>> {
    let (account, mut tx) = account_in_reach_read(&state, &caller, &params).await?;
    let mut violations = Vec::new();
    let country = match query.get("countryCode") {
        None => {
            violations.push(Violation::required("countryCode"));
            None
        }
        Some(c) => CountryCode::parse_field("countryCode", c)
            .map_err(|v| violations.push(v))
            .ok(),
    };
    let number_type = required_type(&query, &mut violations);
    let area_code = query.get("areaCode").map(str::to_owned);
    if let Some(a) = &area_code
        && !(1..=5).contains(&a.chars().count())
    {
        violations.push(Violation::size("areaCode", 1, 5));
    }
    let fragment = match query.get("phoneNumber") {
        None => None,
        Some(f) => match SearchFragment::parse_field("phoneNumber", f) {
            Ok(f) => Some(f),
            Err(v) => {
                violations.push(v);
                None
            }
        },
    };
    let page = listing::page(&query, NUMBER_PAGES)
        .map_err(|e| {
            if let ApiError::Validation { violations: v, .. } = e {
                violations.extend(v);
            }
        })
        .ok();
    let (Some(country_code), Some(number_type), Some(page)) = (country, number_type, page) else {
        return Err(ApiError::validation(violations));
    };
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }
    let q = AvailableQuery {
        country_code,
        number_type,
        area_code,
        fragment,
        page,
    };
    let (entries, total) = store::numbers::search_available(&mut tx, &q).await?;
    let path = format!("{BASE}/{account}/available-phone-numbers");
    let (pagination, links) = listing::paginate(&path, &query, page, total);
    let phone_numbers = entries
        .iter()
        .map(|e| serde_json::to_value(e.to_out()).map_err(ApiError::internal))
        .collect::<Result<_>>()?;
    Ok(Json(AvailablePage {
        pagination,
        phone_numbers,
        links,
    }))
}

/// List available countries (AXP `getAvailableCountries`)
///
/// The countries with at least one available number of the type.
#[utoipa::path(get, path = "/api/admin/voice/v1/accounts/{accountId}/countries",
    operation_id = "getAvailableCountries", tag = "Country", params(CountriesParams),
    responses((status = 200, description = "ISO country codes, sorted", body = Countries)))]
async fn countries(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
) -> Result<Json<Countries>> {
    let (_, mut tx) = account_in_reach_read(&state, &caller, &params).await?;
    let mut violations = Vec::new();
    let Some(t) = required_type(&query, &mut violations) else {
        return Err(ApiError::validation(violations));
    };
    Ok(Json(Countries(
        store::numbers::countries(&mut tx, t).await?,
    )))
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_numbers,
    add_number,
    get_number,
    update_number,
    release_number,
    disable_number,
    enable_number,
    list_by_ids,
    validate_ids,
    get_by_numbers,
    available_numbers,
    countries
))]
pub struct Api;
