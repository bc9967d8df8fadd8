//! `/api/users/...`: the caller's own profile, settings, sessions, API keys, provider keys,
//! password, export and deletion.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use aipasta_store::accounts::{self, UserRow};

use super::export::{AccountExport, export_account};
use super::service::{self, AccountFailure, ProfileInput, SettingsInput};
pub use super::views::{ADMIN_KEY_WARNING, grants_admin, key_scopes};
use super::views::{
    AccountApiKey, AccountDeleted, AccountIdentity, AccountNewApiKey, AccountPasswordChanged,
    AccountPreferences, AccountProfile, AccountProviderKey, AccountProviderKeyRemoved,
    AccountPublicProfile, AccountRevoked, AccountSession, AccountSettings, AccountUsage,
};
use crate::api::{Failure, Success, created, ok};
use crate::auth::identity::Credential;
use crate::auth::{Access, Caller, Routes};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Routes {
    use Access::{Account, User};
    Routes::new()
        .api(User, routes!(profile))
        .api(Account, routes!(put_profile))
        .api(User, routes!(settings))
        .api(Account, routes!(put_settings))
        .api(Account, routes!(list_keys, create_key))
        .api(Account, routes!(revoke_key))
        .api(Account, routes!(list_sessions))
        .api(Account, routes!(revoke_session))
        .api(Account, routes!(change_password))
        .api(Account, routes!(export))
        .api(Account, routes!(delete_account))
        .api(Account, routes!(list_provider_keys))
        .api(Account, routes!(put_provider_key, delete_provider_key))
}

impl From<AccountFailure> for ApiError {
    fn from(failure: AccountFailure) -> ApiError {
        let message = failure.message();
        match failure {
            AccountFailure::Invalid(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "validation_error", message)
            }
            AccountFailure::NotFound(_) | AccountFailure::Missing(_) => {
                ApiError::not_found(message)
            }
            AccountFailure::Forbidden(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
            }
            AccountFailure::WrongPassword => {
                ApiError::new(StatusCode::FORBIDDEN, "wrong_password", message)
            }
            AccountFailure::Internal(cause) => ApiError::internal(&cause),
        }
    }
}

/// The plan's usage block, with the limit that applies.
async fn usage(state: &AppState, user: &UserRow) -> Result<AccountUsage, ApiError> {
    let default_limit = accounts::monthly_token_limit_default(&state.db).await?;
    Ok(AccountUsage {
        total_generations: user.total_generations,
        tokens_used: user.tokens_used,
        total_cost: aipasta_core::money::Nanos(user.total_cost_nanos)
            .usd()
            .to_string(),
        last_generation: user.last_generation_at,
        monthly_limit: user.monthly_token_limit.unwrap_or(default_limit),
        subscription: user.subscription.clone(),
    })
}

/// The slugs of the account's favorite models, in their order (`preferences.favoriteModels`).
async fn favorites(state: &AppState, user_id: &str) -> Result<Vec<String>, ApiError> {
    let rows = aipasta_store::favorites::list_favorites(&state.db, user_id).await?;
    Ok(rows.into_iter().map(|row| row.slug).collect())
}

async fn fresh_user(state: &AppState, caller: &Caller) -> Result<UserRow, ApiError> {
    accounts::find_user_by_id(&state.db, caller.id())
        .await?
        .ok_or_else(|| ApiError::not_found("This account no longer exists."))
}

/// The caller's account as read now.
async fn account_profile(state: &AppState, caller: &Caller) -> Result<AccountProfile, ApiError> {
    let user = fresh_user(state, caller).await?;
    let identities = accounts::list_identities(&state.db, &user.id).await?;
    let favorites = favorites(state, &user.id).await?;
    let usage = usage(state, &user).await?;
    Ok(AccountProfile {
        providers: identities.iter().map(AccountIdentity::new).collect(),
        preferences: AccountPreferences::new(&user, favorites),
        usage,
        profile: AccountPublicProfile {
            bio: user.bio,
            website: user.website,
            github: user.github,
            twitter: user.twitter,
            public_profile: user.public_profile,
        },
        id: user.id,
        name: user.name,
        email: user.email,
        image: user.image,
        role: caller.role.as_str(),
        status: user.status,
        email_verified: user.email_verified_at,
        created_at: user.created_at,
        last_login: user.last_login_at,
    })
}

