//! Writing generations in batches: rows, images and every counter they feed, in one
//! transaction, so a batch is either wholly recorded or not at all (the recorder then retries
//! it, or writes it write by write when the database rejects it).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use aipasta_core::clock::now_ms;
use aipasta_core::id::new_id;

use super::{GENERATION_COLUMNS, GenerationRow, UsageFigures};
use crate::query::nul_free;
use crate::{Backend, Db, DbError, Query, Tx};

/// One write of a generation's row: when it starts (`finished: None`) and when it ends.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GenerationWrite {
    pub row: GenerationRow,
    /// Set once, on the write that ends the generation: it moves the counters.
    pub finished: Option<Finished>,
}

/// What only the final write carries.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Finished {
    /// Generated images as `(mime type, bytes)`, in order (base64 in the spill file).
    #[serde(with = "images_as_base64")]
    pub images: Vec<(String, Vec<u8>)>,
}

/// PostgreSQL: the most rows (and, roughly, the most bytes of text) in one upsert: a batch of
/// long prompts is written in several statements rather than one huge message.
const MAX_ROWS_PER_UPSERT: usize = 512;
const MAX_TEXT_PER_UPSERT: usize = 4 << 20;

/// How much one generation moves a model's moving averages: the weight of the past after one
/// more sample. 0.95 makes the figures follow roughly the last 20–60 generations.
const MOVING_AVERAGE_KEEP: f64 = 0.95;

const MS_PER_DAY: i64 = 86_400_000;

/// Records a batch of writes in one transaction. Several writes of one generation collapse
/// into its last (a generation that started and ended within the batch is one insert).
pub async fn write_batch(db: &Db, writes: &[GenerationWrite]) -> Result<(), DbError> {
    if writes.is_empty() {
        return Ok(());
    }
    let latest = collapse(writes);
    let mut tx = db.begin().await?;
    upsert_rows(&mut tx, db.backend(), &latest).await?;
    let finished: Vec<&GenerationWrite> = writes.iter().filter(|w| w.finished.is_some()).collect();
    insert_images(&mut tx, &finished).await?;
    update_counters(&mut tx, &finished).await?;
    tx.commit().await
}

/// Which of a row's references name a row that no longer exists: an account or a model deleted
/// while the generation ran, before its row was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MissingReferences {
    pub account: bool,
    pub model: bool,
}

/// Looks up the account and the model `row` names.
pub async fn missing_references(
    db: &Db,
    row: &GenerationRow,
) -> Result<MissingReferences, DbError> {
    async fn missing(db: &Db, table: &str, id: Option<&str>) -> Result<bool, DbError> {
        let Some(id) = id else {
            return Ok(false);
        };
        let found: Option<(String,)> = Query::new(format!("SELECT id FROM {table} WHERE id = $1"))
            .bind(id)
            .fetch_optional(db)
            .await?;
        Ok(found.is_none())
    }
    Ok(MissingReferences {
        account: missing(db, "users", row.user_id.as_deref()).await?,
        model: missing(db, "models", row.model_id.as_deref()).await?,
    })
}

/// The last row of each generation, in the order the generations first appear.
fn collapse(writes: &[GenerationWrite]) -> Vec<&GenerationRow> {
    let mut order: Vec<&str> = Vec::new();
    let mut last: HashMap<&str, &GenerationRow> = HashMap::new();
    for write in writes {
        let id = write.row.id.as_str();
        if last.insert(id, &write.row).is_none() {
            order.push(id);
        }
    }
    order
        .iter()
        .filter_map(|id| last.get(id).copied())
        .collect()
}

/// Upserts `rows` in as few statements as is cheap for the backend. One statement per row, as
/// before, cost far more than the rows themselves: sqlx's SQLite driver hands each statement to
/// its worker thread and waits for the answer (two thread wake-ups), and PostgreSQL pays a round
/// trip per statement.
async fn upsert_rows(
    tx: &mut Tx,
    backend: Backend,
    rows: &[&GenerationRow],
) -> Result<(), DbError> {
    match backend {
        Backend::Sqlite => upsert_rows_sqlite(tx, rows).await,
        Backend::Postgres => upsert_rows_postgres(tx, rows).await,
    }
}

