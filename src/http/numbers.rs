//! The Voice API's phone numbers: the numbers an account holds, and the search of
//! numbers available to add.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Result};
use super::extract::{Body, PathParams, PreferHeader, QueryParams};
use super::listing::{self, Links, Pagination};
use super::voice::{IdKind, account_in_reach, resource_path};
use crate::domain::listing::{PageRules, parse_filter, parse_order_by};
use crate::domain::number::{
    NewPhoneNumber, NumberSettings, NumberSettingsIn, NumberStatus, NumberType, PhoneNumberIn,
    check_country,
};
use crate::domain::{AccountId, Code, Violation};
use crate::service::numbers::{self as service, NumberChange};
use crate::store;
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

/// AXP `addPhoneNumber`: 202 with `INPROGRESS` and type `UNKNOWN`.
async fn add_number(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    prefer: PreferHeader,
    body: Body,
) -> Result<Response> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let new =
        NewPhoneNumber::try_from(body.json::<PhoneNumberIn>()?).map_err(ApiError::validation)?;
    let p = state
        .provisioning(&prefer, &service::OUTCOMES, state.number_delay_ms)
        .await?;
    let n = service::add(&state.db, &state.clock, &account, new, &p).await?;
    state.jobs.wake();
    Ok((StatusCode::ACCEPTED, Json(number_json(&n)?)).into_response())
}

