//! `GET /api/health`: liveness, a real database round trip, and whether generations can be
//! written: `ok` (200), `degraded` (503: the database answers but writes fail, e.g. a full
//! disk; new generations are refused meanwhile) or `unavailable` (503: no database).

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
    let pinged = state.db.ping().await;
    if pinged.is_ok()
        && let Some(failure) = state.engine.write_failure()
    {
        let body = json!({
            "success": false,
            "data": {
                "status": "degraded",
                "version": VERSION,
                "database": database,
                "uptime_seconds": uptime_seconds,
                "writesFailingSince": failure.since_ms,
            },
            "error": {
                "code": "writes_failing",
                "message": format!(
                    "Generations cannot be written to the database, so new ones are refused: {}",
                    failure.reason
                ),
            }
        });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    match pinged {
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
