//! The inventory: entries, their documentation rules, releasing held numbers, and the
//! search rows and counts those moves keep current (a number is held by
//! `numbers::add`).

use sqlx::FromRow;

use crate::domain::AccountId;
use crate::domain::number::{InventoryEntry, NumberType};
use crate::store::{Result, StoreError, Tx, dialect, on_conn};

#[derive(FromRow)]
pub(super) struct InventoryRow {
    pub(super) phone_number: String,
    pub(super) country_code: String,
    pub(super) number_type: String,
    pub(super) area_code: String,
    pub(super) documentation_required: bool,
}

pub(super) fn inventory(r: InventoryRow) -> Result<InventoryEntry> {
    Ok(InventoryEntry {
        number_type: NumberType::parse_inventory(&r.number_type)
            .ok_or_else(|| StoreError::Corrupt(format!("inventory type {}", r.number_type)))?,
        phone_number: r.phone_number,
        country_code: r.country_code,
        area_code: r.area_code,
        documentation_required: r.documentation_required,
    })
}

pub(super) const INVENTORY_COLUMNS: &str =
    "phone_number, country_code, number_type, area_code, documentation_required";

/// Adds inventory entries (a batch of up to a few hundred); existing numbers are kept
/// as they are. Returns how many were new.
pub async fn insert_inventory(tx: &mut Tx, entries: &[InventoryEntry]) -> Result<u64> {
    if entries.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "insert into number_inventory ({INVENTORY_COLUMNS}) values {} on conflict do nothing",
        dialect::values_rows(tx.backend(), entries.len(), 5)
    );
    Ok(on_conn!(tx, |c| {
        let mut q = sqlx::query(&sql);
        for e in entries {
            q = q
                .bind(&e.phone_number)
                .bind(&e.country_code)
                .bind(e.number_type.as_str())
                .bind(&e.area_code)
                .bind(e.documentation_required);
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })?)
}

