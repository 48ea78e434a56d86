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
        .route("/_ccadmin/rules", get(list_rules))
        .route(
            "/_ccadmin/rules/{resourceKind}",
            axum::routing::put(put_rule).delete(delete_rule),
        )
        .route("/_ccadmin/seed", axum::routing::put(put_seed))
        .route("/_ccadmin/reset", post(reset))
        .route("/_ccadmin/events", get(events))
        .route("/_ccadmin/verifications", post(verify_number))
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
    persist_clock(&state).await?;
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
    let out: Vec<TransitionOut> = rows.into_iter().map(transition_out).collect();
    Ok(Json(json!({ "transitions": out })))
}

fn transition_out(t: store::jobs::TransitionRow) -> TransitionOut {
    TransitionOut {
        seq: t.seq,
        at: time::rfc3339(t.at),
        account_id: t.account_id,
        resource_kind: t.resource_kind,
        resource_id: t.resource_id,
        from: t.from_status,
        to: t.to_status,
        message: t.message,
        cause: t.cause,
    }
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

/// Moves the clock forward by `{"by": "5s"}`; workers (if any run in this process)
/// are woken for the jobs that became due.
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
    persist_clock(&state).await?;
    state.jobs.wake();
    Ok(clock_json(&state))
}

/// Stops the clock: simulated delays and token expiry wait until it is advanced.
async fn freeze_clock(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>> {
    caller.require_administrator()?;
    state.clock.freeze();
    persist_clock(&state).await?;
    Ok(clock_json(&state))
}

/// Lets the clock run again from where it stands.
async fn unfreeze_clock(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>> {
    caller.require_administrator()?;
    state.clock.unfreeze();
    persist_clock(&state).await?;
    state.jobs.wake();
    Ok(clock_json(&state))
}

const CLOCK_KEY: &str = "clock";

/// Loads the persisted clock, so that a frozen or advanced clock survives restarts and
/// every instance on one database follows the one that moved it (they call this
/// periodically). Only a newer version than this instance last wrote or applied is
/// taken, so an instance never undoes its own move with an older one.
pub async fn restore_clock(
    db: &store::Db,
    clock: &crate::clock::Clock,
) -> Result<(), store::StoreError> {
    let mut tx = db.read().await?;
    let value = store::emulator::state(&mut tx, CLOCK_KEY).await?;
    if let Some(v) = value
        && let Ok(ClockState {
            offset,
            frozen,
            version,
        }) = serde_json::from_str::<ClockState>(&v)
        && version > clock.version()
    {
        clock.restore(offset, frozen);
        clock.set_version(version);
    }
    Ok(())
}

/// The shared clock as persisted.
#[derive(Serialize, Deserialize)]
struct ClockState {
    offset: i64,
    frozen: Option<i64>,
    version: i64,
}

async fn persist_clock(state: &AppState) -> Result<()> {
    let mut tx = state.db.write().await?;
    // Newer than any version stored or seen, so every other instance takes it.
    let stored = store::emulator::state(&mut tx, CLOCK_KEY)
        .await?
        .and_then(|v| serde_json::from_str::<ClockState>(&v).ok())
        .map_or(0, |c| c.version);
    let version = stored.max(state.clock.version()) + 1;
    let (offset, frozen) = state.clock.snapshot();
    let value = serde_json::to_string(&ClockState {
        offset,
        frozen,
        version,
    })
    .map_err(ApiError::internal)?;
    store::emulator::set_state(&mut tx, CLOCK_KEY, &value).await?;
    tx.commit().await?;
    state.clock.set_version(version);
    Ok(())
}

fn known_kind(kind: &str) -> Result<&'static [&'static str]> {
    crate::jobs::KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, outcomes)| *outcomes)
        .ok_or_else(|| {
            let kinds: Vec<_> = crate::jobs::KINDS.iter().map(|(k, _)| *k).collect();
            ApiError::NotFound {
                title: "Resource Not Found",
                detail: format!("No job kind '{kind}'; kinds: {}.", kinds.join(", ")),
            }
        })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleOut {
    resource_kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    delay: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
    failure_probability: f64,
}

impl From<store::emulator::Rule> for RuleOut {
    fn from(r: store::emulator::Rule) -> Self {
        Self {
            resource_kind: r.resource_kind,
            delay: r.delay_ms.map(|ms| format!("{ms}ms")),
            outcome: r.outcome,
            failure_probability: r.failure_ppm as f64 / 1_000_000.0,
        }
    }
}

