//! Emulator controls under `/_ccadmin` (Administrator only, emulator mode only): the
//! job list, the transition journal, and the server's clock. AXP itself offers only
//! polling; these exist so that integrators can test their code against lifecycles.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Result};
use super::extract::{Body, QueryParams};
use crate::domain::prefer::parse_duration_ms;
use crate::domain::{Code, Violation, time};
use crate::store::{self, jobs::TransitionQuery};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_ccadmin/jobs", get(list_jobs))
        .route("/_ccadmin/jobs:settle", post(settle_jobs))
        .route("/_ccadmin/transitions", get(list_transitions))
        .route("/_ccadmin/clock", get(get_clock))
        .route("/_ccadmin/clock:advance", post(advance_clock))
        .route("/_ccadmin/clock:freeze", post(freeze_clock))
        .route("/_ccadmin/clock:unfreeze", post(unfreeze_clock))
}

fn limit(query: &QueryParams) -> Result<i64> {
    match query.get("limit") {
        None => Ok(1000),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=10_000).contains(&n) => Ok(n),
            _ => Err(ApiError::validation(vec![Violation::new(
                "limit",
                Code::Range,
                "must be between 1 and 10000",
            )])),
        },
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobOut {
    id: String,
    kind: String,
    account_id: String,
    resource_id: String,
    state: String,
    attempts: i32,
    max_attempts: i32,
    run_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    created_at: String,
    updated_at: String,
}

/// Jobs, oldest first: `accountId`, `state` and `limit` (default 1000) narrow it.
async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Json<Value>> {
    caller.require_administrator()?;
    let limit = limit(&query)?;
    let mut tx = state.db.read().await?;
    let jobs =
        store::jobs::list(&mut tx, query.get("accountId"), query.get("state"), limit).await?;
    let jobs: Vec<JobOut> = jobs
        .into_iter()
        .map(|j| JobOut {
            id: j.id,
            kind: j.kind,
            account_id: j.account_id,
            resource_id: j.resource_id,
            state: j.state,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: time::rfc3339(j.run_at),
            last_error: j.last_error,
            created_at: time::rfc3339(j.created_at),
            updated_at: time::rfc3339(j.updated_at),
        })
        .collect();
    Ok(Json(json!({ "jobs": jobs })))
}

/// Runs every job to its end now, moving the clock to each simulated delay in turn.
async fn settle_jobs(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>> {
    caller.require_administrator()?;
    let runs = state.jobs.run_until_settled().await?;
    Ok(Json(
        json!({ "runs": runs, "now": time::rfc3339(state.clock.now_ms()) }),
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TransitionOut {
    seq: i64,
    at: String,
    account_id: String,
    resource_kind: String,
    resource_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    cause: String,
}

/// The journal of status transitions: `accountId`, `resourceKind`, `resourceId`,
/// `after` (a `seq`) and `limit` narrow it.
async fn list_transitions(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Json<Value>> {
    caller.require_administrator()?;
    let after = match query.get("after") {
        None => 0,
        Some(s) => s.parse::<i64>().map_err(|_| {
            ApiError::validation(vec![Violation::new(
                "after",
                Code::InvalidType,
                "must be an integer",
            )])
        })?,
    };
    let q = TransitionQuery {
        account_id: query.get("accountId").map(str::to_owned),
        resource_kind: query.get("resourceKind").map(str::to_owned),
        resource_id: query.get("resourceId").map(str::to_owned),
        after,
        limit: limit(&query)?,
    };
    let mut tx = state.db.read().await?;
    let rows = store::jobs::transitions(&mut tx, &q).await?;
    let out: Vec<TransitionOut> = rows
        .into_iter()
        .map(|t| TransitionOut {
            seq: t.seq,
            at: time::rfc3339(t.at),
            account_id: t.account_id,
            resource_kind: t.resource_kind,
            resource_id: t.resource_id,
            from: t.from_status,
            to: t.to_status,
            message: t.message,
            cause: t.cause,
        })
        .collect();
    Ok(Json(json!({ "transitions": out })))
}

fn clock_json(state: &AppState) -> Json<Value> {
    Json(json!({"now": time::rfc3339(state.clock.now_ms()), "frozen": state.clock.is_frozen()}))
}

/// The server's clock.
async fn get_clock(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>> {
    caller.require_administrator()?;
    Ok(clock_json(&state))
}

#[derive(Deserialize)]
struct AdvanceIn {
    by: Option<String>,
}

/// Moves the clock forward by `{"by": "5s"}`; jobs that become due run at once.
async fn advance_clock(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<Value>> {
    caller.require_administrator()?;
    let input: AdvanceIn = body.json()?;
    let by = input
        .by
        .ok_or_else(|| ApiError::validation(vec![Violation::required("by")]))?;
    let ms = parse_duration_ms(&by).ok_or_else(|| {
        ApiError::validation(vec![Violation::new(
            "by",
            Code::InvalidValue,
            "must be like 250ms, 5s, 2m or 1h",
        )])
    })?;
    state.clock.advance(ms);
    state.jobs.wake();
    Ok(clock_json(&state))
}

/// Stops the clock: simulated delays and token expiry wait until it is advanced.
async fn freeze_clock(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>> {
    caller.require_administrator()?;
    state.clock.freeze();
    Ok(clock_json(&state))
}

/// Lets the clock run again from where it stands.
async fn unfreeze_clock(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>> {
    caller.require_administrator()?;
    state.clock.unfreeze();
    state.jobs.wake();
    Ok(clock_json(&state))
}
