//! The request journal (emulator mode): the middleware that records every request
//! under `/api/` with its answer, secrets masked, and the `/_ccadmin/requests`
//! controls that read and clear it. Recording never holds up an answer: bodies are
//! copied as they pass (a request body's first 64 KiB is read ahead, an answer
//! already in memory is taken whole, a streamed one is copied chunk by chunk), and the
//! entry is stored when the answer's last byte leaves.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::body::{Body as AxumBody, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use futures_util::{Stream, StreamExt, stream};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::{Caller, ClientSlot};
use super::error::{ApiError, Result};
use super::extract::{BODY_LIMIT, Body, PathParams, QueryParams};
use crate::domain::fault::PathPattern;
use crate::domain::redaction::{self, MASK};
use crate::domain::{Code, Violation, time};
use crate::emulator::requests::{Entry, FaultNote, Filter, Headers, Message, RequestJournal};

/// Marks a response that stands for a dropped connection: the request journal records
/// it, then the connection is closed without an answer (`requests::observe`).
#[derive(Clone, Copy)]
pub struct DropConnection;

/// How much of each body the journal keeps.
pub const BODY_CAP: usize = 64 * 1024;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/_ccadmin/requests",
            get(list_requests).delete(clear_requests),
        )
        .route("/_ccadmin/requests:count", post(count_requests))
        .route("/_ccadmin/requests/{id}", get(get_request))
}

/// The account a request path names: `…/accounts/{accountId}…`, or the token
/// endpoint's `/api/auth/v1/{accountId}/…`.
pub fn path_account(path: &str) -> Option<&str> {
    let segment = match path.strip_prefix("/api/auth/v1/") {
        Some(rest) => rest.split('/').next(),
        None => path.split('/').skip_while(|s| *s != "accounts").nth(1),
    };
    segment.filter(|s| !s.is_empty() && *s != "*")
}

/// Ends the connection's task, so that the connection closes without an answer (an
/// injected `drop` fault). axum's service cannot fail, so this unwinds: the task that
/// serves the connection ends and drops the socket. `resume_unwind` does not run the
/// panic hook, so nothing is reported as a crash.
fn drop_connection() -> ! {
    tracing::info!("closing the connection without an answer (injected fault)");
    std::panic::resume_unwind(Box::new("ccadmin: connection dropped by an injected fault"))
}

/// Records every request under `/api/` when the journal is on, and closes the
/// connection of a request whose fault says so (journal on or not).
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.requests.is_on() || !req.uri().path().starts_with("/api/") {
        let res = next.run(req).await;
        if res.extensions().get::<DropConnection>().is_some() {
            drop_connection();
        }
        return res;
    }
    let started = Instant::now();
    let (mut parts, body) = req.into_parts();
    let (head, complete, body) = read_head(body).await;
    let slot = ClientSlot::default();
    parts.extensions.insert(slot.clone());
    let path = parts.uri.path().to_owned();
    let request = message(&parts.headers, &head, complete);
    let now = state.clock.now_ms();
    let mut pending = Pending {
        journal: state.requests.clone(),
        started,
        slot,
        entry: Entry {
            id: uuid::Uuid::new_v4().to_string(),
            time: time::rfc3339(now),
            time_ms: now,
            method: parts.method.as_str().to_owned(),
            account_id: path_account(&path).map(str::to_owned),
            client_id: None,
            query: parts
                .uri
                .query()
                .map(|q| redaction::redact_form(q).into_owned()),
            path,
            status: None,
            duration_ms: 0.0,
            request,
            response: empty_message(),
            fault: None,
        },
    };
    if pending
        .entry
        .path
        .ends_with("/protocol/openid-connect/token")
    {
        // The token endpoint has no token: its client is the form's.
        pending.entry.client_id = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&head)
            .ok()
            .and_then(|f| f.into_iter().find(|(k, _)| k == "client_id"))
            .map(|(_, v)| v);
    }
    let res = next.run(Request::from_parts(parts, body)).await;
    pending.entry.fault = res.extensions().get::<FaultNote>().cloned();
    if res.extensions().get::<DropConnection>().is_some() {
        pending.finish(&[], true, None);
        drop_connection();
    }
    pending.entry.status = Some(res.status().as_u16());
    let (res_parts, res_body) = res.into_parts();
    pending.entry.response.headers = headers(&res_parts.headers);
    let in_memory = res_body
        .size_hint()
        .exact()
        .is_some_and(|n| n <= BODY_LIMIT as u64);
    let res_body = if in_memory {
        // An answer already in memory (every JSON answer) is taken whole, at no wait.
        match axum::body::to_bytes(res_body, BODY_LIMIT).await {
            Ok(bytes) => {
                pending.finish(&bytes, true, Some(bytes.len() as u64));
                AxumBody::from(bytes)
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading an answer for the request journal failed");
                pending.finish(&[], true, None);
                AxumBody::empty()
            }
        }
    } else {
        AxumBody::from_stream(Tee {
            inner: res_body.into_data_stream(),
            head: Vec::new(),
            size: 0,
            pending: Some(pending),
        })
    };
    Response::from_parts(res_parts, res_body)
}

