//! The number inventory and the numbers accounts hold.

use std::sync::Arc;

use futures_util::TryStreamExt;
use sqlx::{FromRow, Row};

use super::bulk::{Bulk, Value};
use super::search_rows::SearchRows;
use super::{Backend, Result, StoreError, Tx, on_conn};
use crate::domain::AccountId;
use crate::domain::listing::{Filter, Match, OrderBy, Page};
use crate::domain::number::{
    InventoryEntry, NumberSettings, NumberStatus, NumberType, PhoneNumber,
};

#[derive(FromRow)]
struct InventoryRow {
    phone_number: String,
    country_code: String,
    number_type: String,
    area_code: String,
    documentation_required: bool,
}

fn inventory(r: InventoryRow) -> Result<InventoryEntry> {
    Ok(InventoryEntry {
        number_type: NumberType::parse_inventory(&r.number_type)
            .ok_or_else(|| StoreError::Corrupt(format!("inventory type {}", r.number_type)))?,
        phone_number: r.phone_number,
        country_code: r.country_code,
        area_code: r.area_code,
        documentation_required: r.documentation_required,
    })
}

const INVENTORY_COLUMNS: &str =
    "phone_number, country_code, number_type, area_code, documentation_required";

/// Adds inventory entries (a batch of up to a few hundred); existing numbers are kept
/// as they are. Returns how many were new.
pub async fn insert_inventory(tx: &mut Tx, entries: &[InventoryEntry]) -> Result<u64> {
    if entries.is_empty() {
        return Ok(0);
    }
    let mut sql = format!("insert into number_inventory ({INVENTORY_COLUMNS}) values ");
    for i in 0..entries.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        match tx.backend() {
            // Anonymous parameters: sqlx looks each numbered one up by name, which SQLite
            // answers with a linear search, so 5,000 `$n` cost more than the inserts.
            Backend::Sqlite => sql.push_str("(?, ?, ?, ?, ?)"),
            Backend::Postgres => {
                let b = i * 5;
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                ));
            }
        }
    }
    sql.push_str(" on conflict do nothing");
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

