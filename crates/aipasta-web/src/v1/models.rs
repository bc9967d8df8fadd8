//! `GET /v1/models` and `GET /v1/models/{id}`: the catalog's active models in OpenAI's shape.
//! A model's id is its slug (`openai/gpt-4o`), the `model` every other `/v1` call takes.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use aipasta_store::Query;
use aipasta_store::catalog::ModelRow;

use crate::error::ApiError;
use crate::state::AppState;

use super::chat::{find_model, model_not_found};
use super::error::{OpenAiError, V1Result};
use super::unix_seconds;

fn model_json(id: &str, created_ms: i64, provider: &str) -> Value {
    json!({
        "id": id,
        "object": "model",
        "created": unix_seconds(created_ms),
        "owned_by": provider,
    })
}

pub async fn list(State(state): State<AppState>) -> V1Result<Json<Value>> {
    let rows: Vec<(String, i64, String)> = Query::new(
        "SELECT slug, created_at, provider FROM models \
         WHERE is_active = TRUE AND status <> 'deprecated' ORDER BY slug",
    )
    .fetch_all(&state.db)
    .await
    .map_err(|e| OpenAiError::from(ApiError::from(e)))?;
    let data: Vec<Value> = rows
        .iter()
        .map(|(slug, created, provider)| model_json(slug, *created, provider))
        .collect();
    Ok(Json(json!({"object": "list", "data": data})))
}

pub async fn details(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> V1Result<Json<Value>> {
    let id = id.trim_matches('/');
    let model = find_model(&state, id).await?;
    if !listed(&model) {
        return Err(model_not_found(id));
    }
    Ok(Json(model_json(
        &model.slug,
        model.created_at,
        &model.provider,
    )))
}

fn listed(model: &ModelRow) -> bool {
    model.is_active && model.status != "deprecated"
}
