//! `/api/users/history`, `/api/users/stats` and `/api/users/favorites`, and the favorite
//! toggle on `/api/models/{id}/favorite`: the caller's own generations, usage and favorite
//! models. Another account's ids are as unknown as made-up ones.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use aipasta_store::accounts::{self, UserRow};
use aipasta_store::favorites;
use aipasta_store::generations::{self, HistoryItem, delete_history, history_page};

use super::filters::{BadFilter, HistoryParams, encode_cursor};
use super::recommend::{RecommendationKind, recommendations};
use super::stats::{StatsParams, UsageStats, usage_stats};
use crate::api::{Failure, Success, ok};
use crate::auth::{Access, Caller, Routes};
use crate::error::{ApiError, ApiResult};
use crate::generations::api::GenerationRecord;
use crate::generations::usd;
use crate::state::AppState;

/// The most ids one bulk delete takes.
const MAX_DELETE_IDS: usize = 1_000;

pub fn routes() -> Routes {
    use Access::User;
    Routes::new()
        .api(User, routes!(list_history))
        .api(User, routes!(history_entry, delete_entry))
        .api(User, routes!(delete_entries))
        .api(User, routes!(super::export::export))
        .api(User, routes!(stats))
        .api(User, routes!(list_favorites))
        .api(User, routes!(order_favorites))
        .api(User, routes!(recommended))
        // Model ids contain slashes: `POST` is answered by the generate route's dispatcher
        // (generations/api.rs), `DELETE` here, both matched as `/api/models/{*id}`.
        .api_documented_only(User, routes!(add_favorite_doc))
        .api_at("/api/models/{*id}", User, routes!(remove_favorite))
}

impl From<BadFilter> for ApiError {
    fn from(bad: BadFilter) -> ApiError {
        let mut error = ApiError::bad_request("validation_error", bad.message);
        error.param = Some(bad.field);
        error
    }
}

/// One generation in a history list: what it was, with excerpts of its prompt and output.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    id: String,
    /// The model's catalog id, when it is still known.
    model_id: Option<String>,
    /// The model's slug, when it is still known.
    model: Option<String>,
    /// The model's name (its id once the model was deleted).
    model_name: Option<String>,
    provider: Option<String>,
    /// The chat conversation it belongs to.
    session_id: Option<String>,
    /// `chat`, `text`, `code`, `image`, `summarize`, `translate` or `embed`.
    mode: String,
    /// `playground`, `api`, `v1`, `compare` or `batch`.
    source: String,
    /// The start of the prompt (or of the last message): at most 300 characters.
    prompt: String,
    /// The start of the output: at most 300 characters.
    output: String,
    /// `pending`, `success`, `error`, `timeout`, `cancelled` or `interrupted`.
    status: String,
    error_code: Option<String>,
    usage: HistoryUsage,
    /// USD.
    cost: Option<f64>,
    /// The exact cost in nano-dollars.
    cost_nanos: i64,
    /// Milliseconds.
    duration: Option<i64>,
    /// Milliseconds.
    time_to_first_token: Option<i64>,
    /// Unix milliseconds.
    created_at: i64,
}

/// The tokens of one generation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryUsage {
    prompt_tokens: i64,
    completion_tokens: i64,
    total_tokens: i64,
}

impl From<HistoryItem> for HistoryEntry {
    fn from(item: HistoryItem) -> HistoryEntry {
        HistoryEntry {
            model_name: item.model_name.or_else(|| item.model_id.clone()),
            id: item.id,
            model_id: item.model_id,
            model: item.model_slug,
            provider: item.provider,
            session_id: item.session_id,
            mode: item.mode,
            source: item.source,
            prompt: item.prompt_excerpt,
            output: item.output_excerpt,
            status: item.status,
            error_code: item.error_code,
            usage: HistoryUsage {
                prompt_tokens: item.prompt_tokens,
                completion_tokens: item.completion_tokens,
                total_tokens: item.total_tokens,
            },
            cost: usd(item.cost_nanos),
            cost_nanos: item.cost_nanos,
            duration: item.duration_ms,
            time_to_first_token: item.time_to_first_token_ms,
            created_at: item.created_at,
        }
    }
}

