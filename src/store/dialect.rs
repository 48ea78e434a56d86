//! Every piece of SQL that differs between SQLite and PostgreSQL, one named function
//! each.
//!
//! Store code writes its SQL once for both backends ([`on_conn!`](super::on_conn)) and
//! asks here for the few words that must differ, so that a reader comparing the dialects
//! finds them all in one file, and a query reads as one text with a named hole rather
//! than as two copies. Procedures that differ as a whole rather than by a word stay with
//! their type, where the difference is the point of the code:
//!
//! - `Db` and `Tx` (`store/mod.rs`): pools, `BEGIN IMMEDIATE`, relaxed durability and
//!   bulk-load memory;
//! - `Bulk` (`store/bulk.rs`): `COPY` on PostgreSQL, multi-row inserts on SQLite;
//! - `InventoryLoad` (`store/numbers/import.rs`): a staging table on PostgreSQL, inserts
//!   as they come on SQLite;
//! - the suffix index's rebuild (`numbers::import::reindex_available`), which uses
//!   [`clear_suffix_index`] and [`restore_suffix_index`] below.

use super::Backend;
use crate::domain::listing::Match;

/// The `values` list of a multi-row insert of `rows` rows of `width` parameters.
///
/// SQLite gets anonymous parameters: sqlx looks each numbered one up by name, which
/// SQLite answers with a linear search, so 5,000 `$n` cost more than the inserts.
pub(super) fn values_rows(backend: Backend, rows: usize, width: usize) -> String {
    let mut sql = String::new();
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        let row: Vec<String> = (1..=width)
            .map(|k| match backend {
                Backend::Sqlite => "?".to_owned(),
                Backend::Postgres => format!("${}", i * width + k),
            })
            .collect();
        sql.push('(');
        sql.push_str(&row.join(", "));
        sql.push(')');
    }
    sql
}

/// The function giving the 1-based position of a string in another (0 if absent).
pub(super) fn position(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "instr",
        Backend::Postgres => "strpos",
    }
}

/// The `order by` an `insert … select` into a table keyed by `order` ends with: on SQLite
/// rows in key order append to the table (a b-tree) rather than scattering; PostgreSQL's
/// heap does not care, so it skips the sort.
pub(super) fn insert_in_key_order(backend: Backend, order: &'static str) -> &'static str {
    match backend {
        Backend::Sqlite => order,
        Backend::Postgres => "",
    }
}

/// The aggregate joining the text of `column` with commas.
pub(super) fn join_with_commas(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({column}, ',')"),
        Backend::Postgres => format!("string_agg({column}, ',')"),
    }
}

/// Empties `number_suffix` before a rebuild. PostgreSQL also drops its key (migration
/// 0012's), so that the key is built once over rows already sorted
/// ([`restore_suffix_index`]); `truncate` lets `COPY … FREEZE` write the rows frozen.
pub(super) fn clear_suffix_index(backend: Backend) -> &'static [&'static str] {
    match backend {
        Backend::Sqlite => &["delete from number_suffix"],
        Backend::Postgres => &[
            "truncate number_suffix",
            "alter table number_suffix drop constraint number_suffix_pkey",
        ],
    }
}

/// Ends a rebuild of `number_suffix` that [`clear_suffix_index`] began: PostgreSQL builds
/// the key again and refreshes the planner's statistics of the search tables. SQLite
/// kept its key all along.
pub(super) fn restore_suffix_index(backend: Backend) -> &'static [&'static str] {
    match backend {
        Backend::Sqlite => &[],
        Backend::Postgres => &[
            "alter table number_suffix add constraint number_suffix_pkey
             primary key (country_code, number_type, suffix, phone_number)
             include (area_code, first)",
            "analyze number_suffix, inventory_gram_count",
        ],
    }
}

