//! Three digits: the total is a sum of `inventory_gram_count` rows. The page walks the
//! numbers in order, testing each, when the matches are frequent enough that the page
//! comes early (`dialect::walk_per_match`); when they are not, or the walk runs out of
//! its budget before the page (the matches are not spread evenly), the page is the top of
//! the fragment's range of the suffix index (`number_suffix`), sorted, less the rows of
//! held numbers.

use super::{Scope, available_row, entries_of, fetch_page};
use crate::domain::number::SearchFragment;
use crate::store::numbers::inventory::InventoryRow;
use crate::store::{Result, Tx, dialect, on_conn};

/// The total and the page of the numbers that contain the three digits `f`.
pub(super) async fn page(
    tx: &mut Tx,
    s: Scope,
    f: &SearchFragment,
) -> Result<(i64, Vec<InventoryRow>)> {
    let Scope {
        mut binds,
        group,
        limit,
        offset,
    } = s;
    let f = f.as_str();
    binds.push(f.to_owned());
    let gram = binds.len();
    // The total; the rows of the fragment's suffix range, which spans every area code;
    // the numbers a walk goes through.
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
        return Ok((total, Vec::new()));
    }
    let need = limit.min(total - offset);
    // Rows a walk reads to pass the page's last match if matches are spread evenly
    // through the numbers.
    let expected = i128::from(offset + need) * i128::from(available) / i128::from(total);
    let budget = dialect::walk_per_match(tx.backend()).saturating_mul(range);
    let walked = if budget > 0 && expected.saturating_mul(2) <= i128::from(budget) {
        let position = dialect::position(tx.backend());
        let walk = entries_of(&format!(
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
            // A fragment holds only digits here, which sort before ':'.
            binds.push(format!("{f}:"));
            let n = binds.len();
            // Each number has exactly one `first` row per three-character string it
            // contains. The range's rows are sorted (the first `cap` of them) and
            // tested for a held number's only up to the page's end; the subquery's own
            // limit also keeps SQLite from merging it into the outer query, which
            // would test every row before sorting.
            let listed = entries_of(&format!(
                "select phone_number from
                   (select country_code, number_type, phone_number from number_suffix
                    where {group} and suffix >= ${gram} and suffix < ${n} and first
                    order by phone_number limit ${}) candidate
                 where {}
                 limit ${} offset ${}",
                n + 1,
                available_row(tx.backend(), "candidate"),
                n + 2,
                n + 3
            ));
            // Room for as many held numbers' rows as the page has rows before them,
            // and some; all of the range when that was not enough.
            let cap = (offset + limit).saturating_mul(2).saturating_add(64);
            let rows = fetch_page(tx, &listed, &binds, &[cap, limit, offset]).await?;
            if rows.len() as i64 == need {
                rows
            } else {
                fetch_page(tx, &listed, &binds, &[i64::MAX, limit, offset]).await?
            }
        }
    };
    Ok((total, rows))
}
