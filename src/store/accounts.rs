//! Accounts and their statuses.

use sqlx::FromRow;

use super::{Result, StoreError, Tx, on_conn, parse_enum};
use crate::domain::AccountId;
use crate::domain::account::{Account, AccountBody};
use std::collections::BTreeMap;

use crate::domain::feature::{
    AccountStatus, Action, Feature, FeatureAction, Status, action_str, status_str,
};
use crate::domain::listing::{Filter, Match, OrderBy, Page};

/// A field the account list can be filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountFilterField {
    Name,
    AccountId,
    DomainName,
    ProfileName,
    ProfileId,
    IsDefault,
}

/// A field the account list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountOrderField {
    Name,
    AccountId,
}

/// What `GET /accounts` asked for.
#[derive(Debug, Clone)]
pub struct AccountQuery {
    pub filter: Option<Filter<AccountFilterField>>,
    pub order: OrderBy<AccountOrderField>,
    pub page: Page,
}

#[derive(FromRow)]
struct AccountRow {
    account_id: String,
    is_default: bool,
    enabled: bool,
    doc: String,
    created_at: i64,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;

    fn try_from(r: AccountRow) -> Result<Self> {
        Ok(Account {
            account_id: AccountId::try_from(r.account_id)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            is_default: r.is_default,
            enabled: r.enabled,
            created_at: r.created_at,
            body: serde_json::from_str(&r.doc)?,
        })
    }
}

const COLUMNS: &str = "account_id, is_default, enabled, doc, created_at";

