//! `/api/admin/providers`: built-in providers' keys and OpenAI-compatible endpoints, as JSON.
//! Keys are accepted, sealed and never returned: only their hints are.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use aipasta_store::providers::ProviderEndpointRow;

use super::{
    EndpointInput, FirstSync, Overview, ProviderFailure, clear_builtin_key, create_endpoint,
    delete_endpoint, overview, set_builtin_key, sync_endpoint, update_endpoint,
};
use crate::admin::catalog::{AdminSyncReport, AdminSyncResult, reports_response};
use crate::api::{Failure, Success, created, ok};
use crate::auth::{Access, Caller, Routes};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Routes {
    use Access::Admin;
    Routes::new()
        .api(Admin, routes!(list))
        .api(Admin, routes!(create))
        .api(Admin, routes!(update))
        .api(Admin, routes!(delete))
        .api(Admin, routes!(sync))
        .api(Admin, routes!(put_builtin_key))
        .api(Admin, routes!(delete_builtin_key))
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

/// An OpenAI-compatible endpoint: never its key, only the hint.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminEndpoint {
    id: String,
    /// Lower-case slug: the `provider` of its models.
    name: String,
    /// The server's OpenAI-compatible address.
    base_url: String,
    /// The end of the stored key, to recognise it; `null` without a key.
    key_hint: Option<String>,
    has_key: bool,
    /// Whether private and loopback addresses are allowed for it.
    allow_private: bool,
    active: bool,
    /// Its models that are not deprecated; `null` where not counted (an update's answer).
    models: Option<i64>,
    /// Unix milliseconds.
    created_at: i64,
    /// Unix milliseconds.
    updated_at: i64,
}

impl AdminEndpoint {
    pub fn new(row: &ProviderEndpointRow, models: Option<i64>) -> AdminEndpoint {
        AdminEndpoint {
            id: row.id.clone(),
            name: row.name.clone(),
            base_url: row.base_url.clone(),
            key_hint: row.api_key_hint.clone(),
            has_key: row.api_key_hint.is_some(),
            allow_private: row.allow_private,
            active: row.is_active,
            models,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A built-in provider and where its key comes from.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AdminBuiltinProvider {
    /// `openrouter` or `huggingface`.
    provider: &'static str,
    /// The name people know it by.
    name: &'static str,
    /// `stored` (set here, which wins), `environment` or `none`.
    key_source: &'static str,
    /// The end of the stored key; `null` without one.
    stored_key_hint: Option<String>,
    /// Whether the environment gives it a key.
    environment_key: bool,
    /// Its models that are not deprecated.
    models: i64,
}

/// The operator's endpoint from the environment (changed there, not here).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AdminEnvironmentEndpoint {
    name: String,
    /// Without any password it may carry.
    base_url: String,
    has_key: bool,
    /// Its models that are not deprecated.
    models: i64,
}

/// Every provider: the built-in ones, the endpoints added here, and the environment's.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AdminProviders {
    builtins: Vec<AdminBuiltinProvider>,
    endpoints: Vec<AdminEndpoint>,
    environment_endpoints: Vec<AdminEnvironmentEndpoint>,
}

impl From<&Overview> for AdminProviders {
    fn from(overview: &Overview) -> AdminProviders {
        AdminProviders {
            builtins: overview
                .builtins
                .iter()
                .map(|b| AdminBuiltinProvider {
                    provider: b.provider,
                    name: b.label,
                    key_source: b.source.as_str(),
                    stored_key_hint: b.stored_hint.clone(),
                    environment_key: b.environment_key,
                    models: b.models,
                })
                .collect(),
            endpoints: overview
                .endpoints
                .iter()
                .map(|(row, models)| AdminEndpoint::new(row, Some(*models)))
                .collect(),
            environment_endpoints: overview
                .environment
                .iter()
                .map(|e| AdminEnvironmentEndpoint {
                    name: e.name.clone(),
                    base_url: e.base_url.clone(),
                    has_key: e.has_key,
                    models: e.models,
                })
                .collect(),
        }
    }
}

/// List providers
///
/// The built-in providers (where each one's key comes from, and the stored key's hint), the
/// OpenAI-compatible endpoints added here, and the one the environment configures, each with
/// its count of models that are not deprecated. Keys are never returned.
#[utoipa::path(
    get,
    path = "/api/admin/providers",
    responses((status = 200, description = "The providers.", body = Success<AdminProviders>)),
)]
async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let overview = overview(&state).await?;
    Ok(ok(AdminProviders::from(&overview)))
}