/// Your profile
///
/// Your account: name, email, role and status, how you sign in (`providers`), preferences,
/// usage with the monthly limit that applies, and your public profile.
#[utoipa::path(
    get,
    path = "/api/users/profile",
    responses(
        (status = 200, description = "Your account.", body = Success<AccountProfile>),
        (status = 404, description = "The account no longer exists (`not_found`).", body = Failure),
    ),
)]
async fn profile(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(ok(account_profile(&state, &caller).await?))
}

/// Profile fields to change, and optionally preferences.
#[derive(Deserialize, Serialize, Default, ToSchema)]
#[serde(rename_all = "camelCase", default)]
#[schema(as = AccountProfileUpdate)]
struct ProfileBody {
    #[serde(flatten)]
    profile: ProfileInput,
    /// Preferences to change too, as `PUT /api/users/settings` takes them.
    preferences: Option<SettingsInput>,
}

/// Update your profile
///
/// Changes the fields sent (the others stay as they are): name, image, bio, website, GitHub
/// and Twitter handles, whether the profile is public, and optionally `preferences`.
/// Answers the account as `GET /api/users/profile` does.
#[utoipa::path(
    put,
    path = "/api/users/profile",
    request_body = ProfileBody,
    responses(
        (status = 200, description = "Your account, updated.", body = Success<AccountProfile>),
        (status = 400, description = "A refused field (`validation_error`; the message names it).", body = Failure),
    ),
)]
async fn put_profile(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ProfileBody>,
) -> Result<Response, ApiError> {
    service::update_profile(&state, &caller.user, &body.profile).await?;
    if let Some(preferences) = &body.preferences {
        service::update_settings(&state, &caller.user, preferences).await?;
    }
    profile(State(state), caller).await
}

/// Your settings
///
/// Your preferences (theme, language, notifications, favourite models, default model) and
/// your usage with the monthly limit that applies.
#[utoipa::path(
    get,
    path = "/api/users/settings",
    responses(
        (status = 200, description = "Your preferences and usage.", body = Success<AccountSettings>),
        (status = 404, description = "The account no longer exists (`not_found`).", body = Failure),
    ),
)]
async fn settings(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let user = fresh_user(&state, &caller).await?;
    let favorites = favorites(&state, &user.id).await?;
    let usage = usage(&state, &user).await?;
    Ok(ok(AccountSettings {
        preferences: AccountPreferences::new(&user, favorites),
        usage,
    }))
}

/// Update your settings
///
/// Changes the preferences sent (the others stay as they are): `theme` (`light`, `dark`,
/// `system`), `language`, `notifications`, `defaultModel` (a model's id or slug; `""` clears
/// it). Answers the settings as `GET /api/users/settings` does.
#[utoipa::path(
    put,
    path = "/api/users/settings",
    request_body = SettingsInput,
    responses(
        (status = 200, description = "Your preferences and usage, updated.", body = Success<AccountSettings>),
        (status = 400, description = "A refused preference, or an unknown default model (`validation_error`).", body = Failure),
    ),
)]
async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SettingsInput>,
) -> Result<Response, ApiError> {
    service::update_settings(&state, &caller.user, &body).await?;
    settings(State(state), caller).await
}

/// Your API keys
///
/// Your personal API keys that are not revoked, newest first (never the keys themselves). A
/// key with the `admin` scope carries a `warning`.
#[utoipa::path(
    get,
    path = "/api/users/api-keys",
    responses((status = 200, description = "The keys.", body = Success<Vec<AccountApiKey>>)),
)]
async fn list_keys(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let keys = accounts::list_api_keys(&state.db, caller.id()).await?;
    Ok(ok(keys.iter().map(AccountApiKey::new).collect::<Vec<_>>()))
}

/// A new API key.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AccountApiKeyRequest)]
struct NewKeyBody {
    /// What the key is for, 1 to 100 characters (such as the program that will use it).
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// At least one of `read` (GET calls), `generate` (generations and other changes), `admin`
    /// (admin and moderator routes; only admins can grant it).
    #[serde(default)]
    scopes: Vec<String>,
    /// Days until the key stops working (1 to 3650); leave it out for a key that does not
    /// expire.
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<i64>,
}

