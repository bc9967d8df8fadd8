//! Users and their linked identities (the plan's `users.providers`).

use aipasta_core::clock::now_ms;
use aipasta_core::id::new_id;

use crate::{Db, DbError, Query};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub image: Option<String>,
    pub role: String,
    pub email_verified_at: Option<i64>,
    pub password_hash: Option<String>,
    pub theme: String,
    pub language: String,
    pub notify_email: bool,
    pub notify_push: bool,
    pub notify_new_models: bool,
    pub notify_updates: bool,
    pub default_model_id: Option<String>,
    pub total_generations: i64,
    pub tokens_used: i64,
    pub total_cost_nanos: i64,
    pub last_generation_at: Option<i64>,
    pub monthly_token_limit: Option<i64>,
    pub subscription: String,
    pub bio: Option<String>,
    pub website: Option<String>,
    pub github: Option<String>,
    pub twitter: Option<String>,
    pub public_profile: bool,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login_at: Option<i64>,
    /// Bearer JWTs issued at or before this instant (ms) are refused: a password change or a
    /// sign-out moves it to now.
    pub tokens_valid_after: i64,
    /// Percentages of the monthly token limit at which a banner warns (JSON array).
    pub usage_alerts: String,
}

pub const USER_COLUMNS: &str = "u.id, u.email, u.name, u.image, u.role, u.email_verified_at, \
u.password_hash, u.theme, u.language, u.notify_email, u.notify_push, u.notify_new_models, \
u.notify_updates, u.default_model_id, u.total_generations, u.tokens_used, u.total_cost_nanos, \
u.last_generation_at, u.monthly_token_limit, u.subscription, u.bio, u.website, u.github, \
u.twitter, u.public_profile, u.status, u.created_at, u.updated_at, u.last_login_at, \
u.tokens_valid_after, u.usage_alerts";

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub role: String,
    pub email_verified: bool,
    pub image: Option<String>,
    /// The sign-in method it was created with: (`credentials` | `github` | ..., provider user id).
    pub identity: (String, String),
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdentityRow {
    pub provider: String,
    pub provider_user_id: String,
    pub email: Option<String>,
    pub connected_at: i64,
}

