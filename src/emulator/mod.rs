//! The emulator's operations behind the `/_ccadmin` controls (emulator mode only): the
//! shared clock, the lifecycle rules and their seed, resets, and state snapshots. Like the services,
//! each write runs in one transaction here, below HTTP; the handlers in
//! `http::emulator` parse, call one of these and answer.

pub mod clock;
pub mod reset;
pub mod rules;
pub mod state;
