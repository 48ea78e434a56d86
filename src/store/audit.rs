//! Audit records.

use sqlx::FromRow;

use super::{Result, Tx, dialect, on_conn};
use crate::domain::AccountId;
use crate::domain::audit::{AuditFilter, Author, Event, RECORD_TYPE, search_text};
use crate::domain::listing::Page;

/// Records a write, in the transaction that makes it.
pub async fn record(
    tx: &mut Tx,
    account: &AccountId,
    event: Event,
    author: &Author,
    data: &serde_json::Value,
    now: i64,
) -> Result<()> {
    let text = search_text(event, &author.id, &author.ip, data);
    let data = serde_json::to_string(data)?;
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into audit_record (account_id, at, event, author, ip_address, record_type, audit_data, search_text)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(account.as_str())
        .bind(now)
        .bind(event.as_str())
        .bind(&author.id)
        .bind(&author.ip)
        .bind(RECORD_TYPE)
        .bind(&data)
        .bind(&text)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// A stored record.
#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub at: i64,
    pub event: String,
    pub author: String,
    pub ip_address: String,
    pub record_type: String,
    pub audit_data: String,
}

/// How records are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOrder {
    Date,
    Author,
}

/// The records of `account` matching `f`: a page (or, with `page` None, up to
/// `limit` records) and the total.
pub async fn search(
    tx: &mut Tx,
    account: &AccountId,
    f: &AuditFilter,
    order: (AuditOrder, bool),
    page: Option<Page>,
    limit: i64,
) -> Result<(Vec<AuditRow>, i64)> {
    let mut condition = String::from("account_id = $1 and at >= $2 and at <= $3");
    let mut texts: Vec<String> = vec![account.as_str().to_owned()];
    let ints = [f.start, f.end];
    let mut n = 3;
    let mut push = |cond: &mut String, sql: &str, value: String| {
        n += 1;
        cond.push_str(&sql.replace("$N", &format!("${n}")));
        texts.push(value);
    };
    if let Some(a) = &f.author {
        push(&mut condition, " and author = $N", a.clone());
    }
    if let Some(e) = f.event {
        push(&mut condition, " and event = $N", e.as_str().to_owned());
    }
    if let Some(ip) = &f.ip_address {
        push(&mut condition, " and ip_address = $N", ip.clone());
    }
    if let Some(k) = &f.keyword {
        let (test, value) = dialect::audit_keyword(tx.backend(), k);
        push(&mut condition, test, value);
    }
    let column = match order.0 {
        AuditOrder::Date => "at",
        AuditOrder::Author => "author",
    };
    let dir = if order.1 { "desc" } else { "asc" };
    let (size, offset) = match page {
        Some(p) => (i64::from(p.size), p.offset()),
        None => (limit, 0),
    };
    let count_sql = format!("select count(*) from audit_record where {condition}");
    let page_sql = format!(
        "select at, event, author, ip_address, record_type, audit_data from audit_record where {condition}
         order by {column} {dir}, seq {dir} limit ${} offset ${}",
        n + 1,
        n + 2
    );
    let (total, rows): (i64, Vec<AuditRow>) = on_conn!(tx, |c| {
        let mut count = sqlx::query_scalar(&count_sql)
            .bind(&texts[0])
            .bind(ints[0])
            .bind(ints[1]);
        let mut rows = sqlx::query_as(&page_sql)
            .bind(&texts[0])
            .bind(ints[0])
            .bind(ints[1]);
        for t in &texts[1..] {
            count = count.bind(t);
            rows = rows.bind(t);
        }
        let total = count.fetch_one(&mut *c).await?;
        let rows = rows.bind(size).bind(offset).fetch_all(&mut *c).await?;
        Ok::<_, sqlx::Error>((total, rows))
    })?;
    Ok((rows, total))
}
