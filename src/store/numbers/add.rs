//! Adding a number in two statements: one lookup, one write.
//!
//! An add reads whether the account holds the number and its inventory entry, then
//! inserts the number, holds the entry (taking it out of the search's counts; its
//! suffix rows stay, see [`search`](super::search)), journals the transition and
//! enqueues the activation. Done statement by statement that was eleven round trips on
//! SQLite's single writer (each a hop to the connection's thread and back) or to
//! PostgreSQL. Here the reads are one statement (on SQLite with the caller's
//! `SAVEPOINT` ahead of it), and the writes are one: a script of
//! statements on SQLite (sqlx runs the statements of one query in one hop, binding `$n`
//! by number in each), data-modifying CTEs on PostgreSQL.

use std::sync::LazyLock;

use crate::domain::lifecycle::{Cause, JobKind};
use crate::domain::number::{InventoryEntry, NumberStatus, NumberType, PhoneNumber};
use crate::domain::{AccountId, PhoneNumberId};
use crate::store::jobs::NewJob;
use crate::store::{Backend, Result, StoreError, Tx, dialect, on_conn};

use super::inventory::{InventoryRow, inventory};

/// What an add needs to know first, in one read.
pub struct AddLookup {
    /// The account already holds the number.
    pub mine: bool,
    /// The inventory entry and who holds it, if the number is in the inventory.
    pub entry: Option<(InventoryEntry, Option<String>)>,
}

/// Whether `account` holds `number`, and its inventory entry.
pub async fn add_lookup(tx: &mut Tx, account: &AccountId, number: &str) -> Result<AddLookup> {
    type Row = (
        bool,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<bool>,
        Option<String>,
        Option<i32>,
    );
    // On PostgreSQL the lookup also locks the area's available count, which the add
    // then decrements with the area's gram counts: concurrent adds in one area take the
    // gram rows one after the other instead of in each number's own order, which
    // deadlocked. Adds in other areas share none of those rows.
    let sql = format!(
        "select exists (select 1 from phone_number where account_id = $1 and phone_number = $2),
             i.phone_number, i.country_code, i.number_type, i.area_code, i.documentation_required, i.held_by,
             (select 1 from inventory_count c
              where c.country_code = i.country_code and c.number_type = i.number_type and c.area_code = i.area_code{})
         from (select 1 as one) as q left join number_inventory i on i.phone_number = $2",
        dialect::for_update(tx.backend())
    );
    // On SQLite's group commit the caller's `SAVEPOINT` (or `BEGIN`) runs in the same
    // hop as the lookup, its first statement: one hop to the writer's thread fewer.
    let sql = match tx.take_begin() {
        Some(begin) => format!("{begin};\n{sql}"),
        None => sql,
    };
    let row: Row = on_conn!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(account.as_str())
            .bind(number)
            .fetch_one(&mut *c)
            .await
    })?;
    let (
        mine,
        phone_number,
        country_code,
        number_type,
        area_code,
        documentation_required,
        held_by,
        _,
    ) = row;
    let entry = match (
        phone_number,
        country_code,
        number_type,
        area_code,
        documentation_required,
    ) {
        (Some(phone_number), Some(country_code), Some(number_type), Some(area_code), Some(d)) => {
            Some((
                inventory(InventoryRow {
                    phone_number,
                    country_code,
                    number_type,
                    area_code,
                    documentation_required: d,
                })?,
                held_by,
            ))
        }
        _ => None,
    };
    Ok(AddLookup { mine, entry })
}

// The parts of the write, with one numbering of the parameters for all of them:
// $1 number, $2 country, $3 inventory type, $4 area code, $5 account, $6 number id,
// $7 now, then the number's own columns, the journal entry's and the job's.
const INSERT_NUMBER: &str = "insert into phone_number (phone_number_id, account_id, phone_number, country_code, number_type,
         display_name, is_calling_party_number, preferred_media_location, status, status_message, generation,
         created_at, updated_at)
     values ($6, $5, $1, $2, $8, $9, $10, $11, $12, $13, 1, $7, $7)";