/// Row counts of the SQLite statements, largest first: a batch is cut greedily into these, so a
/// connection prepares (and caches) at most four statements. 64 rows hold 1,920 parameters,
/// well below SQLite's limit of 32,766.
const SQLITE_CHUNKS: [usize; 4] = [64, 16, 4, 1];

/// SQLite: multi-row `VALUES` with anonymous `?` parameters. sqlx binds a `$N` parameter by
/// asking SQLite its name, a linear search among the statement's named parameters, which made
/// a 50-row statement cost more to bind than to run; `?` parameters are bound by position.
async fn upsert_rows_sqlite(tx: &mut Tx, mut rows: &[&GenerationRow]) -> Result<(), DbError> {
    static STATEMENTS: LazyLock<[String; SQLITE_CHUNKS.len()]> = LazyLock::new(|| {
        SQLITE_CHUNKS.map(|rows| {
            let row = format!("({})", vec!["?"; columns().count()].join(", "));
            format!(
                "INSERT INTO generations ({GENERATION_COLUMNS}) VALUES {} {}",
                vec![row; rows].join(", "),
                on_conflict()
            )
        })
    });
    while !rows.is_empty() {
        // The last size is 1, so some size always fits.
        let level = SQLITE_CHUNKS
            .iter()
            .position(|size| *size <= rows.len())
            .unwrap_or(SQLITE_CHUNKS.len() - 1);
        let (chunk, rest) = rows.split_at(SQLITE_CHUNKS[level].min(rows.len()));
        let mut query = Query::new(STATEMENTS[level].as_str());
        for row in chunk {
            query = bind_row(query, row);
        }
        query.execute(&mut *tx).await?;
        rows = rest;
    }
    Ok(())
}

fn bind_row(query: Query, row: &GenerationRow) -> Query {
    query
        .bind(&row.id)
        .bind(row.user_id.clone())
        .bind(row.model_id.clone())
        .bind(row.session_id.clone())
        .bind(&row.source)
        .bind(&row.mode)
        .bind(&row.prompt)
        .bind(row.system_prompt.clone())
        .bind(&row.messages)
        .bind(&row.parameters)
        .bind(&row.output_content)
        .bind(row.finish_reason.clone())
        .bind(row.prompt_tokens)
        .bind(row.completion_tokens)
        .bind(row.total_tokens)
        .bind(row.duration_ms)
        .bind(row.time_to_first_token_ms)
        .bind(row.cost_nanos)
        .bind(row.provider.clone())
        .bind(row.model_version.clone())
        .bind(row.provider_generation_id.clone())
        .bind(row.ip_address.clone())
        .bind(row.user_agent.clone())
        .bind(&row.status)
        .bind(row.error_code.clone())
        .bind(row.error_message.clone())
        .bind(row.error_details.clone())
        .bind(&row.visibility)
        .bind(row.created_at)
        .bind(row.updated_at)
}

/// PostgreSQL: each column travels as one binary array and `UNNEST` turns the arrays back into
/// rows: one round trip per statement, nothing to escape or parse. (A JSON array of row objects
/// unpacked by `json_populate_recordset`, as before, cost the server a JSON parse and a hash
/// table per row, and this process a JSON encoding and two copies of it.)
async fn upsert_rows_postgres(tx: &mut Tx, rows: &[&GenerationRow]) -> Result<(), DbError> {
    // Each array's type (text[] or int8[]) travels with its bind, so the SQL needs no casts.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let arrays: Vec<String> = (1..=columns().count()).map(|n| format!("${n}")).collect();
        format!(
            "INSERT INTO generations ({GENERATION_COLUMNS}) SELECT * FROM UNNEST({}) {}",
            arrays.join(", "),
            on_conflict()
        )
    });
    let Some(connection) = tx.postgres() else {
        return Err(DbError::Sqlx(sqlx::Error::Protocol(
            "a PostgreSQL upsert on a SQLite transaction".into(),
        )));
    };
    let mut rest = rows;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rows_per_statement(rest));
        bind_columns(sqlx::query(SQL.as_str()), chunk)
            .execute(&mut *connection)
            .await?;
        rest = tail;
    }
    Ok(())
}

