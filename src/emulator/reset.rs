//! Resets: everything, or one account with all it owns.

use super::faults::Faults;
use super::requests::RequestJournal;
use crate::auth::Auth;
use crate::clock::Clock;
use crate::domain::{AccountId, Code, Violation};
use crate::service::ServiceError;
use crate::store::{self, Db};

/// What a reset removes.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every account but the default one with all they own, every job, the journal,
    /// the rules, the faults, the seed and the saved clock (and this instance's request
    /// journal).
    Everything,
    /// One account (not the default one) with all it owns, its jobs and journal.
    Account(AccountId),
}

/// What a reset clears besides the database: this instance's caches and records.
pub struct Instance<'a> {
    pub clock: &'a Clock,
    pub auth: &'a Auth,
    pub faults: &'a Faults,
    pub requests: &'a RequestJournal,
}

/// Resets `scope`, forgets every cached credential, and under `--demo` seeds the
/// demo data again.
pub async fn reset(
    db: &Db,
    instance: &Instance<'_>,
    demo: bool,
    scope: &Scope,
) -> Result<(), ServiceError> {
    let Instance {
        clock,
        auth,
        faults,
        requests,
    } = *instance;
    match scope {
        Scope::Everything => {
            let mut tx = db.write().await?;
            store::emulator::reset_all(&mut tx).await?;
            store::numbers::recount_available(&mut tx).await?;
            tx.commit().await?;
            clock.restore(0, None);
            super::clock::persist(db, clock).await?;
            super::faults::refresh(db, faults).await?;
            requests.clear();
        }
        Scope::Account(id) => {
            let mut read = db.read().await?;
            let target = store::accounts::get(&mut read, id).await?;
            drop(read);
            match target {
                None => {
                    return Err(ServiceError::NotFound {
                        what: "Account",
                        key: "AccountId",
                        id: id.to_string(),
                    });
                }
                Some(a) if a.is_default => {
                    return Err(ServiceError::Invalid(vec![Violation::new(
                        "accountId",
                        Code::InvalidValue,
                        "the default account is reset only with everything else (omit accountId)",
                    )]));
                }
                Some(_) => {}
            }
            let mut tx = db.write().await?;
            store::emulator::reset_account(&mut tx, id).await?;
            store::numbers::recount_available(&mut tx).await?;
            tx.commit().await?;
        }
    }
    auth.forget_all();
    if demo {
        crate::bootstrap::seed_demo(db, clock.now_ms()).await?;
    }
    // The commits above moved the epoch already; this states the rule where it holds:
    // nothing cached before a reset is served after it.
    db.epoch().advance();
    Ok(())
}
