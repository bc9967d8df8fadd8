//! Fetching model lists over HTTP with the caller's shared `reqwest::Client`: one total timeout
//! per request, errors that say what to check, API keys sent as bearer tokens and never shown.

use std::collections::HashSet;
use std::time::Duration;

use aipasta_core::catalog::ModelFacts;
use reqwest::header::ACCEPT;

use crate::catalog::{
    CatalogError, parse_huggingface_hub_models, parse_openai_models_list, parse_openrouter_models,
};

/// How long one model-list request may take, connection to last byte.
pub const CATALOG_FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// OpenRouter's API base; callers pass their configured one.
pub const DEFAULT_OPENROUTER_BASE_URL: &str = "https://openrouter.ai/api/v1";

/// The Hugging Face Hub; callers pass their configured one.
pub const DEFAULT_HF_HUB_URL: &str = "https://huggingface.co";

/// The Hub pipeline tags the catalog asks for, one request each.
pub const HF_HUB_PIPELINE_TAGS: [&str; 5] = [
    "text-generation",
    "text-to-image",
    "summarization",
    "translation",
    "feature-extraction",
];

/// How much of an error answer goes into the error message.
const SNIPPET_CHARS: usize = 200;

/// `GET {base_url}/models?output_modalities=all` (all modalities, so image and embedding models
/// are listed too), within [`CATALOG_FETCH_TIMEOUT`].
pub async fn fetch_openrouter_models(
    client: &reqwest::Client,
    base_url: &str,
    api_key: Option<&str>,
) -> Result<Vec<ModelFacts>, CatalogError> {
    fetch_openrouter_models_within(client, base_url, api_key, CATALOG_FETCH_TIMEOUT).await
}

/// [`fetch_openrouter_models`] with a chosen timeout.
pub async fn fetch_openrouter_models_within(
    client: &reqwest::Client,
    base_url: &str,
    api_key: Option<&str>,
    timeout: Duration,
) -> Result<Vec<ModelFacts>, CatalogError> {
    let request = Request {
        provider: "OpenRouter",
        url: format!("{}/models?output_modalities=all", trim_base(base_url)),
        api_key,
        timeout,
    };
    let body = request.send(client).await?;
    let models = parse_openrouter_models(&body).map_err(|e| request.locate(e, &body))?;
    tracing::debug!(count = models.len(), "fetched the OpenRouter model list");
    Ok(models)
}

/// The most downloaded Hub models of each of [`HF_HUB_PIPELINE_TAGS`] (`per_task_limit` each),
/// concatenated and deduplicated by id, within [`CATALOG_FETCH_TIMEOUT`] per request.
pub async fn fetch_huggingface_hub_models(
    client: &reqwest::Client,
    hub_url: &str,
    per_task_limit: u32,
) -> Result<Vec<ModelFacts>, CatalogError> {
    fetch_huggingface_hub_models_within(client, hub_url, per_task_limit, CATALOG_FETCH_TIMEOUT)
        .await
}

/// [`fetch_huggingface_hub_models`] with a chosen timeout per request. Any failed request fails
/// the whole fetch: a partial list would make a sync think the missing models were gone.
pub async fn fetch_huggingface_hub_models_within(
    client: &reqwest::Client,
    hub_url: &str,
    per_task_limit: u32,
    timeout: Duration,
) -> Result<Vec<ModelFacts>, CatalogError> {
    let mut seen = HashSet::new();
    let mut models = Vec::new();
    // One after another: a handful of requests, and gentler on the Hub's rate limits.
    for tag in HF_HUB_PIPELINE_TAGS {
        let request = Request {
            provider: "The Hugging Face Hub",
            url: format!(
                "{}/api/models?pipeline_tag={tag}&sort=downloads&limit={per_task_limit}",
                trim_base(hub_url)
            ),
            api_key: None,
            timeout,
        };
        let body = request.send(client).await?;
        let listed = parse_huggingface_hub_models(&body).map_err(|e| request.locate(e, &body))?;
        models.extend(
            listed
                .into_iter()
                .filter(|model| seen.insert(model.provider_model_id.clone())),
        );
    }
    tracing::debug!(
        count = models.len(),
        "fetched the Hugging Face Hub model lists"
    );
    Ok(models)
}

