//! An account's history: its generations of every mode and source, filtered, searched, sorted
//! by time, cost, tokens or duration, and read a page at a time from a cursor.
//!
//! Every order has an index `(user_id, <sort key>, id)` (migration 10), and a page resumes
//! after the last row it showed (`(sort key, id)` strictly past the cursor), so page 10,000
//! costs what page 1 does. Full-text search reads SQLite's FTS5 table or PostgreSQL's GIN index
//! on the same text: the prompt, the last message and the output (their first 50,000
//! characters each), matched word by word: whole words, or any word that starts with one written
//! with a `*` after it.

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
    /// Each chat conversation once, as its latest turn (whose messages hold the earlier
    /// ones). Ignored by a search, which lists every turn it finds.
    pub conversations: bool,
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

/// A word of a search, as the full-text engines take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchWord {
    /// Lower-cased letters and digits only, so nothing in it is syntax to either engine.
    pub text: String,
    /// Written with a `*` right after it: any word that starts with it matches. Otherwise only
    /// the whole word does, which the engines find without gathering every document that has a
    /// word with that start.
    pub prefix: bool,
}

/// The words of a search: runs of letters and digits, each a whole word unless a `*` follows
/// it. Empty when the text has no word.
pub fn search_words(text: &str) -> Vec<SearchWord> {
    let mut words = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(char::is_alphanumeric) {
        let from_start = &rest[start..];
        let end = from_start
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(from_start.len());
        let word = &from_start[..end];
        rest = &from_start[end..];
        words.push(SearchWord {
            text: word
                .chars()
                .take(MAX_SEARCH_WORD_CHARS)
                .collect::<String>()
                .to_lowercase(),
            prefix: rest.starts_with('*'),
        });
        if words.len() == MAX_SEARCH_WORDS {
            break;
        }
    }
    words
}

/// The account's token in SQLite's `generations_fts.owner` (migration 11 writes it as
/// `'u' || replace(user_id, '-', '')`).
fn owner_token(user_id: &str) -> String {
    format!("u{}", user_id.replace('-', ""))
}

