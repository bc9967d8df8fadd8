//! Listing and searching the catalog: the query's shape and the page it answers. Which models
//! are on a page is found by the in-memory index (`index.rs`); their rows come from the
//! database.

use aipasta_core::catalog::Capability;

use super::{MODEL_COLUMNS, MODEL_FROM, ModelRow, index};
use crate::{Db, DbError, Query};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    /// Relevance when searching, else popularity.
    #[default]
    Default,
    Name,
    Newest,
    Price,
    Context,
    Popularity,
}

impl SortField {
    pub const NAMES: [&'static str; 6] = [
        "default",
        "name",
        "newest",
        "price",
        "context",
        "popularity",
    ];

    pub fn parse(text: &str) -> Option<SortField> {
        Some(match text {
            "default" | "relevance" => SortField::Default,
            "name" => SortField::Name,
            "newest" => SortField::Newest,
            "price" => SortField::Price,
            "context" => SortField::Context,
            "popularity" => SortField::Popularity,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortField::Default => "default",
            SortField::Name => "name",
            SortField::Newest => "newest",
            SortField::Price => "price",
            SortField::Context => "context",
            SortField::Popularity => "popularity",
        }
    }

    /// The direction people expect when they do not say: A–Z, newest, cheapest, longest, most used.
    pub fn natural_order(self) -> SortOrder {
        match self {
            SortField::Name | SortField::Price => SortOrder::Asc,
            _ => SortOrder::Desc,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

impl SortOrder {
    pub fn parse(text: &str) -> Option<SortOrder> {
        match text {
            "asc" => Some(SortOrder::Asc),
            "desc" => Some(SortOrder::Desc),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        }
    }
}

/// A validated catalog query.
#[derive(Debug, Clone, Default)]
pub struct ModelQuery {
    pub search: Option<String>,
    /// A category slug; its sub-categories are included.
    pub category: Option<String>,
    pub provider: Option<String>,
    pub capability: Option<Capability>,
    pub free_only: bool,
    /// Highest input price, in micro-dollars per million tokens.
    pub max_prompt_price_micros: Option<i64>,
    pub min_context: Option<i64>,
    pub sort: SortField,
    pub order: Option<SortOrder>,
    /// 1-based.
    pub page: i64,
    pub limit: i64,
    /// Count matches only this far (at least to just past the requested page); `None` counts
    /// every match. The catalog's pages and API count up to [`COUNT_UP_TO`] and say "more
    /// than": a cap from when counting ran in SQL. In the index, counting every match costs well
    /// under a millisecond, so the cap could go (it is part of the API's `totalExact`).
    pub count_up_to: Option<i64>,
}

/// How far the catalog's pages and API count matches.
pub const COUNT_UP_TO: i64 = 1_000;

/// One page of results.
#[derive(Debug, Clone)]
pub struct ModelPage {
    pub models: Vec<ModelRow>,
    /// Every match when `total_exact`; otherwise a lower bound: more than `total` match.
    pub total: i64,
    /// False when counting stopped at `ModelQuery::count_up_to`.
    pub total_exact: bool,
    pub page: i64,
    /// The last page when `total_exact`; otherwise a lower bound that is past this page.
    pub pages: i64,
}

/// The listed models: active and not deprecated.
const LISTED: &str = "m.is_active = TRUE AND m.status <> 'deprecated'";

/// Lists the catalog (active, not deprecated models) for `query`.
pub async fn list(db: &Db, query: &ModelQuery) -> Result<ModelPage, DbError> {
    page_of(db, query, true).await
}

/// Search as you type: the best `limit` matches for `text`.
pub async fn search(db: &Db, text: &str, limit: i64) -> Result<Vec<ModelRow>, DbError> {
    let query = ModelQuery {
        search: Some(text.to_owned()),
        page: 1,
        limit,
        ..ModelQuery::default()
    };
    Ok(page_of(db, &query, false).await?.models)
}

/// The page's ids come from the in-memory index (see `index`); only its rows are read here.
async fn page_of(db: &Db, query: &ModelQuery, with_total: bool) -> Result<ModelPage, DbError> {
    let limit = query.limit.max(1);
    let page = query.page.max(1);
    let found = index::current(db).await?.find(query, with_total);
    let models = rows_in_order(db, &found.ids).await?;
    let (total, total_exact) = if with_total {
        (found.total, found.total_exact)
    } else {
        (0, true)
    };
    let pages = if total_exact {
        (total + limit - 1) / limit
    } else {
        // More than `total` match, so there is a page holding match `total + 1`.
        total / limit + 1
    };
    Ok(ModelPage {
        models,
        total,
        total_exact,
        page,
        pages,
    })
}

/// The full rows of `ids`, in that order; a model unlisted since the index was built (by
/// another instance) is left out.
async fn rows_in_order(db: &Db, ids: &[String]) -> Result<Vec<ModelRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT {MODEL_COLUMNS} FROM {MODEL_FROM} WHERE m.id IN ({}) AND {LISTED}",
        placeholders.join(", ")
    );
    let query = ids
        .iter()
        .fold(Query::new(sql), |q, id| q.bind(id.as_str()));
    let mut rows: Vec<ModelRow> = query.fetch_all(db).await?;
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
    Ok(rows)
}

/// The models with the most generations since `since_day` (days since the epoch), most first;
/// featured models when nothing was generated.
pub async fn trending(db: &Db, since_day: i64, limit: i64) -> Result<Vec<ModelRow>, DbError> {
    let sql = format!(
        "SELECT {MODEL_COLUMNS} FROM {MODEL_FROM} \
         JOIN (SELECT model_id, CAST(SUM(generations) AS BIGINT) AS recent FROM usage_days \
               WHERE day >= $1 GROUP BY model_id) u ON u.model_id = m.id \
         WHERE {LISTED} \
         ORDER BY u.recent DESC, m.slug LIMIT $2"
    );
    let busy: Vec<ModelRow> = Query::new(sql)
        .bind(since_day)
        .bind(limit)
        .fetch_all(db)
        .await?;
    if !busy.is_empty() {
        return Ok(busy);
    }
    let sql = format!(
        "SELECT {MODEL_COLUMNS} FROM {MODEL_FROM} \
         WHERE {LISTED} AND m.is_featured = TRUE \
         ORDER BY m.generation_count DESC, m.slug LIMIT $1"
    );
    Query::new(sql).bind(limit).fetch_all(db).await
}

/// Builds the listing index ahead of the first listing (which would otherwise build it).
pub async fn prepare_index(db: &Db) -> Result<(), DbError> {
    index::current(db).await.map(drop)
}

/// The providers that have listed models, alphabetically.
pub async fn providers(db: &Db) -> Result<Vec<String>, DbError> {
    Ok(index::current(db).await?.providers())
}

/// How many models are listed publicly (active and not deprecated).
pub async fn count_listed_models(db: &Db) -> Result<i64, DbError> {
    Ok(i64::try_from(index::current(db).await?.len()).unwrap_or(i64::MAX))
}