/// How many of `rows` (at least one) go into the next statement: at most
/// [`MAX_ROWS_PER_UPSERT`], and no more once they hold [`MAX_TEXT_PER_UPSERT`] bytes of text.
fn rows_per_statement(rows: &[&GenerationRow]) -> usize {
    let mut bytes = 0;
    for (index, row) in rows.iter().take(MAX_ROWS_PER_UPSERT).enumerate() {
        if index > 0 && bytes >= MAX_TEXT_PER_UPSERT {
            return index;
        }
        bytes += row.prompt.len()
            + row.messages.len()
            + row.output_content.len()
            + row.system_prompt.as_deref().map_or(0, str::len)
            + row.error_details.as_deref().map_or(0, str::len);
    }
    rows.len().min(MAX_ROWS_PER_UPSERT)
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Binds one array per column, in the order of `GENERATION_COLUMNS`.
fn bind_columns<'q>(query: PgQuery<'q>, rows: &[&'q GenerationRow]) -> PgQuery<'q> {
    let text = |field: fn(&GenerationRow) -> &str| -> Vec<Cow<'q, str>> {
        rows.iter().map(|row| nul_free(field(row))).collect()
    };
    let optional_text = |field: fn(&GenerationRow) -> Option<&str>| -> Vec<Option<Cow<'q, str>>> {
        rows.iter().map(|row| field(row).map(nul_free)).collect()
    };
    let integer = |field: fn(&GenerationRow) -> i64| -> Vec<i64> {
        rows.iter().map(|row| field(row)).collect()
    };
    let optional_integer = |field: fn(&GenerationRow) -> Option<i64>| -> Vec<Option<i64>> {
        rows.iter().map(|row| field(row)).collect()
    };
    query
        .bind(text(|r| &r.id))
        .bind(optional_text(|r| r.user_id.as_deref()))
        .bind(optional_text(|r| r.model_id.as_deref()))
        .bind(optional_text(|r| r.session_id.as_deref()))
        .bind(text(|r| &r.source))
        .bind(text(|r| &r.mode))
        .bind(text(|r| &r.prompt))
        .bind(optional_text(|r| r.system_prompt.as_deref()))
        .bind(text(|r| &r.messages))
        .bind(text(|r| &r.parameters))
        .bind(text(|r| &r.output_content))
        .bind(optional_text(|r| r.finish_reason.as_deref()))
        .bind(integer(|r| r.prompt_tokens))
        .bind(integer(|r| r.completion_tokens))
        .bind(integer(|r| r.total_tokens))
        .bind(optional_integer(|r| r.duration_ms))
        .bind(optional_integer(|r| r.time_to_first_token_ms))
        .bind(integer(|r| r.cost_nanos))
        .bind(optional_text(|r| r.provider.as_deref()))
        .bind(optional_text(|r| r.model_version.as_deref()))
        .bind(optional_text(|r| r.provider_generation_id.as_deref()))
        .bind(optional_text(|r| r.ip_address.as_deref()))
        .bind(optional_text(|r| r.user_agent.as_deref()))
        .bind(text(|r| &r.status))
        .bind(optional_text(|r| r.error_code.as_deref()))
        .bind(optional_text(|r| r.error_message.as_deref()))
        .bind(optional_text(|r| r.error_details.as_deref()))
        .bind(text(|r| &r.visibility))
        .bind(integer(|r| r.created_at))
        .bind(integer(|r| r.updated_at))
}

fn columns() -> impl Iterator<Item = &'static str> {
    GENERATION_COLUMNS.split(", ")
}

