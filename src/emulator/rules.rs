//! Lifecycle rules per job kind, and the seed their failure probabilities draw from.

use crate::domain::lifecycle::JobKind;
use crate::jobs::runner::SEED_KEY;
use crate::store::emulator::{DRAWS_KEY, FAULT_DRAWS_KEY, Rule};
use crate::store::{self, Db, StoreError};

/// Sets the rule of its kind (replacing one set before).
pub async fn put(db: &Db, rule: &Rule, now: i64) -> Result<(), StoreError> {
    let mut tx = db.write().await?;
    store::emulator::put_rule(&mut tx, rule, now).await?;
    tx.commit().await
}

/// Removes the rule of `kind`, also when none was set.
pub async fn delete(db: &Db, kind: JobKind) -> Result<(), StoreError> {
    let mut tx = db.write().await?;
    store::emulator::delete_rule(&mut tx, kind).await?;
    tx.commit().await
}

/// Sets the seed and restarts its two sequences, the rules' and the faults': the same
/// seed and the same order of work give the same outcomes.
pub async fn set_seed(db: &Db, seed: u64) -> Result<(), StoreError> {
    let mut tx = db.write().await?;
    store::emulator::set_state(&mut tx, SEED_KEY, &seed.to_string()).await?;
    store::emulator::set_state(&mut tx, DRAWS_KEY, "0").await?;
    store::emulator::set_state(&mut tx, FAULT_DRAWS_KEY, "0").await?;
    tx.commit().await
}

/// The seed (0 until one is set).
pub async fn seed(db: &Db) -> Result<u64, StoreError> {
    let mut tx = db.read().await?;
    let seed = store::emulator::state(&mut tx, SEED_KEY).await?;
    Ok(seed.and_then(|s| s.parse::<u64>().ok()).unwrap_or(0))
}
