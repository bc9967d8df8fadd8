//! `/dashboard/settings`: profile, preferences, password, sessions, API keys, provider keys,
//! usage, export and deletion, as plain forms (no JavaScript needed).

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use aipasta_core::account::{Role, Scope};
use aipasta_core::money::{Nanos, human_usd};
use aipasta_store::accounts::{self, UserRow};

use super::api::{ADMIN_KEY_WARNING, grants_admin, key_scopes};
use super::service::{self, AccountFailure, NotificationsInput, ProfileInput, SettingsInput};
use crate::auth::{Access, Caller, Routes};
use crate::chrome::Chrome;
use crate::pages::render;
use crate::state::AppState;

pub fn routes() -> Routes {
    use Access::Account;
    Routes::new()
        .get("/dashboard/settings", Account, page)
        .post("/dashboard/settings/profile", Account, save_profile)
        .post("/dashboard/settings/preferences", Account, save_preferences)
        .post("/dashboard/settings/password", Account, save_password)
        .post("/dashboard/settings/api-keys", Account, create_key)
        .post(
            "/dashboard/settings/api-keys/{id}/revoke",
            Account,
            revoke_key,
        )
        .post(
            "/dashboard/settings/sessions/{id}/revoke",
            Account,
            revoke_session,
        )
        .post(
            "/dashboard/settings/provider-keys/{provider}",
            Account,
            save_provider_key,
        )
        .post(
            "/dashboard/settings/provider-keys/{provider}/remove",
            Account,
            remove_provider_key,
        )
        .get("/dashboard/settings/export", Account, export)
        .post("/dashboard/settings/delete", Account, delete)
}

pub struct KeyLine {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    /// Holds the `admin` scope: shown in red with a warning.
    pub admin: bool,
    pub created: String,
    pub last_used: String,
    pub expires: String,
}

pub struct ProviderKeyLine {
    pub provider: &'static str,
    pub label: &'static str,
    pub hint: Option<String>,
    pub updated: String,
}

pub struct SessionLine {
    pub id: String,
    pub current: bool,
    pub device: String,
    pub ip: String,
    pub last_seen: String,
}

/// A key just created: the only time its secret is shown.
pub struct NewKey {
    pub secret: String,
    pub admin: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    user: UserRow,
    role: String,
    notice: Option<String>,
    error: Option<String>,
    new_key: Option<NewKey>,
    keys: Vec<KeyLine>,
    provider_keys: Vec<ProviderKeyLine>,
    sessions: Vec<SessionLine>,
    monthly_limit: String,
    tokens_used: String,
    total_cost: String,
    has_password: bool,
    /// Admins may give a key the `admin` scope; nobody else sees the choice.
    can_grant_admin: bool,
    admin_key_warning: &'static str,
    /// The usage alert thresholds as the form shows them: `80, 100`.
    usage_alerts: String,
}

fn when(ms: Option<i64>) -> String {
    ms.and_then(|ms| time::OffsetDateTime::from_unix_timestamp(ms / 1000).ok())
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| "never".into())
}

fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