/// Marks an available number as held by `account`; false if it was not available.
pub async fn hold(tx: &mut Tx, entry: &InventoryEntry, account: &AccountId) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query(
            "update number_inventory set held_by = $2 where phone_number = $1 and held_by is null",
        )
        .bind(&entry.phone_number)
        .bind(account.as_str())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    if n == 1 {
        on_conn!(tx, |c| {
            sqlx::query(
                "delete from number_suffix
                 where country_code = $2 and number_type = $3 and phone_number = $1
                   and suffix in (select substr($1, i) from gram_position
                                  where i between 2 and length($1) - 2)",
            )
            .bind(&entry.phone_number)
            .bind(&entry.country_code)
            .bind(entry.number_type.as_str())
            .execute(&mut *c)
            .await?;
            // Each string the number contains once, however often it occurs in it.
            sqlx::query(
                "update inventory_gram_count set available = available - 1
                 where country_code = $2 and number_type = $3 and area_code = $4
                   and gram in (select substr($1, i, 3) from gram_position where i <= length($1) - 2)",
            )
            .bind(&entry.phone_number)
            .bind(&entry.country_code)
            .bind(entry.number_type.as_str())
            .bind(&entry.area_code)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
        })?;
        count_available(
            tx,
            &entry.country_code,
            entry.number_type.as_str(),
            &entry.area_code,
            -1,
        )
        .await?;
    }
    Ok(n == 1)
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
        offer(tx, "phone_number = $1", &[number]).await?;
        count_available(tx, &country, &t, &area, 1).await?;
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
/// `binds`; none may have them already. `search_rows` derives the same rows for bulk
/// rebuilds.
async fn offer(tx: &mut Tx, condition: &str, binds: &[&str]) -> Result<()> {
    // On SQLite in key order, so that a large insert appends to the table (a b-tree)
    // rather than scattering.
    let (position, order) = match tx.backend() {
        Backend::Sqlite => ("instr", "order by 1, 2, 3, 4"),
        Backend::Postgres => ("strpos", ""),
    };
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
         {order}"
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

/// Rebuilds the search rows of every available number (after imports).
///
/// The rows are computed here from the available numbers (`search_rows`) and written in
/// key order: on PostgreSQL by `COPY` into the emptied table without its index, frozen
/// (no vacuum needed before index-only scans), and the index is then built over rows
/// already sorted; on SQLite appended to its b-tree. Deriving ten million rows in SQL
/// instead and sorting them for the index cost three times as much. The rebuild locks
/// `number_suffix` on PostgreSQL, so searches that need it wait for the import's
/// commit; the gram counts are replaced row by row, so the others do not.
pub async fn reindex_available(tx: &mut Tx) -> Result<()> {
    // Migration 0012's key, dropped and built again.
    const PG_KEY: &str =
        "number_suffix_pkey primary key (country_code, number_type, suffix, phone_number)
         include (area_code, first)";
    let rows = available_search_rows(tx).await?;
    tracing::info!(numbers = rows.len(), "available numbers read");

    on_conn!(tx, |c| sqlx::query("delete from inventory_gram_count")
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    let mut counts = Bulk::begin(
        tx,
        "inventory_gram_count",
        &[
            "country_code",
            "number_type",
            "gram",
            "area_code",
            "available",
        ],
        false,
    )
    .await?;
    for g in rows.gram_counts() {
        counts
            .row(&[
                Value::Text(g.country_code),
                Value::Text(g.number_type),
                Value::Text(g.gram),
                Value::Text(g.area_code),
                Value::Int(g.available),
            ])
            .await?;
    }
    counts.finish().await?;

    let before: &[&str] = match tx.backend() {
        Backend::Sqlite => &["delete from number_suffix"],
        Backend::Postgres => &[
            "truncate number_suffix",
            "alter table number_suffix drop constraint number_suffix_pkey",
        ],
    };
    on_conn!(tx, |c| {
        for sql in before {
            sqlx::query(sql).execute(&mut *c).await?;
        }
        Ok::<_, sqlx::Error>(())
    })?;
    let mut suffixes = Bulk::begin(
        tx,
        "number_suffix",
        &[
            "country_code",
            "number_type",
            "suffix",
            "phone_number",
            "area_code",
            "first",
        ],
        true,
    )
    .await?;
    // The slices are sorted on a thread, one ahead of the writes (which on PostgreSQL
    // keep the server busy meanwhile).
    let rows = Arc::new(rows);
    let (sorted_tx, mut sorted_rx) = tokio::sync::mpsc::channel(1);
    let sorter = {
        let rows = Arc::clone(&rows);
        std::thread::spawn(move || {
            for key in rows.slices() {
                if sorted_tx.blocking_send(rows.sort(key)).is_err() {
                    break; // the writes stopped on an error
                }
            }
        })
    };
    while let Some(slice) = sorted_rx.recv().await {
        for r in rows.rows(&slice) {
            suffixes
                .row(&[
                    Value::Text(r.country_code),
                    Value::Text(r.number_type),
                    Value::Text(r.suffix),
                    Value::Text(r.phone_number),
                    Value::Text(r.area_code),
                    Value::Bool(r.first),
                ])
                .await?;
        }
    }
    // The channel closed: every slice was sent, or the sorter panicked.
    sorter
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    let written = suffixes.finish().await?;
    tracing::info!(rows = written, "suffix rows written");
    if tx.backend() == Backend::Postgres {
        let add_key = format!("alter table number_suffix add constraint {PG_KEY}");
        on_conn!(tx, |c| {
            for sql in [
                add_key.as_str(),
                "analyze number_suffix, inventory_gram_count",
            ] {
                sqlx::query(sql).execute(&mut *c).await?;
            }
            Ok::<_, sqlx::Error>(())
        })?;
    }
    Ok(())
}

/// Every available number, for `search_rows`.
async fn available_search_rows(tx: &mut Tx) -> Result<SearchRows> {
    // One row per country, type and area code: a million rows one by one cost seconds
    // on SQLite (each crosses from its thread), their text joined a fraction of that. A
    // number has no comma (E.164).
    let joined = match tx.backend() {
        Backend::Sqlite => "group_concat(phone_number, ',')",
        Backend::Postgres => "string_agg(phone_number, ',')",
    };
    let sql = format!(
        "select country_code, number_type, area_code, {joined} from number_inventory
         where held_by is null group by country_code, number_type, area_code"
    );
    let mut out = SearchRows::default();
    on_conn!(tx, |c| {
        let mut rows = sqlx::query(&sql).fetch(&mut *c);
        while let Some(r) = rows.try_next().await? {
            let (country, t, area) = (
                r.try_get::<&str, _>(0)?,
                r.try_get::<&str, _>(1)?,
                r.try_get::<&str, _>(2)?,
            );
            for number in r.try_get::<&str, _>(3)?.split(',') {
                out.add(number, country, t, area);
            }
        }
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(out)
}

/// Adds many inventory entries (an import) in one transaction: numbers already in the
/// inventory, or earlier in the same load, are kept as they were. The search rows are
/// left to `reindex_available` and the counts to `recount_available`.
///
/// On SQLite each batch is inserted as it comes. On PostgreSQL batches are copied into a
/// temporary table and inserted at the end in one statement, in key order: inserting a
/// million numbers in the file's (random) order into the inventory's three indexes cost
/// three to four times as much, page by page.
pub struct InventoryLoad {
    /// Entries given so far.
    given: u64,
    /// Entries added to the inventory (SQLite: so far; PostgreSQL: at the end).
    added: u64,
}

impl InventoryLoad {
    /// Starts a load in `tx`.
    pub async fn begin(tx: &mut Tx) -> Result<Self> {
        if tx.backend() == Backend::Postgres {
            on_conn!(tx, |c| sqlx::query(
                "create temporary table inventory_load (
                     seq bigint not null,
                     phone_number text not null,
                     country_code text not null,
                     number_type text not null,
                     area_code text not null,
                     documentation_required boolean not null
                 ) on commit drop"
            )
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(InventoryLoad { given: 0, added: 0 })
    }

    /// Adds a batch of entries.
    pub async fn add(&mut self, tx: &mut Tx, entries: &[InventoryEntry]) -> Result<()> {
        match tx.backend() {
            Backend::Sqlite => {
                // 1,000 rows (5,000 parameters) per statement.
                for chunk in entries.chunks(1000) {
                    self.added += insert_inventory(tx, chunk).await?;
                }
            }
            Backend::Postgres => {
                let mut copy = Bulk::begin(
                    tx,
                    "inventory_load",
                    &[
                        "seq",
                        "phone_number",
                        "country_code",
                        "number_type",
                        "area_code",
                        "documentation_required",
                    ],
                    false,
                )
                .await?;
                for (i, e) in entries.iter().enumerate() {
                    let seq = self.given + i as u64;
                    copy.row(&[
                        Value::Int(i64::try_from(seq).unwrap_or(i64::MAX)),
                        Value::Text(&e.phone_number),
                        Value::Text(&e.country_code),
                        Value::Text(e.number_type.as_str()),
                        Value::Text(&e.area_code),
                        Value::Bool(e.documentation_required),
                    ])
                    .await?;
                }
                copy.finish().await?;
            }
        }
        self.given += entries.len() as u64;
        Ok(())
    }

    /// Ends the load: (entries added, entries whose number was already there).
    pub async fn finish(mut self, tx: &mut Tx) -> Result<(u64, u64)> {
        if tx.backend() == Backend::Postgres {
            // In key order (bytewise, the inventory's collation since 0012), the earlier
            // of two equal numbers first, so that it is the one kept.
            self.added = on_conn!(tx, |c| {
                let added = sqlx::query(
                    "insert into number_inventory (phone_number, country_code, number_type, area_code,
                         documentation_required)
                     select phone_number, country_code, number_type, area_code, documentation_required
                     from inventory_load order by phone_number collate \"C\", seq
                     on conflict do nothing",
                )
                .execute(&mut *c)
                .await?
                .rows_affected();
                sqlx::query("drop table inventory_load")
                    .execute(&mut *c)
                    .await?;
                Ok::<_, sqlx::Error>(added)
            })?;
        }
        Ok((self.added, self.given - self.added))
    }
}

/// Recomputes every available count from the inventory (after imports and resets).
pub async fn recount_available(tx: &mut Tx) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query("delete from inventory_count")
            .execute(&mut *c)
            .await?;
        sqlx::query(
            "insert into inventory_count (country_code, number_type, area_code, available)
             select country_code, number_type, area_code, count(*) from number_inventory
             where held_by is null group by country_code, number_type, area_code",
        )
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// What the available-number search asks.
#[derive(Debug, Clone)]
pub struct AvailableQuery {
    pub country_code: String,
    pub number_type: NumberType,
    pub area_code: Option<String>,
    /// Digits (and `+`) the number must contain.
    pub fragment: Option<String>,
    pub page: Page,
}

/// Fragments this long or longer are found through the suffix index.
pub const INDEXED_FRAGMENT_MIN: usize = 3;

/// How many index rows a walk through the numbers in order may read per row of a
/// three-character fragment's suffix range (about a number it matches, in any area
/// code) before reading that range is the cheaper way to the page.
///
/// On PostgreSQL a walked row (a narrow index, a substring test) costs about a quarter
/// of a suffix row (a wide index-only tuple, checked for visibility), so a failed walk
/// at most doubles the cost of the range. SQLite reads a suffix row (its b-tree holds
/// whole rows) about as fast as a walked one, and it would not stop a walk early: it
/// reads a subquery's rows to its limit before sorting what passes (the outer order is
/// not known to hold already). It never walks.
fn walk_per_match(backend: Backend) -> i64 {
    match backend {
        Backend::Postgres => 4,
        Backend::Sqlite => 0,
    }
}

/// One page of available numbers, in number order, and how many match.
///
/// - No fragment: the total is a sum of `inventory_count` rows, the page the first rows
///   of an index of the available numbers in number order.
/// - A fragment with a leading + can only match at the start of a number: a range of
///   that index (counted; three characters are a sum of `inventory_gram_count` rows).
/// - Three digits: the total is a sum of `inventory_gram_count` rows. The page walks the
///   numbers in order, testing each, when the matches are frequent enough that the page
///   comes early ([`walk_per_match`]); when they are not, or the walk runs out of its
///   budget before the page (the matches are not spread evenly), the page is the top of
///   the fragment's range of the suffix index (`number_suffix`), read whole and sorted.
/// - Four characters or more: the fragment's range of the suffix index, counted and
///   sorted (a few hundred rows at most for typical numbers).
/// - One or two digits: a scan of the country and type's numbers.
pub async fn search_available(
    tx: &mut Tx,
    q: &AvailableQuery,
) -> Result<(Vec<InventoryEntry>, i64)> {
    let mut binds: Vec<String> = vec![q.country_code.clone(), q.number_type.as_str().to_owned()];
    let mut group = String::from("country_code = $1 and number_type = $2");
    if let Some(a) = &q.area_code {
        binds.push(a.clone());
        group.push_str(&format!(" and area_code = ${}", binds.len()));
    }
    let limit = i64::from(q.page.size);
    let offset = q.page.offset();
    // The page's numbers are listed first (from an index), their entries read after.
    let entries = |listed: &str| {
        format!(
            "select {INVENTORY_COLUMNS} from number_inventory where phone_number in ({listed})
             order by phone_number"
        )
    };
    let (total, rows) = match q.fragment.as_deref() {
        None => {
            let total = fetch_total(
                tx,
                &format!(
                    "select cast(coalesce(sum(available), 0) as bigint) from inventory_count where {group}"
                ),
                &binds,
            )
            .await?;
            let n = binds.len();
            let page = format!(
                "select {INVENTORY_COLUMNS} from number_inventory where held_by is null and {group}
                 order by phone_number limit ${} offset ${}",
                n + 1,
                n + 2
            );
            let rows = fetch_page(tx, &page, &binds, &[limit, offset]).await?;
            (total, rows)
        }
        Some(f) if f.starts_with('+') => {
            // The HTTP layer admits only + and digits, which sort before ':'.
            binds.push(f.to_owned());
            binds.push(format!("{f}:"));
            let n = binds.len();
            let range = format!(
                "held_by is null and {group} and phone_number >= ${} and phone_number < ${n}",
                n - 1
            );
            let total = if f.len() == INDEXED_FRAGMENT_MIN {
                fetch_total(
                    tx,
                    &format!(
                        "select cast(coalesce(sum(available), 0) as bigint) from inventory_gram_count
                         where {group} and gram = ${}",
                        n - 1
                    ),
                    &binds,
                )
                .await?
            } else {
                fetch_total(
                    tx,
                    &format!("select count(*) from number_inventory where {range}"),
                    &binds,
                )
                .await?
            };
            let page = format!(
                "select {INVENTORY_COLUMNS} from number_inventory where {range}
                 order by phone_number limit ${} offset ${}",
                n + 1,
                n + 2
            );
            let rows = fetch_page_of(tx, &page, &binds, total, limit, offset).await?;
            (total, rows)
        }
        Some(f) if f.len() == INDEXED_FRAGMENT_MIN => {
            binds.push(f.to_owned());
            let gram = binds.len();
            // The total; the rows of the fragment's suffix range, which spans every area
            // code; the numbers a walk goes through.
            let (total, range, available): (i64, i64, i64) = on_conn!(tx, |c| {
                let sql = format!(
                    "select (select cast(coalesce(sum(available), 0) as bigint) from inventory_gram_count
                             where {group} and gram = ${gram}),
                            (select cast(coalesce(sum(available), 0) as bigint) from inventory_gram_count
                             where country_code = $1 and number_type = $2 and gram = ${gram}),
                            (select cast(coalesce(sum(available), 0) as bigint) from inventory_count
                             where {group})"
                );
                let mut q = sqlx::query_as(&sql);
                for b in &binds {
                    q = q.bind(b);
                }
                q.fetch_one(&mut *c).await
            })?;
            if total <= offset {
                return Ok((Vec::new(), total));
            }
            let need = limit.min(total - offset);
            // Rows a walk reads to pass the page's last match if matches are spread
            // evenly through the numbers.
            let expected = i128::from(offset + need) * i128::from(available) / i128::from(total);
            let budget = walk_per_match(tx.backend()).saturating_mul(range);
            let walked = if budget > 0 && expected.saturating_mul(2) <= i128::from(budget) {
                let position = match tx.backend() {
                    Backend::Sqlite => "instr",
                    Backend::Postgres => "strpos",
                };
                let walk = entries(&format!(
                    "select phone_number from
                       (select phone_number from number_inventory where held_by is null and {group}
                        order by phone_number limit ${}) walked
                     where {position}(phone_number, ${gram}) > 0
                     order by phone_number limit ${} offset ${}",
                    gram + 1,
                    gram + 2,
                    gram + 3
                ));
                let rows = fetch_page(tx, &walk, &binds, &[budget, limit, offset]).await?;
                // Every earlier match was within the walk when it found the whole page.
                (rows.len() as i64 == need).then_some(rows)
            } else {
                None
            };
            let rows = match walked {
                Some(rows) => rows,
                None => {
                    // The HTTP layer admits only digits, which sort before ':'.
                    binds.push(format!("{f}:"));
                    let n = binds.len();
                    // Each number has exactly one `first` row per three-character string
                    // it contains.
                    let listed = entries(&format!(
                        "select phone_number from number_suffix
                         where {group} and suffix >= ${gram} and suffix < ${n} and first
                         order by phone_number limit ${} offset ${}",
                        n + 1,
                        n + 2
                    ));
                    fetch_page(tx, &listed, &binds, &[limit, offset]).await?
                }
            };
            (total, rows)
        }
        Some(f) if f.len() > INDEXED_FRAGMENT_MIN => {
            // The HTTP layer admits only digits, which sort before ':'.
            binds.push(f.to_owned());
            binds.push(format!("{f}:"));
            let n = binds.len();
            // A longer fragment has few matches, so a distinct is cheap.
            let range = format!("{group} and suffix >= ${} and suffix < ${n}", n - 1);
            let total = fetch_total(
                tx,
                &format!("select count(distinct phone_number) from number_suffix where {range}"),
                &binds,
            )
            .await?;
            let listed = entries(&format!(
                "select distinct phone_number from number_suffix where {range}
                 order by phone_number limit ${} offset ${}",
                n + 1,
                n + 2
            ));
            let rows = fetch_page_of(tx, &listed, &binds, total, limit, offset).await?;
            (total, rows)
        }
        Some(f) => {
            binds.push(
                Match::Contains(f.to_owned())
                    .like_pattern()
                    .unwrap_or_default(),
            );
            let n = binds.len();
            let condition =
                format!("held_by is null and {group} and phone_number like ${n} escape '\\'");
            let total = fetch_total(
                tx,
                &format!("select count(*) from number_inventory where {condition}"),
                &binds,
            )
            .await?;
            let page = format!(
                "select {INVENTORY_COLUMNS} from number_inventory where {condition}
                 order by phone_number limit ${} offset ${}",
                n + 1,
                n + 2
            );
            let rows = fetch_page(tx, &page, &binds, &[limit, offset]).await?;
            (total, rows)
        }
    };
    Ok((
        rows.into_iter().map(inventory).collect::<Result<_>>()?,
        total,
    ))
}

/// A count, with `binds` bound to `$1`, `$2`...
async fn fetch_total(tx: &mut Tx, sql: &str, binds: &[String]) -> Result<i64> {
    Ok(on_conn!(tx, |c| {
        let mut q = sqlx::query_scalar(sql);
        for b in binds {
            q = q.bind(b);
        }
        q.fetch_one(&mut *c).await
    })?)
}

/// Inventory rows, with `binds` bound to `$1`, `$2`... and `numbers` after them (limits
/// and offsets).
/// The page at `offset` of `total` matches: no query when it starts past the end.
async fn fetch_page_of(
    tx: &mut Tx,
    sql: &str,
    binds: &[String],
    total: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<InventoryRow>> {
    if total <= offset {
        return Ok(Vec::new());
    }
    fetch_page(tx, sql, binds, &[limit, offset]).await
}

async fn fetch_page(
    tx: &mut Tx,
    sql: &str,
    binds: &[String],
    numbers: &[i64],
) -> Result<Vec<InventoryRow>> {
    Ok(on_conn!(tx, |c| {
        let mut q = sqlx::query_as(sql);
        for b in binds {
            q = q.bind(b);
        }
        for n in numbers {
            q = q.bind(n);
        }
        q.fetch_all(&mut *c).await
    })?)
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

#[derive(FromRow)]
struct NumberRow {
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

fn number(r: NumberRow) -> Result<(PhoneNumber, i64)> {
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

const NUMBER_COLUMNS: &str =
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
pub async fn get(tx: &mut Tx, account: &AccountId, id: &str) -> Result<Option<(PhoneNumber, i64)>> {
    let sql = format!(
        "select {NUMBER_COLUMNS} from phone_number where account_id = $1 and phone_number_id = $2"
    );
    let row: Option<NumberRow> = on_conn!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(account.as_str())
            .bind(id)
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
    id: &str,
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
        .bind(id)
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
    id: &str,
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
        .bind(id)
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
    id: &str,
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
        .bind(id)
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
    id: &str,
) -> Result<Option<NumberStatus>> {
    let s: Option<Option<String>> = on_conn!(tx, |c| {
        sqlx::query_scalar("select status_before_disable from phone_number where account_id = $1 and phone_number_id = $2")
            .bind(account.as_str())
            .bind(id)
            .fetch_optional(&mut *c)
            .await
    })?;
    Ok(s.flatten().as_deref().and_then(NumberStatus::parse))
}

/// Deletes a number; its E.164 string if it existed.
pub async fn delete(tx: &mut Tx, account: &AccountId, id: &str) -> Result<Option<String>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_scalar("delete from phone_number where account_id = $1 and phone_number_id = $2 returning phone_number")
            .bind(account.as_str())
            .bind(id)
            .fetch_optional(&mut *c)
            .await
    })?)
}

/// A field the number list filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberField {
    PhoneNumber,
    DisplayName,
    CountryCode,
    Type,
    Status,
}

impl NumberField {
    fn column(self) -> &'static str {
        match self {
            NumberField::PhoneNumber => "phone_number",
            NumberField::DisplayName => "display_name",
            NumberField::CountryCode => "country_code",
            NumberField::Type => "number_type",
            NumberField::Status => "status",
        }
    }

    /// Whether every stored value of the column is upper-case ASCII (country codes,
    /// types, statuses): then matching a value while ignoring case is an equality
    /// with the value upper-cased, which an index can serve.
    fn upper_case_values(self) -> bool {
        matches!(
            self,
            NumberField::CountryCode | NumberField::Type | NumberField::Status
        )
    }
}

/// What `GET .../phone-numbers` asks.
#[derive(Debug, Clone)]
pub struct NumberQuery {
    pub filters: Vec<Filter<NumberField>>,
    pub order: OrderBy<NumberField>,
    pub page: Page,
}

/// One page of the account's numbers and how many match.
pub async fn list(
    tx: &mut Tx,
    account: &AccountId,
    q: &NumberQuery,
) -> Result<(Vec<PhoneNumber>, i64)> {
    let mut condition = String::from("account_id = $1");
    let mut binds: Vec<String> = vec![account.as_str().to_owned()];
    for f in &q.filters {
        let col = f.field.column();
        match (&f.matcher, f.matcher.like_pattern()) {
            (_, None) => {
                binds.push(f.matcher.value().to_owned());
                condition.push_str(&format!(" and {col} = ${}", binds.len()));
            }
            // ASCII only: `ß` upper-cases to `SS`, which ignoring case does not match.
            (Match::Equals(v), Some(_)) if f.field.upper_case_values() && v.is_ascii() => {
                binds.push(v.to_ascii_uppercase());
                condition.push_str(&format!(" and {col} = ${}", binds.len()));
            }
            (_, Some(p)) => {
                binds.push(p);
                condition.push_str(&format!(
                    " and lower({col}) like ${} escape '\\'",
                    binds.len()
                ));
            }
        }
    }
    let dir = if q.order.descending { "desc" } else { "asc" };
    // Missing display names sort as empty ones on both backends (NULL ordering
    // differs between them).
    let order = match q.order.field {
        NumberField::DisplayName => "coalesce(display_name, '')",
        other => other.column(),
    };
    let count_sql = format!("select count(*) from phone_number where {condition}");
    let page_sql = format!(
        "select {NUMBER_COLUMNS} from phone_number where {condition}
         order by {order} {dir}, phone_number {dir} limit ${} offset ${}",
        binds.len() + 1,
        binds.len() + 2
    );
    let (total, rows): (i64, Vec<NumberRow>) = on_conn!(tx, |c| {
        let mut count = sqlx::query_scalar(&count_sql);
        let mut page = sqlx::query_as(&page_sql);
        for b in &binds {
            count = count.bind(b);
            page = page.bind(b);
        }
        let total = count.fetch_one(&mut *c).await?;
        let rows = page
            .bind(i64::from(q.page.size))
            .bind(q.page.offset())
            .fetch_all(&mut *c)
            .await?;
        Ok::<_, sqlx::Error>((total, rows))
    })?;
    let numbers = rows
        .into_iter()
        .map(|r| number(r).map(|(n, _)| n))
        .collect::<Result<_>>()?;
    Ok((numbers, total))
}

/// What `find_many` looks numbers up by.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    Id,
    Number,
}

/// The account's numbers among `values` (ids or E.164 numbers), in no set order.
pub async fn find_many(
    tx: &mut Tx,
    account: &AccountId,
    key: Key,
    values: &[String],
) -> Result<Vec<PhoneNumber>> {
    let column = match key {
        Key::Id => "phone_number_id",
        Key::Number => "phone_number",
    };
    let mut out = Vec::with_capacity(values.len());
    // Chunks keep the statement within both backends' parameter limits.
    for chunk in values.chunks(500) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "select {NUMBER_COLUMNS} from phone_number where account_id = $1 and {column} in ({})",
            placeholders.join(", ")
        );
        let rows: Vec<NumberRow> = on_conn!(tx, |c| {
            let mut q = sqlx::query_as(&sql).bind(account.as_str());
            for v in chunk {
                q = q.bind(v);
            }
            q.fetch_all(&mut *c).await
        })?;
        for r in rows {
            out.push(number(r)?.0);
        }
    }
    Ok(out)
}
