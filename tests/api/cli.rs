//! The binary itself: the CLI commands, operator-set Administrator credentials, and a
//! graceful stop on SIGTERM.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{Backend, TestDb, spawn_app_with, status_json};
use crate::process::ServerProcess;

fn ccadmin(args: &[&str], data_dir: &std::path::Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ccadmin"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[tokio::test]
async fn the_cli_creates_accounts_and_clients_that_the_server_serves() {
    let db = TestDb::create(&Backend::Sqlite).await;
    let dir = db.data_dir().unwrap();
    let account = ccadmin(
        &[
            "account",
            "create",
            "--name",
            "Cli Corp",
            "--domain",
            "cli.example.com",
            "--account-size",
            "7",
        ],
        &dir,
    );
    let id = account["accountId"].as_str().unwrap().to_owned();
    assert_eq!(account["name"], "Cli Corp");
    assert_eq!(account["domains"][0]["isDefault"], true);
    let client = ccadmin(&["client", "create", "--account", &id], &dir);
    assert_eq!(
        client["roles"],
        serde_json::json!(["Account Administrator"])
    );

    let server = ServerProcess::start(&db, &[]).await;
    let http = reqwest::Client::new();
    let res = http
        .post(format!(
            "{}/api/auth/v1/{id}/protocol/openid-connect/token",
            server.address
        ))
        .header("appkey", client["appkey"].as_str().unwrap())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client["clientId"].as_str().unwrap()),
            ("client_secret", client["clientSecret"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    let (status, token) = status_json(res).await;
    assert_eq!(status, 200);
    let res = http
        .get(format!(
            "{}/api/admin/account/v1/accounts/{id}",
            server.address
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .header("appkey", client["appkey"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let (status, got) = status_json(res).await;
    assert_eq!(status, 200);
    assert_eq!(got["accountSize"], 7);
}

#[tokio::test]
async fn operator_set_administrator_credentials_take_precedence() {
    let app = spawn_app_with(&Backend::Sqlite, |a| {
        a.admin.admin_account_id = Some("OPSACC".into());
        a.admin.admin_client_id = Some("ops-admin".into());
        a.admin.admin_client_secret = Some("ops-secret".into());
        a.admin.admin_appkey = Some("ops-appkey".into());
    })
    .await;
    let ops = app
        .login("OPSACC", "ops-admin", "ops-secret", "ops-appkey")
        .await;
    let (status, page) = status_json(
        app.get("/api/admin/account/v1/accounts?filter=isDefault:true", &ops)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["accounts"][0]["accountId"], "OPSACC");
    // The demo Administrator is not created when the operator names one.
    let res = app
        .token_request(
            "OPSACC",
            Some("demo-admin-appkey"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "demo-admin"),
                ("client_secret", "demo-admin-secret"),
            ],
        )
        .await;
    assert_eq!(res.status(), 401);

    // A new secret set by the operator replaces the stored one at the next start.
    let mut args = app.args.clone();
    args.admin.admin_client_secret = Some("rotated-secret".into());
    let app = app.restart_with(args).await;
    assert_eq!(
        app.token_request(
            "OPSACC",
            Some("ops-appkey"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "ops-admin"),
                ("client_secret", "ops-secret")
            ]
        )
        .await
        .status(),
        401
    );
    app.login("OPSACC", "ops-admin", "rotated-secret", "ops-appkey")
        .await;
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let db = TestDb::create(&Backend::Sqlite).await;
    let server = ServerProcess::start(&db, &[]).await;
    let started = Instant::now();
    let code = server.terminate(Duration::from_secs(10));
    assert_eq!(code, Some(0), "exit status after SIGTERM");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn inventory_import_adds_valid_rows_and_reports_bad_ones_by_line() {
    let db = TestDb::create(&Backend::Sqlite).await;
    let dir = db.data_dir().unwrap();
    let file = dir.join("numbers.csv");
    std::fs::write(
        &file,
        "phoneNumber,countryCode,type,areaCode,documentationRequired\n\
         +14155550123,US,LOCAL,,false\n\
         +18005550199,US,TOLLFREE,800,true\n\
         +14165550123,US,LOCAL,,false\n\
         +1415555,US,LOCAL,,false\n\
         +14155550124,US,MOBILE,,false\n\
         \n\
         +14155550125,US,LOCAL\n\
         +442079460123,GB,LOCAL,20,false\n",
    )
    .unwrap();
    let report = ccadmin(&["inventory", "import", file.to_str().unwrap()], &dir);
    assert_eq!(report["rows"], 7);
    assert_eq!(report["imported"], 3);
    assert_eq!(report["skipped"], 4);
    let lines: Vec<i64> = report["badRows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["line"].as_i64().unwrap())
        .collect();
    assert_eq!(
        lines,
        [4, 5, 6, 8],
        "line numbers count the blank line: {report}"
    );
    assert!(
        report["badRows"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not a LOCAL number of US"),
        "{report}"
    );

    // Importing again adds nothing and changes nothing.
    let again = ccadmin(&["inventory", "import", file.to_str().unwrap()], &dir);
    assert_eq!(
        (again["imported"].as_i64(), again["alreadyPresent"].as_i64()),
        (Some(0), Some(3))
    );

    // A bad header is fatal: nothing is imported.
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "number,country\n+14155550126,US\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ccadmin"))
        .args(["inventory", "import", bad.to_str().unwrap(), "--data-dir"])
        .arg(&dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("header"));

    let server = ServerProcess::start(&db, &[]).await;
    let admin = server.admin().await;
    let res = reqwest::Client::new()
        .get(format!("{}/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers?countryCode=US&type=LOCAL&areaCode=415&phoneNumber=5550123", server.address))
        .bearer_auth(&admin.token).header("appkey", &admin.appkey).send().await.unwrap();
    let (status, page) = status_json(res).await;
    assert_eq!(status, 200);
    assert_eq!(
        page["phoneNumbers"],
        serde_json::json!([{"phoneNumber": "+14155550123", "countryCode": "US", "type": "LOCAL", "documentationRequired": false}])
    );
}
