//! Which endpoint and key serve a model: the built-in providers (OpenRouter, Hugging Face)
//! and OpenAI-compatible endpoints, with keys from the caller's settings, an admin, or the
//! environment. A model whose provider has no usable key is refused before any call, with a
//! message that says where to add one.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use aipasta_core::secret_box::SecretBox;
use aipasta_providers::ProviderKind;
use aipasta_providers::generate::{ApiKey, Attribution, Upstream};
use aipasta_store::Db;
use aipasta_store::catalog::ModelRow;
use aipasta_store::providers::{ProviderEndpointRow, find_user_key, list_endpoints};

use crate::error::GenerationError;

/// An OpenAI-compatible endpoint the operator configured (`AIPASTA_OPENAI_COMPATIBLE_*`):
/// trusted, so a local Ollama on `localhost:11434` just works.
#[derive(Clone)]
pub struct EnvEndpoint {
    /// The name its models carry in `models.provider`.
    pub name: String,
    /// Its `/v1` base URL.
    pub base_url: String,
    pub api_key: Option<ApiKey>,
}

/// The operator's provider configuration.
#[derive(Clone, Default)]
pub struct ProviderSettings {
    pub openrouter_base_url: String,
    pub openrouter_api_key: Option<ApiKey>,
    /// Hugging Face's OpenAI-compatible router (`…/v1`), for chat.
    pub huggingface_router_url: String,
    /// Hugging Face's inference API (`…/hf-inference`), for the other tasks.
    pub huggingface_inference_url: String,
    pub huggingface_api_key: Option<ApiKey>,
    pub openai_compatible: Vec<EnvEndpoint>,
    /// OpenRouter's app attribution (`HTTP-Referer`, `X-Title`).
    pub attribution: Option<Attribution>,
}

impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("openrouter_base_url", &self.openrouter_base_url)
            .field("openrouter_api_key", &self.openrouter_api_key)
            .field("huggingface_router_url", &self.huggingface_router_url)
            .field("huggingface_inference_url", &self.huggingface_inference_url)
            .field("huggingface_api_key", &self.huggingface_api_key)
            .field(
                "openai_compatible",
                &self
                    .openai_compatible
                    .iter()
                    .map(|e| (&e.name, &e.base_url))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Why a model cannot be called from here.
pub fn not_configured(model: &ModelRow, reason: &'static str) -> GenerationError {
    GenerationError::ProviderNotConfigured {
        model: model.display_name.clone(),
        provider: model.provider.clone(),
        reason,
    }
}

impl ProviderSettings {
    /// The endpoint for `model`, or why there is none.
    pub fn upstream_for(&self, model: &ModelRow) -> Result<Upstream, GenerationError> {
        match model.provider.as_str() {
            "openrouter" => {
                let key = self
                    .openrouter_api_key
                    .clone()
                    .ok_or_else(|| not_configured(model, "no OpenRouter API key is configured"))?;
                Ok(Upstream {
                    kind: ProviderKind::OpenRouter,
                    name: "OpenRouter".into(),
                    base_url: trim(&self.openrouter_base_url),
                    inference_url: None,
                    api_key: Some(key),
                    attribution: self.attribution.clone(),
                })
            }
            "huggingface" => {
                let key = self
                    .huggingface_api_key
                    .clone()
                    .ok_or_else(|| not_configured(model, "no Hugging Face token is configured"))?;
                Ok(Upstream {
                    kind: ProviderKind::HuggingFace,
                    name: "Hugging Face".into(),
                    base_url: trim(&self.huggingface_router_url),
                    inference_url: Some(trim(&self.huggingface_inference_url)),
                    api_key: Some(key),
                    attribution: None,
                })
            }
            name => {
                let endpoint = self
                    .openai_compatible
                    .iter()
                    .find(|e| e.name == name)
                    .ok_or_else(|| not_configured(model, "that endpoint is not configured"))?;
                Ok(Upstream {
                    kind: ProviderKind::OpenAiCompatible,
                    name: endpoint.name.clone(),
                    base_url: trim(&endpoint.base_url),
                    inference_url: None,
                    api_key: endpoint.api_key.clone(),
                    attribution: None,
                })
            }
        }
    }
}

fn trim(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

/// Which outbound client a call must use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// URLs the operator set: any address.
    Trusted,
    /// URLs an admin entered: private, loopback and link-local addresses refused, after DNS
    /// and on every redirect.
    Guarded,
}

/// How long stored endpoints and users' keys are reused before they are read again; an
/// admin's or user's change on this instance clears them at once.
const STORED_TTL: Duration = Duration::from_secs(5);
/// The most (account, provider) keys kept.
const MAX_USER_KEYS: u64 = 100_000;

/// Resolves a model's endpoint and key: the caller's own key first (OpenRouter, Hugging Face),
/// then a key an admin stored, then the environment; OpenAI-compatible endpoints from the
/// environment or added by an admin.
pub struct ProviderDirectory {
    pub settings: ProviderSettings,
    keys: SecretBox,
    /// The endpoints admins added or configured (one entry).
    stored: Cache<(), Arc<Vec<ProviderEndpointRow>>>,
    /// Each account's own key per provider (`None`: they stored none).
    user_keys: Cache<(String, String), Option<ApiKey>>,
}

impl ProviderDirectory {
    pub fn new(settings: ProviderSettings, keys: SecretBox) -> ProviderDirectory {
        ProviderDirectory {
            settings,
            keys,
            stored: Cache::builder()
                .max_capacity(1)
                .time_to_live(STORED_TTL)
                .build(),
            user_keys: Cache::builder()
                .max_capacity(MAX_USER_KEYS)
                .time_to_live(STORED_TTL)
                .build(),
        }
    }

    /// The box that seals stored provider keys.
    pub fn secret_box(&self) -> &SecretBox {
        &self.keys
    }

    /// Forgets cached endpoints and keys (after an admin or a user changes them).
    pub fn forget(&self) {
        self.stored.invalidate_all();
        self.user_keys.invalidate_all();
    }

    /// The endpoint, key and network for calling `model` on behalf of `user_id`.
    pub async fn resolve(
        &self,
        db: &Db,
        model: &ModelRow,
        user_id: &str,
    ) -> Result<(Upstream, Network), GenerationError> {
        let stored = self.stored_endpoints(db).await?;
        match model.provider.as_str() {
            provider @ ("openrouter" | "huggingface") => {
                let mut settings = self.settings.clone();
                let own = self.user_key(db, user_id, provider).await?;
                let admin = stored
                    .iter()
                    .find(|e| e.name == provider && e.is_active)
                    .and_then(|e| e.api_key_sealed.as_deref())
                    .and_then(|sealed| self.open(sealed));
                if let Some(key) = own.or(admin) {
                    if provider == "openrouter" {
                        settings.openrouter_api_key = Some(key);
                    } else {
                        settings.huggingface_api_key = Some(key);
                    }
                }
                Ok((settings.upstream_for(model)?, Network::Trusted))
            }
            name => {
                if self
                    .settings
                    .openai_compatible
                    .iter()
                    .any(|e| e.name == name)
                {
                    return Ok((self.settings.upstream_for(model)?, Network::Trusted));
                }
                let endpoint = stored
                    .iter()
                    .find(|e| e.name == name && e.is_active)
                    .ok_or_else(|| {
                        not_configured(model, "that endpoint is not configured or is turned off")
                    })?;
                let upstream = Upstream {
                    kind: ProviderKind::OpenAiCompatible,
                    name: endpoint.name.clone(),
                    base_url: trim(&endpoint.base_url),
                    inference_url: None,
                    api_key: endpoint
                        .api_key_sealed
                        .as_deref()
                        .and_then(|sealed| self.open(sealed)),
                    attribution: None,
                };
                let network = if endpoint.allow_private {
                    Network::Trusted
                } else {
                    Network::Guarded
                };
                Ok((upstream, network))
            }
        }
    }

    fn open(&self, sealed: &str) -> Option<ApiKey> {
        match self.keys.open(sealed) {
            Ok(key) => Some(ApiKey::new(key)),
            Err(error) => {
                // The server secret changed since the key was stored: it must be entered again.
                tracing::warn!(%error, "a stored provider key cannot be opened with this server secret");
                None
            }
        }
    }

    async fn stored_endpoints(
        &self,
        db: &Db,
    ) -> Result<Arc<Vec<ProviderEndpointRow>>, GenerationError> {
        self.stored
            .try_get_with((), async { list_endpoints(db).await.map(Arc::new) })
            .await
            .map_err(|error| GenerationError::from_db(&error))
    }

    async fn user_key(
        &self,
        db: &Db,
        user_id: &str,
        provider: &str,
    ) -> Result<Option<ApiKey>, GenerationError> {
        self.user_keys
            .try_get_with((user_id.to_owned(), provider.to_owned()), async {
                let row = find_user_key(db, user_id, provider).await?;
                Ok::<_, aipasta_store::DbError>(row.and_then(|row| self.open(&row.api_key_sealed)))
            })
            .await
            .map_err(|error| GenerationError::from_db(&error))
    }
}
