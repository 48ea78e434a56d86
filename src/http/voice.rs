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
use super::bodies;
use super::error::Problem;
use super::error::{ApiError, Result};
use super::extract::{Body, PathParams, PreferHeader};
use super::reach::{
    account_in_reach, account_in_reach_read, existing, resource_path_checked, resource_path_of,
};
use super::schemas::ElementList;
use crate::domain::ElementId;
use crate::domain::element::{ElementIn, ElementOut, ElementType};
use crate::service::elements as service;
use crate::store;

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

/// The 409 of an element create or update.
const ELEMENT_CONFLICT: &str =
    "The account already has an element of this type, or one with this name";

/// AXP `createAco`.
#[utoipa::path(post, path = "/api/admin/voice/v1/accounts/{accountId}/aco-elements",
    operation_id = "createAco", params(PreferHeader), tag = "Voice elements", request_body = ElementIn,
    responses((status = 202, description = "Accepted; `status` tells the provisioning", body = ElementOut),
        (status = 409, description = ELEMENT_CONFLICT, body = Problem, content_type = "application/problem+json")))]
async fn create_aco(
    s: State<AppState>,
    c: Caller,
    p: PathParams,
    pr: PreferHeader,
    b: Body,
) -> Result<Response> {
    create(s, c, p, pr, b, ElementType::Aco).await
}

/// AXP `createMSTeams`.
#[utoipa::path(post, path = "/api/admin/voice/v1/accounts/{accountId}/msteams-elements",
    operation_id = "createMSTeams", params(PreferHeader), tag = "Voice elements", request_body = ElementIn,
    responses((status = 202, description = "Accepted; `status` tells the provisioning", body = ElementOut),
        (status = 409, description = ELEMENT_CONFLICT, body = Problem, content_type = "application/problem+json")))]
async fn create_msteams(
    s: State<AppState>,
    c: Caller,
    p: PathParams,
    pr: PreferHeader,
    b: Body,
) -> Result<Response> {
    create(s, c, p, pr, b, ElementType::MsTeams).await
}

/// AXP `getAco`.
#[utoipa::path(get, path = "/api/admin/voice/v1/accounts/{accountId}/aco-elements/{elementId}",
    operation_id = "getAco", tag = "Voice elements",
    responses((status = 200, description = "The element", body = ElementOut)))]
async fn get_aco(s: State<AppState>, c: Caller, p: PathParams) -> Result<Response> {
    read(s, c, p, ElementType::Aco).await
}

/// AXP `getMSTeams`.
#[utoipa::path(get, path = "/api/admin/voice/v1/accounts/{accountId}/msteams-elements/{elementId}",
    operation_id = "getMSTeams", tag = "Voice elements",
    responses((status = 200, description = "The element", body = ElementOut)))]
async fn get_msteams(s: State<AppState>, c: Caller, p: PathParams) -> Result<Response> {
    read(s, c, p, ElementType::MsTeams).await
}

/// AXP `updateAco`: a complete replacement.
#[utoipa::path(put, path = "/api/admin/voice/v1/accounts/{accountId}/aco-elements/{elementId}",
    operation_id = "updateAco", params(PreferHeader), tag = "Voice elements", request_body = ElementIn,
    responses((status = 202, description = "Accepted; `status` tells the provisioning", body = ElementOut),
        (status = 409, description = ELEMENT_CONFLICT, body = Problem, content_type = "application/problem+json")))]
async fn update_aco(
    s: State<AppState>,
    c: Caller,
    p: PathParams,
    pr: PreferHeader,
    b: Body,
) -> Result<Response> {
    replace(s, c, p, pr, b, ElementType::Aco).await
}

/// AXP `updateMSTeams`: a complete replacement.
#[utoipa::path(put, path = "/api/admin/voice/v1/accounts/{accountId}/msteams-elements/{elementId}",
    operation_id = "updateMSTeams", params(PreferHeader), tag = "Voice elements", request_body = ElementIn,
    responses((status = 202, description = "Accepted; `status` tells the provisioning", body = ElementOut),
        (status = 409, description = ELEMENT_CONFLICT, body = Problem, content_type = "application/problem+json")))]
