//! `GET /v1/models` and `GET /v1/models/{id}`: the catalog's active models in OpenAI's shape.
//! A model's id is its slug (`openai/gpt-4o`), the `model` every other `/v1` call takes.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;

use aipasta_store::Query;
use aipasta_store::catalog::ModelRow;

use crate::error::ApiError;
use crate::state::AppState;

use super::chat::{find_model, model_not_found};
use super::error::{OpenAiError, V1Result};
use super::unix_seconds;

/// A model, as OpenAI lists them.
#[derive(Serialize, ToSchema)]
#[schema(as = V1Model)]
pub struct OpenAiModel {
    /// The slug (`openai/gpt-4o`): what every other `/v1` call takes as `model`.
    id: String,
    /// Always `model`.
    object: &'static str,
    /// When the catalog first saw it, in Unix seconds.
    created: i64,
    /// The provider (`openrouter`, `huggingface`, or an OpenAI-compatible server's name).
    owned_by: String,
}

impl OpenAiModel {
    fn new(id: String, created_ms: i64, owned_by: String) -> OpenAiModel {
        OpenAiModel {
            id,
            object: "model",
            created: unix_seconds(created_ms),
            owned_by,
        }
    }
}

/// The model list, in OpenAI's list shape.
#[derive(Serialize, ToSchema)]
#[schema(as = V1ModelList)]
pub struct OpenAiModelList {
    /// Always `list`.
    object: &'static str,
    data: Vec<OpenAiModel>,
}

/// List models
///
/// The catalog's active models in OpenAI's list shape. A model's `id` is what every other
/// `/v1` call takes as `model`.
#[utoipa::path(
    get,
    path = "/v1/models",
    responses((status = 200, description = "The models.", body = OpenAiModelList)),
)]
pub async fn list(State(state): State<AppState>) -> V1Result<Json<OpenAiModelList>> {
    let rows: Vec<(String, i64, String)> = Query::new(
        "SELECT slug, created_at, provider FROM models \
         WHERE is_active = TRUE AND status <> 'deprecated' ORDER BY slug",
    )
    .fetch_all(&state.db)
    .await
    .map_err(|e| OpenAiError::from(ApiError::from(e)))?;
    let data = rows
        .into_iter()
        .map(|(slug, created, provider)| OpenAiModel::new(slug, created, provider))
        .collect();
    Ok(Json(OpenAiModelList {
        object: "list",
        data,
    }))
}

/// Retrieve a model
///
/// One active model. Ids contain slashes (`openai/gpt-4o`); send them as they are.
#[utoipa::path(
    get,
    path = "/v1/models/{*id}",
    params(("id" = String, Path, description = "The model's id; it contains slashes (`openai/gpt-4o`).")),
    responses(
        (status = 200, description = "The model.", body = OpenAiModel),
        (status = 404, description = "No active model has that id (`model_not_found`).", body = super::error::OpenAiErrorBody),
    ),
)]
pub async fn details(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> V1Result<Json<OpenAiModel>> {
    let id = id.trim_matches('/');
    let model = find_model(&state, id).await?;
    if !listed(&model) {
        return Err(model_not_found(id));
    }
    Ok(Json(OpenAiModel::new(
        model.slug.clone(),
        model.created_at,
        model.provider.clone(),
    )))
}

fn listed(model: &ModelRow) -> bool {
    model.is_active && model.status != "deprecated"
}