/// AXP `getPhoneNumber`.
async fn get_number(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<Value>> {
    let (account, id) =
        resource_path(&state, &caller, &params, "phoneNumberId", IdKind::Uuid).await?;
    let mut tx = state.db.read().await?;
    let (n, _) = store::numbers::get(&mut tx, &account, &id)
        .await?
        .ok_or_else(|| ApiError::from(service::not_found(&id)))?;
    Ok(Json(number_json(&n)?))
}

/// AXP `updatePhoneNumber`: replaces displayName, isCallingPartyNumber and
/// preferredMediaLocation (omitted ones are removed); the status stays. 202.
async fn update_number(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    body: Body,
) -> Result<Response> {
    let (account, id) =
        resource_path(&state, &caller, &params, "phoneNumberId", IdKind::Uuid).await?;
    let mut tx = state.db.read().await?;
    if store::numbers::get(&mut tx, &account, &id).await?.is_none() {
        return Err(service::not_found(&id).into());
    }
    drop(tx);
    let settings =
        NumberSettings::try_from(body.json::<NumberSettingsIn>()?).map_err(ApiError::validation)?;
    let n = service::update(&state.db, &state.clock, &account, &id, settings).await?;
    Ok((StatusCode::ACCEPTED, Json(number_json(&n)?)).into_response())
}

/// AXP `releasePhoneNumber`: 204; the number is available again at once.
async fn release_number(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<StatusCode> {
    let (account, id) =
        resource_path(&state, &caller, &params, "phoneNumberId", IdKind::Uuid).await?;
    service::release(&state.db, &state.clock, &account, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Extension (Administrator): `POST .../phone-numbers/{id}:disable` and `:enable`.
/// A disabled number keeps its place; enabling returns it to the status it had.
async fn number_action(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<Value>> {
    let raw = params.raw("phoneNumberId");
    let Some((id, action)) = raw.rsplit_once(':') else {
        return Err(ApiError::MethodNotAllowed);
    };
    let change = match action {
        "disable" => NumberChange::Disable,
        "enable" => NumberChange::Enable,
        _ => return Err(super::error::no_route().await),
    };
    let account = params.account_id()?;
    let id = match uuid::Uuid::try_parse(id) {
        Ok(u) if id.len() == 36 => u.hyphenated().to_string(),
        _ => {
            return Err(ApiError::validation(vec![Violation::pattern(
                "phoneNumberId",
                crate::domain::account::UUID_PATTERN,
            )]));
        }
    };
    caller.require_administrator()?;
    let account = account_in_reach(&state, &caller, &params)
        .await
        .map(|_| account)?;
    let n = service::change_status(&state.db, &state.clock, &account, &id, change).await?;
    Ok(Json(number_json(&n)?))
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NumberPage {
    pagination: Pagination,
    phone_numbers: Vec<Value>,
    links: Links,
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

/// AXP `searchPhoneNumbers`.
async fn list_numbers(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
) -> Result<Json<NumberPage>> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let q = number_query(&query)?;
    let mut tx = state.db.read().await?;
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

fn normalise_ids(ids: Vec<String>) -> Vec<String> {
    ids.into_iter()
        .map(|id| match uuid::Uuid::try_parse(&id) {
            Ok(u) if id.len() == 36 => u.hyphenated().to_string(),
            _ => id,
        })
        .collect()
}

/// AXP `listPhoneNumbers`: the numbers with these ids that are not DISABLED, ordered
/// by `displayName` (default) or `phoneNumber`.
async fn list_by_ids(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
    body: Body,
) -> Result<Json<Vec<Value>>> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let ids = normalise_ids(batch(&body, "phoneNumberIds")?);
    let order = parse_order_by(
        query.get("orderBy"),
        &[
            ("displayName", NumberField::DisplayName),
            ("phoneNumber", NumberField::PhoneNumber),
        ],
        NumberField::DisplayName,
    )
    .map_err(|v| ApiError::validation(vec![v]))?;
    let mut tx = state.db.read().await?;
    let mut numbers =
        store::numbers::find_many(&mut tx, &account, store::numbers::Key::Id, &ids).await?;
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

#[derive(Serialize)]
struct Validated {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// AXP `validatePhoneNumbers`: which ids are numbers of the account that can be used
/// (DISABLED ones and unknown ids are invalid, with why).
async fn validate_ids(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    body: Body,
) -> Result<Json<Value>> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let ids = batch(&body, "phoneNumberIds")?;
    let normal = normalise_ids(ids.clone());
    let mut tx = state.db.read().await?;
    let found =
        store::numbers::find_many(&mut tx, &account, store::numbers::Key::Id, &normal).await?;
    let (mut valid, mut invalid) = (Vec::new(), Vec::new());
    for (raw, id) in ids.into_iter().zip(normal) {
        match found.iter().find(|n| n.phone_number_id == id) {
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
    Ok(Json(json!({"valid": valid, "invalid": invalid})))
}

/// AXP `getByPhoneNumbers`: the account's numbers among these. With `*` as the account
/// id an Administrator names the account in `filter=accountId=ABCDEF`.
async fn get_by_numbers(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
    body: Body,
) -> Result<Json<Vec<Value>>> {
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
    let found =
        store::numbers::find_many(&mut tx, &account, store::numbers::Key::Number, &numbers).await?;
    Ok(Json(found.iter().map(number_json).collect::<Result<_>>()?))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AvailablePage {
    pagination: Pagination,
    phone_numbers: Vec<Value>,
    links: Links,
}

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

/// AXP `listAvailablePhoneNumbers`: numbers no account holds, by country and type,
/// optionally area code and a fragment the number contains.
async fn available_numbers(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
) -> Result<Json<AvailablePage>> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let mut violations = Vec::new();
    let country = match query.get("countryCode") {
        None => {
            violations.push(Violation::required("countryCode"));
            None
        }
        Some(c) => check_country("countryCode", c)
            .map_err(|v| violations.push(v))
            .ok()
            .map(|_| c.to_owned()),
    };
    let number_type = required_type(&query, &mut violations);
    let area_code = query.get("areaCode").map(str::to_owned);
    if let Some(a) = &area_code
        && !(1..=5).contains(&a.len())
    {
        violations.push(Violation::size("areaCode", 1, 5));
    }
    let fragment = query.get("phoneNumber").map(str::to_owned);
    if let Some(f) = &fragment
        && (!(1..=15).contains(&f.len())
            || f.trim_start_matches('+').is_empty()
            || !f
                .trim_start_matches('+')
                .bytes()
                .all(|b| b.is_ascii_digit()))
    {
        violations.push(Violation::new(
            "phoneNumber",
            Code::Pattern,
            "must be 1 to 15 characters: digits, optionally after a leading +",
        ));
    }
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
    let mut tx = state.db.read().await?;
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

/// AXP `getAvailableCountries`: countries with available numbers of the type.
async fn countries(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
) -> Result<Json<Vec<String>>> {
    account_in_reach(&state, &caller, &params).await?;
    let mut violations = Vec::new();
    let Some(t) = required_type(&query, &mut violations) else {
        return Err(ApiError::validation(violations));
    };
    let mut tx = state.db.read().await?;
    Ok(Json(store::numbers::countries(&mut tx, t).await?))
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Api;
