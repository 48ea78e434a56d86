//! Organization nodes (`/api/admin/account/v1/accounts/{accountId}/organization-nodes`)
//! and the profile extension (`/api/admin/user/v1/accounts/{accountId}/profiles`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Problem, Result};
use super::extract::{Body, PathParams, PreferHeader, QueryParams};
use super::idempotency::{self as keys, JsonAnswer, KeyHeader, json_answer};
use super::listing::{self, Links, Pagination};
use super::preconditions::{Conditions, Current, IfMatchParam, IfNoneMatchParam, tagged};
use super::reach::{IdKind, account_in_reach, resource_path, resource_path_read};
use super::schemas::{NodeAction, NodeIdItem, NodeOrderBy, NodeStatus};
use crate::domain::feature::{action_str, status_str};
use crate::domain::listing::{Match, PageRules, parse_filter, parse_order_by};
use crate::domain::org::{
    Hierarchy, NODE_TYPE, Node, NodeIn, NodeOut, NodeRequest, ProfileBody, ProfileIn, profile_url,
};
use crate::domain::{AccountId, Code, Violation};
use crate::jobs::JobKind;
use crate::service::ServiceError;
use crate::service::idempotency::Render;
use crate::service::org as service;
use crate::service::profiles;
use crate::store::locks::Resource;
use crate::store::{self, Tx};
use futures_util::future::BoxFuture;
use serde_json::Value;

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
            .map(|p| profiles::reference(account, p))
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
    one_view_in(&mut tx, account, id, children)
        .await?
        .ok_or_else(|| ApiError::from(service::node_not_found(id)))
}

/// A node as the API shows it, read through `tx`; `None` if there is no such node.
async fn one_view_in(
    tx: &mut Tx,
    account: &AccountId,
    id: &str,
    children: bool,
) -> Result<Option<NodeOut>> {
    let all = store::org::nodes(tx, account).await?;
    let Some(node) = all.iter().find(|n| n.node_id == id) else {
        return Ok(None);
    };
    Ok(views(tx, account, &[node], &all, children).await?.pop())
}

/// A node as a GET shows it by default (with `children`), read in a write's
/// transaction (`If-Match`).
struct NodeNow<'a> {
    account: &'a AccountId,
    id: &'a str,
}

impl Current for NodeNow<'_> {
    fn read<'t>(
        &'t self,
        tx: &'t mut Tx,
    ) -> BoxFuture<'t, std::result::Result<Option<Value>, ServiceError>> {
        Box::pin(async move {
            let view = one_view_in(tx, self.account, self.id, true)
                .await
                .map_err(keys::service_error)?;
            Ok(match view {
                None => None,
                Some(v) => Some(serde_json::to_value(v).map_err(anyhow::Error::from)?),
            })
        })
    }
}

/// A new node's 202 (without `children`), rendered in its write's transaction.
struct NodeCreated<'a> {
    account: &'a AccountId,
}

impl Render<Node> for NodeCreated<'_> {
    fn render<'t>(
        &'t self,
        tx: &'t mut Tx,
        node: &'t Node,
    ) -> BoxFuture<'t, std::result::Result<crate::domain::idempotency::StoredAnswer, ServiceError>>
    {
        Box::pin(async move {
            let view = one_view_in(tx, self.account, &node.node_id, false).await;
            json_answer(
                StatusCode::ACCEPTED,
                view.and_then(|v| {
                    let mut v =
                        v.ok_or_else(|| ApiError::from(service::node_not_found(&node.node_id)))?;
                    v.children = None;
                    serde_json::to_value(v).map_err(ApiError::internal)
                }),
            )
        })
    }
}

/// A profile as a GET shows it, read in a write's transaction (`If-Match`).
struct ProfileNow<'a> {
    account: &'a AccountId,
    id: &'a str,
}

impl Current for ProfileNow<'_> {
    fn read<'t>(
        &'t self,
        tx: &'t mut Tx,
    ) -> BoxFuture<'t, std::result::Result<Option<Value>, ServiceError>> {
        Box::pin(async move {
            Ok(
                match store::org::profile(tx, self.account, self.id).await? {
                    None => None,
                    Some(p) => Some(
                        serde_json::to_value(profile_out(self.account, p))
                            .map_err(anyhow::Error::from)?,
                    ),
                },
            )
        })
    }
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

