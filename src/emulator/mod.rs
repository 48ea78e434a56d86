//! The emulator's operations behind the `/_ccadmin` controls (emulator mode only): the
//! shared clock, the lifecycle rules and their seed, injected faults, the request
//! journal, resets, and state snapshots. Like the services, each write runs in one
//! transaction here, below HTTP; the handlers in `http::emulator`, `http::faults` and
//! `http::requests` parse, call one of these and answer.

pub mod clock;
pub mod faults;
pub mod requests;
pub mod reset;
pub mod rules;
pub mod state;
