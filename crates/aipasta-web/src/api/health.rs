//! `GET /api/health`: liveness plus a real database round trip.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use aipasta_core::VERSION;

use crate::auth::{Access, Routes};
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new().get("/api/health", Access::Public, health)
}

async fn health(State(state): State<AppState>) -> Response {
    let database = state.db.backend().as_str();
    let uptime_seconds = state.started_at.elapsed().as_secs();
    match state.db.ping().await {
        Ok(()) => Json(json!({
            "success": true,
            "data": {
                "status": "ok",
                "version": VERSION,
                "database": database,
                "uptime_seconds": uptime_seconds,
            }
        }))
        .into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check: database unreachable");
            let body = json!({
                "success": false,
                "data": {
                    "status": "unavailable",
                    "version": VERSION,
                    "database": database,
                    "uptime_seconds": uptime_seconds,
                },
                "error": {
                    "code": "database_unavailable",
                    "message": "The database did not answer; the service cannot serve requests that need it.",
                }
            });
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}
