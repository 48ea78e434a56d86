//! A fragment with a leading +, which can only match at the start of a number: a range
//! of the index of the available numbers in number order, counted (three characters are
//! a sum of `inventory_gram_count` rows instead).

use super::{INDEXED_FRAGMENT_MIN, Scope, fetch_page_of, fetch_total};
use crate::domain::number::SearchFragment;
use crate::store::numbers::inventory::{INVENTORY_COLUMNS, InventoryRow};
use crate::store::{Result, Tx};

/// The total and the page of the numbers that start with `f`.
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
    // A fragment holds only + and digits, which sort before ':'.
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
    Ok((total, rows))
}