/// The tag of the node operations (the account spec's).
const NODES: &str = "Organization Structure";
/// The tag of the profile extension.
const PROFILES: &str = "Profiles";
/// The 409 of a node create or replace.
const NODE_NAME_TAKEN: &str = "Another node of the account has this name (ignoring case)";
/// The 409 of a profile create or replace.
const PROFILE_NAME_TAKEN: &str =
    "Another profile of the account has this name (ignoring case); a violation names `profileName`";

/// Create an organization node.
///
/// AXP `createOrganizationNode`: the node exists at once; its provisioning (the `ADD`)
/// runs afterwards, and `:listStatuses` follows it.
#[utoipa::path(post, path = "/api/admin/account/v1/accounts/{accountId}/organization-nodes",
    operation_id = "createOrganizationNode", params(PreferHeader, KeyHeader), tag = NODES, request_body = NodeIn,
    responses(
        (status = 202, description = "Accepted: the node, without `children`", body = NodeOut),
        (status = 404, description = "No such account, or no node has the `parentPath`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = NODE_NAME_TAKEN, body = Problem, content_type = "application/problem+json")))]
async fn create_node(
    State(state): State<AppState>,
    caller: Caller,
    key: KeyHeader,
    params: PathParams,
    prefer: PreferHeader,
    body: Body,
) -> Result<Response> {
    let started = keys::begin(
        &state,
        &caller,
        &key,
        "createOrganizationNode",
        body.bytes(),
    )
    .await?;
    let account = account_in_reach(&state, &caller, &params).await?;
    let req = NodeRequest::try_from(body.json::<NodeIn>()?).map_err(ApiError::validation)?;
    let p = state.provisioning(&prefer, JobKind::OrgNode).await?;
    let render = NodeCreated { account: &account };
    let result = service::create_node(
        &state.db,
        &state.clock,
        &account,
        req,
        &p,
        &caller.author(),
        started.keyed(&render).as_ref(),
    )
    .await;
    let node = started.settle(&state, result).await?;
    state.jobs.wake();
    if let Some(sent) = started.sent() {
        return Ok(sent);
    }
    let mut view = one_view(&state, &account, &node.node_id, false).await?;
    view.children = None;
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

/// Get an organization node.
///
/// AXP `getOrganizationNode`: with `children` (the complete hierarchy below it), as
/// the seed shows, unless `children=false`.
#[utoipa::path(get, path = "/api/admin/account/v1/accounts/{accountId}/organization-nodes/{organizationNodeId}",
    operation_id = "getOrganizationNode", tag = NODES,
    params(("children" = Option<bool>, Query, description = "`false` leaves `children` out; `true` (the default here) shows them. Only `true` or `false`."), IfNoneMatchParam),
    responses((status = 200, description = "The node", body = NodeOut,
        headers(("ETag" = String, description = "Extension: the entity tag of this representation (with or without `children`)"))),
        (status = 304, description = "Extension: `If-None-Match` names the current `ETag`")))]
async fn get_node(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    query: QueryParams,
    conditions: Conditions,
) -> Result<Response> {
    let (account, id) = resource_path(
        &state,
        &caller,
        &params,
        "organizationNodeId",
        IdKind::SixLetters,
    )
    .await?;
    let children = children_flag(&query, true)?;
    conditions.read(&one_view(&state, &account, &id, children).await?)
}

/// Replace an organization node.
///
/// AXP `updateOrganizationNode`: a complete replacement (an omitted `countryCode` or
/// `profiles` is removed); a new `name` or `parentPath` renames or moves the node with
/// its subtree. Starts an `UPDATE` (or the `ADD` again after a failed one) that
/// `:listStatuses` follows.
#[utoipa::path(put, path = "/api/admin/account/v1/accounts/{accountId}/organization-nodes/{organizationNodeId}",
    operation_id = "updateOrganizationNode", params(PreferHeader, IfMatchParam), tag = NODES, request_body = NodeIn,
    responses(
        (status = 200, description = "The node as a GET shows it, with `children`", body = NodeOut,
            headers(("ETag" = String, description = "Extension: the node's new entity tag"))),
        (status = 412, description = "Extension: `If-Match` no longer names the node's `ETag` (of its default GET, with `children`); nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or node, or no node has the `parentPath`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = NODE_NAME_TAKEN, body = Problem, content_type = "application/problem+json")))]
async fn update_node(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
    prefer: PreferHeader,
    body: Body,
) -> Result<Response> {
    let (account, id) = resource_path(
        &state,
        &caller,
        &params,
        "organizationNodeId",
        IdKind::SixLetters,
    )
    .await?;
    let current = one_view(&state, &account, &id, true).await?;
    conditions.check(&current)?;
    let req = NodeRequest::try_from(body.json::<NodeIn>()?).map_err(ApiError::validation)?;
    let p = state.provisioning(&prefer, JobKind::OrgNode).await?;
    let pre = conditions.in_write(
        &account,
        Resource::Node(&id),
        NodeNow {
            account: &account,
            id: &id,
        },
    );
    service::replace_node(
        &state.db,
        &state.clock,
        &account,
        &id,
        req,
        &p,
        &caller.author(),
        pre.as_ref().map(|p| p as _),
    )
    .await?;
    state.jobs.wake();
    tagged(
        StatusCode::OK,
        &one_view(&state, &account, &id, true).await?,
    )
}

/// Delete an organization node (extension).
///
/// Deletes a node that has no children; its unfinished provisioning is cancelled.
#[utoipa::path(delete, path = "/api/admin/account/v1/accounts/{accountId}/organization-nodes/{organizationNodeId}",
    operation_id = "deleteOrganizationNode", tag = NODES, params(IfMatchParam),
    responses(
        (status = 204, description = "Deleted; GET and `:listStatuses` are 404 from now on"),
        (status = 412, description = "Extension: `If-Match` no longer names the node's `ETag`; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The node has children: move or delete them first", body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn delete_node(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
) -> Result<StatusCode> {
    let (account, id) = resource_path(
        &state,
        &caller,
        &params,
        "organizationNodeId",
        IdKind::SixLetters,
    )
    .await?;
    let pre = conditions.in_write(
        &account,
        Resource::Node(&id),
        NodeNow {
            account: &account,
            id: &id,
        },
    );
    if pre.is_some() {
        conditions.check(&one_view(&state, &account, &id, true).await?)?;
    }
    service::delete_node(
        &state.db,
        &state.clock,
        &account,
        &id,
        &caller.author(),
        pre.as_ref().map(|p| p as _),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of organization nodes.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OrganizationNodePage)]
struct NodePage {
    pagination: Pagination,
    organization_nodes: Vec<NodeOut>,
    /// `""` when there is no such page.
    #[schema(example = json!({"prev": "", "next": "/api/admin/account/v1/accounts/AQWSDE/organization-nodes?pageNumber=2&pageSize=5"}))]
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

/// List organization nodes.
///
/// AXP `listOrganizationNodes`: pages (5 to 50), `filter` and `orderBy` on name and
/// accountId as the accounts list, `children=true` for each node's hierarchy.
/// Violations of several parameters are reported together; a page past the end has no
/// nodes.
#[utoipa::path(get, path = "/api/admin/account/v1/accounts/{accountId}/organization-nodes",
    operation_id = "listOrganizationNodes", tag = NODES,
    params(
        ("pageNumber" = Option<u32>, Query, description = "The page to answer (default 1).", minimum = 1, maximum = 1_000_000),
        ("pageSize" = Option<u32>, Query, description = "Nodes per page (default 5); out of range is 400, never clamped.", minimum = 5, maximum = 50),
        ("filter" = Option<String>, Query, max_length = 255, example = "name:Pune*",
            description = "`name` or `accountId`: `field:v` the whole value ignoring case, `field:v*` prefix, `field:*v` suffix, `field:*v*` contains (ignoring case), `field=v` exact and case-sensitive. `accountId` compares the account's own id, so it keeps all nodes or none."),
        ("orderBy" = Option<NodeOrderBy>, Query, description = "The sort (default `name`, ignoring case); ties by `organizationNodeId`."),
        ("children" = Option<bool>, Query, description = "`true` adds each node's `children` (default `false`). Only `true` or `false`.")),
    responses((status = 200, description = "A page of nodes", body = NodePage)))]
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OrganizationNodeIdList)]
struct NodeIdList {
    /// The nodes, answered in this order; none (or an empty list) means every node of
    /// the account.
    #[schema(nullable = false, max_items = 50, value_type = Option<Vec<NodeIdItem>>, example = json!(["ACDSFE"]))]
    organization_node_ids: Option<Vec<Option<String>>>,
}

/// A node's latest operation.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OrganizationNodeStatusResponse)]
struct NodeStatusOut {
    #[schema(value_type = NodeAction)]
    action: String,
    #[schema(value_type = NodeStatus)]
    status: String,
    #[schema(example = "Completed successfully")]
    message: String,
    #[schema(min_length = 6, max_length = 6, example = "ACDSFE")]
    organization_node_id: String,
}

/// List organization node statuses.
///
/// AXP `listOrganizationNodeStatuses`: each node's latest operation (`ADD` or
/// `UPDATE`) and where it stands, in the seeds' words (`Operation is in progress`,
/// `Completed successfully`, `Operation failed`). With no ids, every node of the
/// account, by name. The body must be a JSON object.
#[utoipa::path(post, path = "/api/admin/account/v1/accounts/{accountId}/organization-nodes:listStatuses",
    operation_id = "listOrganizationNodeStatuses", tag = NODES, request_body = NodeIdList,
    responses(
        (status = 200, description = "The statuses, in the order asked", body = Vec<NodeStatusOut>),
        (status = 404, description = "No such account, or no such node", body = Problem, content_type = "application/problem+json")))]
