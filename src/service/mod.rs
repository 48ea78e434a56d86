//! Operations that span the domain and storage: what the HTTP handlers and the CLI
//! both call. Each write commits in one transaction (slow work such as hashing a new
//! secret happens before it, outside SQLite's write lock).

pub mod accounts;
pub mod clients;
pub mod elements;
pub mod idempotency;
pub mod numbers;
pub mod org;
pub mod preconditions;
pub mod profiles;

use crate::domain::audit::{Author, Event};
use crate::domain::{AccountId, Violation};
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
    /// An earlier request with the same `Idempotency-Key` decided the answer: replay
    /// it, or refuse another request under that key (422). Nothing was written.
    #[error("idempotency key seen before")]
    Seen(crate::domain::idempotency::Seen),
    /// `If-Match` no longer names the resource's current representation (412);
    /// nothing was written.
    #[error("precondition failed")]
    PreconditionFailed,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Records an audit entry for a write, in the write's transaction: `data` is the
/// object's new state (secrets left out), tagged with what kind of object it is.
pub(crate) async fn audit(
    tx: &mut crate::store::Tx,
    account: &AccountId,
    event: Event,
    author: &Author,
    resource: &str,
    data: impl serde::Serialize,
    now: i64,
) -> Result<(), ServiceError> {
    let mut value = serde_json::to_value(data).map_err(|e| ServiceError::Other(e.into()))?;
    if let serde_json::Value::Object(map) = &mut value {
        map.insert(
            "resource".to_owned(),
            serde_json::Value::String(resource.to_owned()),
        );
    }
    crate::store::audit::record(tx, account, event, author, &value, now).await?;
    Ok(())
}
