//! When the work a write starts runs, and how it may end: the configured delay of each
//! kind, the request's `Prefer` header and the emulator's rules, combined once per
//! request into a [`Provisioning`] that every job of the write is scheduled by.

use std::collections::BTreeMap;

use crate::domain::lifecycle::JobKind;
use crate::domain::prefer::Prefer;
use crate::store::emulator::Rule;

/// Where a job starts: its due time and its attempts.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub run_at: i64,
    pub max_attempts: i32,
}

/// The simulated time each kind of work takes when nothing asks otherwise
/// (`--feature-delay-ms`, `--element-delay-ms`, `--number-delay-ms`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delays {
    /// Account features, renames and organization nodes.
    pub feature_ms: i64,
    /// Voice elements (0: done within the request).
    pub element_ms: i64,
    /// Phone number activations.
    pub number_ms: i64,
}

impl Delays {
    /// The configured delay of work of `kind`.
    pub fn of(&self, kind: JobKind) -> i64 {
        match kind {
            JobKind::AccountFeature | JobKind::AccountRename | JobKind::OrgNode => self.feature_ms,
            JobKind::VoiceAco | JobKind::VoiceMsTeams => self.element_ms,
            JobKind::NumberActivation => self.number_ms,
        }
    }
}

/// How the work a write starts is scheduled.
#[derive(Debug, Clone, Default)]
pub struct Provisioning {
    /// The request's `Prefer` header (emulator mode only; default otherwise).
    pub prefer: Prefer,
    /// Each kind's delay, unless `prefer` or a rule says otherwise.
    pub delays: Delays,
    pub max_attempts: i32,
    /// The emulator's rules by job kind (emulator mode only).
    pub rules: BTreeMap<JobKind, Rule>,
}

impl Provisioning {
    /// When a job of `kind` runs: the request's preference, else the emulator's rule,
    /// else the kind's configured delay.
    pub fn schedule(&self, kind: JobKind, now: i64) -> Schedule {
        let delay = self
            .prefer
            .delay_ms
            .or_else(|| self.rules.get(&kind).and_then(|r| r.delay_ms))
            .unwrap_or(self.delays.of(kind));
        Schedule {
            run_at: now + delay,
            max_attempts: self.max_attempts.max(1),
        }
    }

    /// True when work of `kind` may finish within the request: nothing asks for a
    /// delay or another outcome, so the simulator would succeed at once anyway.
    pub fn is_immediate(&self, kind: JobKind) -> bool {
        self.prefer == Prefer::default()
            && !self.rules.contains_key(&kind)
            && self.delays.of(kind) == 0
    }
}
