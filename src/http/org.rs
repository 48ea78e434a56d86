//! Organization nodes (`/api/admin/account/v1/accounts/{accountId}/organization-nodes`)
//! and the profile extension (`/api/admin/user/v1/accounts/{accountId}/profiles`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Result};
use super::extract::{Body, PathParams, PreferHeader, QueryParams};
use super::listing::{self, Links, Pagination};
use super::voice::{IdKind, account_in_reach, resource_path};
use crate::domain::listing::{Match, PageRules, parse_filter, parse_order_by};
use crate::domain::org::{
    Hierarchy, NODE_TYPE, Node, NodeIn, NodeOut, NodeRequest, ProfileBody, ProfileIn, profile_url,
};
use crate::domain::{AccountId, Code, Violation};
use crate::service::org as service;
use crate::store::{self, Tx};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/account/v1/accounts/{accountId}/organization-nodes",
            get(list_nodes).post(create_node),
        )
        .route(
            "/api/admin/account/v1/accounts/{accountId}/organization-nodes/{organizationNodeId}",
            get(get_node).put(update_node).delete(delete_node),
        )
        .route(
            "/api/admin/account/v1/accounts/{accountId}/organization-nodes:listStatuses",
            post(list_node_statuses),
        )
        .route(
            "/api/admin/user/v1/accounts/{accountId}/profiles",
            get(list_profiles).post(create_profile),
        )
        .route(
            "/api/admin/user/v1/accounts/{accountId}/profiles/{profileId}",
            get(get_profile).put(update_profile).delete(delete_profile),
        )
}

/// Renders nodes of an account as the API shows them.
async fn views(
    tx: &mut Tx,
    account: &AccountId,
    only: &[&Node],
    all: &[Node],
    children: bool,
) -> Result<Vec<NodeOut>> {
    let root = store::accounts::get(tx, account)
        .await?
        .map(|a| a.body.name)
        .unwrap_or_default();
    let h = Hierarchy::new(&root, all);
    let mut out = Vec::with_capacity(only.len());
    for n in only {
        let profiles = store::org::node_profiles(tx, account, &n.node_id)
            .await?
            .iter()
            .map(|p| service::reference(account, p))
            .collect();
        out.push(NodeOut {
            name: n.name.clone(),
            parent_path: h.parent_path(n),
            organization_node_id: n.node_id.clone(),
            url: format!(
                "/api/admin/account/v1/accounts/{account}/organization-nodes/{}",
                n.node_id
            ),
            children: children.then(|| h.descendants(&n.node_id)),
            profiles,
            account_id: account.to_string(),
            node_type: NODE_TYPE,
            country_code: n.country_code.clone(),
        });
    }
    Ok(out)
}

async fn one_view(
    state: &AppState,
    account: &AccountId,
    id: &str,
    children: bool,
) -> Result<NodeOut> {
    let mut tx = state.db.read().await?;
    let all = store::org::nodes(&mut tx, account).await?;
    let node = all
        .iter()
        .find(|n| n.node_id == id)
        .ok_or_else(|| ApiError::from(service::node_not_found(id)))?;
    let mut v = views(&mut tx, account, &[node], &all, children).await?;
    v.pop()
        .ok_or_else(|| ApiError::from(service::node_not_found(id)))
}

fn children_flag(query: &QueryParams, default: bool) -> Result<bool> {
    match query.get("children") {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(ApiError::validation(vec![Violation::new(
            "children",
            Code::InvalidType,
            "must be true or false",
        )])),
    }
}

/// AXP `createOrganizationNode`: 202; the ADD runs as a job.
async fn create_node(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    prefer: PreferHeader,
    body: Body,
) -> Result<Response> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let req = NodeRequest::try_from(body.json::<NodeIn>()?).map_err(ApiError::validation)?;
    let p = state
        .provisioning(&prefer, &service::OUTCOMES, state.feature_delay_ms)
        .await?;
    let node =
        service::create_node(&state.db, &state.clock, &account, req, &p, &caller.author()).await?;
    state.jobs.wake();
    let mut view = one_view(&state, &account, &node.node_id, false).await?;
    view.children = None;
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

/// AXP `getOrganizationNode`: with `children` (the complete hierarchy below it), as
/// the seed shows, unless `children=false`.
async fn get_node(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
) -> Result<Json<NodeOut>> {
    let (account, id) = resource_path(
        &state,
        &caller,
        &params,
        "organizationNodeId",
        IdKind::SixLetters,
    )
    .await?;
    let children = children_flag(&query, true)?;
    Ok(Json(one_view(&state, &account, &id, children).await?))
}

