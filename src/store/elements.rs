//! Voice elements.

use sqlx::FromRow;

use super::{Result, StoreError, Tx, on_conn};
use crate::domain::element::{Element, ElementStatus, ElementType};
use crate::domain::{AccountId, ElementId};

#[derive(FromRow)]
struct ElementRow {
    element_id: String,
    element_type: String,
    doc: String,
    status: String,
    status_message: Option<String>,
    generation: i64,
}

fn element(r: ElementRow) -> Result<(Element, i64)> {
    let status = match r.status.as_str() {
        "IN_PROGRESS" => ElementStatus::InProgress,
        "SUCCESS" => ElementStatus::Success,
        "FAILED" => ElementStatus::Failed,
        other => return Err(StoreError::Corrupt(format!("element status {other}"))),
    };
    Ok((
        Element {
            element_id: r.element_id,
            element_type: ElementType::parse(&r.element_type)
                .ok_or_else(|| StoreError::Corrupt(format!("element type {}", r.element_type)))?,
            body: serde_json::from_str(&r.doc)?,
            status,
            status_message: r.status_message,
        },
        r.generation,
    ))
}

const COLUMNS: &str = "element_id, element_type, doc, status, status_message, generation";

/// Inserts a new element (generation 1).
pub async fn insert(tx: &mut Tx, account: &AccountId, e: &Element, now: i64) -> Result<()> {
    let doc = serde_json::to_string(&e.body)?;
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into voice_element (element_id, account_id, element_type, name_key, doc, status, status_message,
                 generation, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)",
        )
        .bind(&e.element_id)
        .bind(account.as_str())
        .bind(e.element_type.as_str())
        .bind(e.body.name_key())
        .bind(&doc)
        .bind(e.status.as_str())
        .bind(&e.status_message)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The element `id` of `account` and its generation, if it is of type `t`.
pub async fn get(
    tx: &mut Tx,
    account: &AccountId,
    t: ElementType,
    id: &ElementId,
) -> Result<Option<(Element, i64)>> {
    let sql = format!(
        "select {COLUMNS} from voice_element where account_id = $1 and element_id = $2 and element_type = $3"
    );
    let row: Option<ElementRow> = on_conn!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(account.as_str())
            .bind(id.as_str())
            .bind(t.as_str())
            .fetch_optional(&mut *c)
            .await
    })?;
    row.map(element).transpose()
}

/// Every element of `account`, ACO first.
pub async fn list(tx: &mut Tx, account: &AccountId) -> Result<Vec<Element>> {
    let sql = format!(
        "select {COLUMNS} from voice_element where account_id = $1 order by element_type, element_id"
    );
    let rows: Vec<ElementRow> = on_conn!(tx, |c| sqlx::query_as(&sql)
        .bind(account.as_str())
        .fetch_all(&mut *c)
        .await)?;
    rows.into_iter()
        .map(|r| element(r).map(|(e, _)| e))
        .collect()
}

/// Replaces an element's fields and status, starting a new generation; returns it.
pub async fn replace(
    tx: &mut Tx,
    account: &AccountId,
    e: &Element,
    now: i64,
) -> Result<Option<i64>> {
    let doc = serde_json::to_string(&e.body)?;
    Ok(on_conn!(tx, |c| {
        sqlx::query_scalar(
            "update voice_element set name_key = $3, doc = $4, status = $5, status_message = $6,
                 generation = generation + 1, updated_at = $7
             where account_id = $1 and element_id = $2
             returning generation",
        )
        .bind(account.as_str())
        .bind(&e.element_id)
        .bind(e.body.name_key())
        .bind(&doc)
        .bind(e.status.as_str())
        .bind(&e.status_message)
        .bind(now)
        .fetch_optional(&mut *c)
        .await
    })?)
}

/// Sets the status reached by generation `generation`'s work, unless a later write
/// started another generation; false then.
pub async fn finish(
    tx: &mut Tx,
    account: &AccountId,
    id: &ElementId,
    generation: i64,
    status: ElementStatus,
    message: Option<&str>,
    now: i64,
) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query(
            "update voice_element set status = $4, status_message = $5, updated_at = $6
             where account_id = $1 and element_id = $2 and generation = $3",
        )
        .bind(account.as_str())
        .bind(id.as_str())
        .bind(generation)
        .bind(status.as_str())
        .bind(message)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Deletes an element; false if there was none.
pub async fn delete(
    tx: &mut Tx,
    account: &AccountId,
    t: ElementType,
    id: &ElementId,
) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query("delete from voice_element where account_id = $1 and element_id = $2 and element_type = $3")
            .bind(account.as_str())
            .bind(id.as_str())
            .bind(t.as_str())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}
