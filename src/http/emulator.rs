//! Emulator controls under `/_ccadmin` (Administrator only, emulator mode only): the
//! job list, the transition journal, and the server's clock. AXP itself offers only
//! polling; these exist so that integrators can test their code against lifecycles.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Problem, Result};
use super::events::{TransitionOut, transition_out};
use super::extract::{Body, QueryParams};
use crate::domain::lifecycle::{JobKind, Outcome};
use crate::domain::number::PhoneNumberOut;
use crate::domain::prefer::parse_duration_ms;
use crate::domain::{Code, Violation, time};
use crate::emulator::{self, reset::Scope};
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
        .route("/_ccadmin/state", get(export_state).put(import_state))
}

/// The tag of every control.
const EMULATOR: &str = "Emulator";

/// Where a job stands (documentation of `state`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = EmulatorJobState)]
#[allow(dead_code)]
enum JobState {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
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

/// A job of the work engine.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorJob)]
struct JobOut {
    id: String,
    #[schema(value_type = JobKind)]
    kind: String,
    #[schema(example = "AQWSDE")]
    account_id: String,
    /// `features.<name>`, `name`, an `elementId`, a `phoneNumberId` or an
    /// `organizationNodeId`.
    #[schema(example = "features.voice")]
    resource_id: String,
    /// `cancelled`: superseded by a newer change, or its resource deleted.
    #[schema(value_type = JobState)]
    state: String,
    attempts: i32,
    max_attempts: i32,
    /// When it is due, on the server's clock.
    #[schema(format = DateTime, example = "2025-01-01T12:00:02.000Z")]
    run_at: String,
    /// The last failure; absent when there was none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        nullable = false,
        example = "simulated failure (Prefer: outcome=FAILED)"
    )]
    last_error: Option<String>,
    #[schema(format = DateTime, example = "2025-01-01T12:00:00.000Z")]
    created_at: String,
    #[schema(format = DateTime, example = "2025-01-01T12:00:02.004Z")]
    updated_at: String,
}

/// Jobs, oldest first.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EmulatorJobList)]
struct JobList {
    jobs: Vec<JobOut>,
}

/// The `limit` of the job and transition lists.
const LIMIT: &str = "At most this many (1 to 10000, default 1000).";

