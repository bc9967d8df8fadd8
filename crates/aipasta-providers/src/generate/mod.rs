//! Generation: sending a prompt to an upstream and reading its answer, whole or streamed.
//!
//! The engine (in `aipasta-web`) decides *what* to ask ([`GenerationRequest`]) and *whom*
//! ([`Upstream`]); this module knows *how* each provider kind wants it on the wire and turns
//! every answer, good or bad, into the same types: [`Completion`], [`StreamEvent`] and
//! [`ProviderError`]. It never retries: retrying before the first token is the engine's call.
//!
//! Two entry points, [`complete`] and [`stream`], route a request by provider kind and task:
//!
//! | task | OpenRouter | Hugging Face | OpenAI-compatible |
//! |---|---|---|---|
//! | chat | `{base}/chat/completions` | router `{base}/chat/completions` | `{base}/chat/completions` |
//! | text completion | `{base}/completions` | TGI at `{inference}/models/{model}` | `{base}/completions` |
//! | image | `{base}/images` | `{inference}/models/{model}` (image bytes) | `{base}/images/generations` (`b64_json`) |
//! | embedding | `{base}/embeddings` | `{inference}/models/{model}` (feature extraction) | `{base}/embeddings` |
//! | summarisation, translation | unsupported | `{inference}/models/{model}` | unsupported |
//!
//! ## Time limits
//! [`Timeouts::first_token`] bounds the wait for the response headers and, streaming, for the
//! first content delta or finish: keep-alive comments and metadata-only events do not count.
//! After the first token, [`Timeouts::between_tokens`] bounds the silence between two reads of
//! the body (any bytes, keep-alive comments included, are life). [`Timeouts::total`] bounds the
//! whole call, the stream included. Without streaming the headers come only once the answer is
//! ready, so `first_token` then bounds the whole generation (capped by `total`) and reading
//! the body is bounded by `total`. Each expiry is a [`ProviderErrorKind::Timeout`] whose
//! message names the limit. A stream that goes quiet after its finish reason (waiting for usage
//! or `[DONE]`) ends cleanly instead.

mod call;
mod errors;
mod huggingface;
mod json;
mod openai;
pub mod sse;
mod types;

pub use huggingface::DEFAULT_HF_INFERENCE_URL;
pub use sse::{SseError, SseEvent, SseItem, SseParser};
pub use types::{
    ApiKey, Attribution, ChatMessage, Completion, EventStream, GeneratedImage, GenerationRequest,
    Parameters, ProviderError, ProviderErrorKind, Role, StreamEvent, Task, Timeouts, Upstream,
    Usage,
};

use crate::ProviderKind;
use huggingface::HfTask;
use openai::TextEndpoint;

/// Where a request goes, by provider kind and task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Text(TextEndpoint),
    Embeddings,
    Images,
    HuggingFace(HfTask),
}

fn route(upstream: &Upstream, task: Task) -> Result<Route, ProviderError> {
    let route = match (upstream.kind, task) {
        (_, Task::Chat) => Route::Text(TextEndpoint::Chat),
        (ProviderKind::HuggingFace, Task::TextCompletion) => {
            Route::HuggingFace(HfTask::TextGeneration)
        }
        (ProviderKind::HuggingFace, Task::ImageGeneration) => {
            Route::HuggingFace(HfTask::TextToImage)
        }
        (ProviderKind::HuggingFace, Task::Summarization) => {
            Route::HuggingFace(HfTask::Summarization)
        }
        (ProviderKind::HuggingFace, Task::Translation) => Route::HuggingFace(HfTask::Translation),
        (ProviderKind::HuggingFace, Task::Embedding) => {
            Route::HuggingFace(HfTask::FeatureExtraction)
        }
        (_, Task::TextCompletion) => Route::Text(TextEndpoint::Completion),
        (_, Task::Embedding) => Route::Embeddings,
        (_, Task::ImageGeneration) => Route::Images,
        (_, Task::Summarization) => {
            return Err(errors::unsupported(
                upstream,
                "summarise through a summarisation endpoint; use a chat model and ask for a \
                 summary",
            ));
        }
        (_, Task::Translation) => {
            return Err(errors::unsupported(
                upstream,
                "translate through a translation endpoint; use a chat model and ask for a \
                 translation",
            ));
        }
    };
    Ok(route)
}

