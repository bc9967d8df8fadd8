//! Account operations shared by the API and the settings page. Every one acts on the caller's
//! own account; ids of sessions and keys are looked up within it, so another account's id finds
//! nothing (404), never a "forbidden" that would confirm it exists.

use aipasta_core::account::{Role, Scope, check_password, parse_name};
use aipasta_core::clock::now_ms;
use aipasta_core::secret_box::key_hint;
use aipasta_store::accounts::{self, PreferencesUpdate, ProfileUpdate, UserRow};
use aipasta_store::providers::{
    SealedKey, USER_KEY_PROVIDERS, delete_user_key, list_user_keys, set_user_key,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::password;
use crate::auth::tokens::new_api_key;
use crate::state::AppState;

/// A refusal with words for the person, or a failure on our side.
#[derive(Debug)]
pub enum AccountFailure {
    Invalid(String),
    /// Allowed to no one of the caller's role, in the caller's words (403).
    Forbidden(String),
    NotFound(&'static str),
    /// Nothing to act on, in the caller's words (404).
    Missing(String),
    WrongPassword,
    Internal(String),
}

impl From<aipasta_store::DbError> for AccountFailure {
    fn from(error: aipasta_store::DbError) -> AccountFailure {
        AccountFailure::Internal(error.to_string())
    }
}

impl AccountFailure {
    pub fn message(&self) -> String {
        match self {
            AccountFailure::Invalid(message) | AccountFailure::Forbidden(message) => {
                message.clone()
            }
            AccountFailure::NotFound(what) => format!("No {what} with that id on your account."),
            AccountFailure::Missing(message) => message.clone(),
            AccountFailure::WrongPassword => "Your current password is not right.".into(),
            AccountFailure::Internal(_) => {
                "Something went wrong on our side; try again in a moment.".into()
            }
        }
    }
}

fn invalid(message: impl Into<String>) -> AccountFailure {
    AccountFailure::Invalid(message.into())
}

/// Profile fields as the API and the form send them; a field not sent stays as it is.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
#[schema(as = AccountProfileFields)]
pub struct ProfileInput {
    /// The name people see.
    pub name: Option<String>,
    /// An avatar's address (`https://...`).
    pub image: Option<String>,
    /// At most 1,000 characters.
    pub bio: Option<String>,
    /// A web address (`https://...`).
    pub website: Option<String>,
    /// A GitHub handle, without spaces.
    pub github: Option<String>,
    /// A Twitter handle, without spaces.
    pub twitter: Option<String>,
    pub public_profile: Option<bool>,
}

fn check_url(field: &str, value: &Option<String>) -> Result<(), AccountFailure> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(()),
        Some(url)
            if (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= 500
                && !url.contains(char::is_whitespace) =>
        {
            Ok(())
        }
        Some(_) => Err(invalid(format!(
            "{field} must be a web address starting with https://"
        ))),
    }
}

fn check_handle(field: &str, value: &Option<String>) -> Result<(), AccountFailure> {
    match value.as_deref().map(str::trim) {
        Some(handle) if handle.chars().count() > 100 || handle.contains(char::is_whitespace) => {
            Err(invalid(format!(
                "{field} must be a handle of at most 100 characters, without spaces"
            )))
        }
        _ => Ok(()),
    }
}

pub async fn update_profile(
    state: &AppState,
    user: &UserRow,
    input: &ProfileInput,
) -> Result<(), AccountFailure> {
    let name = match &input.name {
        Some(name) => Some(parse_name(name).map_err(|e| invalid(e.to_string()))?),
        None => None,
    };
    check_url("The image", &input.image)?;
    check_url("The website", &input.website)?;
    check_handle("GitHub", &input.github)?;
    check_handle("Twitter", &input.twitter)?;
    if input
        .bio
        .as_deref()
        .is_some_and(|b| b.chars().count() > 1000)
    {
        return Err(invalid("The bio must be at most 1,000 characters"));
    }
    let update = ProfileUpdate {
        name,
        image: input.image.clone(),
        bio: input.bio.clone(),
        website: input.website.clone(),
        github: input.github.clone(),
        twitter: input.twitter.clone(),
        public_profile: input.public_profile,
    };
    accounts::update_profile(&state.db, &user.id, &update).await?;
    Ok(())
}

/// Notifications to turn on or off; one not sent stays as it is.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
#[schema(as = AccountNotificationsUpdate)]
pub struct NotificationsInput {
    pub email: Option<bool>,
    pub push: Option<bool>,
    pub new_models: Option<bool>,
    pub updates: Option<bool>,
}

/// Preferences to change; one not sent stays as it is.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
#[schema(as = AccountSettingsUpdate)]
pub struct SettingsInput {
    /// `light`, `dark` or `system`.
    pub theme: Option<String>,
    /// A language code such as `en` or `pt-BR`.
    pub language: Option<String>,
    pub notifications: Option<NotificationsInput>,
    /// A model id or slug; `""` clears it.
    pub default_model: Option<String>,
    /// Percentages of the monthly token limit (1–100, at most 5) at which a banner warns;
    /// `[]` turns the alerts off.
    pub usage_alerts: Option<Vec<i64>>,
}

pub async fn update_settings(
    state: &AppState,
    user: &UserRow,
    input: &SettingsInput,
) -> Result<(), AccountFailure> {
    if let Some(theme) = &input.theme
        && !["light", "dark", "system"].contains(&theme.as_str())
    {
        return Err(invalid("theme must be light, dark or system"));
    }
    if let Some(language) = &input.language
        && !(2..=10).contains(&language.len())
    {
        return Err(invalid(
            "language must be a language code such as en or pt-BR",
        ));
    }
    let default_model_id = match input.default_model.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(model) => match aipasta_store::catalog::find_model(&state.db, model).await? {
            Some(found) => Some(Some(found.id)),
            None => {
                return Err(invalid(format!(
                    "defaultModel: no model has the id {model:?}"
                )));
            }
        },
    };
    let usage_alerts = match &input.usage_alerts {
        None => None,
        Some(values) => Some(crate::dashboard::alerts::check_thresholds(values).map_err(invalid)?),
    };
    let notifications = input.notifications.as_ref();
    let update = PreferencesUpdate {
        theme: input.theme.clone(),
        language: input.language.clone(),
        notify_email: notifications.and_then(|n| n.email),
        notify_push: notifications.and_then(|n| n.push),
        notify_new_models: notifications.and_then(|n| n.new_models),
        notify_updates: notifications.and_then(|n| n.updates),
        default_model_id,
        usage_alerts,
    };
    accounts::update_preferences(&state.db, &user.id, &update).await?;
    Ok(())
}

