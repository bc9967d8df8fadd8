//! An account's history: its generations of every mode and source, filtered, searched, sorted
//! by time, cost, tokens or duration, and read a page at a time from a cursor.
//!
//! Every order has an index `(user_id, <sort key>, id)` (migration 10), and a page resumes
//! after the last row it showed (`(sort key, id)` strictly past the cursor), so page 10,000
//! costs what page 1 does. Full-text search reads SQLite's FTS5 table or PostgreSQL's GIN index
//! on the same text: the prompt, the last message and the output (their first 50,000
//! characters each), matched word by word, each word as a prefix.

use super::GenerationRow;
use crate::{Backend, Db, DbError, Query};

/// How much of a prompt and of an output a list shows.
pub const HISTORY_EXCERPT_CHARS: i64 = 300;
/// The most rows one page holds.
pub const MAX_HISTORY_PAGE: i64 = 100;
/// The most whole rows one export page reads: exports stream a page at a time, so memory
/// stays flat whatever their size.
pub const MAX_EXPORT_PAGE: i64 = 1_000;
/// The most words a search matches on (the rest are ignored).
const MAX_SEARCH_WORDS: usize = 8;
const MAX_SEARCH_WORD_CHARS: usize = 64;

/// The orders history can be read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistorySort {
    #[default]
    Time,
    Cost,
    Tokens,
    Duration,
}

impl HistorySort {
    pub const ALL: [HistorySort; 4] = [
        HistorySort::Time,
        HistorySort::Cost,
        HistorySort::Tokens,
        HistorySort::Duration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HistorySort::Time => "time",
            HistorySort::Cost => "cost",
            HistorySort::Tokens => "tokens",
            HistorySort::Duration => "duration",
        }
    }

    pub fn parse(text: &str) -> Option<HistorySort> {
        HistorySort::ALL
            .into_iter()
            .find(|sort| sort.as_str() == text)
    }

    /// The sort key, written exactly as its index is (`generations_user_*_idx`).
    fn key(self) -> &'static str {
        match self {
            HistorySort::Time => "g.created_at",
            HistorySort::Cost => "g.cost_nanos",
            HistorySort::Tokens => "g.total_tokens",
            HistorySort::Duration => "COALESCE(g.duration_ms, 0)",
        }
    }
}

/// Where the next page starts: the sort key and id of the last row shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryCursor {
    pub value: i64,
    pub id: String,
}

/// Which generations, in which order, from where.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    pub model_id: Option<String>,
    pub mode: Option<String>,
    pub source: Option<String>,
    pub status: Option<String>,
    /// Created at or after (ms since the epoch).
    pub from: Option<i64>,
    /// Created before (ms since the epoch).
    pub to: Option<i64>,
    /// Words to find in the prompt, the last message or the output.
    pub search: Option<String>,
    pub sort: HistorySort,
    /// Oldest (smallest) first when false.
    pub descending: bool,
    /// Continue after this row; takes precedence over `offset`.
    pub after: Option<HistoryCursor>,
    /// Rows to skip (page-numbered reading; deep pages cost more than with a cursor).
    pub offset: i64,
    /// At most [`MAX_HISTORY_PAGE`].
    pub limit: i64,
}

/// One generation in a history list: what it was, not its whole input and output.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HistoryItem {
    pub id: String,
    pub model_id: Option<String>,
    /// `None` when the model was deleted since.
    pub model_slug: Option<String>,
    pub model_name: Option<String>,
    pub provider: Option<String>,
    pub session_id: Option<String>,
    pub source: String,
    pub mode: String,
    /// The start of the prompt (or of the last message, when the prompt went as messages).
    pub prompt_excerpt: String,
    pub output_excerpt: String,
    pub status: String,
    pub error_code: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    pub cost_nanos: i64,
    pub duration_ms: Option<i64>,
    pub time_to_first_token_ms: Option<i64>,
    pub created_at: i64,
    /// The value of the sort key, for the cursor.
    pub sort_value: i64,
}

/// A page of history and where the next one starts (`None` on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    pub items: Vec<HistoryItem>,
    pub next: Option<HistoryCursor>,
}

