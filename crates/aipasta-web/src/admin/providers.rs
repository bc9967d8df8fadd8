//! Provider settings: the keys admins store for the built-in providers (OpenRouter, Hugging
//! Face) and the OpenAI-compatible endpoints they add (Ollama, vLLM, llama.cpp, LM Studio, ...),
//! as JSON under `/api/admin/providers` (`api.rs`) and as the `/admin/providers` page
//! (`pages.rs`). Both call the operations here.
//!
//! - Keys are sealed with the engine's `SecretBox` before they are stored and never shown back:
//!   only their hints are.
//! - An endpoint's URL passes the SSRF guard under its own policy (private, loopback and
//!   link-local addresses refused unless the admin allows them) when it is entered, and again
//!   when its models are fetched.
//! - Every change drops the engine's cached endpoints and keys (and the model rows when models
//!   change), so the next generation on this instance sees it.
//! - An endpoint that is deleted keeps its models, deprecated, so history keeps working.
//! - A new endpoint is synced at once: the answer says how many models arrived, or why none
//!   did; a sync that failed goes on trying in the background (`services::background_sync`),
//!   and an edit of the endpoint tries again at once.

mod api;
mod pages;

use std::collections::HashMap;

use aipasta_core::secret_box::key_hint;
use aipasta_providers::net::{UrlPolicy, check_url};
use aipasta_store::catalog::SyncOutcome;
use aipasta_store::providers::{
    self, EndpointError, NewProviderEndpoint, OPENAI_COMPATIBLE, ProviderEndpointRow,
    ProviderEndpointUpdate, SealedKey,
};
use aipasta_store::{DbError, Query};

use aipasta_engine::Change;
use aipasta_engine::sync::{ProviderReport, SyncTarget, deprecate_provider_models};

use crate::auth::Routes;
use crate::services::background_sync::{self, SyncState};
use crate::services::sync_for_server;
use crate::state::AppState;

/// How long adding an endpoint waits for its first sync before answering; a sync still
/// running then goes on in the background.
const FIRST_SYNC_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the sync that follows adding an endpoint did.
#[derive(Debug, Clone)]
pub enum FirstSync {
    /// Its models were fetched and saved, or the sync failed (and is tried again in the
    /// background when that may help).
    Done(ProviderReport),
    /// Still running after [`FIRST_SYNC_WAIT`]; its models arrive when it finishes.
    Pending,
    /// The endpoint was added turned off: nothing is fetched until it is turned on.
    Off,
}

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}

/// The built-in providers that take a stored key, with the names people know them by.
pub const BUILTINS: [(&str, &str); 2] = [
    ("openrouter", "OpenRouter"),
    ("huggingface", "Hugging Face"),
];

/// The name people know a built-in provider by; `None` for anything else.
pub fn builtin_label(provider: &str) -> Option<&'static str> {
    BUILTINS
        .iter()
        .find(|(name, _)| *name == provider)
        .map(|(_, label)| *label)
}

/// Longest API key accepted (real ones are well under 200 characters).
const MAX_KEY_LEN: usize = 1000;

