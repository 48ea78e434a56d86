//! The Accounts API (`/api/admin/account/v1/accounts...`) and the account-creation
//! extension.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Result};
use super::extract::{Body, PathParams, PreferHeader, QueryParams};
use super::listing::{self, Links, Pagination};
use crate::domain::account::{Account, AccountBody, AccountIn};
use crate::domain::listing::{Match, PageRules, parse_filter, parse_order_by};
use crate::domain::{AccountId, Code, Violation};
use crate::service::accounts::{self as service, Actor, enabled_features};
use crate::store;
use crate::store::accounts::{AccountFilterField, AccountOrderField, AccountQuery};

const BASE: &str = "/api/admin/account/v1";

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/account/v1/accounts",
            get(list_accounts).post(create_account),
        )
        .route(
            "/api/admin/account/v1/accounts/{accountId}",
            get(get_account).put(update_account),
        )
        .route(
            "/api/admin/account/v1/accounts:listStatuses",
            post(list_account_statuses),
        )
}

/// An account as `caller` may see it; `enabledFeatures` needs the features' statuses.
async fn account_json(tx: &mut store::Tx, account: &Account, caller: &Caller) -> Result<Value> {
    let statuses = store::accounts::feature_statuses(tx, &account.account_id).await?;
    let mut body = if caller.is_administrator() {
        account.body.clone()
    } else {
        account.body.visible_to(&caller.client.features)
    };
    // References show their profile's current name (profiles can be renamed).
    if let Some(refs) = body.profiles.as_mut().filter(|r| !r.is_empty()) {
        let known = store::org::profiles(tx, &account.account_id).await?;
        for r in refs.iter_mut() {
            if let Some(p) = known.iter().find(|p| p.profile_id == r.profile_id) {
                *r = crate::service::org::reference(&account.account_id, p);
            }
        }
    }
    let out = account.to_out(&body, enabled_features(&body, &statuses));
    serde_json::to_value(out).map_err(ApiError::internal)
}

async fn account_view(state: &AppState, account: &Account, caller: &Caller) -> Result<Value> {
    let mut tx = state.db.read().await?;
    account_json(&mut tx, account, caller).await
}

/// The accounts list's rules: the spec's default 5, minimum 5 and maximum 50.
const ACCOUNT_PAGES: PageRules = PageRules {
    default_size: 5,
    min_size: 5,
    max_size: 50,
};

const FILTER_FIELDS: [(&str, AccountFilterField); 6] = [
    ("name", AccountFilterField::Name),
    ("accountId", AccountFilterField::AccountId),
    ("domainName", AccountFilterField::DomainName),
    ("profileName", AccountFilterField::ProfileName),
    ("profileId", AccountFilterField::ProfileId),
    ("isDefault", AccountFilterField::IsDefault),
];

const ORDER_FIELDS: [(&str, AccountOrderField); 2] = [
    ("name", AccountOrderField::Name),
    ("accountId", AccountOrderField::AccountId),
];

#[derive(Serialize)]
struct AccountPage {
    pagination: Pagination,
    accounts: Vec<Value>,
    links: Links,
}

fn account_query(query: &QueryParams) -> Result<AccountQuery> {
    let mut violations = Vec::new();
    let page = listing::page(query, ACCOUNT_PAGES).map_err(|e| match e {
        ApiError::Validation { violations, .. } => violations,
        _ => Vec::new(),
    });
    let filter = query
        .get("filter")
        .map(|raw| parse_filter(raw, &FILTER_FIELDS))
        .transpose()
        .and_then(|f| match f {
            Some(f)
                if f.field == AccountFilterField::IsDefault
                    && (!["true", "false"].contains(&f.matcher.value())
                        || !matches!(f.matcher, Match::Equals(_) | Match::Exact(_))) =>
            {
                Err(Violation::new(
                    "filter",
                    Code::InvalidValue,
                    "isDefault takes true or false, without wildcards",
                ))
            }
            other => Ok(other),
        });
    let order = parse_order_by(query.get("orderBy"), &ORDER_FIELDS, AccountOrderField::Name);
    let page = page.map_err(|v| violations.extend(v)).ok();
    let filter = filter.map_err(|v| violations.push(v)).ok();
    let order = order.map_err(|v| violations.push(v)).ok();
    match (page, filter, order) {
        (Some(page), Some(filter), Some(order)) if violations.is_empty() => Ok(AccountQuery {
            filter,
            order,
            page,
        }),
        _ => Err(ApiError::validation(violations)),
    }
}

