//! What `/api/users/...` answers inside the envelope's `data`: the caller's profile, settings
//! and usage, keys, sessions and provider keys, as the types the handlers serialize.

use serde::Serialize;
use utoipa::ToSchema;

use aipasta_store::accounts::{ApiKeyRow, IdentityRow, SessionRow, UserRow};

use super::service::ProviderKeyStatus;

/// Said wherever a key with the `admin` scope is shown: the settings page (in red) and the API.
pub const ADMIN_KEY_WARNING: &str = "This key can act as an admin: it can change users' roles, \
store provider keys and add endpoints. Keep it secret, and revoke it when you no longer need it.";

/// A stored key's scope names, as stored (a JSON array).
pub fn key_scopes(key: &ApiKeyRow) -> Vec<String> {
    serde_json::from_str(&key.scopes).unwrap_or_default()
}

/// Whether these scope names carry admin power.
pub fn grants_admin(scopes: &[String]) -> bool {
    scopes
        .iter()
        .any(|s| s == aipasta_core::account::Scope::Admin.as_str())
}

/// The caller's account, as `GET` and `PUT /api/users/profile` answer it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountProfile {
    pub id: String,
    pub name: String,
    pub email: String,
    /// The avatar's address.
    #[schema(required = true)]
    pub image: Option<String>,
    /// `user`, `moderator` or `admin`.
    pub role: &'static str,
    /// `active`, or why the account cannot be used (`suspended`, ...).
    pub status: String,
    /// When the email address was verified (Unix milliseconds).
    #[schema(required = true)]
    pub email_verified: Option<i64>,
    /// The ways the account signs in (`credentials`, `github`, `google`, ...).
    pub providers: Vec<AccountIdentity>,
    pub preferences: AccountPreferences,
    pub usage: AccountUsage,
    pub profile: AccountPublicProfile,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    #[schema(required = true)]
    pub last_login: Option<i64>,
}

/// One way an account signs in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountIdentity {
    /// `credentials` (email and password), `github`, `google`, ...
    pub provider: String,
    /// Unix milliseconds.
    pub connected_at: i64,
}

impl AccountIdentity {
    pub fn new(identity: &IdentityRow) -> AccountIdentity {
        AccountIdentity {
            provider: identity.provider.clone(),
            connected_at: identity.connected_at,
        }
    }
}

/// What a person says about themselves.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountPublicProfile {
    #[schema(required = true)]
    pub bio: Option<String>,
    #[schema(required = true)]
    pub website: Option<String>,
    /// A GitHub handle.
    #[schema(required = true)]
    pub github: Option<String>,
    /// A Twitter handle.
    #[schema(required = true)]
    pub twitter: Option<String>,
    pub public_profile: bool,
}

/// The account's preferences.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountPreferences {
    /// `light`, `dark` or `system`.
    pub theme: String,
    /// A language code such as `en` or `pt-BR`.
    pub language: String,
    pub notifications: AccountNotifications,
    /// The slugs of the favourite models, in the order their owner chose.
    pub favorite_models: Vec<String>,
    /// The id of the model the playground starts with.
    #[schema(required = true)]
    pub default_model: Option<String>,
    /// Percentages of the monthly token limit at which a banner warns, ascending.
    pub usage_alerts: Vec<i64>,
}

/// Which notifications the person wants.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountNotifications {
    pub email: bool,
    pub push: bool,
    pub new_models: bool,
    pub updates: bool,
}

impl AccountNotifications {
    pub fn new(user: &UserRow) -> AccountNotifications {
        AccountNotifications {
            email: user.notify_email,
            push: user.notify_push,
            new_models: user.notify_new_models,
            updates: user.notify_updates,
        }
    }
}

impl AccountPreferences {
    pub fn new(user: &UserRow, favorite_models: Vec<String>) -> AccountPreferences {
        AccountPreferences {
            theme: user.theme.clone(),
            language: user.language.clone(),
            notifications: AccountNotifications::new(user),
            favorite_models,
            default_model: user.default_model_id.clone(),
            usage_alerts: crate::dashboard::alerts::thresholds(user),
        }
    }
}