/// The last message's text (text and code runs on chat models record an empty `prompt`).
/// `messages` is always a JSON array (the engine writes it with serde).
pub(crate) fn last_message(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "json_extract(g.messages, '$[#-1].content')",
        Backend::Postgres => "(g.messages::json -> -1 ->> 'content')",
    }
}

/// PostgreSQL's search vector, the expression `generations_search_idx` is built on (migration
/// 10), with the table alias the query uses. It must stay identical to the index's, or the
/// planner cannot use the index.
const PG_SEARCH_VECTOR: &str = "to_tsvector('simple'::regconfig, left(g.prompt, 50000) || ' ' \
     || left(COALESCE(g.messages::json -> -1 ->> 'content', ''), 50000) || ' ' \
     || left(g.output_content, 50000))";

/// The words of a search, lower-cased: letters and digits only, so nothing in them is syntax
/// to either full-text engine. Empty when the text has no word.
pub fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            word.chars()
                .take(MAX_SEARCH_WORD_CHARS)
                .collect::<String>()
                .to_lowercase()
        })
        .take(MAX_SEARCH_WORDS)
        .collect()
}

/// Every word, as a prefix, in the backend's query language.
fn match_expression(backend: Backend, words: &[String]) -> String {
    match backend {
        Backend::Sqlite => words
            .iter()
            .map(|word| format!("\"{word}\"*"))
            .collect::<Vec<_>>()
            .join(" AND "),
        Backend::Postgres => words
            .iter()
            .map(|word| format!("{word}:*"))
            .collect::<Vec<_>>()
            .join(" & "),
    }
}

/// What a history query reads of each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Columns {
    /// [`HistoryItem`]: excerpts, for lists.
    Summary,
    /// [`HistoryRecord`]: every column, for exports.
    Whole,
}

/// Every column of a generation, as the history query names them.
static WHOLE_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    super::GENERATION_COLUMNS
        .split(", ")
        .map(|column| format!("g.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
});

