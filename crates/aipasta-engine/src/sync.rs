//! Keeping the catalog in step with the providers: fetch each provider's model list, then
//! upsert it in one transaction. A fetch that fails changes nothing for that provider.
//!
//! The providers are the built-ins (OpenRouter, Hugging Face), the operator's OpenAI-compatible
//! endpoint (`AIPASTA_OPENAI_COMPATIBLE_*`: trusted, so a local Ollama just works) and the
//! OpenAI-compatible endpoints admins added, whose URLs go through the SSRF guard unless the
//! admin allowed private addresses for them.

use std::collections::HashMap;
use std::fmt;

use aipasta_core::catalog::ModelFacts;
use aipasta_core::secret_box::SecretBox;
use aipasta_providers::catalog::{
    CatalogError, fetch_huggingface_hub_models, fetch_openai_compatible_models,
    fetch_openrouter_models,
};
use aipasta_providers::net::{UrlPolicy, check_url, guarded_client};
use aipasta_store::catalog::{SyncOutcome, upsert_provider_models};
use aipasta_store::providers::{
    OPENAI_COMPATIBLE, ProviderEndpointRow, is_valid_endpoint_name, list_endpoints,
};
use aipasta_store::{Db, DbError};

/// The operator's OpenAI-compatible endpoint, as set in the environment. Trusted: any address.
#[derive(Clone)]
pub struct EndpointSource {
    /// The name its models carry in `models.provider`, and the prefix of their slugs.
    pub name: String,
    /// Its `/v1` base URL.
    pub base_url: String,
    pub api_key: Option<String>,
}

impl fmt::Debug for EndpointSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointSource")
            .field("name", &self.name)
            .field("base_url", &aipasta_store::redact_url(&self.base_url))
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// Where the providers' model lists come from. Keys are only sent, never shown.
#[derive(Clone, Default)]
pub struct SyncSources {
    pub openrouter_base_url: String,
    pub openrouter_api_key: Option<String>,
    pub huggingface_hub_url: String,
    /// The OpenAI-compatible router (`.../v1`), asked for its chat models when a key is set.
    pub huggingface_router_url: String,
    pub huggingface_api_key: Option<String>,
    /// How many of the most downloaded Hub models to list per task.
    pub huggingface_per_task_limit: u32,
    /// The operator's OpenAI-compatible endpoints (trusted).
    pub openai_compatible: Vec<EndpointSource>,
}

impl fmt::Debug for SyncSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncSources")
            .field("openrouter_base_url", &self.openrouter_base_url)
            .field(
                "openrouter_api_key",
                &self.openrouter_api_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("huggingface_hub_url", &self.huggingface_hub_url)
            .field("huggingface_router_url", &self.huggingface_router_url)
            .field(
                "huggingface_api_key",
                &self.huggingface_api_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("openai_compatible", &self.openai_compatible)
            .finish()
    }
}

/// Which providers to sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncTarget {
    OpenRouter,
    HuggingFace,
    /// One OpenAI-compatible endpoint, by name: the environment's or one an admin added.
    Endpoint(String),
    /// The built-ins, the environment's endpoint and every active endpoint admins added.
    All,
}

impl SyncTarget {
    /// The provider's name (`all` for every provider).
    pub fn name(&self) -> &str {
        match self {
            SyncTarget::OpenRouter => "openrouter",
            SyncTarget::HuggingFace => "huggingface",
            SyncTarget::Endpoint(name) => name,
            SyncTarget::All => "all",
        }
    }

    /// `openrouter`, `huggingface`, `all`, or an endpoint's name (a lower-case slug).
    pub fn parse(text: &str) -> Option<SyncTarget> {
        match text.trim() {
            "openrouter" => Some(SyncTarget::OpenRouter),
            "huggingface" => Some(SyncTarget::HuggingFace),
            "all" => Some(SyncTarget::All),
            name if is_valid_endpoint_name(name) && name != OPENAI_COMPATIBLE => {
                Some(SyncTarget::Endpoint(name.to_owned()))
            }
            _ => None,
        }
    }
}

/// What happened to one provider.
#[derive(Debug, Clone)]
pub struct ProviderReport {
    /// `openrouter`, `huggingface` or an endpoint's name.
    pub provider: String,
    pub fetched: usize,
    pub result: Result<SyncOutcome, String>,
    /// A failure that trying again later may mend (the provider or the database did not
    /// answer); not one that only an admin can (no such endpoint, turned off, an unreadable
    /// stored key).
    pub retryable: bool,
}

