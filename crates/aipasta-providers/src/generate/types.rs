//! The vocabulary shared by the adapters and the engine.

use std::fmt;
use std::pin::Pin;
use std::time::Duration;

use aipasta_core::money::Nanos;
use aipasta_core::params::SamplingValues;
use futures_core::Stream;
use serde::{Deserialize, Serialize};

use crate::ProviderKind;

/// Where a generation goes: one provider endpoint and its credentials.
#[derive(Clone)]
pub struct Upstream {
    pub kind: ProviderKind,
    /// The name stored in `models.provider` (`openrouter`, `huggingface`, or an
    /// OpenAI-compatible endpoint's name); used in error messages.
    pub name: String,
    /// The OpenAI-style API base, without a trailing slash: OpenRouter `…/api/v1`, Hugging
    /// Face's router `…/v1`, an OpenAI-compatible server's `…/v1`.
    pub base_url: String,
    /// Hugging Face only: the inference API base for the non-chat tasks, without a trailing
    /// slash; a model's URL is `{inference_url}/models/{model}`.
    pub inference_url: Option<String>,
    pub api_key: Option<ApiKey>,
    /// OpenRouter's optional app attribution headers (`HTTP-Referer`, `X-Title`).
    pub attribution: Option<Attribution>,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("inference_url", &self.inference_url)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

/// A provider key. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself, only for putting in a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([REDACTED])")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    /// Sent as `HTTP-Referer`.
    pub referer: String,
    /// Sent as `X-Title`.
    pub title: String,
}

/// What kind of answer is asked for; the engine picks it from the model's capabilities and
/// the request's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// A conversation: `messages` (the system prompt, if any, is the first message).
    Chat,
    /// Plain text continuation of `prompt`.
    TextCompletion,
    /// Images from `prompt`.
    ImageGeneration,
    /// A summary of `prompt`.
    Summarization,
    /// A translation of `prompt`.
    Translation,
    /// Vectors for `prompt`.
    Embedding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

/// Sampling parameters; `None` (or empty) means "not sent", leaving the provider's default.
/// The engine has already checked each against the model's ranges and supported parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Parameters {
    /// The table's sampling parameters (`aipasta_core::params::SAMPLING`).
    #[serde(default, skip_serializing_if = "SamplingValues::is_empty")]
    pub sampling: SamplingValues,
    pub max_tokens: Option<u32>,
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Image generation only.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Translation only (e.g. `fr`); summarisation ignores it.
    pub target_language: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    pub task: Task,
    /// The provider's own model id (`models.provider_model_id`).
    pub model: String,
    /// For [`Task::Chat`].
    pub messages: Vec<ChatMessage>,
    /// For every other task.
    pub prompt: String,
    pub parameters: Parameters,
}

/// The time limits of one upstream call. The connect timeout lives in the shared client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From sending the request to the response headers (and, streaming, the first event).
    pub first_token: Duration,
    /// Streaming: the longest silence between two events (keep-alive comments count).
    pub between_tokens: Duration,
    /// The whole call.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            first_token: Duration::from_secs(60),
            between_tokens: Duration::from_secs(60),
            total: Duration::from_secs(600),
        }
    }
}

/// Token counts and, when the provider reports it, what the call cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    /// The provider's own figure (OpenRouter's `usage.cost`), converted exactly.
    pub cost: Option<Nanos>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedImage {
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

/// A whole answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub content: String,
    /// As the provider says it (`stop`, `length`, `content_filter`, `tool_calls`, …).
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
    /// The provider's id for the call (OpenRouter's `id` / `X-Generation-Id`).
    pub provider_generation_id: Option<String>,
    /// The exact model that answered, when the provider says (`model` in the response).
    pub model_version: Option<String>,
    pub images: Vec<GeneratedImage>,
    pub embeddings: Vec<Vec<f32>>,
}

/// One thing a stream said. A stream ends with `Finished` or an error; a stream that just
/// stops without either is reported as [`ProviderErrorKind::StreamCut`].
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// New text.
    Delta(String),
    Usage(Usage),
    /// The provider's id for the call and the exact model, as soon as they are known.
    Meta {
        provider_generation_id: Option<String>,
        model_version: Option<String>,
    },
    Finished {
        finish_reason: Option<String>,
    },
}

