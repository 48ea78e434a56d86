//! The pages of an account's numbers (`GET …/phone-numbers`), each read from an index in
//! the asked order (migration 0016).
//!
//! A page costs three short statements, whatever the page number:
//!
//! 1. the exact total: for no filter or equality filters on status, country and type,
//!    the sum of a few rows of `phone_number_tally` (kept in step by triggers); for other
//!    filters a count over the account's rows, unless a first read of a few matches
//!    (`probe`) found them all, which then also gives step 2;
//! 2. the ids of the page: a range of the index of the orderBy field, read in the asked
//!    order without touching a row (the index carries the filtered columns and the id),
//!    skipping the earlier matches. A page in the second half is read from the other
//!    end of the index, in the opposite order, and turned round, so that the deepest
//!    page skips no more than half the matches;
//! 3. the rows of those ids, by primary key.

use std::collections::HashMap;

use super::held::{Key, find_many};
use crate::domain::AccountId;
use crate::domain::listing::{Filter, Match, OrderBy, Page};
use crate::domain::number::PhoneNumber;
use crate::store::{Backend, Result, Tx, dialect, on_conn};

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

    /// The column as the pages are ordered by it. Missing display names sort as empty
    /// ones on both backends (NULL ordering differs between them); the index of the
    /// field has the same expression.
    fn order_key(self) -> &'static str {
        match self {
            NumberField::DisplayName => "coalesce(display_name, '')",
            other => other.column(),
        }
    }
}

/// What `GET .../phone-numbers` asks.
#[derive(Debug, Clone)]
pub struct NumberQuery {
    pub filters: Vec<Filter<NumberField>>,
    pub order: OrderBy<NumberField>,
    pub page: Page,
}

/// The `where` of a query: its text (`$1` is the account) and the values bound after the
/// account, and which fields it tests for equality.
///
/// A condition with a `like` pattern is sent as an unnamed statement
/// (`persistent(false)`), planned for its pattern each time. Prepared and reused,
/// PostgreSQL moved to a generic plan after five runs: not knowing how rare `%4242%`
/// is, it walked the number index in order and tested all 100,000 entries (29 ms)
/// where a scan and a sort of the 70 matches took 18.
#[derive(Clone)]
struct Condition {
    sql: String,
    binds: Vec<String>,
    equal: Vec<NumberField>,
    /// Whether every test is an equality on a column of `phone_number_tally`, so that the
    /// same text counts there.
    tallied: bool,
    /// Whether it tests the display name.
    reads_name: bool,
    /// Whether it holds a `like` pattern: then its statements are planned each time.
    like: bool,
    /// Whether it tests the display name against a non-empty value, which neither a
    /// missing name nor an empty one can match.
    names_required: bool,
}

fn condition(backend: Backend, filters: &[Filter<NumberField>]) -> Condition {
    let mut c = Condition {
        sql: String::from("account_id = $1"),
        binds: Vec::new(),
        equal: Vec::new(),
        tallied: true,
        reads_name: false,
        like: false,
        names_required: false,
    };
    for f in filters {
        let col = f.field.column();
        let at = c.binds.len() + 2;
        c.reads_name |= f.field == NumberField::DisplayName;
        // Every wildcard of a value is escaped (`Match::like_pattern`): a non-empty value
        // matches only a name that holds at least one character.
        c.names_required |= f.field == NumberField::DisplayName && !f.matcher.value().is_empty();
        let equal = match (&f.matcher, f.matcher.like_pattern()) {
            (_, None) => Some(f.matcher.value().to_owned()),
            // ASCII only: `ß` upper-cases to `SS`, which ignoring case does not match.
            (Match::Equals(v), Some(_)) if f.field.upper_case_values() && v.is_ascii() => {
                Some(v.to_ascii_uppercase())
            }
            (_, Some(p)) => {
                let tested = match (f.field, backend) {
                    // E.164 numbers hold no letters: nothing to fold.
                    (NumberField::PhoneNumber, _) => col.to_owned(),
                    // Lower-cased once, when written (migration 0020), rather than
                    // for every name a scan passes.
                    (NumberField::DisplayName, Backend::Postgres) => {
                        "display_name_folded".to_owned()
                    }
                    _ => dialect::lower_for_like(backend, col),
                };
                c.binds.push(p);
                c.sql
                    .push_str(&format!(" and {tested} like ${at} escape '\\'"));
                c.tallied = false;
                c.like = true;
                None
            }
        };
        if let Some(v) = equal {
            c.and_equal(f.field, v);
        }
    }
    c
}