async fn list_node_statuses(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    body: Body,
) -> Result<Json<Vec<NodeStatusOut>>> {
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
        let s = store::org::node_status(&mut tx, &account, id)
            .await?
            .ok_or_else(|| ApiError::from(service::node_not_found(id)))?;
        out.push(NodeStatusOut {
            action: action_str(s.action).to_owned(),
            status: status_str(s.status).to_owned(),
            message: s.message,
            organization_node_id: id.clone(),
        });
    }
    Ok(Json(out))
}

/// A user profile (extension).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UserProfile)]
struct ProfileOut {
    /// Generated: six upper-case letters (the demo's `N3ZW63` has digits).
    #[schema(
        min_length = 6,
        max_length = 6,
        pattern = r"^[a-zA-Z0-9\-\_\.\ ]+$",
        example = "KQWMZT"
    )]
    profile_id: String,
    #[schema(min_length = 1, max_length = 255, example = "Sales Agents")]
    profile_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 1024, example = "Agents of sales")]
    description: Option<String>,
    #[schema(example = "/api/admin/user/v1/accounts/AQWSDE/profiles/KQWMZT")]
    url: String,
}

/// The profiles of an account, by name (ignoring case); no pages.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = UserProfileList)]
struct ProfileList {
    profiles: Vec<ProfileOut>,
}

