//! `/api/models...`: the catalog as JSON, in the plan's envelope.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use aipasta_core::clock::now_ms;
use aipasta_store::catalog;

use super::{CatalogModel, CatalogModelDetails, run_listing};
use crate::api::{Failure, Success};
use crate::auth::{Access, Routes};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Routes {
    use Access::Public;
    Routes::new()
        .api(Public, routes!(list))
        .api(Public, routes!(categories))
        .api(Public, routes!(search))
        .api(Public, routes!(trending))
        .api(Public, routes!(details))
}

/// The plan's default page size for the API.
const API_DEFAULT_LIMIT: i64 = 20;

/// One page of the catalog: the envelope with `pagination` beside `data`.
#[derive(Serialize, ToSchema)]
pub struct CatalogModelPage {
    /// Always `true`.
    success: bool,
    data: Vec<CatalogModel>,
    pagination: CatalogPagination,
}

/// Where this page is in the listing.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogPagination {
    /// This page, from 1.
    current: i64,
    /// The last page when `totalExact`; otherwise a lower bound.
    pages: i64,
    /// The models that match when `totalExact`; otherwise a lower bound.
    total: i64,
    /// False when counting stopped after 1,000 matches (or just past the requested page): more
    /// than `total` models match, and `pages` is a lower bound.
    total_exact: bool,
    /// Models per page.
    limit: i64,
}

/// List the catalog
///
/// Active models, filtered, sorted and paged. An unknown `category` or `provider`, or a page
/// past the last, is refused (`invalid_parameter`, naming the parameter).
#[utoipa::path(
    get,
    path = "/api/models",
    params(
        ("search" = Option<String>, Query, description = "Words to find (each as a prefix)."),
        ("category" = Option<String>, Query, description = "A category slug; its sub-categories are included."),
        ("provider" = Option<String>, Query, description = "`openrouter`, `huggingface` or an endpoint's name."),
        ("capability" = Option<String>, Query, description = "A capability the model must have."),
        ("free" = Option<bool>, Query, description = "`true` for free models only."),
        ("max_price" = Option<f64>, Query, description = "Highest input price per 1M tokens, in USD."),
        ("min_context" = Option<i64>, Query, description = "Smallest context length, in tokens."),
        ("sort" = Option<String>, Query, description = "The sort field (see the catalog page's choices)."),
        ("order" = Option<String>, Query, description = "`asc` or `desc`."),
        ("page" = Option<i64>, Query, description = "1-based page number."),
        ("limit" = Option<i64>, Query, description = "Models per page (default 20)."),
    ),
    responses(
        (status = 200, description = "One page of models.", body = CatalogModelPage),
        (status = 400, description = "A parameter is not valid (`invalid_parameter`, with `param`).", body = Failure),
    ),
)]
async fn list(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Json<CatalogModelPage>> {
    let (query, page, _) = run_listing(&state.db, &pairs, API_DEFAULT_LIMIT).await?;
    Ok(Json(CatalogModelPage {
        success: true,
        data: page.models.iter().map(CatalogModel::new).collect(),
        pagination: CatalogPagination {
            current: page.page,
            pages: page.pages,
            total: page.total,
            total_exact: page.total_exact,
            limit: query.limit,
        },
    }))
}

/// Model details
///
/// One model by id or slug (slugs contain slashes; send them as they are), with its
/// parameters, modalities, performance, metadata and related models.
#[utoipa::path(
    get,
    path = "/api/models/{*id}",
    params(("id" = String, Path, description = "The model's slug (`openai/gpt-4o`, with its slashes) or its uuid.")),
    responses(
        (status = 200, description = "The model.", body = Success<CatalogModelDetails>),
        (status = 404, description = "No such model (`not_found`).", body = Failure),
    ),
)]
async fn details(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Success<CatalogModelDetails>> {
    let id = id.trim_matches('/');
    let Some(model) = catalog::find_model(&state.db, id).await? else {
        return Err(ApiError::not_found(format!("No model has the id {id:?}.")));
    };
    let tags = catalog::model_tags(&state.db, &model.id).await?;
    let related = catalog::related_models(&state.db, &model, 6).await?;
    Ok(Success::new(
        CatalogModelDetails::new(&model, &tags).with_related(&related),
    ))
}

/// A category of the catalog with its sub-categories.
#[derive(Serialize, ToSchema)]
pub struct CatalogCategory {
    #[serde(flatten)]
    category: CatalogCategoryNode,
    subcategories: Vec<CatalogCategoryNode>,
}

/// One category.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogCategoryNode {
    /// The slug (as `slug`): what `GET /api/models?category=` takes.
    id: String,
    name: String,
    slug: String,
    description: Option<String>,
    icon: Option<String>,
    color: Option<String>,
    /// Its active models.
    model_count: i64,
    sort_order: i64,
}