/// A key as typed, trimmed; refused when it could not be sent in an `Authorization` header.
pub fn clean_api_key(key: &str) -> Result<&str, String> {
    let key = key.trim();
    if key.is_empty() {
        return Err("The API key is empty.".into());
    }
    if key.len() > MAX_KEY_LEN {
        return Err(format!(
            "The API key is longer than {MAX_KEY_LEN} characters; check that only the key was pasted."
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "The API key may only contain printable ASCII characters, without spaces; check that only the key was pasted."
                .into(),
        );
    }
    Ok(key)
}

/// Why a provider change was refused, in words for the admin, or a failure on our side.
#[derive(Debug)]
pub enum ProviderFailure {
    /// Bad input (400).
    Invalid(String),
    /// No such endpoint or provider (404).
    NotFound(String),
    /// The name is taken (409).
    Conflict(String),
    Internal(String),
}

impl ProviderFailure {
    pub fn message(&self) -> String {
        match self {
            ProviderFailure::Invalid(message)
            | ProviderFailure::NotFound(message)
            | ProviderFailure::Conflict(message) => message.clone(),
            ProviderFailure::Internal(_) => {
                "Something went wrong on our side; try again in a moment.".into()
            }
        }
    }
}

impl From<DbError> for ProviderFailure {
    fn from(error: DbError) -> ProviderFailure {
        ProviderFailure::Internal(error.to_string())
    }
}

impl From<EndpointError> for ProviderFailure {
    fn from(error: EndpointError) -> ProviderFailure {
        match error {
            EndpointError::NameTaken(_) => ProviderFailure::Conflict(format!("Name: {error}.")),
            EndpointError::InvalidName(_) | EndpointError::InvalidKind(_) => {
                ProviderFailure::Invalid(format!("Name: {error}."))
            }
            EndpointError::Db(db) => db.into(),
        }
    }
}

fn invalid(message: impl Into<String>) -> ProviderFailure {
    ProviderFailure::Invalid(message.into())
}

/// An endpoint as the API and the form send it; `None` keeps the current value on an update.
/// `api_key`: `Some("")` removes the stored key.
#[derive(Debug, Default, Clone)]
pub struct EndpointInput {
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    pub allow_private: Option<bool>,
    pub is_active: Option<bool>,
}

/// The URL as stored (trimmed, without a trailing slash), once it passed the SSRF check for
/// `allow_private`.
fn checked_base_url(url: &str, allow_private: bool) -> Result<String, ProviderFailure> {
    let url = url.trim();
    if url.is_empty() {
        return Err(invalid(
            "Base URL: enter the server's OpenAI-compatible address, e.g. https://llm.example.com/v1.",
        ));
    }
    check_url(url, &UrlPolicy { allow_private })
        .map_err(|error| invalid(format!("Base URL: {error}.")))?;
    Ok(url.trim_end_matches('/').to_owned())
}

fn seal(state: &AppState, key: &str) -> SealedKey {
    SealedKey {
        sealed: state.engine.directory.secret_box().seal(key),
        hint: key_hint(key),
    }
}

/// The name is not the environment's endpoint's (whose models would be mixed with these).
fn check_not_environment_name(state: &AppState, name: &str) -> Result<(), ProviderFailure> {
    if state
        .engine
        .directory
        .settings
        .openai_compatible
        .iter()
        .any(|e| e.name == name)
    {
        return Err(ProviderFailure::Conflict(format!(
            "Name: {name:?} is the name of the endpoint set in the environment \
             (AIPASTA_OPENAI_COMPATIBLE_NAME); choose another."
        )));
    }
    Ok(())
}

/// After a change: the engine reads endpoints and keys again, and model rows if they changed.
fn forget(state: &AppState, models_changed: bool) {
    state.engine.changed(Change::Providers);
    if models_changed {
        state.catalog_changed();
    }
}

/// Adds an OpenAI-compatible endpoint and syncs its models (see [`FirstSync`]).
pub async fn create_endpoint(
    state: &AppState,
    created_by: &str,
    input: &EndpointInput,
) -> Result<(ProviderEndpointRow, FirstSync), ProviderFailure> {
    let name = input.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(invalid(
            "Name: enter a short name such as ollama; its models are listed under it.",
        ));
    }
    let allow_private = input.allow_private.unwrap_or(false);
    let base_url = checked_base_url(input.base_url.as_deref().unwrap_or_default(), allow_private)?;
    let api_key = match input.api_key.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(key) => Some(seal(state, clean_api_key(key).map_err(invalid)?)),
    };
    check_not_environment_name(state, name)?;
    let row = providers::create_endpoint(
        &state.db,
        &NewProviderEndpoint {
            name: name.to_owned(),
            kind: OPENAI_COMPATIBLE.to_owned(),
            base_url,
            api_key,
            allow_private,
            is_active: input.is_active.unwrap_or(true),
            created_by: Some(created_by.to_owned()),
        },
    )
    .await?;
    tracing::info!(endpoint = %row.name, by = created_by, "an admin added a provider endpoint");
    forget(state, false);
    let first_sync = if row.is_active {
        let first = background_sync::start(state, SyncTarget::Endpoint(row.name.clone()));
        match tokio::time::timeout(FIRST_SYNC_WAIT, first).await {
            Ok(Ok(report)) => FirstSync::Done(report),
            // Replaced by a newer sync of the same endpoint, or still running.
            Ok(Err(_)) | Err(_) => FirstSync::Pending,
        }
    } else {
        FirstSync::Off
    };
    Ok((row, first_sync))
}