/// A page of history: the plan's envelope with `pagination` beside `data`.
#[derive(Serialize, ToSchema)]
pub struct HistoryList {
    /// Always `true`.
    success: bool,
    data: Vec<HistoryEntry>,
    pagination: HistoryPagination,
}

/// Where this page is and how to get the next.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPagination {
    /// The page number, when pages were numbered (`page`).
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<i64>,
    limit: i64,
    /// Whether another page follows.
    has_more: bool,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// Your history
///
/// Your generations of every mode and source, newest first by default: filtered by model,
/// mode, source, status and date range, searched by words in the prompt, the last message
/// and the output, sorted by time, cost, tokens or duration. Follow `pagination.nextCursor`
/// for the next page (as fast at any depth); `page` numbers pages too.
#[utoipa::path(
    get,
    path = "/api/users/history",
    params(HistoryParams),
    responses(
        (status = 200, description = "A page of your history.", body = HistoryList),
        (status = 400, description = "A filter is invalid (`validation_error`, `param` names it).", body = Failure),
    ),
)]
async fn list_history(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HistoryParams>,
) -> ApiResult<Json<HistoryList>> {
    let filters = params.read(&state).await?;
    let page = history_page(&state.db, caller.id(), &filters.query).await?;
    let next_cursor = page
        .next
        .as_ref()
        .map(|next| encode_cursor(next, filters.query.sort, filters.query.descending));
    Ok(Json(HistoryList {
        success: true,
        data: page.items.into_iter().map(HistoryEntry::from).collect(),
        pagination: HistoryPagination {
            current: filters.page.or(filters.query.after.is_none().then_some(1)),
            limit: filters.query.limit,
            has_more: next_cursor.is_some(),
            next_cursor,
        },
    }))
}

/// A generation of your history
///
/// The whole generation: input, output, usage, cost, timing, status and error.
#[utoipa::path(
    get,
    path = "/api/users/history/{id}",
    params(("id" = String, Path, description = "The generation's id.")),
    responses(
        (status = 200, description = "The generation.", body = Success<GenerationRecord>),
        (status = 404, description = "None of yours has that id (`not_found`).", body = Failure),
    ),
)]
async fn history_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Success<GenerationRecord>> {
    let row = generations::find_user_generation(&state.db, caller.id(), &id)
        .await?
        .ok_or_else(not_yours)?;
    let images = generations::count_assets(&state.db, &row.id).await?;
    Ok(Success::new(GenerationRecord::new(&row, images)))
}

fn not_yours() -> ApiError {
    ApiError::not_found("No generation of yours has that id.")
}

/// What a delete did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryDeleted {
    /// The ids deleted.
    deleted: Vec<String>,
    /// Ids of generations still running, kept (cancel them first).
    running: Vec<String>,
    /// Ids that name none of your generations.
    not_found: Vec<String>,
}

/// Delete a generation
///
/// Deletes one of your generations and its images. What it used still counts in your usage
/// and spend. A running generation cannot be deleted (409): cancel it first.
#[utoipa::path(
    delete,
    path = "/api/users/history/{id}",
    params(("id" = String, Path, description = "The generation's id.")),
    responses(
        (status = 200, description = "Deleted.", body = Success<HistoryDeleted>),
        (status = 404, description = "None of yours has that id (`not_found`).", body = Failure),
        (status = 409, description = "It is still running (`generation_running`).", body = Failure),
    ),
)]
async fn delete_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Success<HistoryDeleted>> {
    let outcome = delete_history(&state.db, caller.id(), std::slice::from_ref(&id)).await?;
    if !outcome.running.is_empty() {
        return Err(running());
    }
    if outcome.deleted.is_empty() {
        return Err(not_yours());
    }
    Ok(Success::new(HistoryDeleted {
        deleted: outcome.deleted,
        running: outcome.running,
        not_found: outcome.missing,
    }))
}

fn running() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "generation_running",
        "This generation is still running. Cancel it first, then delete it.",
    )
}

/// Which generations to delete.
#[derive(Deserialize, ToSchema)]
pub struct HistoryDeleteRequest {
    /// Up to 1,000 generation ids.
    ids: Vec<String>,
}

