//! `/api/models...`: the catalog as JSON, in the plan's envelope.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use aipasta_core::clock::now_ms;
use aipasta_store::catalog;

use super::{model_json, model_summary_json, run_listing};
use crate::auth::{Access, Routes};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Routes {
    use Access::Public;
    Routes::new()
        .get("/api/models", Public, list)
        .get("/api/models/categories", Public, categories)
        .get("/api/models/search", Public, search)
        .get("/api/models/trending", Public, trending)
        .get("/api/models/{*id}", Public, details)
}

/// The plan's default page size for the API.
const API_DEFAULT_LIMIT: i64 = 20;

async fn list(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let (query, page, _) = run_listing(&state.db, &pairs, API_DEFAULT_LIMIT).await?;
    let data: Vec<Value> = page.models.iter().map(model_summary_json).collect();
    Ok(Json(json!({
        "success": true,
        "data": data,
        "pagination": {
            "current": page.page,
            "pages": page.pages,
            "total": page.total,
            // False when counting stopped early: more than `total` models (and `pages`) match.
            "totalExact": page.total_exact,
            "limit": query.limit,
        }
    }))
    .into_response())
}

async fn details(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = id.trim_matches('/');
    let Some(model) = catalog::find_model(&state.db, id).await? else {
        return Err(ApiError::not_found(format!("No model has the id {id:?}.")));
    };
    let tags = catalog::model_tags(&state.db, &model.id).await?;
    let mut data = model_json(&model, &tags);
    let related = catalog::related_models(&state.db, &model, 6).await?;
    if let Value::Object(map) = &mut data {
        map.insert(
            "related".into(),
            related
                .iter()
                .map(model_summary_json)
                .collect::<Vec<_>>()
                .into(),
        );
    }
    Ok(Json(json!({ "success": true, "data": data })).into_response())
}

async fn categories(State(state): State<AppState>) -> ApiResult<Response> {
    let rows = catalog::categories(&state.db).await?;
    let node = |row: &catalog::CategoryRow| {
        json!({
            "id": row.slug,
            "name": row.name,
            "slug": row.slug,
            "description": row.description,
            "icon": row.icon,
            "color": row.color,
            "modelCount": row.model_count,
            "sortOrder": row.sort_order,
        })
    };
    let tree: Vec<Value> = rows
        .iter()
        .filter(|row| row.parent_id.is_none())
        .map(|parent| {
            let mut value = node(parent);
            let children: Vec<Value> = rows
                .iter()
                .filter(|child| child.parent_id.as_deref() == Some(parent.id.as_str()))
                .map(node)
                .collect();
            if let Value::Object(map) = &mut value {
                map.insert("subcategories".into(), children.into());
            }
            value
        })
        .collect();
    Ok(Json(json!({ "success": true, "data": tree })).into_response())
}

fn limit_param(pairs: &[(String, String)], default: i64) -> ApiResult<i64> {
    match pairs.iter().find(|(k, _)| k == "limit") {
        None => Ok(default),
        Some((_, value)) => value
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=50).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_parameter",
                    format!("`limit` must be between 1 and 50, not {value:?}"),
                )
            }),
    }
}

async fn search(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let text = pairs
        .iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    if text.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "`q` is required: the text to search for",
        ));
    }
    if text.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "`q` must be at most 200 characters",
        ));
    }
    let limit = limit_param(&pairs, 10)?;
    let found = catalog::search(&state.db, &text, limit).await?;
    let data: Vec<Value> = found.iter().map(model_summary_json).collect();
    Ok(Json(json!({ "success": true, "data": data })).into_response())
}

/// Days since the epoch, seven days ago.
fn seven_days_ago() -> i64 {
    now_ms() / 86_400_000 - 7
}

async fn trending(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let limit = limit_param(&pairs, 10)?;
    let models = catalog::trending(&state.db, seven_days_ago(), limit).await?;
    let data: Vec<Value> = models.iter().map(model_summary_json).collect();
    Ok(Json(json!({ "success": true, "data": data })).into_response())
}