fn history_sql(
    backend: Backend,
    user_id: &str,
    query: &HistoryQuery,
    words: &[String],
    columns: Columns,
) -> (String, Vec<Bind>) {
    let mut binds = Vec::new();
    /// Adds a bind and answers its placeholder.
    fn next(bind: Bind, binds: &mut Vec<Bind>) -> String {
        binds.push(bind);
        format!("${}", binds.len())
    }
    let user = next(Bind::Text(user_id.to_owned()), &mut binds);
    let key = query.sort.key();
    let selected = match columns {
        Columns::Summary => format!(
            "g.id, g.model_id, m.slug AS model_slug, m.display_name AS model_name, g.provider, \
             g.session_id, g.source, g.mode, \
             SUBSTR(CASE WHEN g.prompt <> '' THEN g.prompt ELSE COALESCE({last}, '') END, 1, \
               {HISTORY_EXCERPT_CHARS}) AS prompt_excerpt, \
             SUBSTR(g.output_content, 1, {HISTORY_EXCERPT_CHARS}) AS output_excerpt, \
             g.status, g.error_code, g.prompt_tokens, g.completion_tokens, g.total_tokens, \
             g.cost_nanos, g.duration_ms, g.time_to_first_token_ms, g.created_at",
            last = last_message(backend),
        ),
        Columns::Whole => format!(
            "{}, m.slug AS model_slug, m.display_name AS model_name",
            *WHOLE_COLUMNS
        ),
    };
    let mut sql = format!(
        "SELECT {selected}, {key} AS sort_value \
         FROM generations g LEFT JOIN models m ON m.id = g.model_id WHERE g.user_id = {user}"
    );
    for (column, value) in [
        ("g.model_id", &query.model_id),
        ("g.mode", &query.mode),
        ("g.source", &query.source),
        ("g.status", &query.status),
    ] {
        if let Some(value) = value {
            let placeholder = next(Bind::Text(value.clone()), &mut binds);
            sql.push_str(&format!(" AND {column} = {placeholder}"));
        }
    }
    if let Some(from) = query.from {
        let placeholder = next(Bind::Int(from), &mut binds);
        sql.push_str(&format!(" AND g.created_at >= {placeholder}"));
    }
    if let Some(to) = query.to {
        let placeholder = next(Bind::Int(to), &mut binds);
        sql.push_str(&format!(" AND g.created_at < {placeholder}"));
    }
    if !words.is_empty() {
        let placeholder = next(Bind::Text(match_expression(backend, words)), &mut binds);
        sql.push_str(&match backend {
            Backend::Sqlite => format!(
                " AND g.rowid IN (SELECT rowid FROM generations_fts \
                 WHERE generations_fts MATCH {placeholder})"
            ),
            Backend::Postgres => {
                format!(" AND {PG_SEARCH_VECTOR} @@ to_tsquery('simple'::regconfig, {placeholder})")
            }
        });
    }
    let (direction, past) = if query.descending {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    if let Some(after) = &query.after {
        let value = next(Bind::Int(after.value), &mut binds);
        let id = next(Bind::Text(after.id.clone()), &mut binds);
        sql.push_str(&format!(" AND ({key}, g.id) {past} ({value}, {id})"));
    }
    let rows = i64::try_from(page_size(query, columns)).unwrap_or(1);
    let limit = next(Bind::Int(rows + 1), &mut binds);
    sql.push_str(&format!(
        " ORDER BY {key} {direction}, g.id {direction} LIMIT {limit}"
    ));
    if query.after.is_none() && query.offset > 0 {
        let offset = next(Bind::Int(query.offset), &mut binds);
        sql.push_str(&format!(" OFFSET {offset}"));
    }
    (sql, binds)
}

enum Bind {
    Text(String),
    Int(i64),
}

/// A page of `user_id`'s history. One row more than the page is read to know whether another
/// page follows.
pub async fn history_page(
    db: &Db,
    user_id: &str,
    query: &HistoryQuery,
) -> Result<HistoryPage, DbError> {
    let (mut items, more) = read_page::<HistoryItem>(db, user_id, query, Columns::Summary).await?;
    items.truncate(page_size(query, Columns::Summary));
    let next = more
        .then(|| items.last())
        .flatten()
        .map(|last| HistoryCursor {
            value: last.sort_value,
            id: last.id.clone(),
        });
    Ok(HistoryPage { items, next })
}

/// One generation with every column, for exports.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HistoryRecord {
    #[sqlx(flatten)]
    pub row: GenerationRow,
    pub model_slug: Option<String>,
    pub model_name: Option<String>,
    pub sort_value: i64,
}

/// A page of whole generations (see [`history_page`]): what an export streams, a page at a
/// time.
pub async fn history_records(
    db: &Db,
    user_id: &str,
    query: &HistoryQuery,
) -> Result<(Vec<HistoryRecord>, Option<HistoryCursor>), DbError> {
    let (mut records, more) =
        read_page::<HistoryRecord>(db, user_id, query, Columns::Whole).await?;
    records.truncate(page_size(query, Columns::Whole));
    let next = more
        .then(|| records.last())
        .flatten()
        .map(|last| HistoryCursor {
            value: last.sort_value,
            id: last.row.id.clone(),
        });
    Ok((records, next))
}

fn page_size(query: &HistoryQuery, columns: Columns) -> usize {
    let max = match columns {
        Columns::Summary => MAX_HISTORY_PAGE,
        Columns::Whole => MAX_EXPORT_PAGE,
    };
    usize::try_from(query.limit.clamp(1, max)).unwrap_or(1)
}

/// Reads one page plus one row; answers the rows (the extra one included) and whether
/// another page follows.
async fn read_page<T: crate::DbRow>(
    db: &Db,
    user_id: &str,
    query: &HistoryQuery,
    columns: Columns,
) -> Result<(Vec<T>, bool), DbError> {
    let words = query
        .search
        .as_deref()
        .map(search_words)
        .unwrap_or_default();
    let (sql, binds) = history_sql(db.backend(), user_id, query, &words, columns);
    let mut statement = Query::new(sql);
    for bind in binds {
        statement = match bind {
            Bind::Text(text) => statement.bind(text),
            Bind::Int(value) => statement.bind(value),
        };
    }
    let rows: Vec<T> = statement.fetch_all(db).await?;
    let more = rows.len() > page_size(query, columns);
    Ok((rows, more))
}

