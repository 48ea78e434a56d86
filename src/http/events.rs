//! The signed-in account's live events (extension): the transition journal of one
//! account as Server-Sent Events, for any client of that account, in every mode.
//!
//! AXP offers only polling, and `/_ccadmin/events` is for Administrators in emulator
//! mode. The web console (and any integrator) follows its own account here instead,
//! authenticated like every API call: the `Authorization` and `appkey` headers, never
//! a token in the URL. The journal is written in both modes, in the transaction of each
//! change (`store::jobs::record_transition`), so what the stream shows is committed.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use serde::Serialize;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Result};
use super::extract::{PathParams, QueryParams};
use super::reach::account_in_reach_read;
use crate::domain::lifecycle::JobKind;
use crate::domain::{Code, Violation, time};
use crate::store::{self, jobs::TransitionQuery, jobs::TransitionRow};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/admin/account/v1/accounts/{accountId}/events",
        get(account_events),
    )
}

/// How often an open stream reads the journal for new transitions.
const POLL: Duration = Duration::from_millis(100);

/// The resume point of a stream: `Last-Event-ID`, else `after`, else `None`.
pub(super) fn resume_point(query: &QueryParams, headers: &HeaderMap) -> Result<Option<i64>> {
    let resume = match headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        Some(id) => Some(("Last-Event-ID", id)),
        None => query.get("after").map(|a| ("after", a)),
    };
    resume
        .map(|(field, s)| {
            s.parse::<i64>().map_err(|_| {
                ApiError::validation(vec![Violation::new(
                    field,
                    Code::InvalidType,
                    "must be an integer",
                )])
            })
        })
        .transpose()
}

/// The journal from `q.after` on, then each transition as it is committed, as
/// `event: transition` events whose `id` is the `seq`; those `keep` refuses are
/// skipped. Ends when the server stops.
pub(super) fn transition_stream(
    state: AppState,
    q: TransitionQuery,
    keep: impl Fn(&TransitionRow) -> bool + Send + Sync + 'static,
) -> Sse<impl Stream<Item = std::result::Result<Event, Infallible>>> {
    let start = (state, q, VecDeque::<Event>::new(), keep);
    let stream =
        futures_util::stream::unfold(start, |(state, mut q, mut queue, keep)| async move {
            let mut shutdown = state.shutdown.clone();
            loop {
                if let Some(event) = queue.pop_front() {
                    return Some((Ok(event), (state, q, queue, keep)));
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
                    if !keep(&t) {
                        continue;
                    }
                    let event = Event::default().event("transition").id(t.seq.to_string());
                    let out = transition_out(t);
                    queue.push_back(event.json_data(&out).unwrap_or_default());
                }
                if queue.is_empty() {
                    tokio::select! {
                        _ = tokio::time::sleep(POLL) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Extension: follow the account's status transitions live.
///
/// The account's journal as Server-Sent Events, a stream that does not end until the
/// server stops: each status change of the account's features and name, organization
/// nodes, voice elements and phone numbers, as it is committed. A new resource's first
/// transition has no `from` (a number added: `to` `INPROGRESS`; a node created:
/// `IN_PROGRESS`); a released number's is `RELEASED`. Without a resume point the
/// stream starts with the next transition; `Last-Event-ID` (or `after`) resumes after
/// that `seq`. An Account Administrator follows only its own account (another
/// account's path is 403), and sees no transition of a feature it was not granted.
/// Each event is `event: transition`, `id:` its `seq`, `data:` the transition as
/// `GET /_ccadmin/transitions` shows it. Both modes (the journal is written in both).
#[utoipa::path(get, path = "/api/admin/account/v1/accounts/{accountId}/events",
    operation_id = "followAccountEvents", tag = "Accounts",
    params(
        ("accountId" = String, Path, pattern = "^[a-zA-Z]{6}$", example = "ABCDEF",
            description = "The account to follow."),
        ("after" = Option<i64>, Query, description = "Resume after this `seq` (when no `Last-Event-ID`)."),
        ("Last-Event-ID" = Option<i64>, Header, nullable = false, description = "Resume after this `seq`; wins over `after`.")),
    responses((status = 200, description = "The event stream (never ends by itself)", content_type = "text/event-stream", body = String,
        example = "event: transition\nid: 7\ndata: {\"seq\":7,\"at\":\"2025-01-01T12:00:02.000Z\",\"accountId\":\"ABCDEF\",\"resourceKind\":\"number.activation\",\"resourceId\":\"0b5f…\",\"from\":\"INPROGRESS\",\"to\":\"ACTIVE\",\"cause\":\"worker\"}\n\n")),
    extensions(("x-ccadmin-extension" = json!(true))))]
#[tracing::instrument(skip_all, fields(account_id = %caller.account_id))]
async fn account_events(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let (account, mut tx) = account_in_reach_read(&state, &caller, &params).await?;
    let after = match resume_point(&query, &headers)? {
        Some(after) => after,
        None => store::jobs::last_seq(&mut tx).await?,
    };
    drop(tx);
    let q = TransitionQuery {
        account_id: Some(account.as_str().to_owned()),
        after,
        limit: 100,
        ..TransitionQuery::default()
    };
    let grants = caller.client.features.clone();
    let administrator = caller.is_administrator();
    let keep = move |t: &TransitionRow| {
        administrator
            || t.resource_kind != JobKind::AccountFeature.as_str()
            || t.resource_id
                .strip_prefix("features.")
                .is_some_and(|f| grants.allows(f))
    };
    Ok(transition_stream(state, q, keep))
}

/// The event stream's operation, for the document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(account_events))]
pub struct Api;

/// One status transition of the journal.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorTransition)]
pub(super) struct TransitionOut {
    /// Its place in the journal, increasing.
    #[schema(example = 2)]
    seq: i64,
    #[schema(format = DateTime, example = "2025-01-01T12:00:02.000Z")]
    at: String,
    #[schema(example = "AQWSDE")]
    account_id: String,
    #[schema(value_type = JobKind)]
    resource_kind: String,
    #[schema(example = "features.voice")]
    resource_id: String,
    /// The status before; absent for a resource's first transition (and a few others).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "IN_PROGRESS")]
    from: Option<String>,
    #[schema(example = "FAILED")]
    to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    message: Option<String>,
    /// What decided it: `request`, `prefer`, `rule`, `worker` or `admin`.
    #[schema(example = "prefer")]
    cause: String,
}

/// A journal row as the streams and `GET /_ccadmin/transitions` show it.
pub(super) fn transition_out(t: store::jobs::TransitionRow) -> TransitionOut {
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