async fn render_page(
    state: &AppState,
    chrome: Chrome,
    caller: &Caller,
    notice: Option<String>,
    error: Option<String>,
    new_key: Option<NewKey>,
    status: StatusCode,
) -> Response {
    let loaded = async {
        let user = accounts::find_user_by_id(&state.db, caller.id()).await?;
        let keys = accounts::list_api_keys(&state.db, caller.id()).await?;
        let sessions = accounts::list_sessions(&state.db, caller.id()).await?;
        let default_limit = accounts::monthly_token_limit_default(&state.db).await?;
        let provider_keys =
            aipasta_store::providers::list_user_keys(&state.db, caller.id()).await?;
        Ok::<_, aipasta_store::DbError>((user, keys, sessions, default_limit, provider_keys))
    }
    .await;
    let (Some(user), keys, sessions, default_limit, stored_provider_keys) = (match loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            tracing::error!(%error, "settings page");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let current = caller.session_id().map(str::to_owned);
    let page = SettingsPage {
        usage_alerts: crate::dashboard::alerts::thresholds(&user)
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        chrome,
        role: caller.role.as_str().to_owned(),
        notice,
        error,
        new_key,
        keys: keys
            .iter()
            .map(|k| {
                let scopes = key_scopes(k);
                KeyLine {
                    id: k.id.clone(),
                    name: k.name.clone(),
                    prefix: format!("{}…", k.prefix),
                    admin: grants_admin(&scopes),
                    scopes,
                    created: when(Some(k.created_at)),
                    last_used: when(k.last_used_at),
                    expires: k
                        .expires_at
                        .map_or_else(|| "never".into(), |e| when(Some(e))),
                }
            })
            .collect(),
        provider_keys: crate::admin::providers::BUILTINS
            .iter()
            .filter(|(name, _)| aipasta_store::providers::USER_KEY_PROVIDERS.contains(name))
            .map(|&(provider, label)| {
                let stored = stored_provider_keys.iter().find(|k| k.provider == provider);
                ProviderKeyLine {
                    provider,
                    label,
                    hint: stored.map(|k| k.api_key_hint.clone()),
                    updated: when(stored.map(|k| k.updated_at)),
                }
            })
            .collect(),
        sessions: sessions
            .iter()
            .map(|s| SessionLine {
                id: s.id.clone(),
                current: Some(&s.id) == current.as_ref(),
                device: s
                    .user_agent
                    .clone()
                    .unwrap_or_else(|| "Unknown browser".into())
                    .chars()
                    .take(80)
                    .collect(),
                ip: s.ip_address.clone().unwrap_or_default(),
                last_seen: when(Some(s.last_seen_at)),
            })
            .collect(),
        monthly_limit: thousands(user.monthly_token_limit.unwrap_or(default_limit)),
        tokens_used: thousands(user.tokens_used),
        total_cost: format!("${}", human_usd(Nanos(user.total_cost_nanos).usd())),
        has_password: user.password_hash.is_some(),
        can_grant_admin: caller.role == Role::Admin,
        admin_key_warning: ADMIN_KEY_WARNING,
        user,
    };
    let mut response = render(&page);
    *response.status_mut() = status;
    response
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    done: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let notice = query.done.as_deref().map(|done| {
        match done {
            "profile" => "Your profile is saved.",
            "preferences" => "Your preferences are saved.",
            "password" => "Your password is changed, and every other session has been signed out.",
            "key-revoked" => "The API key is revoked; programs using it are refused from now on.",
            "session-revoked" => "That session is signed out.",
            "provider-key-saved" => {
                "Your provider key is saved, sealed; your generations on that provider use it from now on."
            }
            "provider-key-removed" => "Your provider key is removed.",
            _ => "Saved.",
        }
        .to_owned()
    });
    render_page(&state, chrome, &caller, notice, None, None, StatusCode::OK).await
}

fn back(done: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("/dashboard/settings?done={done}")) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

async fn outcome(
    state: &AppState,
    chrome: Chrome,
    caller: &Caller,
    result: Result<(), AccountFailure>,
    done: &str,
) -> Response {
    match result {
        Ok(()) => back(done),
        Err(failure) => {
            let status = match failure {
                AccountFailure::NotFound(_) | AccountFailure::Missing(_) => StatusCode::NOT_FOUND,
                AccountFailure::WrongPassword | AccountFailure::Forbidden(_) => {
                    StatusCode::FORBIDDEN
                }
                AccountFailure::Internal(ref cause) => {
                    tracing::error!(%cause, "settings");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                AccountFailure::Invalid(_) => StatusCode::BAD_REQUEST,
            };
            render_page(
                state,
                chrome,
                caller,
                None,
                Some(failure.message()),
                None,
                status,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct ProfileForm {
    name: String,
    image: Option<String>,
    bio: Option<String>,
    website: Option<String>,
    github: Option<String>,
    twitter: Option<String>,
    public_profile: Option<String>,
}

async fn save_profile(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Form(form): Form<ProfileForm>,
) -> Response {
    let input = ProfileInput {
        name: Some(form.name),
        image: Some(form.image.unwrap_or_default()),
        bio: Some(form.bio.unwrap_or_default()),
        website: Some(form.website.unwrap_or_default()),
        github: Some(form.github.unwrap_or_default()),
        twitter: Some(form.twitter.unwrap_or_default()),
        public_profile: Some(form.public_profile.is_some()),
    };
    let result = service::update_profile(&state, &caller.user, &input).await;
    outcome(&state, chrome, &caller, result, "profile").await
}

#[derive(Deserialize)]
struct PreferencesForm {
    theme: String,
    language: String,
    notify_email: Option<String>,
    notify_push: Option<String>,
    notify_new_models: Option<String>,
    notify_updates: Option<String>,
    usage_alerts: Option<String>,
}

async fn save_preferences(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Form(form): Form<PreferencesForm>,
) -> Response {
    let usage_alerts = match form
        .usage_alerts
        .as_deref()
        .map(crate::dashboard::alerts::parse_thresholds)
        .transpose()
    {
        Ok(alerts) => alerts,
        Err(message) => {
            let failure = Err(service::AccountFailure::Invalid(message));
            return outcome(&state, chrome, &caller, failure, "preferences").await;
        }
    };
    let input = SettingsInput {
        theme: Some(form.theme),
        language: Some(form.language),
        notifications: Some(NotificationsInput {
            email: Some(form.notify_email.is_some()),
            push: Some(form.notify_push.is_some()),
            new_models: Some(form.notify_new_models.is_some()),
            updates: Some(form.notify_updates.is_some()),
        }),
        default_model: None,
        usage_alerts,
    };
    let result = service::update_settings(&state, &caller.user, &input).await;
    outcome(&state, chrome, &caller, result, "preferences").await
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

async fn save_password(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Form(form): Form<PasswordForm>,
) -> Response {
    let result = service::change_password(
        &state,
        &caller.user,
        caller.session_id(),
        &form.current_password,
        &form.new_password,
    )
    .await
    .map(drop);
    outcome(&state, chrome, &caller, result, "password").await
}

#[derive(Deserialize)]
struct KeyForm {
    name: String,
    scope_read: Option<String>,
    scope_generate: Option<String>,
    scope_admin: Option<String>,
    expires_in_days: Option<String>,
}

async fn create_key(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Form(form): Form<KeyForm>,
) -> Response {
    let scopes: Vec<String> = [
        (&form.scope_read, Scope::Read),
        (&form.scope_generate, Scope::Generate),
        (&form.scope_admin, Scope::Admin),
    ]
    .into_iter()
    .filter(|(ticked, _)| ticked.is_some())
    .map(|(_, scope)| scope.as_str().to_owned())
    .collect();
    let expires = match form.expires_in_days.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(days) => days
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AccountFailure::Invalid("Expiry must be a number of days".into())),
    };
    let created = match expires {
        Ok(expires) => {
            service::create_key(
                &state,
                &caller.user,
                caller.role,
                &form.name,
                &scopes,
                expires,
            )
            .await
        }
        Err(failure) => Err(failure),
    };
    match created {
        Ok((secret, row)) => {
            let key = NewKey {
                secret,
                admin: grants_admin(&key_scopes(&row)),
            };
            let notice = Some(
                "Your new API key is below. Copy it now: it is shown only this once.".to_owned(),
            );
            render_page(
                &state,
                chrome,
                &caller,
                notice,
                None,
                Some(key),
                StatusCode::CREATED,
            )
            .await
        }
        Err(failure) => outcome(&state, chrome, &caller, Err(failure), "").await,
    }
}

async fn revoke_key(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    let result = service::revoke_key(&state, &caller.user, &id).await;
    outcome(&state, chrome, &caller, result, "key-revoked").await
}

async fn revoke_session(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    let result = service::revoke_session(&state, &caller.user, &id).await;
    outcome(&state, chrome, &caller, result, "session-revoked").await
}

#[derive(Deserialize)]
struct ProviderKeyForm {
    #[serde(default)]
    api_key: String,
}

async fn save_provider_key(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Path(provider): Path<String>,
    Form(form): Form<ProviderKeyForm>,
) -> Response {
    let result = service::set_provider_key(&state, &caller.user, &provider, &form.api_key)
        .await
        .map(drop);
    outcome(&state, chrome, &caller, result, "provider-key-saved").await
}

async fn remove_provider_key(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Path(provider): Path<String>,
) -> Response {
    let result = service::remove_provider_key(&state, &caller.user, &provider).await;
    outcome(&state, chrome, &caller, result, "provider-key-removed").await
}

async fn export(State(state): State<AppState>, caller: Caller) -> Response {
    match super::api::export_response(&state, caller.id()).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

#[derive(Deserialize)]
struct DeleteForm {
    password: String,
}

async fn delete(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Form(form): Form<DeleteForm>,
) -> Response {
    match service::delete_account(&state, &caller.user, &form.password).await {
        Ok(()) => {
            let auth = &state.config.auth;
            let mut response = StatusCode::SEE_OTHER.into_response();
            response
                .headers_mut()
                .insert(LOCATION, HeaderValue::from_static("/?account=deleted"));
            crate::auth::api::respond_with_cookies(
                response,
                vec![
                    auth.expired_cookie(auth.session_cookie()),
                    auth.expired_cookie(auth.csrf_cookie()),
                ],
            )
        }
        Err(failure) => outcome(&state, chrome, &caller, Err(failure), "").await,
    }
}