/// AXP `updateOrganizationNode`: a complete replacement, 200 (the spec and seed); a
/// move takes the subtree along.
async fn update_node(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    prefer: PreferHeader,
    body: Body,
) -> Result<Json<NodeOut>> {
    let (account, id) = resource_path(
        &state,
        &caller,
        &params,
        "organizationNodeId",
        IdKind::SixLetters,
    )
    .await?;
    let mut tx = state.db.read().await?;
    if store::org::node_status(&mut tx, &account, &id)
        .await?
        .is_none()
    {
        return Err(service::node_not_found(&id).into());
    }
    drop(tx);
    let req = NodeRequest::try_from(body.json::<NodeIn>()?).map_err(ApiError::validation)?;
    let p = state
        .provisioning(&prefer, &service::OUTCOMES, state.feature_delay_ms)
        .await?;
    service::replace_node(
        &state.db,
        &state.clock,
        &account,
        &id,
        req,
        &p,
        &caller.author(),
    )
    .await?;
    state.jobs.wake();
    Ok(Json(one_view(&state, &account, &id, true).await?))
}

/// Extension: deletes a node that has no children (409 otherwise). 204.
async fn delete_node(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<StatusCode> {
    let (account, id) = resource_path(
        &state,
        &caller,
        &params,
        "organizationNodeId",
        IdKind::SixLetters,
    )
    .await?;
    service::delete_node(&state.db, &state.clock, &account, &id, &caller.author()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NodePage {
    pagination: Pagination,
    organization_nodes: Vec<NodeOut>,
    links: Links,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum NodeField {
    Name,
    AccountId,
}

fn matches(m: &Match, value: &str) -> bool {
    let v = value.to_lowercase();
    match m {
        Match::Exact(s) => value == s,
        Match::Equals(s) => v == s.to_lowercase(),
        Match::Prefix(s) => v.starts_with(&s.to_lowercase()),
        Match::Suffix(s) => v.ends_with(&s.to_lowercase()),
        Match::Contains(s) => v.contains(&s.to_lowercase()),
    }
}

/// AXP `listOrganizationNodes`: pages (5 to 50), `filter` and `orderBy` on name and
/// accountId as the accounts list, `children=true` for each node's hierarchy.
async fn list_nodes(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
) -> Result<Json<NodePage>> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let fields = [
        ("name", NodeField::Name),
        ("accountId", NodeField::AccountId),
    ];
    let mut violations = Vec::new();
    let page = listing::page(
        &query,
        PageRules {
            default_size: 5,
            min_size: 5,
            max_size: 50,
        },
    )
    .map_err(|e| {
        if let ApiError::Validation { violations: v, .. } = e {
            violations.extend(v);
        }
    })
    .ok();
    let filter = query
        .get("filter")
        .map(|f| parse_filter(f, &fields))
        .transpose()
        .map_err(|v| violations.push(v))
        .ok()
        .flatten();
    let order = parse_order_by(query.get("orderBy"), &fields, NodeField::Name)
        .map_err(|v| violations.push(v))
        .ok();
    let children = children_flag(&query, false).map_err(|e| {
        if let ApiError::Validation { violations: v, .. } = e {
            violations.extend(v);
        }
    });
    let (Some(page), Some(order), Ok(children)) = (page, order, children) else {
        return Err(ApiError::validation(violations));
    };
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }
    let mut tx = state.db.read().await?;
    let all = store::org::nodes(&mut tx, &account).await?;
    let mut selected: Vec<&Node> = all
        .iter()
        .filter(|n| match &filter {
            None => true,
            Some(f) => match f.field {
                NodeField::Name => matches(&f.matcher, &n.name),
                NodeField::AccountId => matches(&f.matcher, account.as_str()),
            },
        })
        .collect();
    selected.sort_by(|a, b| {
        let o = match order.field {
            NodeField::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            NodeField::AccountId => std::cmp::Ordering::Equal,
        }
        .then_with(|| a.node_id.cmp(&b.node_id));
        if order.descending { o.reverse() } else { o }
    });
    let total = selected.len() as i64;
    let start = (page.offset() as usize).min(selected.len());
    let end = (start + page.size as usize).min(selected.len());
    let organization_nodes =
        views(&mut tx, &account, &selected[start..end], &all, children).await?;
    let path = format!("/api/admin/account/v1/accounts/{account}/organization-nodes");
    let (pagination, links) = listing::paginate(&path, &query, page, total);
    Ok(Json(NodePage {
        pagination,
        organization_nodes,
        links,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeIdList {
    organization_node_ids: Option<Vec<Option<String>>>,
}

/// AXP `listOrganizationNodeStatuses`: each node's latest operation (ADD or UPDATE)
/// and where it stands, in the seeds' words. With no ids, every node of the account.
async fn list_node_statuses(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    body: Body,
) -> Result<Json<Value>> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let list: NodeIdList = body.json()?;
    let raw = list.organization_node_ids.unwrap_or_default();
    let mut violations = Vec::new();
    if raw.len() > 50 {
        violations.push(Violation::size("organizationNodeIds", 0, 50));
    }
    let mut ids = Vec::new();
    for (i, id) in raw.into_iter().enumerate() {
        let field = format!("organizationNodeIds[{i}]");
        match id.map(|s| AccountId::parse_field(&field, &s)) {
            None => violations.push(Violation::required(field)),
            Some(Ok(id)) => ids.push(id.to_string()),
            Some(Err(v)) => violations.push(v),
        }
    }
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }
    let mut tx = state.db.read().await?;
    if ids.is_empty() {
        let mut all = store::org::nodes(&mut tx, &account).await?;
        all.sort_by(|a, b| a.name.cmp(&b.name));
        ids = all.into_iter().map(|n| n.node_id).collect();
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in &ids {
        let (action, status, message, _) = store::org::node_status(&mut tx, &account, id)
            .await?
            .ok_or_else(|| ApiError::from(service::node_not_found(id)))?;
        out.push(json!({"action": action, "status": status, "message": message, "organizationNodeId": id}));
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfileOut {
    profile_id: String,
    profile_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    url: String,
}

fn profile_out(account: &AccountId, p: store::org::Profile) -> ProfileOut {
    ProfileOut {
        url: profile_url(account.as_str(), &p.profile_id),
        profile_id: p.profile_id,
        profile_name: p.profile_name,
        description: p.description,
    }
}

/// Extension (modelled on the user API): creates a profile, 201.
async fn create_profile(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    body: Body,
) -> Result<Response> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let body = ProfileBody::try_from(body.json::<ProfileIn>()?).map_err(ApiError::validation)?;
    let p =
        service::create_profile(&state.db, &state.clock, &account, body, &caller.author()).await?;
    Ok((StatusCode::CREATED, Json(profile_out(&account, p))).into_response())
}

/// Extension: the account's profiles, by name.
async fn list_profiles(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<Value>> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let mut tx = state.db.read().await?;
    let list: Vec<ProfileOut> = store::org::profiles(&mut tx, &account)
        .await?
        .into_iter()
        .map(|p| profile_out(&account, p))
        .collect();
    Ok(Json(json!({ "profiles": list })))
}

/// Extension: one profile.
async fn get_profile(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<ProfileOut>> {
    let (account, id) =
        resource_path(&state, &caller, &params, "profileId", IdKind::ProfileId).await?;
    let mut tx = state.db.read().await?;
    let p = store::org::profile(&mut tx, &account, &id)
        .await?
        .ok_or_else(|| ApiError::from(service::profile_not_found(&id)))?;
    Ok(Json(profile_out(&account, p)))
}

/// Extension: replaces a profile's name and description; references show the new name.
async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    body: Body,
) -> Result<Json<ProfileOut>> {
    let (account, id) =
        resource_path(&state, &caller, &params, "profileId", IdKind::ProfileId).await?;
    let mut tx = state.db.read().await?;
    if store::org::profile(&mut tx, &account, &id).await?.is_none() {
        return Err(service::profile_not_found(&id).into());
    }
    drop(tx);
    let body = ProfileBody::try_from(body.json::<ProfileIn>()?).map_err(ApiError::validation)?;
    let p = service::update_profile(
        &state.db,
        &state.clock,
        &account,
        &id,
        body,
        &caller.author(),
    )
    .await?;
    Ok(Json(profile_out(&account, p)))
}

/// Extension: deletes a profile nothing references (409 naming the referrers). 204.
async fn delete_profile(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<StatusCode> {
    let (account, id) =
        resource_path(&state, &caller, &params, "profileId", IdKind::ProfileId).await?;
    service::delete_profile(&state.db, &state.clock, &account, &id, &caller.author()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Api;