/// How many index rows the available-number search's walk through the numbers in order
/// may read per row of a three-character fragment's suffix range (about a number it
/// matches, in any area code) before reading that range is the cheaper way to the page
/// (`numbers::search`).
///
/// On PostgreSQL a walked row (a narrow index, a substring test) costs about a quarter
/// of a suffix row (a wide index-only tuple, checked for visibility), so a failed walk
/// at most doubles the cost of the range. SQLite reads a suffix row (its b-tree holds
/// whole rows) about as fast as a walked one, and it would not stop a walk early: it
/// reads a subquery's rows to its limit before sorting what passes (the outer order is
/// not known to hold already). It never walks.
pub(super) fn walk_per_match(backend: Backend) -> i64 {
    match backend {
        Backend::Postgres => 4,
        Backend::Sqlite => 0,
    }
}

/// What a select that locks the rows it reads ends with: PostgreSQL's row lock until
/// commit; SQLite has one writer, so its write transactions are serial already.
pub(super) fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => " for update",
        Backend::Sqlite => "",
    }
}

/// What a job claim's subselect ends with: PostgreSQL lets concurrent claimers skip rows
/// another transaction holds; SQLite has one writer, so the plain statement is already
/// atomic.
pub(super) fn skip_locked(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => " for update skip locked",
        Backend::Sqlite => "",
    }
}

/// The statement that locks an account row until commit (`$1` the account), where one
/// is needed: SQLite has one writer, so its write transactions are serial already.
pub(super) fn lock_account(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Postgres => {
            Some("select account_id from account where account_id = $1 for update")
        }
        Backend::Sqlite => None,
    }
}

/// The words after a table name that make a query read it through `index`. SQLite's
/// planner has no statistics (ccadmin does not run ANALYZE) and takes an index whose
/// equalities narrow the range but then sorts, over the index that gives the asked order
/// (`numbers::held::list`); PostgreSQL's statistics choose well, and it has no hints.
pub(super) fn read_through(backend: Backend, index: &str) -> String {
    match backend {
        Backend::Sqlite => format!(" indexed by {index}"),
        Backend::Postgres => String::new(),
    }
}

/// `column` as a case-insensitive `like` compares it with a lower-cased pattern. On
/// SQLite the column itself: its `like` already ignores ASCII case, and its `lower()`
/// folds nothing else, so a call per row would change no match (it tripled the cost
/// of a contains-filter over 100,000 names). PostgreSQL's `like` is case-sensitive.
pub(super) fn lower_for_like(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => column.to_owned(),
        Backend::Postgres => format!("lower({column})"),
    }
}

/// The audit search's test of `keyword` against a record (`$N` its parameter) and the
/// value bound to it. SQLite's trigram index is the FTS5 table `audit_record_fts`,
/// queried with a quoted phrase; PostgreSQL's `pg_trgm` index serves `like`. The
/// trigram indexes need 3 characters; shorter keywords scan the account's records in
/// the date range with `like` on both.
pub(super) fn audit_keyword(backend: Backend, keyword: &str) -> (&'static str, String) {
    match backend {
        Backend::Sqlite if keyword.chars().count() >= 3 => (
            " and seq in (select rowid from audit_record_fts where audit_record_fts match $N)",
            format!("\"{}\"", keyword.replace('"', "\"\"")),
        ),
        _ => (
            " and search_text like $N escape '\\'",
            Match::Contains(keyword.to_owned())
                .like_pattern()
                .unwrap_or_default(),
        ),
    }
}

/// Locks the rows a `select` reads until the transaction ends: PostgreSQL's `for
/// update`; `None` on SQLite, whose write transactions (`BEGIN IMMEDIATE`) hold the
/// database's one write lock already, so there is nothing to run.
pub(super) fn row_lock(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(" for update"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_rows_are_anonymous_on_sqlite_and_numbered_on_postgres() {
        assert_eq!(values_rows(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(values_rows(Backend::Postgres, 2, 2), "($1, $2), ($3, $4)");
    }
}
