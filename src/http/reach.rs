//! Reach: the account (and resource id) a request's path names, and whether the caller
//! may act there. Every tenant operation starts here, so the documented check order
//! holds everywhere: 400 (path parameters, all reported at once), then 403 (another
//! account's path, decided by the token alone, before any lookup), then 404 (an
//! account that does not exist). The handler reads its body only afterwards.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Result};
use super::extract::PathParams;
use crate::domain::{AccountId, Violation};
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
    let mut tx = state.db.read().await?;
    if !store::accounts::exists(&mut tx, &account).await? {
        return Err(ApiError::not_found(
            "Account",
            "AccountId",
            account.as_str(),
        ));
    }
    Ok((account, tx))
}

/// A `{...Id}` UUID parameter, in any case, normalised to lower case.
pub fn uuid_param(params: &PathParams, name: &str) -> std::result::Result<String, Violation> {
    let raw = params.raw(name);
    match uuid::Uuid::try_parse(raw) {
        Ok(u) if raw.len() == 36 => Ok(u.hyphenated().to_string()),
        _ => Err(Violation::pattern(
            name,
            crate::domain::account::UUID_PATTERN,
        )),
    }
}

/// How a path's resource id is written.
#[derive(Debug, Clone, Copy)]
pub enum IdKind {
    /// A UUID in any case (elements, numbers), normalised to lower case.
    Uuid,
    /// Six letters (organization nodes), case-sensitive.
    SixLetters,
    /// Six characters of the spec's profile id pattern (`N3ZW63`), case-sensitive.
    ProfileId,
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
    let account = params.account_id().map_err(|e| match e {
        ApiError::Validation { violations, .. } => violations,
        _ => Vec::new(),
    });
    let id = match kind {
        IdKind::Uuid => uuid_param(params, name),
        IdKind::SixLetters => {
            AccountId::parse_field(name, params.raw(name)).map(|id| id.to_string())
        }
        IdKind::ProfileId => {
            let raw = params.raw(name);
            let ok = raw.len() == 6
                && raw
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_. ".contains(&b));
            ok.then(|| raw.to_owned())
                .ok_or_else(|| Violation::pattern(name, crate::domain::account::PROFILE_ID_PATTERN))
        }
    };
    match (account, id) {
        (Ok(account), Ok(id)) => {
            let (account, tx) = reach(state, caller, account).await?;
            Ok((account, id, tx))
        }
        (account, id) => {
            let mut violations = account.err().unwrap_or_default();
            violations.extend(id.err());
            Err(ApiError::validation(violations))
        }
    }
}
