//! The emulator's clock, shared through the database: whoever moves it persists it,
//! so that a frozen or advanced clock survives restarts and every instance on one
//! database follows the one that moved it.

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::domain::{Code, Violation};
use crate::jobs::Jobs;
use crate::service::ServiceError;
use crate::store::{self, Db, StoreError};

use crate::store::emulator::CLOCK_KEY;

/// The last instant the clock may show (9999-12-31T23:59:59.999Z): its arithmetic and
/// its RFC 3339 rendering need it to stay within years 0 to 9999.
const LAST_INSTANT_MS: i64 = 253_402_300_799_999;

/// The shared clock as persisted.
#[derive(Serialize, Deserialize)]
struct ClockState {
    offset: i64,
    frozen: Option<i64>,
    version: i64,
}

/// Loads the persisted clock. Only a newer version than this instance last wrote or
/// applied is taken, so an instance never undoes its own move with an older one.
/// Called at start-up and periodically by every instance in emulator mode.
pub async fn restore(db: &Db, clock: &Clock) -> Result<(), StoreError> {
    let mut tx = db.read().await?;
    let value = store::emulator::state(&mut tx, CLOCK_KEY).await?;
    if let Some(v) = value
        && let Ok(ClockState {
            offset,
            frozen,
            version,
        }) = serde_json::from_str::<ClockState>(&v)
        && version > clock.version()
    {
        clock.restore(offset, frozen);
        clock.set_version(version);
    }
    Ok(())
}

/// Takes the persisted clock whatever its version (after a state import), or real
/// time when none is persisted.
pub async fn reload(db: &Db, clock: &Clock) -> Result<(), StoreError> {
    let mut tx = db.read().await?;
    let value = store::emulator::state(&mut tx, CLOCK_KEY).await?;
    drop(tx);
    match value.and_then(|v| serde_json::from_str::<ClockState>(&v).ok()) {
        Some(ClockState {
            offset,
            frozen,
            version,
        }) => {
            clock.restore(offset, frozen);
            clock.set_version(version);
        }
        None => clock.restore(0, None),
    }
    Ok(())
}

/// Persists this instance's clock with a version newer than any stored or seen, so
/// that every other instance takes it.
pub async fn persist(db: &Db, clock: &Clock) -> Result<(), ServiceError> {
    let mut tx = db.write().await?;
    let stored = store::emulator::state(&mut tx, CLOCK_KEY)
        .await?
        .and_then(|v| serde_json::from_str::<ClockState>(&v).ok())
        .map_or(0, |c| c.version);
    let version = stored.max(clock.version()) + 1;
    let (offset, frozen) = clock.snapshot();
    let value = serde_json::to_string(&ClockState {
        offset,
        frozen,
        version,
    })
    .map_err(|e| ServiceError::Other(e.into()))?;
    store::emulator::set_state(&mut tx, CLOCK_KEY, &value).await?;
    tx.commit().await?;
    clock.set_version(version);
    Ok(())
}

/// Moves the clock forward by `ms`, frozen or not (400 on `by` past the last
/// instant), persists it and wakes the workers for the jobs that became due.
pub async fn advance(db: &Db, clock: &Clock, jobs: &Jobs, ms: i64) -> Result<(), ServiceError> {
    if clock
        .now_ms()
        .checked_add(ms)
        .is_none_or(|t| t > LAST_INSTANT_MS)
    {
        return Err(ServiceError::Invalid(vec![Violation::new(
            "by",
            Code::Range,
            "would move the clock past 9999-12-31T23:59:59.999Z",
        )]));
    }
    clock.advance(ms);
    persist(db, clock).await?;
    jobs.wake();
    Ok(())
}

/// Stops the clock at the current instant, and persists that.
pub async fn freeze(db: &Db, clock: &Clock) -> Result<(), ServiceError> {
    clock.freeze();
    persist(db, clock).await
}

/// Lets the clock run again from where it stands, persists that, and wakes the workers.
pub async fn unfreeze(db: &Db, clock: &Clock, jobs: &Jobs) -> Result<(), ServiceError> {
    clock.unfreeze();
    persist(db, clock).await?;
    jobs.wake();
    Ok(())
}

/// Runs every job to its end (moving the clock to each next due job) and persists the
/// clock; returns how many runs there were.
pub async fn settle(db: &Db, clock: &Clock, jobs: &Jobs) -> Result<usize, ServiceError> {
    let runs = jobs.run_until_settled().await?;
    persist(db, clock).await?;
    Ok(runs)
}
