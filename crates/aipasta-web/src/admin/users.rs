//! `/api/admin/users` and `/api/admin/settings`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use aipasta_core::account::{Role, Subscription, UserStatus};
use aipasta_store::Query as Sql;
use aipasta_store::accounts::{self, UserRow};

use crate::auth::{Access, Caller, Routes};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/admin/users", Access::Admin, list)
        .put("/api/admin/users/{id}", Access::Admin, update)
        .get("/api/admin/settings", Access::Admin, settings)
        .put("/api/admin/settings", Access::Admin, put_settings)
}

fn user_json(user: &UserRow) -> Value {
    json!({
        "id": user.id, "email": user.email, "name": user.name, "role": user.role,
        "status": user.status, "subscription": user.subscription,
        "monthlyLimit": user.monthly_token_limit, "tokensUsed": user.tokens_used,
        "totalGenerations": user.total_generations, "createdAt": user.created_at,
        "lastLogin": user.last_login_at,
    })
}

#[derive(Deserialize)]
struct ListQuery {
    page: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(50);
    let page = query.page.unwrap_or(1);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "`limit` must be between 1 and 100",
        ));
    }
    if page < 1 {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "`page` must be 1 or more",
        ));
    }
    let total: i64 = Sql::new("SELECT COUNT(*) FROM users")
        .fetch_scalar(&state.db)
        .await?;
    let users: Vec<UserRow> = Sql::new(format!(
        "SELECT {} FROM users u ORDER BY u.created_at DESC LIMIT $1 OFFSET $2",
        accounts::USER_COLUMNS
    ))
    .bind(limit)
    .bind((page - 1) * limit)
    .fetch_all(&state.db)
    .await?;
    Ok(Json(json!({
        "success": true,
        "data": users.iter().map(user_json).collect::<Vec<_>>(),
        "pagination": { "current": page, "pages": (total + limit - 1) / limit, "total": total },
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserChange {
    role: Option<String>,
    status: Option<String>,
    subscription: Option<String>,
    /// A number, or `null` for the system default.
    #[serde(default, deserialize_with = "serde_with_null::deserialize")]
    monthly_limit: Option<Option<i64>>,
}

/// Distinguishes an absent field from an explicit `null`.
mod serde_with_null {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<i64>>, D::Error> {
        Option::<i64>::deserialize(deserializer).map(Some)
    }
}

/// Changes an account's role, status, tier and limit. Every field is checked before anything
/// is written, then all of them are written in one statement: a refused field changes nothing.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(change): Json<UserChange>,
) -> Result<Response, ApiError> {
    let Some(user) = accounts::find_user_by_id(&state.db, &id).await? else {
        return Err(ApiError::not_found("No user has that id."));
    };
    let refuse = |message: &str| ApiError::bad_request("validation_error", message);
    let role = match &change.role {
        Some(text) => {
            let role = Role::parse(text)
                .ok_or_else(|| refuse("`role` must be user, moderator or admin"))?;
            if user.id == caller.id() && role != Role::Admin {
                return Err(refuse("You cannot remove your own admin role."));
            }
            Some(role.as_str().to_owned())
        }
        None => None,
    };
    let status = match &change.status {
        Some(text) => {
            let status = UserStatus::parse(text)
                .ok_or_else(|| refuse("`status` must be active, suspended or deleted"))?;
            if user.id == caller.id() && status != UserStatus::Active {
                return Err(refuse("You cannot suspend yourself."));
            }
            Some(status.as_str().to_owned())
        }
        None => None,
    };
    let subscription = match &change.subscription {
        Some(text) => Some(
            Subscription::parse(text)
                .ok_or_else(|| refuse("`subscription` must be free, pro or enterprise"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    if let Some(Some(limit)) = change.monthly_limit
        && limit < 0
    {
        return Err(refuse("`monthlyLimit` cannot be negative"));
    }
    let account_change = accounts::AccountChange {
        role,
        status,
        subscription,
        monthly_token_limit: change.monthly_limit,
    };
    accounts::change_account(&state.db, &user.id, &account_change).await?;
    let updated = accounts::find_user_by_id(&state.db, &user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("No user has that id."))?;
    Ok(Json(json!({ "success": true, "data": user_json(&updated) })).into_response())
}

async fn settings(State(state): State<AppState>) -> Result<Response, ApiError> {
    let limit = accounts::monthly_token_limit_default(&state.db).await?;
    Ok(Json(json!({ "success": true, "data": { "monthlyTokenLimit": limit } })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettingsChange {
    monthly_token_limit: i64,
}

async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    Json(change): Json<SettingsChange>,
) -> Result<Response, ApiError> {
    if change.monthly_token_limit < 0 {
        return Err(ApiError::bad_request(
            "validation_error",
            "`monthlyTokenLimit` cannot be negative",
        ));
    }
    accounts::set_setting(
        &state.db,
        accounts::MONTHLY_TOKEN_LIMIT_KEY,
        &change.monthly_token_limit.to_string(),
        "number",
        "ai",
        "Tokens an account may use per month unless an admin set its own limit",
        Some(caller.id()),
    )
    .await?;
    // Allowances use the new default from the next generation on.
    state.engine.changed(aipasta_engine::Change::Limits);
    settings(State(state)).await
}