/// What the endpoint's background sync is doing, in a sentence; `None` when none runs.
pub fn background_sync_sentence(state: &AppState, provider: &str) -> Option<String> {
    Some(match state.background_syncs.state(provider)? {
        SyncState::Running => "Fetching its models now.".to_owned(),
        SyncState::Waiting { error, retry_at } => {
            let seconds = retry_at
                .saturating_duration_since(std::time::Instant::now())
                .as_secs()
                .max(1);
            format!(
                "The last sync failed: {}. Trying again in about {seconds} s.",
                error.trim_end_matches('.')
            )
        }
    })
}

/// An admin-added endpoint (not a built-in's key row), or 404.
async fn find_endpoint(state: &AppState, id: &str) -> Result<ProviderEndpointRow, ProviderFailure> {
    providers::find_endpoint(&state.db, id)
        .await?
        .filter(|row| row.kind == OPENAI_COMPATIBLE)
        .ok_or_else(|| ProviderFailure::NotFound("No provider endpoint has that id.".into()))
}

/// Changes what `input` sets on the endpoint `id`. Its name cannot change: its models carry it.
pub async fn update_endpoint(
    state: &AppState,
    id: &str,
    input: &EndpointInput,
) -> Result<ProviderEndpointRow, ProviderFailure> {
    let current = find_endpoint(state, id).await?;
    if let Some(name) = input.name.as_deref().map(str::trim)
        && name != current.name
    {
        return Err(invalid(format!(
            "Name: an endpoint cannot be renamed, since its models carry the name {:?}; add a new endpoint instead.",
            current.name
        )));
    }
    let allow_private = input.allow_private.unwrap_or(current.allow_private);
    // A new URL, or the same URL under a stricter policy, is checked again.
    let base_url = match &input.base_url {
        Some(url) => Some(checked_base_url(url, allow_private)?),
        None if !allow_private && current.allow_private => {
            checked_base_url(&current.base_url, false)?;
            None
        }
        None => None,
    };
    let api_key = match input.api_key.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(key) => Some(Some(seal(state, clean_api_key(key).map_err(invalid)?))),
    };
    let update = ProviderEndpointUpdate {
        name: None,
        base_url,
        api_key,
        allow_private: input.allow_private,
        is_active: input.is_active,
    };
    let row = providers::update_endpoint(&state.db, &current.id, &update)
        .await?
        .ok_or_else(|| ProviderFailure::NotFound("No provider endpoint has that id.".into()))?;
    tracing::info!(endpoint = %row.name, "an admin changed a provider endpoint");
    forget(state, false);
    if !row.is_active {
        state.background_syncs.stop(&row.name);
    } else if !current.is_active || state.background_syncs.state(&row.name).is_some() {
        // Turned on: its models are fetched. A failing sync tries the new settings now rather
        // than after its wait.
        drop(background_sync::start(
            state,
            SyncTarget::Endpoint(row.name.clone()),
        ));
    }
    Ok(row)
}

/// Deletes the endpoint; its models stay, deprecated (what a sync does to models that vanish).
pub async fn delete_endpoint(
    state: &AppState,
    id: &str,
) -> Result<(ProviderEndpointRow, SyncOutcome), ProviderFailure> {
    let row = find_endpoint(state, id).await?;
    if !providers::delete_endpoint(&state.db, &row.id).await? {
        return Err(ProviderFailure::NotFound(
            "No provider endpoint has that id.".into(),
        ));
    }
    state.background_syncs.stop(&row.name);
    // The environment's endpoint of the same name, if one appeared since, keeps them.
    let in_use = state
        .engine
        .directory
        .settings
        .openai_compatible
        .iter()
        .any(|e| e.name == row.name);
    let outcome = if in_use {
        SyncOutcome::default()
    } else {
        deprecate_provider_models(&state.db, &row.name).await?
    };
    tracing::info!(
        endpoint = %row.name,
        deprecated = outcome.deprecated,
        "an admin deleted a provider endpoint"
    );
    forget(state, true);
    Ok((row, outcome))
}