/// Everything but the id and the creation time follows the latest write.
fn on_conflict() -> String {
    let updates: Vec<String> = columns()
        .filter(|c| !matches!(*c, "id" | "created_at"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!("ON CONFLICT (id) DO UPDATE SET {}", updates.join(", "))
}

async fn insert_images(tx: &mut Tx, finished: &[&GenerationWrite]) -> Result<(), DbError> {
    let now = now_ms();
    for write in finished {
        let Some(done) = &write.finished else {
            continue;
        };
        for (position, (mime_type, bytes)) in done.images.iter().enumerate() {
            Query::new(
                "INSERT INTO generation_assets (id, generation_id, position, mime_type, bytes, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(new_id())
            .bind(&write.row.id)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(mime_type)
            .bind(bytes.clone())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

/// The figures of a rollup row and the columns that hold them, in bind order.
const ROLLUP_FIGURES: [&str; 6] = [
    "generations",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "cost_nanos",
    "total_duration_ms",
];

/// The upsert that adds a batch's figures to `table`'s row keyed by the text columns `keys`
/// and `day`: built once per table, not per row written.
fn rollup_upsert_sql(table: &str, keys: &[&str]) -> String {
    let placeholders: Vec<String> = (1..=keys.len() + 1 + ROLLUP_FIGURES.len())
        .map(|n| format!("${n}"))
        .collect();
    let sums: Vec<String> = ROLLUP_FIGURES
        .iter()
        .map(|f| format!("{f} = {table}.{f} + excluded.{f}"))
        .collect();
    format!(
        "INSERT INTO {table} ({keys}, day, {figures}) VALUES ({placeholders}) \
         ON CONFLICT ({keys}, day) DO UPDATE SET {sums}",
        keys = keys.join(", "),
        figures = ROLLUP_FIGURES.join(", "),
        placeholders = placeholders.join(", "),
        sums = sums.join(", "),
    )
}

/// Adds `r` to the rollup row that `sql` (from [`rollup_upsert_sql`]) names by `keys` and
/// `day`, creating it.
async fn upsert_rollup(
    tx: &mut Tx,
    sql: &'static str,
    keys: &[&str],
    day: i64,
    r: &UsageFigures,
) -> Result<(), DbError> {
    let statement = keys
        .iter()
        .fold(Query::new(sql), |statement, key| statement.bind(*key));
    statement
        .bind(day)
        .bind(r.generations)
        .bind(r.errors)
        .bind(r.prompt_tokens)
        .bind(r.completion_tokens)
        .bind(r.cost_nanos)
        .bind(r.total_duration_ms)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

#[derive(Default)]
struct UserTotals {
    generations: i64,
    tokens: i64,
    cost_nanos: i64,
    last_at: i64,
}

#[derive(Default)]
struct ModelTraffic {
    generations: i64,
    /// Successful generations and their summed durations, for the latency average.
    successes: i64,
    success_duration_ms: i64,
    /// Generations that count for the success rate (a cancelled one says nothing about it).
    judged: i64,
}

async fn update_counters(tx: &mut Tx, finished: &[&GenerationWrite]) -> Result<(), DbError> {
    let mut daily: BTreeMap<(&str, i64, &str, &str), UsageFigures> = BTreeMap::new();
    let mut users: BTreeMap<&str, UserTotals> = BTreeMap::new();
    let mut models: BTreeMap<&str, ModelTraffic> = BTreeMap::new();
    for write in finished {
        let row = &write.row;
        let failed = matches!(row.status.as_str(), "error" | "timeout" | "interrupted");
        if let Some(model_id) = row.model_id.as_deref() {
            let traffic = models.entry(model_id).or_default();
            traffic.generations += 1;
            if row.status == "success" {
                traffic.successes += 1;
                traffic.success_duration_ms += row.duration_ms.unwrap_or(0);
            }
            if row.status != "cancelled" {
                traffic.judged += 1;
            }
            if let Some(user_id) = row.user_id.as_deref() {
                let day = row.created_at.div_euclid(MS_PER_DAY);
                let key = (user_id, day, model_id, row.source.as_str());
                let rollup = daily.entry(key).or_default();
                rollup.generations += 1;
                rollup.errors += i64::from(failed);
                rollup.prompt_tokens += row.prompt_tokens;
                rollup.completion_tokens += row.completion_tokens;
                rollup.cost_nanos += row.cost_nanos;
                rollup.total_duration_ms += row.duration_ms.unwrap_or(0);
            }
        }
        if let Some(user_id) = row.user_id.as_deref() {
            let totals = users.entry(user_id).or_default();
            totals.generations += 1;
            totals.tokens += row.prompt_tokens + row.completion_tokens;
            totals.cost_nanos += row.cost_nanos;
            totals.last_at = totals.last_at.max(row.updated_at);
        }
    }
    // The rollups by source, then the same summed over sources (what the charts read).
    static BY_SOURCE: LazyLock<String> =
        LazyLock::new(|| rollup_upsert_sql("usage_days", &["user_id", "model_id", "source"]));
    static BY_MODEL: LazyLock<String> =
        LazyLock::new(|| rollup_upsert_sql("usage_model_days", &["user_id", "model_id"]));
    let mut by_model: BTreeMap<(&str, i64, &str), UsageFigures> = BTreeMap::new();
    for ((user_id, day, model_id, source), r) in daily {
        by_model
            .entry((user_id, day, model_id))
            .or_default()
            .add(&r);
        upsert_rollup(
            tx,
            BY_SOURCE.as_str(),
            &[user_id, model_id, source],
            day,
            &r,
        )
        .await?;
    }
    for ((user_id, day, model_id), r) in by_model {
        upsert_rollup(tx, BY_MODEL.as_str(), &[user_id, model_id], day, &r).await?;
    }
    for (user_id, t) in users {
        Query::new(
            "UPDATE users SET total_generations = total_generations + $1, \
             tokens_used = tokens_used + $2, total_cost_nanos = total_cost_nanos + $3, \
             last_generation_at = CASE WHEN last_generation_at IS NULL OR last_generation_at < $4 \
             THEN $4 ELSE last_generation_at END WHERE id = $5",
        )
        .bind(t.generations)
        .bind(t.tokens)
        .bind(t.cost_nanos)
        .bind(t.last_at)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    }
    for (model_id, m) in models {
        let latency = (m.successes > 0).then(|| m.success_duration_ms / m.successes);
        let latency_keep = MOVING_AVERAGE_KEEP.powi(i32::try_from(m.successes).unwrap_or(i32::MAX));
        let rate = (m.judged > 0).then(|| 100.0 * m.successes as f64 / m.judged as f64);
        let rate_keep = MOVING_AVERAGE_KEEP.powi(i32::try_from(m.judged).unwrap_or(i32::MAX));
        Query::new(
            "UPDATE models SET generation_count = generation_count + $1, \
             average_latency_ms = CASE WHEN $2 IS NULL THEN average_latency_ms \
               WHEN average_latency_ms IS NULL THEN $2 \
               ELSE CAST(ROUND(average_latency_ms * $3 + $2 * (1.0 - $3)) AS BIGINT) END, \
             success_rate = CASE WHEN $4 IS NULL THEN success_rate \
               WHEN success_rate IS NULL THEN $4 \
               ELSE success_rate * $5 + $4 * (1.0 - $5) END \
             WHERE id = $6",
        )
        .bind(m.generations)
        .bind(latency)
        .bind(latency_keep)
        .bind(rate)
        .bind(rate_keep)
        .bind(model_id)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Images as `[[mime type, base64], ...]` in the spill file, not as arrays of numbers.
mod images_as_base64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        images: &[(String, Vec<u8>)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let encoded: Vec<(&str, String)> = images
            .iter()
            .map(|(mime, bytes)| (mime.as_str(), STANDARD.encode(bytes)))
            .collect();
        encoded.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<(String, Vec<u8>)>, D::Error> {
        let encoded = Vec::<(String, String)>::deserialize(deserializer)?;
        encoded
            .into_iter()
            .map(|(mime, text)| {
                STANDARD
                    .decode(text)
                    .map(|bytes| (mime, bytes))
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}