/// Reads a request body's first [`BODY_CAP`] bytes (and a little more) ahead of the
/// handler, and gives back a body that yields the same bytes: whole when it ended, or
/// the part read followed by the rest (read errors included) as the handler reads on.
async fn read_head(body: AxumBody) -> (Bytes, bool, AxumBody) {
    let mut stream = body.into_data_stream();
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut len = 0;
    while len <= BODY_CAP {
        match stream.next().await {
            None => {
                // One chunk (or none) is the usual case: no copy then.
                let head = match chunks.len() {
                    0 => Bytes::new(),
                    1 => chunks.swap_remove(0),
                    _ => Bytes::from(chunks.concat()),
                };
                return (head.clone(), true, AxumBody::from(head));
            }
            Some(Ok(chunk)) => {
                len += chunk.len();
                chunks.push(chunk);
            }
            Some(Err(e)) => {
                let head = Bytes::from(chunks.concat());
                let items = chunks.into_iter().map(Ok).chain(std::iter::once(Err(e)));
                return (head, false, AxumBody::from_stream(stream::iter(items)));
            }
        }
    }
    let head = Bytes::from(chunks.concat());
    let items = stream::iter(chunks.into_iter().map(Ok::<_, axum::Error>));
    (head, false, AxumBody::from_stream(items.chain(stream)))
}

/// An entry waiting for its answer's body.
struct Pending {
    journal: Arc<RequestJournal>,
    started: Instant,
    slot: ClientSlot,
    entry: Entry,
}

impl Pending {
    /// Completes the entry with the answer's body (`bytes`, all of it when `complete`)
    /// and stores it.
    fn finish(mut self, bytes: &[u8], complete: bool, size: Option<u64>) {
        let entry = &mut self.entry;
        entry.duration_ms = (self.started.elapsed().as_micros() as f64) / 1000.0;
        if entry.client_id.is_none() {
            entry.client_id = self.slot.get();
        }
        let content_type = entry
            .response
            .headers
            .get("content-type")
            .map(str::to_owned);
        let (body, truncated) = body_text(bytes, complete, content_type.as_deref());
        entry.response.body = body;
        entry.response.body_truncated = truncated;
        entry.response.body_size = size;
        self.journal.record(self.entry);
    }
}

/// A streamed answer's body, copied as it passes; the entry is stored at its end (or
/// when the body is dropped, e.g. the client went away).
struct Tee {
    inner: axum::body::BodyDataStream,
    head: Vec<u8>,
    size: u64,
    pending: Option<Pending>,
}

impl Tee {
    fn finish(&mut self, complete: bool) {
        if let Some(p) = self.pending.take() {
            let size = complete.then_some(self.size);
            p.finish(
                &self.head,
                complete && self.head.len() as u64 == self.size,
                size,
            );
        }
    }
}

impl Stream for Tee {
    type Item = std::result::Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                self.size += chunk.len() as u64;
                let room = (BODY_CAP + 1).saturating_sub(self.head.len());
                let take = room.min(chunk.len());
                self.head.extend_from_slice(&chunk[..take]);
            }
            Poll::Ready(None) => self.finish(true),
            Poll::Ready(Some(Err(_))) => self.finish(false),
            Poll::Pending => {}
        }
        polled
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        self.finish(false);
    }
}

