//! `GET /metrics`: requests, jobs and connection pools in the Prometheus (OpenMetrics)
//! text format. Request metrics are counted by a middleware as requests end; the job
//! queue and the pools are read when scraped, so every instance on a shared database
//! reports the same queue.

use std::sync::atomic::AtomicU64;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::{ApiError, Result};
use crate::clock::real_now_ms;
use crate::store::{self, Db};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route template (`/api/admin/voice/v1/accounts/{accountId}/phone-numbers`), so
    /// that ids do not make a series each; `unmatched` for requests no route serves.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: String,
}

/// The registry and its metrics (shared by every request of this process).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    jobs: Family<JobLabels, Gauge>,
    queue_depth: Gauge,
    oldest_due_seconds: Gauge<f64, AtomicU64>,
    expired_leases: Gauge,
    pool_open: Family<PoolLabels, Gauge>,
    pool_idle: Family<PoolLabels, Gauge>,
    pool_max: Family<PoolLabels, Gauge>,
    /// The bearer token `/metrics` requires, if one is set.
    token: Option<String>,
}

impl Metrics {
    /// Empty metrics, with the job workers' `errors`; `token`, if given, is required to
    /// scrape them.
    pub fn new(token: Option<String>, errors: &crate::jobs::backoff::WorkerErrors) -> Self {
        let mut registry = Registry::with_prefix("ccadmin");
        registry.register(
            "job_worker_errors",
            "Job worker attempts that failed with a database error",
            errors.errors.clone(),
        );
        registry.register(
            "job_worker_error_streaks",
            "Streaks of failed job worker attempts begun (each is logged once)",
            errors.streaks.clone(),
        );
        registry.register(
            "job_worker_error_streak",
            "Job worker attempts failed in a row, by any worker, since the last success (0: none)",
            errors.streak.clone(),
        );
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        // 0.5 ms to about 4 s: the fast reads sit in the first buckets.
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 14))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to the response's head, by method and route template",
            latency.clone(),
        );
        let jobs = Family::<JobLabels, Gauge>::default();
        registry.register(
            "jobs",
            "Jobs in the database, by kind and state",
            jobs.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "job_queue_depth",
            "Jobs pending or running (all instances on this database)",
            queue_depth.clone(),
        );
        let oldest_due_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "job_oldest_due_seconds",
            "How long the longest-waiting due job has waited to start (0: none waits)",
            oldest_due_seconds.clone(),
        );
        let expired_leases = Gauge::default();
        registry.register(
            "job_expired_leases",
            "Running jobs whose worker's claim expired (the worker died or hangs)",
            expired_leases.clone(),
        );
        let pool_open = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections open, by pool",
            pool_open.clone(),
        );
        let pool_idle = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_idle_connections",
            "Database connections open and not in use, by pool",
            pool_idle.clone(),
        );
        let pool_max = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_max_connections",
            "The most connections each pool opens",
            pool_max.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            jobs,
            queue_depth,
            oldest_due_seconds,
            expired_leases,
            pool_open,
            pool_idle,
            pool_max,
            token,
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    fn set_queue(&self, q: &store::jobs::QueueStats, now_ms: i64) {
        // Kinds and states that no longer have jobs drop out rather than linger.
        self.jobs.clear();
        let mut unfinished = 0;
        for (kind, state, n) in &q.by_kind_and_state {
            self.jobs
                .get_or_create(&JobLabels {
                    kind: kind.clone(),
                    state: state.clone(),
                })
                .set(*n);
            if state == "pending" || state == "running" {
                unfinished += n;
            }
        }
        self.queue_depth.set(unfinished);
        let waited_ms = q.oldest_due_run_at.map_or(0, |at| (now_ms - at).max(0));
        self.oldest_due_seconds.set(waited_ms as f64 / 1000.0);
        self.expired_leases.set(q.expired_leases);
    }

    fn set_pools(&self, db: &Db) {
        for p in db.pool_stats() {
            let labels = PoolLabels {
                pool: p.name.to_owned(),
            };
            self.pool_open.get_or_create(&labels).set(i64::from(p.open));
            self.pool_idle.get_or_create(&labels).set(i64::from(p.idle));
            self.pool_max.get_or_create(&labels).set(i64::from(p.max));
        }
    }
}

async fn queue_stats(db: &Db, now: i64) -> Result<store::jobs::QueueStats, store::StoreError> {
    let mut tx = db.read().await?;
    store::jobs::queue_stats(&mut tx, now, real_now_ms()).await
}

/// Counts every request by its route template and status, and times it.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().clone();
    let started = Instant::now();
    let response = next.run(req).await;
    state.metrics.observe(
        method.as_str(),
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The metrics, read fresh from the database for the job queue.
#[utoipa::path(get, path = "/metrics", tag = "Operations",
    security((), ("MetricsToken" = [])),
    responses((status = 200, description = "Prometheus text (OpenMetrics)",
            content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String),
        (status = 401, description = "`--metrics-token` is set and the request does not carry it",
            content_type = "application/problem+json", body = crate::http::error::Problem)),
    extensions(("x-ccadmin-extension" = json!(true))))]
pub(super) async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let metrics = &state.metrics;
    if let Some(expected) = &metrics.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(ApiError::unauthorized(
                "/metrics requires the bearer token set with --metrics-token",
            ));
        }
    }
    let now = state.clock.now_ms();
    // During an outage the process's own metrics (requests, pools, worker errors) are
    // what an operator needs most: the job gauges keep their last values.
    match queue_stats(&state.db, now).await {
        Ok(queue) => metrics.set_queue(&queue, now),
        Err(e) if e.is_unavailable() => {
            tracing::debug!(error = %e, "job metrics not read: the database is unavailable")
        }
        Err(e) => return Err(e.into()),
    }
    metrics.set_pools(&state.db);
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &metrics.registry)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding the metrics: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}