/// Creates the account and its first identity in one transaction. A taken email is a unique
/// violation (`DbError::is_unique_violation`).
pub async fn create_user(db: &Db, new: &NewUser) -> Result<UserRow, DbError> {
    let now = now_ms();
    let id = new_id();
    let mut tx = db.begin().await?;
    Query::new(
        "INSERT INTO users (id, email, name, image, role, email_verified_at, password_hash, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&id)
    .bind(&new.email)
    .bind(&new.name)
    .bind(new.image.clone())
    .bind(&new.role)
    .bind(new.email_verified.then_some(now))
    .bind(new.password_hash.clone())
    .bind(now)
    .execute(&mut tx)
    .await?;
    let (provider, provider_user_id) = &new.identity;
    Query::new(
        "INSERT INTO user_identities (id, user_id, provider, provider_user_id, email, connected_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(&id)
    .bind(provider)
    .bind(provider_user_id)
    .bind(&new.email)
    .bind(now)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    find_user_by_id(db, &id)
        .await?
        .ok_or(DbError::Sqlx(sqlx::Error::RowNotFound))
}

pub async fn find_user_by_id(db: &Db, id: &str) -> Result<Option<UserRow>, DbError> {
    Query::new(format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn find_user_by_email(db: &Db, email: &str) -> Result<Option<UserRow>, DbError> {
    Query::new(format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1"
    ))
    .bind(email)
    .fetch_optional(db)
    .await
}

/// The user an external identity belongs to.
pub async fn find_identity(
    db: &Db,
    provider: &str,
    provider_user_id: &str,
) -> Result<Option<UserRow>, DbError> {
    Query::new(format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN user_identities i ON i.user_id = u.id \
         WHERE i.provider = $1 AND i.provider_user_id = $2"
    ))
    .bind(provider)
    .bind(provider_user_id)
    .fetch_optional(db)
    .await
}

/// Links an external identity to an account (idempotent).
pub async fn link_identity(
    db: &Db,
    user_id: &str,
    provider: &str,
    provider_user_id: &str,
    email: Option<&str>,
) -> Result<(), DbError> {
    Query::new(
        "INSERT INTO user_identities (id, user_id, provider, provider_user_id, email, connected_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (provider, provider_user_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(provider)
    .bind(provider_user_id)
    .bind(email)
    .bind(now_ms())
    .execute(db)
    .await
    .map(drop)
}

pub async fn list_identities(db: &Db, user_id: &str) -> Result<Vec<IdentityRow>, DbError> {
    Query::new(
        "SELECT provider, provider_user_id, email, connected_at FROM user_identities \
         WHERE user_id = $1 ORDER BY connected_at",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

pub async fn touch_last_login(db: &Db, user_id: &str) -> Result<(), DbError> {
    Query::new("UPDATE users SET last_login_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(user_id)
        .execute(db)
        .await
        .map(drop)
}

/// Sets the password and ends every bearer JWT issued until now (`tokens_valid_after`).
pub async fn set_password_hash(db: &Db, user_id: &str, hash: &str) -> Result<(), DbError> {
    let now = now_ms();
    Query::new(format!(
        "UPDATE users SET password_hash = $1, updated_at = $2, {TOKENS_VALID_AFTER_NOW} \
         WHERE id = $3"
    ))
    .bind(hash)
    .bind(now)
    .bind(user_id)
    .execute(db)
    .await
    .map(drop)?;
    db.note_account_change();
    Ok(())
}

/// Moves `tokens_valid_after` to `$2` (now), never back: a clock that stepped back must not
/// revive tokens refused already.
const TOKENS_VALID_AFTER_NOW: &str = "tokens_valid_after = CASE WHEN tokens_valid_after < $2 \
THEN $2 ELSE tokens_valid_after END";

/// Ends every bearer JWT the account was issued until now (a sign-out).
pub async fn revoke_tokens(db: &Db, user_id: &str) -> Result<(), DbError> {
    Query::new(format!(
        "UPDATE users SET {TOKENS_VALID_AFTER_NOW} WHERE id = $1"
    ))
    .bind(user_id)
    .bind(now_ms())
    .execute(db)
    .await
    .map(drop)?;
    db.note_account_change();
    Ok(())
}

pub async fn set_role(db: &Db, user_id: &str, role: &str) -> Result<(), DbError> {
    Query::new("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3")
        .bind(role)
        .bind(now_ms())
        .bind(user_id)
        .execute(db)
        .await
        .map(drop)?;
    db.note_account_change();
    Ok(())
}

pub async fn set_status(db: &Db, user_id: &str, status: &str) -> Result<(), DbError> {
    Query::new("UPDATE users SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status)
        .bind(now_ms())
        .bind(user_id)
        .execute(db)
        .await
        .map(drop)?;
    db.note_account_change();
    Ok(())
}

/// Sets an account's monthly token limit (`None`: the system default) and subscription tier.
pub async fn set_usage_limits(
    db: &Db,
    user_id: &str,
    monthly_limit: Option<i64>,
    subscription: &str,
) -> Result<(), DbError> {
    Query::new("UPDATE users SET monthly_token_limit = $1, subscription = $2, updated_at = $3 WHERE id = $4")
        .bind(monthly_limit)
        .bind(subscription)
        .bind(now_ms())
        .bind(user_id)
        .execute(db)
        .await
        .map(drop)?;
    db.note_account_change();
    Ok(())
}

/// What an admin changes about an account at once; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    pub role: Option<String>,
    pub status: Option<String>,
    pub subscription: Option<String>,
    /// `Some(None)` puts the account back on the system's default monthly limit.
    pub monthly_token_limit: Option<Option<i64>>,
}

/// Applies `change` as one statement, so it lands whole or not at all: a value the database
/// refuses leaves every field as it was.
pub async fn change_account(db: &Db, user_id: &str, change: &AccountChange) -> Result<(), DbError> {
    let mut columns: Vec<(&'static str, crate::Value)> = Vec::new();
    for (column, value) in [
        ("role", &change.role),
        ("status", &change.status),
        ("subscription", &change.subscription),
    ] {
        if let Some(value) = value {
            columns.push((column, value.clone().into()));
        }
    }
    if let Some(limit) = change.monthly_token_limit {
        columns.push(("monthly_token_limit", limit.into()));
    }
    update_columns(db, user_id, columns).await?;
    db.note_account_change();
    Ok(())
}

pub async fn count_admins(db: &Db) -> Result<i64, DbError> {
    Query::new("SELECT COUNT(*) FROM users WHERE role = 'admin' AND status = 'active'")
        .fetch_scalar(db)
        .await
}

/// The profile fields a person edits; `None` leaves a field as it is, `Some("")` clears it.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub name: Option<String>,
    pub image: Option<String>,
    pub bio: Option<String>,
    pub website: Option<String>,
    pub github: Option<String>,
    pub twitter: Option<String>,
    pub public_profile: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct PreferencesUpdate {
    pub theme: Option<String>,
    pub language: Option<String>,
    pub notify_email: Option<bool>,
    pub notify_push: Option<bool>,
    pub notify_new_models: Option<bool>,
    pub notify_updates: Option<bool>,
    /// `Some(None)` clears the default model.
    pub default_model_id: Option<Option<String>>,
    /// Percentages of the monthly limit to be warned at, ascending.
    pub usage_alerts: Option<Vec<i64>>,
}

fn optional_text(value: &Option<String>) -> Option<Option<String>> {
    value.as_ref().map(|v| {
        let trimmed = v.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    })
}

async fn update_columns(
    db: &Db,
    user_id: &str,
    columns: Vec<(&'static str, crate::Value)>,
) -> Result<(), DbError> {
    if columns.is_empty() {
        return Ok(());
    }
    let mut sql = String::from("UPDATE users SET ");
    for (i, (column, _)) in columns.iter().enumerate() {
        sql.push_str(&format!("{column} = ${}, ", i + 1));
    }
    sql.push_str(&format!(
        "updated_at = ${} WHERE id = ${}",
        columns.len() + 1,
        columns.len() + 2
    ));
    let query = columns
        .into_iter()
        .fold(Query::new(sql), |q, (_, v)| q.bind(v));
    query
        .bind(now_ms())
        .bind(user_id)
        .execute(db)
        .await
        .map(drop)
}

pub async fn update_profile(db: &Db, user_id: &str, update: &ProfileUpdate) -> Result<(), DbError> {
    let mut columns: Vec<(&'static str, crate::Value)> = Vec::new();
    if let Some(name) = &update.name {
        columns.push(("name", name.clone().into()));
    }
    for (column, value) in [
        ("image", &update.image),
        ("bio", &update.bio),
        ("website", &update.website),
        ("github", &update.github),
        ("twitter", &update.twitter),
    ] {
        if let Some(value) = optional_text(value) {
            columns.push((column, value.into()));
        }
    }
    if let Some(public) = update.public_profile {
        columns.push(("public_profile", public.into()));
    }
    update_columns(db, user_id, columns).await?;
    db.note_account_change();
    Ok(())
}

pub async fn update_preferences(
    db: &Db,
    user_id: &str,
    update: &PreferencesUpdate,
) -> Result<(), DbError> {
    let mut columns: Vec<(&'static str, crate::Value)> = Vec::new();
    if let Some(theme) = &update.theme {
        columns.push(("theme", theme.clone().into()));
    }
    if let Some(language) = &update.language {
        columns.push(("language", language.clone().into()));
    }
    for (column, value) in [
        ("notify_email", update.notify_email),
        ("notify_push", update.notify_push),
        ("notify_new_models", update.notify_new_models),
        ("notify_updates", update.notify_updates),
    ] {
        if let Some(value) = value {
            columns.push((column, value.into()));
        }
    }
    if let Some(model) = &update.default_model_id {
        columns.push(("default_model_id", model.clone().into()));
    }
    if let Some(alerts) = &update.usage_alerts {
        let json = serde_json::to_string(alerts).unwrap_or_else(|_| "[]".into());
        columns.push(("usage_alerts", json.into()));
    }
    update_columns(db, user_id, columns).await?;
    db.note_account_change();
    Ok(())
}

/// Erases an account (the plan's GDPR deletion): its generations, keys, sessions, presets,
/// favourites, shares and identities go with it (foreign keys cascade or are cleared); the
/// audit log keeps its entries without the actor.
pub async fn delete_account(db: &Db, user_id: &str) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    Query::new("DELETE FROM generations WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut tx)
        .await?;
    let deleted = Query::new("DELETE FROM users WHERE id = $1")
        .bind(user_id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    db.note_account_change();
    Ok(deleted > 0)
}
