//! One generation's task: try the model (and its fallbacks) with retries before the first
//! token, stream or fetch the answer into its [`Live`], then record how it ended.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aipasta_core::clock::now_ms;
use aipasta_core::media::{self, ImageFormat, KEPT_FORMATS};
use aipasta_providers::generate::{
    self, GeneratedImage, GenerationRequest, ProviderError, ProviderErrorKind, StreamEvent, Usage,
};
use aipasta_store::generations::{Finished, GenerationWrite};

use crate::cost::{cost_of, estimate_tokens};
use crate::error::GenerationError;
use crate::live::{Image, Live, Outcome};
use crate::recorder::NotRecorded;
use crate::{Candidate, Engine, Plan, pending_row};

/// What the call produced, kept across attempts and read after a cancel.
#[derive(Default)]
struct Progress {
    first_token_at: Option<Instant>,
    usage: Option<Usage>,
    finish_reason: Option<String>,
    provider_generation_id: Option<String>,
    model_version: Option<String>,
    images: Vec<GeneratedImage>,
    embeddings: Vec<Vec<f32>>,
    /// The candidate that answered (index into the plan's candidates).
    answered_by: usize,
    /// Whether any upstream call got as far as an answer (a request that costs money).
    reached_upstream: bool,
}

impl Progress {
    fn produced_anything(&self) -> bool {
        self.first_token_at.is_some()
    }
}

enum Ending {
    Done,
    Failed(ProviderError),
    Cancelled,
}

pub(super) async fn run(engine: Arc<Engine>, live: Arc<Live>, plan: Plan) {
    let started = Instant::now();
    let mut progress = Progress::default();
    let ending = tokio::select! {
        biased;
        () = live.cancel.cancelled() => Ending::Cancelled,
        result = attempt_all(&engine, &live, &plan, &mut progress) => match result {
            Ok(()) => Ending::Done,
            Err(error) => Ending::Failed(error),
        },
    };
    finish(&engine, &live, &plan, progress, ending, started).await;
}

