//! `user_provider_keys`: a user's own key for each built-in provider, removed with the account.

use std::fmt;

use aipasta_core::clock::now_ms;

use super::SealedKey;
use crate::{Db, DbError, Query};

/// The providers a user can store a key for.
pub const USER_KEY_PROVIDERS: [&str; 2] = ["openrouter", "huggingface"];

/// A stored key, sealed: for calling the provider on the user's behalf.
#[derive(Clone, sqlx::FromRow)]
pub struct UserProviderKeyRow {
    pub user_id: String,
    pub provider: String,
    pub api_key_sealed: String,
    pub api_key_hint: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl fmt::Debug for UserProviderKeyRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserProviderKeyRow")
            .field("user_id", &self.user_id)
            .field("provider", &self.provider)
            .field("api_key_sealed", &"[SEALED]")
            .field("api_key_hint", &self.api_key_hint)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// What a user's key list shows: which providers have a key, and its hint.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserKeyHint {
    pub provider: String,
    pub api_key_hint: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Stores (or replaces) the user's key for `provider` (one of [`USER_KEY_PROVIDERS`]; any other
/// value fails the table's check).
pub async fn set_user_key(
    db: &Db,
    user_id: &str,
    provider: &str,
    key: &SealedKey,
) -> Result<UserProviderKeyRow, DbError> {
    Query::new(
        "INSERT INTO user_provider_keys (user_id, provider, api_key_sealed, api_key_hint, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (user_id, provider) DO UPDATE SET api_key_sealed = $3, api_key_hint = $4, \
         updated_at = $5",
    )
    .bind(user_id)
    .bind(provider)
    .bind(&key.sealed)
    .bind(&key.hint)
    .bind(now_ms())
    .execute(db)
    .await?;
    find_user_key(db, user_id, provider)
        .await?
        .ok_or(DbError::Sqlx(sqlx::Error::RowNotFound))
}

pub async fn find_user_key(
    db: &Db,
    user_id: &str,
    provider: &str,
) -> Result<Option<UserProviderKeyRow>, DbError> {
    Query::new(
        "SELECT user_id, provider, api_key_sealed, api_key_hint, created_at, updated_at \
         FROM user_provider_keys WHERE user_id = $1 AND provider = $2",
    )
    .bind(user_id)
    .bind(provider)
    .fetch_optional(db)
    .await
}

/// Removes the user's key for `provider`; false when there was none.
pub async fn delete_user_key(db: &Db, user_id: &str, provider: &str) -> Result<bool, DbError> {
    let deleted = Query::new("DELETE FROM user_provider_keys WHERE user_id = $1 AND provider = $2")
        .bind(user_id)
        .bind(provider)
        .execute(db)
        .await?;
    Ok(deleted > 0)
}

/// The user's keys as hints only, by provider.
pub async fn list_user_keys(db: &Db, user_id: &str) -> Result<Vec<UserKeyHint>, DbError> {
    Query::new(
        "SELECT provider, api_key_hint, created_at, updated_at FROM user_provider_keys \
         WHERE user_id = $1 ORDER BY provider",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}
