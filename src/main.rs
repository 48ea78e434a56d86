//! The `ccadmin` command: parse arguments, set up logs, run the chosen command.

use clap::Parser;
use serde_json::json;
use tracing_subscriber::EnvFilter;

use ccadmin::bootstrap::{DEMO_ACCOUNT, demo};
use ccadmin::clock::Clock;
use ccadmin::config::{
    AccountCommand, Cli, ClientCommand, Command, InventoryCommand, LogFormat, ServeArgs,
    StateCommand,
};
use ccadmin::domain::account::{AccountBody, AccountIn};
use ccadmin::domain::{AccountId, FeatureGrants, Role};
use ccadmin::service;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(storage) => {
            ccadmin::open(&storage).await?.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Account(cmd) => account(cmd).await,
        Command::Client(cmd) => client(cmd).await,
        Command::Inventory(cmd) => inventory(cmd).await,
        Command::State(cmd) => state(cmd).await,
        Command::Backup { storage, file } => {
            let bytes = ccadmin::store::backup(&storage.location()?, &file).await?;
            println!("backup written to {} ({bytes} bytes)", file.display());
            Ok(())
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colour codes only for a person at a terminal: a log file or collector would
    // keep them as escape sequences.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let app = ccadmin::App::build(&args).await?;
    let addr = app.local_addr();
    let boot = app.bootstrapped().clone();
    tracing::info!(%addr, default_account = %boot.default_account, admin_client = %boot.admin_client_id, "ccadmin is serving");
    if let Some(path) = &boot.credentials_file {
        tracing::warn!(path = %path.display(), "generated Administrator credentials were written to this file (mode 0600)");
    }
    if args.demo {
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "DEMO CREDENTIALS ARE SERVED ON A NON-LOOPBACK ADDRESS: anyone who can reach it can administer every account");
            eprintln!(
                "\n!!! WARNING: --demo with well-known credentials on {addr}, which is not a loopback address !!!\n"
            );
        }
        print_quick_start(&addr.to_string(), boot.default_account.as_str());
    }
    app.run_until_stopped(ccadmin::stop_signal()).await
}

fn print_quick_start(addr: &str, default_account: &str) {
    println!(
        r#"
ccadmin demo is ready on http://{addr}

  # a token for account {DEMO_ACCOUNT} (Account Administrator)
  TOKEN=$(curl -s -X POST http://{addr}/api/auth/v1/{DEMO_ACCOUNT}/protocol/openid-connect/token \
    -H 'appkey: {appkey}' -d grant_type=client_credentials \
    -d client_id={client} -d client_secret={secret} | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

  # the account
  curl -s http://{addr}/api/admin/account/v1/accounts/{DEMO_ACCOUNT} \
    -H "Authorization: Bearer $TOKEN" -H 'appkey: {appkey}'

  Administrator: account {default_account}, client {admin_client} / {admin_secret}, appkey {admin_appkey}
  User (password grant) in {DEMO_ACCOUNT}: {user} / {password}
"#,
        appkey = demo::APPKEY,
        client = demo::CLIENT,
        secret = demo::SECRET,
        admin_client = demo::ADMIN_CLIENT,
        admin_secret = demo::ADMIN_SECRET,
        admin_appkey = demo::ADMIN_APPKEY,
        user = demo::USER,
        password = demo::PASSWORD,
    );
}

async fn account(cmd: AccountCommand) -> anyhow::Result<()> {
    match cmd {
        AccountCommand::Create {
            storage,
            name,
            domains,
            account_size,
            country_code,
            description,
        } => {
            let db = ccadmin::open(&storage).await?;
            let input: AccountIn = serde_json::from_value(json!({
                "name": name, "description": description, "accountSize": account_size,
                "countryCode": country_code,
                "domains": domains.iter().map(|d| json!({"domainName": d})).collect::<Vec<_>>(),
            }))?;
            let body = AccountBody::try_from(input).map_err(|v| {
                anyhow::anyhow!(
                    "invalid account: {}",
                    serde_json::to_string(&v).unwrap_or_default()
                )
            })?;
            // The server's workers provision the features once it runs.
            let provisioning = ccadmin::jobs::Provisioning {
                max_attempts: 5,
                ..Default::default()
            };
            let account = service::accounts::create(
                &db,
                &Clock::default(),
                body,
                &provisioning,
                &cli_author(),
                None,
            )
            .await?;
            let out = account.to_out(&account.body, None);
            println!("{}", serde_json::to_string_pretty(&out)?);
            db.close().await;
            Ok(())
        }
    }
}

async fn client(cmd: ClientCommand) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::Create {
            storage,
            account,
            roles,
            features,
        } => {
            let account =
                AccountId::try_from(account).map_err(|e| anyhow::anyhow!("--account {e}"))?;
            let roles = roles
                .iter()
                .map(|r| Role::parse(r).ok_or_else(|| anyhow::anyhow!("unknown role {r:?}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let db = ccadmin::open(&storage).await?;
            let created = service::clients::create(
                &db,
                &Clock::default(),
                &account,
                roles,
                FeatureGrants::of(features),
                &cli_author(),
            )
            .await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "clientId": created.client.client_id, "clientSecret": created.client_secret,
                    "appkey": created.client.appkey, "accountId": account.as_str(),
                    "roles": created.client.roles,
                }))?
            );
            db.close().await;
            Ok(())
        }
    }
}

