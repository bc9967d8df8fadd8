//! `/api/users/...`: the caller's own profile, settings, sessions, API keys, provider keys,
//! password, export and deletion.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use aipasta_core::account::Scope;
use aipasta_store::accounts::{self, UserRow};

use super::service::{self, AccountFailure, ProfileInput, SettingsInput};
use crate::auth::identity::Credential;
use crate::auth::{Access, Caller, Routes};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Routes {
    use Access::{Account, User};
    Routes::new()
        .get("/api/users/profile", User, profile)
        .put("/api/users/profile", Account, put_profile)
        .get("/api/users/settings", User, settings)
        .put("/api/users/settings", Account, put_settings)
        .get("/api/users/api-keys", Account, list_keys)
        .post("/api/users/api-keys", Account, create_key)
        .delete("/api/users/api-keys/{id}", Account, revoke_key)
        .get("/api/users/sessions", Account, list_sessions)
        .delete("/api/users/sessions/{id}", Account, revoke_session)
        .post("/api/users/password", Account, change_password)
        .get("/api/users/export", Account, export)
        .delete("/api/users/account", Account, delete_account)
        .get("/api/users/provider-keys", Account, list_provider_keys)
        .put(
            "/api/users/provider-keys/{provider}",
            Account,
            put_provider_key,
        )
        .delete(
            "/api/users/provider-keys/{provider}",
            Account,
            delete_provider_key,
        )
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

fn ok(data: Value) -> Response {
    Json(json!({ "success": true, "data": data })).into_response()
}

/// The plan's usage block, with the limit that applies.
async fn usage_json(state: &AppState, user: &UserRow) -> Result<Value, ApiError> {
    let default_limit = accounts::monthly_token_limit_default(&state.db).await?;
    Ok(json!({
        "totalGenerations": user.total_generations,
        "tokensUsed": user.tokens_used,
        "totalCost": aipasta_core::money::Nanos(user.total_cost_nanos).usd().to_string(),
        "lastGeneration": user.last_generation_at,
        "monthlyLimit": user.monthly_token_limit.unwrap_or(default_limit),
        "subscription": user.subscription,
    }))
}

fn preferences_json(user: &UserRow, favorites: &[String]) -> Value {
    json!({
        "theme": user.theme,
        "language": user.language,
        "notifications": {
            "email": user.notify_email, "push": user.notify_push,
            "newModels": user.notify_new_models, "updates": user.notify_updates,
        },
        "favoriteModels": favorites,
        "defaultModel": user.default_model_id,
    })
}

async fn favorites(state: &AppState, user_id: &str) -> Result<Vec<String>, ApiError> {
    let rows: Vec<(String,)> = aipasta_store::Query::new(
        "SELECT m.slug FROM favorites f JOIN models m ON m.id = f.model_id WHERE f.user_id = $1 ORDER BY f.created_at",
    )
    .bind(user_id)
    .fetch_all(&state.db)
    .await?;
    Ok(rows.into_iter().map(|(slug,)| slug).collect())
}

async fn fresh_user(state: &AppState, caller: &Caller) -> Result<UserRow, ApiError> {
    accounts::find_user_by_id(&state.db, caller.id())
        .await?
        .ok_or_else(|| ApiError::not_found("This account no longer exists."))
}

async fn profile(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let user = fresh_user(&state, &caller).await?;
    let identities = accounts::list_identities(&state.db, &user.id).await?;
    let favorites = favorites(&state, &user.id).await?;
    Ok(ok(json!({
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "image": user.image,
        "role": caller.role.as_str(),
        "status": user.status,
        "emailVerified": user.email_verified_at,
        "providers": identities.iter().map(|i| json!({ "provider": i.provider, "connectedAt": i.connected_at })).collect::<Vec<_>>(),
        "preferences": preferences_json(&user, &favorites),
        "usage": usage_json(&state, &user).await?,
        "profile": {
            "bio": user.bio, "website": user.website, "github": user.github,
            "twitter": user.twitter, "publicProfile": user.public_profile,
        },
        "createdAt": user.created_at,
        "lastLogin": user.last_login_at,
    })))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ProfileBody {
    #[serde(flatten)]
    profile: ProfileInput,
    preferences: Option<SettingsInput>,
}

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

async fn settings(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let user = fresh_user(&state, &caller).await?;
    let favorites = favorites(&state, &user.id).await?;
    let mut data = preferences_json(&user, &favorites);
    if let Value::Object(map) = &mut data {
        map.insert("usage".into(), usage_json(&state, &user).await?);
    }
    Ok(ok(data))
}

async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SettingsInput>,
) -> Result<Response, ApiError> {
    service::update_settings(&state, &caller.user, &body).await?;
    settings(State(state), caller).await
}

/// Said wherever a key with the `admin` scope is shown: the settings page (in red) and the API.
pub const ADMIN_KEY_WARNING: &str = "This key can act as an admin: it can change users' roles, \
store provider keys and add endpoints. Keep it secret, and revoke it when you no longer need it.";

/// A stored key's scope names, as stored (a JSON array).
pub fn key_scopes(key: &accounts::ApiKeyRow) -> Vec<String> {
    serde_json::from_str(&key.scopes).unwrap_or_default()
}

/// Whether these scope names carry admin power.
pub fn grants_admin(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == Scope::Admin.as_str())
}