/// Sends `request` to `upstream` and returns the whole answer.
///
/// Every failure is a [`ProviderError`]: a refusal by status (with the provider's message,
/// `Retry-After` and Hugging Face's `estimated_time` filled in), no answer at all
/// ([`ProviderErrorKind::Network`]), a limit of `timeouts` running out
/// ([`ProviderErrorKind::Timeout`]), an answer that cannot be read
/// ([`ProviderErrorKind::Malformed`]) or a task the provider kind cannot do
/// ([`ProviderErrorKind::Unsupported`]).
pub async fn complete(
    client: &reqwest::Client,
    upstream: &Upstream,
    request: &GenerationRequest,
    timeouts: Timeouts,
) -> Result<Completion, ProviderError> {
    complete_routed(client, upstream, request, timeouts)
        .await
        .map_err(|error| errors::for_people_error(upstream, error))
}

async fn complete_routed(
    client: &reqwest::Client,
    upstream: &Upstream,
    request: &GenerationRequest,
    timeouts: Timeouts,
) -> Result<Completion, ProviderError> {
    match route(upstream, request.task)? {
        Route::Text(endpoint) => {
            openai::complete_text(client, upstream, request, timeouts, endpoint).await
        }
        Route::Embeddings => openai::complete_embeddings(client, upstream, request, timeouts).await,
        Route::Images => openai::complete_images(client, upstream, request, timeouts).await,
        Route::HuggingFace(task) => {
            huggingface::complete(client, upstream, request, timeouts, task).await
        }
    }
}

/// Sends `request` to `upstream` asking for a streamed answer.
///
/// `Err` means nothing was produced (refused, unreachable, no headers within the first-token
/// limit…): the engine may retry when [`ProviderErrorKind::is_retryable`] says so. Once this
/// returns `Ok`, failures arrive as one `Err` item of the stream, after which it ends; a
/// stream that ends normally ends with [`StreamEvent::Finished`], preceded by at most one
/// [`StreamEvent::Usage`].
///
/// Summarisation and translation cannot stream: the call is made whole and its answer handed
/// out as one `Delta` and `Finished`. Images and embeddings have no text to stream and are
/// refused with [`ProviderErrorKind::Unsupported`] before anything is sent: use [`complete`].
pub async fn stream(
    client: &reqwest::Client,
    upstream: &Upstream,
    request: &GenerationRequest,
    timeouts: Timeouts,
) -> Result<EventStream, ProviderError> {
    // The stream's own errors are made fit for people as it hands them out (`call.rs`).
    stream_routed(client, upstream, request, timeouts)
        .await
        .map_err(|error| errors::for_people_error(upstream, error))
}

async fn stream_routed(
    client: &reqwest::Client,
    upstream: &Upstream,
    request: &GenerationRequest,
    timeouts: Timeouts,
) -> Result<EventStream, ProviderError> {
    match route(upstream, request.task)? {
        Route::Text(endpoint) => {
            openai::stream_text(client, upstream, request, timeouts, endpoint).await
        }
        Route::HuggingFace(HfTask::TextGeneration) => {
            huggingface::stream_text_generation(client, upstream, request, timeouts).await
        }
        Route::HuggingFace(task @ (HfTask::Summarization | HfTask::Translation)) => {
            let completion =
                huggingface::complete(client, upstream, request, timeouts, task).await?;
            Ok(call::ready_stream(openai::whole_as_events(completion)))
        }
        Route::Embeddings
        | Route::Images
        | Route::HuggingFace(HfTask::TextToImage | HfTask::FeatureExtraction) => {
            Err(errors::unsupported(
                upstream,
                "stream images or embeddings; ask for the whole answer instead",
            ))
        }
    }
}

