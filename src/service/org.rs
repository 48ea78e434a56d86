//! Profiles and organization nodes.

use crate::clock::Clock;
use crate::domain::account::ProfileRef;
use crate::domain::audit::{Author, Event};
use crate::domain::feature::IN_PROGRESS_MESSAGE;
use crate::domain::org::{Hierarchy, Node, NodeRequest, ProfileBody, profile_url};
use crate::domain::{AccountId, Code, Violation};
use crate::jobs::org::{self as org_jobs, NodeJob};
use crate::store::org::{
    NODE_NAME_CONFLICT, NODE_NAME_CONFLICT_PG, PROFILE_NAME_CONFLICT, Profile,
};
use crate::store::{self, Db, Tx};

use super::ServiceError;
use super::accounts::Provisioning;

/// The terminal statuses a `Prefer: outcome=` may name for node work.
pub const OUTCOMES: [&str; 2] = ["COMPLETED", "FAILED"];

/// 404 for a node, in the spec's words.
pub fn node_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound {
        what: "Organization Node",
        key: "organizationNodeId",
        id: id.to_owned(),
    }
}

/// 404 for a profile.
pub fn profile_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound {
        what: "Profile",
        key: "profileId",
        id: id.to_owned(),
    }
}

/// Resolves profile references against the account: each must exist (400 on
/// `profiles[i].profileId` otherwise); `name` and `url` are filled from the profile.
pub async fn resolve_profiles(
    tx: &mut Tx,
    account: &AccountId,
    ids: &[String],
) -> Result<Vec<ProfileRef>, ServiceError> {
    let known = store::org::profiles(tx, account).await?;
    let mut violations = Vec::new();
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        match known.iter().find(|p| &p.profile_id == id) {
            Some(p) => out.push(reference(account, p)),
            None => violations.push(Violation::new(
                format!("profiles[{i}].profileId"),
                Code::InvalidValue,
                format!("no profile {id} in account {account}"),
            )),
        }
    }
    if violations.is_empty() {
        Ok(out)
    } else {
        Err(ServiceError::Invalid(violations))
    }
}

/// A profile reference as shown: the id, the url in the user API, the current name.
pub fn reference(account: &AccountId, p: &Profile) -> ProfileRef {
    ProfileRef {
        profile_id: p.profile_id.clone(),
        url: Some(profile_url(account.as_str(), &p.profile_id)),
        name: Some(p.profile_name.clone()),
    }
}

fn profile_name_taken(name: &str) -> ServiceError {
    ServiceError::Conflict {
        detail: format!("Profile with profileName:{name} already exists"),
        violations: vec![Violation::new(
            "profileName",
            Code::Duplicate,
            "must be unique within the account",
        )],
    }
}