/// Create an API key
///
/// A personal API key for `/api` and `/v1`, shown once. Scopes (at least one): `read` (GET
/// calls), `generate` (generations and other changes), `admin` (admin and moderator routes;
/// only admins can grant it, and the answer then carries a `warning`). At most 50 live keys.
#[utoipa::path(
    post,
    path = "/api/users/api-keys",
    request_body = NewKeyBody,
    responses(
        (status = 201, description = "The key, shown this once in `data.key`.", body = Success<AccountNewApiKey>),
        (status = 400, description = "No scope, an unknown scope, a bad name or expiry, or 50 keys already (`validation_error`; the message names the field, e.g. `scopes: ...`).", body = Failure),
        (status = 403, description = "The `admin` scope asked for by someone who is not an admin (`scopes: ...`).", body = Failure),
    ),
)]
async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewKeyBody>,
) -> Result<Response, ApiError> {
    let (key, row) = service::create_key(
        &state,
        &caller.user,
        caller.role,
        &body.name,
        &body.scopes,
        body.expires_in_days,
    )
    .await?;
    // The only time the full key is ever shown.
    Ok(created(AccountNewApiKey {
        record: AccountApiKey::new(&row),
        key,
    }))
}

/// Revoke an API key
///
/// The key stops working at once.
#[utoipa::path(
    delete,
    path = "/api/users/api-keys/{id}",
    params(("id" = String, Path, description = "The key's id.")),
    responses(
        (status = 200, description = "Revoked.", body = Success<AccountRevoked>),
        (status = 404, description = "No key of yours has that id (`not_found`).", body = Failure),
    ),
)]
async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    service::revoke_key(&state, &caller.user, &id).await?;
    Ok(ok(AccountRevoked { id, revoked: true }))
}

/// Your sessions
///
/// Your signed-in browser sessions, with the one of this request marked `current`.
#[utoipa::path(
    get,
    path = "/api/users/sessions",
    responses((status = 200, description = "The sessions.", body = Success<Vec<AccountSession>>)),
)]
async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let sessions = accounts::list_sessions(&state.db, caller.id()).await?;
    let current = caller.session_id();
    Ok(ok(sessions
        .iter()
        .map(|s| AccountSession::new(s, current))
        .collect::<Vec<_>>()))
}

/// End a session
///
/// Signs that browser session out at once.
#[utoipa::path(
    delete,
    path = "/api/users/sessions/{id}",
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "Ended.", body = Success<AccountRevoked>),
        (status = 404, description = "No session of yours has that id (`not_found`).", body = Failure),
    ),
)]
async fn revoke_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    service::revoke_session(&state, &caller.user, &id).await?;
    Ok(ok(AccountRevoked { id, revoked: true }))
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AccountPasswordChange)]
struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// Change your password
///
/// Checks the current password, sets the new one, ends every other session and every JWT
/// issued before. A caller who came with a JWT gets a new one in `data.token`.
#[utoipa::path(
    post,
    path = "/api/users/password",
    request_body = PasswordBody,
    responses(
        (status = 200, description = "Changed.", body = Success<AccountPasswordChanged>),
        (status = 400, description = "The new password breaks the policy (`validation_error`).", body = Failure),
        (status = 403, description = "The current password is wrong (`wrong_password`).", body = Failure),
    ),
)]
async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PasswordBody>,
) -> Result<Response, ApiError> {
    let ended = service::change_password(
        &state,
        &caller.user,
        caller.session_id(),
        &body.current_password,
        &body.new_password,
    )
    .await?;
    // The change ended every JWT issued before it, the caller's own included: a caller who
    // came with one gets a new one, as a browser keeps its session.
    let token = if caller.credential == Credential::Bearer {
        let changed = fresh_user(&state, &caller).await?;
        Some(crate::auth::api::jwt_for(
            &state,
            &changed,
            caller.role.as_str(),
        ))
    } else {
        None
    };
    Ok(ok(AccountPasswordChanged {
        changed: true,
        other_sessions_ended: ended,
        token,
    }))
}

