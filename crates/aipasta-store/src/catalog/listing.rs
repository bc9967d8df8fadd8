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
    /// Count matches only this far (at least to just past the requested page); `None` counts
    /// every match. Counting every match of a broad query reads tens of thousands of rows, so
    /// the catalog's pages and API count up to [`COUNT_UP_TO`] and say "more than".
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

/// The listed models: active and not deprecated. The order and search indexes (migration 4)
/// are partial on exactly this condition, so it is always written this way.
const LISTED: &str = "m.is_active = TRUE AND m.status <> 'deprecated'";

/// The default order (and relevance's order within a tier); `models_order_default` serves it.
const DEFAULT_ORDER: &str = "m.is_featured DESC, m.generation_count DESC, \
(m.release_date IS NULL), m.release_date DESC, m.slug ASC";

/// SQLite only: above this many full-text matches, a sorted page is found faster by walking the
/// sort order's index and keeping the rows that match (they are dense) than by sorting every
/// match. PostgreSQL's planner makes that choice itself from its statistics.
const DENSE_MATCHES: i64 = 300;

/// A statement's bound values; `arg` binds one and answers its placeholder.
#[derive(Default)]
struct Binds(Vec<Value>);

impl Binds {
    fn arg(&mut self, value: impl Into<Value>) -> String {
        self.0.push(value.into());
        format!("${}", self.0.len())
    }

    fn query(self, sql: String) -> Query {
        self.0.into_iter().fold(Query::new(sql), Query::bind)
    }
}

/// The full-text condition on `m`, in each dialect. With `walk` (SQLite), the rowid is wrapped
/// so the planner cannot drive the query from the match list and walks an order's index instead.
fn match_condition(backend: Backend, full_text: &str, walk: bool, binds: &mut Binds) -> String {
    let n = binds.arg(full_text.to_owned());
    match backend {
        Backend::Sqlite => {
            let plus = if walk { "+" } else { "" };
            format!("{plus}m.rowid IN (SELECT rowid FROM models_fts WHERE models_fts MATCH {n})")
        }
        Backend::Postgres => format!("m.search_vector @@ to_tsquery('simple', {n})"),
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

/// The conditions of `query` other than search, on `m`.
fn filter_conditions(query: &ModelQuery, binds: &mut Binds) -> Vec<String> {
    let mut sql = vec![LISTED.to_owned()];
    if let Some(category) = &query.category {
        // The category or one of its children; on `m.category_id` itself, so its index serves it.
        let n = binds.arg(category.clone());
        sql.push(format!(
            "m.category_id IN (SELECT id FROM categories WHERE slug = {n} \
             OR parent_id IN (SELECT id FROM categories WHERE slug = {n}))"
        ));
    }
    if let Some(provider) = &query.provider {
        sql.push(format!("m.provider = {}", binds.arg(provider.clone())));
    }
    if let Some(capability) = query.capability {
        sql.push(format!("m.{} = TRUE", capability.column()));
    }
    if query.free_only {
        sql.push("m.is_free = TRUE".into());
    }
    if let Some(max) = query.max_prompt_price_micros {
        sql.push(format!("m.price_prompt_per_m_micros <= {}", binds.arg(max)));
    }
    if let Some(min) = query.min_context {
        sql.push(format!("m.context_length >= {}", binds.arg(min)));
    }
    sql
}

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

async fn page_of(db: &Db, query: &ModelQuery, with_total: bool) -> Result<ModelPage, DbError> {
    let backend = db.backend();
    let limit = query.limit.max(1);
    let page = query.page.max(1);
    let offset = (page - 1) * limit;
    let normalized = query
        .search
        .as_deref()
        .map(normalize_for_search)
        .unwrap_or_default();
    let words: Vec<&str> = normalized.split_whitespace().collect();
    let full_text = (!words.is_empty()).then(|| full_text_query(backend, &words));
    // Whether the matches are dense enough to walk an order's index (SQLite; see DENSE_MATCHES).
    let walk = match (&full_text, backend) {
        (Some(text), Backend::Sqlite) => {
            fts_matches_up_to(db, text, DENSE_MATCHES).await? > DENSE_MATCHES
        }
        _ => false,
    };

    let (total, total_exact) = if with_total {
        count(db, query, full_text.as_deref(), walk, offset + limit).await?
    } else {
        (0, true)
    };

    let models = match &full_text {
        Some(text) if query.sort == SortField::Default => {
            let ids = relevance_ids(db, query, &normalized, text, walk, offset + limit).await?;
            rows_in_order(db, ids.get(to_index(offset)..).unwrap_or_default()).await?
        }
        _ => {
            let mut binds = Binds::default();
            let mut conditions = filter_conditions(query, &mut binds);
            if let Some(text) = &full_text {
                conditions.push(match_condition(backend, text, walk, &mut binds));
            }
            let sql = format!(
                "SELECT {MODEL_COLUMNS} FROM {MODEL_FROM} WHERE {} ORDER BY {} LIMIT {} OFFSET {}",
                conditions.join(" AND "),
                order_by(query),
                binds.arg(limit),
                binds.arg(offset),
            );
            binds.query(sql).fetch_all(db).await?
        }
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

fn to_index(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// How many rows match the full-text query, counting no further than `up_to + 1`.
async fn fts_matches_up_to(db: &Db, full_text: &str, up_to: i64) -> Result<i64, DbError> {
    Query::new(
        "SELECT COUNT(*) FROM (SELECT rowid FROM models_fts WHERE models_fts MATCH $1 LIMIT $2) t",
    )
    .bind(full_text)
    .bind(up_to + 1)
    .fetch_scalar(db)
    .await
}

/// The number of matches, and whether it is exact: with `count_up_to`, counting stops past
/// `max(count_up_to, end_of_page)`, which is enough to tell whether a next page exists.
async fn count(
    db: &Db,
    query: &ModelQuery,
    full_text: Option<&str>,
    walk: bool,
    end_of_page: i64,
) -> Result<(i64, bool), DbError> {
    let mut binds = Binds::default();
    let mut conditions = filter_conditions(query, &mut binds);
    if let Some(text) = full_text {
        conditions.push(match_condition(db.backend(), text, walk, &mut binds));
    }
    let where_sql = conditions.join(" AND ");
    let Some(up_to) = query.count_up_to else {
        let sql = format!("SELECT COUNT(*) FROM models m WHERE {where_sql}");
        return Ok((binds.query(sql).fetch_scalar(db).await?, true));
    };
    let up_to = up_to.max(end_of_page);
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM models m WHERE {where_sql} LIMIT {}) t",
        binds.arg(up_to + 1)
    );
    let counted: i64 = binds.query(sql).fetch_scalar(db).await?;
    Ok(if counted > up_to {
        (up_to, false)
    } else {
        (counted, true)
    })
}

/// `ORDER BY` for a sorted listing, written exactly as the `models_order_*` indexes (migration
/// 4) so the page is read in order. Unknown values sort last whatever the direction, and every
/// order ends on the unique slug so pages never overlap.
fn order_by(query: &ModelQuery) -> String {
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
        SortField::Default => return DEFAULT_ORDER.to_owned(),
    };
    format!("{main}, m.slug ASC")
}

/// The normalised forms relevance compares with the query, as the `models_search_*_key` indexes
/// hold them (PostgreSQL compares them byte by byte, so a range is exactly "starts with").
struct Keys {
    slug: String,
    model_id: String,
    name: String,
}

impl Keys {
    fn new(backend: Backend) -> Keys {
        let key = |expression: &str| match backend {
            Backend::Sqlite => expression.to_owned(),
            Backend::Postgres => format!("({expression} COLLATE \"C\")"),
        };
        Keys {
            slug: key("replace(replace(replace(lower(m.slug), '/', ' '), '-', ' '), '.', ' ')"),
            model_id: key(
                "replace(replace(replace(lower(m.provider_model_id), '/', ' '), '-', ' '), '.', ' ')",
            ),
            name: key("replace(replace(lower(m.display_name), '-', ' '), '.', ' ')"),
        }
    }
}

/// The first string after every string that starts with `prefix` (its last character plus one).
fn after_prefix(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    if let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX))
            .find_map(char::from_u32)
            .unwrap_or(char::MAX);
        chars.push(next);
    }
    chars.into_iter().collect()
}