impl Condition {
    /// Adds the test `field = value`.
    fn and_equal(&mut self, field: NumberField, value: String) {
        self.binds.push(value);
        self.sql.push_str(&format!(
            " and {} = ${}",
            field.column(),
            self.binds.len() + 1
        ));
        self.equal.push(field);
        self.tallied &= field.upper_case_values();
    }

    /// Whether a page in `order`'s order is found through the tally's matches per value
    /// of `order` ([`ids_by_group`]): every test an equality the tally counts, at least
    /// one, none on `order` itself, and `order` a tallied field (country or type).
    fn groups_by(&self, order: NumberField) -> bool {
        self.tallied
            && order.upper_case_values()
            && !self.equal.is_empty()
            && !self.equal.contains(&order)
    }
}

/// The index a page is read from: the orderBy field's. In the default order an equality
/// on country, type or status picks that field's index instead, which holds the same
/// order after the equality, so the filter is a range rather than a test of every entry.
fn index_of(order: NumberField, equal: &[NumberField]) -> &'static str {
    match order {
        NumberField::DisplayName => "phone_number_by_name",
        NumberField::CountryCode => "phone_number_by_country",
        NumberField::Type => "phone_number_by_type",
        NumberField::PhoneNumber | NumberField::Status => {
            if equal.contains(&NumberField::CountryCode) {
                "phone_number_by_country"
            } else if equal.contains(&NumberField::Type) {
                "phone_number_by_type"
            } else if equal.contains(&NumberField::Status) {
                "phone_number_by_status"
            } else {
                "phone_number_by_number"
            }
        }
    }
}

/// Where a page lies in the index: how many matches to skip and how many to take, from
/// which end. A page in the second half of `total` matches is read backwards from the
/// end (`reversed`), so that no page skips more than half of them.
#[derive(Debug, PartialEq, Eq)]
struct Window {
    skip: i64,
    take: i64,
    reversed: bool,
}

fn window(page: Page, total: i64) -> Option<Window> {
    let offset = page.offset();
    let take = i64::from(page.size).min(total - offset);
    if take <= 0 {
        return None;
    }
    let from_end = total - offset - take;
    Some(if from_end < offset {
        Window {
            skip: from_end,
            take,
            reversed: true,
        }
    } else {
        Window {
            skip: offset,
            take,
            reversed: false,
        }
    })
}

/// The most matches of an untallied filter that a page reads in one pass (see [`list`]).
const PROBE: usize = 250;

/// One page of the account's numbers and how many match.
///
/// A filter the tally cannot count (a contains-filter, say) is counted by testing each
/// of the account's index entries, and a rare match is found by reading as many: two
/// passes over a large account for its first page. So such a page first reads the
/// first [`PROBE`] matches in the asked order; fewer means that was all of them, and
/// both the total and the page come from that one pass.
pub async fn list(
    tx: &mut Tx,
    account: &AccountId,
    q: &NumberQuery,
) -> Result<(Vec<PhoneNumber>, i64)> {
    let cond = condition(tx.backend(), &q.filters);
    let probed = if cond.tallied {
        None
    } else {
        probe(tx, account, &cond, q).await?
    };
    let (ids, total) = match probed {
        Some(found) => found,
        None => {
            let total = count(tx, account, &cond).await?;
            (page_ids(tx, account, &cond, q, total).await?, total)
        }
    };
    let position: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let keys: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut numbers = find_many(tx, account, Key::Id, &keys).await?;
    numbers.sort_by_key(|n| position.get(n.phone_number_id.as_str()).copied());
    Ok((numbers, total))
}

/// The page `q` asks and the total, from one read of the first [`PROBE`] matches in the
/// asked order; `None` when there are more, and the page needs a count.
async fn probe(
    tx: &mut Tx,
    account: &AccountId,
    cond: &Condition,
    q: &NumberQuery,
) -> Result<Option<(Vec<String>, i64)>> {
    let stretch = Stretch {
        field: q.order.field,
        descending: q.order.descending,
        take: PROBE as i64 + 1,
        skip: 0,
    };
    let first = ids_in_order(tx, account, cond, stretch).await?;
    if first.len() > PROBE {
        return Ok(None);
    }
    let total = first.len() as i64;
    let skip = usize::try_from(q.page.offset()).unwrap_or(usize::MAX);
    let page = first.into_iter().skip(skip).take(q.page.size as usize);
    Ok(Some((page.collect(), total)))
}