/// Fetches the endpoint's model list and brings the catalog in step with it.
pub async fn sync_endpoint(state: &AppState, id: &str) -> Result<ProviderReport, ProviderFailure> {
    let row = find_endpoint(state, id).await?;
    sync_provider(state, &row.name).await
}

/// Syncs one provider by name: a built-in, the environment's endpoint or an admin's endpoint.
pub async fn sync_provider(
    state: &AppState,
    provider: &str,
) -> Result<ProviderReport, ProviderFailure> {
    let target = SyncTarget::parse(provider)
        .filter(|target| *target != SyncTarget::All)
        .ok_or_else(|| ProviderFailure::NotFound(format!("No provider is named {provider:?}.")))?;
    let report = sync_for_server(state, target)
        .await
        .into_iter()
        .next()
        .ok_or_else(|| ProviderFailure::Internal("the sync reported nothing".into()))?;
    if report.result.is_ok() {
        // Done by hand: a background sync still trying is no longer needed.
        state.background_syncs.stop(&report.provider);
    }
    Ok(report)
}

/// Stores (or replaces) the admin's key for a built-in provider.
pub async fn set_builtin_key(
    state: &AppState,
    provider: &str,
    key: &str,
    by: &str,
) -> Result<String, ProviderFailure> {
    let label = builtin_label(provider).ok_or_else(|| unknown_builtin(provider))?;
    let sealed = seal(state, clean_api_key(key).map_err(invalid)?);
    let hint = sealed.hint.clone();
    match providers::find_endpoint_by_name(&state.db, provider).await? {
        Some(row) => {
            let update = ProviderEndpointUpdate {
                api_key: Some(Some(sealed)),
                is_active: Some(true),
                ..ProviderEndpointUpdate::default()
            };
            providers::update_endpoint(&state.db, &row.id, &update).await?;
        }
        None => {
            let settings = &state.engine.directory.settings;
            let base_url = if provider == "openrouter" {
                settings.openrouter_base_url.clone()
            } else {
                settings.huggingface_router_url.clone()
            };
            providers::create_endpoint(
                &state.db,
                &NewProviderEndpoint {
                    name: provider.to_owned(),
                    kind: provider.to_owned(),
                    base_url,
                    api_key: Some(sealed),
                    allow_private: false,
                    is_active: true,
                    created_by: Some(by.to_owned()),
                },
            )
            .await?;
        }
    }
    tracing::info!(provider = label, by, "an admin stored a provider key");
    forget(state, false);
    Ok(hint)
}

/// Removes the admin's key for a built-in provider (the environment's key, if any, is used).
pub async fn clear_builtin_key(state: &AppState, provider: &str) -> Result<(), ProviderFailure> {
    let label = builtin_label(provider).ok_or_else(|| unknown_builtin(provider))?;
    let row = providers::find_endpoint_by_name(&state.db, provider)
        .await?
        .filter(|row| row.api_key_sealed.is_some())
        .ok_or_else(|| ProviderFailure::NotFound(format!("No key is stored for {label}.")))?;
    providers::delete_endpoint(&state.db, &row.id).await?;
    tracing::info!(provider = label, "an admin removed a stored provider key");
    forget(state, false);
    Ok(())
}

fn unknown_builtin(provider: &str) -> ProviderFailure {
    ProviderFailure::NotFound(format!(
        "{provider:?} is not a built-in provider: keys can be stored for openrouter and huggingface."
    ))
}

/// Where the key a built-in provider uses comes from (a user's own key comes first for their
/// generations, whatever this says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Stored,
    Environment,
    None,
}

impl KeySource {
    pub fn as_str(self) -> &'static str {
        match self {
            KeySource::Stored => "stored",
            KeySource::Environment => "environment",
            KeySource::None => "none",
        }
    }
}

