//! The emulator's injected faults.

use sqlx::FromRow;

use super::{Result, Tx, on_conn};
use crate::domain::AccountId;
use crate::domain::fault::{Fault, FaultAction, PathPattern};

#[derive(FromRow)]
struct FaultRow {
    name: String,
    method: String,
    path: String,
    account_id: Option<String>,
    status: Option<i32>,
    delay_ms: Option<i64>,
    drop_connection: bool,
    probability_ppm: i64,
    remaining: Option<i64>,
}

impl From<FaultRow> for Fault {
    fn from(r: FaultRow) -> Self {
        Fault {
            name: r.name,
            method: r.method,
            path: PathPattern::new(r.path),
            // Written validated; a row that no longer parses matches no account.
            account_id: r.account_id.and_then(|a| AccountId::try_from(a).ok()),
            action: FaultAction {
                status: r.status.and_then(|s| u16::try_from(s).ok()),
                delay_ms: r.delay_ms.and_then(|d| u64::try_from(d).ok()),
                drop: r.drop_connection,
            },
            probability_ppm: r.probability_ppm,
            times: r.remaining,
        }
    }
}

/// Every fault, by name (the order in which they are tried).
pub async fn all(tx: &mut Tx) -> Result<Vec<Fault>> {
    let rows: Vec<FaultRow> = on_conn!(tx, |c| {
        sqlx::query_as(
            "select name, method, path, account_id, status, delay_ms, drop_connection,
                    probability_ppm, remaining
             from emulator_fault order by name",
        )
        .fetch_all(&mut *c)
        .await
    })?;
    Ok(rows.into_iter().map(Fault::from).collect())
}

/// Sets the fault of its name (replacing one set before, uses left included).
pub async fn put(tx: &mut Tx, f: &Fault, now: i64) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into emulator_fault (name, method, path, account_id, status, delay_ms,
                 drop_connection, probability_ppm, remaining, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             on conflict (name) do update set method = excluded.method, path = excluded.path,
                 account_id = excluded.account_id, status = excluded.status,
                 delay_ms = excluded.delay_ms, drop_connection = excluded.drop_connection,
                 probability_ppm = excluded.probability_ppm, remaining = excluded.remaining,
                 updated_at = excluded.updated_at",
        )
        .bind(&f.name)
        .bind(&f.method)
        .bind(f.path.as_str())
        .bind(f.account_id.as_ref().map(AccountId::as_str))
        .bind(f.action.status.map(i32::from))
        .bind(f.action.delay_ms.map(|d| d as i64))
        .bind(f.action.drop)
        .bind(f.probability_ppm)
        .bind(f.times)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Removes the fault `name`; false if there was none.
pub async fn delete(tx: &mut Tx, name: &str) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query("delete from emulator_fault where name = $1")
            .bind(name)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Removes every fault.
pub async fn delete_all(tx: &mut Tx) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query("delete from emulator_fault")
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Takes one use of a limited fault: the uses left after it, or `None` when none was
/// left (or the fault is gone). One statement, so that concurrent requests on any
/// instance never take more uses than `times` allowed; the last use deletes the fault.
pub async fn take(tx: &mut Tx, name: &str) -> Result<Option<i64>> {
    let left: Option<i64> = on_conn!(tx, |c| {
        sqlx::query_scalar(
            "update emulator_fault set remaining = remaining - 1
             where name = $1 and remaining > 0 returning remaining",
        )
        .bind(name)
        .fetch_optional(&mut *c)
        .await
    })?;
    if left == Some(0) {
        on_conn!(tx, |c| {
            sqlx::query("delete from emulator_fault where name = $1 and remaining = 0")
                .bind(name)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
    }
    Ok(left)
}
