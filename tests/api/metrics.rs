//! `GET /metrics`: request counts by route template, job queue, pools, and the token
//! that can restrict it.

use reqwest::Method;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::*;

/// The value of the sample whose line starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().expect("a number"))
}

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut req = app.http.get(app.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("sent");
    let status = res.status().as_u16();
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    (status, kind, res.text().await.unwrap())
}

backend_tests! {
    async fn metrics_count_requests_by_route_and_report_the_job_queue(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        for _ in 0..3 {
            assert_eq!(app.get("/api/admin/account/v1/accounts/ABCDEF", &demo).await.status(), 200);
        }
        assert_eq!(app.get("/api/admin/account/v1/accounts/ABCDEF/nope", &demo).await.status(), 404);
        // A number add leaves one job pending (this test's server has no workers).
        let (status, _) = status_json(app.post("/api/admin/voice/v1/accounts/ABCDEF/phone-numbers", &demo,
            &json!({"phoneNumber": "+16479308804"})).await).await;
        assert_eq!(status, 202);

        let (status, kind, text) = scrape(&app, None).await;
        assert_eq!(status, 200);
        assert_eq!(kind, "application/openmetrics-text; version=1.0.0; charset=utf-8");
        let route = r#"method="GET",route="/api/admin/account/v1/accounts/{accountId}""#;
        assert_eq!(sample(&text, &format!("ccadmin_http_requests_total{{{route},status=\"200\"}}")), Some(3.0), "{text}");
        assert_eq!(sample(&text, &format!("ccadmin_http_request_duration_seconds_count{{{route}}}")), Some(3.0));
        assert_eq!(sample(&text, r#"ccadmin_http_requests_total{method="GET",route="unmatched",status="404"}"#), Some(1.0));
        assert_eq!(sample(&text, r#"ccadmin_jobs{kind="number.activation",state="pending"}"#), Some(1.0), "{text}");
        assert_eq!(sample(&text, "ccadmin_job_queue_depth"), Some(1.0));
        assert_eq!(sample(&text, "ccadmin_job_expired_leases"), Some(0.0));
        assert!(sample(&text, "ccadmin_job_oldest_due_seconds").is_some());
        let pool = match b { Backend::Sqlite => "read", Backend::Postgres(_) => "postgres" };
        assert!(sample(&text, &format!("ccadmin_db_pool_max_connections{{pool=\"{pool}\"}}")).unwrap() >= 1.0);
        assert!(text.ends_with("# EOF\n"));

        // Once the job has run, it is counted as succeeded and the queue is empty.
        app.finish_jobs().await;
        let (_, _, text) = scrape(&app, None).await;
        assert_eq!(sample(&text, r#"ccadmin_jobs{kind="number.activation",state="succeeded"}"#), Some(1.0), "{text}");
        assert_eq!(sample(&text, r#"ccadmin_jobs{kind="number.activation",state="pending"}"#), None);
        assert_eq!(sample(&text, "ccadmin_job_queue_depth"), Some(0.0));
        assert_eq!(sample(&text, "ccadmin_job_oldest_due_seconds"), Some(0.0));
    }

    async fn a_metrics_token_restricts_metrics(b: Backend) {
        let app = spawn_app_with(&b, |a| a.metrics_token = Some("scrape-me".into())).await;
        let (status, _, body) = scrape(&app, None).await;
        assert_eq!(status, 401, "{body}");
        let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["status"], 401);
        assert_eq!(scrape(&app, Some("scrape-mE")).await.0, 401);
        let (status, _, text) = scrape(&app, Some("scrape-me")).await;
        assert_eq!(status, 200);
        assert!(text.contains("ccadmin_job_queue_depth"));
        // Health stays open.
        assert_eq!(app.call(Method::GET, "/healthz", None, None).await.status(), 200);
    }
}
