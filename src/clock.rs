//! The server's clock. Simulated delays, retry schedules, token expiry and stored
//! timestamps read it; the emulator can advance or freeze it so that tests of delays
//! run instantly. Job leases use real time (a crashed worker's lease must expire in
//! real seconds, whatever the emulator does).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

const NOT_FROZEN: i64 = i64::MIN;

/// Wall-clock time plus an offset, or a frozen instant.
#[derive(Debug, Clone)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
    frozen_at: Arc<AtomicI64>,
    /// The version of the shared (persisted) clock this instance last wrote or applied.
    version: Arc<AtomicI64>,
}

impl Default for Clock {
    fn default() -> Self {
        Self {
            offset_ms: Arc::new(AtomicI64::new(0)),
            frozen_at: Arc::new(AtomicI64::new(NOT_FROZEN)),
            version: Arc::new(AtomicI64::new(0)),
        }
    }
}

impl Clock {
    /// Milliseconds since the Unix epoch, as this server sees them.
    pub fn now_ms(&self) -> i64 {
        match self.frozen_at.load(Ordering::SeqCst) {
            NOT_FROZEN => real_now_ms() + self.offset_ms.load(Ordering::SeqCst),
            frozen => frozen,
        }
    }

    /// Moves the clock forward by `ms` (frozen or not).
    pub fn advance(&self, ms: i64) {
        let frozen = self.frozen_at.load(Ordering::SeqCst);
        if frozen == NOT_FROZEN {
            self.offset_ms.fetch_add(ms, Ordering::SeqCst);
        } else {
            self.frozen_at.store(frozen + ms, Ordering::SeqCst);
        }
    }

    /// Stops the clock at the current instant.
    pub fn freeze(&self) {
        let now = self.now_ms();
        self.frozen_at.store(now, Ordering::SeqCst);
    }

    /// Lets the clock run again from where it stands.
    pub fn unfreeze(&self) {
        let frozen = self.frozen_at.swap(NOT_FROZEN, Ordering::SeqCst);
        if frozen != NOT_FROZEN {
            self.offset_ms
                .store(frozen - real_now_ms(), Ordering::SeqCst);
        }
    }

    /// The offset from real time and the frozen instant, to persist.
    pub fn snapshot(&self) -> (i64, Option<i64>) {
        let frozen = self.frozen_at.load(Ordering::SeqCst);
        (
            self.offset_ms.load(Ordering::SeqCst),
            (frozen != NOT_FROZEN).then_some(frozen),
        )
    }

    /// Restores a persisted offset and frozen instant.
    pub fn restore(&self, offset_ms: i64, frozen_at: Option<i64>) {
        self.offset_ms.store(offset_ms, Ordering::SeqCst);
        self.frozen_at
            .store(frozen_at.unwrap_or(NOT_FROZEN), Ordering::SeqCst);
    }

    /// The shared clock's version this instance is at.
    pub fn version(&self) -> i64 {
        self.version.load(Ordering::SeqCst)
    }

    /// Records that this instance wrote or applied `version` of the shared clock.
    pub fn set_version(&self, version: i64) {
        self.version.store(version, Ordering::SeqCst);
    }

    /// True while frozen.
    pub fn is_frozen(&self) -> bool {
        self.frozen_at.load(Ordering::SeqCst) != NOT_FROZEN
    }
}

/// Real milliseconds since the Unix epoch, for leases.
pub fn real_now_ms() -> i64 {
    crate::domain::time::now_ms()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_clock_moves_only_when_advanced() {
        let c = Clock::default();
        c.freeze();
        let t = c.now_ms();
        assert_eq!(c.now_ms(), t);
        c.advance(5_000);
        assert_eq!(c.now_ms(), t + 5_000);
        c.unfreeze();
        assert!(c.now_ms() >= t + 5_000);
    }

    #[test]
    fn advancing_a_running_clock_shifts_it() {
        let c = Clock::default();
        let before = c.now_ms();
        c.advance(60_000);
        assert!(c.now_ms() >= before + 60_000);
    }
}