impl CatalogCategoryNode {
    fn new(row: &catalog::CategoryRow) -> CatalogCategoryNode {
        CatalogCategoryNode {
            id: row.slug.clone(),
            name: row.name.clone(),
            slug: row.slug.clone(),
            description: row.description.clone(),
            icon: row.icon.clone(),
            color: row.color.clone(),
            model_count: row.model_count,
            sort_order: row.sort_order,
        }
    }
}

/// Categories
///
/// The category tree with model counts: the top-level categories, each with its
/// sub-categories.
#[utoipa::path(
    get,
    path = "/api/models/categories",
    responses((status = 200, description = "The categories.", body = Success<Vec<CatalogCategory>>)),
)]
async fn categories(State(state): State<AppState>) -> ApiResult<Success<Vec<CatalogCategory>>> {
    let rows = catalog::categories(&state.db).await?;
    let tree = rows
        .iter()
        .filter(|row| row.parent_id.is_none())
        .map(|parent| CatalogCategory {
            category: CatalogCategoryNode::new(parent),
            subcategories: rows
                .iter()
                .filter(|child| child.parent_id.as_deref() == Some(parent.id.as_str()))
                .map(CatalogCategoryNode::new)
                .collect(),
        })
        .collect();
    Ok(Success::new(tree))
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

/// Search models
///
/// Full-text search over names, ids, descriptions and tags of the active models.
#[utoipa::path(
    get,
    path = "/api/models/search",
    params(
        ("q" = String, Query, description = "The text to search for (up to 200 characters)."),
        ("limit" = Option<i64>, Query, description = "1 to 50 (default 10).", minimum = 1, maximum = 50),
    ),
    responses(
        (status = 200, description = "The matches, best first.", body = Success<Vec<CatalogModel>>),
        (status = 400, description = "`q` is missing or too long, or `limit` is out of range (`invalid_parameter`).", body = Failure),
    ),
)]
async fn search(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Success<Vec<CatalogModel>>> {
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
    Ok(Success::new(found.iter().map(CatalogModel::new).collect()))
}

/// Days since the epoch, seven days ago.
fn seven_days_ago() -> i64 {
    now_ms() / 86_400_000 - 7
}

/// Trending models
///
/// The most used models of the last seven days.
#[utoipa::path(
    get,
    path = "/api/models/trending",
    params(("limit" = Option<i64>, Query, description = "1 to 50 (default 10).", minimum = 1, maximum = 50)),
    responses(
        (status = 200, description = "The models, most used first.", body = Success<Vec<CatalogModel>>),
        (status = 400, description = "`limit` is out of range (`invalid_parameter`).", body = Failure),
    ),
)]
async fn trending(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Success<Vec<CatalogModel>>> {
    let limit = limit_param(&pairs, 10)?;
    let models = catalog::trending(&state.db, seven_days_ago(), limit).await?;
    Ok(Success::new(models.iter().map(CatalogModel::new).collect()))
}
