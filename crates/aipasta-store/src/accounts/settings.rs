//! System settings (the plan's SystemSettings collection) that accounts depend on.

use aipasta_core::clock::now_ms;

use crate::{Db, DbError, Query};

pub const MONTHLY_TOKEN_LIMIT_KEY: &str = "usage.monthly_token_limit";
/// The plan's default monthly token limit for an account.
pub const DEFAULT_MONTHLY_TOKEN_LIMIT: i64 = 10_000;

/// The monthly token limit accounts get unless an admin set theirs.
pub async fn monthly_token_limit_default(db: &Db) -> Result<i64, DbError> {
    let value: Option<(String,)> = Query::new("SELECT value FROM system_settings WHERE key = $1")
        .bind(MONTHLY_TOKEN_LIMIT_KEY)
        .fetch_optional(db)
        .await?;
    Ok(value
        .and_then(|(v,)| v.trim().parse::<i64>().ok())
        .unwrap_or(DEFAULT_MONTHLY_TOKEN_LIMIT))
}

/// Sets a setting's JSON value, creating it when missing.
pub async fn set_setting(
    db: &Db,
    key: &str,
    value_json: &str,
    value_type: &str,
    category: &str,
    description: &str,
    updated_by: Option<&str>,
) -> Result<(), DbError> {
    let now = now_ms();
    Query::new(
        "INSERT INTO system_settings (key, value, value_type, description, category, updated_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (key) DO UPDATE SET value = $2, updated_by = $6, updated_at = $7",
    )
    .bind(key)
    .bind(value_json)
    .bind(value_type)
    .bind(description)
    .bind(category)
    .bind(updated_by)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}