/// Delete several generations
///
/// Deletes those of `ids` that are yours and have ended, with their images; says which were
/// deleted, which are still running and which are not yours. Usage is never refunded.
#[utoipa::path(
    post,
    path = "/api/users/history/delete",
    request_body = HistoryDeleteRequest,
    responses(
        (status = 200, description = "What was deleted.", body = Success<HistoryDeleted>),
        (status = 400, description = "`ids` is empty or too long (`validation_error`).", body = Failure),
    ),
)]
async fn delete_entries(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<HistoryDeleteRequest>,
) -> ApiResult<Success<HistoryDeleted>> {
    if request.ids.is_empty() || request.ids.len() > MAX_DELETE_IDS {
        let mut error = ApiError::bad_request(
            "validation_error",
            format!("ids must hold 1 to {MAX_DELETE_IDS} generation ids."),
        );
        error.param = Some("ids");
        return Err(error);
    }
    let outcome = delete_history(&state.db, caller.id(), &request.ids).await?;
    Ok(Success::new(HistoryDeleted {
        deleted: outcome.deleted,
        running: outcome.running,
        not_found: outcome.missing,
    }))
}

pub(crate) async fn caller_account(state: &AppState, caller: &Caller) -> ApiResult<UserRow> {
    accounts::find_user_by_id(&state.db, caller.id())
        .await?
        .ok_or_else(|| ApiError::not_found("This account no longer exists."))
}

/// Your usage and spend
///
/// Totals and a series by day, week or month over a range (default: the last 30 days), split
/// by model, provider or source, and this month's tokens against your monthly limit: the
/// numbers the dashboard shows. From the daily rollups: deleting history changes nothing here.
#[utoipa::path(
    get,
    path = "/api/users/stats",
    params(StatsParams),
    responses(
        (status = 200, description = "Your usage.", body = Success<UsageStats>),
        (status = 400, description = "A parameter is invalid (`validation_error`, `param` names it).", body = Failure),
    ),
)]
async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<StatsParams>,
) -> ApiResult<Success<UsageStats>> {
    let request = params.read()?;
    let user = caller_account(&state, &caller).await?;
    Ok(Success::new(usage_stats(&state, &user, request).await?))
}

/// A favorite model.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FavoriteModel {
    /// The model's catalog id.
    id: String,
    /// Its slug: what the generate calls and `/v1` take.
    slug: String,
    name: String,
    /// Its place in your order, from 0.
    position: i64,
    /// Unix milliseconds.
    added_at: i64,
}

async fn favorites_of(state: &AppState, user_id: &str) -> ApiResult<Vec<FavoriteModel>> {
    Ok(favorites::list_favorites(&state.db, user_id)
        .await?
        .into_iter()
        .map(|row| FavoriteModel {
            id: row.model_id,
            slug: row.slug,
            name: row.name,
            position: row.position,
            added_at: row.created_at,
        })
        .collect())
}

/// Your favorite models
///
/// In the order you chose.
#[utoipa::path(
    get,
    path = "/api/users/favorites",
    responses((status = 200, description = "Your favorites.", body = Success<Vec<FavoriteModel>>)),
)]
async fn list_favorites(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Success<Vec<FavoriteModel>>> {
    Ok(Success::new(favorites_of(&state, caller.id()).await?))
}

/// The order to put favorites in.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FavoriteOrder {
    /// Model ids or slugs, first first; favorites not listed follow in their present order.
    models: Vec<String>,
}

/// Order your favorites
///
/// Puts the listed favorites first, in that order; answers the new order.
#[utoipa::path(
    put,
    path = "/api/users/favorites/order",
    request_body = FavoriteOrder,
    responses(
        (status = 200, description = "Your favorites, in their new order.", body = Success<Vec<FavoriteModel>>),
        (status = 400, description = "`models` is too long (`validation_error`).", body = Failure),
    ),
)]
async fn order_favorites(
    State(state): State<AppState>,
    caller: Caller,
    Json(order): Json<FavoriteOrder>,
) -> ApiResult<Success<Vec<FavoriteModel>>> {
    if order.models.len() > MAX_DELETE_IDS {
        let mut error = ApiError::bad_request(
            "validation_error",
            format!("models must hold at most {MAX_DELETE_IDS} models."),
        );
        error.param = Some("models");
        return Err(error);
    }
    let mut ids = Vec::with_capacity(order.models.len());
    for model in &order.models {
        if let Some(row) = state.engine.models.get(&state.db, model).await? {
            ids.push(row.id.clone());
        }
    }
    favorites::reorder_favorites(&state.db, caller.id(), &ids).await?;
    Ok(Success::new(favorites_of(&state, caller.id()).await?))
}

