//! Workers that meet backend errors (the database down, its disk full) back off
//! exponentially instead of retrying every poll, and say so once per streak of
//! failures rather than once per attempt; `/metrics` counts the streak.

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use rand::Rng;

use crate::store::StoreError;

/// A worker's first pause after a failed attempt, and the longest: short enough that
/// the workers resume within seconds of the database's return.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// The failures of this instance's workers, shared by them and read by `/metrics`.
#[derive(Debug, Default, Clone)]
pub struct WorkerErrors {
    /// Attempts that failed with a backend error.
    pub errors: Counter,
    /// Streaks begun: a failure after a success (or the first attempt).
    pub streaks: Counter,
    /// Failed attempts since the last successful one, by any worker (0 when healthy).
    pub streak: Gauge,
}

impl WorkerErrors {
    /// Counts a failed attempt; the one that begins a streak is logged.
    pub(super) fn failed(&self, e: &StoreError) {
        self.errors.inc();
        if self.streak.inc() == 0 {
            self.streaks.inc();
            tracing::warn!(error = %e, unavailable = e.is_unavailable(),
                "job workers cannot use the database; backing off until they can");
        }
    }

    /// Ends the streak, if there is one, with a line that says how long it was.
    pub(super) fn succeeded(&self) {
        // A read first: the common case (no streak) writes nothing shared.
        if self.streak.get() != 0 {
            let failed = self.streak.set(0);
            if failed != 0 {
                tracing::info!(
                    failed_attempts = failed,
                    "job workers use the database again"
                );
            }
        }
    }
}

/// How long a worker pauses after its `consecutive`-th failure in a row: 100 ms
/// doubling up to 5 s, ±25 % so that workers do not retry in step.
pub(super) fn pause(consecutive: u32) -> Duration {
    let exp = FIRST_PAUSE.saturating_mul(1u32 << consecutive.clamp(1, 16).saturating_sub(1));
    exp.min(MAX_PAUSE)
        .mul_f64(rand::thread_rng().gen_range(0.75..=1.25))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_from_100_ms_and_stop_growing_at_5_s() {
        let within = |d: Duration, ms: u64| {
            let ms = ms as f64;
            (ms * 0.75..=ms * 1.25).contains(&(d.as_millis() as f64))
        };
        assert!(within(pause(1), 100));
        assert!(within(pause(2), 200));
        assert!(within(pause(4), 800));
        assert!(within(pause(7), 5_000));
        assert!(within(pause(u32::MAX), 5_000));
    }

    #[test]
    fn a_streak_is_counted_once_and_ends_with_a_success() {
        let errors = WorkerErrors::default();
        let e = StoreError::Unavailable(sqlx::Error::PoolTimedOut);
        errors.failed(&e);
        errors.failed(&e);
        errors.failed(&e);
        assert_eq!(errors.streak.get(), 3);
        assert_eq!(errors.streaks.get(), 1);
        errors.succeeded();
        assert_eq!(errors.streak.get(), 0);
        errors.failed(&e);
        assert_eq!((errors.errors.get(), errors.streaks.get()), (4, 2));
    }
}