/// Inserts a new account. A taken name is `Conflict::AccountName`.
pub async fn insert(tx: &mut Tx, account: &Account, now: i64) -> Result<()> {
    let doc = serde_json::to_string(&account.body)?;
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into account (account_id, name, name_key, is_default, enabled, doc, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(account.account_id.as_str())
        .bind(&account.body.name)
        .bind(account.body.name_key())
        .bind(account.is_default)
        .bind(account.enabled)
        .bind(&doc)
        .bind(account.created_at)
        .bind(now)
        .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    write_search_keys(tx, &account.account_id, &account.body).await
}

/// Inserts an account unless one with its id exists; true when it was inserted.
/// Used by seeding, which must be idempotent when instances start together.
pub async fn insert_if_absent(tx: &mut Tx, account: &Account) -> Result<bool> {
    let doc = serde_json::to_string(&account.body)?;
    let done = on_conn!(tx, |c| {
        sqlx::query(
            "insert into account (account_id, name, name_key, is_default, enabled, doc, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $7) on conflict do nothing",
        )
        .bind(account.account_id.as_str())
        .bind(&account.body.name)
        .bind(account.body.name_key())
        .bind(account.is_default)
        .bind(account.enabled)
        .bind(&doc)
        .bind(account.created_at)
        .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    if done == 1 {
        write_search_keys(tx, &account.account_id, &account.body).await?;
    }
    Ok(done == 1)
}

/// Replaces the writable fields of an account.
pub async fn update(tx: &mut Tx, id: &AccountId, body: &AccountBody, now: i64) -> Result<()> {
    let doc = serde_json::to_string(body)?;
    on_conn!(tx, |c| {
        sqlx::query("update account set name = $2, name_key = $3, doc = $4, updated_at = $5 where account_id = $1")
            .bind(id.as_str())
            .bind(&body.name)
            .bind(body.name_key())
            .bind(&doc)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    write_search_keys(tx, id, body).await
}

/// Keeps the filter tables in step with the account document.
async fn write_search_keys(tx: &mut Tx, id: &AccountId, body: &AccountBody) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query("delete from account_domain where account_id = $1")
            .bind(id.as_str())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?;
        sqlx::query("delete from account_profile where account_id = $1")
            .bind(id.as_str())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?;
        for d in &body.domains {
            sqlx::query("insert into account_domain (account_id, domain_key) values ($1, $2) on conflict do nothing")
                .bind(id.as_str())
                .bind(d.domain_name.to_lowercase())
                .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?;
        }
        for p in body.profiles.iter().flatten() {
            sqlx::query(
                "insert into account_profile (account_id, profile_id, profile_key) values ($1, $2, $3) on conflict do nothing",
            )
            .bind(id.as_str())
            .bind(&p.profile_id)
            .bind(p.name.as_deref().unwrap_or_default().to_lowercase())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?;
        }
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(())
}

/// The account with `id`, if any.
pub async fn get(tx: &mut Tx, id: &AccountId) -> Result<Option<Account>> {
    let sql = format!("select {COLUMNS} from account where account_id = $1");
    let row: Option<AccountRow> = on_conn!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(&mut *c)
            .await
    })?;
    row.map(Account::try_from).transpose()
}

/// True when an account with `id` exists.
pub async fn exists(tx: &mut Tx, id: &AccountId) -> Result<bool> {
    let n: i64 = on_conn!(tx, |c| {
        sqlx::query_scalar("select count(*) from account where account_id = $1")
            .bind(id.as_str())
            .fetch_one(&mut *c)
            .await
    })?;
    Ok(n > 0)
}

/// The platform's default account, once bootstrap has created it.
pub async fn default_account(tx: &mut Tx) -> Result<Option<Account>> {
    let sql = format!("select {COLUMNS} from account where is_default");
    let row: Option<AccountRow> =
        on_conn!(tx, |c| sqlx::query_as(&sql).fetch_optional(&mut *c).await)?;
    row.map(Account::try_from).transpose()
}

/// One page of accounts and the total number that match.
pub async fn list(tx: &mut Tx, q: &AccountQuery) -> Result<(Vec<Account>, i64)> {
    // The only user input that reaches SQL is bound; the text below is built from
    // fixed fragments chosen by the parsed filter and order.
    let (condition, value) = match &q.filter {
        None => (String::new(), None),
        Some(f) => {
            let (c, v) = filter_sql(f);
            (format!("where {c}"), v)
        }
    };
    let order = match q.order.field {
        AccountOrderField::Name => "name_key",
        AccountOrderField::AccountId => "account_id",
    };
    let dir = if q.order.descending { "desc" } else { "asc" };
    let next = if value.is_some() { 2 } else { 1 };
    let count_sql = format!("select count(*) from account a {condition}");
    let page_sql = format!(
        "select {COLUMNS} from account a {condition}
         order by {order} {dir}, account_id {dir} limit ${next} offset ${}",
        next + 1
    );
    let (total, rows): (i64, Vec<AccountRow>) = on_conn!(tx, |c| {
        let mut count = sqlx::query_scalar(&count_sql);
        let mut page = sqlx::query_as(&page_sql);
        if let Some(v) = &value {
            count = count.bind(v);
            page = page.bind(v);
        }
        let total = count.fetch_one(&mut *c).await?;
        let rows = page
            .bind(i64::from(q.page.size))
            .bind(q.page.offset())
            .fetch_all(&mut *c)
            .await?;
        Ok::<_, sqlx::Error>((total, rows))
    })?;
    let accounts = rows
        .into_iter()
        .map(Account::try_from)
        .collect::<Result<_>>()?;
    Ok((accounts, total))
}

/// The SQL condition for a filter and the value bound to `$1`.
fn filter_sql(f: &Filter<AccountFilterField>) -> (String, Option<String>) {
    use AccountFilterField as F;
    let like = f.matcher.like_pattern();
    let exact = |col: &str| (format!("{col} = $1"), Some(f.matcher.value().to_owned()));
    let cond = |col: &str| format!("{col} like $1 escape '\\'");
    match (f.field, &like) {
        (F::IsDefault, _) => {
            // The HTTP layer accepts only `true` and `false` here.
            let v = f.matcher.value() == "true";
            (format!("is_default = {v}"), None)
        }
        (F::Name, None) => exact("name"),
        (F::Name, Some(p)) => (cond("name_key"), Some(p.clone())),
        (F::AccountId, None) => exact("account_id"),
        (F::AccountId, Some(p)) => (cond("lower(account_id)"), Some(p.clone())),
        (F::DomainName, _) => (
            format!(
                "exists (select 1 from account_domain d where d.account_id = a.account_id and {})",
                cond("d.domain_key")
            ),
            like.clone().or_else(|| Some(like_escape_exact(f.matcher.value()))),
        ),
        (F::ProfileId, None) => (
            "exists (select 1 from account_profile p where p.account_id = a.account_id and p.profile_id = $1)".to_owned(),
            Some(f.matcher.value().to_owned()),
        ),
        (F::ProfileId, Some(p)) => (
            format!(
                "exists (select 1 from account_profile p where p.account_id = a.account_id and {})",
                cond("lower(p.profile_id)")
            ),
            Some(p.clone()),
        ),
        (F::ProfileName, _) => (
            format!(
                "exists (select 1 from account_profile p where p.account_id = a.account_id and {})",
                cond("p.profile_key")
            ),
            like.clone().or_else(|| Some(like_escape_exact(f.matcher.value()))),
        ),
    }
}

/// Domain and profile names are stored lower-cased, so `=` on them compares ignoring
/// case like `:` does.
fn like_escape_exact(v: &str) -> String {
    Match::Equals(v.to_owned())
        .like_pattern()
        .unwrap_or_default()
}

/// Starts a new operation on an account (the account's statuses show the latest):
/// returns its generation, which every job of the operation carries.
pub async fn begin_operation(
    tx: &mut Tx,
    id: &AccountId,
    action: Action,
    rename: bool,
    now: i64,
) -> Result<i64> {
    let rename_status = rename.then_some(status_str(Status::InProgress));
    Ok(on_conn!(tx, |c| {
        sqlx::query_scalar(
            "insert into account_operation (account_id, action, generation, rename_status, updated_at)
             values ($1, $2, 1, $3, $4)
             on conflict (account_id) do update set action = excluded.action,
                 generation = account_operation.generation + 1,
                 rename_status = excluded.rename_status, updated_at = excluded.updated_at
             returning generation",
        )
        .bind(id.as_str())
        .bind(action_str(action))
        .bind(rename_status)
        .bind(now)
        .fetch_one(&mut *c)
        .await
    })?)
}

/// Where the latest operation's rename stands, if it renamed.
pub async fn rename_status(tx: &mut Tx, id: &AccountId) -> Result<Option<Status>> {
    let s: Option<Option<String>> = on_conn!(tx, |c| {
        sqlx::query_scalar("select rename_status from account_operation where account_id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *c)
            .await
    })?;
    s.flatten().as_deref().map(parse_enum).transpose()
}

/// Sets the status of one feature for operation `generation`.
pub async fn set_feature_status(
    tx: &mut Tx,
    id: &AccountId,
    feature: Feature,
    status: &FeatureAction,
    generation: i64,
    now: i64,
) -> Result<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "insert into account_feature_status (account_id, feature, action, status, message, generation, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7)
             on conflict (account_id, feature) do update set action = excluded.action, status = excluded.status,
                 message = excluded.message, generation = excluded.generation, updated_at = excluded.updated_at",
        )
        .bind(id.as_str())
        .bind(feature.as_str())
        .bind(action_str(status.action))
        .bind(status_str(status.status))
        .bind(&status.message)
        .bind(generation)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Finishes a feature's provisioning, unless a later operation took the feature over:
/// false when the row belongs to another generation (nothing is written then).
pub async fn finish_feature(
    tx: &mut Tx,
    id: &AccountId,
    feature: Feature,
    status: &FeatureAction,
    generation: i64,
    now: i64,
) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query(
            "update account_feature_status set status = $3, message = $4, updated_at = $6
             where account_id = $1 and feature = $2 and generation = $5",
        )
        .bind(id.as_str())
        .bind(feature.as_str())
        .bind(status_str(status.status))
        .bind(&status.message)
        .bind(generation)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Finishes a rename, unless a later operation started; false then.
pub async fn finish_rename(
    tx: &mut Tx,
    id: &AccountId,
    status: Status,
    generation: i64,
    now: i64,
) -> Result<bool> {
    let n = on_conn!(tx, |c| {
        sqlx::query(
            "update account_operation set rename_status = $2, updated_at = $4
             where account_id = $1 and generation = $3 and rename_status is not null",
        )
        .bind(id.as_str())
        .bind(status_str(status))
        .bind(generation)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

#[derive(FromRow)]
struct FeatureRow {
    feature: String,
    action: String,
    status: String,
    message: String,
    generation: i64,
}

/// Every feature's latest status and the generation that set it.
pub async fn feature_statuses(
    tx: &mut Tx,
    id: &AccountId,
) -> Result<BTreeMap<Feature, (FeatureAction, i64)>> {
    let rows: Vec<FeatureRow> = on_conn!(tx, |c| {
        sqlx::query_as(
            "select feature, action, status, message, generation from account_feature_status where account_id = $1",
        )
        .bind(id.as_str())
        .fetch_all(&mut *c)
        .await
    })?;
    rows.into_iter()
        .map(|r| {
            let feature =
                Feature::parse(&r.feature).ok_or_else(|| StoreError::Corrupt(r.feature.clone()))?;
            let action = FeatureAction {
                action: parse_enum(&r.action)?,
                status: parse_enum(&r.status)?,
                message: r.message,
            };
            Ok((feature, (action, r.generation)))
        })
        .collect()
}

/// The status of each account in `ids` that has one, in the order asked: the latest
/// operation and the features it touched.
pub async fn statuses(tx: &mut Tx, ids: &[AccountId]) -> Result<Vec<AccountStatus>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let op: Option<(String, i64, Option<String>)> = on_conn!(tx, |c| {
            sqlx::query_as("select action, generation, rename_status from account_operation where account_id = $1")
                .bind(id.as_str())
                .fetch_optional(&mut *c)
                .await
        })?;
        let Some((action, generation, rename)) = op else {
            continue;
        };
        // The features the operation touched, and any an earlier operation still
        // provisions: the overall status must not say COMPLETED while work runs.
        let features = feature_statuses(tx, id)
            .await?
            .into_iter()
            .filter(|(_, (a, g))| *g == generation || a.is_running())
            .map(|(f, (a, _))| (f, a))
            .collect();
        let rename = rename.as_deref().map(parse_enum).transpose()?;
        out.push(AccountStatus::of_parts(
            id.as_str(),
            parse_enum(&action)?,
            rename,
            features,
        ));
    }
    Ok(out)
}

/// Serialises structural changes of one account (its organization hierarchy) across
/// transactions: on PostgreSQL the account row is locked until commit; SQLite has one
/// writer, so its write transactions are serial already.
pub async fn lock(tx: &mut Tx, id: &AccountId) -> Result<()> {
    if let Some(sql) = super::dialect::lock_account(tx.backend()) {
        on_conn!(tx, |c| {
            sqlx::query_scalar::<_, String>(sql)
                .bind(id.as_str())
                .fetch_optional(&mut *c)
                .await
        })?;
    }
    Ok(())
}
