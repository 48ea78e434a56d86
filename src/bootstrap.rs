//! What must exist before the first request: the default account and an
//! Administrator, and with `--demo` the demo accounts and credentials. Every step is
//! idempotent and safe when several instances start together on one database.

use std::path::Path;

use anyhow::Context;
use serde_json::json;

use crate::auth::secret;
use crate::clock::Clock;
use crate::config::AdminArgs;
use crate::domain::account::{Account, AccountBody};
use crate::domain::{AccountId, FeatureGrants, Role};
use crate::jobs::Provisioning;
use crate::store::credentials::{Client, User};
use crate::store::{self, Db};

/// The default account's id under `--demo` when the operator sets none.
pub const DEMO_DEFAULT_ACCOUNT: &str = "PLATFM";
/// The voice seed's account.
pub const DEMO_ACCOUNT: &str = "ABCDEF";
/// The accounts seed's account.
pub const SEED_ACCOUNT: &str = "AQWSDE";

/// The profiles the seeds reference: `AQXSWF` (the accounts seed's PUT) and `N3ZW63`
/// named `profileVoice` (the organization node seed's).
pub const DEMO_PROFILES: [(&str, &str); 2] =
    [("AQXSWF", "profileAccount"), ("N3ZW63", "profileVoice")];

/// Demo credentials, fixed so that docs and scripts can use them.
pub mod demo {
    pub const ADMIN_CLIENT: &str = "demo-admin";
    pub const ADMIN_SECRET: &str = "demo-admin-secret";
    pub const ADMIN_APPKEY: &str = "demo-admin-appkey";
    pub const CLIENT: &str = "demo-client";
    pub const SECRET: &str = "demo-secret";
    pub const APPKEY: &str = "demo-appkey";
    pub const USER: &str = "demo-user";
    pub const PASSWORD: &str = "demo-password";
}

/// What bootstrap found or made, for the start-up message.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub default_account: AccountId,
    pub admin_client_id: String,
    /// Where generated Administrator credentials were written, when they were.
    pub credentials_file: Option<std::path::PathBuf>,
}

fn account(
    id: &str,
    is_default: bool,
    body: serde_json::Value,
    now: i64,
) -> anyhow::Result<Account> {
    let input: crate::domain::account::AccountIn = serde_json::from_value(body)?;
    let body =
        AccountBody::try_from(input).map_err(|v| anyhow::anyhow!("invalid seed account: {v:?}"))?;
    Ok(Account {
        account_id: AccountId::try_from(id.to_owned()).map_err(|e| anyhow::anyhow!("{id}: {e}"))?,
        is_default,
        enabled: true,
        created_at: now,
        body,
    })
}

