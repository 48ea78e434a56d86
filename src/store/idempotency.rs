//! Idempotency keys: the answers of keyed writes (`idempotency_key`), shared by every
//! instance on the database.

use sqlx::FromRow;

use super::{Result, Tx, on_conn};
use crate::domain::idempotency::{KEY_TTL_MS, KeyScope, KeyedRequest, Seen, StoredAnswer};

#[derive(FromRow)]
struct KeyRow {
    fingerprint: String,
    status: Option<i32>,
    headers: Option<String>,
    body: Option<String>,
}

impl KeyRow {
    /// What the row says about `request`; `None` while its write has not finished
    /// (only its own transaction can see that).
    fn seen(self, request: &KeyedRequest) -> Result<Option<Seen>> {
        let (Some(status), Some(headers), Some(body)) = (self.status, self.headers, self.body)
        else {
            return Ok(None);
        };
        let headers: Vec<(String, String)> = serde_json::from_str(&headers)?;
        let status = u16::try_from(status)
            .map_err(|_| super::StoreError::Corrupt(format!("idempotency status {status}")))?;
        Ok(Some(Seen::of(
            &self.fingerprint,
            request,
            StoredAnswer {
                status,
                headers,
                body,
            },
        )))
    }
}

fn binds(scope: &KeyScope) -> [&str; 4] {
    [
        scope.account_id.as_str(),
        scope.client_id.as_str(),
        scope.operation,
        scope.key.as_str(),
    ]
}

/// The committed answer of `request`'s key, if it has one younger than a day
/// (`now_ms` is real time).
pub async fn find(tx: &mut Tx, request: &KeyedRequest, now_ms: i64) -> Result<Option<Seen>> {
    let [a, c, o, k] = binds(&request.scope);
    let row: Option<KeyRow> = on_conn!(tx, |conn| {
        sqlx::query_as(
            "select fingerprint, status, headers, body from idempotency_key
             where account_id = $1 and client_id = $2 and operation = $3 and idem_key = $4
               and created_ms > $5",
        )
        .bind(a)
        .bind(c)
        .bind(o)
        .bind(k)
        .bind(now_ms - KEY_TTL_MS)
        .fetch_optional(&mut *conn)
        .await
    })?;
    match row {
        Some(r) => r.seen(request),
        None => Ok(None),
    }
}

/// Reserves `request`'s key as the first statement of its write transaction, or
/// returns what an earlier request with it left. On PostgreSQL the insert waits while
/// another transaction holds the same key uncommitted, and then sees its outcome: its
/// answer if it committed, nothing if it rolled back. SQLite has one writer at a time.
/// Expired keys (real time) are purged on the way.
pub async fn reserve(tx: &mut Tx, request: &KeyedRequest, now_ms: i64) -> Result<Option<Seen>> {
    let [a, c, o, k] = binds(&request.scope);
    let cutoff = now_ms - KEY_TTL_MS;
    let inserted = on_conn!(tx, |conn| {
        sqlx::query("delete from idempotency_key where created_ms <= $1")
            .bind(cutoff)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "insert into idempotency_key
                 (account_id, client_id, operation, idem_key, fingerprint, created_ms)
             values ($1, $2, $3, $4, $5, $6)
             on conflict (account_id, client_id, operation, idem_key) do nothing",
        )
        .bind(a)
        .bind(c)
        .bind(o)
        .bind(k)
        .bind(&request.fingerprint)
        .bind(now_ms)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    if inserted == 1 {
        return Ok(None);
    }
    match find(tx, request, now_ms).await? {
        Some(seen) => Ok(Some(seen)),
        // Expired between the purge and the insert: the key is free again.
        None => Err(super::StoreError::Corrupt(
            "an idempotency key neither free nor answered".to_owned(),
        )),
    }
}

/// Stores the answer of a write whose key [`reserve`] took, before the commit.
pub async fn complete(tx: &mut Tx, request: &KeyedRequest, answer: &StoredAnswer) -> Result<()> {
    let [a, c, o, k] = binds(&request.scope);
    let headers = serde_json::to_string(&answer.headers)?;
    on_conn!(tx, |conn| {
        sqlx::query(
            "update idempotency_key set status = $5, headers = $6, body = $7
             where account_id = $1 and client_id = $2 and operation = $3 and idem_key = $4",
        )
        .bind(a)
        .bind(c)
        .bind(o)
        .bind(k)
        .bind(i32::from(answer.status))
        .bind(&headers)
        .bind(&answer.body)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Records the refusal an operation decided (its write rolled back), in a transaction
/// of its own; a key answered meanwhile by another request is left as it is.
pub async fn record(
    tx: &mut Tx,
    request: &KeyedRequest,
    answer: &StoredAnswer,
    now_ms: i64,
) -> Result<Option<Seen>> {
    let [a, c, o, k] = binds(&request.scope);
    let headers = serde_json::to_string(&answer.headers)?;
    let inserted = on_conn!(tx, |conn| {
        sqlx::query(
            "insert into idempotency_key (account_id, client_id, operation, idem_key,
                 fingerprint, status, headers, body, created_ms)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             on conflict (account_id, client_id, operation, idem_key) do nothing",
        )
        .bind(a)
        .bind(c)
        .bind(o)
        .bind(k)
        .bind(&request.fingerprint)
        .bind(i32::from(answer.status))
        .bind(&headers)
        .bind(&answer.body)
        .bind(now_ms)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    if inserted == 1 {
        Ok(None)
    } else {
        find(tx, request, now_ms).await
    }
}