fn profile_out(account: &AccountId, p: store::org::Profile) -> ProfileOut {
    ProfileOut {
        url: profile_url(account.as_str(), &p.profile_id),
        profile_id: p.profile_id,
        profile_name: p.profile_name,
        description: p.description,
    }
}

/// Create a profile (extension).
///
/// Modelled on AXP's user API, which the account spec's profile references point at.
#[utoipa::path(post, path = "/api/admin/user/v1/accounts/{accountId}/profiles",
    operation_id = "createProfile", tag = PROFILES, request_body = ProfileIn, params(KeyHeader),
    responses(
        (status = 201, description = "Created", body = ProfileOut),
        (status = 409, description = PROFILE_NAME_TAKEN, body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn create_profile(
    State(state): State<AppState>,
    caller: Caller,
    key: KeyHeader,
    params: PathParams,
    body: Body,
) -> Result<Response> {
    let started = keys::begin(&state, &caller, &key, "createProfile", body.bytes()).await?;
    let account = account_in_reach(&state, &caller, &params).await?;
    let body = ProfileBody::try_from(body.json::<ProfileIn>()?).map_err(ApiError::validation)?;
    let render = JsonAnswer {
        status: StatusCode::CREATED,
        body: |p: &store::org::Profile| {
            serde_json::to_value(profile_out(&account, p.clone())).map_err(ApiError::internal)
        },
    };
    let result = profiles::create_profile(
        &state.db,
        &state.clock,
        &account,
        body,
        &caller.author(),
        started.keyed(&render).as_ref(),
    )
    .await;
    let p = started.settle(&state, result).await?;
    if let Some(sent) = started.sent() {
        return Ok(sent);
    }
    Ok((StatusCode::CREATED, Json(profile_out(&account, p))).into_response())
}

/// List profiles (extension).
///
/// Every profile of the account, by name ignoring case; no pages.
#[utoipa::path(get, path = "/api/admin/user/v1/accounts/{accountId}/profiles",
    operation_id = "listProfiles", tag = PROFILES,
    responses((status = 200, description = "The account's profiles", body = ProfileList)),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn list_profiles(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
) -> Result<Json<ProfileList>> {
    let account = account_in_reach(&state, &caller, &params).await?;
    let mut tx = state.db.read().await?;
    let list: Vec<ProfileOut> = store::org::profiles(&mut tx, &account)
        .await?
        .into_iter()
        .map(|p| profile_out(&account, p))
        .collect();
    Ok(Json(ProfileList { profiles: list }))
}

/// Get a profile (extension).
#[utoipa::path(get, path = "/api/admin/user/v1/accounts/{accountId}/profiles/{profileId}",
    operation_id = "getProfile", tag = PROFILES, params(IfNoneMatchParam),
    responses((status = 200, description = "The profile", body = ProfileOut,
        headers(("ETag" = String, description = "Extension: the profile's entity tag"))),
        (status = 304, description = "Extension: `If-None-Match` names the current `ETag`")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn get_profile(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
) -> Result<Response> {
    let (account, id, mut tx) =
        resource_path_read(&state, &caller, &params, "profileId", IdKind::ProfileId).await?;
    let p = store::org::profile(&mut tx, &account, &id)
        .await?
        .ok_or_else(|| ApiError::from(profiles::profile_not_found(&id)))?;
    conditions.read(&profile_out(&account, p))
}

/// Replace a profile (extension).
///
/// A complete replacement of the name and description (an omitted `description` is
/// removed); references show the new name.
#[utoipa::path(put, path = "/api/admin/user/v1/accounts/{accountId}/profiles/{profileId}",
    operation_id = "updateProfile", tag = PROFILES, request_body = ProfileIn, params(IfMatchParam),
    responses(
        (status = 200, description = "The profile", body = ProfileOut,
            headers(("ETag" = String, description = "Extension: the profile's new entity tag"))),
        (status = 412, description = "Extension: `If-Match` no longer names the profile's `ETag`; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = PROFILE_NAME_TAKEN, body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
    body: Body,
) -> Result<Response> {
    let (account, id, mut tx) =
        resource_path_read(&state, &caller, &params, "profileId", IdKind::ProfileId).await?;
    let Some(current) = store::org::profile(&mut tx, &account, &id).await? else {
        return Err(profiles::profile_not_found(&id).into());
    };
    drop(tx);
    conditions.check(&profile_out(&account, current))?;
    let body = ProfileBody::try_from(body.json::<ProfileIn>()?).map_err(ApiError::validation)?;
    let pre = conditions.in_write(
        &account,
        Resource::Profile(&id),
        ProfileNow {
            account: &account,
            id: &id,
        },
    );
    let p = profiles::update_profile(
        &state.db,
        &state.clock,
        &account,
        &id,
        body,
        &caller.author(),
        pre.as_ref().map(|p| p as _),
    )
    .await?;
    tagged(StatusCode::OK, &profile_out(&account, p))
}

/// Delete a profile (extension).
///
/// Deletes a profile that neither the account nor any of its nodes references.
#[utoipa::path(delete, path = "/api/admin/user/v1/accounts/{accountId}/profiles/{profileId}",
    operation_id = "deleteProfile", tag = PROFILES, params(IfMatchParam),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "Extension: `If-Match` no longer names the profile's `ETag`; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account or some of its nodes reference the profile; the detail names them", body = Problem, content_type = "application/problem+json")),
    extensions(("x-ccadmin-extension" = json!(true))))]
