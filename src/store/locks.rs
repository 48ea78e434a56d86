//! Row locks that keep a checked resource as it was read until the write commits
//! (`If-Match`, `service::preconditions`).

use super::{Result, Tx, dialect, on_conn};
use crate::domain::AccountId;

/// A single resource of an account, by the table that holds it.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    Account,
    PhoneNumber(&'a str),
    Element(&'a str),
    Node(&'a str),
    Profile(&'a str),
}

impl Resource<'_> {
    fn select(&self) -> (&'static str, Option<&str>) {
        match *self {
            Resource::Account => ("select 1 from account where account_id = $1", None),
            Resource::PhoneNumber(id) => (
                "select 1 from phone_number where account_id = $1 and phone_number_id = $2",
                Some(id),
            ),
            Resource::Element(id) => (
                "select 1 from voice_element where account_id = $1 and element_id = $2",
                Some(id),
            ),
            Resource::Node(id) => (
                "select 1 from org_node where account_id = $1 and node_id = $2",
                Some(id),
            ),
            Resource::Profile(id) => (
                "select 1 from profile where account_id = $1 and profile_id = $2",
                Some(id),
            ),
        }
    }
}

/// Locks `resource`'s row for the rest of this write transaction, so that other writes
/// to it (requests, jobs) wait for this one; on SQLite the write lock does it already.
pub async fn lock(tx: &mut Tx, account: &AccountId, resource: Resource<'_>) -> Result<()> {
    let Some(suffix) = dialect::row_lock(tx.backend()) else {
        return Ok(());
    };
    let (select, id) = resource.select();
    let sql = format!("{select}{suffix}");
    on_conn!(tx, |c| {
        let q = sqlx::query(&sql).bind(account.as_str());
        let q = match id {
            Some(id) => q.bind(id),
            None => q,
        };
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}