/// Every word, in the backend's query language; on SQLite, only among `user_id`'s documents.
fn match_expression(backend: Backend, user_id: &str, words: &[SearchWord]) -> String {
    match backend {
        Backend::Sqlite => {
            // The owner token goes in as a quoted string: whatever an id holds, it is text.
            let owner = owner_token(user_id).replace('"', "\"\"");
            let mut terms = vec![format!("owner : \"{owner}\"")];
            terms.extend(words.iter().map(|word| {
                let star = if word.prefix { "*" } else { "" };
                format!("{{input output}} : \"{}\"{star}", word.text)
            }));
            terms.join(" AND ")
        }
        Backend::Postgres => words
            .iter()
            .map(|word| {
                let star = if word.prefix { ":*" } else { "" };
                format!("{}{star}", word.text)
            })
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
    words: &[SearchWord],
    columns: Columns,
) -> (String, Vec<Bind>) {
    let mut binds = Vec::new();
    /// Adds a bind and answers its placeholder.
    fn next(bind: Bind, binds: &mut Vec<Bind>) -> String {
        binds.push(bind);
        format!("${}", binds.len())
    }
    // A search on PostgreSQL names the account in the SQL, as it does its words (see below):
    // a generic plan takes every account for an average one, and a busy account's rows for
    // few, and then intersects the GIN index's handful of matches with a bitmap of every row
    // the account has (47 ms for a rare word at 200,000 rows, instead of 2).
    let user = if backend == Backend::Postgres && !words.is_empty() {
        format!("'{}'", user_id.replace('\'', "''"))
    } else {
        next(Bind::Text(user_id.to_owned()), &mut binds)
    };
    // A search by time on SQLite reads FTS5's matches in the order they stream: newest
    // recorded first (migration 11), so a page costs what its rows do. Its order, and its
    // cursor, is then the order of recording (rowid), which differs from `created_at` only
    // between generations started within moments of each other.
    let recorded_order =
        backend == Backend::Sqlite && !words.is_empty() && query.sort == HistorySort::Time;
    let key = if recorded_order {
        "g.rowid"
    } else {
        query.sort.key()
    };
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
    let mut sql = if recorded_order {
        let placeholder = next(
            Bind::Text(match_expression(backend, user_id, words)),
            &mut binds,
        );
        // CROSS JOIN keeps SQLite's join order: the matches outside, each row by its rowid.
        format!(
            "SELECT {selected}, {key} AS sort_value \
             FROM generations_fts f CROSS JOIN generations g LEFT JOIN models m \
               ON m.id = g.model_id \
             WHERE generations_fts MATCH {placeholder} AND g.rowid = -f.rowid \
               AND g.user_id = {user}"
        )
    } else {
        format!(
            "SELECT {selected}, {key} AS sort_value \
             FROM generations g LEFT JOIN models m ON m.id = g.model_id \
             WHERE g.user_id = {user}"
        )
    };
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
    if query.conversations && words.is_empty() {
        // A turn is shown unless a later one of its conversation exists: one probe of
        // `generations_user_session_idx` a chat row (migration 12).
        sql.push_str(
            " AND (g.session_id IS NULL OR NOT EXISTS (SELECT 1 FROM generations later \
             WHERE later.user_id = g.user_id AND later.session_id = g.session_id \
               AND (later.created_at, later.id) > (g.created_at, g.id)))",
        );
    }
    if !words.is_empty() && !recorded_order {
        let expression = match_expression(backend, user_id, words);
        sql.push_str(&match backend {
            // Other orders need every match of the account's, then its sort index.
            Backend::Sqlite => {
                let placeholder = next(Bind::Text(expression), &mut binds);
                format!(
                    " AND g.rowid IN (SELECT -rowid FROM generations_fts \
                     WHERE generations_fts MATCH {placeholder})"
                )
            }
            // The query is written into the SQL, not bound: the plan depends on how common
            // its words are (the GIN index for rare ones, the account's newest rows for
            // common ones), and a prepared statement's generic plan, which PostgreSQL picks
            // after a few runs, cannot know (3 s for a common word at a million rows). The
            // text is letters, digits, `:*` and `&` only (`search_words`); quotes are
            // doubled all the same.
            Backend::Postgres => format!(
                " AND g.search_vector @@ to_tsquery('simple'::regconfig, '{}')",
                expression.replace('\'', "''")
            ),
        });
    }
    let (direction, past) = if query.descending {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    let rows = i64::try_from(page_size(query, columns)).unwrap_or(1);
    if recorded_order {
        // f.rowid is the rowid negated: newest first is ascending.
        let (direction, past) = if query.descending {
            ("ASC", ">")
        } else {
            ("DESC", "<")
        };
        if let Some(after) = &query.after {
            let value = next(Bind::Int(after.value), &mut binds);
            sql.push_str(&format!(" AND f.rowid {past} -{value}"));
        }
        let limit = next(Bind::Int(rows + 1), &mut binds);
        sql.push_str(&format!(" ORDER BY f.rowid {direction} LIMIT {limit}"));
    } else {
        if let Some(after) = &query.after {
            let value = next(Bind::Int(after.value), &mut binds);
            let id = next(Bind::Text(after.id.clone()), &mut binds);
            sql.push_str(&format!(" AND ({key}, g.id) {past} ({value}, {id})"));
        }
        let limit = next(Bind::Int(rows + 1), &mut binds);
        sql.push_str(&format!(
            " ORDER BY {key} {direction}, g.id {direction} LIMIT {limit}"
        ));
    }
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
    let items = read_page::<HistoryItem>(db, user_id, query, Columns::Summary).await?;
    let (items, next) = split_page(items, page_size(query, Columns::Summary), |last| {
        (last.sort_value, &last.id)
    });
    Ok(HistoryPage { items, next })
}

/// A page read with one row more than it shows: the page, and where the next one starts
/// (after its last row) when that extra row came.
fn split_page<T>(
    mut rows: Vec<T>,
    size: usize,
    key: impl Fn(&T) -> (i64, &String),
) -> (Vec<T>, Option<HistoryCursor>) {
    let more = rows.len() > size;
    rows.truncate(size);
    let next = more.then(|| rows.last()).flatten().map(|last| {
        let (value, id) = key(last);
        HistoryCursor {
            value,
            id: id.clone(),
        }
    });
    (rows, next)
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
    let words = query
        .search
        .as_deref()
        .map(search_words)
        .unwrap_or_default();
    let records: Vec<HistoryRecord> = match db.backend() {
        Backend::Sqlite => {
            let text: String = whole_rows_as_json(user_id, query, &words)
                .fetch_scalar(db)
                .await?;
            type Row = (GenerationRow, Option<String>, Option<String>, i64);
            let rows: Vec<Row> = serde_json::from_str(&text)
                .map_err(|error| DbError::Sqlx(sqlx::Error::Decode(Box::new(error))))?;
            let mut records: Vec<HistoryRecord> = rows
                .into_iter()
                .map(|(row, model_slug, model_name, sort_value)| HistoryRecord {
                    row,
                    model_slug,
                    model_name,
                    sort_value,
                })
                .collect();
            // The page's order, restored here (see `whole_rows_as_json`): the rows most
            // likely arrive in it already, which the sort only checks.
            records.sort_by(|a, b| {
                let order = (a.sort_value, &a.row.id).cmp(&(b.sort_value, &b.row.id));
                if query.descending {
                    order.reverse()
                } else {
                    order
                }
            });
            records
        }
        // PostgreSQL hands over binary rows for less than it takes to write them as JSON.
        Backend::Postgres => read_page::<HistoryRecord>(db, user_id, query, Columns::Whole).await?,
    };
    Ok(split_page(
        records,
        page_size(query, Columns::Whole),
        |last| (last.sort_value, &last.row.id),
    ))
}

/// SQLite's page of whole generations as one JSON array text, a row an array of its columns
/// in `GENERATION_COLUMNS`' order: sqlx's SQLite driver spends most of an export's time
/// handing over thirty-odd columns a row one by one (the dashboard benchmark). The aggregate
/// is not told the order: with `ORDER BY` inside it, SQLite copied every row into a sorter
/// first (a third of an export's time), though the page arrives in order; the caller sorts.
fn whole_rows_as_json(user_id: &str, query: &HistoryQuery, words: &[SearchWord]) -> Query {
    let (sql, binds) = history_sql(Backend::Sqlite, user_id, query, words, Columns::Whole);
    let columns = super::GENERATION_COLUMNS
        .split(", ")
        .map(|column| format!("r.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let row = format!("{columns}), r.model_slug, r.model_name, r.sort_value");
    bind_all(
        Query::new(format!(
            "SELECT json_group_array(json_array(json_array({row})) FROM ({sql}) r"
        )),
        binds,
    )
}

fn bind_all(mut statement: Query, binds: Vec<Bind>) -> Query {
    for bind in binds {
        statement = match bind {
            Bind::Text(text) => statement.bind(text),
            Bind::Int(value) => statement.bind(value),
        };
    }
    statement
}

fn page_size(query: &HistoryQuery, columns: Columns) -> usize {
    let max = match columns {
        Columns::Summary => MAX_HISTORY_PAGE,
        Columns::Whole => MAX_EXPORT_PAGE,
    };
    usize::try_from(query.limit.clamp(1, max)).unwrap_or(1)
}

/// Reads one page plus one row (see [`split_page`]).
async fn read_page<T: crate::DbRow>(
    db: &Db,
    user_id: &str,
    query: &HistoryQuery,
    columns: Columns,
) -> Result<Vec<T>, DbError> {
    let words = query
        .search
        .as_deref()
        .map(search_words)
        .unwrap_or_default();
    let (sql, binds) = history_sql(db.backend(), user_id, query, &words, columns);
    let statement = bind_all(Query::new(sql), binds);
    let rows: Vec<T> = if db.backend() == Backend::Postgres && !words.is_empty() {
        // PostgreSQL's default `random_page_cost` (4) prices a walk of one account's rows,
        // spread over the table, at four times a walk of every account's newest rows in the
        // table's own order, so a search of two common words walked everyone's rows (35–45 ms
        // at 10,000,000 rows) instead of the account's own (3.5–8 ms). 1.1, the value usual
        // for SSDs and cached tables, for this search only.
        let mut tx = db.begin().await?;
        Query::new(SEARCH_COSTS).execute(&mut tx).await?;
        let rows = statement.fetch_all(&mut tx).await?;
        tx.commit().await?;
        rows
    } else {
        statement.fetch_all(db).await?
    };
    Ok(rows)
}

/// How a PostgreSQL search prices reading the table (see `read_page`).
const SEARCH_COSTS: &str = "SET LOCAL random_page_cost = 1.1";

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
            // As `read_page` runs a search.
            if !words.is_empty() {
                Query::new(SEARCH_COSTS).execute(&mut tx).await?;
            }
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
    fn search_words_are_plain_words_with_an_opt_in_prefix() {
        let words = search_words("  Rust's \"borrow\" check* OR -x NEAR(a) ü");
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(
            texts,
            ["rust", "s", "borrow", "check", "or", "x", "near", "a"]
        );
        let prefixes: Vec<&str> = words
            .iter()
            .filter(|w| w.prefix)
            .map(|w| w.text.as_str())
            .collect();
        assert_eq!(prefixes, ["check"]);
        assert!(search_words("*** \'\'\' ()").is_empty());
        assert_eq!(
            match_expression(Backend::Sqlite, "01ab-cd", &search_words("Hello wor*")),
            "owner : \"u01abcd\" AND {input output} : \"hello\" AND {input output} : \"wor\"*"
        );
        assert_eq!(
            match_expression(Backend::Postgres, "01ab-cd", &search_words("hello wor*")),
            "hello & wor:*"
        );
    }
}