/// List jobs (emulator mode).
///
/// The jobs of the work engine, oldest first. Emulator mode only (`--emulator` or
/// `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(get, path = "/_ccadmin/jobs", operation_id = "emulatorListJobs", tag = EMULATOR,
    params(
        ("accountId" = Option<String>, Query, description = "Only this account's jobs."),
        ("state" = Option<String>, Query, example = "failed",
            description = "Only jobs in this state: `pending`, `running`, `succeeded`, `failed` or `cancelled` (another value matches no job)."),
        ("limit" = Option<i64>, Query, description = LIMIT, minimum = 1, maximum = 10_000)),
    responses((status = 200, description = "The jobs", body = JobList)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Json<JobList>> {
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
    Ok(Json(JobList { jobs }))
}

/// What a settle did.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EmulatorSettlement)]
struct Settlement {
    /// Attempts run, retries included.
    runs: usize,
    /// The server's clock afterwards.
    #[schema(format = DateTime, example = "2025-01-01T12:00:05.412Z")]
    now: String,
}

/// Settle the jobs (emulator mode).
///
/// Runs every job to its end now: runs the due jobs, moves the clock forward to the
/// next pending job's `runAt`, and repeats; saves the clock. No body. Emulator mode
/// only (`--emulator` or `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(post, path = "/_ccadmin/jobs:settle", operation_id = "emulatorSettleJobs", tag = EMULATOR,
    responses((status = 200, description = "How many runs, and the clock", body = Settlement)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn settle_jobs(State(state): State<AppState>, caller: Caller) -> Result<Json<Settlement>> {
    caller.require_administrator()?;
    let runs = emulator::clock::settle(&state.db, &state.clock, &state.jobs).await?;
    Ok(Json(Settlement {
        runs,
        now: time::rfc3339(state.clock.now_ms()),
    }))
}

/// Transitions in journal order.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EmulatorTransitionList)]
struct TransitionList {
    transitions: Vec<TransitionOut>,
}

/// List transitions (emulator mode).
///
/// The journal of every status transition, in order. Emulator mode only
/// (`--emulator` or `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(get, path = "/_ccadmin/transitions", operation_id = "emulatorListTransitions", tag = EMULATOR,
    params(
        ("accountId" = Option<String>, Query, description = "Only this account's transitions."),
        ("resourceKind" = Option<String>, Query, example = "org.node",
            description = "Only this kind's (a job kind; another value matches nothing)."),
        ("resourceId" = Option<String>, Query, description = "Only this resource's (`features.voice`, `name`, an id)."),
        ("after" = Option<i64>, Query, description = "Only transitions after this `seq`."),
        ("limit" = Option<i64>, Query, description = LIMIT, minimum = 1, maximum = 10_000)),
    responses((status = 200, description = "The transitions", body = TransitionList)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn list_transitions(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Json<TransitionList>> {
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
    Ok(Json(TransitionList { transitions: out }))
}

/// The server's clock.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EmulatorClock)]
struct ClockOut {
    #[schema(format = DateTime, example = "2025-01-01T12:00:00.000Z")]
    now: String,
    frozen: bool,
}

fn clock_json(state: &AppState) -> Json<ClockOut> {
    Json(ClockOut {
        now: time::rfc3339(state.clock.now_ms()),
        frozen: state.clock.is_frozen(),
    })
}

/// Get the clock (emulator mode).
///
/// The server's clock, which drives job delays, token expiry and timestamps. Emulator
/// mode only (`--emulator` or `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(get, path = "/_ccadmin/clock", operation_id = "emulatorGetClock", tag = EMULATOR,
    responses((status = 200, description = "The clock", body = ClockOut)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn get_clock(State(state): State<AppState>, caller: Caller) -> Result<Json<ClockOut>> {
    caller.require_administrator()?;
    Ok(clock_json(&state))
}

/// The longest `delay` a rule may set (100 years): a job's due time must not overflow.
const MAX_RULE_DELAY_MS: i64 = 100 * 365 * 24 * 3_600_000;

/// How far to move the clock.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = EmulatorClockAdvance)]
struct AdvanceIn {
    /// `250ms`, `5s`, `2m`, `1h`, or a bare number of seconds; the clock may not pass
    /// 9999-12-31T23:59:59.999Z (400, 20004).
    #[schema(required = true, nullable = false, example = "5s")]
    by: Option<String>,
}

/// Advance the clock (emulator mode).
///
/// Moves the clock forward, frozen or not, and wakes the workers for the jobs that
/// became due. Emulator mode only (`--emulator` or `--demo`; otherwise the path is
/// 404); Administrator only.
#[utoipa::path(post, path = "/_ccadmin/clock:advance", operation_id = "emulatorAdvanceClock", tag = EMULATOR,
    request_body = AdvanceIn,
    responses((status = 200, description = "The clock", body = ClockOut)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn advance_clock(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<ClockOut>> {
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
    emulator::clock::advance(&state.db, &state.clock, &state.jobs, ms).await?;
    Ok(clock_json(&state))
}

/// Freeze the clock (emulator mode).
///
/// Stops the clock at the current instant: simulated delays and token expiry wait
/// until it is advanced. No body. Emulator mode only (`--emulator` or `--demo`;
/// otherwise the path is 404); Administrator only.
#[utoipa::path(post, path = "/_ccadmin/clock:freeze", operation_id = "emulatorFreezeClock", tag = EMULATOR,
    responses((status = 200, description = "The clock", body = ClockOut)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn freeze_clock(State(state): State<AppState>, caller: Caller) -> Result<Json<ClockOut>> {
    caller.require_administrator()?;
    emulator::clock::freeze(&state.db, &state.clock).await?;
    Ok(clock_json(&state))
}

/// Unfreeze the clock (emulator mode).
///
/// Lets the clock run again from where it stands (the offset from real time is kept).
/// No body. Emulator mode only (`--emulator` or `--demo`; otherwise the path is 404);
/// Administrator only.
#[utoipa::path(post, path = "/_ccadmin/clock:unfreeze", operation_id = "emulatorUnfreezeClock", tag = EMULATOR,
    responses((status = 200, description = "The clock", body = ClockOut)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn unfreeze_clock(State(state): State<AppState>, caller: Caller) -> Result<Json<ClockOut>> {
    caller.require_administrator()?;
    emulator::clock::unfreeze(&state.db, &state.clock, &state.jobs).await?;
    Ok(clock_json(&state))
}

/// The job kind a path names (404 for one that is not).
fn known_kind(kind: &str) -> Result<JobKind> {
    JobKind::parse(kind).ok_or_else(|| {
        let kinds: Vec<_> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::NotFound {
            title: "Resource Not Found",
            detail: format!("No job kind '{kind}'; kinds: {}.", kinds.join(", ")),
        }
    })
}

/// The lifecycle rule of a job kind.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorRule)]
struct RuleOut {
    resource_kind: JobKind,
    /// How long the kind's work takes, in milliseconds; absent when not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "2000ms")]
    delay: Option<String>,
    /// How the kind's work ends; absent when not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    outcome: Option<Outcome>,
    /// The chance that a job of the kind fails, drawn from the seeded sequence.
    #[schema(minimum = 0, maximum = 1, example = 0.25)]
    failure_probability: f64,
}

/// A job kind and the outcomes a rule or `Prefer` may name for it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorKind)]
struct KindOut {
    resource_kind: JobKind,
    #[schema(value_type = Vec<Outcome>)]
    outcomes: &'static [Outcome],
}

/// The rules, the job kinds, and the random seed.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EmulatorRules)]
struct RulesOut {
    rules: Vec<RuleOut>,
    kinds: Vec<KindOut>,
    /// The seed of failure probabilities (0 until one is set).
    seed: u64,
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

/// List the rules (emulator mode).
///
/// The lifecycle rules, the job kinds they may name with each kind's outcomes, and the
/// random seed. Emulator mode only (`--emulator` or `--demo`; otherwise the path is
/// 404); Administrator only.
#[utoipa::path(get, path = "/_ccadmin/rules", operation_id = "emulatorListRules", tag = EMULATOR,
    responses((status = 200, description = "The rules, kinds and seed", body = RulesOut)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn list_rules(State(state): State<AppState>, caller: Caller) -> Result<Json<RulesOut>> {
    caller.require_administrator()?;
    let mut tx = state.db.read().await?;
    let rules: Vec<RuleOut> = store::emulator::rules(&mut tx)
        .await?
        .into_iter()
        .map(RuleOut::from)
        .collect();
    drop(tx);
    let kinds = JobKind::ALL
        .into_iter()
        .map(|k| KindOut {
            resource_kind: k,
            outcomes: k.outcomes(),
        })
        .collect();
    Ok(Json(RulesOut {
        rules,
        kinds,
        seed: emulator::rules::seed(&state.db).await?,
    }))
}

/// A job kind's rule as sent: each field optional, an omitted one cleared.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorRuleRequest)]
struct RuleIn {
    /// How long the kind's work takes: `250ms`, `5s`, `2m`, `1h`, or a bare number of
    /// seconds; at most 100 years (400, 20004).
    #[schema(nullable = false, example = "2s")]
    delay: Option<String>,
    /// One of the kind's outcomes (`kinds` of `GET /_ccadmin/rules`); it wins over the
    /// probability.
    #[schema(nullable = false, value_type = Option<Outcome>)]
    outcome: Option<String>,
    /// 0 to 1 (default 0), kept to six decimals.
    #[schema(nullable = false, minimum = 0, maximum = 1, example = 0.25)]
    failure_probability: Option<f64>,
}

/// The path parameter of the rule operations.
const RESOURCE_KIND: &str = "A job kind (`kinds` of `GET /_ccadmin/rules`); another is 404.";

/// Set a rule (emulator mode).
///
/// Replaces the lifecycle rule of a job kind: how long its work takes and how it
/// ends. Emulator mode only (`--emulator` or `--demo`; otherwise the path is 404);
/// Administrator only.
#[utoipa::path(put, path = "/_ccadmin/rules/{resourceKind}", operation_id = "emulatorPutRule", tag = EMULATOR,
    params(("resourceKind" = JobKind, Path, description = RESOURCE_KIND)),
    request_body = RuleIn,
    responses(
        (status = 200, description = "The rule as `GET /_ccadmin/rules` shows it", body = RuleOut),
        (status = 404, description = "No such job kind", body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn put_rule(
    State(state): State<AppState>,
    caller: Caller,
    params: super::extract::PathParams,
    body: Body,
) -> Result<Json<RuleOut>> {
    caller.require_administrator()?;
    let kind = known_kind(params.raw("resourceKind"))?;
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
        Some(Some(ms)) if ms > MAX_RULE_DELAY_MS => {
            violations.push(Violation::new(
                "delay",
                Code::Range,
                "must be at most 100 years",
            ));
            None
        }
        Some(Some(ms)) => Some(ms),
        None => None,
    };
    let outcome = match input.outcome.as_deref() {
        None => None,
        Some(o) => {
            let outcome = Outcome::parse(o).filter(|o| kind.outcomes().contains(o));
            if outcome.is_none() {
                violations.push(Violation::new(
                    "outcome",
                    Code::InvalidValue,
                    format!("must be one of {}", Outcome::list(kind.outcomes())),
                ));
            }
            outcome
        }
    };
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
        outcome,
        failure_ppm: (p * 1_000_000.0).round() as i64,
    };
    emulator::rules::put(&state.db, &rule, state.clock.now_ms()).await?;
    Ok(Json(rule.into()))
}

/// Remove a rule (emulator mode).
///
/// Removes the rule of a job kind, also when none was set. Emulator mode only
/// (`--emulator` or `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(delete, path = "/_ccadmin/rules/{resourceKind}", operation_id = "emulatorDeleteRule", tag = EMULATOR,
    params(("resourceKind" = JobKind, Path, description = RESOURCE_KIND)),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such job kind", body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn delete_rule(
    State(state): State<AppState>,
    caller: Caller,
    params: super::extract::PathParams,
) -> Result<axum::http::StatusCode> {
    caller.require_administrator()?;
    let kind = known_kind(params.raw("resourceKind"))?;
    emulator::rules::delete(&state.db, kind).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The seed of failure probabilities.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = EmulatorSeed)]
struct SeedIn {
    /// An integer from 0 to 2^64−1.
    #[schema(required = true, nullable = false, value_type = u64, example = 42)]
    seed: Option<u64>,
}

/// Set the seed (emulator mode).
///
/// Sets the seed that failure probabilities draw from and restarts its sequence: the
/// same seed and the same order of work give the same outcomes. Emulator mode only
/// (`--emulator` or `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(put, path = "/_ccadmin/seed", operation_id = "emulatorPutSeed", tag = EMULATOR,
    request_body = SeedIn,
    responses((status = 200, description = "The seed", body = SeedIn)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn put_seed(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<SeedIn>> {
    caller.require_administrator()?;
    let input: SeedIn = body.json()?;
    let seed = input
        .seed
        .ok_or_else(|| ApiError::validation(vec![Violation::required("seed")]))?;
    emulator::rules::set_seed(&state.db, seed).await?;
    Ok(Json(SeedIn { seed: Some(seed) }))
}

/// What to reset: everything, or one account.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorReset)]
struct ResetIn {
    /// Only this account (not the default account); absent: everything.
    #[schema(nullable = false, pattern = "^[a-zA-Z]{6}$", example = "AQWSDE")]
    account_id: Option<String>,
}

/// Reset (emulator mode).
///
/// With no body (or `{}`), deletes every account but the default one with all they
/// own, every job, the journal, the rules, the seed and the saved clock; with
/// `accountId`, that account with everything it owns, its jobs and journal entries.
/// Under `--demo` the demo data is seeded again. Emulator mode only (`--emulator` or
/// `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(post, path = "/_ccadmin/reset", operation_id = "emulatorReset", tag = EMULATOR,
    request_body(content = ResetIn, description = "Optional: none, `{}` or `{\"accountId\": \"AQWSDE\"}`"),
    responses(
        (status = 204, description = "Reset"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<axum::http::StatusCode> {
    caller.require_administrator()?;
    let input: ResetIn = body.json_or_default()?;
    let scope = match &input.account_id {
        None => Scope::Everything,
        Some(raw) => Scope::Account(
            crate::domain::AccountId::parse_field("accountId", raw)
                .map_err(|v| ApiError::validation(vec![v]))?,
        ),
    };
    let instance = emulator::reset::Instance {
        clock: &state.clock,
        auth: &state.auth,
        faults: &state.faults,
        requests: &state.requests,
    };
    emulator::reset::reset(&state.db, &instance, state.demo, &scope).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Follow transitions live (emulator mode).
///
/// The journal as Server-Sent Events, a stream that does not end until the server
/// stops: first the transitions already recorded after the resume point, then each
/// new one as any instance commits it. Each event is `event: transition`, `id:` its
/// `seq`, `data:` the transition as `GET /_ccadmin/transitions` shows it; keep-alive
/// comments keep idle connections open. Emulator mode only (`--emulator` or `--demo`;
/// otherwise the path is 404); Administrator only.
#[utoipa::path(get, path = "/_ccadmin/events", operation_id = "emulatorEvents", tag = EMULATOR,
    params(
        ("accountId" = Option<String>, Query, description = "Only this account's transitions."),
        ("resourceKind" = Option<String>, Query, description = "Only this kind's (a job kind; another value matches nothing)."),
        ("resourceId" = Option<String>, Query, description = "Only this resource's."),
        ("after" = Option<i64>, Query, description = "Resume after this `seq` (when no `Last-Event-ID`)."),
        ("Last-Event-ID" = Option<i64>, Header, nullable = false, description = "Resume after this `seq`; wins over `after`.")),
    responses((status = 200, description = "The event stream (never ends by itself)", content_type = "text/event-stream", body = String,
        example = "event: transition\nid: 2\ndata: {\"seq\":2,\"at\":\"2025-01-01T12:00:02.000Z\",\"accountId\":\"AQWSDE\",\"resourceKind\":\"account.feature\",\"resourceId\":\"features.voice\",\"from\":\"IN_PROGRESS\",\"to\":\"FAILED\",\"cause\":\"prefer\"}\n\n")),
    extensions(("x-ccadmin-extension" = json!(true))))]
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
    caller.require_administrator()?;
    let after = super::events::resume_point(&query, &headers)?.unwrap_or(0);
    let q = TransitionQuery {
        account_id: query.get("accountId").map(str::to_owned),
        resource_kind: query.get("resourceKind").map(str::to_owned),
        resource_id: query.get("resourceId").map(str::to_owned),
        after,
        limit: 100,
    };
    Ok(super::events::transition_stream(state, q, |_| true))
}

/// The number whose documents are accepted.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorVerification)]
struct VerificationIn {
    #[schema(
        required = true,
        nullable = false,
        pattern = "^[a-zA-Z]{6}$",
        example = "ABCDEF"
    )]
    account_id: Option<String>,
    /// A UUID, either case.
    #[schema(
        required = true,
        nullable = false,
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        example = "c8c2909d-75e9-484a-94c0-b7e8d29771fe"
    )]
    phone_number_id: Option<String>,
}

/// Verify a number's documents (emulator mode).
///
/// Completes a pending documentation verification, as when the carrier accepts the
/// documents: the number goes from `INACTIVE` to `ACTIVE` (its `statusMessage`
/// cleared), and the journal records it with cause `admin`. Emulator mode only
/// (`--emulator` or `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(post, path = "/_ccadmin/verifications", operation_id = "emulatorVerifyNumber", tag = EMULATOR,
    request_body = VerificationIn,
    responses(
        (status = 200, description = "The number, as `GET …/phone-numbers/{phoneNumberId}` shows it", body = PhoneNumberOut),
        (status = 404, description = "No such account, or the account holds no such number", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The number is not `INACTIVE`", body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
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
    let id = match input.phone_number_id.as_deref() {
        None => {
            violations.push(Violation::required("phoneNumberId"));
            None
        }
        Some(raw) => crate::domain::PhoneNumberId::parse_field("phoneNumberId", raw)
            .map_err(|v| violations.push(v))
            .ok(),
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
        None,
    )
    .await?;
    Ok(Json(
        serde_json::to_value(n.to_out()).map_err(ApiError::internal)?,
    ))
}

/// A state snapshot (docs/state.md): the header, then every table's rows.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorState)]
#[allow(dead_code)]
struct StateDoc {
    #[schema(example = "ccadmin-state")]
    format: String,
    /// The snapshot format's version (1).
    #[schema(example = 1)]
    format_version: i64,
    /// The latest database migration of the exporting server; a server imports
    /// snapshots of its own schema version or older.
    #[schema(example = 13)]
    schema_version: i64,
    #[schema(format = DateTime, example = "2025-01-01T12:00:00.000Z")]
    exported_at: String,
    /// True when the number inventory is carried whole.
    inventory: bool,
    /// The tables in their documented order, each at most once.
    tables: Vec<StateTable>,
}

/// One table's rows: column name to value.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EmulatorStateTable)]
#[allow(dead_code)]
struct StateTable {
    #[schema(example = "account")]
    table: String,
    #[schema(value_type = Vec<Object>)]
    rows: Vec<serde_json::Map<String, Value>>,
}

/// What an import loaded.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorStateImported)]
struct ImportedOut {
    #[schema(example = 1)]
    format_version: i64,
    #[schema(example = 13)]
    schema_version: i64,
    inventory: bool,
    /// Rows loaded per table.
    #[schema(value_type = std::collections::BTreeMap<String, u64>)]
    rows: serde_json::Map<String, Value>,
}

/// The largest snapshot `PUT /_ccadmin/state` takes (a million inventory numbers are
/// about 130 MiB); the CLI's `ccadmin state import` has no limit.
pub const STATE_BODY_LIMIT: usize = 1024 * 1024 * 1024;

/// Download the state (emulator mode).
///
/// A snapshot of everything (docs/state.md): accounts with their features, clients
/// and users (secret hashes, so the same credentials work), signing keys, profiles,
/// nodes, elements, numbers, audit records, unfinished jobs, the journal, the rules,
/// seed and clock, and the number inventory unless `inventory=false`. One consistent
/// read, streamed. Emulator mode only (`--emulator` or `--demo`; otherwise the path is
/// 404); Administrator only.
#[utoipa::path(get, path = "/_ccadmin/state", operation_id = "emulatorExportState", tag = EMULATOR,
    params(("inventory" = Option<bool>, Query,
        description = "`false` leaves the inventory out, but for the entries of held numbers (default `true`).")),
    responses((status = 200, description = "The snapshot", body = StateDoc)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn export_state(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<axum::response::Response> {
    use axum::http::header;
    use tokio::io::AsyncReadExt;
    caller.require_administrator()?;
    let inventory = match query.get("inventory") {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => {
            return Err(ApiError::validation(vec![Violation::new(
                "inventory",
                Code::InvalidValue,
                "must be true or false",
            )]));
        }
    };
    let export = emulator::state::begin_export(&state.db, &state.clock, inventory).await?;
    let (mut writer, reader) = tokio::io::duplex(64 * 1024);
    let (failed, failure) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        if let Err(e) = export.write_to(&mut writer).await {
            tracing::warn!(error = %e, "the state export failed; the download is cut short");
            let _ = failed.send(());
        }
    });
    // A failure half-way ends the body with an error (the connection is cut), never
    // with a clean end that would pass for a whole snapshot.
    let chunks = futures_util::stream::unfold(
        (reader, Some(failure)),
        |(mut reader, failure)| async move {
            let mut buf = vec![0u8; 64 * 1024];
            match reader.read(&mut buf).await {
                Ok(0) => {
                    let failed = match failure {
                        Some(f) => f.await.is_ok(),
                        None => false,
                    };
                    failed.then(|| {
                        (
                            Err(std::io::Error::other("the state export failed")),
                            (reader, None),
                        )
                    })
                }
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(axum::body::Bytes::from(buf)), (reader, failure)))
                }
                Err(e) => Some((Err(e), (reader, None))),
            }
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"ccadmin-state.json\"",
            ),
        ],
        axum::body::Body::from_stream(chunks),
    )
        .into_response())
}

/// Replace the state (emulator mode).
///
/// Replaces everything with the snapshot in the body (docs/state.md), in one
/// transaction: the default account, credentials and signing keys included, so the
/// snapshot's credentials work at once and the caller's own token stops working unless
/// the snapshot holds its client and key. A snapshot without the inventory keeps this
/// server's inventory, but for the numbers it holds. A body that is not a snapshot, or
/// a row the database refuses, changes nothing (400, the violation names the place).
/// Every instance on the database follows within a second. Emulator mode only
/// (`--emulator` or `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(put, path = "/_ccadmin/state", operation_id = "emulatorImportState", tag = EMULATOR,
    request_body = StateDoc,
    responses(
        (status = 200, description = "Loaded: rows per table", body = ImportedOut),
        (status = 413, description = "Larger than 1 GiB", body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn import_state(
    State(state): State<AppState>,
    caller: Caller,
    request: axum::extract::Request,
) -> Result<Json<ImportedOut>> {
    use axum::http::header;
    caller.require_administrator()?;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > STATE_BODY_LIMIT) {
        return Err(ApiError::PayloadTooLarge {
            limit: STATE_BODY_LIMIT,
        });
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    super::extract::check_json_type(content_type)?;
    let bytes = axum::body::to_bytes(request.into_body(), STATE_BODY_LIMIT)
        .await
        .map_err(|e| {
            ApiError::validation(vec![Violation::new(
                "body",
                Code::InvalidType,
                format!("the body could not be read: {e}"),
            )])
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation(vec![Violation::new(
            "body",
            Code::Required,
            "must not be empty",
        )]));
    }
    let imported =
        emulator::state::import(&state.db, state.clock.now_ms(), std::io::Cursor::new(bytes))
            .await
            .map_err(|e| match e {
                crate::store::state::ImportError::Refused(r) => {
                    use crate::store::state::RefusalKind;
                    let code = match r.kind {
                        RefusalKind::Type => Code::InvalidType,
                        RefusalKind::Missing => Code::Required,
                        RefusalKind::Value => Code::InvalidValue,
                    };
                    ApiError::validation(vec![Violation::new(r.field, code, r.message)])
                }
                crate::store::state::ImportError::Store(e) => e.into(),
            })?;
    emulator::state::refresh(&state.db, &state.clock, &state.auth, state.emulator).await?;
    // Imported jobs may be due already.
    state.jobs.wake();
    Ok(Json(ImportedOut {
        format_version: imported.format_version,
        schema_version: imported.schema_version,
        inventory: imported.inventory,
        rows: imported.rows,
    }))
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_jobs,
        settle_jobs,
        list_transitions,
        events,
        get_clock,
        advance_clock,
        freeze_clock,
        unfreeze_clock,
        list_rules,
        put_rule,
        delete_rule,
        put_seed,
        reset,
        verify_number,
        export_state,
        import_state
    ),
    modifiers(&OptionalResetBody),
    tags((name = "Emulator", description = "Emulator controls (ccadmin extensions): jobs, the \
        journal of status transitions and its live stream, the server's clock, lifecycle \
        rules, the random seed, resets, number verifications, and state snapshots. They exist only when the \
        server runs with `--emulator` or `--demo` (otherwise every `/_ccadmin` path is 404, \
        before authentication), and need an Administrator's token; see docs/emulator.md."))
)]
pub struct Api;

/// Makes the body of `POST /_ccadmin/reset` optional: it may be absent (or empty) but
/// not JSON `null`, which `Option<ResetIn>` would say.
struct OptionalResetBody;

impl utoipa::Modify for OptionalResetBody {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        if let Some(body) = doc
            .paths
            .paths
            .get_mut("/_ccadmin/reset")
            .and_then(|item| item.post.as_mut())
            .and_then(|op| op.request_body.as_mut())
        {
            body.required = Some(utoipa::openapi::Required::False);
        }
    }
}
