//! `GET /api/health`: liveness, a real database round trip, and whether generations can be
//! written: `ok` (200), `degraded` (503: the database answers but writes fail, e.g. a full
//! disk; new generations are refused meanwhile) or `unavailable` (503: no database).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use aipasta_core::VERSION;

use crate::auth::{Access, Routes};
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new().api(Access::Public, routes!(health))
}

/// The health answer: the envelope, with `data` in every case and `error` when not `ok`.
#[derive(Serialize, ToSchema)]
struct Health {
    success: bool,
    data: HealthData,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<HealthError>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct HealthData {
    /// `ok`, `degraded` or `unavailable`.
    status: &'static str,
    version: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
    #[serde(rename = "uptime_seconds")]
    uptime_seconds: u64,
    /// When writes started failing (Unix milliseconds), while `degraded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    writes_failing_since: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct HealthError {
    /// `writes_failing` or `database_unavailable`.
    code: &'static str,
    message: String,
}

/// Health
///
/// Liveness and a real database round trip: `ok` (200); `degraded` (503) when the database
/// answers but generations cannot be written (new ones are refused meanwhile); `unavailable`
/// (503) without a database.
#[utoipa::path(
    get,
    path = "/api/health",
    responses(
        (status = 200, description = "Serving.", body = Health),
        (status = 503, description = "`degraded` or `unavailable`, with `error` saying why.", body = Health),
    ),
)]
async fn health(State(state): State<AppState>) -> Response {
    let pinged = state.db.ping().await;
    let data = |status| HealthData {
        status,
        version: VERSION,
        database: state.db.backend().as_str(),
        uptime_seconds: state.started_at.elapsed().as_secs(),
        writes_failing_since: None,
    };
    let unhealthy = |data, code, message| {
        let body = Health {
            success: false,
            data,
            error: Some(HealthError { code, message }),
        };
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    };
    if pinged.is_ok()
        && let Some(failure) = state.engine.write_failure()
    {
        return unhealthy(
            HealthData {
                writes_failing_since: Some(failure.since_ms),
                ..data("degraded")
            },
            "writes_failing",
            format!(
                "Generations cannot be written to the database, so new ones are refused: {}",
                failure.reason
            ),
        );
    }
    match pinged {
        Ok(()) => Json(Health {
            success: true,
            data: data("ok"),
            error: None,
        })
        .into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check: database unreachable");
            unhealthy(
                data("unavailable"),
                "database_unavailable",
                "The database did not answer; the service cannot serve requests that need it."
                    .to_owned(),
            )
        }
    }
}