/// Changes the password after checking the current one, and ends every other session.
pub async fn change_password(
    state: &AppState,
    user: &UserRow,
    keep_session: Option<&str>,
    current: &str,
    new: &str,
) -> Result<u64, AccountFailure> {
    if !password::verify(current.to_owned(), user.password_hash.clone()).await {
        return Err(AccountFailure::WrongPassword);
    }
    check_password(new).map_err(|e| invalid(e.to_string()))?;
    let hash = password::hash(new.to_owned())
        .await
        .map_err(AccountFailure::Internal)?;
    accounts::set_password_hash(&state.db, &user.id, &hash).await?;
    Ok(accounts::revoke_other_sessions(&state.db, &user.id, keep_session).await?)
}

/// The scopes a new key asks for, each once, in the order given. A key must say what it is
/// for: none at all is refused rather than guessed.
pub fn parse_scopes(scopes: &[String]) -> Result<Vec<Scope>, AccountFailure> {
    let mut parsed = Vec::new();
    for scope in scopes {
        let Some(scope) = Scope::parse(scope.trim()) else {
            return Err(invalid(format!(
                "scopes: {scope:?} is not a scope; use read, generate or admin"
            )));
        };
        if !parsed.contains(&scope) {
            parsed.push(scope);
        }
    }
    if parsed.is_empty() {
        return Err(invalid(
            "scopes: choose at least one scope for the key (read, generate)",
        ));
    }
    Ok(parsed)
}

/// A new API key: (the full key, shown once; its stored row). `role` is the caller's: only an
/// admin may give a key the `admin` scope.
pub async fn create_key(
    state: &AppState,
    user: &UserRow,
    role: Role,
    name: &str,
    scopes: &[String],
    expires_in_days: Option<i64>,
) -> Result<(String, accounts::ApiKeyRow), AccountFailure> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid(
            "Give the key a name of 1 to 100 characters, such as the program that will use it",
        ));
    }
    let parsed = parse_scopes(scopes)?;
    if parsed.contains(&Scope::Admin) && role != Role::Admin {
        return Err(AccountFailure::Forbidden(
            "scopes: only admins can create a key with the admin scope".into(),
        ));
    }
    let expires_at = match expires_in_days {
        None => None,
        Some(days) if (1..=3650).contains(&days) => Some(now_ms() + days * 86_400_000),
        Some(_) => return Err(invalid("expiresInDays must be between 1 and 3650")),
    };
    let live = accounts::list_api_keys(&state.db, &user.id).await?;
    if live.len() >= 50 {
        return Err(invalid(
            "You have 50 keys; revoke one you no longer use first",
        ));
    }
    let (key, prefix, hash) = new_api_key();
    let names: Vec<&str> = parsed.iter().map(|s| s.as_str()).collect();
    let scopes_json =
        serde_json::to_string(&names).map_err(|e| AccountFailure::Internal(e.to_string()))?;
    let row = accounts::create_api_key(
        &state.db,
        &user.id,
        name,
        &prefix,
        &hash,
        &scopes_json,
        expires_at,
    )
    .await?;
    Ok((key, row))
}

