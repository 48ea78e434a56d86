//! No fragment: the total is a sum of `inventory_count` rows, the page the first rows of
//! an index of the available numbers in number order.

use super::{Scope, fetch_page, fetch_total};
use crate::store::numbers::inventory::{INVENTORY_COLUMNS, InventoryRow};
use crate::store::{Result, Tx};

/// The total and the page of every available number in the scope.
pub(super) async fn page(tx: &mut Tx, s: Scope) -> Result<(i64, Vec<InventoryRow>)> {
    let Scope {
        binds,
        group,
        limit,
        offset,
    } = s;
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
    Ok((total, rows))
}