async fn ensure_account(db: &Db, account: &Account, now: i64) -> anyhow::Result<()> {
    let mut tx = db.write().await?;
    if store::accounts::insert_if_absent(&mut tx, account).await? {
        crate::service::accounts::record_creation(&mut tx, account, &Provisioning::default(), now)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

struct ClientSpec<'a> {
    account: &'a AccountId,
    client_id: &'a str,
    secret: &'a str,
    appkey: &'a str,
    role: Role,
    /// Reset the secret and appkey when the stored ones differ (operator-set values).
    authoritative: bool,
}

async fn ensure_client(db: &Db, spec: ClientSpec<'_>, now: i64) -> anyhow::Result<()> {
    let mut tx = db.read().await?;
    let existing = store::credentials::client_by_id(&mut tx, spec.client_id).await?;
    drop(tx);
    match existing {
        Some(c) if &c.account_id != spec.account => anyhow::bail!(
            "client {} exists in account {}, not in {}",
            spec.client_id,
            c.account_id,
            spec.account
        ),
        Some(c) => {
            let stale = c.appkey != spec.appkey
                || c.revoked_at.is_some()
                || !secret::verify_blocking(spec.secret.to_owned(), c.secret_hash.clone()).await;
            if spec.authoritative && stale {
                let hash = secret::hash_blocking(spec.secret.to_owned()).await?;
                let mut tx = db.write().await?;
                store::credentials::reset_client(&mut tx, spec.client_id, &hash, spec.appkey)
                    .await?;
                tx.commit().await?;
            }
        }
        None => {
            let client = Client {
                client_id: spec.client_id.to_owned(),
                account_id: spec.account.clone(),
                secret_hash: secret::hash_blocking(spec.secret.to_owned()).await?,
                appkey: spec.appkey.to_owned(),
                roles: vec![spec.role],
                features: FeatureGrants::all(),
                created_at: now,
                revoked_at: None,
            };
            let mut tx = db.write().await?;
            store::credentials::insert_client(&mut tx, &client, true).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Creates the default account and the bootstrap Administrator if they are missing.
pub async fn bootstrap(
    db: &Db,
    clock: &Clock,
    admin: &AdminArgs,
    data_dir: &Path,
    demo: bool,
) -> anyhow::Result<Bootstrapped> {
    let now = clock.now_ms();
    let mut tx = db.read().await?;
    let existing = store::accounts::default_account(&mut tx).await?;
    drop(tx);
    let default_account = match existing {
        Some(a) => a.account_id,
        None => {
            let id = match (&admin.admin_account_id, demo) {
                (Some(id), _) => id.clone(),
                (None, true) => DEMO_DEFAULT_ACCOUNT.to_owned(),
                (None, false) => AccountId::generate().to_string(),
            };
            let body = json!({"name": "Platform", "description": "The platform's default account",
                "domains": [{"domainName": "platform.local", "isDefault": true}], "accountSize": 1000});
            let a = account(&id, true, body, now)
                .context("CCADMIN_ADMIN_ACCOUNT_ID must be six letters")?;
            ensure_account(db, &a, now).await?;
            // Another instance may have won the race with another id: read back.
            let mut tx = db.read().await?;
            store::accounts::default_account(&mut tx)
                .await?
                .context("the default account could not be created")?
                .account_id
        }
    };

    let mut credentials_file = None;
    let admin_client_id = if let Some(client_id) = &admin.admin_client_id {
        let secret = admin
            .admin_client_secret
            .clone()
            .context("CCADMIN_ADMIN_CLIENT_SECRET must be set with CCADMIN_ADMIN_CLIENT_ID")?;
        let appkey = admin
            .admin_appkey
            .clone()
            .context("CCADMIN_ADMIN_APPKEY must be set with CCADMIN_ADMIN_CLIENT_ID")?;
        let spec = ClientSpec {
            account: &default_account,
            client_id,
            secret: &secret,
            appkey: &appkey,
            role: Role::Administrator,
            authoritative: true,
        };
        ensure_client(db, spec, now).await?;
        client_id.clone()
    } else if demo {
        let spec = ClientSpec {
            account: &default_account,
            client_id: demo::ADMIN_CLIENT,
            secret: demo::ADMIN_SECRET,
            appkey: demo::ADMIN_APPKEY,
            role: Role::Administrator,
            authoritative: true,
        };
        ensure_client(db, spec, now).await?;
        demo::ADMIN_CLIENT.to_owned()
    } else {
        let mut tx = db.read().await?;
        let any = store::credentials::any_administrator(&mut tx, &default_account).await?;
        drop(tx);
        if any {
            "(existing)".to_owned()
        } else {
            let client_id = format!("admin-{}", uuid::Uuid::new_v4().simple());
            let secret = secret::random_token(32);
            let appkey = secret::random_token(24);
            let path = data_dir.join("admin-credentials.json");
            write_private(
                &path,
                &json!({"accountId": default_account.as_str(), "clientId": client_id,
                        "clientSecret": secret, "appkey": appkey}),
            )?;
            let spec = ClientSpec {
                account: &default_account,
                client_id: &client_id,
                secret: &secret,
                appkey: &appkey,
                role: Role::Administrator,
                authoritative: false,
            };
            ensure_client(db, spec, now).await?;
            credentials_file = Some(path);
            client_id
        }
    };

    if demo {
        seed_demo(db, now).await?;
    }
    Ok(Bootstrapped {
        default_account,
        admin_client_id,
        credentials_file,
    })
}

/// Writes `value` to `path`, readable by the owner only.
fn write_private(path: &Path, value: &serde_json::Value) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    writeln!(f, "{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

/// The demo accounts and credentials: the voice seed's `ABCDEF` and the accounts
/// seed's `AQWSDE`, exactly as the seeds show them.
pub async fn seed_demo(db: &Db, now: i64) -> anyhow::Result<()> {
    let abcdef = account(
        DEMO_ACCOUNT,
        false,
        json!({"name": "Demo Contact Center", "description": "The voice seed's account",
               "domains": [{"domainName": "demo.example.com", "isDefault": true}],
               "countryCode": "US", "accountSize": 100}),
        now,
    )?;
    let aqwsde = account(
        SEED_ACCOUNT,
        false,
        json!({"name": "SyncG", "description": "Account for SyncG",
               "domains": [{"domainName": "avaya.com", "isDefault": true}],
               "accountSize": 10, "countryCode": "IN"}),
        now,
    )?;
    ensure_account(db, &abcdef, now).await?;
    ensure_account(db, &aqwsde, now).await?;
    // The profiles the seeds' bodies reference, so their requests replay as written.
    let mut tx = db.write().await?;
    for account in [&aqwsde.account_id, &abcdef.account_id] {
        for (id, name) in DEMO_PROFILES {
            let input: crate::domain::org::ProfileIn =
                serde_json::from_value(serde_json::json!({ "profileName": name }))?;
            let body = crate::domain::org::ProfileBody::try_from(input).map_err(|v| {
                anyhow::anyhow!("invalid demo profile {name}: {}", serde_json::json!(v))
            })?;
            store::org::insert_profile(&mut tx, account, id, &body, now, true).await?;
        }
    }
    tx.commit().await?;
    crate::inventory::seed_demo(db).await?;
    let spec = ClientSpec {
        account: &abcdef.account_id,
        client_id: demo::CLIENT,
        secret: demo::SECRET,
        appkey: demo::APPKEY,
        role: Role::AccountAdministrator,
        authoritative: false,
    };
    ensure_client(db, spec, now).await?;

    let mut tx = db.read().await?;
    let user = store::credentials::user(&mut tx, &abcdef.account_id, demo::USER).await?;
    drop(tx);
    if user.is_none() {
        let user = User {
            account_id: abcdef.account_id.clone(),
            username: demo::USER.to_owned(),
            password_hash: secret::hash_blocking(demo::PASSWORD.to_owned()).await?,
            roles: vec![Role::AccountAdministrator],
        };
        let mut tx = db.write().await?;
        store::credentials::insert_user_if_absent(&mut tx, &user, now).await?;
        tx.commit().await?;
    }
    Ok(())
}