const HOLD: &str =
    "update number_inventory set held_by = $5 where phone_number = $1 and held_by is null";
const GRAMS: &str = "update inventory_gram_count set available = available - 1
     where country_code = $2 and number_type = $3 and area_code = $4
       and gram in (select substr($1, i, 3) from gram_position where i <= length($1) - 2)";
const COUNT: &str = "insert into inventory_count (country_code, number_type, area_code, available)
     select $2, $3, $4, -1";
const COUNT_CONFLICT: &str = "on conflict (country_code, number_type, area_code)
     do update set available = inventory_count.available + excluded.available";
const JOURNAL: &str = "insert into transition (at, account_id, resource_kind, resource_id, from_status, to_status, message, cause)
     values ($7, $5, $14, $6, null, $12, $13, $15)";
const JOB: &str = "insert into job (id, kind, account_id, resource_id, payload, state, attempts, max_attempts, run_at,
         created_at, updated_at)
     values ($16, $17, $5, $6, $18, 'pending', 0, $19, $20, $7, $7)";

/// SQLite: the statements in order, ending with a read of the hold. The lookup in the
/// same transaction saw the entry unheld and this connection is the only writer, so
/// the hold cannot miss: the counts move unconditionally.
static SQLITE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{INSERT_NUMBER};\n{HOLD};\n{GRAMS};\n{COUNT} where true {COUNT_CONFLICT};\n\
         {JOURNAL};\n{JOB};\n\
         select count(*) from number_inventory where phone_number = $1 and held_by = $5"
    )
});

/// PostgreSQL: one statement; the counts move only if the hold took (a concurrent
/// transaction may have held the entry since the lookup), and the caller rolls back
/// when it did not.
static POSTGRES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "with n as ({INSERT_NUMBER}),
         h as ({HOLD} returning 1),
         g as ({GRAMS} and exists (select 1 from h)),
         c as ({COUNT} where exists (select 1 from h) {COUNT_CONFLICT}),
         t as ({JOURNAL}),
         j as ({JOB})
         select count(*) from h"
    )
});

