//! The numbers accounts hold (`phone_number`): adding, reading, their settings and
//! statuses, and deleting. Their list pages are in `pages`.

use sqlx::FromRow;

use crate::domain::number::{NumberSettings, NumberStatus, NumberType, PhoneNumber};
use crate::domain::{AccountId, PhoneNumberId};
use crate::store::{Result, StoreError, Tx, dialect, on_conn};

#[derive(FromRow)]
pub(super) struct NumberRow {
    phone_number_id: String,
    account_id: String,
    phone_number: String,
    country_code: String,
    number_type: String,
    display_name: Option<String>,
    is_calling_party_number: Option<bool>,
    preferred_media_location: Option<String>,
    status: String,
    status_message: Option<String>,
    generation: i64,
}

pub(super) fn number(r: NumberRow) -> Result<(PhoneNumber, i64)> {
    Ok((
        PhoneNumber {
            number_type: NumberType::parse(&r.number_type)
                .ok_or_else(|| StoreError::Corrupt(format!("number type {}", r.number_type)))?,
            status: NumberStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("number status {}", r.status)))?,
            phone_number_id: r.phone_number_id,
            account_id: r.account_id,
            phone_number: r.phone_number,
            country_code: r.country_code,
            settings: NumberSettings {
                display_name: r.display_name,
                is_calling_party_number: r.is_calling_party_number,
                preferred_media_location: r.preferred_media_location,
            },
            status_message: r.status_message,
        },
        r.generation,
    ))
}

pub(super) const NUMBER_COLUMNS: &str =
    "phone_number_id, account_id, phone_number, country_code, number_type, display_name,
    is_calling_party_number, preferred_media_location, status, status_message, generation";

/// Inserts a number the account just added (generation 1).
pub async fn insert(tx: &mut Tx, n: &PhoneNumber, now: i64) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into phone_number (phone_number_id, account_id, phone_number, country_code, number_type, display_name,
                 is_calling_party_number, preferred_media_location, status, status_message, generation, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11)",
        )
        .bind(&n.phone_number_id)
        .bind(&n.account_id)
        .bind(&n.phone_number)
        .bind(&n.country_code)
        .bind(n.number_type.as_str())
        .bind(&n.settings.display_name)
        .bind(n.settings.is_calling_party_number)
        .bind(&n.settings.preferred_media_location)
        .bind(n.status.as_str())
        .bind(&n.status_message)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The number `id` of `account` and its generation.
pub async fn get(
    tx: &mut Tx,
    account: &AccountId,
    id: &PhoneNumberId,
) -> Result<Option<(PhoneNumber, i64)>> {
    let sql = format!(
        "select {NUMBER_COLUMNS} from phone_number where account_id = $1 and phone_number_id = $2"
    );
    let row: Option<NumberRow> = on_conn!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(account.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *c)
            .await
    })?;
    row.map(number).transpose()
}

/// The number `phone_number` if `account` holds it.
pub async fn get_by_number(
    tx: &mut Tx,
    account: &AccountId,
    phone_number: &str,
) -> Result<Option<PhoneNumber>> {
    let sql = format!(
        "select {NUMBER_COLUMNS} from phone_number where account_id = $1 and phone_number = $2"
    );
    let row: Option<NumberRow> = on_conn!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(account.as_str())
            .bind(phone_number)
            .fetch_optional(&mut *c)
            .await
    })?;
    Ok(row.map(number).transpose()?.map(|(n, _)| n))
}

/// Replaces the settings of a number; false if there is no such number.
pub async fn replace_settings(
    tx: &mut Tx,
    account: &AccountId,
    id: &PhoneNumberId,
    s: &NumberSettings,
    now: i64,
) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query(
            "update phone_number set display_name = $3, is_calling_party_number = $4, preferred_media_location = $5,
                 updated_at = $6
             where account_id = $1 and phone_number_id = $2",
        )
        .bind(account.as_str())
        .bind(id.as_str())
        .bind(&s.display_name)
        .bind(s.is_calling_party_number)
        .bind(&s.preferred_media_location)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Ends the activation of generation `generation`, unless the number changed hands