pub async fn revoke_key(
    state: &AppState,
    user: &UserRow,
    key_id: &str,
) -> Result<(), AccountFailure> {
    if accounts::revoke_api_key(&state.db, &user.id, key_id).await? {
        Ok(())
    } else {
        Err(AccountFailure::NotFound("API key"))
    }
}

pub async fn revoke_session(
    state: &AppState,
    user: &UserRow,
    session_id: &str,
) -> Result<(), AccountFailure> {
    if accounts::revoke_session(&state.db, &user.id, session_id).await? {
        Ok(())
    } else {
        Err(AccountFailure::NotFound("session"))
    }
}

/// Deletes the account after checking the password.
pub async fn delete_account(
    state: &AppState,
    user: &UserRow,
    password_text: &str,
) -> Result<(), AccountFailure> {
    if !password::verify(password_text.to_owned(), user.password_hash.clone()).await {
        return Err(AccountFailure::WrongPassword);
    }
    accounts::delete_account(&state.db, &user.id).await?;
    Ok(())
}

/// A provider a person can bring their own key for, and the key's hint when one is stored.
#[derive(Debug, Clone)]
pub struct ProviderKeyStatus {
    pub provider: &'static str,
    pub label: &'static str,
    pub hint: Option<String>,
    pub updated_at: Option<i64>,
}

/// The built-in provider named `provider` (`openrouter`, `huggingface`), as `(name, label)`.
fn key_provider(provider: &str) -> Result<(&'static str, &'static str), AccountFailure> {
    crate::admin::providers::BUILTINS
        .iter()
        .copied()
        .find(|(name, _)| *name == provider && USER_KEY_PROVIDERS.contains(name))
        .ok_or_else(|| {
            AccountFailure::Missing(format!(
                "{provider:?} is not a provider you can add a key for: use openrouter or huggingface."
            ))
        })
}

/// The caller's own provider keys: every provider that takes one, with the hint of the key
/// stored for it (never the key).
pub async fn provider_keys(
    state: &AppState,
    user_id: &str,
) -> Result<Vec<ProviderKeyStatus>, AccountFailure> {
    let stored = list_user_keys(&state.db, user_id).await?;
    Ok(crate::admin::providers::BUILTINS
        .iter()
        .filter(|(name, _)| USER_KEY_PROVIDERS.contains(name))
        .map(|&(provider, label)| {
            let key = stored.iter().find(|k| k.provider == provider);
            ProviderKeyStatus {
                provider,
                label,
                hint: key.map(|k| k.api_key_hint.clone()),
                updated_at: key.map(|k| k.updated_at),
            }
        })
        .collect())
}

/// Stores (or replaces) the caller's own key for `provider`, sealed; their generations on it use
/// it from now on, before any admin's or the environment's key.
pub async fn set_provider_key(
    state: &AppState,
    user: &UserRow,
    provider: &str,
    key: &str,
) -> Result<ProviderKeyStatus, AccountFailure> {
    let (provider, label) = key_provider(provider)?;
    let key = crate::admin::providers::clean_api_key(key)
        .map_err(|message| invalid(format!("{label} key: {message}")))?;
    let sealed = SealedKey {
        sealed: state.engine.directory.secret_box().seal(key),
        hint: key_hint(key),
    };
    let row = set_user_key(&state.db, &user.id, provider, &sealed).await?;
    state.engine.changed(aipasta_engine::Change::Providers);
    Ok(ProviderKeyStatus {
        provider,
        label,
        hint: Some(row.api_key_hint),
        updated_at: Some(row.updated_at),
    })
}

/// Removes the caller's own key for `provider`.
pub async fn remove_provider_key(
    state: &AppState,
    user: &UserRow,
    provider: &str,
) -> Result<(), AccountFailure> {
    let (provider, label) = key_provider(provider)?;
    if !delete_user_key(&state.db, &user.id, provider).await? {
        return Err(AccountFailure::Missing(format!(
            "You have no {label} key stored."
        )));
    }
    state.engine.changed(aipasta_engine::Change::Providers);
    Ok(())
}
