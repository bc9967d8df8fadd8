//! `/api/admin/providers`: built-in providers' keys and OpenAI-compatible endpoints, as JSON.
//! Keys are accepted, sealed and never returned: only their hints are.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use aipasta_store::providers::ProviderEndpointRow;

use super::{
    EndpointInput, FirstSync, Overview, ProviderFailure, clear_builtin_key, create_endpoint,
    delete_endpoint, overview, set_builtin_key, sync_endpoint, update_endpoint,
};
use crate::admin::catalog::{report_json, reports_response};
use crate::auth::{Access, Caller, Routes};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Routes {
    use Access::Admin;
    Routes::new()
        .get("/api/admin/providers", Admin, list)
        .post("/api/admin/providers", Admin, create)
        .put("/api/admin/providers/{id}", Admin, update)
        .delete("/api/admin/providers/{id}", Admin, delete)
        .post("/api/admin/providers/{id}/sync", Admin, sync)
        .put(
            "/api/admin/providers/builtin/{provider}/key",
            Admin,
            put_builtin_key,
        )
        .delete(
            "/api/admin/providers/builtin/{provider}/key",
            Admin,
            delete_builtin_key,
        )
}

impl From<ProviderFailure> for ApiError {
    fn from(failure: ProviderFailure) -> ApiError {
        let message = failure.message();
        match failure {
            ProviderFailure::Invalid(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "validation_error", message)
            }
            ProviderFailure::NotFound(_) => ApiError::not_found(message),
            ProviderFailure::Conflict(_) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            ProviderFailure::Internal(cause) => ApiError::internal(&cause),
        }
    }
}

fn ok(status: StatusCode, data: Value) -> Response {
    (status, Json(json!({ "success": true, "data": data }))).into_response()
}

/// An endpoint as JSON: never its key, only the hint.
pub fn endpoint_json(row: &ProviderEndpointRow, models: Option<i64>) -> Value {
    json!({
        "id": row.id,
        "name": row.name,
        "baseUrl": row.base_url,
        "keyHint": row.api_key_hint,
        "hasKey": row.api_key_hint.is_some(),
        "allowPrivate": row.allow_private,
        "active": row.is_active,
        "models": models,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
    })
}

fn overview_json(overview: &Overview) -> Value {
    json!({
        "builtins": overview.builtins.iter().map(|b| json!({
            "provider": b.provider,
            "name": b.label,
            "keySource": b.source.as_str(),
            "storedKeyHint": b.stored_hint,
            "environmentKey": b.environment_key,
            "models": b.models,
        })).collect::<Vec<_>>(),
        "endpoints": overview.endpoints.iter()
            .map(|(row, models)| endpoint_json(row, Some(*models)))
            .collect::<Vec<_>>(),
        "environmentEndpoints": overview.environment.iter().map(|e| json!({
            "name": e.name,
            "baseUrl": e.base_url,
            "hasKey": e.has_key,
            "models": e.models,
        })).collect::<Vec<_>>(),
    })
}

async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let overview = overview(&state).await?;
    Ok(ok(StatusCode::OK, overview_json(&overview)))
}

/// The body of a create or an update. On an update, absent fields keep their value and an
/// empty `apiKey` removes the stored key.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct EndpointBody {
    name: Option<String>,
    base_url: Option<String>,
    api_key: Option<String>,
    allow_private: Option<bool>,
    active: Option<bool>,
}

impl From<EndpointBody> for EndpointInput {
    fn from(body: EndpointBody) -> EndpointInput {
        EndpointInput {
            name: body.name,
            base_url: body.base_url,
            api_key: body.api_key,
            allow_private: body.allow_private,
            is_active: body.active,
        }
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<EndpointBody>,
) -> Result<Response, ApiError> {
    let (row, first_sync) = create_endpoint(&state, caller.id(), &body.into()).await?;
    let (models, sync) = match &first_sync {
        FirstSync::Done(report) => {
            let mut sync = report_json(report);
            if report.result.is_err() {
                sync["retrying"] = json!(report.retryable);
            }
            (report.result.as_ref().map_or(0, |_| report.fetched), sync)
        }
        FirstSync::Pending => (
            0,
            json!({ "provider": row.name, "ok": null, "pending": true }),
        ),
        FirstSync::Off => (0, Value::Null),
    };
    let mut data = endpoint_json(&row, Some(models as i64));
    data["sync"] = sync;
    Ok(ok(StatusCode::CREATED, data))
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<EndpointBody>,
) -> Result<Response, ApiError> {
    let row = update_endpoint(&state, &id, &body.into()).await?;
    Ok(ok(StatusCode::OK, endpoint_json(&row, None)))
}

async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (row, outcome) = delete_endpoint(&state, &id).await?;
    Ok(ok(
        StatusCode::OK,
        json!({ "id": row.id, "name": row.name, "deleted": true, "modelsDeprecated": outcome.deprecated }),
    ))
}

async fn sync(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let report = sync_endpoint(&state, &id).await?;
    Ok(reports_response(&[report]))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyBody {
    api_key: Option<String>,
}

async fn put_builtin_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(provider): Path<String>,
    Json(body): Json<KeyBody>,
) -> Result<Response, ApiError> {
    let key = body.api_key.unwrap_or_default();
    let hint = set_builtin_key(&state, &provider, &key, caller.id()).await?;
    Ok(ok(
        StatusCode::OK,
        json!({ "provider": provider, "keySource": "stored", "storedKeyHint": hint }),
    ))
}

async fn delete_builtin_key(
    State(state): State<AppState>,
    Path(provider): Path<String>,
) -> Result<Response, ApiError> {
    clear_builtin_key(&state, &provider).await?;
    Ok(ok(
        StatusCode::OK,
        json!({ "provider": provider, "removed": true }),
    ))
}
