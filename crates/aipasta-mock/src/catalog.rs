//! The model-list routes: OpenRouter `GET /api/v1/models`, Hugging Face Hub `GET /api/models`
//! (filtered and sorted like the Hub) and OpenAI-compatible `GET /v1/models`.

use std::cmp::Reverse;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;

use crate::fault::ErrorShape;
use crate::server::{HF_HUB_MODELS_PATH, MockData, OPENAI_MODELS_PATH, OPENROUTER_MODELS_PATH};
use crate::state::Shared;

/// The bodies the catalog routes serve; each can be replaced while the server runs.
pub(crate) struct CatalogBodies {
    pub(crate) openrouter_models: Bytes,
    pub(crate) hf_hub_models: Bytes,
    pub(crate) openai_models: Bytes,
}

type CatalogShared = Shared<MockData>;

pub(crate) fn routes() -> Router<Arc<CatalogShared>> {
    Router::new()
        .route(OPENROUTER_MODELS_PATH, get(openrouter_models))
        .route(HF_HUB_MODELS_PATH, get(hf_hub_models))
        .route(OPENAI_MODELS_PATH, get(openai_models))
}

async fn openrouter_models(State(shared): State<Arc<CatalogShared>>) -> Response {
    if let Some(fault) = shared
        .play_fault(OPENROUTER_MODELS_PATH, ErrorShape::OpenRouter)
        .await
    {
        return fault;
    }
    let body = shared.lock().data.catalog.openrouter_models.clone();
    json_body(body)
}

async fn openai_models(State(shared): State<Arc<CatalogShared>>) -> Response {
    if let Some(fault) = shared
        .play_fault(OPENAI_MODELS_PATH, ErrorShape::OpenAi)
        .await
    {
        return fault;
    }
    let body = shared.lock().data.catalog.openai_models.clone();
    json_body(body)
}

/// The Hub's list parameters the catalog uses.
#[derive(Debug, Deserialize)]
struct HubQuery {
    pipeline_tag: Option<String>,
    sort: Option<String>,
    limit: Option<usize>,
}

async fn hf_hub_models(
    State(shared): State<Arc<CatalogShared>>,
    Query(query): Query<HubQuery>,
) -> Response {
    if let Some(fault) = shared
        .play_fault(HF_HUB_MODELS_PATH, ErrorShape::HuggingFaceHub)
        .await
    {
        return fault;
    }
    let body = shared.lock().data.catalog.hf_hub_models.clone();
    // A body a test set on purpose that is not a JSON array is served as it is.
    let Ok(models) = serde_json::from_slice::<Vec<Value>>(&body) else {
        return json_body(body);
    };
    let selected = select_hub_models(models, &query);
    match serde_json::to_vec(&selected) {
        Ok(bytes) => json_body(Bytes::from(bytes)),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Filters by `pipeline_tag`, sorts descending by the `sort` field (the Hub's default direction)
/// and keeps the first `limit`.
fn select_hub_models(models: Vec<Value>, query: &HubQuery) -> Vec<Value> {
    let mut selected: Vec<Value> = models
        .into_iter()
        .filter(|model| match &query.pipeline_tag {
            Some(tag) => model.get("pipeline_tag").and_then(Value::as_str) == Some(tag.as_str()),
            None => true,
        })
        .collect();
    if let Some(field) = &query.sort {
        // Stable sort: equal values keep the body's order.
        selected.sort_by_key(|model| {
            Reverse(
                model
                    .get(field.as_str())
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
            )
        });
    }
    if let Some(limit) = query.limit {
        selected.truncate(limit);
    }
    selected
}

fn json_body(body: Bytes) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
