//! Validated domain types and their rules. Nothing here does I/O.

pub mod account;
pub mod audit;
pub mod element;
pub mod fault;
pub mod feature;
pub mod idempotency;
pub mod ids;
pub mod lifecycle;
pub mod listing;
pub mod number;
pub mod org;
pub mod phone;
pub mod prefer;
pub mod redaction;
pub mod role;
pub mod schemas;
pub mod time;
pub mod violation;

pub use ids::{AccountId, ElementId, PhoneNumberId};
pub use role::{FeatureGrants, Role};
pub use violation::{Code, Violation, Violations};
