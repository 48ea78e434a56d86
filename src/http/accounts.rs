//! The Accounts API (`/api/admin/account/v1/accounts...`) and the account-creation
//! extension.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Problem, Result};
use super::extract::{Body, PathParams, PreferHeader, QueryParams};
use super::idempotency::{self as keys, KeyHeader, json_answer};
use super::listing::{self, Links, Pagination};
use super::preconditions::{Conditions, Current, IfMatchParam, IfNoneMatchParam, tagged};
use crate::domain::account::{Account, AccountBody, AccountIn, AccountOut};
use crate::domain::feature::AccountStatus;
use crate::domain::idempotency::StoredAnswer;
use crate::domain::ids::SIX_LETTERS;
use crate::domain::listing::{Match, PageRules, parse_filter, parse_order_by};
use crate::domain::{AccountId, Code, Violation};
use crate::jobs::JobKind;
use crate::service::ServiceError;
use crate::service::accounts::{self as service, Actor, enabled_features};
use crate::service::idempotency::Render;
use crate::store;
use crate::store::accounts::{AccountFilterField, AccountOrderField, AccountQuery};
use crate::store::locks::Resource;
use futures_util::future::BoxFuture;

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
                *r = crate::service::profiles::reference(&account.account_id, p);
            }
        }
    }
    let out = account.to_out(&body, enabled_features(&body, &statuses));
    serde_json::to_value(out).map_err(ApiError::internal)
}

/// An account as a GET by `caller` shows it, read in a write's transaction
/// (`If-Match`).
struct AccountNow<'a> {
    id: &'a AccountId,
    caller: &'a Caller,
}

impl Current for AccountNow<'_> {
    fn read<'t>(
        &'t self,
        tx: &'t mut store::Tx,
    ) -> BoxFuture<'t, std::result::Result<Option<Value>, ServiceError>> {
        Box::pin(async move {
            let Some(account) = store::accounts::get(tx, self.id).await? else {
                return Ok(None);
            };
            account_json(tx, &account, self.caller)
                .await
                .map(Some)
                .map_err(keys::service_error)
        })
    }
}

/// A new account's 202 as `caller` sees it, rendered in its write's transaction.
struct AccountCreated<'a> {
    caller: &'a Caller,
}

impl Render<Account> for AccountCreated<'_> {
    fn render<'t>(
        &'t self,
        tx: &'t mut store::Tx,
        account: &'t Account,
    ) -> BoxFuture<'t, std::result::Result<StoredAnswer, ServiceError>> {
        Box::pin(async move {
            let body = account_json(tx, account, self.caller).await;
            json_answer(StatusCode::ACCEPTED, body)
        })
    }
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

/// One page of accounts.
#[derive(Serialize, utoipa::ToSchema)]
struct AccountPage {
    pagination: Pagination,
    #[schema(value_type = Vec<AccountOut>)]
    accounts: Vec<Value>,
    /// The neighbouring pages, keeping the request's query parameters; `""` when there
    /// is none.
    #[schema(example = json!({
        "prev": "",
        "next": "/api/admin/account/v1/accounts?pageNumber=2&pageSize=5"
    }))]
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

/// List accounts
///
/// Administrator only. One `filter` expression over `name`, `accountId`, `domainName`,
/// `profileName`, `profileId` or `isDefault`: `field:value` compares the whole value
/// ignoring case, `field:v*`, `field:*v` and `field:*v*` match a prefix, suffix or
/// infix ignoring case, `field=value` is exact. `isDefault` takes `true` or `false`.
#[utoipa::path(get, path = "/api/admin/account/v1/accounts",
    operation_id = "listAccounts", tag = "Account",
    params(
        ("pageNumber" = Option<u32>, Query, nullable = false, minimum = 1, maximum = 1000000,
            description = "The page to return; 1 when absent.", example = 1),
        ("pageSize" = Option<u32>, Query, nullable = false, minimum = 5, maximum = 50,
            description = "Accounts per page; 5 when absent.", example = 5),
        ("filter" = Option<String>, Query, nullable = false, max_length = 255,
            pattern = r"^((name|accountId|domainName|profileName|profileId)(=[\s\S]*|:\*?[^*]+\*?)|isDefault[:=](true|false))$",
            description = "`field:value`, `field:prefix*`, `field:*suffix`, `field:*infix*` \
                (ignoring case) or `field=value` (exact).", example = "name:SyncG*"),
        ("orderBy" = Option<String>, Query, nullable = false, max_length = 255,
            pattern = "^(name|accountId)( (asc|desc))?$",
            description = "`name` (the default) or `accountId`, ascending unless followed by ` desc`.",
            example = "name desc"),
    ),
    responses((status = 200, description = "One page of accounts", body = AccountPage)))]
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

/// Get an account
///
/// An Administrator reads any account, an Account Administrator its own, with only the
/// features its client was granted.
#[utoipa::path(get, path = "/api/admin/account/v1/accounts/{accountId}",
    operation_id = "getAccount", tag = "Account", params(IfNoneMatchParam),
    responses((status = 200, description = "The account", body = AccountOut,
        headers(("ETag" = String, description = "Extension: the entity tag of the account as this caller sees it"))),
        (status = 304, description = "Extension: `If-None-Match` names the current `ETag`")))]