/// Inserts `n` (generation 1), holds its inventory `entry` for the account, journals
/// its first status (`n.status`, by `cause`, under the job's kind) and enqueues `job`
/// on it, all in the caller's transaction; false when the entry was held by someone
/// else meanwhile (then the caller must roll back). A number another transaction
/// inserted first is a [`StoreError::Conflict`](crate::store::StoreError).
pub async fn add(
    tx: &mut Tx,
    n: &PhoneNumber,
    entry: &InventoryEntry,
    job: &NewJob,
    cause: Cause,
    now: i64,
) -> Result<bool> {
    let job_id = uuid::Uuid::new_v4().to_string();
    let payload = serde_json::to_string(&job.payload)?;
    let sql: &str = match tx.backend() {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    let held: i64 = on_conn!(tx, |c| {
        sqlx::query_scalar(sql)
            .bind(&n.phone_number)
            .bind(&entry.country_code)
            .bind(entry.number_type.as_str())
            .bind(&entry.area_code)
            .bind(&n.account_id)
            .bind(&n.phone_number_id)
            .bind(now)
            .bind(n.number_type.as_str())
            .bind(&n.settings.display_name)
            .bind(n.settings.is_calling_party_number)
            .bind(&n.settings.preferred_media_location)
            .bind(n.status.as_str())
            .bind(&n.status_message)
            .bind(job.kind.as_str())
            .bind(cause.as_str())
            .bind(&job_id)
            .bind(job.kind.as_str())
            .bind(&payload)
            .bind(job.max_attempts)
            .bind(job.run_at)
            .fetch_one(&mut *c)
            .await
    })?;
    Ok(held == 1)
}

/// What an activation's end needs to know of its number: the generation it is at and
/// its inventory entry's type and documentation rule (absent if the entry went).
pub struct ActivationTarget {
    pub generation: i64,
    pub entry: Option<(NumberType, bool)>,
}

impl ActivationTarget {
    /// From a read's columns: the number's generation, and its entry's type and
    /// documentation rule (both null when the entry is gone).
    pub(super) fn from_row(
        generation: i64,
        number_type: Option<String>,
        required: Option<bool>,
    ) -> Result<Self> {
        let entry = match (number_type, required) {
            (Some(t), Some(required)) => Some((
                NumberType::parse_inventory(&t)
                    .ok_or_else(|| StoreError::Corrupt(format!("inventory type {t}")))?,
                required,
            )),
            _ => None,
        };
        Ok(ActivationTarget { generation, entry })
    }
}

/// The number `id` of `account` with its inventory entry's type and documentation
/// rule, in one read.
pub async fn activation_target(
    tx: &mut Tx,
    account: &AccountId,
    id: &PhoneNumberId,
) -> Result<Option<ActivationTarget>> {
    let row: Option<(i64, Option<String>, Option<bool>)> = on_conn!(tx, |c| {
        sqlx::query_as(
            "select p.generation, i.number_type, i.documentation_required
             from phone_number p left join number_inventory i on i.phone_number = p.phone_number
             where p.account_id = $1 and p.phone_number_id = $2",
        )
        .bind(account.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *c)
        .await
    })?;
    row.map(|(generation, number_type, required)| {
        ActivationTarget::from_row(generation, number_type, required)
    })
    .transpose()
}

// Ends an activation and journals it only if the update took: $1 account, $2 number
// id, $3 generation, $4 status, $5 type, $6 message, $7 now, $8 journal kind, $9 cause.
const END_ACTIVATION: &str =
    "update phone_number set status = $4, number_type = $5, status_message = $6, updated_at = $7
     where account_id = $1 and phone_number_id = $2 and generation = $3 and status = 'INPROGRESS'";
const END_JOURNAL: &str = "insert into transition (at, account_id, resource_kind, resource_id, from_status, to_status, message, cause)
     select $7, $1, $8, $2, 'INPROGRESS', $4, $6, $9";

/// SQLite: `changes()` is the rows the previous statement (the update) changed.
static END_SQLITE: LazyLock<String> =
    LazyLock::new(|| format!("{END_ACTIVATION};\n{END_JOURNAL} where changes() = 1"));
/// PostgreSQL: the journal entry is inserted if the update returned its row.
static END_POSTGRES: LazyLock<String> = LazyLock::new(|| {
    format!("with u as ({END_ACTIVATION} returning 1) {END_JOURNAL} where exists (select 1 from u)")
});

/// Ends the activation of generation `generation` (as
/// [`finish_activation`](super::finish_activation)) and journals the change from
/// INPROGRESS in the same statement; false if the number changed hands, was released
/// or already ended since (then nothing is written).
#[allow(clippy::too_many_arguments)]
pub async fn end_activation(
    tx: &mut Tx,
    account: &AccountId,
    id: &PhoneNumberId,
    generation: i64,
    end: (NumberStatus, NumberType, Option<&str>),
    journal: (JobKind, Cause),
    now: i64,
) -> Result<bool> {
    let (status, number_type, message) = end;
    let sql: &str = match tx.backend() {
        Backend::Sqlite => &END_SQLITE,
        Backend::Postgres => &END_POSTGRES,
    };
    let n = on_conn!(tx, |c| {
        sqlx::query(sql)
            .bind(account.as_str())
            .bind(id.as_str())
            .bind(generation)
            .bind(status.as_str())
            .bind(number_type.as_str())
            .bind(message)
            .bind(now)
            .bind(journal.0.as_str())
            .bind(journal.1.as_str())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    // SQLite counts the update's row and the journal's; PostgreSQL the journal's.
    Ok(n >= 1)
}