fn empty_message() -> Message {
    Message {
        headers: Headers::default(),
        body: None,
        body_size: None,
        body_truncated: false,
    }
}

/// A request's side: its headers, and its body from the part read ahead.
fn message(headers_in: &HeaderMap, head: &[u8], complete: bool) -> Message {
    let content_type = headers_in
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (body, truncated) = body_text(head, complete, content_type);
    let size = if complete {
        Some(head.len() as u64)
    } else {
        headers_in
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    };
    Message {
        headers: headers(headers_in),
        body,
        body_size: size,
        body_truncated: truncated,
    }
}

/// Headers as the journal keeps them, secret ones masked. Copied, not cloned: a
/// request's parsed header values (and unusual names, like `appkey`) are slices of the
/// connection's read buffer, and a clone would keep that whole buffer (kilobytes) alive
/// for as long as the entry lives: 10,000 entries pinned over 100 MB.
fn headers(map: &HeaderMap) -> Headers {
    Headers(
        map.iter()
            .filter_map(|(name, value)| {
                let value = if redaction::is_secret_header(name.as_str()) {
                    HeaderValue::from_static(MASK)
                } else {
                    HeaderValue::from_bytes(value.as_bytes()).ok()?
                };
                Some((
                    HeaderName::from_bytes(name.as_str().as_bytes()).ok()?,
                    value,
                ))
            })
            .collect(),
    )
}

/// The text the journal keeps of a body: at most [`BODY_CAP`] bytes, secrets masked
/// (form fields, or JSON members, by the content type); and whether it was cut.
fn body_text(bytes: &[u8], complete: bool, content_type: Option<&str>) -> (Option<String>, bool) {
    if bytes.is_empty() {
        return (None, !complete);
    }
    let truncated = !complete || bytes.len() > BODY_CAP;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_CAP)]);
    let form = content_type.is_some_and(|ct| {
        ct.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    });
    let masked = if form {
        redaction::redact_form(&text).into_owned()
    } else {
        redaction::redact_json(&text).into_owned()
    };
    (Some(masked), truncated)
}

// ---------------------------------------------------------------------------------
// The controls.

/// The tag of every control.
const EMULATOR: &str = "Emulator";

/// Recorded requests, newest first.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EmulatorRecordedRequestList)]
struct RequestList {
    /// Shared with the journal, serialised as entries.
    #[schema(value_type = Vec<Entry>)]
    requests: Vec<Arc<Entry>>,
}

/// How many recorded requests match.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EmulatorRecordedRequestCount)]
struct CountOut {
    #[schema(example = 3)]
    count: usize,
}

/// Which recorded requests to count; every field optional.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EmulatorRecordedRequestFilter)]
struct CountIn {
    /// Ignoring case.
    #[schema(nullable = false, example = "POST")]
    method: Option<String>,
    /// Exact, or with `*` standing for any run of characters.
    #[schema(
        nullable = false,
        example = "/api/admin/voice/v1/accounts/*/phone-numbers"
    )]
    path: Option<String>,
    #[schema(nullable = false, minimum = 100, maximum = 599, example = 202)]
    status: Option<i64>,
    #[schema(nullable = false, example = "ABCDEF")]
    account_id: Option<String>,
}

fn status_filter(raw: i64, violations: &mut Vec<Violation>) -> Option<u16> {
    let ok = u16::try_from(raw).ok().filter(|s| (100..=599).contains(s));
    if ok.is_none() {
        violations.push(Violation::new(
            "status",
            Code::Range,
            "must be between 100 and 599",
        ));
    }
    ok
}