async fn delete_profile(
    State(state): State<AppState>,
    caller: Caller,
    params: PathParams,
    conditions: Conditions,
) -> Result<StatusCode> {
    let (account, id, mut tx) =
        resource_path_read(&state, &caller, &params, "profileId", IdKind::ProfileId).await?;
    let pre = conditions.in_write(
        &account,
        Resource::Profile(&id),
        ProfileNow {
            account: &account,
            id: &id,
        },
    );
    if pre.is_some() {
        let Some(current) = store::org::profile(&mut tx, &account, &id).await? else {
            return Err(profiles::profile_not_found(&id).into());
        };
        conditions.check(&profile_out(&account, current))?;
    }
    drop(tx);
    profiles::delete_profile(
        &state.db,
        &state.clock,
        &account,
        &id,
        &caller.author(),
        pre.as_ref().map(|p| p as _),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_nodes,
        create_node,
        get_node,
        update_node,
        delete_node,
        list_node_statuses,
        list_profiles,
        create_profile,
        get_profile,
        update_profile,
        delete_profile
    ),
    components(schemas(NodeOrderBy)),
    tags(
        (name = "Organization Structure", description = "APIs to manage a customer's organization structure: a tree of named nodes under the account (docs/organization.md)."),
        (name = "Profiles", description = "User profiles that accounts and organization nodes reference by id: a ccadmin extension at the user API's address (docs/organization.md).")
    )
)]
pub struct Api;
