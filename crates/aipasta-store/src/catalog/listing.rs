//! Listing and searching the catalog: filters, sorting and pagination in SQL, with full-text
//! search through FTS5 (SQLite) or a tsvector (PostgreSQL).

use aipasta_core::catalog::{Capability, normalize_for_search};

use super::{MODEL_COLUMNS, MODEL_FROM, ModelRow};
use crate::{Backend, Db, DbError, Query, Value};

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

    fn sql(self) -> &'static str {
        match self {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
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
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct ModelPage {
    pub models: Vec<ModelRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

/// The full-text condition on `m`, with the query bound at `$n`, in each dialect.
fn search_condition(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => {
            format!("m.rowid IN (SELECT rowid FROM models_fts WHERE models_fts MATCH ${n})")
        }
        Backend::Postgres => format!("m.search_vector @@ to_tsquery('simple', ${n})"),
    }
}

/// Every word must appear, each as a prefix (search as you type): `claude op` finds
/// "Claude Opus". Normalised words hold only letters and digits, so they cannot inject syntax.
fn full_text_query(backend: Backend, words: &[&str]) -> String {
    match backend {
        Backend::Sqlite => words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" "),
        Backend::Postgres => words
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" & "),
    }
}

struct Conditions {
    sql: Vec<String>,
    values: Vec<Value>,
}

impl Conditions {
    fn push(&mut self, sql: impl FnOnce(usize) -> String, value: impl Into<Value>) {
        self.values.push(value.into());
        self.sql.push(sql(self.values.len()));
    }

    fn next_index(&self) -> usize {
        self.values.len() + 1
    }
}

/// Lists the catalog (active, not deprecated models) for `query`.
pub async fn list(db: &Db, query: &ModelQuery) -> Result<ModelPage, DbError> {
    let backend = db.backend();
    let mut conditions = Conditions {
        sql: vec![
            "m.is_active = TRUE".into(),
            "m.status <> 'deprecated'".into(),
        ],
        values: Vec::new(),
    };
    let normalized = query
        .search
        .as_deref()
        .map(normalize_for_search)
        .unwrap_or_default();
    let words: Vec<&str> = normalized.split_whitespace().collect();
    if !words.is_empty() {
        conditions.push(
            |n| search_condition(backend, n),
            full_text_query(backend, &words),
        );
    }
    if let Some(category) = &query.category {
        conditions.push(
            |n| format!("(c.slug = ${n} OR c.parent_id IN (SELECT id FROM categories WHERE slug = ${n}))"),
            category.clone(),
        );
    }
    if let Some(provider) = &query.provider {
        conditions.push(|n| format!("m.provider = ${n}"), provider.clone());
    }
    if let Some(capability) = query.capability {
        conditions
            .sql
            .push(format!("m.{} = TRUE", capability.column()));
    }
    if query.free_only {
        conditions.sql.push("m.is_free = TRUE".into());
    }
    if let Some(max) = query.max_prompt_price_micros {
        conditions.push(|n| format!("m.price_prompt_per_m_micros <= ${n}"), max);
    }
    if let Some(min) = query.min_context {
        conditions.push(|n| format!("m.context_length >= ${n}"), min);
    }
    let where_sql = conditions.sql.join(" AND ");

    let count_sql = format!("SELECT COUNT(*) FROM {MODEL_FROM} WHERE {where_sql}");
    let total: i64 = conditions
        .values
        .iter()
        .cloned()
        .fold(Query::new(count_sql), Query::bind)
        .fetch_scalar(db)
        .await?;

    let order_sql = order_by(query, &normalized, &mut conditions);
    let limit = query.limit.max(1);
    let page = query.page.max(1);
    let limit_index = conditions.next_index();
    let sql = format!(
        "SELECT {MODEL_COLUMNS} FROM {MODEL_FROM} WHERE {where_sql} ORDER BY {order_sql} \
         LIMIT ${limit_index} OFFSET ${}",
        limit_index + 1
    );
    let models = conditions
        .values
        .into_iter()
        .fold(Query::new(sql), Query::bind)
        .bind(limit)
        .bind((page - 1) * limit)
        .fetch_all(db)
        .await?;
    Ok(ModelPage {
        models,
        total,
        page,
        pages: (total + limit - 1) / limit,
    })
}