/// A built-in provider's key status.
#[derive(Debug, Clone)]
pub struct BuiltinStatus {
    pub provider: &'static str,
    pub label: &'static str,
    pub source: KeySource,
    pub stored_hint: Option<String>,
    pub environment_key: bool,
    pub models: i64,
}

/// The operator's endpoint, from the environment.
#[derive(Debug, Clone)]
pub struct EnvironmentEndpoint {
    pub name: String,
    /// Without any password it may carry.
    pub base_url: String,
    pub has_key: bool,
    pub models: i64,
}

/// Everything the page and `GET /api/admin/providers` show.
#[derive(Debug, Clone)]
pub struct Overview {
    pub builtins: Vec<BuiltinStatus>,
    pub endpoints: Vec<(ProviderEndpointRow, i64)>,
    pub environment: Vec<EnvironmentEndpoint>,
}

/// Models per provider that are not deprecated.
async fn model_counts(state: &AppState) -> Result<HashMap<String, i64>, DbError> {
    let rows: Vec<(String, i64)> = Query::new(
        "SELECT provider, CAST(COUNT(*) AS BIGINT) FROM models WHERE status <> 'deprecated' \
         GROUP BY provider",
    )
    .fetch_all(&state.db)
    .await?;
    Ok(rows.into_iter().collect())
}

pub async fn overview(state: &AppState) -> Result<Overview, ProviderFailure> {
    let rows = providers::list_endpoints(&state.db).await?;
    let counts = model_counts(state).await?;
    let count = |name: &str| counts.get(name).copied().unwrap_or(0);
    let settings = &state.engine.directory.settings;
    let builtins = BUILTINS
        .iter()
        .map(|&(provider, label)| {
            let stored_hint = rows
                .iter()
                .find(|row| row.kind == provider && row.is_active)
                .and_then(|row| row.api_key_hint.clone());
            let environment_key = if provider == "openrouter" {
                settings.openrouter_api_key.is_some()
            } else {
                settings.huggingface_api_key.is_some()
            };
            let source = if stored_hint.is_some() {
                KeySource::Stored
            } else if environment_key {
                KeySource::Environment
            } else {
                KeySource::None
            };
            BuiltinStatus {
                provider,
                label,
                source,
                stored_hint,
                environment_key,
                models: count(provider),
            }
        })
        .collect();
    let environment = settings
        .openai_compatible
        .iter()
        .map(|e| EnvironmentEndpoint {
            name: e.name.clone(),
            base_url: aipasta_store::redact_url(&e.base_url),
            has_key: e.api_key.is_some(),
            models: count(&e.name),
        })
        .collect();
    let endpoints = rows
        .into_iter()
        .filter(|row| row.kind == OPENAI_COMPATIBLE)
        .map(|row| {
            let models = count(&row.name);
            (row, models)
        })
        .collect();
    Ok(Overview {
        builtins,
        endpoints,
        environment,
    })
}

/// A sync's result in a sentence.
pub fn report_sentence(report: &ProviderReport) -> String {
    match &report.result {
        Ok(o) => format!(
            "{}: {} models fetched — {} new, {} updated, {} deprecated, {} back.",
            report.provider, report.fetched, o.inserted, o.updated, o.deprecated, o.restored
        ),
        Err(error) => format!(
            "{}: the sync failed and the catalog is unchanged — {error}",
            report.provider
        ),
    }
}

/// Milliseconds since the epoch as people read them.
fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_trimmed_and_must_fit_a_header() {
        assert_eq!(clean_api_key("  sk-or-v1-abc \n"), Ok("sk-or-v1-abc"));
        for refused in [
            "",
            "   ",
            "two words",
            "clé",
            "tab\there",
            &"x".repeat(1001),
        ] {
            assert!(clean_api_key(refused).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn only_the_built_ins_have_labels() {
        assert_eq!(builtin_label("openrouter"), Some("OpenRouter"));
        assert_eq!(builtin_label("huggingface"), Some("Hugging Face"));
        assert_eq!(builtin_label("ollama"), None);
    }
}