/// The plan the database chooses for a history query, as text (for tests that pin which index
/// each order reads). PostgreSQL is told to avoid whole-table scans, which a small test table
/// would otherwise get.
#[cfg(feature = "testing")]
pub async fn explain_history(
    db: &Db,
    user_id: &str,
    query: &HistoryQuery,
) -> Result<String, DbError> {
    let words = query
        .search
        .as_deref()
        .map(search_words)
        .unwrap_or_default();
    let (sql, binds) = history_sql(db.backend(), user_id, query, &words, Columns::Summary);
    let bind_all = |mut statement: Query| {
        for bind in &binds {
            statement = match bind {
                Bind::Text(text) => statement.bind(text.as_str()),
                Bind::Int(value) => statement.bind(*value),
            };
        }
        statement
    };
    let mut tx = db.begin().await?;
    let lines: Vec<String> = match db.backend() {
        Backend::Sqlite => {
            let rows: Vec<(i64, i64, i64, String)> =
                bind_all(Query::new(format!("EXPLAIN QUERY PLAN {sql}")))
                    .fetch_all(&mut tx)
                    .await?;
            rows.into_iter().map(|row| row.3).collect()
        }
        Backend::Postgres => {
            Query::new("SET LOCAL enable_seqscan = off")
                .execute(&mut tx)
                .await?;
            let rows: Vec<(String,)> = bind_all(Query::new(format!("EXPLAIN {sql}")))
                .fetch_all(&mut tx)
                .await?;
            rows.into_iter().map(|row| row.0).collect()
        }
    };
    tx.commit().await?;
    Ok(lines.join("\n"))
}

/// What deleting asked-for generations did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    /// Removed, with their images.
    pub deleted: Vec<String>,
    /// Still running: their final write would bring them back, so they are kept.
    pub running: Vec<String>,
    /// Not the account's, or no such generation.
    pub missing: Vec<String>,
}

/// Deletes `ids` among `user_id`'s generations that have ended. The usage they counted stays
/// (rollups and account totals are never refunded).
pub async fn delete_history(db: &Db, user_id: &str, ids: &[String]) -> Result<Deleted, DbError> {
    let mut outcome = Deleted::default();
    let mut tx = db.begin().await?;
    for chunk in ids.chunks(200) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let list = placeholders.join(", ");
        let mut select = Query::new(format!(
            "SELECT id, status FROM generations WHERE user_id = $1 AND id IN ({list})"
        ))
        .bind(user_id);
        for id in chunk {
            select = select.bind(id.as_str());
        }
        let found: Vec<(String, String)> = select.fetch_all(&mut tx).await?;
        let mut ended = Vec::new();
        for id in chunk {
            match found.iter().find(|(found, _)| found == id) {
                Some((_, status)) if status == "pending" => outcome.running.push(id.clone()),
                Some(_) if !ended.contains(id) => ended.push(id.clone()),
                Some(_) => {}
                None => outcome.missing.push(id.clone()),
            }
        }
        if ended.is_empty() {
            continue;
        }
        let placeholders: Vec<String> = (0..ended.len()).map(|i| format!("${}", i + 2)).collect();
        let mut delete = Query::new(format!(
            "DELETE FROM generations WHERE user_id = $1 AND status <> 'pending' AND id IN ({})",
            placeholders.join(", ")
        ))
        .bind(user_id);
        for id in &ended {
            delete = delete.bind(id.as_str());
        }
        delete.execute(&mut tx).await?;
        outcome.deleted.extend(ended);
    }
    tx.commit().await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_plain_words() {
        assert_eq!(
            search_words("  Rust's \"borrow\" checker* OR -x NEAR(a) ü"),
            [
                "rust", "s", "borrow", "checker", "or", "x", "near", "a", "ü"
            ][..MAX_SEARCH_WORDS]
        );
        assert!(search_words("*** ''' ()").is_empty());
        assert_eq!(
            match_expression(Backend::Sqlite, &search_words("hello wor")),
            "\"hello\"* AND \"wor\"*"
        );
        assert_eq!(
            match_expression(Backend::Postgres, &search_words("hello wor")),
            "hello:* & wor:*"
        );
    }
}
