//! Idempotency keys inside a write: the key is reserved by the write's first statement
//! and its answer stored before the commit, so the record exists exactly when the write
//! committed (a crash after the commit still finds it; a rollback leaves none).

use std::sync::Mutex;

use futures_util::future::BoxFuture;

use super::ServiceError;
use crate::clock::real_now_ms;
use crate::domain::idempotency::{KeyedRequest, Seen, StoredAnswer};
use crate::store::{self, Db, Tx};

/// Turns a write's result into the answer a client is sent, inside the write's
/// transaction (an account's answer reads its feature statuses).
pub trait Render<T>: Send + Sync {
    fn render<'t>(
        &'t self,
        tx: &'t mut Tx,
        value: &'t T,
    ) -> BoxFuture<'t, Result<StoredAnswer, ServiceError>>;
}

/// A keyed write: the request, how its answer is rendered, and where the rendered
/// answer is left for the handler to send (the same bytes that were stored).
pub struct Keyed<'a, T> {
    pub request: &'a KeyedRequest,
    pub render: &'a dyn Render<T>,
    pub sent: &'a Mutex<Option<StoredAnswer>>,
}

/// The first statement of a keyed write: takes the key, or ends the write with what an
/// earlier request with the key left ([`ServiceError::Seen`]).
pub(crate) async fn reserve<T>(
    tx: &mut Tx,
    keyed: Option<&Keyed<'_, T>>,
) -> Result<(), ServiceError> {
    let Some(k) = keyed else { return Ok(()) };
    match store::idempotency::reserve(tx, k.request, real_now_ms()).await? {
        None => Ok(()),
        Some(seen) => Err(ServiceError::Seen(seen)),
    }
}

/// The last statement of a keyed write before its commit: stores its answer.
pub(crate) async fn complete<T: Sync>(
    tx: &mut Tx,
    keyed: Option<&Keyed<'_, T>>,
    value: &T,
) -> Result<(), ServiceError> {
    let Some(k) = keyed else { return Ok(()) };
    let answer = k.render.render(tx, value).await?;
    store::idempotency::complete(tx, k.request, &answer).await?;
    if let Ok(mut sent) = k.sent.lock() {
        *sent = Some(answer);
    }
    Ok(())
}

/// Keeps the refusal an operation decided (its write rolled back) for the key, in a
/// transaction of its own; returns what another request left if it got there first.
pub async fn record_refusal(
    db: &Db,
    request: &KeyedRequest,
    answer: &StoredAnswer,
) -> Result<Option<Seen>, ServiceError> {
    let mut tx = db.write().await?;
    let seen = store::idempotency::record(&mut tx, request, answer, real_now_ms()).await?;
    tx.commit().await?;
    Ok(seen)
}

/// What a committed key says about `request`, if anything (a read before the write).
pub async fn seen(db: &Db, request: &KeyedRequest) -> Result<Option<Seen>, ServiceError> {
    let mut tx = db.read().await?;
    Ok(store::idempotency::find(&mut tx, request, real_now_ms()).await?)
}