/// Progress, for a progress bar or a log.
#[derive(Debug, Clone)]
pub enum SyncEvent {
    Fetching { provider: String },
    Saving { provider: String, models: usize },
    Done(ProviderReport),
}

/// One provider's list to fetch.
enum Job {
    OpenRouter,
    HuggingFace,
    Endpoint(EndpointJob),
    /// Fails before any request: no such endpoint, a stored key that cannot be opened, ...
    Refused {
        provider: String,
        error: String,
        /// The database could not be read: a later try may work.
        retryable: bool,
    },
}

impl Job {
    fn provider(&self) -> &str {
        match self {
            Job::OpenRouter => "openrouter",
            Job::HuggingFace => "huggingface",
            Job::Endpoint(endpoint) => &endpoint.name,
            Job::Refused { provider, .. } => provider,
        }
    }
}

struct EndpointJob {
    name: String,
    base_url: String,
    api_key: Option<String>,
    /// `None` for the operator's endpoint (trusted); an admin's endpoint's own policy.
    policy: Option<UrlPolicy>,
}

type StoredEndpoints = Result<Vec<ProviderEndpointRow>, String>;

/// Syncs `target`'s providers one after another, reporting progress to `on_event`.
///
/// `client` is for the operator's URLs; an admin's endpoint is fetched with a guarded client of
/// its own policy. `keys` opens the keys admins stored: their endpoints' keys, and the
/// built-ins' keys when the environment sets none.
pub async fn sync_models(
    db: &Db,
    client: &reqwest::Client,
    sources: &SyncSources,
    keys: &SecretBox,
    target: SyncTarget,
    on_event: &(dyn Fn(SyncEvent) + Sync),
) -> Vec<ProviderReport> {
    let stored: StoredEndpoints = list_endpoints(db)
        .await
        .map_err(|e| format!("the provider endpoints could not be read: {e}"));
    let sources = with_stored_keys(sources, stored.as_deref().unwrap_or_default(), keys);
    let mut reports = Vec::new();
    for job in jobs(&target, &sources, &stored, keys) {
        let provider = job.provider().to_owned();
        on_event(SyncEvent::Fetching {
            provider: provider.clone(),
        });
        let fetched = match &job {
            Job::OpenRouter => fetch_openrouter(client, &sources)
                .await
                .map_err(|e| e.to_string()),
            Job::HuggingFace => fetch_huggingface(client, &sources)
                .await
                .map_err(|e| e.to_string()),
            Job::Endpoint(endpoint) => fetch_endpoint(client, endpoint).await,
            Job::Refused { error, .. } => Err(error.clone()),
        };
        let retryable = match &job {
            Job::Refused { retryable, .. } => *retryable,
            _ => true,
        };
        let report = match fetched {
            Err(error) => ProviderReport {
                provider: provider.clone(),
                fetched: 0,
                result: Err(error),
                retryable,
            },
            Ok(models) => {
                on_event(SyncEvent::Saving {
                    provider: provider.clone(),
                    models: models.len(),
                });
                let result = upsert_provider_models(db, &provider, &models, true)
                    .await
                    .map_err(|e| format!("the catalog could not be saved: {e}"));
                ProviderReport {
                    provider: provider.clone(),
                    fetched: models.len(),
                    result,
                    retryable: true,
                }
            }
        };
        match &report.result {
            Ok(outcome) => tracing::info!(
                provider,
                fetched = report.fetched,
                inserted = outcome.inserted,
                updated = outcome.updated,
                deprecated = outcome.deprecated,
                restored = outcome.restored,
                "model sync finished"
            ),
            Err(error) => {
                tracing::warn!(provider, %error, "model sync failed; the catalog is unchanged")
            }
        }
        on_event(SyncEvent::Done(report.clone()));
        reports.push(report);
    }
    reports
}

