//! State survives a restart, and so do the signing keys.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{spawn_app, status_json};

backend_tests! {
    async fn accounts_and_tokens_survive_a_restart(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, created) = status_json(app.post("/api/admin/account/v1/accounts", &admin,
            &json!({"name": "Durable", "domains": [{"domainName": "durable.example.com"}], "accountSize": 3})).await).await;
        assert_eq!(status, 202);
        let path = format!("/api/admin/account/v1/accounts/{}", created["accountId"].as_str().unwrap());

        let app = app.restart().await;
        // A token issued before the restart is still valid: the key is in the database.
        let (status, got) = status_json(app.get(&path, &admin).await).await;
        assert_eq!(status, 200);
        assert_eq!(got, created);
        // Demo seeding ran again without duplicating anything.
        let (_, page) = status_json(app.get("/api/admin/account/v1/accounts?filter=name:SyncG", &admin).await).await;
        assert_eq!(page["pagination"]["total"], 1);
    }
}

#[tokio::test]
async fn without_demo_the_generated_administrator_is_written_to_a_private_file() {
    use crate::helpers::{Backend, spawn_app_with};
    let app = spawn_app_with(&Backend::Sqlite, |a| a.demo = false).await;
    let path = app.db.data_dir().unwrap().join("admin-credentials.json");
    let creds: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let admin = app
        .login(
            creds["accountId"].as_str().unwrap(),
            creds["clientId"].as_str().unwrap(),
            creds["clientSecret"].as_str().unwrap(),
            creds["appkey"].as_str().unwrap(),
        )
        .await;
    let (status, page) = status_json(app.get("/api/admin/account/v1/accounts", &admin).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        page["pagination"]["total"], 1,
        "only the default account: {page}"
    );
    assert_eq!(page["accounts"][0]["isDefault"], true);
}
