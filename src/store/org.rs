//! Profiles and organization nodes.

use sqlx::FromRow;

use super::{Result, Tx, on_conn, parse_enum};
use crate::domain::AccountId;
use crate::domain::feature::{Action, Status, action_str, status_str};
use crate::domain::org::{Node, ProfileBody};

/// A stored profile.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Profile {
    pub profile_id: String,
    pub profile_name: String,
    pub description: Option<String>,
}

/// Inserts a profile; with `if_absent`, an existing profile id is left as it is
/// (seeding, idempotent).
pub async fn insert_profile(
    tx: &mut Tx,
    account: &AccountId,
    id: &str,
    p: &ProfileBody,
    now: i64,
    if_absent: bool,
) -> Result<()> {
    let sql = format!(
        "insert into profile (account_id, profile_id, profile_name, profile_key, description, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $6){}",
        if if_absent { " on conflict do nothing" } else { "" }
    );
    on_conn!(tx, |c| {
        sqlx::query(&sql)
            .bind(account.as_str())
            .bind(id)
            .bind(p.profile_name())
            .bind(p.profile_name().to_lowercase())
            .bind(p.description())
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Replaces a profile's fields; false if there is none. Accounts' denormalised
/// profile names follow.
pub async fn update_profile(
    tx: &mut Tx,
    account: &AccountId,
    id: &str,
    p: &ProfileBody,
    now: i64,
) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        let n = sqlx::query(
            "update profile set profile_name = $3, profile_key = $4, description = $5, updated_at = $6
             where account_id = $1 and profile_id = $2",
        )
        .bind(account.as_str())
        .bind(id)
        .bind(p.profile_name())
        .bind(p.profile_name().to_lowercase())
        .bind(p.description())
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected();
        sqlx::query(
            "update account_profile set profile_key = $3 where account_id = $1 and profile_id = $2",
        )
        .bind(account.as_str())
        .bind(id)
        .bind(p.profile_name().to_lowercase())
        .execute(&mut *c)
        .await?;
        Ok::<_, sqlx::Error>(n)
    })?;
    Ok(n == 1)
}

/// A profile of the account.
pub async fn profile(tx: &mut Tx, account: &AccountId, id: &str) -> Result<Option<Profile>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_as("select profile_id, profile_name, description from profile where account_id = $1 and profile_id = $2")
            .bind(account.as_str())
            .bind(id)
            .fetch_optional(&mut *c)
            .await
    })?)
}

/// Every profile of the account, by name.
pub async fn profiles(tx: &mut Tx, account: &AccountId) -> Result<Vec<Profile>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_as(
            "select profile_id, profile_name, description from profile where account_id = $1 order by profile_key, profile_id",
        )
        .bind(account.as_str())
        .fetch_all(&mut *c)
        .await
    })?)
}

/// Who references a profile: the account itself and nodes (their ids).
pub async fn profile_referrers(
    tx: &mut Tx,
    account: &AccountId,
    id: &str,
) -> Result<(bool, Vec<String>)> {
    let (by_account, nodes): (i64, Vec<String>) = on_conn!(tx, |c| {
        let by_account = sqlx::query_scalar(
            "select count(*) from account_profile where account_id = $1 and profile_id = $2",
        )
        .bind(account.as_str())
        .bind(id)
        .fetch_one(&mut *c)
        .await?;
        let nodes = sqlx::query_scalar(
            "select node_id from org_node_profile where account_id = $1 and profile_id = $2 order by node_id",
        )
        .bind(account.as_str())
        .bind(id)
        .fetch_all(&mut *c)
        .await?;
        Ok::<_, sqlx::Error>((by_account, nodes))
    })?;
    Ok((by_account > 0, nodes))
}

/// Deletes a profile; false if there was none.
pub async fn delete_profile(tx: &mut Tx, account: &AccountId, id: &str) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query("delete from profile where account_id = $1 and profile_id = $2")
            .bind(account.as_str())
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

#[derive(FromRow)]
struct NodeRow {
    node_id: String,
    name: String,
    parent_id: Option<String>,
    country_code: Option<String>,
}

/// Every node of the account (the hierarchy is derived from them).
pub async fn nodes(tx: &mut Tx, account: &AccountId) -> Result<Vec<Node>> {
    let rows: Vec<NodeRow> = on_conn!(tx, |c| {
        sqlx::query_as(
            "select node_id, name, parent_id, country_code from org_node where account_id = $1",
        )
        .bind(account.as_str())
        .fetch_all(&mut *c)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| Node {
            node_id: r.node_id,
            name: r.name,
            parent_id: r.parent_id,
            country_code: r.country_code,
        })
        .collect())
}