/// What the server syncs when it starts: every OpenAI-compatible endpoint (the environment's,
/// then the active ones admins added), and each built-in provider that has a key, from the
/// environment or stored by an admin. A built-in without a key is left to the compiled-in
/// catalog and to `aipasta models sync`: its models could not be run anyway.
pub async fn targets_at_start(db: &Db, sources: &SyncSources) -> Vec<SyncTarget> {
    let stored = match list_endpoints(db).await {
        Ok(rows) => rows,
        Err(error) => {
            tracing::warn!(%error, "the provider endpoints could not be read; syncing the environment's only");
            Vec::new()
        }
    };
    let has_stored_key = |provider: &str| {
        stored
            .iter()
            .any(|e| e.kind == provider && e.is_active && e.api_key_sealed.is_some())
    };
    let mut targets = Vec::new();
    if sources.openrouter_api_key.is_some() || has_stored_key("openrouter") {
        targets.push(SyncTarget::OpenRouter);
    }
    if sources.huggingface_api_key.is_some() || has_stored_key("huggingface") {
        targets.push(SyncTarget::HuggingFace);
    }
    let environment = sources.openai_compatible.iter().map(|e| e.name.clone());
    let added = stored
        .iter()
        .filter(|row| row.kind == OPENAI_COMPATIBLE && row.is_active)
        .map(|row| row.name.clone());
    for name in environment.chain(added) {
        let target = SyncTarget::Endpoint(name);
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    targets
}

/// Marks every model of `provider` deprecated (unless an admin set its status by hand), the
/// way a sync marks models that vanished upstream; for an endpoint that was deleted. Models
/// are never deleted: generations point at them.
pub async fn deprecate_provider_models(db: &Db, provider: &str) -> Result<SyncOutcome, DbError> {
    upsert_provider_models(db, provider, &[], true).await
}

/// The sources with the keys admins stored for the built-ins filled in where the environment
/// sets none.
fn with_stored_keys(
    sources: &SyncSources,
    stored: &[ProviderEndpointRow],
    keys: &SecretBox,
) -> SyncSources {
    let stored_key = |provider: &str| {
        let sealed = stored
            .iter()
            .find(|e| e.name == provider && e.kind == provider && e.is_active)?
            .api_key_sealed
            .as_deref()?;
        match keys.open(sealed) {
            Ok(key) => Some(key),
            Err(error) => {
                tracing::warn!(provider, %error, "the stored key cannot be opened; syncing without it");
                None
            }
        }
    };
    let mut sources = sources.clone();
    if sources.openrouter_api_key.is_none() {
        sources.openrouter_api_key = stored_key("openrouter");
    }
    if sources.huggingface_api_key.is_none() {
        sources.huggingface_api_key = stored_key("huggingface");
    }
    sources
}

fn jobs(
    target: &SyncTarget,
    sources: &SyncSources,
    stored: &StoredEndpoints,
    keys: &SecretBox,
) -> Vec<Job> {
    match target {
        SyncTarget::OpenRouter => vec![Job::OpenRouter],
        SyncTarget::HuggingFace => vec![Job::HuggingFace],
        SyncTarget::Endpoint(name) => vec![endpoint_job(name, sources, stored, keys)],
        SyncTarget::All => {
            let mut jobs = vec![Job::OpenRouter, Job::HuggingFace];
            jobs.extend(sources.openai_compatible.iter().map(environment_job));
            match stored {
                Ok(rows) => jobs.extend(
                    rows.iter()
                        .filter(|row| row.kind == OPENAI_COMPATIBLE && row.is_active)
                        // The environment's endpoint of the same name is the one in use.
                        .filter(|row| !sources.openai_compatible.iter().any(|e| e.name == row.name))
                        .map(|row| stored_job(row, keys)),
                ),
                Err(error) => jobs.push(Job::Refused {
                    provider: "endpoints added by admins".into(),
                    error: error.clone(),
                    retryable: true,
                }),
            }
            jobs
        }
    }
}

fn endpoint_job(
    name: &str,
    sources: &SyncSources,
    stored: &StoredEndpoints,
    keys: &SecretBox,
) -> Job {
    if let Some(endpoint) = sources.openai_compatible.iter().find(|e| e.name == name) {
        return environment_job(endpoint);
    }
    let refused = |error: String| Job::Refused {
        provider: name.to_owned(),
        error,
        retryable: false,
    };
    match stored {
        Err(error) => Job::Refused {
            provider: name.to_owned(),
            error: error.clone(),
            retryable: true,
        },
        Ok(rows) => match rows
            .iter()
            .find(|row| row.kind == OPENAI_COMPATIBLE && row.name == name)
        {
            Some(row) if !row.is_active => refused(format!(
                "the endpoint {name} is turned off; turn it on before syncing it"
            )),
            Some(row) => stored_job(row, keys),
            None => refused(format!(
                "no OpenAI-compatible endpoint is named {name}: add it under Admin → Providers, \
                 or set AIPASTA_OPENAI_COMPATIBLE_URL (and _NAME)"
            )),
        },
    }
}

fn environment_job(endpoint: &EndpointSource) -> Job {
    Job::Endpoint(EndpointJob {
        name: endpoint.name.clone(),
        base_url: endpoint.base_url.clone(),
        api_key: endpoint.api_key.clone(),
        policy: None,
    })
}

fn stored_job(row: &ProviderEndpointRow, keys: &SecretBox) -> Job {
    let api_key = match row
        .api_key_sealed
        .as_deref()
        .map(|sealed| keys.open(sealed))
    {
        None => None,
        Some(Ok(key)) => Some(key),
        Some(Err(error)) => {
            return Job::Refused {
                provider: row.name.clone(),
                error: format!("the API key stored for {}: {error}", row.name),
                retryable: false,
            };
        }
    };
    Job::Endpoint(EndpointJob {
        name: row.name.clone(),
        base_url: row.base_url.clone(),
        api_key,
        policy: Some(UrlPolicy {
            allow_private: row.allow_private,
        }),
    })
}

/// `GET {base_url}/models`, with the guarded client of the endpoint's policy when an admin
/// entered it. Its models are named `{endpoint}/{model id}`.
async fn fetch_endpoint(
    client: &reqwest::Client,
    endpoint: &EndpointJob,
) -> Result<Vec<ModelFacts>, String> {
    let guarded;
    let client = match endpoint.policy {
        None => client,
        Some(policy) => {
            check_url(&endpoint.base_url, &policy)
                .map_err(|e| format!("the URL of {} is refused: {e}", endpoint.name))?;
            guarded = guarded_client(policy).map_err(|e| e.to_string())?;
            &guarded
        }
    };
    fetch_openai_compatible_models(
        client,
        &endpoint.base_url,
        endpoint.api_key.as_deref(),
        &endpoint.name,
        &format!("{}/", endpoint.name),
    )
    .await
    .map_err(|e| e.to_string())
}

async fn fetch_openrouter(
    client: &reqwest::Client,
    sources: &SyncSources,
) -> Result<Vec<ModelFacts>, CatalogError> {
    fetch_openrouter_models(
        client,
        &sources.openrouter_base_url,
        sources.openrouter_api_key.as_deref(),
    )
    .await
}

/// The Hub's most downloaded models per task, plus the router's chat models when a key is set;
/// a model in both lists is one model that can also chat.
async fn fetch_huggingface(
    client: &reqwest::Client,
    sources: &SyncSources,
) -> Result<Vec<ModelFacts>, CatalogError> {
    let mut models = fetch_huggingface_hub_models(
        client,
        &sources.huggingface_hub_url,
        sources.huggingface_per_task_limit,
    )
    .await?;
    if let Some(key) = sources.huggingface_api_key.as_deref() {
        let routed = fetch_openai_compatible_models(
            client,
            &sources.huggingface_router_url,
            Some(key),
            "huggingface",
            "hf/",
        )
        .await?;
        let index: HashMap<String, usize> = models
            .iter()
            .enumerate()
            .map(|(i, m)| (m.provider_model_id.clone(), i))
            .collect();
        for model in routed {
            match index.get(&model.provider_model_id) {
                Some(&i) => {
                    let known = &mut models[i];
                    known.capabilities.chat_completion = true;
                    known.capabilities.text_generation = true;
                }
                None => models.push(model),
            }
        }
    }
    Ok(models)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_the_built_ins_all_or_an_endpoint_name() {
        assert_eq!(
            SyncTarget::parse("openrouter"),
            Some(SyncTarget::OpenRouter)
        );
        assert_eq!(
            SyncTarget::parse("huggingface"),
            Some(SyncTarget::HuggingFace)
        );
        assert_eq!(SyncTarget::parse(" all "), Some(SyncTarget::All));
        assert_eq!(
            SyncTarget::parse("local"),
            Some(SyncTarget::Endpoint("local".into()))
        );
        assert_eq!(
            SyncTarget::parse("lm-studio-2"),
            Some(SyncTarget::Endpoint("lm-studio-2".into()))
        );
        for refused in ["", "Local", "my endpoint", "-x", "openai-compatible"] {
            assert_eq!(SyncTarget::parse(refused), None, "{refused:?}");
        }
    }
}