/// The rows whose `keys` (each a key expression) equal `q`, or with `after`, lie in `[q, after)`
/// (start with the query): `m.<row id> IN (one index lookup per key, UNION ALL)`. One lookup per
/// key, because SQLite reads no expression index for an `OR` of them. With `walk` (SQLite), the
/// planner is kept from driving the query from the list (see `match_condition`).
fn keyed_rows(backend: Backend, keys: &[&str], q: &str, after: Option<&str>, walk: bool) -> String {
    let row_id = match backend {
        Backend::Sqlite => "rowid",
        Backend::Postgres => "id",
    };
    let plus = if walk { "+" } else { "" };
    let lookups: Vec<String> = keys
        .iter()
        .map(|key| {
            let test = match after {
                Some(after) => format!("{key} >= {q} AND {key} < {after}"),
                None => format!("{key} = {q}"),
            };
            format!("SELECT m.{row_id} FROM models m WHERE {LISTED} AND {test}")
        })
        .collect();
    format!("{plus}m.{row_id} IN ({})", lookups.join(" UNION ALL "))
}

/// The ids of the first `need` matches by relevance: an exact id (tier 0) or name (tier 1),
/// then names and ids that start with the query (tier 2), then every other match (tier 3);
/// within a tier, the default order. Each tier is its own query that stops at `need`, so no
/// query ranks every match. A name or id that starts with the query holds every query word,
/// so tiers 0–2 match the full-text condition without it being checked.
async fn relevance_ids(
    db: &Db,
    query: &ModelQuery,
    normalized: &str,
    full_text: &str,
    walk: bool,
    need: i64,
) -> Result<Vec<String>, DbError> {
    let backend = db.backend();
    let keys = Keys::new(backend);
    let after = after_prefix(normalized);
    let mut ids: Vec<String> = Vec::new();
    // The conditions of tiers 0 and 1 on `m`, with the query at `q`.
    let tier0 = |q: &str| {
        format!(
            "lower(m.slug) = {q} OR lower(m.provider_model_id) = {q} OR {} = {q}",
            keys.slug
        )
    };
    let tier1 = |q: &str| format!("lower(m.display_name) = {q}");

    // Tiers 0 and 1: a handful of rows, found through the key indexes' equality (each tier's
    // condition implies one of these keys equal to the query, which has no punctuation).
    let mut binds = Binds::default();
    let mut conditions = filter_conditions(query, &mut binds);
    let q = binds.arg(normalized.to_owned());
    conditions.push(keyed_rows(
        backend,
        &[&keys.slug, &keys.model_id, &keys.name],
        &q,
        None,
        false,
    ));
    conditions.push(format!("({} OR {})", tier0(&q), tier1(&q)));
    let sql = format!(
        "SELECT m.id FROM models m WHERE {} \
         ORDER BY CASE WHEN {} THEN 0 ELSE 1 END, {DEFAULT_ORDER} LIMIT {}",
        conditions.join(" AND "),
        tier0(&q),
        binds.arg(need),
    );
    ids.extend(fetch_ids(db, binds, sql).await?);

    // Tier 2: names and ids starting with the query, not in tiers 0 and 1.
    let remaining = need - ids.len() as i64;
    if remaining > 0 {
        // Many (SQLite): walk the default order keeping the rows the key indexes list.
        let dense = backend == Backend::Sqlite
            && prefixed_up_to(db, &keys, normalized, &after, DENSE_MATCHES).await? > DENSE_MATCHES;
        let mut binds = Binds::default();
        let mut conditions = filter_conditions(query, &mut binds);
        let q = binds.arg(normalized.to_owned());
        let q_after = binds.arg(after.clone());
        conditions.push(keyed_rows(
            backend,
            &[&keys.model_id, &keys.name],
            &q,
            Some(&q_after),
            dense,
        ));
        conditions.push(format!("NOT ({} OR {})", tier0(&q), tier1(&q)));
        let sql = format!(
            "SELECT m.id FROM models m WHERE {} ORDER BY {DEFAULT_ORDER} LIMIT {}",
            conditions.join(" AND "),
            binds.arg(remaining),
        );
        ids.extend(fetch_ids(db, binds, sql).await?);
    }

    // Tier 3: every other match.
    let remaining = need - ids.len() as i64;
    if remaining > 0 {
        let mut binds = Binds::default();
        let mut conditions = filter_conditions(query, &mut binds);
        conditions.push(match_condition(backend, full_text, walk, &mut binds));
        let q = binds.arg(normalized.to_owned());
        let q_after = binds.arg(after);
        conditions.push(format!(
            "NOT ({s} = {q} OR ({k} >= {q} AND {k} < {q_after}) OR ({n} >= {q} AND {n} < {q_after}))",
            s = keys.slug,
            k = keys.model_id,
            n = keys.name
        ));
        let sql = format!(
            "SELECT m.id FROM models m WHERE {} ORDER BY {DEFAULT_ORDER} LIMIT {}",
            conditions.join(" AND "),
            binds.arg(remaining),
        );
        ids.extend(fetch_ids(db, binds, sql).await?);
    }
    Ok(ids)
}