/// How many of the account's numbers meet `cond`.
async fn count(tx: &mut Tx, account: &AccountId, cond: &Condition) -> Result<i64> {
    let sql = if cond.tallied {
        format!(
            "select cast(coalesce(sum(n), 0) as bigint) from phone_number_tally where {}",
            cond.sql
        )
    } else {
        // Through an index that holds every filtered column, so that the count reads
        // index entries rather than every row.
        let index = if cond.reads_name {
            "phone_number_by_name"
        } else {
            index_of(NumberField::PhoneNumber, &cond.equal)
        };
        // SQLite counts on the name index (`*ta*` among 100,000 names: 12.4 ms instead
        // of 14.3). PostgreSQL counts on the table, where the range is one more test.
        let named = match tx.backend() {
            Backend::Sqlite if cond.names_required => NAMED,
            _ => "",
        };
        format!(
            "select count(*) from phone_number{} where {}{named}",
            dialect::read_through(tx.backend(), index),
            cond.sql
        )
    };
    Ok(on_conn!(tx, |c| {
        let mut count = sqlx::query_scalar(&sql)
            .persistent(!cond.like)
            .bind(account.as_str());
        for b in &cond.binds {
            count = count.bind(b);
        }
        count.fetch_one(&mut *c).await
    })?)
}

/// The ids of the page `q` asks of `total` matches, in the asked order.
async fn page_ids(
    tx: &mut Tx,
    account: &AccountId,
    cond: &Condition,
    q: &NumberQuery,
    total: i64,
) -> Result<Vec<String>> {
    let Some(w) = window(q.page, total) else {
        return Ok(Vec::new());
    };
    let stretch = Stretch {
        field: q.order.field,
        descending: q.order.descending != w.reversed,
        take: w.take,
        skip: w.skip,
    };
    let mut ids = if cond.groups_by(stretch.field) {
        ids_by_group(tx, account, cond, stretch).await?
    } else {
        ids_in_order(tx, account, cond, stretch).await?
    };
    if w.reversed {
        ids.reverse();
    }
    Ok(ids)
}

/// A stretch of the matches in one order: `take` of them after the first `skip`.
#[derive(Debug, Clone, Copy)]
struct Stretch {
    field: NumberField,
    descending: bool,
    take: i64,
    skip: i64,
}

impl Stretch {
    /// The SQL direction of its order.
    fn dir(self) -> &'static str {
        if self.descending { "desc" } else { "asc" }
    }
}

/// The ids of a stretch ordered by `field` (country or type), when `cond` holds only
/// equalities and none on `field`: the tally says how many matches each value of `field`
/// has, so the page is found in the values it spans, each read as a range of the
/// filter's index in number order. The field's own index, read in
/// its order, tests every entry before the page: the IE numbers of an account ordered by
/// type come after all its US ones in each type (45,000 entries skipped for page 1).
async fn ids_by_group(
    tx: &mut Tx,
    account: &AccountId,
    cond: &Condition,
    stretch: Stretch,
) -> Result<Vec<String>> {
    let (field, dir) = (stretch.field, stretch.dir());
    let (mut take, mut skip) = (stretch.take, stretch.skip);
    let col = field.column();
    let sql = format!(
        "select {col}, cast(sum(n) as bigint) from phone_number_tally where {}
         group by {col} order by {col} {dir}",
        cond.sql
    );
    let groups: Vec<(String, i64)> = on_conn!(tx, |c| {
        let mut q = sqlx::query_as(&sql).bind(account.as_str());
        for b in &cond.binds {
            q = q.bind(b);
        }
        q.fetch_all(&mut *c).await
    })?;
    let mut ids = Vec::new();
    for (value, n) in groups {
        if take <= 0 {
            break;
        }
        if skip >= n {
            skip -= n;
            continue;
        }
        let mut group = cond.clone();
        group.and_equal(field, value);
        let in_group = Stretch {
            field: NumberField::PhoneNumber,
            take,
            skip,
            ..stretch
        };
        let part = ids_in_order(tx, account, &group, in_group).await?;
        take -= part.len() as i64;
        skip = 0;
        ids.extend(part);
    }
    Ok(ids)
}

/// Numbers without a name sort first in name order (as empty names): when the filter
/// excludes them ([`Condition::names_required`]), a read of the name index starts after
/// them rather than testing each (15,000 entries of bench/lists.sh's 100,000).
const NAMED: &str = " and coalesce(display_name, '') > ''";

