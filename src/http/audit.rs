//! Audit records: `POST .../audit-records:search` and `:export` (CSV).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Problem, Result};
use super::extract::{Body, PathParams, QueryParams};
use super::listing::{self, Links, Pagination};
use super::reach::account_in_reach;
use crate::domain::audit::{AuditFilter, AuditFilterIn, EXPORT_MAX, Event};
use crate::domain::listing::{PageRules, parse_order_by};
use crate::domain::schemas::RecordType;
use crate::domain::{Code, Violation, time};
use crate::store;
use crate::store::audit::{AuditOrder, AuditRow};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/account/v1/accounts/{accountId}/audit-records:search",
            post(search),
        )
        .route(
            "/api/admin/account/v1/accounts/{accountId}/audit-records:export",
            post(export),
        )
}

/// `orderBy`: `date` or `author`, descending unless ` asc` (the spec's default).
fn order(query: &QueryParams) -> std::result::Result<(AuditOrder, bool), Violation> {
    let fields = [("date", AuditOrder::Date), ("author", AuditOrder::Author)];
    let raw = query.get("orderBy");
    let parsed = parse_order_by(raw, &fields, AuditOrder::Date)?;
    // The spec's default direction is descending: only an explicit " asc" ascends.
    let ascending = raw.is_some_and(|r| r.ends_with(" asc"));
    Ok((parsed.field, !ascending))
}

/// An audit record: who changed what, when, from where.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditRecord)]
struct RecordOut {
    /// UTC, with milliseconds.
    #[schema(format = DateTime, example = "2021-11-14T09:24:05.234Z")]
    date: String,
    #[schema(value_type = Event)]
    event: String,
    /// The token's subject: the user (password grant) or the client id.
    #[schema(example = "jsmith@example.com")]
    author: String,
    /// The caller's address as the server saw it.
    #[schema(example = "165.225.72.60")]
    ip_address: String,
    #[serde(rename = "type")]
    #[schema(value_type = RecordType)]
    record_type: String,
    /// The object's state after the change; `resource` names the kind of object
    /// (`ACCOUNT`, `ORGANIZATION_NODE`, `PROFILE`, `CLIENT`). An Account Administrator
    /// sees only the features it was granted.
    #[schema(value_type = Object, example = json!({"resource": "ACCOUNT", "name": "Acme"}))]
    audit_data: Value,
}

/// An account's recorded state shows an Account Administrator only the features it
/// was granted, as the account itself does.
fn visible_data(raw: &str, caller: &Caller) -> Value {
    let mut data: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
    if !caller.is_administrator()
        && let Some(features) = data.get_mut("features").and_then(Value::as_object_mut)
    {
        features.retain(|name, _| caller.client.features.allows(name));
    }
    data
}

fn record_out(r: AuditRow, caller: &Caller) -> RecordOut {
    RecordOut {
        date: time::rfc3339(r.at),
        audit_data: visible_data(&r.audit_data, caller),
        event: r.event,
        author: r.author,
        ip_address: r.ip_address,
        record_type: r.record_type,
    }
}

/// One page of audit records.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditRecords)]
struct RecordsPage {
    pagination: Pagination,
    audit_records: Vec<RecordOut>,
    /// The neighbouring pages, keeping the request's query parameters; `""` when there
    /// is none.
    links: Links,
}

/// Search audit records
///
/// The records of the account dated within the range and matching every other field of
/// the filter; `searchKeyword` searches every field but the date.
#[utoipa::path(post, path = "/api/admin/account/v1/accounts/{accountId}/audit-records:search",
    operation_id = "searchAuditRecords", tag = "Audit Records", request_body = AuditFilterIn,
    params(
        ("pageNumber" = Option<u32>, Query, nullable = false, minimum = 1, maximum = 1000000,
            description = "The page to return; 1 when absent.", example = 1),
        ("pageSize" = Option<u32>, Query, nullable = false, minimum = 5, maximum = 50,
            description = "Records per page; 5 when absent.", example = 5),
        ("orderBy" = Option<String>, Query, nullable = false, max_length = 255,
            pattern = "^(date|author)( (asc|desc))?$",
            description = "`date` (the default) or `author`, descending unless followed by ` asc`.",
            example = "date desc"),
    ),
    responses((status = 200, description = "One page of records", body = RecordsPage)))]
async fn search(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
    body: Body,
) -> Result<Json<RecordsPage>> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let page = listing::page(
        &query,
        PageRules {
            default_size: 5,
            min_size: 5,
            max_size: 50,
        },
    )?;
    let order = order(&query).map_err(|v| ApiError::validation(vec![v]))?;
    let filter =
        AuditFilter::try_from(body.json::<AuditFilterIn>()?).map_err(ApiError::validation)?;
    let mut tx = state.db.read().await?;
    let (rows, total) =
        store::audit::search(&mut tx, &account, &filter, order, Some(page), 0).await?;
    let path = format!("/api/admin/account/v1/accounts/{account}/audit-records:search");
    let (pagination, links) = listing::paginate(&path, &query, page, total);
    Ok(Json(RecordsPage {
        pagination,
        audit_records: rows.into_iter().map(|r| record_out(r, &caller)).collect(),
        links,
    }))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Export audit records
///
/// The records matching the filter, as CSV, at most 1000: more is a 400 with code
/// 20007 at `interval`.
#[utoipa::path(post, path = "/api/admin/account/v1/accounts/{accountId}/audit-records:export",
    operation_id = "exportAuditRecords", tag = "Audit Records", request_body = AuditFilterIn,
    params(
        ("orderBy" = Option<String>, Query, nullable = false, max_length = 255,
            pattern = "^(date|author)( (asc|desc))?$",
            description = "`date` (the default) or `author`, descending unless followed by ` asc`.",
            example = "date desc"),
    ),
    responses(
        (status = 200, description = "The records, one CSV line each after the header",
            content_type = "text/csv", body = String,
            example = "Account Id,Date,Event,Author,IP Address,Type,Audit Data\nABCDEF,2021-11-14T09:24:05.234Z,CREATED,jsmith@example.com,165.225.72.60,ACCOUNT,\"{\"\"name\"\":\"\"Acme\"\",\"\"resource\"\":\"\"ACCOUNT\"\"}\"\n"),
        (status = 400, description = "The request breaks a rule; `violations` names each field. \
            More than 1000 matching records is code 20007 at `interval`",
            body = Problem, content_type = "application/problem+json"),
    ))]
async fn export(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
    body: Body,
) -> Result<Response> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let order = order(&query).map_err(|v| ApiError::validation(vec![v]))?;
    let filter =
        AuditFilter::try_from(body.json::<AuditFilterIn>()?).map_err(ApiError::validation)?;
    let mut tx = state.db.read().await?;
    let (rows, total) =
        store::audit::search(&mut tx, &account, &filter, order, None, EXPORT_MAX).await?;
    if total > EXPORT_MAX {
        return Err(ApiError::validation(vec![Violation::new(
            "interval",
            Code::TooManyRecords,
            "Too many records within the requested time interval.",
        )]));
    }
    let mut csv = String::from("Account Id,Date,Event,Author,IP Address,Type,Audit Data\n");
    for r in rows {
        let fields = [
            account.to_string(),
            time::rfc3339(r.at),
            r.event,
            r.author,
            r.ip_address,
            r.record_type,
            visible_data(&r.audit_data, &caller).to_string(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        csv.push_str(&line.join(","));
        csv.push('\n');
    }
    let mut res = (StatusCode::OK, csv).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    Ok(res)
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(search, export))]
pub struct Api;