/// Creates a profile with a generated 6-letter id.
pub async fn create_profile(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    body: ProfileBody,
    author: &Author,
) -> Result<Profile, ServiceError> {
    for _ in 0..8 {
        let id = AccountId::generate().to_string();
        let mut tx = db.write().await?;
        match store::org::insert_profile(&mut tx, account, &id, &body, clock.now_ms(), false).await
        {
            Ok(()) => {
                let data = serde_json::json!({"profileId": id, "profileName": body.profile_name, "description": body.description});
                super::audit(
                    &mut tx,
                    account,
                    Event::Created,
                    author,
                    "PROFILE",
                    data,
                    clock.now_ms(),
                )
                .await?;
                tx.commit().await?;
                return Ok(Profile {
                    profile_id: id,
                    profile_name: body.profile_name,
                    description: body.description,
                });
            }
            Err(e) if e.is_conflict_on(PROFILE_NAME_CONFLICT) => {
                return Err(profile_name_taken(&body.profile_name));
            }
            Err(e) if e.is_conflict_on("pkey") || e.is_conflict_on("profile.profile_id") => {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(anyhow::anyhow!("could not find a free profile id").into())
}

/// Replaces a profile's fields; references show the new name at once.
pub async fn update_profile(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    id: &str,
    body: ProfileBody,
    author: &Author,
) -> Result<Profile, ServiceError> {
    let mut tx = db.write().await?;
    match store::org::update_profile(&mut tx, account, id, &body, clock.now_ms()).await {
        Ok(true) => {}
        Ok(false) => return Err(profile_not_found(id)),
        Err(e) if e.is_conflict_on(PROFILE_NAME_CONFLICT) => {
            return Err(profile_name_taken(&body.profile_name));
        }
        Err(e) => return Err(e.into()),
    }
    let data = serde_json::json!({"profileId": id, "profileName": body.profile_name, "description": body.description});
    super::audit(
        &mut tx,
        account,
        Event::Updated,
        author,
        "PROFILE",
        data,
        clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(Profile {
        profile_id: id.to_owned(),
        profile_name: body.profile_name,
        description: body.description,
    })
}

/// Deletes a profile nothing references (409 naming the referrers otherwise).
pub async fn delete_profile(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    id: &str,
    author: &Author,
) -> Result<(), ServiceError> {
    let mut tx = db.write().await?;
    if store::org::profile(&mut tx, account, id).await?.is_none() {
        return Err(profile_not_found(id));
    }
    let (by_account, nodes) = store::org::profile_referrers(&mut tx, account, id).await?;
    if by_account || !nodes.is_empty() {
        let mut referrers = Vec::new();
        if by_account {
            referrers.push(format!("account {account}"));
        }
        if !nodes.is_empty() {
            referrers.push(format!("organization nodes {}", nodes.join(", ")));
        }
        return Err(ServiceError::Conflict {
            detail: format!("Profile {id} is referenced by {}.", referrers.join(" and ")),
            violations: Vec::new(),
        });
    }
    store::org::delete_profile(&mut tx, account, id).await?;
    let data = serde_json::json!({"profileId": id});
    super::audit(
        &mut tx,
        account,
        Event::Deleted,
        author,
        "PROFILE",
        data,
        clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
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
) -> Result<Node, ServiceError> {
    let now = clock.now_ms();
    let mut tx = db.write().await?;
    // Parents, cycles and children are checked against the hierarchy as read here:
    // no other change to it may interleave.
    store::accounts::lock(&mut tx, account).await?;
    let root = account_name(&mut tx, account).await?;
    let nodes = store::org::nodes(&mut tx, account).await?;
    let parent_id = parent_of(&Hierarchy::new(&root, &nodes), &req.parent_path)?;
    resolve_profiles(&mut tx, account, &req.profile_ids).await?;
    let ids: Vec<&str> = nodes.iter().map(|n| n.node_id.as_str()).collect();
    let node_id = loop {
        let id = AccountId::generate().to_string();
        if !ids.contains(&id.as_str()) {
            break id;
        }
    };
    let node = Node {
        node_id,
        name: req.name.clone(),
        parent_id,
        country_code: req.country_code,
    };
    match store::org::insert_node(&mut tx, account, &node, "ADD", IN_PROGRESS_MESSAGE, now).await {
        Ok(()) => {}
        Err(e)
            if e.is_conflict_on(NODE_NAME_CONFLICT) || e.is_conflict_on(NODE_NAME_CONFLICT_PG) =>
        {
            return Err(node_name_taken(&req.name));
        }
        Err(e) => return Err(e.into()),
    }
    store::org::set_node_profiles(&mut tx, account, &node.node_id, &req.profile_ids).await?;
    let job = NodeJob {
        generation: 1,
        action: "ADD".to_owned(),
        prefer: p.prefer.clone(),
    };
    org_jobs::start(
        &mut tx,
        account,
        &node.node_id,
        job,
        p.schedule(org_jobs::NODE, now),
        now,
    )
    .await?;
    super::audit(
        &mut tx,
        account,
        Event::Created,
        author,
        "ORGANIZATION_NODE",
        node_data(&node, &req.parent_path, &req.profile_ids),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(node)
}

/// Replaces a node (name, parent, country, profiles): a move takes its subtree along
/// and may never put a node under itself (400). A node whose ADD failed is added
/// again; otherwise the change is an UPDATE.
pub async fn replace_node(
    db: &Db,
    clock: &Clock,
    account: &AccountId,
    id: &str,
    req: NodeRequest,
    p: &Provisioning,
    author: &Author,
) -> Result<Node, ServiceError> {
    let now = clock.now_ms();
    let mut tx = db.write().await?;
    // Parents, cycles and children are checked against the hierarchy as read here:
    // no other change to it may interleave.
    store::accounts::lock(&mut tx, account).await?;
    let root = account_name(&mut tx, account).await?;
    let nodes = store::org::nodes(&mut tx, account).await?;
    let h = Hierarchy::new(&root, &nodes);
    if !nodes.iter().any(|n| n.node_id == id) {
        return Err(node_not_found(id));
    }
    let parent_id = parent_of(&h, &req.parent_path)?;
    if let Some(parent) = &parent_id
        && h.is_within(parent, id)
    {
        return Err(ServiceError::Invalid(vec![Violation::new(
            "parentPath",
            Code::InvalidValue,
            "a node cannot be moved under itself or one of its descendants",
        )]));
    }
    resolve_profiles(&mut tx, account, &req.profile_ids).await?;
    let action = match store::org::node_status(&mut tx, account, id).await? {
        Some((a, s, _, _)) if a == "ADD" && s == "FAILED" => "ADD",
        _ => "UPDATE",
    };
    let node = Node {
        node_id: id.to_owned(),
        name: req.name.clone(),
        parent_id,
        country_code: req.country_code,
    };
    let generation =
        match store::org::replace_node(&mut tx, account, &node, action, IN_PROGRESS_MESSAGE, now)
            .await
        {
            Ok(Some(g)) => g,
            Ok(None) => return Err(node_not_found(id)),
            Err(e)
                if e.is_conflict_on(NODE_NAME_CONFLICT)
                    || e.is_conflict_on(NODE_NAME_CONFLICT_PG) =>
            {
                return Err(node_name_taken(&req.name));
            }
            Err(e) => return Err(e.into()),
        };
    store::org::set_node_profiles(&mut tx, account, id, &req.profile_ids).await?;
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
        p.schedule(org_jobs::NODE, now),
        now,
    )
    .await?;
    super::audit(
        &mut tx,
        account,
        Event::Updated,
        author,
        "ORGANIZATION_NODE",
        node_data(&node, &req.parent_path, &req.profile_ids),
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
) -> Result<(), ServiceError> {
    let now = clock.now_ms();
    let mut tx = db.write().await?;
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
    org_jobs::journal(&mut tx, account, id, "DELETED", "Deleted", "request", now).await?;
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
