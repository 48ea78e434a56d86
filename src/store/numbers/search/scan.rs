//! One or two digits, too short for the suffix index: a scan of the country and type's
//! available numbers with `like`.

use super::{Scope, fetch_page, fetch_total};
use crate::domain::listing::Match;
use crate::domain::number::SearchFragment;
use crate::store::numbers::inventory::{INVENTORY_COLUMNS, InventoryRow};
use crate::store::{Result, Tx};

/// The total and the page of the numbers that contain `f`, one or two digits.
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
    binds.push(
        Match::Contains(f.to_owned())
            .like_pattern()
            .unwrap_or_default(),
    );
    let n = binds.len();
    let condition = format!("held_by is null and {group} and phone_number like ${n} escape '\\'");
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
    Ok((total, rows))
}
