//! Browser sign-in sessions. The cookie carries a random token; the row's id is the token's
//! SHA-256, so a leaked database cannot be replayed as cookies.

use aipasta_core::clock::now_ms;

use super::users::{USER_COLUMNS, UserRow};
use crate::{Db, DbError, Query};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub csrf_token: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

const SESSION_COLUMNS: &str = "s.id, s.user_id, s.csrf_token, s.ip_address, s.user_agent, s.created_at, s.last_seen_at, s.expires_at";

pub async fn create_session(
    db: &Db,
    token_hash: &str,
    user_id: &str,
    csrf_token: &str,
    ip: Option<&str>,
    user_agent: Option<&str>,
    expires_at: i64,
) -> Result<(), DbError> {
    let now = now_ms();
    Query::new(
        "INSERT INTO auth_sessions (id, user_id, csrf_token, ip_address, user_agent, created_at, \
         last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf_token)
    .bind(ip)
    .bind(user_agent.map(|ua| ua.chars().take(400).collect::<String>()))
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await
    .map(drop)
}

/// The live session with this token hash and its active user; expired sessions and
/// suspended or deleted accounts find nothing.
pub async fn find_session(
    db: &Db,
    token_hash: &str,
) -> Result<Option<(SessionRow, UserRow)>, DbError> {
    // Two lookups by primary key: the rows share column names (id, created_at), so one joined
    // row could not be decoded into both.
    let session: Option<SessionRow> = Query::new(format!(
        "SELECT {SESSION_COLUMNS} FROM auth_sessions s WHERE s.id = $1 AND s.expires_at > $2"
    ))
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(db)
    .await?;
    let Some(session) = session else {
        return Ok(None);
    };
    let user: Option<UserRow> = Query::new(format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.status = 'active'"
    ))
    .bind(&session.user_id)
    .fetch_optional(db)
    .await?;
    Ok(user.map(|user| (session, user)))
}

/// Records activity and slides the expiry forward.
pub async fn touch_session(db: &Db, token_hash: &str, expires_at: i64) -> Result<(), DbError> {
    Query::new("UPDATE auth_sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3")
        .bind(now_ms())
        .bind(expires_at)
        .bind(token_hash)
        .execute(db)
        .await
        .map(drop)
}

/// An account's live sessions, most recent first.
pub async fn list_sessions(db: &Db, user_id: &str) -> Result<Vec<SessionRow>, DbError> {
    Query::new(format!(
        "SELECT {SESSION_COLUMNS} FROM auth_sessions s WHERE s.user_id = $1 AND s.expires_at > $2 \
         ORDER BY s.last_seen_at DESC"
    ))
    .bind(user_id)
    .bind(now_ms())
    .fetch_all(db)
    .await
}

/// Ends one of the account's sessions; false when it has none with that id.
pub async fn revoke_session(db: &Db, user_id: &str, session_id: &str) -> Result<bool, DbError> {
    let deleted = Query::new("DELETE FROM auth_sessions WHERE id = $1 AND user_id = $2")
        .bind(session_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(deleted > 0)
}

/// Ends every session of the account except `keep` (all of them when `None`).
pub async fn revoke_other_sessions(
    db: &Db,
    user_id: &str,
    keep: Option<&str>,
) -> Result<u64, DbError> {
    Query::new("DELETE FROM auth_sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .execute(db)
        .await
}

pub async fn delete_expired_sessions(db: &Db) -> Result<u64, DbError> {
    Query::new("DELETE FROM auth_sessions WHERE expires_at <= $1")
        .bind(now_ms())
        .execute(db)
        .await
}
