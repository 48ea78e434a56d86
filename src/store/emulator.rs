//! The emulator's rules and state, and resets.

use sqlx::FromRow;

use super::{Result, StoreError, Tx, on_conn};
use crate::domain::AccountId;
use crate::domain::lifecycle::{JobKind, Outcome};

/// A lifecycle rule for one kind of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub resource_kind: JobKind,
    pub delay_ms: Option<i64>,
    /// One of the kind's outcomes.
    pub outcome: Option<Outcome>,
    pub failure_ppm: i64,
}

#[derive(FromRow)]
struct RuleRow {
    resource_kind: String,
    delay_ms: Option<i64>,
    outcome: Option<String>,
    failure_ppm: i64,
}

impl RuleRow {
    /// The rule, or `None` for a kind this version does not know (a newer version's
    /// rule on a shared database, which this one cannot apply anyway).
    fn into_rule(self) -> Result<Option<Rule>> {
        let Some(kind) = JobKind::parse(&self.resource_kind) else {
            return Ok(None);
        };
        let outcome = match self.outcome {
            None => None,
            Some(o) => Some(Outcome::parse(&o).ok_or_else(|| {
                StoreError::Corrupt(format!("rule for {kind}: unknown outcome {o}"))
            })?),
        };
        Ok(Some(Rule {
            resource_kind: kind,
            delay_ms: self.delay_ms,
            outcome,
            failure_ppm: self.failure_ppm,
        }))
    }
}

/// Every rule.
pub async fn rules(tx: &mut Tx) -> Result<Vec<Rule>> {
    let rows: Vec<RuleRow> = on_conn!(tx, |c| {
        sqlx::query_as("select resource_kind, delay_ms, outcome, failure_ppm from emulator_rule order by resource_kind")
            .fetch_all(&mut *c)
            .await
    })?;
    let rules = rows.into_iter().map(RuleRow::into_rule);
    rules.filter_map(Result::transpose).collect()
}

/// The rule of one kind, if set.
pub async fn rule(tx: &mut Tx, kind: JobKind) -> Result<Option<Rule>> {
    let row: Option<RuleRow> = on_conn!(tx, |c| {
        sqlx::query_as("select resource_kind, delay_ms, outcome, failure_ppm from emulator_rule where resource_kind = $1")
            .bind(kind.as_str())
            .fetch_optional(&mut *c)
            .await
    })?;
    Ok(row.map(RuleRow::into_rule).transpose()?.flatten())
}

/// Sets the rule of a kind.
pub async fn put_rule(tx: &mut Tx, rule: &Rule, now: i64) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into emulator_rule (resource_kind, delay_ms, outcome, failure_ppm, updated_at) values ($1, $2, $3, $4, $5)
             on conflict (resource_kind) do update set delay_ms = excluded.delay_ms, outcome = excluded.outcome,
                 failure_ppm = excluded.failure_ppm, updated_at = excluded.updated_at",
        )
        .bind(rule.resource_kind.as_str())
        .bind(rule.delay_ms)
        .bind(rule.outcome.map(Outcome::as_str))
        .bind(rule.failure_ppm)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Removes the rule of a kind; false if there was none.
pub async fn delete_rule(tx: &mut Tx, kind: JobKind) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query("delete from emulator_rule where resource_kind = $1")
            .bind(kind.as_str())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// A named state value.
pub async fn state(tx: &mut Tx, key: &str) -> Result<Option<String>> {
    Ok(on_conn!(tx, |c| {
        sqlx::query_scalar("select value from emulator_state where key = $1")
            .bind(key)
            .fetch_optional(&mut *c)
            .await
    })?)
}

/// Sets a named state value.
pub async fn set_state(tx: &mut Tx, key: &str, value: &str) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into emulator_state (key, value) values ($1, $2)
             on conflict (key) do update set value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Deletes every account but the default one, with everything they own, every job,
/// status and journal entry, and the emulator's rules, faults and state. The default account
/// and its clients (the bootstrap Administrator) stay.
pub async fn reset_all(tx: &mut Tx) -> Result<()> {
    // Tables without a foreign key to the account first; what accounts own cascades.
    super::numbers::release_all(tx, None).await?;
    const STATEMENTS: [&str; 7] = [
        "delete from job",
        // Kept answers would name resources that no longer exist.
        "delete from idempotency_key",
        "delete from transition",
        "delete from emulator_rule",
        "delete from emulator_fault",
        // The generation only ever grows: instances compare it with the last they saw.
        "delete from emulator_state where key <> 'state_generation'",
        "delete from account where not is_default",
    ];
    on_conn!(tx, |c| {
        for sql in STATEMENTS {
            sqlx::query(sql).execute(&mut *c).await?;
        }
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(())
}

/// Deletes one account with everything it owns, its jobs and its journal.
pub async fn reset_account(tx: &mut Tx, account: &AccountId) -> Result<bool> {
    super::numbers::release_all(tx, Some(account)).await?;
    let n = on_conn!(tx, |c| {
        for sql in [
            "delete from job where account_id = $1",
            "delete from transition where account_id = $1",
            // The keys of the account's own clients (an Administrator's elsewhere stay,
            // and expire within a day).
            "delete from idempotency_key where account_id = $1",
        ] {
            sqlx::query(sql)
                .bind(account.as_str())
                .execute(&mut *c)
                .await?;
        }
        sqlx::query("delete from account where account_id = $1 and not is_default")
            .bind(account.as_str())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// The state key of the emulator's clock (its offset, frozen instant and version).
pub const CLOCK_KEY: &str = "clock";

/// The state key of the state's generation: each snapshot import moves it on, so that
/// every instance on the database notices and drops what it cached (signing keys,
/// clients). Not carried by snapshots.
pub const GENERATION_KEY: &str = "state_generation";

/// The state's generation (0 before any import).
pub async fn generation(tx: &mut Tx) -> Result<i64> {
    Ok(state(tx, GENERATION_KEY)
        .await?
        .and_then(|g| g.parse().ok())
        .unwrap_or(0))
}

/// The state key of the draw counter: how many random draws since the seed was set.
pub const DRAWS_KEY: &str = "draws";

/// Takes the next draw number (1, 2, ...) of the seeded sequence.
pub async fn next_draw(tx: &mut Tx) -> Result<i64> {
    next_count(tx, DRAWS_KEY).await
}

/// The state key of the faults' draw counter: their own sequence of the same seed.
pub const FAULT_DRAWS_KEY: &str = "fault_draws";

/// Increments the counter under `key` (from 0) and returns its new value.
pub async fn next_count(tx: &mut Tx, key: &str) -> Result<i64> {
    let v: String = on_conn!(tx, |c| {
        sqlx::query_scalar(
            "insert into emulator_state (key, value) values ($1, '1')
             on conflict (key) do update set value = cast(cast(emulator_state.value as bigint) + 1 as text)
             returning value",
        )
        .bind(key)
        .fetch_one(&mut *c)
        .await
    })?;
    v.parse()
        .map_err(|_| super::StoreError::Corrupt(format!("draw counter {v}")))
}
