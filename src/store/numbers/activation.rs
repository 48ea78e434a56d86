//! Ending the activations of a batch of jobs: one read, one write.
//!
//! A worker settles the jobs it claimed together. Done per job, an activation's end
//! was two statements (its target read, its end written with the journal entry), each
//! a hop to SQLite's writer thread or a round trip to PostgreSQL; a batch of 64 paid
//! 128 of them. Here the batch's targets are one `select` and its ends one write,
//! whatever the batch's size. The rows of the batch are a `values` list of bound
//! parameters, cast so that both engines type them alike.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::domain::lifecycle::{Cause, JobKind};
use crate::domain::number::{NumberStatus, NumberType};
use crate::domain::{AccountId, PhoneNumberId};
use crate::store::{Backend, Result, Tx, on_conn};

use super::add::ActivationTarget;

/// `values` rows of `types.len()` parameters each, numbered from `$first`, each cast to the
/// column's type (`cast($n as text)`): "(…), (…)".
fn values(rows: usize, types: &[&str], first: usize) -> String {
    let mut out = String::new();
    let mut n = first;
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for (i, t) in types.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            // Writing to a String cannot fail.
            let _ = write!(out, "cast(${n} as {t})");
            n += 1;
        }
        out.push(')');
    }
    out
}

/// The targets of the numbers `ids` (account, number id), keyed by both, in one read;
/// a number absent (released, or never there) has no entry.
pub async fn activation_targets(
    tx: &mut Tx,
    ids: &[(&AccountId, &PhoneNumberId)],
) -> Result<HashMap<(String, String), ActivationTarget>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "select p.account_id, p.phone_number_id, p.generation, i.number_type, i.documentation_required
         from (select column1 as account_id, column2 as id from (values {}) t) v
         join phone_number p on p.phone_number_id = v.id and p.account_id = v.account_id
         left join number_inventory i on i.phone_number = p.phone_number",
        values(ids.len(), &["text", "text"], 1)
    );
    type Row = (String, String, i64, Option<String>, Option<bool>);
    let rows: Vec<Row> = on_conn!(tx, |c| {
        let mut q = sqlx::query_as(&sql);
        for (account, id) in ids {
            q = q.bind(account.as_str()).bind(id.as_str());
        }
        q.fetch_all(&mut *c).await
    })?;
    rows.into_iter()
        .map(|(account, id, generation, number_type, required)| {
            let target = ActivationTarget::from_row(generation, number_type, required)?;
            Ok(((account, id), target))
        })
        .collect()
}

/// One activation's end, as [`end_activations`] writes it.
pub struct ActivationEnd<'a> {
    pub account: &'a AccountId,
    pub id: &'a PhoneNumberId,
    /// The generation the job was for: a number released and added again since is
    /// another generation, which this end must not touch.
    pub generation: i64,
    pub status: NumberStatus,
    pub number_type: NumberType,
    pub message: Option<&'a str>,
    pub cause: Cause,
}

// The batch's rows, v(account_id, id, generation, status, number_type, message, cause),
// bound from $3; $1 is now, $2 the journal's resource kind.
const END_COLUMNS: &[&str] = &["text", "text", "bigint", "text", "text", "text", "text"];

/// Ends the activations of `ends` (each as
/// [`end_activation`](super::end_activation): only a number still INPROGRESS at that
/// generation) and journals each change from INPROGRESS, in one statement; returns
/// how many numbers it ended. The others changed hands, were released or already
/// ended since, and are left as they are.
pub async fn end_activations(tx: &mut Tx, ends: &[ActivationEnd<'_>], now: i64) -> Result<u64> {
    if ends.is_empty() {
        return Ok(0);
    }
    let v = values(ends.len(), END_COLUMNS, 3);
    let matches = "p.account_id = v.account_id and p.phone_number_id = v.id
                   and p.generation = v.generation and p.status = 'INPROGRESS'";
    let sql = match tx.backend() {
        // No data-modifying CTE on SQLite: the journal entries are written first, of the
        // numbers the update is about to end (same condition, same transaction, nothing
        // in between on the one writer), then the update; one query, one hop.
        Backend::Sqlite => format!(
            "insert into transition (at, account_id, resource_kind, resource_id, from_status, to_status, message, cause)
             select $1, v.account_id, $2, v.id, 'INPROGRESS', v.status, v.message, v.cause
             from (select column1 as account_id, column2 as id, column3 as generation, column4 as status,
                          column5 as number_type, column6 as message, column7 as cause
                   from (values {v}) t) v
             join phone_number p on {matches};
             update phone_number as p set status = v.status, number_type = v.number_type,
                 status_message = v.message, updated_at = $1
             from (select column1 as account_id, column2 as id, column3 as generation, column4 as status,
                          column5 as number_type, column6 as message
                   from (values {v}) t) v
             where {matches}"
        ),
        Backend::Postgres => format!(
            "with v (account_id, id, generation, status, number_type, message, cause) as (values {v}),
             u as (update phone_number p set status = v.status, number_type = v.number_type,
                       status_message = v.message, updated_at = $1
                   from v where {matches}
                   returning v.account_id, v.id, v.status, v.message, v.cause)
             insert into transition (at, account_id, resource_kind, resource_id, from_status, to_status, message, cause)
             select $1, u.account_id, $2, u.id, 'INPROGRESS', u.status, u.message, u.cause from u"
        ),
    };
    let n = on_conn!(tx, |c| {
        let mut q = sqlx::query(&sql)
            .bind(now)
            .bind(JobKind::NumberActivation.as_str());
        for e in ends {
            q = q
                .bind(e.account.as_str())
                .bind(e.id.as_str())
                .bind(e.generation)
                .bind(e.status.as_str())
                .bind(e.number_type.as_str())
                .bind(e.message)
                .bind(e.cause.as_str());
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    // SQLite counts the journal's rows and the update's (one each per number ended);
    // PostgreSQL the journal's.
    Ok(match tx.backend() {
        Backend::Sqlite => n / 2,
        Backend::Postgres => n,
    })
}
