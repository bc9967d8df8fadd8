//! Writing generations in batches: rows, images and every counter they feed, in one
//! transaction, so a batch is either wholly recorded or (on error) wholly retried.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use aipasta_core::clock::now_ms;
use aipasta_core::id::new_id;

use super::{GENERATION_COLUMN_COUNT, GENERATION_COLUMNS, GenerationRow};
use crate::{Backend, Db, DbError, Query, Tx};

/// One write of a generation's row: when it starts (`finished: None`) and when it ends.
#[derive(Debug, Clone)]
pub struct GenerationWrite {
    pub row: GenerationRow,
    /// Set once, on the write that ends the generation: it moves the counters.
    pub finished: Option<Finished>,
}

/// What only the final write carries.
#[derive(Debug, Clone, Default)]
pub struct Finished {
    /// Generated images as `(mime type, bytes)`, in order.
    pub images: Vec<(String, Vec<u8>)>,
}

/// Rows per `INSERT`, by backend. PostgreSQL gains from fewer round trips. SQLite runs in
/// process, and binding by `$N` makes SQLite look each name up among all of the statement's
/// parameters (`sqlite3_bind_parameter_name`, linear), so a 50-row statement spent more time
/// binding than writing: one row per statement (prepared once per connection) is cheapest.
fn rows_per_insert(db: &Db) -> usize {
    match db.backend() {
        Backend::Sqlite => 1,
        Backend::Postgres => MAX_ROWS_PER_INSERT,
    }
}

const MAX_ROWS_PER_INSERT: usize = 50;

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
    for chunk in latest.chunks(rows_per_insert(db)) {
        upsert_rows(&mut tx, chunk).await?;
    }
    let finished: Vec<&GenerationWrite> = writes.iter().filter(|w| w.finished.is_some()).collect();
    insert_images(&mut tx, &finished).await?;
    update_counters(&mut tx, &finished).await?;
    tx.commit().await
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

/// The upsert of `rows` generations in one statement. Built once per row count and kept for
/// the process (at most [`MAX_ROWS_PER_INSERT`] statements): formatting it for every write was
/// a twentieth of the gateway's CPU on SQLite, where each statement holds one row.
fn upsert_sql(rows: usize) -> &'static str {
    static STATEMENTS: Mutex<BTreeMap<usize, &'static str>> = Mutex::new(BTreeMap::new());
    let mut statements = STATEMENTS.lock().unwrap_or_else(PoisonError::into_inner);
    statements.entry(rows).or_insert_with(|| {
        let values: Vec<String> = (0..rows)
            .map(|r| {
                let first = r * GENERATION_COLUMN_COUNT;
                let slots: Vec<String> = (1..=GENERATION_COLUMN_COUNT)
                    .map(|c| format!("${}", first + c))
                    .collect();
                format!("({})", slots.join(", "))
            })
            .collect();
        // Everything but the id and the creation time follows the latest write.
        let updates: Vec<String> = GENERATION_COLUMNS
            .split(", ")
            .filter(|c| !matches!(*c, "id" | "created_at"))
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        let sql = format!(
            "INSERT INTO generations ({GENERATION_COLUMNS}) VALUES {} ON CONFLICT (id) DO UPDATE SET {}",
            values.join(", "),
            updates.join(", ")
        );
        // Bounded: one statement per row count, and row counts never exceed the chunk size.
        Box::leak(sql.into_boxed_str())
    })
}

async fn upsert_rows(tx: &mut Tx, rows: &[&GenerationRow]) -> Result<(), DbError> {
    debug_assert!(rows.len() <= MAX_ROWS_PER_INSERT);
    let mut query = Query::new(upsert_sql(rows.len()));
    for row in rows {
        query = query
            .bind(&row.id)
            .bind(row.user_id.clone())
            .bind(row.model_id.clone())
            .bind(row.session_id.clone())
            .bind(&row.source)
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
            .bind(row.updated_at);
    }
    query.execute(&mut *tx).await?;
    Ok(())
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

#[derive(Default)]
struct Rollup {
    generations: i64,
    errors: i64,
    prompt_tokens: i64,
    completion_tokens: i64,
    cost_nanos: i64,
    duration_ms: i64,
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
    let mut daily: BTreeMap<(i64, &str, &str), Rollup> = BTreeMap::new();
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
                let rollup = daily.entry((day, user_id, model_id)).or_default();
                rollup.generations += 1;
                rollup.errors += i64::from(failed);
                rollup.prompt_tokens += row.prompt_tokens;
                rollup.completion_tokens += row.completion_tokens;
                rollup.cost_nanos += row.cost_nanos;
                rollup.duration_ms += row.duration_ms.unwrap_or(0);
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
    for ((day, user_id, model_id), r) in daily {
        Query::new(
            "INSERT INTO usage_daily (day, user_id, model_id, generations, errors, prompt_tokens, \
             completion_tokens, cost_nanos, total_duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (day, user_id, model_id) DO UPDATE SET \
             generations = usage_daily.generations + excluded.generations, \
             errors = usage_daily.errors + excluded.errors, \
             prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens, \
             completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens, \
             cost_nanos = usage_daily.cost_nanos + excluded.cost_nanos, \
             total_duration_ms = usage_daily.total_duration_ms + excluded.total_duration_ms",
        )
        .bind(day)
        .bind(user_id)
        .bind(model_id)
        .bind(r.generations)
        .bind(r.errors)
        .bind(r.prompt_tokens)
        .bind(r.completion_tokens)
        .bind(r.cost_nanos)
        .bind(r.duration_ms)
        .execute(&mut *tx)
        .await?;
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
        let rate = (m.judged > 0).then(|| m.successes as f64 / m.judged as f64);
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