pub fn key_json(key: &accounts::ApiKeyRow) -> Value {
    let scopes = key_scopes(key);
    let admin = grants_admin(&scopes);
    let mut data = json!({
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": scopes,
        "createdAt": key.created_at,
        "lastUsedAt": key.last_used_at,
        "expiresAt": key.expires_at,
    });
    if admin && let Value::Object(map) = &mut data {
        map.insert("warning".into(), ADMIN_KEY_WARNING.into());
    }
    data
}

async fn list_keys(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let keys = accounts::list_api_keys(&state.db, caller.id()).await?;
    Ok(ok(keys.iter().map(key_json).collect::<Vec<_>>().into()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewKeyBody {
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
    expires_in_days: Option<i64>,
}

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
    let mut data = key_json(&row);
    if let Value::Object(map) = &mut data {
        // The only time the full key is ever shown.
        map.insert("key".into(), key.into());
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({ "success": true, "data": data })),
    )
        .into_response())
}

async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    service::revoke_key(&state, &caller.user, &id).await?;
    Ok(ok(json!({ "id": id, "revoked": true })))
}

async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let sessions = accounts::list_sessions(&state.db, caller.id()).await?;
    let current = caller.session_id().map(str::to_owned);
    let data: Vec<Value> = sessions
        .iter()
        .map(|s| {
            json!({
                "id": s.id, "current": Some(&s.id) == current.as_ref(), "ipAddress": s.ip_address,
                "userAgent": s.user_agent, "createdAt": s.created_at, "lastSeenAt": s.last_seen_at,
                "expiresAt": s.expires_at,
            })
        })
        .collect();
    Ok(ok(data.into()))
}

async fn revoke_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    service::revoke_session(&state, &caller.user, &id).await?;
    Ok(ok(json!({ "id": id, "revoked": true })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordBody {
    current_password: String,
    new_password: String,
}

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
    let mut data = json!({ "changed": true, "otherSessionsEnded": ended });
    // The change ended every JWT issued before it, the caller's own included: a caller who
    // came with one gets a new one, as a browser keeps its session.
    if caller.credential == Credential::Bearer
        && let Value::Object(map) = &mut data
    {
        let changed = fresh_user(&state, &caller).await?;
        let token = crate::auth::api::jwt_for(&state, &changed, caller.role.as_str());
        map.insert("token".into(), token.into());
    }
    Ok(ok(data))
}

/// The export as a download.
pub async fn export_response(state: &AppState, user_id: &str) -> Result<Response, ApiError> {
    let Some(data) = accounts::export_account(&state.db, user_id).await? else {
        return Err(ApiError::not_found("This account no longer exists."));
    };
    let body = serde_json::to_string_pretty(&data).unwrap_or_default();
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"aipasta-export.json\""),
    );
    // Everything stored about a person: no browser or proxy may keep a copy.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn export(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    export_response(&state, caller.id()).await
}

#[derive(Deserialize)]
struct DeleteBody {
    password: String,
}

async fn delete_account(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<DeleteBody>,
) -> Result<Response, ApiError> {
    service::delete_account(&state, &caller.user, &body.password).await?;
    let auth = &state.config.auth;
    let response = ok(json!({ "deleted": true }));
    Ok(crate::auth::api::respond_with_cookies(
        response,
        vec![
            auth.expired_cookie(auth.session_cookie()),
            auth.expired_cookie(auth.csrf_cookie()),
        ],
    ))
}

/// A provider key as JSON: its hint, never the key.
fn provider_key_json(status: &service::ProviderKeyStatus) -> Value {
    json!({
        "provider": status.provider,
        "name": status.label,
        "configured": status.hint.is_some(),
        "keyHint": status.hint,
        "updatedAt": status.updated_at,
    })
}

async fn list_provider_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let keys = service::provider_keys(&state, caller.id()).await?;
    Ok(ok(keys
        .iter()
        .map(provider_key_json)
        .collect::<Vec<_>>()
        .into()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProviderKeyBody {
    api_key: Option<String>,
}

async fn put_provider_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(provider): Path<String>,
    Json(body): Json<ProviderKeyBody>,
) -> Result<Response, ApiError> {
    let key = body.api_key.unwrap_or_default();
    let status = service::set_provider_key(&state, &caller.user, &provider, &key).await?;
    Ok(ok(provider_key_json(&status)))
}

async fn delete_provider_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(provider): Path<String>,
) -> Result<Response, ApiError> {
    service::remove_provider_key(&state, &caller.user, &provider).await?;
    Ok(ok(json!({ "provider": provider, "removed": true })))
}
