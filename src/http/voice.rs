//! The Voice API (`/api/admin/voice/v1`): Avaya Cloud Office and Microsoft Teams
//! elements.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use utoipa::OpenApi;

use super::AppState;
use super::auth::Caller;
use super::error::Problem;
use super::error::{ApiError, Result};
use super::extract::{Body, PathParams, PreferHeader};
use super::idempotency::{self as keys, JsonAnswer, KeyHeader};
use super::preconditions::{Conditions, Current, IfMatchParam, IfNoneMatchParam, tagged};
use super::reach::{account_in_reach, account_in_reach_read, resource_path_read_of};
use super::schemas::ElementList;
use crate::domain::element::{Element, ElementIn, ElementOut, ElementType};
use crate::domain::{AccountId, ElementId};
use crate::service::elements as service;
use crate::store;
use crate::store::locks::Resource;

fn element_json(e: &Element) -> Result<Value> {
    serde_json::to_value(e.to_out()).map_err(ApiError::internal)
}

/// An element as a GET shows it, read in a write's transaction (`If-Match`).
struct ElementNow<'a> {
    account: &'a AccountId,
    t: ElementType,
    id: &'a ElementId,
}

impl Current for ElementNow<'_> {
    fn read<'t>(
        &'t self,
        tx: &'t mut store::Tx,
    ) -> futures_util::future::BoxFuture<
        't,
        std::result::Result<Option<Value>, crate::service::ServiceError>,
    > {
        Box::pin(async move {
            match store::elements::get(tx, self.account, self.t, self.id).await? {
                None => Ok(None),
                Some((e, _)) => Ok(Some(
                    serde_json::to_value(e.to_out()).map_err(anyhow::Error::from)?,
                )),
            }
        })
    }
}

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/voice/v1/accounts/{accountId}/aco-elements",
            post(create_aco),
        )
        .route(
            "/api/admin/voice/v1/accounts/{accountId}/aco-elements/{elementId}",
            get(get_aco).put(update_aco).delete(delete_aco),
        )
        .route(
            "/api/admin/voice/v1/accounts/{accountId}/msteams-elements",
            post(create_msteams),
        )
        .route(
            "/api/admin/voice/v1/accounts/{accountId}/msteams-elements/{elementId}",
            get(get_msteams).put(update_msteams).delete(delete_msteams),
        )
        .route(
            "/api/admin/voice/v1/accounts/{accountId}/elements",
            get(list_elements),
        )
}

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    create_aco,
    get_aco,
    update_aco,
    delete_aco,
    create_msteams,
    get_msteams,
    update_msteams,
    delete_msteams,
    list_elements
))]
pub struct Api;

/// The 412 of a conditional update or delete.
const PRECONDITION_FAILED: &str =
    "Extension: `If-Match` no longer names the element's `ETag`; nothing changed";

/// The 409 of an element create or update.
const ELEMENT_CONFLICT: &str =
    "The account already has an element of this type, or one with this name";

/// AXP `createAco`.
#[utoipa::path(post, path = "/api/admin/voice/v1/accounts/{accountId}/aco-elements",
    operation_id = "createAco", params(PreferHeader, KeyHeader), tag = "Voice elements", request_body = ElementIn,
    responses((status = 202, description = "Accepted; `status` tells the provisioning", body = ElementOut),
        (status = 409, description = ELEMENT_CONFLICT, body = Problem, content_type = "application/problem+json")))]
async fn create_aco(
    s: State<AppState>,
    c: Caller,
    k: KeyHeader,
    p: PathParams,
    pr: PreferHeader,
    b: Body,
) -> Result<Response> {
    create(s, c, k, p, pr, b, ElementType::Aco).await
}

/// AXP `createMSTeams`.
#[utoipa::path(post, path = "/api/admin/voice/v1/accounts/{accountId}/msteams-elements",
    operation_id = "createMSTeams", params(PreferHeader, KeyHeader), tag = "Voice elements", request_body = ElementIn,
    responses((status = 202, description = "Accepted; `status` tells the provisioning", body = ElementOut),
        (status = 409, description = ELEMENT_CONFLICT, body = Problem, content_type = "application/problem+json")))]
async fn create_msteams(
    s: State<AppState>,
    c: Caller,
    k: KeyHeader,
    p: PathParams,
    pr: PreferHeader,
    b: Body,
) -> Result<Response> {
    create(s, c, k, p, pr, b, ElementType::MsTeams).await
}