#[cfg(test)]
mod cassette_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A line-broken string literal missing its `\` keeps the next line's indentation.
    fn assert_one_spaced(message: &str) {
        assert!(!message.contains("  "), "a run of spaces in: {message:?}");
    }

    #[test]
    fn no_refusal_message_has_a_run_of_spaces() {
        let tasks = [
            Task::Chat,
            Task::TextCompletion,
            Task::ImageGeneration,
            Task::Summarization,
            Task::Translation,
            Task::Embedding,
        ];
        let mut refusals = 0;
        for kind in ProviderKind::ALL {
            let upstream = test_support::upstream(kind);
            for task in tasks {
                if let Err(error) = route(&upstream, task) {
                    refusals += 1;
                    assert_one_spaced(&error.message);
                }
            }
            for unsupported in [
                errors::unsupported(
                    &upstream,
                    "stream images or embeddings; ask for the whole answer instead",
                ),
                errors::timeout(&upstream, errors::Limit::FirstToken, Duration::from_secs(1)),
                errors::timeout(
                    &upstream,
                    errors::Limit::BetweenTokens,
                    Duration::from_secs(1),
                ),
                errors::timeout(&upstream, errors::Limit::Total, Duration::from_secs(1)),
                errors::no_whole_answer(&upstream, Duration::from_secs(1)),
                errors::in_answer(&upstream, None),
                errors::in_answer(&upstream, Some("overloaded")),
                errors::malformed(&upstream, "not JSON", b"<html>"),
            ] {
                assert_one_spaced(&unsupported.message);
            }
            for status in 300..600 {
                for body in ["", r#"{"error":{"message":"nope"}}"#] {
                    let error = errors::status_error(
                        &upstream,
                        "vendor/model",
                        status,
                        &reqwest::header::HeaderMap::new(),
                        body.as_bytes(),
                    );
                    assert_one_spaced(&error.message);
                }
            }
        }
        // Summarisation and translation on OpenRouter and OpenAI-compatible servers.
        assert_eq!(refusals, 4);
    }
}

/// Helpers for the unit tests of the adapters.
#[cfg(test)]
pub(crate) mod test_support {
    use super::call::{Decoder, Events};
    use super::sse::{SseItem, SseParser};
    use super::{ApiKey, ProviderError, StreamEvent, Upstream};
    use crate::ProviderKind;

    pub const KEY: &str = "sk-test-secret-0123456789";

    pub fn upstream(kind: ProviderKind) -> Upstream {
        Upstream {
            kind,
            name: kind.as_str().to_owned(),
            base_url: "http://127.0.0.1:9/v1".to_owned(),
            inference_url: Some("http://127.0.0.1:9/hf-inference".to_owned()),
            api_key: Some(ApiKey::new(KEY)),
            attribution: None,
        }
    }

    /// What a stream of `body` gives, read `chunk` bytes at a time, ending as the body ends
    /// (as `call::event_stream` does, minus the clock).
    pub fn decode(
        mut decoder: impl Decoder,
        body: &[u8],
        chunk: usize,
    ) -> Vec<Result<StreamEvent, ProviderError>> {
        let mut parser = SseParser::new();
        let mut out = Events::new();
        let mut done = false;
        let mut feed = |items: Vec<SseItem>, out: &mut Events, done: &mut bool| {
            for item in items {
                if *done {
                    return;
                }
                if let SseItem::Event(event) = item {
                    *done = decoder.event(&event, out);
                }
            }
        };
        for piece in body.chunks(chunk.max(1)) {
            let items = parser.feed(piece).unwrap();
            feed(items, &mut out, &mut done);
        }
        if !done {
            let items = parser.finish().unwrap();
            feed(items, &mut out, &mut done);
        }
        if !done {
            decoder.end(&mut out);
        }
        out.into_iter().collect()
    }

    /// The text of the deltas.
    pub fn text(events: &[Result<StreamEvent, ProviderError>]) -> String {
        events
            .iter()
            .filter_map(|e| match e {
                Ok(StreamEvent::Delta(text)) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}