/// Whether a model is a favorite now.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FavoriteState {
    /// The model's catalog id.
    model_id: String,
    favorite: bool,
    /// Your favorites now, in order.
    favorites: Vec<FavoriteModel>,
}

/// The model a favorite route names, from the path before `/favorite`.
async fn favorite_target(state: &AppState, path: &str) -> ApiResult<String> {
    let Some(model) = path.trim_matches('/').strip_suffix("/favorite") else {
        return Err(ApiError::not_found(
            "No such endpoint. Favorites are at /api/models/{id}/favorite.",
        ));
    };
    let row = state
        .engine
        .models
        .get(&state.db, model)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No model has the id {model:?}.")))?;
    Ok(row.id.clone())
}

/// Favorite a model
///
/// Adds the model to your favorites, last in your order (nothing changes if it already is
/// one). `{id}` is the model's slug, with its slashes, or its id.
#[utoipa::path(
    post,
    path = "/api/models/{id}/favorite",
    params(("id" = String, Path, description = "The model's slug (with its slashes) or id.")),
    responses(
        (status = 200, description = "It is a favorite.", body = Success<FavoriteState>),
        (status = 404, description = "No such model (`not_found`).", body = Failure),
    ),
)]
#[allow(dead_code)] // documents the operation `add_favorite` answers
async fn add_favorite_doc() {}

/// `POST /api/models/{id}/favorite`, reached through the generate route's dispatcher.
pub async fn add_favorite(state: &AppState, caller: &Caller, path: &str) -> ApiResult<Response> {
    let model_id = favorite_target(state, path).await?;
    favorites::add_favorite(&state.db, caller.id(), &model_id).await?;
    Ok(ok(FavoriteState {
        favorites: favorites_of(state, caller.id()).await?,
        model_id,
        favorite: true,
    }))
}

/// Unfavorite a model
///
/// Removes the model from your favorites (nothing changes if it was not one).
#[utoipa::path(
    delete,
    path = "/api/models/{id}/favorite",
    params(("id" = String, Path, description = "The model's slug (with its slashes) or id.")),
    responses(
        (status = 200, description = "It is not a favorite.", body = Success<FavoriteState>),
        (status = 404, description = "No such model (`not_found`).", body = Failure),
    ),
)]
async fn remove_favorite(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<String>,
) -> ApiResult<Response> {
    let model_id = favorite_target(&state, &path).await?;
    favorites::remove_favorite(&state.db, caller.id(), &model_id).await?;
    Ok((
        StatusCode::OK,
        Success::new(FavoriteState {
            favorites: favorites_of(&state, caller.id()).await?,
            model_id,
            favorite: false,
        }),
    )
        .into_response())
}

/// A recommended model.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecommendedModel {
    /// The model's catalog id.
    id: String,
    slug: String,
    name: String,
    provider: String,
    /// The category's name.
    category: Option<String>,
    kind: RecommendationKind,
    /// Why, for people: "Cheaper than Claude Opus 4 with the same context".
    reason: String,
}

/// Models to try
///
/// Up to six models, each with why: cheaper than one of yours with the same capabilities and
/// as much context, favorited by people who share your favorites, or popular in the categories
/// you use (with nothing to go on yet: popular on the platform, then featured). Computed from
/// the catalog, everyone's favorites and the usage rollups.
#[utoipa::path(
    get,
    path = "/api/users/recommendations",
    responses((status = 200, description = "Models to try.", body = Success<Vec<RecommendedModel>>)),
)]
async fn recommended(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Success<Vec<RecommendedModel>>> {
    let found = recommendations(&state, caller.id()).await?;
    Ok(Success::new(
        found
            .into_iter()
            .map(|r| RecommendedModel {
                id: r.model.id,
                slug: r.model.slug,
                name: r.model.display_name,
                provider: r.model.provider,
                category: r.model.category_name,
                kind: r.kind,
                reason: r.reason,
            })
            .collect(),
    ))
}
