//! The client extension: Administrators create, list and revoke clients.

use reqwest::Method;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{assert_problem, spawn_app, status_json, violations};

const CLIENTS: &str = "/api/admin/account/v1/accounts/AQWSDE/clients";

backend_tests! {
    async fn an_administrator_creates_a_client_that_can_log_in(b: Backend) {
        let app = spawn_app(&b).await;
        let created = app.create_client("AQWSDE", &json!({"roles": ["Account Administrator"]})).await;
        assert_eq!(created["roles"], json!(["Account Administrator"]));
        assert_eq!(created["features"], json!(["*"]));
        assert_eq!(created["accountId"], "AQWSDE");
        let (id, secret, appkey) = (created["clientId"].as_str().unwrap(), created["clientSecret"].as_str().unwrap(), created["appkey"].as_str().unwrap());
        let creds = app.login("AQWSDE", id, secret, appkey).await;
        assert_eq!(app.get("/api/admin/account/v1/accounts/AQWSDE", &creds).await.status(), 200);

        let (status, list) = status_json(app.get(CLIENTS, &app.admin().await).await).await;
        assert_eq!(status, 200);
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["clientId"], id);
        assert!(list[0].get("clientSecret").is_none(), "secrets are shown once: {list}");
    }

    async fn client_rules_are_enforced(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let demo = app.demo().await;
        let body = json!({"roles": ["Account Administrator"]});
        let (status, problem) = status_json(app.post(CLIENTS, &demo, &body).await).await;
        assert_eq!(status, 403);
        assert_problem(&problem, 403, "forbidden", "Forbidden");
        assert_eq!(app.get(CLIENTS, &demo).await.status(), 403);

        let (status, problem) = status_json(app.post(CLIENTS, &admin, &json!({"roles": ["Administrator"]})).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&problem), vec![("roles".to_owned(), 20005)]);
        let (status, problem) = status_json(app.post(CLIENTS, &admin, &json!({"roles": ["Boss", null], "features": ["fax"]})).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&problem), vec![("roles[0]".to_owned(), 20005), ("roles[1]".to_owned(), 20002), ("features[0]".to_owned(), 20005)]);
        let (status, _) = status_json(app.post("/api/admin/account/v1/accounts/ZZZZZZ/clients", &admin, &body).await).await;
        assert_eq!(status, 404);
        let (status, problem) = status_json(app.call(Method::DELETE, &format!("{CLIENTS}/nope"), Some(&admin), None).await).await;
        assert_eq!(status, 404);
        assert_problem(&problem, 404, "resource-not-found", "Resource Not Found");
        // A client of one account cannot be revoked through another account's path.
        let (status, _) = status_json(app.call(Method::DELETE, &format!("{CLIENTS}/demo-client"), Some(&admin), None).await).await;
        assert_eq!(status, 404);
    }
}