/// The export as a download.
pub async fn export_response(state: &AppState, user_id: &str) -> Result<Response, ApiError> {
    let Some(data) = export_account(&state.db, user_id).await? else {
        return Err(ApiError::not_found("This account no longer exists."));
    };
    let body = serde_json::to_string_pretty(&data).unwrap_or_default();
    Ok((
        [
            (CONTENT_TYPE, "application/json"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"aipasta-export.json\"",
            ),
            // Everything stored about a person: no browser or proxy may keep a copy.
            (CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// Export your data
///
/// Everything your account owns as one JSON file to download (`aipasta-export.json`):
/// profile, settings, usage, sign-in identities, API keys (without their secrets),
/// generations, favourites and presets. Not in the envelope: the file is the document itself.
#[utoipa::path(
    get,
    path = "/api/users/export",
    responses(
        (
            status = 200,
            description = "The export, as a download.",
            content_type = "application/json",
            body = AccountExport,
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"aipasta-export.json\"`"),
                ("Cache-Control" = String, description = "`no-store`: no browser or proxy may keep a copy."),
            ),
        ),
        (status = 404, description = "The account no longer exists (`not_found`).", body = Failure),
    ),
)]
async fn export(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    export_response(&state, caller.id()).await
}

/// An account deletion, confirmed with the password.
#[derive(Deserialize, ToSchema)]
#[schema(as = AccountDeletion)]
struct DeleteBody {
    password: String,
}

/// Delete your account
///
/// Erases the account after checking the password: its generations, keys, sessions, presets,
/// favourites and identities go with it. Clears the session cookies.
#[utoipa::path(
    delete,
    path = "/api/users/account",
    request_body = DeleteBody,
    responses(
        (status = 200, description = "Deleted; the session cookies are cleared.", body = Success<AccountDeleted>),
        (status = 403, description = "The password is wrong (`wrong_password`).", body = Failure),
    ),
)]
async fn delete_account(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<DeleteBody>,
) -> Result<Response, ApiError> {
    service::delete_account(&state, &caller.user, &body.password).await?;
    let auth = &state.config.auth;
    let response = ok(AccountDeleted { deleted: true });
    Ok(crate::auth::api::respond_with_cookies(
        response,
        vec![
            auth.expired_cookie(auth.session_cookie()),
            auth.expired_cookie(auth.csrf_cookie()),
        ],
    ))
}

/// Your provider keys
///
/// Every provider you can bring your own key for (`openrouter`, `huggingface`), with the hint
/// of the key stored for it (never the key).
#[utoipa::path(
    get,
    path = "/api/users/provider-keys",
    responses((status = 200, description = "The providers and your keys' hints.", body = Success<Vec<AccountProviderKey>>)),
)]
async fn list_provider_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let keys = service::provider_keys(&state, caller.id()).await?;
    Ok(ok(keys
        .iter()
        .map(AccountProviderKey::new)
        .collect::<Vec<_>>()))
}

/// Your own key for a provider.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AccountProviderKeyUpdate)]
struct ProviderKeyBody {
    /// The provider's API key.
    api_key: Option<String>,
}

/// Store your provider key
///
/// Stores (or replaces) your own key for the provider, sealed; your generations on it use it
/// from now on, before any admin's or the environment's key. Answers its hint, never the key.
#[utoipa::path(
    put,
    path = "/api/users/provider-keys/{provider}",
    params(("provider" = String, Path, description = "`openrouter` or `huggingface`.")),
    request_body = ProviderKeyBody,
    responses(
        (status = 200, description = "Stored.", body = Success<AccountProviderKey>),
        (status = 400, description = "A key that cannot be right (`validation_error`).", body = Failure),
        (status = 404, description = "Not a provider you can add a key for (`not_found`).", body = Failure),
    ),
)]
async fn put_provider_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(provider): Path<String>,
    Json(body): Json<ProviderKeyBody>,
) -> Result<Response, ApiError> {
    let key = body.api_key.unwrap_or_default();
    let status = service::set_provider_key(&state, &caller.user, &provider, &key).await?;
    Ok(ok(AccountProviderKey::new(&status)))
}

/// Remove your provider key
///
/// Your generations on the provider go back to the admin's or the environment's key.
#[utoipa::path(
    delete,
    path = "/api/users/provider-keys/{provider}",
    params(("provider" = String, Path, description = "`openrouter` or `huggingface`.")),
    responses(
        (status = 200, description = "Removed.", body = Success<AccountProviderKeyRemoved>),
        (status = 404, description = "Not a provider you can add a key for, or no key of yours stored for it (`not_found`).", body = Failure),
    ),
)]
async fn delete_provider_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(provider): Path<String>,
) -> Result<Response, ApiError> {
    service::remove_provider_key(&state, &caller.user, &provider).await?;
    Ok(ok(AccountProviderKeyRemoved {
        provider,
        removed: true,
    }))
}
