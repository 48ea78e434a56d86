//! Injected faults (emulator mode): the `/_ccadmin/faults` controls, and the middleware
//! that applies them to requests under `/api/`, after authentication.

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Result};
use super::extract::{BODY_LIMIT, Body, PathParams};
use super::requests::DropConnection;
use crate::domain::fault::{self, Fault, FaultIn};
use crate::emulator;
use crate::emulator::requests::FaultNote;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_ccadmin/faults", get(list_faults).delete(delete_faults))
        .route(
            "/_ccadmin/faults/{name}",
            axum::routing::put(put_fault).delete(delete_fault),
        )
}

/// The token endpoint's route: public, so a fault applies to it without a token.
const TOKEN_ROUTE: &str = "/api/auth/v1/{accountId}/protocol/openid-connect/token";

/// Applies the first matching fault that fires (faults are tried by name) to a routed
/// request under `/api/`: a delay, then the real operation, an injected status, or a
/// dropped connection. A request that does not authenticate passes on untouched, so it
/// gets its 401; faults are read from this instance's cache, never from the database,
/// unless one matches and has a probability or a limited number of uses.
pub async fn inject(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/api/") {
        return next.run(req).await;
    }
    let faults = state.faults.current();
    if faults.is_empty() {
        return next.run(req).await;
    }
    let account = super::requests::path_account(path);
    let method = req.method().as_str();
    let matching: Vec<&Fault> = faults
        .iter()
        .filter(|f| f.matches(method, path, account))
        .collect();
    if matching.is_empty() {
        return next.run(req).await;
    }
    let public = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| p.as_str() == TOKEN_ROUTE);
    let (mut parts, body) = req.into_parts();
    if !public
        && Caller::from_request_parts(&mut parts, &state)
            .await
            .is_err()
    {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let mut chosen = None;
    for f in matching {
        match emulator::faults::fire(&state.db, &state.faults, f).await {
            Ok(true) => {
                chosen = Some(f);
                break;
            }
            Ok(false) => {}
            // The fault is skipped, the request served: the emulator's own trouble must
            // not turn into an answer nobody injected.
            Err(e) => tracing::warn!(error = %e, fault = %f.name, "deciding a fault failed"),
        }
    }
    let Some(f) = chosen else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    tracing::info!(fault = %f.name, "injecting a fault");
    let note = FaultNote {
        name: f.name.clone(),
        status: f.action.status,
        delay_ms: f.action.delay_ms,
        drop: f.action.drop,
    };
    if let Some(ms) = f.action.delay_ms {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let mut res = if f.action.status.is_some() || f.action.drop {
        // The body is read, as the operation would have, so the journal shows it.
        let _ = axum::body::to_bytes(body, BODY_LIMIT).await;
        match f.action.status.and_then(|s| StatusCode::from_u16(s).ok()) {
            Some(status) => ApiError::InjectedFault {
                status,
                name: f.name.clone(),
            }
            .into_response(),
            None => {
                let mut res = StatusCode::NO_CONTENT.into_response();
                res.extensions_mut().insert(DropConnection);
                res
            }
        }
    } else {
        next.run(Request::from_parts(parts, body)).await
    };
    res.extensions_mut().insert(note);
    res
}

/// An injected fault, as `GET /_ccadmin/faults` shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorFault)]
struct FaultOut {
    #[schema(example = "numbers-down")]
    name: String,
    /// Upper case, or `*`.
    #[schema(example = "GET")]
    method: String,
    #[schema(example = "/api/admin/voice/v1/accounts/*/phone-numbers*")]
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "ABCDEF")]
    account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = 503)]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    delay_ms: Option<u64>,
    drop: bool,
    #[schema(minimum = 0, maximum = 1, example = 1.0)]
    probability: f64,
    /// Uses left; absent: until deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = 2)]
    times: Option<i64>,
}

impl From<&Fault> for FaultOut {
    fn from(f: &Fault) -> Self {
        Self {
            name: f.name.clone(),
            method: f.method.clone(),
            path: f.path.as_str().to_owned(),
            account_id: f.account_id.as_ref().map(|a| a.as_str().to_owned()),
            status: f.action.status,
            delay_ms: f.action.delay_ms,
            drop: f.action.drop,
            probability: f.probability(),
            times: f.times,
        }
    }
}