#[tracing::instrument(skip_all, fields(account_id = %params.raw("accountId")))]
async fn get_account(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
) -> Result<Response> {
    let id = params.account_id()?;
    caller.require_account(&id)?;
    // One connection for the read and the view's lookups.
    let mut tx = state.db.read().await?;
    let account = store::accounts::get(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Account", "AccountId", id.as_str()))?;
    conditions.read(&account_json(&mut tx, &account, &caller).await?)
}

/// Update an account
///
/// A complete replacement: optional fields left out are removed, features included.
/// Read-only fields in the body are ignored. Changes to `name` and `features` are
/// provisioned asynchronously; `accounts:listStatuses` follows them. An Account
/// Administrator replaces its own account, may not change `accountSize`, and changes
/// only the features its client was granted (403).
#[utoipa::path(put, path = "/api/admin/account/v1/accounts/{accountId}",
    operation_id = "updateAccount", params(PreferHeader, IfMatchParam), tag = "Account", request_body = AccountIn,
    responses((status = 202, description = "Accepted: the account as stored; provisioning runs", body = AccountOut,
            headers(("ETag" = String, description = "Extension: the account's new entity tag"))),
        (status = 412, description = "Extension: `If-Match` no longer names the account's `ETag`; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = NAME_TAKEN, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(account_id = %params.raw("accountId")))]
async fn update_account(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
    prefer: PreferHeader,
    body: Body,
) -> Result<Response> {
    let id = params.account_id()?;
    caller.require_account(&id)?;
    let current = load(&state, &id).await?;
    conditions.check(&account_view(&state, &current, &caller).await?)?;
    let body = AccountBody::try_from(body.json::<AccountIn>()?).map_err(ApiError::validation)?;
    let actor = Actor {
        administrator: caller.is_administrator(),
        features: caller.client.features.clone(),
        author: caller.author(),
    };
    let provisioning = state.provisioning(&prefer, JobKind::AccountFeature).await?;
    let pre = conditions.in_write(
        &id,
        Resource::Account,
        AccountNow {
            id: &id,
            caller: &caller,
        },
    );
    let account = service::replace(
        &state.db,
        &state.clock,
        &id,
        body,
        &actor,
        &provisioning,
        pre.as_ref().map(|p| p as _),
    )
    .await?;
    state.jobs.wake();
    tagged(
        StatusCode::ACCEPTED,
        &account_view(&state, &account, &caller).await?,
    )
}

/// Create an account
///
/// Administrator only. The account gets a generated upper-case `accountId`; its
/// features are provisioned asynchronously (`accounts:listStatuses`, action `ADD`).
#[utoipa::path(post, path = "/api/admin/account/v1/accounts",
    operation_id = "createAccount", params(PreferHeader, KeyHeader), tag = "Account", request_body = AccountIn,
    responses((status = 202, description = "Accepted: the account as stored; provisioning runs", body = AccountOut),
        (status = 409, description = NAME_TAKEN, body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
#[tracing::instrument(skip_all)]
async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    key: KeyHeader,
    prefer: PreferHeader,
    body: Body,
) -> Result<Response> {
    let started = keys::begin(&state, &caller, &key, "createAccount", body.bytes()).await?;
    caller.require_administrator()?;
    let body = AccountBody::try_from(body.json::<AccountIn>()?).map_err(ApiError::validation)?;
    let provisioning = state.provisioning(&prefer, JobKind::AccountFeature).await?;
    let render = AccountCreated { caller: &caller };
    let result = service::create(
        &state.db,
        &state.clock,
        body,
        &provisioning,
        &caller.author(),
        started.keyed(&render).as_ref(),
    )
    .await;
    let account = started.settle(&state, result).await?;
    state.jobs.wake();
    if let Some(sent) = started.sent() {
        return Ok(sent);
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(account_view(&state, &account, &caller).await?),
    )
        .into_response())
}

/// The 409 of an account create or update.
const NAME_TAKEN: &str = "Another account has this name (ignoring case)";

/// The accounts whose statuses to list (the spec's `AccountIdList`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct AccountIdList {
    #[schema(nullable = false, schema_with = account_id_list)]
    account_ids: Option<Vec<Option<String>>>,
}

/// The schema of `accountIds`.
fn account_id_list() -> utoipa::openapi::Array {
    use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .description(Some(
            "The accounts to report on; repeated ids count once. None, or an empty \
             list, means the caller's own account.",
        ))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(6))
                .max_length(Some(6))
                .pattern(Some(SIX_LETTERS)),
        )
        .max_items(Some(50))
        .examples([json!(["ADFSET", "WSFSET"])])
        .build()
}

/// List account statuses
///
/// The status of each account's latest operation (creation or replacement), in the
/// order asked; an account that never had one is left out. With no ids, the caller's
/// own account. An Account Administrator may ask only for its own account (403).
#[utoipa::path(post, path = "/api/admin/account/v1/accounts:listStatuses",
    operation_id = "listAccountStatuses", tag = "Account", request_body = AccountIdList,
    responses((status = 200, description = "The statuses", body = Vec<AccountStatus>),
        (status = 404, description = "An account in `accountIds` does not exist", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_account_statuses(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<Vec<AccountStatus>>> {
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
    Ok(Json(statuses))
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_accounts,
    create_account,
    get_account,
    update_account,
    list_account_statuses
))]
pub struct Api;