/// `ORDER BY` for the query. Unknown values sort last whatever the direction, and every order
/// ends on the unique slug so pages never overlap.
fn order_by(query: &ModelQuery, normalized_search: &str, conditions: &mut Conditions) -> String {
    let order = query.order.unwrap_or(query.sort.natural_order());
    let direction = order.sql();
    let by = |column: &str| format!("({column} IS NULL), {column} {direction}");
    let main = match query.sort {
        SortField::Name => format!("m.display_name {direction}"),
        SortField::Newest => by("m.release_date"),
        SortField::Price => by("m.price_prompt_per_m_micros"),
        SortField::Context => by("m.context_length"),
        SortField::Popularity => format!(
            "m.generation_count {direction}, m.is_featured {direction}, {}",
            by("m.downloads")
        ),
        SortField::Default if !normalized_search.is_empty() => {
            // Relevance: an exact id or name first, then names that start with the query, then
            // names containing every word, then matches in descriptions.
            let exact = conditions.next_index();
            conditions.values.push(normalized_search.to_owned().into());
            let prefix = conditions.next_index();
            conditions
                .values
                .push(format!("{normalized_search}%").into());
            format!(
                "CASE \
                   WHEN lower(m.slug) = ${exact} OR lower(m.provider_model_id) = ${exact} THEN 0 \
                   WHEN replace(replace(replace(lower(m.slug), '/', ' '), '-', ' '), '.', ' ') = ${exact} THEN 0 \
                   WHEN lower(m.display_name) = ${exact} THEN 1 \
                   WHEN replace(replace(lower(m.display_name), '-', ' '), '.', ' ') LIKE ${prefix} THEN 2 \
                   WHEN replace(replace(replace(lower(m.provider_model_id), '/', ' '), '-', ' '), '.', ' ') LIKE ${prefix} THEN 2 \
                   ELSE 3 END, \
                 m.is_featured DESC, m.generation_count DESC, ({d} IS NULL), {d} DESC",
                d = "m.release_date"
            )
        }
        SortField::Default => format!(
            "m.is_featured DESC, m.generation_count DESC, {}",
            "(m.release_date IS NULL), m.release_date DESC"
        ),
    };
    format!("{main}, m.slug ASC")
}

/// Search as you type: the best `limit` matches for `text`.
pub async fn search(db: &Db, text: &str, limit: i64) -> Result<Vec<ModelRow>, DbError> {
    let query = ModelQuery {
        search: Some(text.to_owned()),
        page: 1,
        limit,
        ..ModelQuery::default()
    };
    Ok(list(db, &query).await?.models)
}

/// The models with the most generations since `since_day` (days since the epoch), most first;
/// featured models when nothing was generated.
pub async fn trending(db: &Db, since_day: i64, limit: i64) -> Result<Vec<ModelRow>, DbError> {
    let sql = format!(
        "SELECT {MODEL_COLUMNS} FROM {MODEL_FROM} \
         JOIN (SELECT model_id, CAST(SUM(generations) AS BIGINT) AS recent FROM usage_daily \
               WHERE day >= $1 GROUP BY model_id) u ON u.model_id = m.id \
         WHERE m.is_active = TRUE AND m.status <> 'deprecated' \
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
         WHERE m.is_active = TRUE AND m.status <> 'deprecated' AND m.is_featured = TRUE \
         ORDER BY m.generation_count DESC, m.slug LIMIT $1"
    );
    Query::new(sql).bind(limit).fetch_all(db).await
}

/// The providers that have listed models, alphabetically.
pub async fn providers(db: &Db) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> = Query::new(
        "SELECT DISTINCT provider FROM models WHERE is_active = TRUE AND status <> 'deprecated' \
         ORDER BY provider",
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(p,)| p).collect())
}