/// The faults, by name.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EmulatorFaultList)]
struct FaultList {
    faults: Vec<FaultOut>,
}

/// The tag of every control.
const EMULATOR: &str = "Emulator";

/// The path parameter of the fault operations.
const NAME: &str = "The fault's name: 1 to 64 letters, digits, `.`, `_` or `-`.";

/// List injected faults (emulator mode).
///
/// Every fault, by name (the order in which they are tried), with the uses left of
/// those set with `times`. Emulator mode only (`--emulator` or `--demo`; otherwise the
/// path is 404); Administrator only.
#[utoipa::path(get, path = "/_ccadmin/faults", operation_id = "emulatorListFaults", tag = EMULATOR,
    responses((status = 200, description = "The faults", body = FaultList)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn list_faults(State(state): State<AppState>, caller: Caller) -> Result<Json<FaultList>> {
    caller.require_administrator()?;
    let faults = emulator::faults::list(&state.db).await?;
    Ok(Json(FaultList {
        faults: faults.iter().map(FaultOut::from).collect(),
    }))
}

/// Set an injected fault (emulator mode).
///
/// Creates or replaces the fault `name`: requests under `/api/` with this method and
/// path (and account, if given) get, after authentication, the status as
/// problem+json instead of the operation (429 and 503 with `Retry-After: 1`), the
/// delay before it, or a connection closed without an answer; with `probability`
/// (drawn from the faults' own seeded sequence, see `PUT /_ccadmin/seed`) and `times`
/// (then it removes itself). Never applied to `/_ccadmin`. Every instance on the
/// database applies it within a second. Emulator mode only (`--emulator` or `--demo`;
/// otherwise the path is 404); Administrator only.
#[utoipa::path(put, path = "/_ccadmin/faults/{name}", operation_id = "emulatorPutFault", tag = EMULATOR,
    params(("name" = String, Path, description = NAME, pattern = "^[A-Za-z0-9._-]{1,64}$")),
    request_body = FaultIn,
    responses((status = 200, description = "The fault as `GET /_ccadmin/faults` shows it", body = FaultOut)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn put_fault(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    body: Body,
) -> Result<Json<FaultOut>> {
    caller.require_administrator()?;
    let name = params.raw("name");
    fault::check_name(name).map_err(|v| ApiError::validation(vec![v]))?;
    let input: FaultIn = body.json()?;
    let f = input.into_fault(name).map_err(ApiError::validation)?;
    emulator::faults::put(&state.db, &state.faults, &f, state.clock.now_ms()).await?;
    Ok(Json(FaultOut::from(&f)))
}

/// Remove an injected fault (emulator mode).
///
/// Removes the fault `name`, also when there is none. Emulator mode only (`--emulator`
/// or `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(delete, path = "/_ccadmin/faults/{name}", operation_id = "emulatorDeleteFault", tag = EMULATOR,
    params(("name" = String, Path, description = NAME, pattern = "^[A-Za-z0-9._-]{1,64}$")),
    responses((status = 204, description = "Removed")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn delete_fault(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<StatusCode> {
    caller.require_administrator()?;
    let name = params.raw("name");
    fault::check_name(name).map_err(|v| ApiError::validation(vec![v]))?;
    emulator::faults::delete(&state.db, &state.faults, name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove every injected fault (emulator mode).
///
/// Emulator mode only (`--emulator` or `--demo`; otherwise the path is 404);
/// Administrator only.
#[utoipa::path(delete, path = "/_ccadmin/faults", operation_id = "emulatorDeleteFaults", tag = EMULATOR,
    responses((status = 204, description = "Removed")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn delete_faults(State(state): State<AppState>, caller: Caller) -> Result<StatusCode> {
    caller.require_administrator()?;
    emulator::faults::delete_all(&state.db, &state.faults).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list_faults, put_fault, delete_fault, delete_faults))]
pub struct Api;
