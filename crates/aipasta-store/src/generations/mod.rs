//! Generations: one row per call to a model (playground, API, `/v1`, compare, batch), its
//! images, and the counters fed from them (daily usage rollups, the account's totals, the
//! model's latency and success rate).
//!
//! Rows are written by the engine's recorder in batches ([`write_batch`]): a generation's row
//! is upserted when it starts (`pending`) and again when it ends, and a batch that holds both
//! writes only the last. Counters move only when a generation ends, in the same transaction.

mod conversation;
mod history;
mod runs;
mod sessions;
pub mod spill;
mod usage;
mod write;

pub use conversation::{ConversationTurn, session_generations};
#[cfg(feature = "testing")]
pub use history::explain_history;
pub use history::{
    Deleted, HISTORY_EXCERPT_CHARS, HistoryCursor, HistoryItem, HistoryPage, HistoryQuery,
    HistoryRecord, HistorySort, MAX_EXPORT_PAGE, MAX_HISTORY_PAGE, SearchWord, delete_history,
    history_page, history_records, search_words,
};
pub use runs::{RUN_EXCERPT_CHARS, RunSummary, recent_runs};
pub use sessions::{SessionSummary, latest_in_session, list_sessions, recent_models};
pub use usage::{
    ModelUse, UsageDay, UsageFigures, UsageSplit, count_models_used, models_used, usage_by_day,
    usage_total,
};

pub use write::{Finished, GenerationWrite, MissingReferences, missing_references, write_batch};

use aipasta_core::clock::now_ms;

use crate::{Db, DbError, Query};

/// One generation as stored, every column. `Default` is for tests that care about a few
/// columns; the engine sets every one.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct GenerationRow {
    pub id: String,
    pub user_id: Option<String>,
    pub model_id: Option<String>,
    pub session_id: Option<String>,
    pub source: String,
    /// What was asked: `chat`, `text`, `code`, `image`, `summarize`, `translate` or `embed`.
    #[serde(default = "default_mode")]
    pub mode: String,
    pub prompt: String,
    pub system_prompt: Option<String>,
    /// JSON `[{role, content}]`.
    pub messages: String,
    /// JSON object of the parameters sent.
    pub parameters: String,
    pub output_content: String,
    pub finish_reason: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    pub duration_ms: Option<i64>,
    pub time_to_first_token_ms: Option<i64>,
    pub cost_nanos: i64,
    pub provider: Option<String>,
    pub model_version: Option<String>,
    pub provider_generation_id: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    /// `pending`, `success`, `error`, `timeout`, `cancelled` or `interrupted`.
    pub status: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub error_details: Option<String>,
    pub visibility: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Rows spilled before the mode was recorded replay as chat, as the migration reads them.
fn default_mode() -> String {
    "chat".into()
}

pub(crate) const GENERATION_COLUMNS: &str = "id, user_id, model_id, session_id, source, mode, \
prompt, system_prompt, messages, parameters, output_content, finish_reason, prompt_tokens, \
completion_tokens, total_tokens, duration_ms, time_to_first_token_ms, cost_nanos, provider, \
model_version, provider_generation_id, ip_address, user_agent, status, error_code, \
error_message, error_details, visibility, created_at, updated_at";

/// One generation by id.
pub async fn find_generation(db: &Db, id: &str) -> Result<Option<GenerationRow>, DbError> {
    Query::new(format!(
        "SELECT {GENERATION_COLUMNS} FROM generations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// One of `user_id`'s generations by id; `None` for another account's.
pub async fn find_user_generation(
    db: &Db,
    user_id: &str,
    id: &str,
) -> Result<Option<GenerationRow>, DbError> {
    Query::new(format!(
        "SELECT {GENERATION_COLUMNS} FROM generations WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// An account's generations, newest first.
pub async fn list_user_generations(
    db: &Db,
    user_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<GenerationRow>, DbError> {
    Query::new(format!(
        "SELECT {GENERATION_COLUMNS} FROM generations WHERE user_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(user_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// One image of a generation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AssetRow {
    pub id: String,
    pub generation_id: String,
    pub position: i64,
    pub mime_type: String,
    pub bytes: Vec<u8>,
    pub created_at: i64,
}

/// The image at `position` (0 first) of a generation.
pub async fn find_asset(
    db: &Db,
    generation_id: &str,
    position: i64,
) -> Result<Option<AssetRow>, DbError> {
    Query::new(
        "SELECT id, generation_id, position, mime_type, bytes, created_at FROM generation_assets \
         WHERE generation_id = $1 AND position = $2",
    )
    .bind(generation_id)
    .bind(position)
    .fetch_optional(db)
    .await
}

/// How many images a generation has.
pub async fn count_assets(db: &Db, generation_id: &str) -> Result<i64, DbError> {
    Query::new("SELECT COUNT(*) FROM generation_assets WHERE generation_id = $1")
        .bind(generation_id)
        .fetch_scalar(db)
        .await
}

/// Tokens (prompt and completion) an account used on and after `since_day` (days since the
/// epoch, UTC), from the daily rollups.
pub async fn tokens_used_since(db: &Db, user_id: &str, since_day: i64) -> Result<i64, DbError> {
    Query::new(
        "SELECT CAST(COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS BIGINT) \
         FROM usage_model_days WHERE user_id = $1 AND day >= $2",
    )
    .bind(user_id)
    .bind(since_day)
    .fetch_scalar(db)
    .await
}

/// Marks `pending` rows as `interrupted`: rows whose last write is older than `stale_before`
/// (ms since the epoch), or every pending row when `None`. A pending row is a generation whose
/// task died with its process; a running generation refreshes its row (see the engine), so a
/// shared database can tell the two apart.
pub async fn mark_interrupted(db: &Db, stale_before: Option<i64>) -> Result<u64, DbError> {
    let now = now_ms();
    Query::new(
        "UPDATE generations SET status = 'interrupted', updated_at = $1, \
         error_code = 'interrupted', \
         error_message = 'The server stopped while this generation was running.' \
         WHERE status = 'pending' AND updated_at < $2",
    )
    .bind(now)
    .bind(stale_before.unwrap_or(i64::MAX))
    .execute(db)
    .await
}

/// Refreshes `updated_at` of running generations, so a sweep does not take them for orphans.
pub async fn touch_pending(db: &Db, ids: &[String]) -> Result<(), DbError> {
    let now = now_ms();
    for chunk in ids.chunks(200) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let mut query = Query::new(format!(
            "UPDATE generations SET updated_at = $1 WHERE status = 'pending' AND id IN ({})",
            placeholders.join(", ")
        ))
        .bind(now);
        for id in chunk {
            query = query.bind(id);
        }
        query.execute(db).await?;
    }
    Ok(())
}