/// The plan's usage block, with the monthly limit that applies.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountUsage {
    pub total_generations: i64,
    pub tokens_used: i64,
    /// US dollars, as a decimal string (`"0.0123"`).
    pub total_cost: String,
    /// When the last generation ran (Unix milliseconds).
    #[schema(required = true)]
    pub last_generation: Option<i64>,
    /// Tokens a month: the account's own limit, else the instance's default.
    pub monthly_limit: i64,
    pub subscription: String,
}

/// `GET` and `PUT /api/users/settings`: the preferences and the usage.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountSettings {
    #[serde(flatten)]
    pub preferences: AccountPreferences,
    pub usage: AccountUsage,
}

/// A personal API key, never the key itself.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountApiKey {
    pub id: String,
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    /// `read`, `generate`, `admin`.
    pub scopes: Vec<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    #[schema(required = true)]
    pub last_used_at: Option<i64>,
    /// Unix milliseconds; `null` for a key that does not expire.
    #[schema(required = true)]
    pub expires_at: Option<i64>,
    /// Only on a key with the `admin` scope: what it can do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<&'static str>,
}

impl AccountApiKey {
    pub fn new(key: &ApiKeyRow) -> AccountApiKey {
        let scopes = key_scopes(key);
        let warning = grants_admin(&scopes).then_some(ADMIN_KEY_WARNING);
        AccountApiKey {
            id: key.id.clone(),
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            scopes,
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            expires_at: key.expires_at,
            warning,
        }
    }
}

/// A new API key: its record and, this once, the key.
#[derive(Serialize, ToSchema)]
pub struct AccountNewApiKey {
    #[serde(flatten)]
    pub record: AccountApiKey,
    /// The full key, for `Authorization: Bearer`. It is shown only now.
    pub key: String,
}

/// A key or session that was revoked.
#[derive(Serialize, ToSchema)]
pub struct AccountRevoked {
    pub id: String,
    /// Always `true`.
    pub revoked: bool,
}

/// A signed-in browser session of the account.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountSession {
    pub id: String,
    /// Whether it is the session of this request.
    pub current: bool,
    #[schema(required = true)]
    pub ip_address: Option<String>,
    #[schema(required = true)]
    pub user_agent: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub last_seen_at: i64,
    /// Unix milliseconds.
    pub expires_at: i64,
}

impl AccountSession {
    pub fn new(session: &SessionRow, current: Option<&str>) -> AccountSession {
        AccountSession {
            id: session.id.clone(),
            current: current == Some(session.id.as_str()),
            ip_address: session.ip_address.clone(),
            user_agent: session.user_agent.clone(),
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
            expires_at: session.expires_at,
        }
    }
}

/// A changed password.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountPasswordChanged {
    /// Always `true`.
    pub changed: bool,
    /// How many other sessions were ended.
    pub other_sessions_ended: u64,
    /// A new JWT, for a caller who came with one (the change ended it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A deleted account.
#[derive(Serialize, ToSchema)]
pub struct AccountDeleted {
    /// Always `true`.
    pub deleted: bool,
}

/// A provider the person can bring their own key for: its hint when one is stored, never the
/// key.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountProviderKey {
    /// `openrouter` or `huggingface`.
    pub provider: &'static str,
    /// The provider's name for people.
    pub name: &'static str,
    /// Whether a key is stored.
    pub configured: bool,
    /// The stored key's last characters.
    #[schema(required = true)]
    pub key_hint: Option<String>,
    /// Unix milliseconds.
    #[schema(required = true)]
    pub updated_at: Option<i64>,
}

impl AccountProviderKey {
    pub fn new(status: &ProviderKeyStatus) -> AccountProviderKey {
        AccountProviderKey {
            provider: status.provider,
            name: status.label,
            configured: status.hint.is_some(),
            key_hint: status.hint.clone(),
            updated_at: status.updated_at,
        }
    }
}

/// A provider key that was removed.
#[derive(Serialize, ToSchema)]
pub struct AccountProviderKeyRemoved {
    pub provider: String,
    /// Always `true`.
    pub removed: bool,
}
