//! Operations that span the domain and storage: what the HTTP handlers and the CLI
//! both call. Each write commits in one transaction (slow work such as hashing a new
//! secret happens before it, outside SQLite's write lock).

pub mod accounts;
pub mod clients;
pub mod elements;
pub mod numbers;
pub mod org;

use crate::domain::Violation;
use crate::store::StoreError;

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input")]
    Invalid(Vec<Violation>),
    /// The caller may not make this change; the violations name the fields.
    #[error("forbidden: {detail}")]
    Forbidden {
        detail: String,
        violations: Vec<Violation>,
    },
    #[error("{what} with {key}:{id} not found.")]
    NotFound {
        what: &'static str,
        key: &'static str,
        id: String,
    },
    /// The write conflicts with stored state; the violations name the fields, if any.
    #[error("{detail}")]
    Conflict {
        detail: String,
        violations: Vec<Violation>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}
