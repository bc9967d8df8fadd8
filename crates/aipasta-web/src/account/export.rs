//! The account export (the plan's GDPR download): everything an account owns as one JSON
//! document, typed, for `GET /api/users/export` and the settings page's download.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use aipasta_core::clock::now_ms;
use aipasta_store::accounts::{self, UserRow};
use aipasta_store::{Db, DbError, Query};

use super::views::{AccountIdentity, AccountNotifications};

/// Everything an account owns: profile, settings, usage, sign-in identities, API keys (without
/// their secrets), generations, favourites and presets.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountExport {
    /// When the export was made (Unix milliseconds).
    exported_at: i64,
    profile: AccountExportProfile,
    settings: AccountExportSettings,
    usage: AccountExportUsage,
    identities: Vec<AccountIdentity>,
    api_keys: Vec<AccountExportApiKey>,
    generations: Vec<AccountExportGeneration>,
    favorites: Vec<AccountExportFavorite>,
    presets: Vec<AccountExportPreset>,
}

/// The account's profile, as exported.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AccountExportProfile {
    id: String,
    email: String,
    name: String,
    #[schema(required = true)]
    image: Option<String>,
    /// `user`, `moderator` or `admin`.
    role: String,
    #[schema(required = true)]
    bio: Option<String>,
    #[schema(required = true)]
    website: Option<String>,
    #[schema(required = true)]
    github: Option<String>,
    #[schema(required = true)]
    twitter: Option<String>,
    public_profile: bool,
    /// Unix milliseconds.
    created_at: i64,
    /// Unix milliseconds.
    #[schema(required = true)]
    last_login: Option<i64>,
}

/// The account's preferences, as exported.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AccountExportSettings {
    theme: String,
    language: String,
    notifications: AccountNotifications,
    /// The id of the model the playground starts with.
    #[schema(required = true)]
    default_model: Option<String>,
}

/// The account's usage, as exported.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AccountExportUsage {
    total_generations: i64,
    tokens_used: i64,
    /// US dollars × 10⁹.
    total_cost_nanos: i64,
    /// The account's own monthly token limit, if it has one.
    #[schema(required = true)]
    monthly_limit: Option<i64>,
    subscription: String,
}

/// An API key, without its secret.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AccountExportApiKey {
    name: String,
    prefix: String,
    /// The scope names, as stored.
    #[schema(value_type = Vec<String>)]
    scopes: Value,
    created_at: i64,
    #[schema(required = true)]
    last_used_at: Option<i64>,
    #[schema(required = true)]
    revoked_at: Option<i64>,
}

/// A generation the account ran.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AccountExportGeneration {
    id: String,
    #[schema(required = true)]
    model_id: Option<String>,
    #[schema(required = true)]
    session_id: Option<String>,
    /// Where it ran from (`playground`, `api`, `v1`, ...).
    source: String,
    prompt: String,
    #[schema(required = true)]
    system_prompt: Option<String>,
    /// The conversation, as sent.
    #[schema(value_type = Object)]
    messages: Value,
    /// The parameters, as sent.
    #[schema(value_type = Object)]
    parameters: Value,
    output: String,
    prompt_tokens: i64,
    completion_tokens: i64,
    /// US dollars × 10⁹.
    cost_nanos: i64,
    status: String,
    created_at: i64,
}

/// A favourite model.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AccountExportFavorite {
    /// The model's slug.
    model: String,
    created_at: i64,
}

/// A saved parameter preset.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AccountExportPreset {
    name: String,
    #[schema(value_type = Object)]
    parameters: Value,
    #[schema(required = true)]
    system_prompt: Option<String>,
    created_at: i64,
}

/// Stored JSON text as a value (`null` if it is not JSON).
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

type GenerationColumns = (
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    String,
    i64,
);

/// The export of the account `user_id`, or none when it no longer exists.
pub async fn export_account(db: &Db, user_id: &str) -> Result<Option<AccountExport>, DbError> {
    let Some(user) = accounts::find_user_by_id(db, user_id).await? else {
        return Ok(None);
    };
    let generations: Vec<GenerationColumns> = Query::new(
        "SELECT id, model_id, session_id, source, prompt, system_prompt, messages, parameters, \
         output_content, prompt_tokens, completion_tokens, cost_nanos, status, created_at \
         FROM generations WHERE user_id = $1 ORDER BY created_at",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?;
    let favorites: Vec<(String, i64)> = Query::new(
        "SELECT m.slug, f.created_at FROM favorites f JOIN models m ON m.id = f.model_id \
         WHERE f.user_id = $1 ORDER BY f.created_at",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?;
    let presets: Vec<(String, String, Option<String>, i64)> = Query::new(
        "SELECT name, parameters, system_prompt, created_at FROM parameter_presets \
         WHERE user_id = $1 ORDER BY name",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?;
    let identities = accounts::list_identities(db, user_id).await?;
    let keys = accounts::list_api_keys(db, user_id).await?;
    Ok(Some(AccountExport {
        exported_at: now_ms(),
        profile: profile(&user),
        settings: AccountExportSettings {
            theme: user.theme.clone(),
            language: user.language.clone(),
            notifications: AccountNotifications::new(&user),
            default_model: user.default_model_id.clone(),
        },
        usage: AccountExportUsage {
            total_generations: user.total_generations,
            tokens_used: user.tokens_used,
            total_cost_nanos: user.total_cost_nanos,
            monthly_limit: user.monthly_token_limit,
            subscription: user.subscription.clone(),
        },
        identities: identities.iter().map(AccountIdentity::new).collect(),
        api_keys: keys
            .into_iter()
            .map(|k| AccountExportApiKey {
                scopes: parse(&k.scopes),
                name: k.name,
                prefix: k.prefix,
                created_at: k.created_at,
                last_used_at: k.last_used_at,
                revoked_at: k.revoked_at,
            })
            .collect(),
        generations: generations.into_iter().map(generation).collect(),
        favorites: favorites
            .into_iter()
            .map(|(model, created_at)| AccountExportFavorite { model, created_at })
            .collect(),
        presets: presets
            .into_iter()
            .map(
                |(name, parameters, system_prompt, created_at)| AccountExportPreset {
                    name,
                    parameters: parse(&parameters),
                    system_prompt,
                    created_at,
                },
            )
            .collect(),
    }))
}

fn profile(user: &UserRow) -> AccountExportProfile {
    AccountExportProfile {
        id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        image: user.image.clone(),
        role: user.role.clone(),
        bio: user.bio.clone(),
        website: user.website.clone(),
        github: user.github.clone(),
        twitter: user.twitter.clone(),
        public_profile: user.public_profile,
        created_at: user.created_at,
        last_login: user.last_login_at,
    }
}

fn generation(columns: GenerationColumns) -> AccountExportGeneration {
    let (
        id,
        model_id,
        session_id,
        source,
        prompt,
        system_prompt,
        messages,
        parameters,
        output,
        prompt_tokens,
        completion_tokens,
        cost_nanos,
        status,
        created_at,
    ) = columns;
    AccountExportGeneration {
        id,
        model_id,
        session_id,
        source,
        prompt,
        system_prompt,
        messages: parse(&messages),
        parameters: parse(&parameters),
        output,
        prompt_tokens,
        completion_tokens,
        cost_nanos,
        status,
        created_at,
    }
}
