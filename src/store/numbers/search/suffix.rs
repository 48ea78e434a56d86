//! Four characters or more: the fragment's range of the suffix index (`number_suffix`),
//! less the rows of held numbers, counted and sorted (a few hundred rows at most for
//! typical numbers).

use super::{Scope, available_row, entries_of, fetch_page_of, fetch_total};
use crate::domain::number::SearchFragment;
use crate::store::numbers::inventory::InventoryRow;
use crate::store::{Result, Tx};

/// The total and the page of the numbers that contain `f`, four characters or more.
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
    // A fragment holds only digits here, which sort before ':'.
    binds.push(f.to_owned());
    binds.push(format!("{f}:"));
    let n = binds.len();
    // A longer fragment has few matches, so a distinct is cheap.
    let range = format!(
        "{group} and suffix >= ${} and suffix < ${n} and {}",
        n - 1,
        available_row(tx.backend(), "number_suffix")
    );
    let total = fetch_total(
        tx,
        &format!("select count(distinct phone_number) from number_suffix where {range}"),
        &binds,
    )
    .await?;
    let listed = entries_of(&format!(
        "select distinct phone_number from number_suffix where {range}
         order by phone_number limit ${} offset ${}",
        n + 1,
        n + 2
    ));
    let rows = fetch_page_of(tx, &listed, &binds, total, limit, offset).await?;
    Ok((total, rows))
}
