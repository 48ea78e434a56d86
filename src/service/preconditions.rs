//! `If-Match` inside a write (extension): the condition is checked against the
//! resource as the write's own transaction reads it, so nothing changes when it no
//! longer holds (412), whoever changed the resource in between.

use futures_util::future::BoxFuture;

use super::ServiceError;
use crate::store::Tx;

/// A request's condition on the resource it changes, checked by the write as its first
/// step. The implementation locks the resource's row (`store::locks`) before reading
/// it, so that no other write changes it between the check and this write's commit.
pub trait Precondition: Send + Sync {
    /// `Ok` while the condition holds; [`ServiceError::PreconditionFailed`] when it no
    /// longer does; the resource's 404 when it is gone.
    fn check<'t>(&'t self, tx: &'t mut Tx) -> BoxFuture<'t, Result<(), ServiceError>>;
}

/// Checks `pre`, if the request has one.
pub(crate) async fn check(tx: &mut Tx, pre: Option<&dyn Precondition>) -> Result<(), ServiceError> {
    match pre {
        Some(p) => p.check(tx).await,
        None => Ok(()),
    }
}