/// AXP `getAco`.
#[utoipa::path(get, path = "/api/admin/voice/v1/accounts/{accountId}/aco-elements/{elementId}",
    operation_id = "getAco", tag = "Voice elements", params(IfNoneMatchParam),
    responses((status = 200, description = "The element", body = ElementOut,
        headers(("ETag" = String, description = "Extension: the element's entity tag"))),
        (status = 304, description = "Extension: `If-None-Match` names the current `ETag`")))]
async fn get_aco(s: State<AppState>, c: Caller, p: PathParams, k: Conditions) -> Result<Response> {
    read(s, c, p, k, ElementType::Aco).await
}

/// AXP `getMSTeams`.
#[utoipa::path(get, path = "/api/admin/voice/v1/accounts/{accountId}/msteams-elements/{elementId}",
    operation_id = "getMSTeams", tag = "Voice elements", params(IfNoneMatchParam),
    responses((status = 200, description = "The element", body = ElementOut,
        headers(("ETag" = String, description = "Extension: the element's entity tag"))),
        (status = 304, description = "Extension: `If-None-Match` names the current `ETag`")))]
async fn get_msteams(
    s: State<AppState>,
    c: Caller,
    p: PathParams,
    k: Conditions,
) -> Result<Response> {
    read(s, c, p, k, ElementType::MsTeams).await
}

/// AXP `updateAco`: a complete replacement.
#[utoipa::path(put, path = "/api/admin/voice/v1/accounts/{accountId}/aco-elements/{elementId}",
    operation_id = "updateAco", params(PreferHeader, IfMatchParam), tag = "Voice elements", request_body = ElementIn,
    responses((status = 202, description = "Accepted; `status` tells the provisioning", body = ElementOut,
        headers(("ETag" = String, description = "Extension: the element's new entity tag"))),
        (status = 412, description = PRECONDITION_FAILED, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = ELEMENT_CONFLICT, body = Problem, content_type = "application/problem+json")))]
async fn update_aco(
    s: State<AppState>,
    c: Caller,
    p: PathParams,
    k: Conditions,
    pr: PreferHeader,
    b: Body,
) -> Result<Response> {
    replace(s, c, p, k, pr, b, ElementType::Aco).await
}

/// AXP `updateMSTeams`: a complete replacement.
#[utoipa::path(put, path = "/api/admin/voice/v1/accounts/{accountId}/msteams-elements/{elementId}",
    operation_id = "updateMSTeams", params(PreferHeader, IfMatchParam), tag = "Voice elements", request_body = ElementIn,
    responses((status = 202, description = "Accepted; `status` tells the provisioning", body = ElementOut,
        headers(("ETag" = String, description = "Extension: the element's new entity tag"))),
        (status = 412, description = PRECONDITION_FAILED, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = ELEMENT_CONFLICT, body = Problem, content_type = "application/problem+json")))]
async fn update_msteams(
    s: State<AppState>,
    c: Caller,
    p: PathParams,
    k: Conditions,
    pr: PreferHeader,
    b: Body,
) -> Result<Response> {
    replace(s, c, p, k, pr, b, ElementType::MsTeams).await
}

/// AXP `deleteAco`.
#[utoipa::path(delete, path = "/api/admin/voice/v1/accounts/{accountId}/aco-elements/{elementId}",
    operation_id = "deleteAco", tag = "Voice elements", params(IfMatchParam),
    responses((status = 204, description = "Deleted; GET is 404 from now on"),
        (status = 412, description = PRECONDITION_FAILED, body = Problem, content_type = "application/problem+json")))]
async fn delete_aco(
    s: State<AppState>,
    c: Caller,
    p: PathParams,
    k: Conditions,
) -> Result<StatusCode> {
    remove(s, c, p, k, ElementType::Aco).await
}

/// AXP `deleteMSTeams`.
#[utoipa::path(delete, path = "/api/admin/voice/v1/accounts/{accountId}/msteams-elements/{elementId}",
    operation_id = "deleteMSTeams", tag = "Voice elements", params(IfMatchParam),
    responses((status = 204, description = "Deleted; GET is 404 from now on"),
        (status = 412, description = PRECONDITION_FAILED, body = Problem, content_type = "application/problem+json")))]
async fn delete_msteams(
    s: State<AppState>,
    c: Caller,
    p: PathParams,
    k: Conditions,
) -> Result<StatusCode> {
    remove(s, c, p, k, ElementType::MsTeams).await
}