/// The lifecycle rules, the job kinds they may name, and the random seed.
async fn list_rules(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>> {
    caller.require_administrator()?;
    let mut tx = state.db.read().await?;
    let rules: Vec<RuleOut> = store::emulator::rules(&mut tx)
        .await?
        .into_iter()
        .map(RuleOut::from)
        .collect();
    let seed = store::emulator::state(&mut tx, crate::jobs::runner::SEED_KEY).await?;
    let kinds: Vec<Value> = crate::jobs::KINDS
        .iter()
        .map(|(k, o)| json!({"resourceKind": k, "outcomes": o}))
        .collect();
    Ok(Json(
        json!({"rules": rules, "kinds": kinds, "seed": seed.and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)}),
    ))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RuleIn {
    delay: Option<String>,
    outcome: Option<String>,
    failure_probability: Option<f64>,
}

/// Sets the rule of a job kind: `{"delay": "5s", "outcome": "FAILED",
/// "failureProbability": 0.25}`, each optional.
async fn put_rule(
    State(state): State<AppState>,
    caller: Caller,
    params: super::extract::PathParams,
    body: Body,
) -> Result<Json<RuleOut>> {
    caller.require_administrator()?;
    let kind = params.raw("resourceKind").to_owned();
    let outcomes = known_kind(&kind)?;
    let input: RuleIn = body.json()?;
    let mut violations = Vec::new();
    let delay_ms = match input.delay.as_deref().map(parse_duration_ms) {
        Some(None) => {
            violations.push(Violation::new(
                "delay",
                Code::InvalidValue,
                "must be like 250ms, 5s, 2m or 1h",
            ));
            None
        }
        Some(Some(ms)) => Some(ms),
        None => None,
    };
    if let Some(o) = &input.outcome
        && !outcomes.contains(&o.as_str())
    {
        violations.push(Violation::new(
            "outcome",
            Code::InvalidValue,
            format!("must be one of {}", outcomes.join(", ")),
        ));
    }
    let p = input.failure_probability.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&p) {
        violations.push(Violation::new(
            "failureProbability",
            Code::Range,
            "must be between 0 and 1",
        ));
    }
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }
    let rule = store::emulator::Rule {
        resource_kind: kind,
        delay_ms,
        outcome: input.outcome,
        failure_ppm: (p * 1_000_000.0).round() as i64,
    };
    let mut tx = state.db.write().await?;
    store::emulator::put_rule(&mut tx, &rule, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(Json(rule.into()))
}