/// List recorded requests (emulator mode).
///
/// The requests under `/api/` this instance answered (the token endpoint included),
/// newest first, with their answers; secrets (`Authorization`, `appkey`, client
/// secrets, passwords, tokens) as `***`, bodies cut at 64 KiB. In memory on each
/// instance, bounded by `--journal-max-entries` and `--journal-max-bytes`. Emulator
/// mode only (`--emulator` or `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(get, path = "/_ccadmin/requests", operation_id = "emulatorListRequests", tag = EMULATOR,
    params(
        ("method" = Option<String>, Query, description = "Only this method (ignoring case)."),
        ("path" = Option<String>, Query, description = "Only this path: exact, or with `*` standing for any run of characters."),
        ("status" = Option<i64>, Query, minimum = 100, maximum = 599, description = "Only answers of this status."),
        ("accountId" = Option<String>, Query, description = "Only requests whose path names this account."),
        ("since" = Option<String>, Query, format = DateTime, description = "Only requests at or after this RFC 3339 time (server clock)."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "At most this many (1 to 1000, default 100).")),
    responses((status = 200, description = "The requests, newest first", body = RequestList)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Json<RequestList>> {
    caller.require_administrator()?;
    let mut violations = Vec::new();
    let status = query.get("status").and_then(|s| match s.parse::<i64>() {
        Ok(n) => status_filter(n, &mut violations),
        Err(_) => {
            violations.push(Violation::new(
                "status",
                Code::InvalidType,
                "must be an integer",
            ));
            None
        }
    });
    let since_ms = query
        .get("since")
        .and_then(|s| match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => Some(t.timestamp_millis()),
            Err(_) => {
                violations.push(Violation::new(
                    "since",
                    Code::InvalidValue,
                    "must be an RFC 3339 time, like 2025-01-01T12:00:00Z",
                ));
                None
            }
        });
    let limit = match query.get("limit").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => {
            violations.push(Violation::new(
                "limit",
                Code::Range,
                "must be between 1 and 1000",
            ));
            100
        }
    };
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }
    let filter = Filter {
        method: query.get("method").map(str::to_owned),
        path: query.get("path").map(PathPattern::new),
        status,
        account_id: query.get("accountId").map(str::to_owned),
        since_ms,
    };
    Ok(Json(RequestList {
        requests: state.requests.list(&filter, limit),
    }))
}

/// Get a recorded request (emulator mode).
///
/// One request of the journal and its answer. Emulator mode only (`--emulator` or
/// `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(get, path = "/_ccadmin/requests/{id}", operation_id = "emulatorGetRequest", tag = EMULATOR,
    params(("id" = String, Path, description = "The entry's `id`.")),
    responses(
        (status = 200, description = "The request", body = Entry),
        (status = 404, description = "No such entry (or no longer kept)", body = super::error::Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn get_request(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<Arc<Entry>>> {
    caller.require_administrator()?;
    let id = params.raw("id");
    state
        .requests
        .get(id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("Request", "id", id))
}

/// Count recorded requests (emulator mode).
///
/// How many requests of the journal match the body's filters (any subset of
/// `method`, `path`, `status`, `accountId`; `{}` counts them all), as WireMock's
/// `/__admin/requests/count`. Emulator mode only (`--emulator` or `--demo`; otherwise
/// the path is 404); Administrator only.
#[utoipa::path(post, path = "/_ccadmin/requests:count", operation_id = "emulatorCountRequests", tag = EMULATOR,
    request_body = CountIn,
    responses((status = 200, description = "The count", body = CountOut)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn count_requests(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<CountOut>> {
    caller.require_administrator()?;
    let input: CountIn = body.json()?;
    let mut violations = Vec::new();
    let status = input.status.and_then(|s| status_filter(s, &mut violations));
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }
    let filter = Filter {
        method: input.method,
        path: input.path.map(PathPattern::new),
        status,
        account_id: input.account_id,
        since_ms: None,
    };
    Ok(Json(CountOut {
        count: state.requests.count(&filter),
    }))
}

/// Clear the recorded requests (emulator mode).
///
/// Forgets every recorded request of this instance. Emulator mode only (`--emulator`
/// or `--demo`; otherwise the path is 404); Administrator only.
#[utoipa::path(delete, path = "/_ccadmin/requests", operation_id = "emulatorClearRequests", tag = EMULATOR,
    responses((status = 204, description = "Cleared")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn clear_requests(State(state): State<AppState>, caller: Caller) -> Result<StatusCode> {
    caller.require_administrator()?;
    state.requests.clear();
    Ok(StatusCode::NO_CONTENT)
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list_requests, get_request, count_requests, clear_requests))]
pub struct Api;