/// Each candidate in turn; each with retries while nothing has been produced.
async fn attempt_all(
    engine: &Engine,
    live: &Live,
    plan: &Plan,
    progress: &mut Progress,
) -> Result<(), ProviderError> {
    let mut last_error = None;
    for (index, candidate) in plan.candidates.iter().enumerate() {
        progress.answered_by = index;
        let request = request_for(&plan.request, candidate);
        let mut attempt = 1;
        let error = loop {
            match call_once(engine, live, plan, candidate, &request, progress).await {
                Ok(()) => return Ok(()),
                // After the first token nothing is retried silently.
                Err(error) if progress.produced_anything() => return Err(error),
                Err(error) => match retry_wait(engine, &error, attempt) {
                    Some(wait) if attempt < engine.settings.max_attempts => {
                        tracing::info!(
                            generation = %live.id,
                            model = %candidate.model.slug,
                            attempt,
                            %error,
                            wait_ms = wait.as_millis() as u64,
                            "retrying before the first token"
                        );
                        metrics::counter!("aipasta_generation_retries_total").increment(1);
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    _ => break error,
                },
            }
        };
        if !falls_back(error.kind) {
            return Err(error);
        }
        tracing::info!(generation = %live.id, model = %candidate.model.slug, %error, "model failed; trying the next fallback, if any");
        last_error = Some(error);
    }
    Err(last_error.unwrap_or_else(|| {
        ProviderError::new(
            ProviderErrorKind::Unsupported,
            "No model was available to try.",
        )
    }))
}

/// How long to wait before retrying after `error`, or `None` when it must not be retried.
fn retry_wait(engine: &Engine, error: &ProviderError, attempt: u32) -> Option<Duration> {
    if !error.kind.is_retryable() {
        return None;
    }
    let backoff = engine.settings.base_backoff * 2_u32.saturating_pow(attempt - 1);
    let wait = error
        .retry_after
        .or(error.estimated_time)
        .unwrap_or(backoff)
        .max(Duration::from_millis(1));
    (wait <= engine.settings.max_retry_wait).then_some(wait)
}

/// Failures after which another model may still answer: the model or its provider is
/// unavailable, not the request itself.
fn falls_back(kind: ProviderErrorKind) -> bool {
    !matches!(
        kind,
        ProviderErrorKind::BadRequest | ProviderErrorKind::Unsupported
    )
}

/// The request with the candidate's own model id (fallbacks differ from the first model).
fn request_for(request: &GenerationRequest, candidate: &Candidate) -> GenerationRequest {
    let mut request = request.clone();
    request.model = candidate.model.provider_model_id.clone();
    request
}

async fn call_once(
    engine: &Engine,
    live: &Live,
    plan: &Plan,
    candidate: &Candidate,
    request: &GenerationRequest,
    progress: &mut Progress,
) -> Result<(), ProviderError> {
    let timeouts = engine.settings.timeouts;
    if !plan.stream {
        // The first-token limit bounds the wait for a whole answer's headers (which most
        // servers send once the answer is ready), so a silent upstream fails there with a
        // message naming it; the total limit bounds the rest.
        let completion = generate::complete(
            engine.client_for(candidate.network),
            &candidate.upstream,
            request,
            timeouts,
        )
        .await?;
        progress.reached_upstream = true;
        // Only real raster images are kept: a provider's HTML, SVG or script "image" would run
        // in our origin when served. Refused before anything is shown or stored; the call's
        // usage is kept, since the provider may charge for it.
        let images = match checked_images(&candidate.upstream.name, completion.images) {
            Ok(images) => images,
            Err(error) => {
                progress.usage = completion.usage;
                progress.provider_generation_id = completion.provider_generation_id;
                progress.model_version = completion.model_version;
                return Err(error);
            }
        };
        progress.first_token_at = Some(Instant::now());
        if !completion.content.is_empty() {
            live.push_delta(&completion.content);
        }
        progress.usage = completion.usage;
        progress.finish_reason = completion.finish_reason;
        progress.provider_generation_id = completion.provider_generation_id;
        progress.model_version = completion.model_version;
        progress.images = images;
        progress.embeddings = completion.embeddings;
        return Ok(());
    }
    let mut events = generate::stream(
        engine.client_for(candidate.network),
        &candidate.upstream,
        request,
        timeouts,
    )
    .await?;
    progress.reached_upstream = true;
    while let Some(event) = events.next().await {
        match event? {
            StreamEvent::Delta(text) => {
                if text.is_empty() {
                    continue;
                }
                if progress.first_token_at.is_none() {
                    progress.first_token_at = Some(Instant::now());
                }
                live.push_delta(&text);
            }
            StreamEvent::Usage(usage) => {
                progress.usage = Some(usage);
                live.push_usage(usage);
            }
            StreamEvent::Meta {
                provider_generation_id,
                model_version,
            } => {
                if provider_generation_id.is_some() {
                    progress.provider_generation_id = provider_generation_id;
                }
                if model_version.is_some() {
                    progress.model_version = model_version;
                }
            }
            StreamEvent::Finished { finish_reason } => {
                progress.finish_reason = finish_reason;
                if progress.first_token_at.is_none() {
                    progress.first_token_at = Some(Instant::now());
                }
                // Usage may still follow the finish (OpenAI's `include_usage` chunk).
                while let Some(Ok(event)) = events.next().await {
                    if let StreamEvent::Usage(usage) = event {
                        progress.usage = Some(usage);
                        live.push_usage(usage);
                    }
                }
                return Ok(());
            }
        }
    }
    Err(ProviderError::new(
        ProviderErrorKind::StreamCut,
        format!(
            "{} closed the stream before the answer was complete.",
            candidate.upstream.name
        ),
    ))
}

/// A whole answer's images, each typed by what its bytes are ([`ImageFormat::sniff`]), whatever
/// the provider claimed. Anything that is not a PNG, JPEG, WebP or GIF refuses the whole answer
/// (none of its images is kept), as a malformed answer: not retried, though a fallback model
/// may still answer.
fn checked_images(
    provider: &str,
    images: Vec<GeneratedImage>,
) -> Result<Vec<GeneratedImage>, ProviderError> {
    let count = images.len();
    let mut checked = Vec::with_capacity(count);
    for (index, image) in images.into_iter().enumerate() {
        let Some(format) = ImageFormat::sniff(&image.bytes) else {
            let what = media::looks_like(&image.bytes);
            let message = if count == 1 {
                format!(
                    "{provider} returned an image that is not {KEPT_FORMATS} (it {what}); it was \
                     not kept."
                )
            } else {
                format!(
                    "{provider} returned {count} images, and image {} is not {KEPT_FORMATS} (it \
                     {what}); none of them was kept.",
                    index + 1
                )
            };
            tracing::warn!(
                provider,
                claimed = %image.mime_type,
                bytes = image.bytes.len(),
                "refused an image that is not a raster image"
            );
            return Err(ProviderError::new(ProviderErrorKind::Malformed, message));
        };
        checked.push(GeneratedImage {
            mime_type: format.mime_type().to_owned(),
            bytes: image.bytes,
        });
    }
    Ok(checked)
}

/// A generation's `error_details` column: how it was answered, for its page and for support.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RecordedDetails<'a> {
    upstream_status: Option<u16>,
    /// The fallback model that answered, when it was not the first one.
    answered_by: Option<&'a str>,
    usage_estimated: bool,
}