/// `GET {base_url}/models` on an OpenAI-compatible server (`base_url` ends in `/v1`), within
/// [`CATALOG_FETCH_TIMEOUT`]. See [`parse_openai_models_list`] for `provider` and `slug_prefix`.
pub async fn fetch_openai_compatible_models(
    client: &reqwest::Client,
    base_url: &str,
    api_key: Option<&str>,
    provider: &str,
    slug_prefix: &str,
) -> Result<Vec<ModelFacts>, CatalogError> {
    fetch_openai_compatible_models_within(
        client,
        base_url,
        api_key,
        provider,
        slug_prefix,
        CATALOG_FETCH_TIMEOUT,
    )
    .await
}

/// [`fetch_openai_compatible_models`] with a chosen timeout.
pub async fn fetch_openai_compatible_models_within(
    client: &reqwest::Client,
    base_url: &str,
    api_key: Option<&str>,
    provider: &str,
    slug_prefix: &str,
    timeout: Duration,
) -> Result<Vec<ModelFacts>, CatalogError> {
    let request = Request {
        provider,
        url: format!("{}/models", trim_base(base_url)),
        api_key,
        timeout,
    };
    let body = request.send(client).await?;
    let models = parse_openai_models_list(&body, provider, slug_prefix)
        .map_err(|e| request.locate(e, &body))?;
    tracing::debug!(
        provider,
        count = models.len(),
        "fetched an OpenAI-compatible model list"
    );
    Ok(models)
}

fn trim_base(base_url: &str) -> &str {
    base_url.trim().trim_end_matches('/')
}

/// One model-list GET and everything its errors need to say.
struct Request<'a> {
    /// Who is asked, for messages: `OpenRouter`, `The Hugging Face Hub`, an endpoint's name.
    provider: &'a str,
    url: String,
    api_key: Option<&'a str>,
    timeout: Duration,
}

impl Request<'_> {
    /// The body of a successful answer.
    async fn send(&self, client: &reqwest::Client) -> Result<Vec<u8>, CatalogError> {
        let mut builder = client
            .get(&self.url)
            .timeout(self.timeout)
            .header(ACCEPT, "application/json");
        if let Some(key) = self.api_key {
            builder = builder.bearer_auth(key);
        }
        let response = builder.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status();
        // Reading the body counts against the same total timeout.
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(e))?;
        if !status.is_success() {
            return Err(CatalogError::Http {
                provider: self.provider.to_owned(),
                url: self.shown_url(),
                status: status.as_u16(),
                body_snippet: self.snippet(&body),
            });
        }
        Ok(body.to_vec())
    }

    fn transport_error(&self, error: reqwest::Error) -> CatalogError {
        if error.is_timeout() {
            return CatalogError::Timeout {
                provider: self.provider.to_owned(),
                url: self.shown_url(),
                after: self.timeout,
            };
        }
        CatalogError::Network {
            provider: self.provider.to_owned(),
            url: self.shown_url(),
            message: self.redact(&error_chain(&error.without_url())),
        }
    }

    /// Puts the URL (and the start of the body) into a parse error from a fetched body.
    fn locate(&self, error: CatalogError, body: &[u8]) -> CatalogError {
        match error {
            CatalogError::InvalidJson { message, .. } => CatalogError::InvalidJson {
                url_or_source: format!("{} at {}", self.provider, self.shown_url()),
                message: format!("{message}; the answer starts with: {}", self.snippet(body)),
            },
            other => other,
        }
    }

    /// The URL without any user name or password in it.
    fn shown_url(&self) -> String {
        match reqwest::Url::parse(&self.url) {
            Ok(mut url) => {
                // Both only fail for URLs that cannot have credentials, which is fine.
                let _ = url.set_username("");
                let _ = url.set_password(None);
                url.to_string()
            }
            Err(_) => self.url.clone(),
        }
    }

    /// The first characters of a body on one line, with the API key blanked should the
    /// upstream echo it.
    fn snippet(&self, body: &[u8]) -> String {
        // Redact before cutting, so a key straddling the cut cannot leak in part.
        let text = self.redact(&String::from_utf8_lossy(body));
        let one_line: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(SNIPPET_CHARS)
            .collect();
        if one_line.is_empty() {
            "(empty answer)".to_owned()
        } else {
            one_line
        }
    }

    fn redact(&self, text: &str) -> String {
        match self.api_key {
            Some(key) => crate::redact::redact_key(text, key).into_owned(),
            _ => text.to_owned(),
        }
    }
}

/// An error and its causes, `outer: inner: innermost`, skipping repeats.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let text = error.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    parts.join(": ")
}
