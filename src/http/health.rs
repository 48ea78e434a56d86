//! Liveness and readiness, served without authentication.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "Operations", security(()),
    responses((status = 200, description = "Serving", body = Object, example = json!({"status": "ok"}))),
    extensions(("x-ccadmin-extension" = json!(true))))]
pub(super) async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// What the server answers while it is still connecting to its database (PostgreSQL
/// unreachable at start): alive, not ready, and 503 with `Retry-After` for the API.
pub fn starting_router() -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(starting))
        .fallback(|| async {
            ApiError::Unavailable(anyhow::anyhow!(
                "the server is still connecting to its database"
            ))
        })
}

async fn starting() -> (StatusCode, Json<Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "starting", "detail": "the server is connecting to its database"})),
    )
}

/// The database answers (PostgreSQL: as the watch last saw it, so a busy pool is still
/// ready); 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "Operations", security(()),
    responses((status = 200, description = "Ready: the database answers", body = Object, example = json!({"status": "ok"})),
        (status = 503, description = "The database does not answer", body = Object)),
    extensions(("x-ccadmin-extension" = json!(true))))]
pub(super) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.db.ready().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ok"}))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "detail": "the database does not answer"})),
            )
        }
    }
}