/// AXP `createAco` / `createMSTeams`: 202 with the element.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    key: KeyHeader,
    params: PathParams,
    prefer: PreferHeader,
    body: Body,
    t: ElementType,
) -> Result<Response> {
    let operation = match t {
        ElementType::Aco => "createAco",
        ElementType::MsTeams => "createMSTeams",
    };
    let started = keys::begin(&state, &caller, &key, operation, body.bytes()).await?;
    let account = account_in_reach(&state, &caller, &params).await?;
    let body = body
        .json::<ElementIn>()?
        .validate(t)
        .map_err(ApiError::validation)?;
    let p = state
        .provisioning(&prefer, crate::jobs::element::kind(t))
        .await?;
    let render = JsonAnswer {
        status: StatusCode::ACCEPTED,
        body: element_json,
    };
    let result = service::create(
        &state.db,
        &state.clock,
        &account,
        t,
        body,
        &p,
        started.keyed(&render).as_ref(),
    )
    .await;
    let element = started.settle(&state, result).await?;
    state.jobs.wake();
    if let Some(sent) = started.sent() {
        return Ok(sent);
    }
    Ok((StatusCode::ACCEPTED, Json(element.to_out())).into_response())
}

/// AXP `getAco` / `getMSTeams`.
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
    t: ElementType,
) -> Result<Response> {
    let (account, id, mut tx) =
        resource_path_read_of::<ElementId>(&state, &caller, &params, "elementId").await?;
    let (element, _) = store::elements::get(&mut tx, &account, t, &id)
        .await?
        .ok_or_else(|| ApiError::from(service::not_found(t, &id)))?;
    conditions.read(&element_json(&element)?)
}

/// AXP `updateAco` / `updateMSTeams`: a complete replacement, 202.
async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
    prefer: PreferHeader,
    body: Body,
    t: ElementType,
) -> Result<Response> {
    let (account, id, mut tx) =
        resource_path_read_of::<ElementId>(&state, &caller, &params, "elementId").await?;
    let Some((current, _)) = store::elements::get(&mut tx, &account, t, &id).await? else {
        return Err(service::not_found(t, &id).into());
    };
    drop(tx);
    conditions.check(&element_json(&current)?)?;
    let body = body
        .json::<ElementIn>()?
        .validate(t)
        .map_err(ApiError::validation)?;
    let p = state
        .provisioning(&prefer, crate::jobs::element::kind(t))
        .await?;
    let pre = conditions.in_write(
        &account,
        Resource::Element(id.as_str()),
        ElementNow {
            account: &account,
            t,
            id: &id,
        },
    );
    let element = service::replace(
        &state.db,
        &state.clock,
        &account,
        t,
        &id,
        body,
        &p,
        pre.as_ref().map(|p| p as _),
    )
    .await?;
    state.jobs.wake();
    tagged(StatusCode::ACCEPTED, &element_json(&element)?)
}

/// AXP `deleteAco` / `deleteMSTeams`: 204, and GET is 404 from then on.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
    t: ElementType,
) -> Result<StatusCode> {
    let (account, id, mut tx) =
        resource_path_read_of::<ElementId>(&state, &caller, &params, "elementId").await?;
    let pre = conditions.in_write(
        &account,
        Resource::Element(id.as_str()),
        ElementNow {
            account: &account,
            t,
            id: &id,
        },
    );
    if pre.is_some() {
        let Some((current, _)) = store::elements::get(&mut tx, &account, t, &id).await? else {
            return Err(service::not_found(t, &id).into());
        };
        conditions.check(&element_json(&current)?)?;
    }
    drop(tx);
    service::delete(
        &state.db,
        &state.clock,
        &account,
        t,
        &id,
        pre.as_ref().map(|p| p as _),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Extension: every element of the account, across types.
#[utoipa::path(get, path = "/api/admin/voice/v1/accounts/{accountId}/elements",
    operation_id = "listElements", tag = "Voice elements",
    responses((status = 200, description = "Every element of the account", body = ElementList)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn list_elements(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<Value>> {
    let (account, mut tx) = account_in_reach_read(&state, &caller, &params).await?;
    let elements = store::elements::list(&mut tx, &account).await?;
    let out: Vec<_> = elements.iter().map(|e| e.to_out()).collect();
    Ok(Json(json!({ "elements": out })))
}
