//! `/api/admin/models`: sync the catalog with the providers now, and edit a model by hand (the
//! edit is kept through later syncs).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use aipasta_core::catalog::ModelStatus;
use aipasta_store::catalog::{self, AdminEdit};

use crate::auth::{Access, Routes};
use crate::error::ApiError;
use aipasta_engine::sync::{ProviderReport, SyncTarget};

use crate::services::sync_for_server;
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
            "`provider` must be openrouter, huggingface, all or the name of an OpenAI-compatible endpoint",
        )
    })?;
    let reports = sync_for_server(&state, target).await;
    Ok(reports_response(&reports))
}

/// One provider's sync as JSON: counts, or why it failed.
pub(super) fn report_json(report: &ProviderReport) -> Value {
    match &report.result {
        Ok(o) => json!({
            "provider": report.provider, "ok": true, "fetched": report.fetched,
            "inserted": o.inserted, "updated": o.updated, "deprecated": o.deprecated,
            "restored": o.restored,
        }),
        Err(error) => {
            json!({ "provider": report.provider, "ok": false, "error": error, "changed": false })
        }
    }
}

/// The reports as the envelope: 200 when every provider synced, 502 when one failed.
pub(super) fn reports_response(reports: &[ProviderReport]) -> Response {
    let failed = reports.iter().any(|r| r.result.is_err());
    let data: Vec<Value> = reports.iter().map(report_json).collect();
    let status = if failed {
        axum::http::StatusCode::BAD_GATEWAY
    } else {
        axum::http::StatusCode::OK
    };
    (status, Json(json!({ "success": !failed, "data": data }))).into_response()
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
    // Generations see the new status at once, not when the cached row expires.
    state.engine.changed(aipasta_engine::Change::Catalog);
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