/// The body of a create or an update. On an update, absent fields keep their value and an
/// empty `apiKey` removes the stored key.
#[derive(Deserialize, Default, ToSchema)]
#[serde(rename_all = "camelCase", default)]
struct AdminEndpointInput {
    /// A lower-case slug, unique among providers: the `provider` of its models. Required on
    /// create.
    name: Option<String>,
    /// The server's OpenAI-compatible address (`https://llm.example.com/v1`). Required on
    /// create.
    base_url: Option<String>,
    /// Sealed when stored, never returned. On an update, an empty one removes the stored key.
    api_key: Option<String>,
    /// Allow private and loopback addresses (refused otherwise).
    allow_private: Option<bool>,
    /// Whether its models are synced and served.
    active: Option<bool>,
}

impl From<AdminEndpointInput> for EndpointInput {
    fn from(body: AdminEndpointInput) -> EndpointInput {
        EndpointInput {
            name: body.name,
            base_url: body.base_url,
            api_key: body.api_key,
            allow_private: body.allow_private,
            is_active: body.active,
        }
    }
}

/// An endpoint's first sync, still running.
#[derive(Serialize, ToSchema)]
struct AdminSyncPending {
    provider: String,
    /// Always `null`: not known yet.
    #[schema(value_type = Option<bool>)]
    ok: Option<bool>,
    /// Always `true`.
    pending: bool,
}

/// How an added endpoint's first sync went: its report (with `retrying` when it failed), or
/// still pending.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum AdminFirstSync {
    Report(AdminSyncReport),
    Pending(AdminSyncPending),
}

/// An added endpoint, with its first sync.
#[derive(Serialize, ToSchema)]
struct AdminEndpointCreated {
    #[serde(flatten)]
    endpoint: AdminEndpoint,
    /// `null` when the endpoint was added turned off (nothing is fetched until it is on).
    sync: Option<AdminFirstSync>,
}

/// Add an endpoint
///
/// Adds an OpenAI-compatible endpoint (its URL must pass the address check unless
/// `allowPrivate`) and, when active, syncs its models at once: `sync` is the report, or
/// `pending: true` when the sync is still running after a short wait (its models arrive when
/// it finishes). A failed first sync that may mend is tried again in the background
/// (`retrying`).
#[utoipa::path(
    post,
    path = "/api/admin/providers",
    request_body = AdminEndpointInput,
    responses(
        (status = 201, description = "The endpoint, with `models` (fetched by the first sync) and `sync`.", body = Success<AdminEndpointCreated>),
        (status = 400, description = "A refused field (`validation_error`).", body = Failure),
        (status = 409, description = "A provider of that name exists (`conflict`).", body = Failure),
    ),
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<AdminEndpointInput>,
) -> Result<Response, ApiError> {
    let (row, first_sync) = create_endpoint(&state, caller.id(), &body.into()).await?;
    let (models, sync) = match &first_sync {
        FirstSync::Done(report) => {
            let mut sync = AdminSyncReport::from(report);
            if let AdminSyncReport::Failed(failed) = &mut sync {
                failed.retrying = Some(report.retryable);
            }
            (
                report.result.as_ref().map_or(0, |_| report.fetched),
                Some(AdminFirstSync::Report(sync)),
            )
        }
        FirstSync::Pending => (
            0,
            Some(AdminFirstSync::Pending(AdminSyncPending {
                provider: row.name.clone(),
                ok: None,
                pending: true,
            })),
        ),
        FirstSync::Off => (0, None),
    };
    Ok(created(AdminEndpointCreated {
        endpoint: AdminEndpoint::new(&row, Some(models as i64)),
        sync,
    }))
}

/// Change an endpoint
///
/// Changes an endpoint's name, URL, key, address check or active flag; absent fields keep
/// their value and an empty `apiKey` removes the stored key.
#[utoipa::path(
    put,
    path = "/api/admin/providers/{id}",
    params(("id" = String, Path, description = "The endpoint's id.")),
    request_body = AdminEndpointInput,
    responses(
        (status = 200, description = "The endpoint as it is now (`models` is `null`).", body = Success<AdminEndpoint>),
        (status = 400, description = "A refused field (`validation_error`).", body = Failure),
        (status = 404, description = "No endpoint has that id (`not_found`).", body = Failure),
        (status = 409, description = "A provider of that name exists (`conflict`).", body = Failure),
    ),
)]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<AdminEndpointInput>,
) -> Result<Response, ApiError> {
    let row = update_endpoint(&state, &id, &body.into()).await?;
    Ok(ok(AdminEndpoint::new(&row, None)))
}