async fn finish(
    engine: &Arc<Engine>,
    live: &Arc<Live>,
    plan: &Plan,
    progress: Progress,
    ending: Ending,
    started: Instant,
) {
    let content = live.content();
    let duration_ms = millis(started.elapsed());
    let candidate = plan.candidates.get(progress.answered_by);
    let (status, error) = match &ending {
        Ending::Done => ("success", None),
        Ending::Cancelled if engine.is_shutting_down() => (
            "interrupted",
            Some(GenerationError::Interrupted { restarted: true }),
        ),
        Ending::Cancelled => ("cancelled", None),
        Ending::Failed(error) => (
            if error.kind == ProviderErrorKind::Timeout {
                "timeout"
            } else {
                "error"
            },
            Some(GenerationError::from(error.clone())),
        ),
    };
    // Without the provider's counts, estimate them, but charge nothing for a call that
    // produced nothing.
    let (usage, usage_estimated) = match progress.usage {
        Some(usage) => (usage, false),
        None if content.is_empty() && progress.images.is_empty() => (Usage::default(), false),
        None => {
            let prompt_tokens = estimate_tokens(&plan.request.prompt)
                + plan
                    .request
                    .messages
                    .iter()
                    .map(|m| estimate_tokens(&m.content))
                    .sum::<u64>();
            let completion_tokens = estimate_tokens(&content);
            (
                Usage {
                    prompt_tokens,
                    completion_tokens,
                    total_tokens: prompt_tokens + completion_tokens,
                    cost: None,
                },
                true,
            )
        }
    };
    let cost_nanos = match candidate {
        Some(candidate) if progress.reached_upstream => {
            cost_of(&candidate.model.pricing(), &usage, 1).0
        }
        _ => 0,
    };
    let time_to_first_token_ms = progress
        .first_token_at
        .map(|at| millis(at.duration_since(started)));
    let answered_by = (progress.answered_by > 0)
        .then(|| candidate.map(|c| c.model.slug.clone()))
        .flatten();

    let mut row = pending_row(live, plan, live.created_at);
    row.output_content = content.clone();
    row.finish_reason = progress.finish_reason.clone();
    row.prompt_tokens = to_i64(usage.prompt_tokens);
    row.completion_tokens = to_i64(usage.completion_tokens);
    row.total_tokens = to_i64(
        usage
            .total_tokens
            .max(usage.prompt_tokens + usage.completion_tokens),
    );
    row.duration_ms = Some(duration_ms);
    row.time_to_first_token_ms = time_to_first_token_ms;
    row.cost_nanos = cost_nanos;
    row.provider = candidate.map(|c| c.model.provider.clone());
    row.model_version = progress
        .model_version
        .clone()
        .or_else(|| candidate.map(|c| c.model.provider_model_id.clone()));
    row.provider_generation_id = progress.provider_generation_id.clone();
    row.status = status.to_owned();
    row.error_code = error.as_ref().map(|e| e.code().to_owned());
    row.error_message = error.as_ref().map(|e| e.message().into_owned());
    row.error_details = serde_json::to_string(&RecordedDetails {
        upstream_status: error.as_ref().and_then(GenerationError::upstream_status),
        answered_by: answered_by.as_deref(),
        usage_estimated,
    })
    .ok();
    row.updated_at = now_ms();

    engine
        .usage
        .add(&plan.user_id, row.prompt_tokens + row.completion_tokens)
        .await;
    // The outcome carries the images too, so an answer that shows them need not read them
    // back from the database.
    let images: Vec<Image> = progress
        .images
        .into_iter()
        .map(|image| Image {
            mime_type: image.mime_type,
            bytes: Arc::from(image.bytes),
        })
        .collect();
    let durable = engine
        .recorder
        .record(GenerationWrite {
            row,
            finished: Some(Finished {
                images: images
                    .iter()
                    .map(|image| (image.mime_type.clone(), image.bytes.to_vec()))
                    .collect(),
            }),
        })
        .await;
    live.mark_ended();
    metrics::counter!("aipasta_generations_total", "status" => status).increment(1);
    let outcome = Outcome {
        status,
        content,
        finish_reason: progress.finish_reason,
        usage,
        usage_estimated,
        cost_nanos,
        duration_ms,
        time_to_first_token_ms,
        answered_by,
        provider_generation_id: progress.provider_generation_id,
        images,
        embeddings: progress.embeddings,
        error,
    };
    // Nobody hears how it ended before that is stored: a client is never given an answer
    // that a crash could still lose.
    match durable.wait().await {
        Ok(()) => live.finish(outcome),
        Err(NotRecorded) => live.finish(Outcome::not_recorded(outcome)),
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(claimed: &str, bytes: &[u8]) -> GeneratedImage {
        GeneratedImage {
            mime_type: claimed.to_owned(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn images_keep_the_type_their_bytes_say() {
        let kept = checked_images(
            "openrouter",
            vec![
                image("image/png", b"\xFF\xD8\xFF\xE0jpeg"),
                image("text/html", b"GIF89a..."),
            ],
        )
        .unwrap();
        assert_eq!(kept[0].mime_type, "image/jpeg");
        assert_eq!(kept[1].mime_type, "image/gif");
        assert_eq!(kept[1].bytes, b"GIF89a...");
    }

    #[test]
    fn anything_else_refuses_the_whole_answer() {
        let error = checked_images(
            "local",
            vec![image(
                "image/png",
                b"<html><script>alert(1)</script></html>",
            )],
        )
        .unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::Malformed);
        assert_eq!(
            error.message,
            "local returned an image that is not a PNG, JPEG, WebP or GIF (it looks like HTML); \
             it was not kept."
        );
        let error = checked_images(
            "local",
            vec![
                image("image/png", b"\x89PNG\r\n\x1a\nrest"),
                image("image/png", b"document.title = 'x';"),
            ],
        )
        .unwrap_err();
        assert_eq!(
            error.message,
            "local returned 2 images, and image 2 is not a PNG, JPEG, WebP or GIF (it looks like \
             JavaScript); none of them was kept."
        );
        assert!(checked_images("local", vec![image("image/png", b"")]).is_err());
    }
}
