//! Extension (Administrator only): clients of an account, since the public spec has no
//! operation that creates the credentials its token endpoint takes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::{Caller, unknown_role};
use super::error::{ApiError, Problem, Result};
use super::extract::{Body, PathParams};
use crate::domain::feature::Feature;
use crate::domain::{Code, FeatureGrants, Role, Violation, time};
use crate::service::clients as service;
use crate::store::{self, credentials::Client};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/account/v1/accounts/{accountId}/clients",
            get(list_clients).post(create_client),
        )
        .route(
            "/api/admin/account/v1/accounts/{accountId}/clients/{clientId}",
            delete(revoke_client),
        )
}

/// A client to create (extension).
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ClientRequest)]
struct ClientIn {
    /// The client's roles; repeated roles count once. `Administrator` only for a client
    /// of the default account.
    #[schema(required = true, nullable = false, value_type = Option<Vec<Role>>, min_items = 1,
        example = json!(["Account Administrator"]))]
    roles: Option<Vec<Option<String>>>,
    /// The account features the client may see and change; `["*"]` (every feature) when
    /// absent.
    #[schema(nullable = false, value_type = Option<FeatureGrants>)]
    features: Option<Vec<Option<String>>>,
}

/// A client of an account (extension): never its secret, except in the answer that
/// creates it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Client)]
struct ClientOut {
    /// The `client_id` of the token endpoint.
    #[schema(example = "client-3f0c2b8e9d5a4c1b8e7f6a5d4c3b2a19")]
    client_id: String,
    #[schema(example = "ABCDEF")]
    account_id: String,
    /// The `appkey` header that goes with the client's tokens.
    appkey: String,
    roles: Vec<Role>,
    features: FeatureGrants,
    #[schema(format = DateTime, example = "2021-11-13T20:25:39.534Z")]
    created_at: String,
    /// When the client was revoked; absent while it is live.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    revoked_at: Option<String>,
    /// The `client_secret` of the token endpoint: only in the answer that creates the
    /// client, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    client_secret: Option<String>,
}

impl ClientOut {
    fn from(c: Client, secret: Option<String>) -> Self {
        Self {
            client_id: c.client_id,
            account_id: c.account_id.to_string(),
            appkey: c.appkey,
            roles: c.roles,
            features: c.features,
            created_at: time::rfc3339(c.created_at),
            revoked_at: c.revoked_at.map(time::rfc3339),
            client_secret: secret,
        }
    }
}

fn parse_client(input: ClientIn) -> Result<(Vec<Role>, FeatureGrants)> {
    let mut violations = Vec::new();
    let mut roles = Vec::new();
    match input.roles {
        None => violations.push(Violation::required("roles")),
        Some(list) if list.is_empty() => {
            violations.push(Violation::size("roles", 1, Role::ALL.len()))
        }
        Some(list) => {
            for (i, r) in list.into_iter().enumerate() {
                let field = format!("roles[{i}]");
                match r.as_deref().map(|s| (s, Role::parse(s))) {
                    None => violations.push(Violation::required(field)),
                    Some((_, Some(role))) if !roles.contains(&role) => roles.push(role),
                    Some((_, Some(_))) => {}
                    Some((name, None)) => violations.push(unknown_role(field, name)),
                }
            }
        }
    }
    let features = match input.features {
        None => FeatureGrants::all(),
        Some(list) => {
            let mut names = Vec::new();
            for (i, f) in list.into_iter().enumerate() {
                let field = format!("features[{i}]");
                match f {
                    None => violations.push(Violation::required(field)),
                    Some(f) if f == FeatureGrants::ALL || Feature::parse(&f).is_some() => {
                        names.push(f)
                    }
                    Some(_) => violations.push(Violation::new(
                        field,
                        Code::InvalidValue,
                        "must be '*' or a feature name of the Account schema",
                    )),
                }
            }
            FeatureGrants::of(names)
        }
    };
    if violations.is_empty() {
        Ok((roles, features))
    } else {
        Err(ApiError::validation(violations))
    }
}

/// Create a client
///
/// Administrator only. The answer is the only one that shows `clientSecret`.
#[utoipa::path(post, path = "/api/admin/account/v1/accounts/{accountId}/clients",
    operation_id = "createClient", tag = "Clients", request_body = ClientIn,
    responses((status = 201, description = "Created: the client with its secret", body = ClientOut)),
    extensions(("x-ccadmin-extension" = json!(true))))]
#[tracing::instrument(skip_all, fields(account_id = %params.raw("accountId")))]
async fn create_client(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    body: Body,
) -> Result<Response> {
    let account = params.account_id()?;
    caller.require_administrator()?;
    let mut tx = state.db.read().await?;
    if !store::accounts::exists(&mut tx, &account).await? {
        return Err(ApiError::not_found(
            "Account",
            "AccountId",
            account.as_str(),
        ));
    }
    drop(tx);
    let (roles, features) = parse_client(body.json()?)?;
    let created = service::create(
        &state.db,
        &state.clock,
        &account,
        roles,
        features,
        &caller.author(),
    )
    .await?;
    let out = ClientOut::from(created.client, Some(created.client_secret));
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// List the clients of an account
///
/// Administrator only. Revoked clients included; never a secret.
#[utoipa::path(get, path = "/api/admin/account/v1/accounts/{accountId}/clients",
    operation_id = "listClients", tag = "Clients",
    responses((status = 200, description = "The account's clients", body = Vec<ClientOut>)),
    extensions(("x-ccadmin-extension" = json!(true))))]
#[tracing::instrument(skip_all, fields(account_id = %params.raw("accountId")))]
async fn list_clients(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<Vec<ClientOut>>> {
    let account = params.account_id()?;
    caller.require_administrator()?;
    let mut tx = state.db.read().await?;
    if !store::accounts::exists(&mut tx, &account).await? {
        return Err(ApiError::not_found(
            "Account",
            "AccountId",
            account.as_str(),
        ));
    }
    let clients = store::credentials::clients(&mut tx, &account).await?;
    Ok(Json(
        clients
            .into_iter()
            .map(|c| ClientOut::from(c, None))
            .collect(),
    ))
}

/// Revoke a client
///
/// Administrator only. The client's access tokens stop working within
/// `--client-cache-ttl-ms`, its refresh tokens at once.
#[utoipa::path(delete, path = "/api/admin/account/v1/accounts/{accountId}/clients/{clientId}",
    operation_id = "revokeClient", tag = "Clients",
    params(("clientId" = String, Path, description = "The client's id.",
        example = "client-3f0c2b8e9d5a4c1b8e7f6a5d4c3b2a19")),
    responses((status = 204, description = "Revoked"),
        (status = 404, description = "No such account, or no live client with this id in it",
            body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
#[tracing::instrument(skip_all, fields(account_id = %params.raw("accountId")))]
async fn revoke_client(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<StatusCode> {
    let account = params.account_id()?;
    caller.require_administrator()?;
    let client_id = params.raw("clientId");
    crate::service::clients::revoke(
        &state.db,
        &state.clock,
        &state.auth,
        &account,
        client_id,
        &caller.author(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create_client, list_clients, revoke_client))]
pub struct Api;