/// A node's latest operation: (action, status, message, generation).
pub async fn node_status(tx: &mut Tx, account: &AccountId, id: &str) -> Result<Option<NodeState>> {
    let row: Option<(String, String, String, i64)> = on_conn!(tx, |c| {
        sqlx::query_as("select action, status, message, generation from org_node where account_id = $1 and node_id = $2")
            .bind(account.as_str())
            .bind(id)
            .fetch_optional(&mut *c)
            .await
    })?;
    row.map(|(action, status, message, generation)| {
        Ok(NodeState {
            action: parse_enum(&action)?,
            status: parse_enum(&status)?,
            message,
            generation,
        })
    })
    .transpose()
}

/// Where a node's latest operation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState {
    pub action: Action,
    pub status: Status,
    pub message: String,
    pub generation: i64,
}

/// Inserts a node, its operation starting.
pub async fn insert_node(
    tx: &mut Tx,
    account: &AccountId,
    n: &Node,
    action: Action,
    message: &str,
    now: i64,
) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into org_node (account_id, node_id, name, name_key, parent_id, country_code, action, status, message,
                 generation, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, 'IN_PROGRESS', $8, 1, $9, $9)",
        )
        .bind(account.as_str())
        .bind(&n.node_id)
        .bind(&n.name)
        .bind(n.name.to_lowercase())
        .bind(&n.parent_id)
        .bind(&n.country_code)
        .bind(action_str(action))
        .bind(message)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Replaces a node's fields and starts an operation; its new generation.
pub async fn replace_node(
    tx: &mut Tx,
    account: &AccountId,
    n: &Node,
    action: Action,
    message: &str,
    now: i64,
) -> Result<Option<i64>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_scalar(
            "update org_node set name = $3, name_key = $4, parent_id = $5, country_code = $6, action = $7,
                 status = 'IN_PROGRESS', message = $8, generation = generation + 1, updated_at = $9
             where account_id = $1 and node_id = $2 returning generation",
        )
        .bind(account.as_str())
        .bind(&n.node_id)
        .bind(&n.name)
        .bind(n.name.to_lowercase())
        .bind(&n.parent_id)
        .bind(&n.country_code)
        .bind(action_str(action))
        .bind(message)
        .bind(now)
        .fetch_optional(&mut *c)
        .await
    })?)
}

/// Ends generation `generation`'s operation on a node; false if a later one started.
pub async fn finish_node(
    tx: &mut Tx,
    account: &AccountId,
    id: &str,
    generation: i64,
    status: Status,
    message: &str,
    now: i64,
) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query(
            "update org_node set status = $4, message = $5, updated_at = $6
             where account_id = $1 and node_id = $2 and generation = $3",
        )
        .bind(account.as_str())
        .bind(id)
        .bind(generation)
        .bind(status_str(status))
        .bind(message)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Sets the profiles a node references, in order.
pub async fn set_node_profiles(
    tx: &mut Tx,
    account: &AccountId,
    id: &str,
    profile_ids: &[String],
) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query("delete from org_node_profile where account_id = $1 and node_id = $2")
            .bind(account.as_str())
            .bind(id)
            .execute(&mut *c)
            .await?;
        for (i, p) in profile_ids.iter().enumerate() {
            sqlx::query(
                "insert into org_node_profile (account_id, node_id, profile_id, position) values ($1, $2, $3, $4)
                 on conflict do nothing",
            )
            .bind(account.as_str())
            .bind(id)
            .bind(p)
            .bind(i as i32)
            .execute(&mut *c)
            .await?;
        }
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(())
}

/// The profiles a node references, in order, with their current names.
pub async fn node_profiles(tx: &mut Tx, account: &AccountId, id: &str) -> Result<Vec<Profile>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_as(
            "select p.profile_id, p.profile_name, p.description from org_node_profile np
             join profile p on p.account_id = np.account_id and p.profile_id = np.profile_id
             where np.account_id = $1 and np.node_id = $2 order by np.position",
        )
        .bind(account.as_str())
        .bind(id)
        .fetch_all(&mut *c)
        .await
    })?)
}

/// True when the node has children.
pub async fn has_children(tx: &mut Tx, account: &AccountId, id: &str) -> Result<bool> {
    let n: i64 = on_conn!(tx, |c| {
        sqlx::query_scalar("select count(*) from org_node where account_id = $1 and parent_id = $2")
            .bind(account.as_str())
            .bind(id)
            .fetch_one(&mut *c)
            .await
    })?;
    Ok(n > 0)
}

/// Deletes a node; false if there was none.
pub async fn delete_node(tx: &mut Tx, account: &AccountId, id: &str) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query("delete from org_node where account_id = $1 and node_id = $2")
            .bind(account.as_str())
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}