/// How many listed models have a name or id starting with the query, counting no further than
/// `up_to + 1` (from the key indexes alone).
async fn prefixed_up_to(
    db: &Db,
    keys: &Keys,
    normalized: &str,
    after: &str,
    up_to: i64,
) -> Result<i64, DbError> {
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM models m WHERE {LISTED} AND {k} >= $1 AND {k} < $2 \
         UNION ALL SELECT 1 FROM models m WHERE {LISTED} AND {n} >= $1 AND {n} < $2 LIMIT $3) t",
        k = keys.model_id,
        n = keys.name
    );
    Query::new(sql)
        .bind(normalized)
        .bind(after)
        .bind(up_to + 1)
        .fetch_scalar(db)
        .await
}

async fn fetch_ids(db: &Db, binds: Binds, sql: String) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> = binds.query(sql).fetch_all(db).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The full rows of `ids`, in that order.
async fn rows_in_order(db: &Db, ids: &[String]) -> Result<Vec<ModelRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut binds = Binds::default();
    let placeholders: Vec<String> = ids.iter().map(|id| binds.arg(id.clone())).collect();
    let sql = format!(
        "SELECT {MODEL_COLUMNS} FROM {MODEL_FROM} WHERE m.id IN ({})",
        placeholders.join(", ")
    );
    let mut rows: Vec<ModelRow> = binds.query(sql).fetch_all(db).await?;
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
    Ok(rows)
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
