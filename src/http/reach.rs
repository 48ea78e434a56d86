//! Reach: the account (and resource id) a request's path names, and whether the caller
//! may act there. Every tenant operation starts here, so the documented check order
//! holds everywhere: 400 (path parameters, all reported at once), then 403 (another
//! account's path, decided by the token alone, before any lookup), then 404 (an
//! account that does not exist). The handler reads its body only afterwards.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Result};
use super::extract::PathParams;
use crate::domain::{AccountId, ElementId, PhoneNumberId, Violation};
use crate::store::{self, Tx};

/// The checks every tenant operation starts with: a valid account id the caller may
/// act in (401, 400, 403 are done by then), and an account that exists (404).
pub async fn account_in_reach(
    state: &AppState,
    caller: &Caller,
    params: &PathParams,
) -> Result<AccountId> {
    Ok(account_in_reach_read(state, caller, params).await?.0)
}

/// [`account_in_reach`] for a handler that only reads: the read connection the check
/// used is handed on, so that the request takes one connection, not two.
pub async fn account_in_reach_read(
    state: &AppState,
    caller: &Caller,
    params: &PathParams,
) -> Result<(AccountId, Tx)> {
    let account = params.account_id()?;
    reach(state, caller, account).await
}

async fn reach(state: &AppState, caller: &Caller, account: AccountId) -> Result<(AccountId, Tx)> {
    caller.require_account(&account)?;
    let tx = existing(state, &account).await?;
    Ok((account, tx))
}

/// 404 unless `account` exists; else the read connection the check used.
pub async fn existing(state: &AppState, account: &AccountId) -> Result<Tx> {
    let mut tx = state.db.read().await?;
    if !store::accounts::exists(&mut tx, account).await? {
        return Err(ApiError::not_found(
            "Account",
            "AccountId",
            account.as_str(),
        ));
    }
    Ok(tx)
}

/// A resource id that a path names, parsed once: element and phone number ids.
pub trait PathId: Sized {
    /// Parses the path's `field`, naming it in the violation.
    fn parse_field(field: &str, raw: &str) -> std::result::Result<Self, Violation>;
}

impl PathId for ElementId {
    fn parse_field(field: &str, raw: &str) -> std::result::Result<Self, Violation> {
        ElementId::parse_field(field, raw)
    }
}

impl PathId for PhoneNumberId {
    fn parse_field(field: &str, raw: &str) -> std::result::Result<Self, Violation> {
        PhoneNumberId::parse_field(field, raw)
    }
}

/// How a path's six-character resource id is written (organization nodes and
/// profiles, whose ids stay strings).
#[derive(Debug, Clone, Copy)]
pub enum IdKind {
    /// Six letters (organization nodes), case-sensitive.
    SixLetters,
    /// Six characters of the spec's profile id pattern (`N3ZW63`), case-sensitive.
    ProfileId,
}

impl IdKind {
    fn parse(self, name: &str, raw: &str) -> std::result::Result<String, Violation> {
        match self {
            IdKind::SixLetters => AccountId::parse_field(name, raw).map(|id| id.to_string()),
            IdKind::ProfileId => {
                let ok = raw.len() == 6
                    && raw
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_. ".contains(&b));
                ok.then(|| raw.to_owned()).ok_or_else(|| {
                    Violation::pattern(name, crate::domain::account::PROFILE_ID_PATTERN)
                })
            }
        }
    }
}

/// The account and the resource id `name` of a path: both are checked, every
/// violation reported, before anything else; then the account's reach (403, 404).
pub async fn resource_path(
    state: &AppState,
    caller: &Caller,
    params: &PathParams,
    name: &str,
    kind: IdKind,
) -> Result<(AccountId, String)> {
    let (account, id, _) = resource_path_read(state, caller, params, name, kind).await?;
    Ok((account, id))
}

/// [`resource_path`] for a handler that only reads: the read connection the account's
/// check used is handed on, so that the request takes one connection, not two.
pub async fn resource_path_read(
    state: &AppState,
    caller: &Caller,
    params: &PathParams,
    name: &str,
    kind: IdKind,
) -> Result<(AccountId, String, Tx)> {
    in_reach(state, caller, params, name, |raw| kind.parse(name, raw)).await
}

/// [`resource_path`] for an id of type `I` (elements, phone numbers).
pub async fn resource_path_of<I: PathId>(
    state: &AppState,
    caller: &Caller,
    params: &PathParams,
    name: &str,
) -> Result<(AccountId, I)> {
    let (account, id, _) = resource_path_read_of(state, caller, params, name).await?;
    Ok((account, id))
}

/// [`resource_path_read`] for an id of type `I` (elements, phone numbers).
pub async fn resource_path_read_of<I: PathId>(
    state: &AppState,
    caller: &Caller,
    params: &PathParams,
    name: &str,
) -> Result<(AccountId, I, Tx)> {
    in_reach(state, caller, params, name, |raw| I::parse_field(name, raw)).await
}

/// The checks of [`resource_path_read_of`] that need no database (400, 403), for a
/// handler that may answer from a cache before it reads anything; it then calls
/// [`existing`] for the 404 of the account when it does read.
pub fn resource_path_checked<I: PathId>(
    caller: &Caller,
    params: &PathParams,
    name: &str,
) -> Result<(AccountId, I)> {
    let (account, id) = parsed(params, name, |raw| I::parse_field(name, raw))?;
    caller.require_account(&account)?;
    Ok((account, id))
}

/// The checks of [`resource_path_read`], with `parse` reading the id.
async fn in_reach<I>(
    state: &AppState,
    caller: &Caller,
    params: &PathParams,
    name: &str,
    parse: impl FnOnce(&str) -> std::result::Result<I, Violation>,
) -> Result<(AccountId, I, Tx)> {
    let (account, id) = parsed(params, name, parse)?;
    let (account, tx) = reach(state, caller, account).await?;
    Ok((account, id, tx))
}

/// The account and the id `name` of a path, every violation of both reported at once.
fn parsed<I>(
    params: &PathParams,
    name: &str,
    parse: impl FnOnce(&str) -> std::result::Result<I, Violation>,
) -> Result<(AccountId, I)> {
    let account = params.account_id().map_err(|e| match e {
        ApiError::Validation { violations, .. } => violations,
        _ => Vec::new(),
    });
    let id = parse(params.raw(name));
    match (account, id) {
        (Ok(account), Ok(id)) => Ok((account, id)),
        (account, id) => {
            let mut violations = account.err().unwrap_or_default();
            violations.extend(id.err());
            Err(ApiError::validation(violations))
        }
    }
}
