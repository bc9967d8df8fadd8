//! `/api/admin/models`: sync the catalog with the providers now, and edit a model by hand (the
//! edit is kept through later syncs).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use aipasta_core::catalog::ModelStatus;
use aipasta_store::catalog::{self, AdminEdit};

use crate::auth::{Access, Routes};
use crate::error::ApiError;
use crate::services::model_sync::{SyncTarget, sync_models};
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .post("/api/admin/models/sync", Access::Admin, sync)
        .put("/api/admin/models/{id}", Access::Admin, edit)
}

#[derive(Deserialize)]
struct SyncBody {
    provider: String,
}

async fn sync(
    State(state): State<AppState>,
    Json(body): Json<SyncBody>,
) -> Result<Response, ApiError> {
    let target = SyncTarget::parse(&body.provider).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_parameter",
            "`provider` must be openrouter, huggingface or all",
        )
    })?;
    let reports = sync_models(&state.db, &state.http, &state.config.sync, target, &|_| {}).await;
    let failed = reports.iter().any(|r| r.result.is_err());
    let data: Vec<_> = reports
        .iter()
        .map(|r| match &r.result {
            Ok(o) => json!({
                "provider": r.provider, "ok": true, "fetched": r.fetched, "inserted": o.inserted,
                "updated": o.updated, "deprecated": o.deprecated, "restored": o.restored,
            }),
            Err(error) => {
                json!({ "provider": r.provider, "ok": false, "error": error, "changed": false })
            }
        })
        .collect();
    let status = if failed {
        axum::http::StatusCode::BAD_GATEWAY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, Json(json!({ "success": !failed, "data": data }))).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EditBody {
    display_name: Option<String>,
    description: Option<String>,
    category: Option<String>,
    tags: Option<Vec<String>>,
    status: Option<String>,
    featured: Option<bool>,
}

async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<EditBody>,
) -> Result<Response, ApiError> {
    let Some(model) = catalog::find_model(&state.db, &id).await? else {
        return Err(ApiError::not_found(format!("No model has the id {id:?}.")));
    };
    let status = match &body.status {
        Some(text) => Some(ModelStatus::parse(text).ok_or_else(|| {
            ApiError::bad_request(
                "validation_error",
                "`status` must be active, beta, maintenance or deprecated",
            )
        })?),
        None => None,
    };
    if let Some(slug) = &body.category
        && !catalog::categories(&state.db)
            .await?
            .iter()
            .any(|c| &c.slug == slug)
    {
        return Err(ApiError::bad_request(
            "validation_error",
            format!("`category`: no category {slug:?}"),
        ));
    }
    if body
        .display_name
        .as_deref()
        .is_some_and(|n| n.trim().is_empty() || n.chars().count() > 200)
    {
        return Err(ApiError::bad_request(
            "validation_error",
            "`displayName` must be 1 to 200 characters",
        ));
    }
    let edit = AdminEdit {
        display_name: body.display_name.map(|n| n.trim().to_owned()),
        description: body.description,
        category_slug: body.category,
        tags: body.tags.map(|tags| {
            tags.into_iter()
                .map(|t| t.trim().to_lowercase())
                .filter(|t| !t.is_empty())
                .collect()
        }),
        status,
        featured: body.featured,
    };
    catalog::admin_edit(&state.db, &model.id, &edit).await?;
    let updated = catalog::find_model(&state.db, &model.id)
        .await?
        .ok_or_else(|| ApiError::not_found("gone"))?;
    let tags = catalog::model_tags(&state.db, &updated.id).await?;
    Ok(Json(json!({
        "success": true,
        "data": crate::catalog::model_json(&updated, &tags),
        "overrides": updated.admin_overrides(),
    }))
    .into_response())
}
