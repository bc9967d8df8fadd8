//! `/api/admin/models`: sync the catalog with the providers now, and edit a model by hand (the
//! edit is kept through later syncs).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use aipasta_core::catalog::ModelStatus;
use aipasta_store::catalog::{self, AdminEdit};

use crate::api::Failure;
use crate::auth::{Access, Routes};
use crate::catalog::CatalogModelDetails;
use crate::error::ApiError;
use aipasta_engine::sync::{ProviderReport, SyncTarget};

use crate::services::sync_for_server;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .api(Access::Admin, routes!(sync))
        .api(Access::Admin, routes!(edit))
}

/// Which catalog to sync.
#[derive(Deserialize, ToSchema)]
struct AdminModelSyncRequest {
    /// `openrouter`, `huggingface`, `all`, or the name of an OpenAI-compatible endpoint.
    provider: String,
}

/// Sync the catalog
///
/// Fetches the providers' model lists now and saves them: new models are added, known ones
/// updated (except the fields an admin edited), models a provider no longer lists are marked
/// `deprecated`, and deprecated ones listed again are restored. The answer has one report per
/// provider; when one failed, `success` is `false` and the status is 502, with the others'
/// reports still in `data`.
#[utoipa::path(
    post,
    path = "/api/admin/models/sync",
    request_body = AdminModelSyncRequest,
    responses(
        (status = 200, description = "Every provider synced.", body = AdminSyncResult),
        (status = 400, description = "An unknown `provider` (`invalid_parameter`).", body = Failure),
        (status = 502, description = "A provider failed (`success: false`); `data` says which and why.", body = AdminSyncResult),
    ),
)]
async fn sync(
    State(state): State<AppState>,
    Json(body): Json<AdminModelSyncRequest>,
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

/// One provider's sync: counts, or why it failed.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub(super) enum AdminSyncReport {
    Synced(AdminSyncSucceeded),
    Failed(AdminSyncFailed),
}

/// A provider's models were fetched and saved.
#[derive(Serialize, ToSchema)]
pub(super) struct AdminSyncSucceeded {
    /// `openrouter`, `huggingface` or an endpoint's name.
    provider: String,
    /// Always `true`.
    ok: bool,
    /// Models the provider listed.
    fetched: usize,
    /// Models new to the catalog.
    inserted: usize,
    /// Known models whose details changed.
    updated: usize,
    /// Models the provider no longer lists, now `deprecated`.
    deprecated: usize,
    /// Deprecated models listed again, active once more.
    restored: usize,
}

/// A provider's sync failed; the catalog kept its models as they were.
#[derive(Serialize, ToSchema)]
pub(super) struct AdminSyncFailed {
    /// `openrouter`, `huggingface` or an endpoint's name.
    provider: String,
    /// Always `false`.
    ok: bool,
    /// Why.
    error: String,
    /// Always `false`: nothing was changed.
    changed: bool,
    /// Whether the sync is tried again in the background (only when an endpoint was just
    /// added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) retrying: Option<bool>,
}

impl From<&ProviderReport> for AdminSyncReport {
    fn from(report: &ProviderReport) -> AdminSyncReport {
        match &report.result {
            Ok(o) => AdminSyncReport::Synced(AdminSyncSucceeded {
                provider: report.provider.clone(),
                ok: true,
                fetched: report.fetched,
                inserted: o.inserted,
                updated: o.updated,
                deprecated: o.deprecated,
                restored: o.restored,
            }),
            Err(error) => AdminSyncReport::Failed(AdminSyncFailed {
                provider: report.provider.clone(),
                ok: false,
                error: error.clone(),
                changed: false,
                retrying: None,
            }),
        }
    }
}

/// The envelope of sync reports: `success` is `false` (and the status 502) when a provider
/// failed.
#[derive(Serialize, ToSchema)]
pub(super) struct AdminSyncResult {
    /// Whether every provider synced.
    success: bool,
    /// One report per provider.
    data: Vec<AdminSyncReport>,
}

/// The reports as the envelope: 200 when every provider synced, 502 when one failed.
pub(super) fn reports_response(reports: &[ProviderReport]) -> Response {
    let failed = reports.iter().any(|r| r.result.is_err());
    let status = if failed {
        StatusCode::BAD_GATEWAY
    } else {
        StatusCode::OK
    };
    let body = AdminSyncResult {
        success: !failed,
        data: reports.iter().map(AdminSyncReport::from).collect(),
    };
    (status, Json(body)).into_response()
}

/// A hand edit of a model; absent fields keep their value. Edited fields are kept through
/// later syncs.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AdminModelEdit {
    /// 1 to 200 characters.
    display_name: Option<String>,
    description: Option<String>,
    /// A category's slug.
    category: Option<String>,
    /// Stored trimmed and lower-case; empty ones are dropped.
    tags: Option<Vec<String>>,
    /// `active`, `beta`, `maintenance` or `deprecated`.
    status: Option<String>,
    featured: Option<bool>,
}

/// The edited model: the envelope with `overrides` beside `data`.
#[derive(Serialize, ToSchema)]
struct AdminModelEdited {
    /// Always `true`.
    success: bool,
    /// The model as `GET /api/models/{id}` shows it.
    data: CatalogModelDetails,
    /// The fields an admin set by hand, which syncs leave alone.
    overrides: Vec<String>,
}

/// Edit a model
///
/// Changes a model's display name, description, category, tags, status or featured flag by
/// hand. The edited fields are kept through later syncs; generations see a new status at once.
#[utoipa::path(
    put,
    path = "/api/admin/models/{id}",
    params(("id" = String, Path, description = "The model's id.")),
    request_body = AdminModelEdit,
    responses(
        (status = 200, description = "The model as it is now, and which fields are edited by hand.", body = AdminModelEdited),
        (status = 400, description = "A refused field (`validation_error`).", body = Failure),
        (status = 404, description = "No model has that id (`not_found`).", body = Failure),
    ),
)]
async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<AdminModelEdit>,
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
    state.catalog_changed();
    let updated = catalog::find_model(&state.db, &model.id)
        .await?
        .ok_or_else(|| ApiError::not_found("gone"))?;
    let tags = catalog::model_tags(&state.db, &updated.id).await?;
    Ok(Json(AdminModelEdited {
        success: true,
        data: CatalogModelDetails::new(&updated, &tags),
        overrides: updated.admin_overrides(),
    })
    .into_response())
}