/// or was released since; false then.
#[allow(clippy::too_many_arguments)]
pub async fn finish_activation(
    tx: &mut Tx,
    account: &AccountId,
    id: &PhoneNumberId,
    generation: i64,
    status: NumberStatus,
    t: NumberType,
    message: Option<&str>,
    now: i64,
) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query(
            "update phone_number set status = $4, number_type = $5, status_message = $6, updated_at = $7
             where account_id = $1 and phone_number_id = $2 and generation = $3 and status = 'INPROGRESS'",
        )
        .bind(account.as_str())
        .bind(id.as_str())
        .bind(generation)
        .bind(status.as_str())
        .bind(t.as_str())
        .bind(message)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Moves a number from status `from` to `to` (verification, disable, enable); false
/// if it was not in `from`.
pub async fn transition(
    tx: &mut Tx,
    account: &AccountId,
    id: &PhoneNumberId,
    from: NumberStatus,
    to: NumberStatus,
    message: Option<&str>,
    now: i64,
) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query(
            "update phone_number set status = $4, status_message = $5, updated_at = $6,
                 status_before_disable = case when $4 = 'DISABLED' then status else null end
             where account_id = $1 and phone_number_id = $2 and status = $3",
        )
        .bind(account.as_str())
        .bind(id.as_str())
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(message)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// The status a disabled number had before, with its message.
pub async fn status_before_disable(
    tx: &mut Tx,
    account: &AccountId,
    id: &PhoneNumberId,
) -> Result<Option<NumberStatus>> {
    let s: Option<Option<String>> = on_conn!(tx, |c| {
        sqlx::query_scalar("select status_before_disable from phone_number where account_id = $1 and phone_number_id = $2")
            .bind(account.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *c)
            .await
    })?;
    Ok(s.flatten().as_deref().and_then(NumberStatus::parse))
}

/// Deletes a number; its E.164 string if it existed.
pub async fn delete(
    tx: &mut Tx,
    account: &AccountId,
    id: &PhoneNumberId,
) -> Result<Option<String>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_scalar("delete from phone_number where account_id = $1 and phone_number_id = $2 returning phone_number")
            .bind(account.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *c)
            .await
    })?)
}

/// The account's numbers with these ids, in no set order.
pub async fn find_by_ids(
    tx: &mut Tx,
    account: &AccountId,
    ids: &[PhoneNumberId],
) -> Result<Vec<PhoneNumber>> {
    let ids: Vec<&str> = ids.iter().map(PhoneNumberId::as_str).collect();
    find_many(tx, account, Key::Id, &ids).await
}

/// The account's numbers among these E.164 numbers, in no set order.
pub async fn find_by_numbers(
    tx: &mut Tx,
    account: &AccountId,
    numbers: &[String],
) -> Result<Vec<PhoneNumber>> {
    let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
    find_many(tx, account, Key::Number, &numbers).await
}

/// A unique key of a number that [`find_many`] looks numbers up by.
#[derive(Debug, Clone, Copy)]
pub(super) enum Key {
    /// `phone_number_id`, the primary key.
    Id,
    /// `phone_number`, the E.164 number.
    Number,
}

impl Key {
    fn column(self) -> &'static str {
        match self {
            Key::Id => "phone_number_id",
            Key::Number => "phone_number",
        }
    }

    /// The key's unique index. SQLite's planner, without statistics, guesses that an
    /// `in` list of 50 keys matches more rows than the account's `account_id = $1`
    /// range and read the whole account through a covering index instead: 38 ms for a
    /// page of a 100,000-number account, against 0.2 ms through the key. (A primary
    /// key's index is named `sqlite_autoindex_<table>_1` by SQLite.)
    fn index(self) -> &'static str {
        match self {
            Key::Id => "sqlite_autoindex_phone_number_1",
            Key::Number => "phone_number_number",
        }
    }
}

/// The account's numbers whose `key` is among `values`.
pub(super) async fn find_many(
    tx: &mut Tx,
    account: &AccountId,
    key: Key,
    values: &[&str],
) -> Result<Vec<PhoneNumber>> {
    let through = dialect::read_through(tx.backend(), key.index());
    let column = key.column();
    let mut out = Vec::with_capacity(values.len());
    // Chunks keep the statement within both backends' parameter limits.
    for chunk in values.chunks(500) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "select {NUMBER_COLUMNS} from phone_number{through} where account_id = $1 and {column} in ({})",
            placeholders.join(", ")
        );
        let rows: Vec<NumberRow> = on_conn!(tx, |c| {
            let mut q = sqlx::query_as(&sql).bind(account.as_str());
            for v in chunk {
                q = q.bind(*v);
            }
            q.fetch_all(&mut *c).await
        })?;
        for r in rows {
            out.push(number(r)?.0);
        }
    }
    Ok(out)
}
