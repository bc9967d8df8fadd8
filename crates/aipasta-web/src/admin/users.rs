//! `/api/admin/users` and `/api/admin/settings`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use aipasta_core::account::{Role, Subscription, UserStatus};
use aipasta_store::Query as Sql;
use aipasta_store::accounts::{self, UserRow};

use crate::api::{Failure, Success, ok};
use crate::auth::{Access, Caller, Routes};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .api(Access::Admin, routes!(list))
        .api(Access::Admin, routes!(update))
        .api(Access::Admin, routes!(settings))
        .api(Access::Admin, routes!(put_settings))
}

/// An account, as an admin sees it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AdminUser {
    id: String,
    email: String,
    name: String,
    /// `user`, `moderator` or `admin`.
    role: String,
    /// `active`, `suspended` or `deleted`.
    status: String,
    /// `free`, `pro` or `enterprise`.
    subscription: String,
    /// The account's own monthly token limit; `null` when it has the system default.
    monthly_limit: Option<i64>,
    /// Tokens used this month.
    tokens_used: i64,
    total_generations: i64,
    /// Unix milliseconds.
    created_at: i64,
    /// The last sign-in (Unix milliseconds), if any.
    last_login: Option<i64>,
}

impl From<&UserRow> for AdminUser {
    fn from(user: &UserRow) -> AdminUser {
        AdminUser {
            id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role.clone(),
            status: user.status.clone(),
            subscription: user.subscription.clone(),
            monthly_limit: user.monthly_token_limit,
            tokens_used: user.tokens_used,
            total_generations: user.total_generations,
            created_at: user.created_at,
            last_login: user.last_login_at,
        }
    }
}

/// A page of accounts: the envelope with `pagination` beside `data`.
#[derive(Serialize, ToSchema)]
struct AdminUserList {
    /// Always `true`.
    success: bool,
    /// Newest first.
    data: Vec<AdminUser>,
    pagination: AdminPagination,
}

/// Where a page is in the whole list.
#[derive(Serialize, ToSchema)]
struct AdminPagination {
    /// This page's number, from 1.
    current: i64,
    /// How many pages there are.
    pages: i64,
    /// How many items there are.
    total: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// The page, from 1 (default 1).
    page: Option<i64>,
    /// Accounts per page, 1 to 100 (default 50).
    limit: Option<i64>,
}

/// List accounts
///
/// Every account, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/admin/users",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of accounts.", body = AdminUserList),
        (status = 400, description = "`page` or `limit` out of range (`invalid_parameter`).", body = Failure),
    ),
)]

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
    Ok(Json(AdminUserList {
        success: true,
        data: users.iter().map(AdminUser::from).collect(),
        pagination: AdminPagination {
            current: page,
            pages: (total + limit - 1) / limit,
            total,
        },
    })
    .into_response())
}

/// What to change in an account; absent fields keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AdminUserChange {
    /// `user`, `moderator` or `admin`.
    role: Option<String>,
    /// `active`, `suspended` or `deleted`.
    status: Option<String>,
    /// `free`, `pro` or `enterprise`.
    subscription: Option<String>,
    /// A number, or `null` for the system default.
    #[serde(default, deserialize_with = "serde_with_null::deserialize")]
    #[schema(value_type = Option<i64>, minimum = 0)]
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

/// Change an account
///
/// Changes an account's role, status, tier and monthly token limit. Every field is checked
/// before anything is written, then all of them are written in one statement: a refused field
/// changes nothing. An admin cannot remove their own admin role nor suspend themselves.
#[utoipa::path(
    put,
    path = "/api/admin/users/{id}",
    params(("id" = String, Path, description = "The account's id.")),
    request_body = AdminUserChange,
    responses(
        (status = 200, description = "The account as it is now.", body = Success<AdminUser>),
        (status = 400, description = "A refused field (`validation_error`); nothing was changed.", body = Failure),
        (status = 404, description = "No account has that id (`not_found`).", body = Failure),
    ),
)]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(change): Json<AdminUserChange>,
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
    Ok(ok(AdminUser::from(&updated)))
}

/// The system settings an admin can change.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AdminSettings {
    /// Tokens an account may use per month unless an admin set its own limit.
    monthly_token_limit: i64,
}

/// Read the settings
///
/// The system settings: the default monthly token limit.
#[utoipa::path(
    get,
    path = "/api/admin/settings",
    responses((status = 200, description = "The settings.", body = Success<AdminSettings>)),
)]
async fn settings(State(state): State<AppState>) -> Result<Response, ApiError> {
    let limit = accounts::monthly_token_limit_default(&state.db).await?;
    Ok(ok(AdminSettings {
        monthly_token_limit: limit,
    }))
}

/// The new settings.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AdminSettingsChange {
    /// Tokens an account may use per month unless an admin set its own limit.
    #[schema(minimum = 0)]
    monthly_token_limit: i64,
}

/// Change the settings
///
/// Sets the default monthly token limit. Allowances use it from the next generation on.
#[utoipa::path(
    put,
    path = "/api/admin/settings",
    request_body = AdminSettingsChange,
    responses(
        (status = 200, description = "The settings as they are now.", body = Success<AdminSettings>),
        (status = 400, description = "A negative limit (`validation_error`).", body = Failure),
    ),
)]
async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    Json(change): Json<AdminSettingsChange>,
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
