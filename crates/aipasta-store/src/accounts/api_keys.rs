//! Personal API keys. Only a SHA-256 of each key is stored; the prefix identifies it in lists.

use aipasta_core::clock::now_ms;
use aipasta_core::id::new_id;

use super::users::{USER_COLUMNS, UserRow};
use crate::{Db, DbError, Query};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub prefix: String,
    /// JSON array of scope names.
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const KEY_COLUMNS: &str = "k.id, k.user_id, k.name, k.prefix, k.scopes, k.created_at, k.last_used_at, k.expires_at, k.revoked_at";

pub async fn create_api_key(
    db: &Db,
    user_id: &str,
    name: &str,
    prefix: &str,
    key_hash: &str,
    scopes_json: &str,
    expires_at: Option<i64>,
) -> Result<ApiKeyRow, DbError> {
    let id = new_id();
    Query::new(
        "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(name)
    .bind(prefix)
    .bind(key_hash)
    .bind(scopes_json)
    .bind(now_ms())
    .bind(expires_at)
    .execute(db)
    .await?;
    Query::new(format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.id = $1"
    ))
    .bind(&id)
    .fetch_one(db)
    .await
}

/// The account's keys that are not revoked, newest first.
pub async fn list_api_keys(db: &Db, user_id: &str) -> Result<Vec<ApiKeyRow>, DbError> {
    Query::new(format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.user_id = $1 AND k.revoked_at IS NULL \
         ORDER BY k.created_at DESC"
    ))
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Revokes one of the account's keys; false when it has no live key with that id.
pub async fn revoke_api_key(db: &Db, user_id: &str, key_id: &str) -> Result<bool, DbError> {
    let changed = Query::new(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(key_id)
    .bind(user_id)
    .execute(db)
    .await?;
    db.note_account_change();
    Ok(changed > 0)
}

/// The live key with this hash and its active owner; records the use.
pub async fn find_api_key(
    db: &Db,
    key_hash: &str,
) -> Result<Option<(ApiKeyRow, UserRow)>, DbError> {
    let now = now_ms();
    let key: Option<ApiKeyRow> = Query::new(format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.key_hash = $1 AND k.revoked_at IS NULL \
         AND (k.expires_at IS NULL OR k.expires_at > $2)"
    ))
    .bind(key_hash)
    .bind(now)
    .fetch_optional(db)
    .await?;
    let Some(key) = key else {
        return Ok(None);
    };
    let user: Option<UserRow> = Query::new(format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.status = 'active'"
    ))
    .bind(&key.user_id)
    .fetch_optional(db)
    .await?;
    // Only once a minute, so a busy key does not write on every request; decided here, since
    // even an UPDATE that changes nothing takes SQLite's write lock.
    let stale = key.last_used_at.is_none_or(|at| at < now - 60_000);
    if user.is_some() && stale {
        Query::new(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now)
        .bind(&key.id)
        .bind(now - 60_000)
        .execute(db)
        .await?;
    }
    Ok(user.map(|user| (key, user)))
}