/// AXP `listAccounts` (Administrator): filter, order and pages as the spec describes.
#[tracing::instrument(skip_all)]
async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Json<AccountPage>> {
    caller.require_administrator()?;
    let q = account_query(&query)?;
    let mut tx = state.db.read().await?;
    let (accounts, total) = store::accounts::list(&mut tx, &q).await?;
    let mut views = Vec::with_capacity(accounts.len());
    for a in &accounts {
        views.push(account_json(&mut tx, a, &caller).await?);
    }
    let (pagination, links) = listing::paginate(&format!("{BASE}/accounts"), &query, q.page, total);
    Ok(Json(AccountPage {
        pagination,
        accounts: views,
        links,
    }))
}

/// Reads an account of the caller's reach, 404 if it does not exist.
async fn load(state: &AppState, id: &AccountId) -> Result<Account> {
    let mut tx = state.db.read().await?;
    store::accounts::get(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Account", "AccountId", id.as_str()))
}

/// AXP `getAccount`.
#[tracing::instrument(skip_all, fields(account_id = %params.raw("accountId")))]
async fn get_account(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<Value>> {
    let id = params.account_id()?;
    caller.require_account(&id)?;
    let account = load(&state, &id).await?;
    Ok(Json(account_view(&state, &account, &caller).await?))
}

/// AXP `updateAccount`: a complete replacement, answered 202 with the account.
/// Read-only fields in the body are ignored.
#[tracing::instrument(skip_all, fields(account_id = %params.raw("accountId")))]
async fn update_account(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    prefer: PreferHeader,
    body: Body,
) -> Result<Response> {
    let id = params.account_id()?;
    caller.require_account(&id)?;
    load(&state, &id).await?;
    let body = AccountBody::try_from(body.json::<AccountIn>()?).map_err(ApiError::validation)?;
    let actor = Actor {
        administrator: caller.is_administrator(),
        features: caller.client.features.clone(),
        author: caller.author(),
    };
    let provisioning = state
        .provisioning(&prefer, &service::OUTCOMES, state.feature_delay_ms)
        .await?;
    let account =
        service::replace(&state.db, &state.clock, &id, body, &actor, &provisioning).await?;
    state.jobs.wake();
    Ok((
        StatusCode::ACCEPTED,
        Json(account_view(&state, &account, &caller).await?),
    )
        .into_response())
}

/// Extension (Administrator): creates an account with a generated `accountId`, 202.
#[tracing::instrument(skip_all)]
async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    prefer: PreferHeader,
    body: Body,
) -> Result<Response> {
    caller.require_administrator()?;
    let body = AccountBody::try_from(body.json::<AccountIn>()?).map_err(ApiError::validation)?;
    let provisioning = state
        .provisioning(&prefer, &service::OUTCOMES, state.feature_delay_ms)
        .await?;
    let account = service::create(
        &state.db,
        &state.clock,
        body,
        &provisioning,
        &caller.author(),
    )
    .await?;
    state.jobs.wake();
    Ok((
        StatusCode::ACCEPTED,
        Json(account_view(&state, &account, &caller).await?),
    )
        .into_response())
}

/// The spec's `AccountIdList`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountIdList {
    account_ids: Option<Vec<Option<String>>>,
}

/// AXP `listAccountStatuses`. With no ids, the caller's own account. An Account
/// Administrator asking for another account gets 403; unknown ids are 404.
#[tracing::instrument(skip_all)]
async fn list_account_statuses(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<Value>> {
    let list: AccountIdList = body.json()?;
    let raw = list.account_ids.unwrap_or_default();
    let mut violations = Vec::new();
    if raw.len() > 50 {
        violations.push(Violation::size("accountIds", 0, 50));
    }
    let mut ids = Vec::with_capacity(raw.len());
    for (i, id) in raw.into_iter().enumerate() {
        let field = format!("accountIds[{i}]");
        match id {
            None => violations.push(Violation::required(field)),
            Some(s) => match AccountId::parse_field(&field, &s) {
                Ok(id) if !ids.contains(&id) => ids.push(id),
                Ok(_) => {}
                Err(v) => violations.push(v),
            },
        }
    }
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }
    if ids.is_empty() {
        ids.push(caller.account_id.clone());
    }
    for id in &ids {
        caller.require_account(id)?;
    }
    let mut tx = state.db.read().await?;
    for id in &ids {
        if !store::accounts::exists(&mut tx, id).await? {
            return Err(ApiError::not_found("Account", "AccountId", id.as_str()));
        }
    }
    let statuses = store::accounts::statuses(&mut tx, &ids).await?;
    Ok(Json(
        serde_json::to_value(statuses).map_err(ApiError::internal)?,
    ))
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Api;
