//! Imports: many inventory entries loaded in one transaction, then the available counts
//! recomputed and the search rows rebuilt from scratch.

use std::sync::Arc;

use futures_util::TryStreamExt;
use sqlx::Row;

use super::inventory::insert_inventory;
use super::search_rows::SearchRows;
use crate::domain::number::InventoryEntry;
use crate::store::bulk::{Bulk, Value};
use crate::store::{Backend, Result, Tx, dialect, on_conn};

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

    let before = dialect::clear_suffix_index(tx.backend());
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
    let after = dialect::restore_suffix_index(tx.backend());
    on_conn!(tx, |c| {
        for sql in after {
            sqlx::query(sql).execute(&mut *c).await?;
        }
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(())
}

/// Every available number, for `search_rows`.
async fn available_search_rows(tx: &mut Tx) -> Result<SearchRows> {
    // One row per country, type and area code: a million rows one by one cost seconds
    // on SQLite (each crosses from its thread), their text joined a fraction of that. A
    // number has no comma (E.164).
    let joined = dialect::join_with_commas(tx.backend(), "phone_number");
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
