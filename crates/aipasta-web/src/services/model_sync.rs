//! Keeping the catalog in step with the providers: fetch each provider's model list, then
//! upsert it in one transaction. A fetch that fails changes nothing for that provider.

use std::collections::HashMap;
use std::fmt;

use aipasta_core::catalog::ModelFacts;
use aipasta_providers::catalog::{
    CatalogError, fetch_huggingface_hub_models, fetch_openai_compatible_models,
    fetch_openrouter_models,
};
use aipasta_store::Db;
use aipasta_store::catalog::{SyncOutcome, upsert_provider_models};

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
            .finish()
    }
}

/// Which providers to sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncTarget {
    OpenRouter,
    HuggingFace,
    All,
}

impl SyncTarget {
    pub fn parse(text: &str) -> Option<SyncTarget> {
        match text {
            "openrouter" => Some(SyncTarget::OpenRouter),
            "huggingface" => Some(SyncTarget::HuggingFace),
            "all" => Some(SyncTarget::All),
            _ => None,
        }
    }

    fn providers(self) -> &'static [&'static str] {
        match self {
            SyncTarget::OpenRouter => &["openrouter"],
            SyncTarget::HuggingFace => &["huggingface"],
            SyncTarget::All => &["openrouter", "huggingface"],
        }
    }
}

/// What happened to one provider.
#[derive(Debug, Clone)]
pub struct ProviderReport {
    pub provider: &'static str,
    pub fetched: usize,
    pub result: Result<SyncOutcome, String>,
}

/// Progress, for a progress bar or a log.
#[derive(Debug, Clone)]
pub enum SyncEvent {
    Fetching {
        provider: &'static str,
    },
    Saving {
        provider: &'static str,
        models: usize,
    },
    Done(ProviderReport),
}

/// Syncs `target`'s providers one after another, reporting progress to `on_event`.
pub async fn sync_models(
    db: &Db,
    client: &reqwest::Client,
    sources: &SyncSources,
    target: SyncTarget,
    on_event: &(dyn Fn(SyncEvent) + Sync),
) -> Vec<ProviderReport> {
    let mut reports = Vec::new();
    for &provider in target.providers() {
        on_event(SyncEvent::Fetching { provider });
        let fetched = match provider {
            "openrouter" => fetch_openrouter(client, sources).await,
            _ => fetch_huggingface(client, sources).await,
        };
        let report = match fetched {
            Err(error) => ProviderReport {
                provider,
                fetched: 0,
                result: Err(error.to_string()),
            },
            Ok(models) => {
                on_event(SyncEvent::Saving {
                    provider,
                    models: models.len(),
                });
                let result = upsert_provider_models(db, provider, &models, true)
                    .await
                    .map_err(|e| format!("the catalog could not be saved: {e}"));
                ProviderReport {
                    provider,
                    fetched: models.len(),
                    result,
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