async fn inventory(cmd: InventoryCommand) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    match cmd {
        InventoryCommand::Import {
            storage,
            file,
            no_plan_check,
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let db = ccadmin::open(&storage).await?;
            let bar = std::io::stderr().is_terminal().then(|| {
                let bar = indicatif::ProgressBar::new(0);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:40} {pos}/{len} rows ({per_sec}, {eta} left)",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar
            });
            let progress = |done: u64, total: u64| {
                if let Some(bar) = &bar {
                    bar.set_length(total);
                    bar.set_position(done);
                }
            };
            let report = ccadmin::inventory::import(&db, text, !no_plan_check, progress).await;
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            db.close().await;
            let report = report?;
            for bad in &report.bad_rows {
                eprintln!("line {}: {}", bad.line, bad.reason);
            }
            if report.skipped > report.bad_rows.len() {
                eprintln!(
                    "... and {} more invalid rows",
                    report.skipped - report.bad_rows.len()
                );
            }
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
    }
}

async fn state(cmd: StateCommand) -> anyhow::Result<()> {
    use anyhow::Context;
    use tokio::io::AsyncWriteExt;
    match cmd {
        StateCommand::Export {
            storage,
            file,
            no_inventory,
        } => {
            let db = ccadmin::open(&storage).await?;
            // A reader of FILE never sees half a snapshot: written aside, then renamed.
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(file.file_name().context("FILE names no file")?);
            tmp_name.push(format!(".{}.tmp", std::process::id()));
            let tmp = file.with_file_name(tmp_name);
            let written = async {
                let out = tokio::fs::File::create(&tmp)
                    .await
                    .with_context(|| format!("cannot write {}", tmp.display()))?;
                let mut out = tokio::io::BufWriter::with_capacity(1 << 20, out);
                let export =
                    ccadmin::emulator::state::begin_export(&db, &Clock::default(), !no_inventory)
                        .await?;
                let counts = export.write_to(&mut out).await?;
                out.shutdown().await?;
                std::fs::rename(&tmp, &file)
                    .with_context(|| format!("cannot write {}", file.display()))?;
                anyhow::Ok(counts)
            }
            .await;
            db.close().await;
            if written.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            let counts = written?;
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"file": file, "rows": counts.0}))?
            );
            Ok(())
        }
        StateCommand::Import { storage, file } => {
            let reader = std::fs::File::open(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let db = ccadmin::open(&storage).await?;
            let imported =
                ccadmin::emulator::state::import(&db, Clock::default().now_ms(), reader).await;
            db.close().await;
            let imported = imported.map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            println!("{}", serde_json::to_string_pretty(&imported)?);
            Ok(())
        }
    }
}

/// How audit records name changes made with the CLI.
fn cli_author() -> ccadmin::domain::audit::Author {
    ccadmin::domain::audit::Author {
        id: "ccadmin-cli".to_owned(),
        ip: "127.0.0.1".to_owned(),
    }
}