/// Removes the entries of `numbers` (a state import's snapshot brings its own).
pub async fn delete_inventory(tx: &mut Tx, numbers: &[&str]) -> Result<u64> {
    let mut deleted = 0;
    // Chunks keep the statement within both backends' parameter limits.
    for chunk in numbers.chunks(1_000) {
        let sql = format!(
            "delete from number_inventory where phone_number in {}",
            dialect::values_rows(tx.backend(), 1, chunk.len())
        );
        deleted += on_conn!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for n in chunk {
                q = q.bind(*n);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(deleted)
}

/// Sets whether activating numbers of a country and type needs documentation.
pub async fn set_documentation_rule(
    tx: &mut Tx,
    country: &str,
    t: NumberType,
    required: bool,
) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into documentation_rule (country_code, number_type, required) values ($1, $2, $3)
             on conflict (country_code, number_type) do update set required = excluded.required",
        )
        .bind(country)
        .bind(t.as_str())
        .bind(required)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Whether the rule for a country and type requires documentation (false if none).
pub async fn documentation_rule(tx: &mut Tx, country: &str, t: NumberType) -> Result<bool> {
    let r: Option<bool> = on_conn!(tx, |c| {
        sqlx::query_scalar(
            "select required from documentation_rule where country_code = $1 and number_type = $2",
        )
        .bind(country)
        .bind(t.as_str())
        .fetch_optional(&mut *c)
        .await
    })?;
    Ok(r.unwrap_or(false))
}

/// An inventory entry and the account holding it, if any.
pub async fn inventory_entry(
    tx: &mut Tx,
    number: &str,
) -> Result<Option<(InventoryEntry, Option<String>)>> {
    let row: Option<(String, String, String, String, bool, Option<String>)> = on_conn!(tx, |c| {
        sqlx::query_as(
            "select phone_number, country_code, number_type, area_code, documentation_required, held_by
             from number_inventory where phone_number = $1",
        )
        .bind(number)
        .fetch_optional(&mut *c)
        .await
    })?;
    row.map(
        |(phone_number, country_code, number_type, area_code, documentation_required, held_by)| {
            let entry = inventory(InventoryRow {
                phone_number,
                country_code,
                number_type,
                area_code,
                documentation_required,
            })?;
            Ok((entry, held_by))
        },
    )
    .transpose()
}

/// Returns a number to the available inventory.
pub async fn release(tx: &mut Tx, number: &str, account: &AccountId) -> Result<()> {
    let group: Option<(String, String, String)> = on_conn!(tx, |c| {
        sqlx::query_as(
            "update number_inventory set held_by = null where phone_number = $1 and held_by = $2
             returning country_code, number_type, area_code",
        )
        .bind(number)
        .bind(account.as_str())
        .fetch_optional(&mut *c)
        .await
    })?;
    if let Some((country, t, area)) = group {
        // The area's count before its gram counts, the order an add locks them in
        // (`numbers::add_lookup`), so a release and an add in one area cannot deadlock.
        count_available(tx, &country, &t, &area, 1).await?;
        offer(tx, "phone_number = $1", &[number]).await?;
    }
    Ok(())
}

/// Returns every number `holder` holds (every held number, without one) to the available
/// inventory. The caller recounts the available numbers.
pub async fn release_all(tx: &mut Tx, holder: Option<&AccountId>) -> Result<()> {
    let held = if holder.is_some() {
        "held_by = $1"
    } else {
        "held_by is not null"
    };
    let holder = holder.map(AccountId::as_str);
    offer(tx, held, holder.as_slice()).await?;
    let sql = format!("update number_inventory set held_by = null where {held}");
    on_conn!(tx, |c| {
        let mut q = sqlx::query(&sql);
        if let Some(h) = holder {
            q = q.bind(h);
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Adds the search rows (`number_suffix`, migration 0011, and `inventory_gram_count`,
/// 0012) of the inventory numbers that `condition` selects, with `$1`, `$2`... bound to
/// `binds`; none may be counted already. A number's suffix rows may be there: an add
/// leaves them (see [`search`](super::search)), so only the missing ones are written.
/// `search_rows` derives the same rows for bulk rebuilds.
async fn offer(tx: &mut Tx, condition: &str, binds: &[&str]) -> Result<()> {
    let position = dialect::position(tx.backend());
    let order = dialect::insert_in_key_order(tx.backend(), "order by 1, 2, 3, 4");
    // Counted first: `condition` may test that the suffix rows are still missing.
    let counts = format!(
        "insert into inventory_gram_count (country_code, number_type, gram, area_code, available)
         select country_code, number_type, substr(phone_number, i, 3), area_code, count(*)
         from number_inventory join gram_position on i <= length(phone_number) - 2
         where {condition} and {position}(phone_number, substr(phone_number, i, 3)) = i
         group by country_code, number_type, substr(phone_number, i, 3), area_code
         on conflict (country_code, number_type, gram, area_code)
         do update set available = inventory_gram_count.available + excluded.available"
    );
    // Position 1 is the number's +: a fragment with a + is found as a prefix instead.
    let suffixes = format!(
        "insert into number_suffix (country_code, number_type, suffix, phone_number, area_code, first)
         select country_code, number_type, substr(phone_number, i), phone_number, area_code,
                {position}(phone_number, substr(phone_number, i, 3)) = i
         from number_inventory join gram_position on i between 2 and length(phone_number) - 2
         where {condition}
         {order}
         on conflict (country_code, number_type, suffix, phone_number) do nothing"
    );
    on_conn!(tx, |c| {
        for sql in [&counts, &suffixes] {
            let mut q = sqlx::query(sql);
            for b in binds {
                q = q.bind(b);
            }
            q.execute(&mut *c).await?;
        }
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(())
}

/// Adds the search rows of some available numbers (at most a thousand), for additions
/// too small to rebuild the whole index for.
pub async fn index_available(tx: &mut Tx, numbers: &[&str]) -> Result<()> {
    if numbers.is_empty() {
        return Ok(());
    }
    let list = (1..=numbers.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    // A number's longest suffix (all but its +) is present exactly when it has all its
    // rows already.
    let condition = format!(
        "held_by is null and phone_number in ({list}) and not exists (select 1 from number_suffix s
             where s.country_code = number_inventory.country_code and s.number_type = number_inventory.number_type
               and s.suffix = substr(number_inventory.phone_number, 2)
               and s.phone_number = number_inventory.phone_number)"
    );
    offer(tx, &condition, numbers).await
}

/// Moves the available count of one group by `delta`.
async fn count_available(
    tx: &mut Tx,
    country: &str,
    t: &str,
    area: &str,
    delta: i64,
) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into inventory_count (country_code, number_type, area_code, available) values ($1, $2, $3, $4)
             on conflict (country_code, number_type, area_code)
             do update set available = inventory_count.available + excluded.available",
        )
        .bind(country)
        .bind(t)
        .bind(area)
        .bind(delta)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Countries with available numbers of type `t`.
pub async fn countries(tx: &mut Tx, t: NumberType) -> Result<Vec<String>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_scalar(
            "select distinct country_code from inventory_count where number_type = $1 and available > 0 order by 1",
        )
        .bind(t.as_str())
        .fetch_all(&mut *c)
        .await
    })?)
}
