//! Which endpoint and key serve a model: the built-in providers (OpenRouter, Hugging Face)
//! and OpenAI-compatible endpoints, with keys from the environment. A model whose provider
//! has no usable key is refused before any call, with a message that says where to add one.

use std::fmt;

use axum::http::StatusCode;

use aipasta_providers::ProviderKind;
use aipasta_providers::generate::{ApiKey, Attribution, Upstream};
use aipasta_store::catalog::ModelRow;

use crate::error::ApiError;

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
pub fn not_configured(model: &ModelRow, what: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "provider_not_configured",
        format!(
            "{} runs on {}, and {what}. An admin can add one under Admin → Settings, or you can add your own key in Settings.",
            model.display_name, model.provider
        ),
    )
}

impl ProviderSettings {
    /// The endpoint for `model`, or why there is none.
    pub fn upstream_for(&self, model: &ModelRow) -> Result<Upstream, ApiError> {
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