/// The events of a streaming call, after the upstream accepted it. Each `next` is bounded by
/// [`Timeouts::between_tokens`] and the whole stream by [`Timeouts::total`].
pub struct EventStream {
    inner: Pin<Box<dyn Stream<Item = Result<StreamEvent, ProviderError>> + Send>>,
}

impl EventStream {
    pub fn new(
        inner: impl Stream<Item = Result<StreamEvent, ProviderError>> + Send + 'static,
    ) -> EventStream {
        EventStream {
            inner: Box::pin(inner),
        }
    }

    /// The next event; `None` after `Finished` or an error.
    pub async fn next(&mut self) -> Option<Result<StreamEvent, ProviderError>> {
        std::future::poll_fn(|cx| self.inner.as_mut().poll_next(cx)).await
    }
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EventStream")
    }
}

/// Why a call failed, in the words a person can act on. Never carries a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ProviderErrorKind,
    /// The upstream's HTTP status, when it answered with one.
    pub status: Option<u16>,
    /// What happened and, where it helps, what to do; includes the provider's own message.
    pub message: String,
    /// From `Retry-After` (429, 503).
    pub retry_after: Option<Duration>,
    /// Hugging Face's `estimated_time` for a model that is still loading (503).
    pub estimated_time: Option<Duration>,
}

/// The kinds of failure the engine treats differently. The string forms are stored as the
/// generation's `error_code` and sent to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderErrorKind {
    /// 400/422: the request was refused as invalid.
    BadRequest,
    /// 401: the key is missing or wrong.
    Unauthorized,
    /// 402: no credits left at the provider.
    PaymentRequired,
    /// 403: the key may not use this model (or moderation refused the input).
    Forbidden,
    /// 404: the provider does not know the model.
    ModelNotFound,
    /// 408 or our own first-token / between-token / total timeout.
    Timeout,
    /// 429.
    RateLimited,
    /// 503 with `estimated_time`: a Hugging Face model still loading.
    ModelLoading,
    /// 502/503/504: the provider or its upstream is down or overloaded.
    Unavailable,
    /// Any other 5xx.
    ServerError,
    /// No answer at all: DNS, refused connection, TLS, reset before the headers.
    Network,
    /// The answer was cut after it began: a stream that ended without its finish, or a whole
    /// answer whose body broke off after its `200`. The provider may have charged for it, so it
    /// is never retried.
    StreamCut,
    /// An error object (or `finish_reason: "error"`) inside a stream.
    StreamError,
    /// The answer is not in the documented shape (bad JSON, malformed SSE).
    Malformed,
    /// The provider kind cannot do this task (e.g. embeddings on OpenRouter).
    Unsupported,
}

impl ProviderErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderErrorKind::BadRequest => "upstream_bad_request",
            ProviderErrorKind::Unauthorized => "upstream_unauthorized",
            ProviderErrorKind::PaymentRequired => "upstream_payment_required",
            ProviderErrorKind::Forbidden => "upstream_forbidden",
            ProviderErrorKind::ModelNotFound => "upstream_model_not_found",
            ProviderErrorKind::Timeout => "upstream_timeout",
            ProviderErrorKind::RateLimited => "upstream_rate_limited",
            ProviderErrorKind::ModelLoading => "upstream_model_loading",
            ProviderErrorKind::Unavailable => "upstream_unavailable",
            ProviderErrorKind::ServerError => "upstream_error",
            ProviderErrorKind::Network => "upstream_unreachable",
            ProviderErrorKind::StreamCut => "stream_cut",
            ProviderErrorKind::StreamError => "stream_error",
            ProviderErrorKind::Malformed => "upstream_malformed",
            ProviderErrorKind::Unsupported => "unsupported_task",
        }
    }

    /// Whether trying again (with backoff) may help when nothing has been produced yet:
    /// connection errors, 429, 502, 503 and a loading model.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ProviderErrorKind::Network
                | ProviderErrorKind::RateLimited
                | ProviderErrorKind::Unavailable
                | ProviderErrorKind::ModelLoading
        )
    }
}

impl ProviderError {
    pub fn new(kind: ProviderErrorKind, message: impl Into<String>) -> ProviderError {
        ProviderError {
            kind,
            status: None,
            message: message.into(),
            retry_after: None,
            estimated_time: None,
        }
    }
}
