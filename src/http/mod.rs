//! The HTTP layer: the router, shared state, middleware, and one module per API.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod clients;
pub mod console;
pub mod emulator;
pub mod error;
pub mod events;
pub mod extract;
pub mod faults;
pub mod health;
pub mod idempotency;
pub mod listing;
pub mod metrics;
pub mod numbers;
pub mod openapi;
pub mod org;
pub mod preconditions;
pub mod reach;
pub mod requests;
pub mod schemas;
pub mod voice;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::auth::Auth;
use crate::clock::Clock;
use crate::domain::prefer::Prefer;
use crate::jobs::{JobKind, Jobs, Provisioning};
use crate::store::{self, Db};
use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub auth: Arc<Auth>,
    pub clock: Clock,
    pub jobs: Jobs,
    /// Emulator mode: `Prefer` headers and the `/_ccadmin` controls are honoured.
    pub emulator: bool,
    /// Demo mode: an emulator reset re-seeds the demo data.
    pub demo: bool,
    /// Turns true when the server stops, so that endless streams end.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// What `/metrics` reports.
    pub metrics: Arc<metrics::Metrics>,
    /// Emulator mode: the injected faults, as this instance last read them.
    pub faults: Arc<crate::emulator::faults::Faults>,
    /// Emulator mode: the request journal of this instance.
    pub requests: Arc<crate::emulator::requests::RequestJournal>,
    /// The `Idempotency-Key`s this instance is running requests for.
    pub idempotency: Arc<idempotency::InFlight>,
}

impl AppState {
    /// How the work of `kind` that a write starts is scheduled: the configured delays,
    /// and in emulator mode the emulator's rules and the request's `Prefer` header,
    /// whose outcome must be one of the kind's.
    pub async fn provisioning(
        &self,
        prefer: &extract::PreferHeader,
        kind: JobKind,
    ) -> Result<Provisioning, ApiError> {
        let settings = self.jobs.settings();
        let mut p = Provisioning {
            delays: settings.delays,
            max_attempts: settings.max_attempts,
            ..Provisioning::default()
        };
        if !self.emulator {
            return Ok(p);
        }
        if let Some(raw) = prefer.raw() {
            p.prefer = Prefer::parse(raw, kind).map_err(|v| ApiError::validation(vec![v]))?;
        }
        let mut tx = self.db.read().await?;
        p.rules = store::emulator::rules(&mut tx)
            .await?
            .into_iter()
            .map(|r| (r.resource_kind, r))
            .collect();
        Ok(p)
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole API: every module's routes, the 404/405 answers, the body limit, and an
/// `x-request-id` on every response (the caller's, else a new UUID) that every log
/// line of the request carries. In emulator mode also the `/_ccadmin` controls, the
/// injected faults (on routed operations only, so 404 and 405 come first) and the
/// request journal (outside them, so that it sees what faults did).
pub fn router(state: AppState) -> Router {
    let emulator = if state.emulator {
        emulator::router()
            .merge(faults::router())
            .merge(requests::router())
    } else {
        Router::new()
    };
    let routes = Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(openapi::router())
        .merge(console::router())
        .merge(auth::router())
        .merge(accounts::router())
        .merge(clients::router())
        .merge(voice::router())
        .merge(numbers::router())
        .merge(org::router())
        .merge(audit::router())
        .merge(events::router())
        .merge(emulator);
    let routes = if state.emulator {
        routes.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ))
    } else {
        routes
    };
    let routes = routes
        .fallback(error::no_route)
        .method_not_allowed_fallback(error::wrong_method)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ));
    let routes = if state.emulator {
        routes.layer(axum::middleware::from_fn_with_state(
            state.clone(),
            requests::observe,
        ))
    } else {
        routes
    };
    routes
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .extensions()
                    .get::<RequestId>()
                    .and_then(|id| id.header_value().to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