/// The ids of a stretch, read from its order field's index.
async fn ids_in_order(
    tx: &mut Tx,
    account: &AccountId,
    cond: &Condition,
    stretch: Stretch,
) -> Result<Vec<String>> {
    let (field, dir) = (stretch.field, stretch.dir());
    // Ties are broken by the number; the number needs no tie-break (it is unique), and
    // SQLite sorts again for `order by phone_number, phone_number`.
    let order = match field {
        NumberField::PhoneNumber => format!("phone_number {dir}"),
        f => format!("{} {dir}, phone_number {dir}", f.order_key()),
    };
    let named = if field == NumberField::DisplayName && cond.names_required {
        NAMED
    } else {
        ""
    };
    let sql = format!(
        "select phone_number_id from phone_number{} where {}{named} order by {order} limit ${} offset ${}",
        dialect::read_through(tx.backend(), index_of(field, &cond.equal)),
        cond.sql,
        cond.binds.len() + 2,
        cond.binds.len() + 3,
    );
    Ok(on_conn!(tx, |c| {
        let mut page = sqlx::query_scalar(&sql)
            .persistent(!cond.like)
            .bind(account.as_str());
        for b in &cond.binds {
            page = page.bind(b);
        }
        page.bind(stretch.take)
            .bind(stretch.skip)
            .fetch_all(&mut *c)
            .await
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(number: u32, size: u32) -> Page {
        Page { number, size }
    }

    #[test]
    fn pages_in_the_first_half_are_read_forwards() {
        assert_eq!(
            window(page(1, 50), 100_000),
            Some(Window {
                skip: 0,
                take: 50,
                reversed: false
            })
        );
        // The middle page of three: as many before it as after, read forwards.
        assert_eq!(window(page(2, 5), 15).map(|w| w.reversed), Some(false));
    }

    #[test]
    fn pages_in_the_second_half_are_read_from_the_end() {
        // The last page of 100,000 is the first 50 from the end.
        assert_eq!(
            window(page(2000, 50), 100_000),
            Some(Window {
                skip: 0,
                take: 50,
                reversed: true
            })
        );
        // A short last page: 7 of 107, none skipped from the end.
        assert_eq!(
            window(page(3, 50), 107),
            Some(Window {
                skip: 0,
                take: 7,
                reversed: true
            })
        );
        assert_eq!(
            window(page(3, 5), 11),
            Some(Window {
                skip: 0,
                take: 1,
                reversed: true
            })
        );
    }

    #[test]
    fn pages_past_the_end_read_nothing() {
        assert_eq!(window(page(3, 50), 100), None);
        assert_eq!(window(page(1, 50), 0), None);
    }

    #[test]
    fn the_default_order_takes_the_index_of_an_equality() {
        use NumberField::*;
        assert_eq!(index_of(PhoneNumber, &[]), "phone_number_by_number");
        assert_eq!(index_of(PhoneNumber, &[Status]), "phone_number_by_status");
        assert_eq!(
            index_of(PhoneNumber, &[Status, Type]),
            "phone_number_by_type"
        );
        assert_eq!(index_of(PhoneNumber, &[Type]), "phone_number_by_type");
        assert_eq!(
            index_of(PhoneNumber, &[Type, CountryCode]),
            "phone_number_by_country"
        );
        assert_eq!(
            index_of(DisplayName, &[CountryCode]),
            "phone_number_by_name"
        );
    }

    #[test]
    fn only_a_name_filter_with_a_value_requires_a_name() {
        use NumberField::*;
        let required = |field, matcher| {
            condition(Backend::Postgres, &[Filter { field, matcher }]).names_required
        };
        assert!(required(DisplayName, Match::Contains("ta".into())));
        assert!(required(DisplayName, Match::Prefix("%".into())));
        assert!(required(DisplayName, Match::Exact("Line 1".into())));
        // `displayName=` asks for the empty names.
        assert!(!required(DisplayName, Match::Exact(String::new())));
        assert!(!required(PhoneNumber, Match::Contains("42".into())));
        assert!(!condition(Backend::Sqlite, &[]).names_required);
    }

    #[test]
    fn only_equalities_on_status_country_and_type_are_tallied() {
        let f = |field, matcher| Filter { field, matcher };
        let c = condition(
            Backend::Sqlite,
            &[
                f(NumberField::Status, Match::Equals("active".into())),
                f(NumberField::CountryCode, Match::Exact("US".into())),
            ],
        );
        assert!(c.tallied);
        assert_eq!(
            c.sql,
            "account_id = $1 and status = $2 and country_code = $3"
        );
        assert_eq!(c.binds, ["ACTIVE", "US"]);
        assert!(
            !condition(
                Backend::Sqlite,
                &[f(NumberField::Type, Match::Prefix("LOC".into()))]
            )
            .tallied
        );
        assert!(
            !condition(
                Backend::Sqlite,
                &[f(NumberField::PhoneNumber, Match::Exact("+1".into()))]
            )
            .tallied
        );
    }
}
