//! Malformed requests of every kind get a problem body, never a 500.

use reqwest::Method;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{assert_problem, spawn_app, status_json, violations};

const AQWSDE: &str = "/api/admin/account/v1/accounts/AQWSDE";

backend_tests! {
    async fn malformed_json_wrong_types_and_empty_bodies_are_400(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let send = |body: &'static str| {
            app.http.put(app.url(AQWSDE)).bearer_auth(&admin.token).header("appkey", &admin.appkey)
                .header("content-type", "application/json").body(body).send()
        };
        for (body, field) in [("{\"name\": ", "body"), ("not json", "body"), ("", "body"), ("[1,2]", "body"),
                              ("{\"domains\": {\"domainName\": \"a.com\"}}", "domains"),
                              ("{\"domains\": [{\"isDefault\": \"yes\"}]}", "domains[0].isDefault")] {
            let (status, problem) = status_json(send(body).await.unwrap()).await;
            assert_eq!(status, 400, "{body}");
            assert_problem(&problem, 400, "constraint-violation", "Constraint Violation");
            assert_eq!(violations(&problem)[0].0, field, "{body}");
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let res = app.http.put(app.url(AQWSDE)).bearer_auth(&admin.token).header("appkey", &admin.appkey)
            .header("content-type", "application/json").body(deep).send().await.unwrap();
        assert_eq!(res.status(), 400, "deep nesting");
    }

    async fn a_wrong_content_type_is_415(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let res = app.http.put(app.url(AQWSDE)).bearer_auth(&admin.token).header("appkey", &admin.appkey)
            .header("content-type", "text/plain").body("{}").send().await.unwrap();
        let (status, body) = status_json(res).await;
        assert_eq!(status, 415);
        assert_problem(&body, 415, "unsupported-media-type", "Unsupported Media Type");
    }

    async fn a_body_over_one_mebibyte_is_413(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let big = json!({"name": "x".repeat(1024 * 1024 + 1)});
        let (status, body) = status_json(app.put(AQWSDE, &admin, &big).await).await;
        assert_eq!(status, 413);
        assert_problem(&body, 413, "payload-too-large", "Payload Too Large");
    }

    async fn unknown_routes_are_404_and_wrong_methods_405(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, body) = status_json(app.get("/api/admin/account/v1/nothing-here", &admin).await).await;
        assert_eq!(status, 404);
        assert_problem(&body, 404, "resource-not-found", "Not Found");
        let (status, body) = status_json(app.call(Method::DELETE, AQWSDE, Some(&admin), None).await).await;
        assert_eq!(status, 405);
        assert_problem(&body, 405, "method-not-allowed", "Method Not Allowed");
        let (status, _) = status_json(app.call(Method::GET, "/api/admin/account/v1/accounts:listStatuses", Some(&admin), None).await).await;
        assert_eq!(status, 405);
    }

    async fn every_response_carries_a_request_id(b: Backend) {
        let app = spawn_app(&b).await;
        let res = app.http.get(app.url("/healthz")).header("x-request-id", "my-id-42").send().await.unwrap();
        assert_eq!(res.headers()["x-request-id"], "my-id-42");
        let res = app.http.get(app.url("/nope")).send().await.unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }

    async fn health_and_readiness_need_no_token(b: Backend) {
        let app = spawn_app(&b).await;
        let (status, body) = status_json(app.call(Method::GET, "/healthz", None, None).await).await;
        assert_eq!((status, body), (200, json!({"status": "ok"})));
        let (status, body) = status_json(app.call(Method::GET, "/readyz", None, None).await).await;
        assert_eq!((status, body), (200, json!({"status": "ok"})));
    }
}