/// Removes the rule of a job kind.
async fn delete_rule(
    State(state): State<AppState>,
    caller: Caller,
    params: super::extract::PathParams,
) -> Result<axum::http::StatusCode> {
    caller.require_administrator()?;
    let kind = params.raw("resourceKind");
    known_kind(kind)?;
    let mut tx = state.db.write().await?;
    store::emulator::delete_rule(&mut tx, kind).await?;
    tx.commit().await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct SeedIn {
    seed: Option<u64>,
}

/// Sets the seed that failure probabilities draw from, `{"seed": 42}`, and restarts
/// its sequence: the same seed and the same order of work give the same outcomes.
async fn put_seed(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<Value>> {
    caller.require_administrator()?;
    let input: SeedIn = body.json()?;
    let seed = input
        .seed
        .ok_or_else(|| ApiError::validation(vec![Violation::required("seed")]))?;
    let mut tx = state.db.write().await?;
    store::emulator::set_state(&mut tx, crate::jobs::runner::SEED_KEY, &seed.to_string()).await?;
    // A new seed starts its sequence from the first draw.
    store::emulator::set_state(&mut tx, store::emulator::DRAWS_KEY, "0").await?;
    tx.commit().await?;
    Ok(Json(json!({ "seed": seed })))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ResetIn {
    account_id: Option<String>,
}

/// Resets all state, or one account's (`{"accountId": "ABCDEF"}`): the default account
/// and the bootstrap Administrator stay, and the demo data is seeded again.
async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<axum::http::StatusCode> {
    caller.require_administrator()?;
    let input: ResetIn = body.json_or_default()?;
    let mut tx = state.db.write().await?;
    match &input.account_id {
        None => {
            store::emulator::reset_all(&mut tx).await?;
            store::numbers::recount_available(&mut tx).await?;
            tx.commit().await?;
            state.clock.restore(0, None);
            persist_clock(&state).await?;
        }
        Some(raw) => {
            let id = crate::domain::AccountId::parse_field("accountId", raw)
                .map_err(|v| ApiError::validation(vec![v]))?;
            let mut read = state.db.read().await?;
            let target = store::accounts::get(&mut read, &id).await?;
            drop(read);
            match target {
                None => return Err(ApiError::not_found("Account", "AccountId", id.as_str())),
                Some(a) if a.is_default => {
                    return Err(ApiError::validation(vec![Violation::new(
                        "accountId",
                        Code::InvalidValue,
                        "the default account is reset only with everything else (omit accountId)",
                    )]));
                }
                Some(_) => {
                    store::emulator::reset_account(&mut tx, &id).await?;
                    store::numbers::recount_available(&mut tx).await?;
                }
            }
            tx.commit().await?;
        }
    }
    state.auth.forget_all();
    if state.demo {
        crate::bootstrap::seed_demo(&state.db, state.clock.now_ms())
            .await
            .map_err(ApiError::Internal)?;
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Live transitions as Server-Sent Events (`event: transition`, `id:` its `seq`),
/// filtered like `/_ccadmin/transitions`; resumes after `Last-Event-ID` or `after`.
/// Reads the journal, so it sees every instance's transitions.
async fn events(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
    headers: axum::http::HeaderMap,
) -> Result<
    axum::response::Sse<
        impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    caller.require_administrator()?;
    let resume = match headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        Some(id) => Some(("Last-Event-ID", id)),
        None => query.get("after").map(|a| ("after", a)),
    };
    let after = match resume {
        None => 0,
        Some((field, s)) => s.parse::<i64>().map_err(|_| {
            ApiError::validation(vec![Violation::new(
                field,
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
        limit: 100,
    };
    let start = (state, q, std::collections::VecDeque::<Event>::new());
    let stream = futures_util::stream::unfold(start, |(state, mut q, mut queue)| async move {
        let mut shutdown = state.shutdown.clone();
        loop {
            if let Some(event) = queue.pop_front() {
                return Some((Ok(event), (state, q, queue)));
            }
            if *shutdown.borrow() {
                return None;
            }
            let rows = match state.db.read().await {
                Ok(mut tx) => store::jobs::transitions(&mut tx, &q).await,
                Err(e) => Err(e),
            };
            let rows = rows.unwrap_or_else(|e| {
                // The stream stays open; the next poll tries again.
                tracing::warn!(error = %e, "reading the transition journal for events failed");
                Vec::new()
            });
            for t in rows {
                q.after = t.seq;
                let out = transition_out(t);
                let event = Event::default().event("transition").id(out.seq.to_string());
                queue.push_back(event.json_data(&out).unwrap_or_default());
            }
            if queue.is_empty() {
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerificationIn {
    account_id: Option<String>,
    phone_number_id: Option<String>,
}

/// Completes a pending documentation verification: the number goes from INACTIVE to
/// ACTIVE, as when the carrier accepts the documents. `{"accountId", "phoneNumberId"}`.
async fn verify_number(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<Value>> {
    caller.require_administrator()?;
    let input: VerificationIn = body.json()?;
    let mut violations = Vec::new();
    let account = match input.account_id.as_deref() {
        None => {
            violations.push(Violation::required("accountId"));
            None
        }
        Some(a) => crate::domain::AccountId::parse_field("accountId", a)
            .map_err(|v| violations.push(v))
            .ok(),
    };
    let id = match input
        .phone_number_id
        .as_deref()
        .map(|id| (id, uuid::Uuid::try_parse(id)))
    {
        None => {
            violations.push(Violation::required("phoneNumberId"));
            None
        }
        Some((raw, Ok(u))) if raw.len() == 36 => Some(u.hyphenated().to_string()),
        Some(_) => {
            violations.push(Violation::pattern(
                "phoneNumberId",
                crate::domain::account::UUID_PATTERN,
            ));
            None
        }
    };
    let (Some(account), Some(id)) = (account, id) else {
        return Err(ApiError::validation(violations));
    };
    let n = crate::service::numbers::change_status(
        &state.db,
        &state.clock,
        &account,
        &id,
        crate::service::numbers::NumberChange::Verify,
    )
    .await?;
    Ok(Json(
        serde_json::to_value(n.to_out()).map_err(ApiError::internal)?,
    ))
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Api;
