//! The available-number search: [`search_available`] picks a strategy by the shape of
//! the fragment asked for, and each strategy (a file here) finds the total and the page.
//!
//! Every strategy answers from an index range or a sum of counts: `inventory_count`
//! (available numbers per country, type and area code), `inventory_gram_count` (the same
//! per three-character string) and the suffix index `number_suffix`, all kept by
//! `numbers::inventory` and rebuilt by `numbers::import` (docs/voice.md).
//!
//! The suffix index holds the rows of every available number and may hold those of
//! held ones: an add leaves them ([`available_row`] sets them aside when read), a
//! release writes only the missing ones, a rebuild drops them. Deleting them was a
//! third of the pages an add wrote, each in another part of the index.

mod gram;
mod prefix;
mod scan;
mod suffix;
mod unfiltered;

use super::inventory::{INVENTORY_COLUMNS, InventoryRow, inventory};
use crate::domain::listing::Page;
use crate::domain::number::{CountryCode, InventoryEntry, NumberType, SearchFragment};
use crate::store::{Backend, Result, Tx, dialect, on_conn};

/// What the available-number search asks.
#[derive(Debug, Clone)]
pub struct AvailableQuery {
    pub country_code: CountryCode,
    pub number_type: NumberType,
    pub area_code: Option<String>,
    /// Digits (and `+`) the number must contain.
    pub fragment: Option<SearchFragment>,
    pub page: Page,
}

/// The condition that the `number_suffix` row `row` (the table or its alias) is an
/// available number's: a look-up in the index of the available numbers
/// (`number_inventory_country`, migration 0005, which holds all it tests), null (false)
/// when there is none. A scalar subquery rather than `exists`, which PostgreSQL turns
/// into a join: the generic plan of the prepared statement (from its sixth run) hashed
/// every available number to test a few hundred rows, 20-40 ms at 200,000 numbers.
fn available_row(backend: Backend, row: &str) -> String {
    format!(
        "(select 1 from number_inventory i{}
          where i.country_code = {row}.country_code and i.number_type = {row}.number_type
            and i.phone_number = {row}.phone_number and i.held_by is null) = 1",
        dialect::read_through(backend, "number_inventory_country")
    )
}

/// Fragments this long or longer are found through the suffix index.
pub const INDEXED_FRAGMENT_MIN: usize = 3;

/// One page of available numbers, in number order, and how many match.
///
/// - No fragment: [`unfiltered`], counts and the numbers in order.
/// - A fragment with a leading + can only match at the start of a number: [`prefix`].
/// - Three digits: [`gram`], counts, then a walk through the numbers in order or the
///   fragment's range of the suffix index.
/// - Four characters or more: [`suffix`], the fragment's range of the suffix index.
/// - One or two digits: [`scan`] of the country and type's numbers.
pub async fn search_available(
    tx: &mut Tx,
    q: &AvailableQuery,
) -> Result<(Vec<InventoryEntry>, i64)> {
    let scope = Scope::of(q);
    let (total, rows) = match &q.fragment {
        None => unfiltered::page(tx, scope).await?,
        Some(f) if f.is_leading() => prefix::page(tx, scope, f).await?,
        Some(f) if f.len() == INDEXED_FRAGMENT_MIN => gram::page(tx, scope, f).await?,
        Some(f) if f.len() > INDEXED_FRAGMENT_MIN => suffix::page(tx, scope, f).await?,
        Some(f) => scan::page(tx, scope, f).await?,
    };
    Ok((
        rows.into_iter().map(inventory).collect::<Result<_>>()?,
        total,
    ))
}

/// What every strategy starts from: the country, type and area code as a condition on
/// the first parameters, and the page.
struct Scope {
    /// Bound to `$1`, `$2`...: the country code, the type, the area code if asked;
    /// strategies push theirs after.
    binds: Vec<String>,
    /// The condition on country, type and area code, over `binds`.
    group: String,
    limit: i64,
    offset: i64,
}

impl Scope {
    fn of(q: &AvailableQuery) -> Self {
        let mut binds: Vec<String> = vec![
            q.country_code.as_str().to_owned(),
            q.number_type.as_str().to_owned(),
        ];
        let mut group = String::from("country_code = $1 and number_type = $2");
        if let Some(a) = &q.area_code {
            binds.push(a.clone());
            group.push_str(&format!(" and area_code = ${}", binds.len()));
        }
        Scope {
            binds,
            group,
            limit: i64::from(q.page.size),
            offset: q.page.offset(),
        }
    }
}

/// The inventory entries of the numbers `listed` selects, in number order: a page's
/// numbers are listed first (from an index), their entries read after.
fn entries_of(listed: &str) -> String {
    format!(
        "select {INVENTORY_COLUMNS} from number_inventory where phone_number in ({listed})
         order by phone_number"
    )
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

/// Inventory rows, with `binds` bound to `$1`, `$2`... and `numbers` after them (limits
/// and offsets).
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
