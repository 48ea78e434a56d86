//! Organization nodes.

use crate::clock::Clock;
use crate::domain::audit::{Author, Event};
use crate::domain::feature::{Action, IN_PROGRESS_MESSAGE, Status};
use crate::domain::org::{Hierarchy, Node, NodeRequest};
use crate::domain::{AccountId, Code, Violation};
use crate::jobs::org::{self as org_jobs, NodeJob};
use crate::store::{self, Conflict, Db, StoreError, Tx};

use super::ServiceError;
use super::idempotency::{self as keys, Keyed};
use super::preconditions::{self, Precondition};
use super::profiles::resolve_profiles;
use crate::jobs::{Cause, JobKind, Provisioning};

/// 404 for a node, in the spec's words.
pub fn node_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound {
        what: "Organization Node",
        key: "organizationNodeId",
        id: id.to_owned(),
    }
}

fn node_name_taken(name: &str) -> ServiceError {
    ServiceError::Conflict {
        detail: format!("Organization Node with name:{name} already exists"),
        violations: Vec::new(),
    }
}

/// Resolves a parent path in the account's hierarchy (404 with the spec's body if no
/// node has that path).
fn parent_of(h: &Hierarchy<'_>, path: &str) -> Result<Option<String>, ServiceError> {
    h.resolve(path).map_err(|_| ServiceError::NotFound {
        what: "Organization Node",
        key: "parentPath",
        id: path.to_owned(),
    })
}

async fn account_name(tx: &mut Tx, account: &AccountId) -> Result<String, ServiceError> {
    Ok(store::accounts::get(tx, account)
        .await?
        .ok_or_else(|| ServiceError::NotFound {
            what: "Account",
            key: "AccountId",
            id: account.to_string(),
        })?
        .body
        .name)
}

/// Adds a node under its parent path; its ADD runs as a job (202).
pub async fn create_node(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    req: NodeRequest,
    p: &Provisioning,
    author: &Author,
    keyed: Option<&Keyed<'_, Node>>,
) -> Result<Node, ServiceError> {
    let now = clock.now_ms();
    let mut tx = db.write().await?;
    keys::reserve(&mut tx, keyed).await?;
    // Parents, cycles and children are checked against the hierarchy as read here:
    // no other change to it may interleave.
    store::accounts::lock(&mut tx, account).await?;
    let root = account_name(&mut tx, account).await?;
    let nodes = store::org::nodes(&mut tx, account).await?;
    let h = Hierarchy::new(&root, &nodes);
    let parent_id = parent_of(&h, req.parent_path())?;
    // The record names the parent as every answer does, whichever root form was sent.
    let parent_path = h
        .in_seed_form(req.parent_path())
        .unwrap_or_else(|| req.parent_path().to_owned());
    resolve_profiles(&mut tx, account, req.profile_ids()).await?;
    let ids: Vec<&str> = nodes.iter().map(|n| n.node_id.as_str()).collect();
    let node_id = loop {
        let id = AccountId::generate().to_string();
        if !ids.contains(&id.as_str()) {
            break id;
        }
    };
    let node = Node {
        node_id,
        name: req.name().to_owned(),
        parent_id,
        country_code: req.country_code().map(str::to_owned),
    };
    match store::org::insert_node(
        &mut tx,
        account,
        &node,
        Action::Add,
        IN_PROGRESS_MESSAGE,
        now,
    )
    .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(Conflict::NodeName)) => {
            return Err(node_name_taken(req.name()));
        }
        Err(e) => return Err(e.into()),
    }
    store::org::set_node_profiles(&mut tx, account, &node.node_id, req.profile_ids()).await?;
    let job = NodeJob {
        generation: 1,
        action: Action::Add,
        prefer: p.prefer.clone(),
    };
    org_jobs::start(
        &mut tx,
        account,
        &node.node_id,
        job,
        p.schedule(JobKind::OrgNode, now),
        now,
    )
    .await?;
    super::audit(
        &mut tx,
        account,
        Event::Created,
        author,
        "ORGANIZATION_NODE",
        node_data(&node, &parent_path, req.profile_ids()),
        now,
    )
    .await?;
    keys::complete(&mut tx, keyed, &node).await?;
    tx.commit().await?;
    Ok(node)
}