async fn update_msteams(
    s: State<AppState>,
    c: Caller,
    p: PathParams,
    pr: PreferHeader,
    b: Body,
) -> Result<Response> {
    replace(s, c, p, pr, b, ElementType::MsTeams).await
}

/// AXP `deleteAco`.
#[utoipa::path(delete, path = "/api/admin/voice/v1/accounts/{accountId}/aco-elements/{elementId}",
    operation_id = "deleteAco", tag = "Voice elements",
    responses((status = 204, description = "Deleted; GET is 404 from now on")))]
async fn delete_aco(s: State<AppState>, c: Caller, p: PathParams) -> Result<StatusCode> {
    remove(s, c, p, ElementType::Aco).await
}

/// AXP `deleteMSTeams`.
#[utoipa::path(delete, path = "/api/admin/voice/v1/accounts/{accountId}/msteams-elements/{elementId}",
    operation_id = "deleteMSTeams", tag = "Voice elements",
    responses((status = 204, description = "Deleted; GET is 404 from now on")))]
async fn delete_msteams(s: State<AppState>, c: Caller, p: PathParams) -> Result<StatusCode> {
    remove(s, c, p, ElementType::MsTeams).await
}

/// AXP `createAco` / `createMSTeams`: 202 with the element.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    prefer: PreferHeader,
    body: Body,
    t: ElementType,
) -> Result<Response> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let body = body
        .json::<ElementIn>()?
        .validate(t)
        .map_err(ApiError::validation)?;
    let p = state
        .provisioning(&prefer, crate::jobs::element::kind(t))
        .await?;
    let element = service::create(&state.db, &state.clock, &account, t, body, &p).await?;
    state.jobs.wake();
    Ok((StatusCode::ACCEPTED, Json(element.to_out())).into_response())
}

/// AXP `getAco` / `getMSTeams`.
async fn read(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    t: ElementType,
) -> Result<Response> {
    let (account, id) = resource_path_checked::<ElementId>(&caller, &params, "elementId")?;
    let key = format!("element/{account}/{t:?}/{id}");
    bodies::cached(&state, key, async {
        let mut tx = existing(&state, &account).await?;
        let (element, _) = store::elements::get(&mut tx, &account, t, &id)
            .await?
            .ok_or_else(|| ApiError::from(service::not_found(t, &id)))?;
        serde_json::to_value(element.to_out()).map_err(ApiError::internal)
    })
    .await
}

/// AXP `updateAco` / `updateMSTeams`: a complete replacement, 202.
async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    prefer: PreferHeader,
    body: Body,
    t: ElementType,
) -> Result<Response> {
    let (account, id) =
        resource_path_of::<ElementId>(&state, &caller, &params, "elementId").await?;
    let mut tx = state.db.read().await?;
    if store::elements::get(&mut tx, &account, t, &id)
        .await?
        .is_none()
    {
        return Err(service::not_found(t, &id).into());
    }
    drop(tx);
    let body = body
        .json::<ElementIn>()?
        .validate(t)
        .map_err(ApiError::validation)?;
    let p = state
        .provisioning(&prefer, crate::jobs::element::kind(t))
        .await?;
    let element = service::replace(&state.db, &state.clock, &account, t, &id, body, &p).await?;
    state.jobs.wake();
    Ok((StatusCode::ACCEPTED, Json(element.to_out())).into_response())
}

/// AXP `deleteAco` / `deleteMSTeams`: 204, and GET is 404 from then on.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    t: ElementType,
) -> Result<StatusCode> {
    let (account, id) =
        resource_path_of::<ElementId>(&state, &caller, &params, "elementId").await?;
    service::delete(&state.db, &state.clock, &account, t, &id).await?;
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