/// A removed endpoint.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AdminEndpointDeleted {
    id: String,
    name: String,
    /// Always `true`.
    deleted: bool,
    /// Its models, now `deprecated`.
    models_deprecated: usize,
}

/// Remove an endpoint
///
/// Removes an OpenAI-compatible endpoint and its stored key; its models are marked
/// `deprecated`.
#[utoipa::path(
    delete,
    path = "/api/admin/providers/{id}",
    params(("id" = String, Path, description = "The endpoint's id.")),
    responses(
        (status = 200, description = "Removed.", body = Success<AdminEndpointDeleted>),
        (status = 404, description = "No endpoint has that id (`not_found`).", body = Failure),
    ),
)]
async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (row, outcome) = delete_endpoint(&state, &id).await?;
    Ok(ok(AdminEndpointDeleted {
        id: row.id,
        name: row.name,
        deleted: true,
        models_deprecated: outcome.deprecated,
    }))
}

/// Sync an endpoint
///
/// Fetches one endpoint's model list now and saves it, as `POST /api/admin/models/sync` does
/// for a provider: 200 with its report, or 502 with `success: false` when it failed.
#[utoipa::path(
    post,
    path = "/api/admin/providers/{id}/sync",
    params(("id" = String, Path, description = "The endpoint's id.")),
    responses(
        (status = 200, description = "Synced.", body = AdminSyncResult),
        (status = 404, description = "No endpoint has that id (`not_found`).", body = Failure),
        (status = 502, description = "The sync failed (`success: false`); `data` says why.", body = AdminSyncResult),
    ),
)]
async fn sync(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let report = sync_endpoint(&state, &id).await?;
    Ok(reports_response(&[report]))
}

/// A built-in provider's key.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AdminBuiltinKeyInput {
    /// Sealed when stored, never returned.
    api_key: Option<String>,
}

/// A built-in provider's stored key.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AdminBuiltinKeySet {
    provider: String,
    /// Always `stored`: a stored key wins over the environment's.
    key_source: &'static str,
    /// The end of the key, to recognise it.
    stored_key_hint: String,
}

/// A built-in provider's removed key.
#[derive(Serialize, ToSchema)]
struct AdminBuiltinKeyRemoved {
    provider: String,
    /// Always `true`.
    removed: bool,
}

/// Store a built-in provider's key
///
/// Seals and stores a key for a built-in provider (`openrouter`, `huggingface`); it wins over
/// the environment's. Only its hint is returned.
#[utoipa::path(
    put,
    path = "/api/admin/providers/builtin/{provider}/key",
    params(("provider" = String, Path, description = "`openrouter` or `huggingface`.")),
    request_body = AdminBuiltinKeyInput,
    responses(
        (status = 200, description = "Stored.", body = Success<AdminBuiltinKeySet>),
        (status = 400, description = "An empty or malformed key (`validation_error`).", body = Failure),
        (status = 404, description = "No built-in provider has that name (`not_found`).", body = Failure),
    ),
)]
async fn put_builtin_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(provider): Path<String>,
    Json(body): Json<AdminBuiltinKeyInput>,
) -> Result<Response, ApiError> {
    let key = body.api_key.unwrap_or_default();
    let hint = set_builtin_key(&state, &provider, &key, caller.id()).await?;
    Ok(ok(AdminBuiltinKeySet {
        provider,
        key_source: "stored",
        stored_key_hint: hint,
    }))
}

/// Remove a built-in provider's key
///
/// Removes the stored key of a built-in provider; the environment's key, if any, is used
/// again.
#[utoipa::path(
    delete,
    path = "/api/admin/providers/builtin/{provider}/key",
    params(("provider" = String, Path, description = "`openrouter` or `huggingface`.")),
    responses(
        (status = 200, description = "Removed.", body = Success<AdminBuiltinKeyRemoved>),
        (status = 404, description = "No built-in provider has that name, or no key is stored for it (`not_found`).", body = Failure),
    ),
)]
async fn delete_builtin_key(
    State(state): State<AppState>,
    Path(provider): Path<String>,
) -> Result<Response, ApiError> {
    clear_builtin_key(&state, &provider).await?;
    Ok(ok(AdminBuiltinKeyRemoved {
        provider,
        removed: true,
    }))
}