/// Replaces a node (name, parent, country, profiles): a move takes its subtree along
/// and may never put a node under itself (400). A node whose ADD failed is added
/// again; otherwise the change is an UPDATE.
// The request's parts, each its own type; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub async fn replace_node(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    id: &str,
    req: NodeRequest,
    p: &Provisioning,
    author: &Author,
    pre: Option<&dyn Precondition>,
) -> Result<Node, ServiceError> {
    let now = clock.now_ms();
    let mut tx = db.write().await?;
    preconditions::check(&mut tx, pre).await?;
    // Parents, cycles and children are checked against the hierarchy as read here:
    // no other change to it may interleave.
    store::accounts::lock(&mut tx, account).await?;
    let root = account_name(&mut tx, account).await?;
    let nodes = store::org::nodes(&mut tx, account).await?;
    let h = Hierarchy::new(&root, &nodes);
    if !nodes.iter().any(|n| n.node_id == id) {
        return Err(node_not_found(id));
    }
    let parent_id = parent_of(&h, req.parent_path())?;
    let parent_path = h
        .in_seed_form(req.parent_path())
        .unwrap_or_else(|| req.parent_path().to_owned());
    if let Some(parent) = &parent_id
        && h.is_within(parent, id)
    {
        return Err(ServiceError::Invalid(vec![Violation::new(
            "parentPath",
            Code::InvalidValue,
            "a node cannot be moved under itself or one of its descendants",
        )]));
    }
    resolve_profiles(&mut tx, account, req.profile_ids()).await?;
    let action = match store::org::node_status(&mut tx, account, id).await? {
        Some(s) if s.action == Action::Add && s.status == Status::Failed => Action::Add,
        _ => Action::Update,
    };
    let node = Node {
        node_id: id.to_owned(),
        name: req.name().to_owned(),
        parent_id,
        country_code: req.country_code().map(str::to_owned),
    };
    let generation =
        match store::org::replace_node(&mut tx, account, &node, action, IN_PROGRESS_MESSAGE, now)
            .await
        {
            Ok(Some(g)) => g,
            Ok(None) => return Err(node_not_found(id)),
            Err(StoreError::Conflict(Conflict::NodeName)) => {
                return Err(node_name_taken(req.name()));
            }
            Err(e) => return Err(e.into()),
        };
    store::org::set_node_profiles(&mut tx, account, id, req.profile_ids()).await?;
    let job = NodeJob {
        generation,
        action: action.to_owned(),
        prefer: p.prefer.clone(),
    };
    org_jobs::start(
        &mut tx,
        account,
        id,
        job,
        p.schedule(JobKind::OrgNode, now),
        now,
    )
    .await?;
    super::audit(
        &mut tx,
        account,
        Event::Updated,
        author,
        "ORGANIZATION_NODE",
        node_data(&node, &parent_path, req.profile_ids()),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(node)
}

/// Deletes a node without children (409 otherwise), cancelling its pending work.
pub async fn delete_node(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    id: &str,
    author: &Author,
    pre: Option<&dyn Precondition>,
) -> Result<(), ServiceError> {
    let now = clock.now_ms();
    let mut tx = db.write().await?;
    preconditions::check(&mut tx, pre).await?;
    // Parents, cycles and children are checked against the hierarchy as read here:
    // no other change to it may interleave.
    store::accounts::lock(&mut tx, account).await?;
    if store::org::node_status(&mut tx, account, id)
        .await?
        .is_none()
    {
        return Err(node_not_found(id));
    }
    if store::org::has_children(&mut tx, account, id).await? {
        return Err(ServiceError::Conflict {
            detail: format!(
                "Organization Node {id} still has children; move or delete them first."
            ),
            violations: Vec::new(),
        });
    }
    store::org::delete_node(&mut tx, account, id).await?;
    store::jobs::cancel_for(&mut tx, account, id, now).await?;
    org_jobs::journal(
        &mut tx,
        account,
        id,
        Status::Deleted,
        "Deleted",
        Cause::Request,
        now,
    )
    .await?;
    let data = serde_json::json!({"organizationNodeId": id});
    super::audit(
        &mut tx,
        account,
        Event::Deleted,
        author,
        "ORGANIZATION_NODE",
        data,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A node's state for its audit record.
fn node_data(node: &Node, parent_path: &str, profile_ids: &[String]) -> serde_json::Value {
    serde_json::json!({
        "organizationNodeId": node.node_id,
        "name": node.name,
        "parentPath": parent_path,
        "countryCode": node.country_code,
        "profiles": profile_ids,
    })
}
