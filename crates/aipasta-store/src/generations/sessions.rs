//! The playground's reads over generations: an account's conversations (generations grouped by
//! `session_id`), one conversation's latest turn, and the models it used most recently.

use super::{GENERATION_COLUMNS, GenerationRow};
use crate::catalog::ModelRow;
use crate::catalog::{MODEL_COLUMNS, MODEL_FROM};
use crate::{Db, DbError, Query};

/// One conversation in an account's list.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SessionSummary {
    pub session_id: String,
    pub model_id: Option<String>,
    /// The first turn's messages (JSON), for a title.
    pub first_messages: String,
    /// The first turn's prompt (text mode), for a title.
    pub first_prompt: String,
    pub turns: i64,
    pub last_at: i64,
}

/// An account's conversations, the most recently active first.
pub async fn list_sessions(
    db: &Db,
    user_id: &str,
    limit: i64,
) -> Result<Vec<SessionSummary>, DbError> {
    let mut rows: Vec<SessionSummary> = Query::new(
        "SELECT g.session_id, g.model_id, g.messages AS first_messages, g.prompt AS first_prompt, \
         s.turns, s.last_at FROM generations g \
         JOIN (SELECT session_id, COUNT(*) AS turns, MIN(created_at) AS first_at, \
               MAX(created_at) AS last_at FROM generations \
               WHERE user_id = $1 AND session_id IS NOT NULL GROUP BY session_id) s \
           ON s.session_id = g.session_id AND g.created_at = s.first_at \
         WHERE g.user_id = $1 ORDER BY s.last_at DESC, g.session_id LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.dedup_by(|a, b| a.session_id == b.session_id);
    Ok(rows)
}

/// The latest answered turn (finished or stopped) of one of the account's conversations: its
/// messages hold every earlier turn.
pub async fn latest_in_session(
    db: &Db,
    user_id: &str,
    session_id: &str,
) -> Result<Option<GenerationRow>, DbError> {
    Query::new(format!(
        "SELECT {GENERATION_COLUMNS} FROM generations WHERE user_id = $1 AND session_id = $2 \
         AND status IN ('success', 'cancelled') ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
    .bind(user_id)
    .bind(session_id)
    .fetch_optional(db)
    .await
}

/// The models an account generated with, the most recently used first.
pub async fn recent_models(db: &Db, user_id: &str, limit: i64) -> Result<Vec<ModelRow>, DbError> {
    Query::new(format!(
        "SELECT {MODEL_COLUMNS} FROM {MODEL_FROM} \
         JOIN (SELECT model_id, MAX(created_at) AS last_at FROM generations \
               WHERE user_id = $1 AND model_id IS NOT NULL GROUP BY model_id) r \
           ON r.model_id = m.id \
         WHERE m.is_active = TRUE AND m.status <> 'deprecated' \
         ORDER BY r.last_at DESC, m.slug LIMIT $2"
    ))
    .bind(user_id)
    .bind(limit)
    .fetch_all(db)
    .await
}
