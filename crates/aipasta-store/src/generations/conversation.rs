//! One chat conversation read whole: every turn of a session, oldest first, as the history's
//! detail page shows it. Each turn is one generation; what it asked is its prompt or, when the
//! prompt went as messages, its last message (the messages before it are the earlier turns,
//! already shown by their own generations).

use super::history::last_message;
use crate::{Db, DbError, Query};

/// One turn of a conversation: what was asked and what was answered.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConversationTurn {
    /// The turn's generation.
    pub id: String,
    pub model_id: Option<String>,
    /// The turn's own message: its prompt, or the last message it sent.
    pub asked: String,
    pub output_content: String,
    /// `pending`, `success`, `error`, `timeout`, `cancelled` or `interrupted`.
    pub status: String,
    pub error_message: Option<String>,
    pub created_at: i64,
}

/// `user_id`'s generations of one session (conversation), oldest first, at most `limit`.
/// Another account's session, or an unknown one, has no turns.
pub async fn session_generations(
    db: &Db,
    user_id: &str,
    session_id: &str,
    limit: i64,
) -> Result<Vec<ConversationTurn>, DbError> {
    Query::new(format!(
        "SELECT g.id, g.model_id, \
         CASE WHEN g.prompt <> '' THEN g.prompt ELSE COALESCE({last}, '') END AS asked, \
         g.output_content, g.status, g.error_message, g.created_at \
         FROM generations g WHERE g.user_id = $1 AND g.session_id = $2 \
         ORDER BY g.created_at ASC, g.id ASC LIMIT $3",
        last = last_message(db.backend()),
    ))
    .bind(user_id)
    .bind(session_id)
    .bind(limit.max(0))
    .fetch_all(db)
    .await
}
