//! Injected faults: kept in the database so that every instance applies the same ones,
//! and cached here so that no request reads them. The cache is refreshed at once after
//! a change on this instance, and every second (`App`) for other instances' changes.

use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

use crate::domain::fault::Fault;
use crate::jobs::runner::SEED_KEY;
use crate::store::emulator::FAULT_DRAWS_KEY;
use crate::store::{self, Db, StoreError};

/// This instance's copy of the faults, by name.
#[derive(Default)]
pub struct Faults {
    list: RwLock<Arc<Vec<Fault>>>,
}

impl Faults {
    /// The faults as last read; cheap (one shared pointer), for every request.
    pub fn current(&self) -> Arc<Vec<Fault>> {
        // A poisoned lock still holds a whole Arc: nothing can be half-written.
        self.list.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, faults: Vec<Fault>) {
        *self.list.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(faults);
    }
}

/// Re-reads the faults from the database.
pub async fn refresh(db: &Db, faults: &Faults) -> Result<(), StoreError> {
    let mut tx = db.read().await?;
    let all = store::faults::all(&mut tx).await?;
    drop(tx);
    faults.set(all);
    Ok(())
}

/// Sets the fault of its name (replacing one set before).
pub async fn put(db: &Db, faults: &Faults, fault: &Fault, now: i64) -> Result<(), StoreError> {
    let mut tx = db.write().await?;
    store::faults::put(&mut tx, fault, now).await?;
    tx.commit().await?;
    refresh(db, faults).await
}

/// Removes the fault `name`, also when there is none.
pub async fn delete(db: &Db, faults: &Faults, name: &str) -> Result<(), StoreError> {
    let mut tx = db.write().await?;
    store::faults::delete(&mut tx, name).await?;
    tx.commit().await?;
    refresh(db, faults).await
}

/// Removes every fault.
pub async fn delete_all(db: &Db, faults: &Faults) -> Result<(), StoreError> {
    let mut tx = db.write().await?;
    store::faults::delete_all(&mut tx).await?;
    tx.commit().await?;
    refresh(db, faults).await
}

/// Every fault as the database holds it now (uses left included).
pub async fn list(db: &Db) -> Result<Vec<Fault>, StoreError> {
    let mut tx = db.read().await?;
    store::faults::all(&mut tx).await
}

/// Decides whether `fault`, which matches a request, fires on it: a draw from the
/// faults' sequence when its probability is below 1, then a use of `times` when it
/// has a limit. Both in one transaction, so that `times` stays exact across requests
/// and instances; a fault that just used up its last use is dropped from the cache.
pub async fn fire(db: &Db, faults: &Faults, fault: &Fault) -> Result<bool, StoreError> {
    if fault.probability_ppm >= 1_000_000 && fault.times.is_none() {
        return Ok(true);
    }
    let mut tx = db.write().await?;
    if fault.probability_ppm < 1_000_000 {
        let seed = store::emulator::state(&mut tx, SEED_KEY)
            .await?
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        let n = store::emulator::next_count(&mut tx, FAULT_DRAWS_KEY).await?;
        if draw(seed, n) >= fault.probability() {
            tx.commit().await?;
            return Ok(false);
        }
    }
    let fires = match fault.times {
        None => true,
        Some(_) => match store::faults::take(&mut tx, &fault.name).await? {
            None => false,
            Some(left) => {
                tx.commit().await?;
                if left == 0 {
                    refresh(db, faults).await?;
                }
                return Ok(true);
            }
        },
    };
    tx.commit().await?;
    if !fires {
        // Used up or deleted elsewhere: stop trying it before the next refresh.
        refresh(db, faults).await?;
    }
    Ok(fires)
}

/// The `n`th number in [0, 1) of the faults' sequence of `seed`: the same seed and the
/// same order of matching requests give the same outcomes. A sequence of its own (the
/// hash input starts with `fault`), never the one the job rules draw from.
pub fn draw(seed: u64, n: i64) -> f64 {
    let mut h = Sha256::new();
    h.update(b"fault");
    h.update(seed.to_be_bytes());
    h.update(n.to_be_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_faults_sequence_is_not_the_rules_sequence() {
        for n in 1..20 {
            assert_ne!(super::draw(42, n), crate::jobs::simulator::draw(42, n));
            assert_eq!(super::draw(42, n), super::draw(42, n));
        }
    }
}
