//! The token endpoint and the checks every API call passes.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Creds, assert_problem, spawn_app, status_json, violations};

const ABCDEF: &str = "/api/admin/account/v1/accounts/ABCDEF";

fn cc<'a>(client: &'a str, secret: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", client),
        ("client_secret", secret),
    ]
}

backend_tests! {
    async fn client_credentials_grant_returns_the_specs_token_response(b: Backend) {
        let app = spawn_app(&b).await;
        let res = app.token_request("ABCDEF", Some("demo-appkey"), &cc("demo-client", "demo-secret")).await;
        let (status, body) = status_json(res).await;
        assert_eq!(status, 200);
        assert_eq!(body["expires_in"], 900);
        assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 3);
        assert!(body["refresh_token"].as_str().unwrap().len() >= 32);
        let creds = Creds { token: body["access_token"].as_str().unwrap().into(), appkey: "demo-appkey".into() };
        assert_eq!(app.get(ABCDEF, &creds).await.status(), 200);
    }

    async fn password_grant_accepts_the_demo_user_and_refuses_a_wrong_password(b: Backend) {
        let app = spawn_app(&b).await;
        let good = [("grant_type", "password"), ("client_id", "demo-client"), ("client_secret", "demo-secret"),
                    ("username", "demo-user"), ("password", "demo-password")];
        let (status, body) = status_json(app.token_request("ABCDEF", Some("demo-appkey"), &good).await).await;
        assert_eq!(status, 200);
        let creds = Creds { token: body["access_token"].as_str().unwrap().into(), appkey: "demo-appkey".into() };
        assert_eq!(app.get(ABCDEF, &creds).await.status(), 200);

        let mut bad = good;
        bad[4] = ("password", "wrong");
        let (status, body) = status_json(app.token_request("ABCDEF", Some("demo-appkey"), &bad).await).await;
        assert_eq!(status, 401);
        assert_problem(&body, 401, "unauthorized", "Unauthorized");
        assert_eq!(body["error"], "invalid_grant");
    }

    async fn a_refresh_token_is_exchanged_once(b: Backend) {
        let app = spawn_app(&b).await;
        let (_, first) = status_json(app.token_request("ABCDEF", Some("demo-appkey"), &cc("demo-client", "demo-secret")).await).await;
        let refresh = first["refresh_token"].as_str().unwrap();
        let form = [("grant_type", "refresh_token"), ("client_id", "demo-client"), ("client_secret", "demo-secret"),
                    ("refresh_token", refresh)];
        let (status, second) = status_json(app.token_request("ABCDEF", Some("demo-appkey"), &form).await).await;
        assert_eq!(status, 200);
        assert_ne!(second["refresh_token"], first["refresh_token"]);
        let (status, body) = status_json(app.token_request("ABCDEF", Some("demo-appkey"), &form).await).await;
        assert_eq!(status, 401);
        assert_eq!(body["error"], "invalid_grant");
    }

    async fn wrong_secret_unknown_client_and_wrong_or_missing_appkey_are_invalid_client(b: Backend) {
        let app = spawn_app(&b).await;
        let cases = [
            (Some("demo-appkey"), cc("demo-client", "wrong")),
            (Some("demo-appkey"), cc("nobody", "demo-secret")),
            (Some("demo-admin-appkey"), cc("demo-client", "demo-secret")),
            (None, cc("demo-client", "demo-secret")),
        ];
        for (appkey, form) in cases {
            let (status, body) = status_json(app.token_request("ABCDEF", appkey, &form).await).await;
            assert_eq!(status, 401, "{appkey:?} {form:?}");
            assert_problem(&body, 401, "unauthorized", "Unauthorized");
            assert_eq!(body["error"], "invalid_client");
        }
        // A client of another account is unknown in this one.
        let (status, _) = status_json(app.token_request("AQWSDE", Some("demo-appkey"), &cc("demo-client", "demo-secret")).await).await;
        assert_eq!(status, 401);
    }

    async fn token_request_shape_errors_are_400_415_and_404(b: Backend) {
        let app = spawn_app(&b).await;
        let (status, body) = status_json(app.token_request("ABCDEF", Some("demo-appkey"),
            &[("grant_type", "implicit"), ("client_id", "demo-client"), ("client_secret", "demo-secret")]).await).await;
        assert_eq!(status, 400);
        assert_problem(&body, 400, "constraint-violation", "Constraint Violation");
        assert_eq!(violations(&body), vec![("grant_type".to_owned(), 20005)]);
        assert_eq!(body["error"], "unsupported_grant_type");

        let (status, body) = status_json(app.token_request("ABCDEF", Some("demo-appkey"),
            &[("grant_type", "password"), ("client_id", "demo-client")]).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("client_secret".to_owned(), 20002), ("username".to_owned(), 20002), ("password".to_owned(), 20002)]);

        let res = app.http.post(app.url("/api/auth/v1/ABCDEF/protocol/openid-connect/token"))
            .header("appkey", "demo-appkey").json(&json!({"grant_type": "client_credentials"})).send().await.unwrap();
        let (status, body) = status_json(res).await;
        assert_eq!(status, 415);
        assert_problem(&body, 415, "unsupported-media-type", "Unsupported Media Type");

        let (status, body) = status_json(app.token_request("ZZZZZZ", Some("demo-appkey"), &cc("demo-client", "demo-secret")).await).await;
        assert_eq!(status, 404);
        assert_problem(&body, 404, "resource-not-found", "Resource Not Found");

        let (status, body) = status_json(app.token_request("ABC123", Some("demo-appkey"), &cc("demo-client", "demo-secret")).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("accountId".to_owned(), 20006)]);
    }

    async fn an_expired_token_is_refused(b: Backend) {
        let app = spawn_app(&b).await;
        let creds = app.demo().await;
        // Token expiry follows the server's clock, which the emulator can move.
        // 30 s short of the 15 minutes: still valid, however slow this machine is.
        app.clock.advance(870_000);
        assert_eq!(app.get(ABCDEF, &creds).await.status(), 200);
        app.clock.advance(31_000);
        let (status, body) = status_json(app.get(ABCDEF, &creds).await).await;
        assert_eq!(status, 401);
        assert_problem(&body, 401, "unauthorized", "Unauthorized");
        assert!(body["detail"].as_str().unwrap().contains("expired"), "{body}");
    }

    async fn calls_without_valid_credentials_are_401(b: Backend) {
        let app = spawn_app(&b).await;
        let good = app.demo().await;
        let (status, body) = status_json(app.call(Method::GET, ABCDEF, None, None).await).await;
        assert_eq!(status, 401);
        assert_problem(&body, 401, "unauthorized", "Unauthorized");

        // Flip one character of the signature.
        let mut forged = good.token.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        let bad_creds = [
            Creds { token: forged, appkey: good.appkey.clone() },
            Creds { token: "not-a-jwt".into(), appkey: good.appkey.clone() },
            Creds { token: good.token.clone(), appkey: "demo-admin-appkey".into() },
            Creds { token: good.token.clone(), appkey: String::new() },
        ];
        for creds in &bad_creds {
            let (status, body) = status_json(app.get(ABCDEF, creds).await).await;
            assert_eq!(status, 401, "{creds:?}");
            assert_problem(&body, 401, "unauthorized", "Unauthorized");
        }
        let res = app.http.get(app.url(ABCDEF)).header("authorization", format!("Bearer {}", good.token)).send().await.unwrap();
        assert_eq!(res.status(), 401, "no appkey header");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
    }

    async fn a_token_of_another_signing_key_is_refused(b: Backend) {
        // Two servers on two databases have different keys: one's tokens are forged
        // for the other.
        let app = spawn_app(&b).await;
        let other = spawn_app(&b).await;
        let foreign = other.demo().await;
        let (status, _) = status_json(app.get(ABCDEF, &foreign).await).await;
        assert_eq!(status, 401);
    }

    async fn repeated_bad_secrets_are_slowed_down_without_locking_out_for_good(b: Backend) {
        let app = spawn_app(&b).await;
        for _ in 0..5 {
            let res = app.token_request("ABCDEF", Some("demo-appkey"), &cc("demo-client", "guess")).await;
            assert_eq!(res.status(), 401);
        }
        // Now even the right secret waits for the pause to end.
        let res = app.token_request("ABCDEF", Some("demo-appkey"), &cc("demo-client", "demo-secret")).await;
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()["retry-after"], "1");
        let (_, body) = status_json(res).await;
        assert_problem(&body, 429, "too-many-requests", "Too Many Requests");
        // Another client is not affected.
        app.admin().await;
        // After the pause (real time: the limit must hold whatever the emulator's clock
        // does), the right secret works and the count starts over.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        app.demo().await;
        let res = app.token_request("ABCDEF", Some("demo-appkey"), &cc("demo-client", "guess")).await;
        assert_eq!(res.status(), 401);
        app.demo().await;
    }

    async fn a_revoked_client_loses_its_tokens_and_refresh_tokens(b: Backend) {
        let app = spawn_app(&b).await;
        let created = app.create_client("ABCDEF", &json!({"roles": ["Account Administrator"]})).await;
        let (id, secret, appkey) = (created["clientId"].as_str().unwrap(), created["clientSecret"].as_str().unwrap(), created["appkey"].as_str().unwrap());
        let (_, tokens) = status_json(app.token_request("ABCDEF", Some(appkey), &cc(id, secret)).await).await;
        let creds = Creds { token: tokens["access_token"].as_str().unwrap().into(), appkey: appkey.into() };
        assert_eq!(app.get(ABCDEF, &creds).await.status(), 200);

        let admin = app.admin().await;
        let res = app.call(Method::DELETE, &format!("{ABCDEF}/clients/{id}"), Some(&admin), None).await;
        assert_eq!(res.status(), 204);

        assert_eq!(app.get(ABCDEF, &creds).await.status(), 401);
        let (status, body) = status_json(app.token_request("ABCDEF", Some(appkey), &cc(id, secret)).await).await;
        assert_eq!((status, body["error"].clone()), (401, Value::from("invalid_client")));
        let refresh = [("grant_type", "refresh_token"), ("client_id", id), ("client_secret", secret),
                       ("refresh_token", tokens["refresh_token"].as_str().unwrap())];
        assert_eq!(app.token_request("ABCDEF", Some(appkey), &refresh).await.status(), 401);
    }
}
