//! Named parameter presets an account saves for the playground (`parameter_presets`).

use aipasta_core::clock::now_ms;
use aipasta_core::id::new_id;

use crate::{Db, DbError, Query};

/// One saved preset.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PresetRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// JSON object of parameters.
    pub parameters: String,
    pub system_prompt: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, user_id, name, parameters, system_prompt, created_at, updated_at";

/// An account's presets, by name.
pub async fn list_presets(db: &Db, user_id: &str) -> Result<Vec<PresetRow>, DbError> {
    Query::new(format!(
        "SELECT {COLUMNS} FROM parameter_presets WHERE user_id = $1 ORDER BY name, id"
    ))
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// One of the account's presets (another account's id finds nothing).
pub async fn find_preset(db: &Db, user_id: &str, id: &str) -> Result<Option<PresetRow>, DbError> {
    Query::new(format!(
        "SELECT {COLUMNS} FROM parameter_presets WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// Saves a new preset; a name the account already uses is a unique violation
/// (`DbError::is_unique_violation`).
pub async fn create_preset(
    db: &Db,
    user_id: &str,
    name: &str,
    parameters_json: &str,
    system_prompt: Option<&str>,
) -> Result<PresetRow, DbError> {
    let id = new_id();
    let now = now_ms();
    Query::new(
        "INSERT INTO parameter_presets (id, user_id, name, parameters, system_prompt, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(name)
    .bind(parameters_json)
    .bind(system_prompt)
    .bind(now)
    .execute(db)
    .await?;
    Query::new(format!(
        "SELECT {COLUMNS} FROM parameter_presets WHERE id = $1"
    ))
    .bind(&id)
    .fetch_one(db)
    .await
}

/// Replaces a preset's name, parameters and system prompt; `None` when the account has no
/// preset with that id.
pub async fn update_preset(
    db: &Db,
    user_id: &str,
    id: &str,
    name: &str,
    parameters_json: &str,
    system_prompt: Option<&str>,
) -> Result<Option<PresetRow>, DbError> {
    let changed = Query::new(
        "UPDATE parameter_presets SET name = $1, parameters = $2, system_prompt = $3, \
         updated_at = $4 WHERE id = $5 AND user_id = $6",
    )
    .bind(name)
    .bind(parameters_json)
    .bind(system_prompt)
    .bind(now_ms())
    .bind(id)
    .bind(user_id)
    .execute(db)
    .await?;
    if changed == 0 {
        return Ok(None);
    }
    find_preset(db, user_id, id).await
}

/// Deletes one of the account's presets; false when it has none with that id.
pub async fn delete_preset(db: &Db, user_id: &str, id: &str) -> Result<bool, DbError> {
    let changed = Query::new("DELETE FROM parameter_presets WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(changed > 0)
}
