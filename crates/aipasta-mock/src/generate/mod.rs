//! The generation routes: OpenRouter and OpenAI-compatible chat and text completions (plain or
//! streamed), OpenAI embeddings and images, the Hugging Face router's chat and the Hugging Face
//! inference API. Each request plays a [`Script`]: the next one queued for its path, else the
//! path's default, else the server-wide fallback ([`Script::default`] unless replaced).
//!
//! Counting is deterministic so tests can assert it: `completion_tokens` is the number of
//! deltas sent (one per word by default, see [`Script::chunks`]); `prompt_tokens` is the number
//! of whitespace-separated words in the request's input (every message's text, `prompt`,
//! `input` or `inputs`). A request's `max_tokens` (or `max_completion_tokens`, or Hugging
//! Face's `parameters.max_new_tokens`) below the number of deltas cuts the answer to that many
//! deltas with `finish_reason: "length"`.

mod errors;
mod hf;
mod media;
mod openai;
mod request;
mod script;
pub(crate) mod store;
mod stream;
mod timeline;

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};
use tokio::sync::watch;

pub use hf::HfTask;
pub use script::{
    DEFAULT_TEXT, HOSTILE_HTML, HOSTILE_IMAGE_SCRIPT, MockImage, Outcome, Script, UsagePlacement,
};

use crate::fault::ErrorShape;
use crate::server::MockData;
use crate::state::Shared;
use errors::BadRequest;
use openai::{OpenAiStream, TextApi};
use request::Incoming;
use timeline::{End, Timeline};

/// OpenRouter chat completions; the OpenRouter base URL is `{url}/api/v1`.
pub const OPENROUTER_CHAT_PATH: &str = "/api/v1/chat/completions";
/// OpenRouter's (legacy) text completions.
pub const OPENROUTER_COMPLETIONS_PATH: &str = "/api/v1/completions";
/// OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, ...); the base URL is `{url}/v1`.
pub const OPENAI_CHAT_PATH: &str = "/v1/chat/completions";
/// OpenAI-compatible text completions.
pub const OPENAI_COMPLETIONS_PATH: &str = "/v1/completions";
/// OpenAI-compatible embeddings.
pub const OPENAI_EMBEDDINGS_PATH: &str = "/v1/embeddings";
/// OpenAI-compatible image generation (answers `b64_json` PNGs).
pub const OPENAI_IMAGES_PATH: &str = "/v1/images/generations";
/// The Hugging Face router's OpenAI-compatible chat; its base URL is `{url}/hf/v1`.
pub const HF_ROUTER_CHAT_PATH: &str = "/hf/v1/chat/completions";
/// The Hugging Face inference API's model routes start with this; the model id follows.
pub const HF_INFERENCE_MODELS_PREFIX: &str = "/hf-inference/models/";

/// The path of a model on the Hugging Face inference API (the key for scripts, faults and
/// recorded requests), e.g. `/hf-inference/models/acme-labs/Orca-Chat-7B`.
pub fn hf_inference_path(model: &str) -> String {
    format!("{HF_INFERENCE_MODELS_PREFIX}{model}")
}

/// Whose wire format a route speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    OpenRouter,
    OpenAi,
    /// The router's chat (OpenAI shapes, Hugging Face errors) and the inference API.
    HuggingFace,
}

impl Dialect {
    fn error_shape(self) -> ErrorShape {
        match self {
            Dialect::OpenRouter => ErrorShape::OpenRouter,
            Dialect::OpenAi => ErrorShape::OpenAi,
            Dialect::HuggingFace => ErrorShape::HuggingFaceHub,
        }
    }
}

/// What a route produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    Chat,
    Completion,
    /// Hugging Face text generation (TGI).
    Tgi,
    Embeddings,
    Images,
    /// A Hugging Face task other than text generation.
    Task(HfTask),
}

/// One request's answer facts, shared by its body or chunks.
pub(crate) struct Call<'a> {
    pub(crate) dialect: Dialect,
    pub(crate) model: &'a str,
    pub(crate) id: String,
    pub(crate) created: u64,
    pub(crate) prompt_tokens: usize,
    /// `stop`, or `length` when the request's token limit cut the answer.
    pub(crate) finish_reason: &'static str,
    /// OpenRouter's `usage.cost`.
    pub(crate) cost: Option<f64>,
}

type ServerShared = Shared<MockData>;

pub(crate) fn routes() -> Router<Arc<ServerShared>> {
    Router::new()
        .route(OPENROUTER_CHAT_PATH, post(openrouter_chat))
        .route(OPENROUTER_COMPLETIONS_PATH, post(openrouter_completions))
        .route(OPENAI_CHAT_PATH, post(openai_chat))
        .route(OPENAI_COMPLETIONS_PATH, post(openai_completions))
        .route(OPENAI_EMBEDDINGS_PATH, post(openai_embeddings))
        .route(OPENAI_IMAGES_PATH, post(openai_images))
        .route(HF_ROUTER_CHAT_PATH, post(hf_router_chat))
        .route("/hf-inference/models/{*model}", post(hf_inference))
}

async fn openrouter_chat(State(shared): State<Arc<ServerShared>>, body: Bytes) -> Response {
    let path = OPENROUTER_CHAT_PATH;
    serve(&shared, path, Dialect::OpenRouter, Work::Chat, &body, None).await
}

async fn openrouter_completions(State(shared): State<Arc<ServerShared>>, body: Bytes) -> Response {
    let path = OPENROUTER_COMPLETIONS_PATH;
    serve(
        &shared,
        path,
        Dialect::OpenRouter,
        Work::Completion,
        &body,
        None,
    )
    .await
}

async fn openai_chat(State(shared): State<Arc<ServerShared>>, body: Bytes) -> Response {
    serve(
        &shared,
        OPENAI_CHAT_PATH,
        Dialect::OpenAi,
        Work::Chat,
        &body,
        None,
    )
    .await
}

async fn openai_completions(State(shared): State<Arc<ServerShared>>, body: Bytes) -> Response {
    let path = OPENAI_COMPLETIONS_PATH;
    serve(
        &shared,
        path,
        Dialect::OpenAi,
        Work::Completion,
        &body,
        None,
    )
    .await
}

async fn openai_embeddings(State(shared): State<Arc<ServerShared>>, body: Bytes) -> Response {
    let path = OPENAI_EMBEDDINGS_PATH;
    serve(
        &shared,
        path,
        Dialect::OpenAi,
        Work::Embeddings,
        &body,
        None,
    )
    .await
}

async fn openai_images(State(shared): State<Arc<ServerShared>>, body: Bytes) -> Response {
    serve(
        &shared,
        OPENAI_IMAGES_PATH,
        Dialect::OpenAi,
        Work::Images,
        &body,
        None,
    )
    .await
}

async fn hf_router_chat(State(shared): State<Arc<ServerShared>>, body: Bytes) -> Response {
    let path = HF_ROUTER_CHAT_PATH;
    serve(&shared, path, Dialect::HuggingFace, Work::Chat, &body, None).await
}

/// `POST /hf-inference/models/{model}`, and TGI's OpenAI-compatible
/// `/hf-inference/models/{model}/v1/chat/completions`.
async fn hf_inference(
    State(shared): State<Arc<ServerShared>>,
    Path(model): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let dialect = Dialect::HuggingFace;
    if let Some(model) = model.strip_suffix("/v1/chat/completions") {
        return serve(&shared, path, dialect, Work::Chat, &body, Some(model)).await;
    }
    let task = shared.lock().data.generation.hf_task(&model);
    let work = match task {
        Ok(HfTask::TextGeneration) => Work::Tgi,
        Ok(task) => Work::Task(task),
        Err(tag) => {
            let message = format!(
                "Model {model} has pipeline tag {tag}, which the mock's inference API does not serve"
            );
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": message})),
            )
                .into_response();
        }
    };
    serve(&shared, path, dialect, work, &body, Some(&model)).await
}

/// One generation request: a scripted fault, the request's checks, the script, the answer.
async fn serve(
    shared: &ServerShared,
    path: &str,
    dialect: Dialect,
    work: Work,
    body: &[u8],
    path_model: Option<&str>,
) -> Response {
    if let Some(fault) = shared.play_fault(path, dialect.error_shape()).await {
        return fault;
    }
    let request = match Incoming::parse(body) {
        Ok(request) => request,
        Err(error) => return errors::bad_request(dialect, &BadRequest::from_json(error)),
    };
    if let Err(missing) = check_required(work, &request) {
        return errors::bad_request(dialect, &missing);
    }
    let model = match model_of(dialect, work, &request, path_model) {
        Ok(model) => model,
        Err(missing) => return errors::bad_request(dialect, &missing),
    };
    let script = shared.lock().data.generation.take(path);
    if let Outcome::Status {
        status,
        retry_after,
        estimated_time,
    } = script.outcome
    {
        return errors::status_response(dialect, model, status, retry_after, estimated_time);
    }
    let created = unix_now();
    let mut call = Call {
        dialect,
        model,
        id: answer_id(dialect, work, created),
        created,
        prompt_tokens: request.prompt_tokens(),
        finish_reason: "stop",
        cost: script
            .cost
            .as_deref()
            .and_then(|cost| cost.trim().parse::<f64>().ok())
            .filter(|cost| cost.is_finite()),
    };
    let shutdown = shared.shutdown();
    match work {
        Work::Chat | Work::Completion | Work::Tgi => {
            text(&mut call, work, &request, &script, shutdown).await
        }
        Work::Embeddings | Work::Images | Work::Task(_) => {
            other(&call, work, &request, &script, shutdown).await
        }
    }
}

/// The input each kind of request cannot go without.
fn check_required(work: Work, request: &Incoming) -> Result<(), BadRequest> {
    let missing = match work {
        Work::Chat => request.messages.is_none().then_some("messages"),
        Work::Completion | Work::Images => request.prompt.is_none().then_some("prompt"),
        Work::Embeddings => request.input.is_none().then_some("input"),
        Work::Tgi | Work::Task(_) => request.inputs.is_none().then_some("inputs"),
    };
    missing.map_or(Ok(()), |field| Err(BadRequest::Missing(field)))
}

/// The model the answer names: the request's, the path's (Hugging Face inference), or the
/// provider's default where it has one.
fn model_of<'a>(
    dialect: Dialect,
    work: Work,
    request: &'a Incoming,
    path_model: Option<&'a str>,
) -> Result<&'a str, BadRequest> {
    if let Some(model) = request.model.as_deref().filter(|model| !model.is_empty()) {
        return Ok(model);
    }
    match (dialect, work, path_model) {
        (_, _, Some(model)) => Ok(model),
        (Dialect::OpenRouter, _, None) => Ok("openrouter/auto"),
        (_, Work::Images, None) => Ok("gpt-image-1"),
        _ => Err(BadRequest::Missing("model")),
    }
}

/// Chat, completions and TGI text generation, plain or streamed.
async fn text(
    call: &mut Call<'_>,
    work: Work,
    request: &Incoming,
    script: &Script,
    shutdown: watch::Receiver<bool>,
) -> Response {
    let all = script.deltas();
    let deltas = match request.token_limit() {
        Some(limit) if limit < all.len() => {
            call.finish_reason = "length";
            &all[..limit]
        }
        _ => &all[..],
    };
    let answer: Cow<'_, str> = if deltas.len() == all.len() {
        Cow::Borrowed(&script.text)
    } else {
        Cow::Owned(deltas.concat())
    };
    // TGI's `return_full_text` puts the prompt before the answer.
    let full_text = match (work, request.parameters.as_ref(), request.inputs.as_ref()) {
        (Work::Tgi, Some(parameters), Some(Value::String(inputs)))
            if parameters.return_full_text == Some(true) =>
        {
            Cow::Owned(format!("{inputs}{answer}"))
        }
        _ => answer.clone(),
    };
    let call = &*call;
    let details = request
        .parameters
        .as_ref()
        .and_then(|parameters| parameters.details)
        == Some(true);
    if request.wants_stream() {
        let timeline = match work {
            Work::Tgi => stream::play(
                script,
                deltas,
                &mut hf::TgiStream {
                    generated_text: &full_text,
                    finish_reason: hf::tgi_finish_reason(call.finish_reason),
                    details,
                    prompt_tokens: call.prompt_tokens,
                },
            ),
            Work::Completion => {
                let api = TextApi::Completion;
                let include_usage = request.include_usage();
                let mut format = OpenAiStream::new(api, call, script.usage, include_usage);
                stream::play(script, deltas, &mut format)
            }
            _ => {
                let include_usage = request.include_usage();
                let mut format =
                    OpenAiStream::new(TextApi::Chat, call, script.usage, include_usage);
                stream::play(script, deltas, &mut format)
            }
        };
        return event_stream(call, timeline, shutdown);
    }
    let body = match work {
        Work::Tgi => {
            let finish_reason = hf::tgi_finish_reason(call.finish_reason);
            hf::generated_body(&full_text, finish_reason, deltas.len(), details)
        }
        Work::Completion => openai::answer_body(
            TextApi::Completion,
            call,
            &answer,
            deltas.len(),
            script.usage,
        ),
        _ => openai::answer_body(TextApi::Chat, call, &answer, deltas.len(), script.usage),
    };
    deliver(
        call,
        script,
        deltas.len(),
        body,
        "application/json",
        shutdown,
    )
    .await
}

/// Embeddings, images and the Hugging Face tasks other than text generation (never streamed).
async fn other(
    call: &Call<'_>,
    work: Work,
    request: &Incoming,
    script: &Script,
    shutdown: watch::Receiver<bool>,
) -> Response {
    let json = "application/json";
    let (body, content_type) = match work {
        Work::Embeddings => {
            let inputs = request::input_texts(request.input.as_ref());
            let dimensions = request
                .dimensions
                .map_or(media::DEFAULT_DIMENSIONS, |asked| {
                    usize::try_from(asked.clamp(1, 4096)).unwrap_or(media::DEFAULT_DIMENSIONS)
                });
            let base64 = request.encoding_format.as_deref() == Some("base64");
            (
                openai::embeddings_body(call, &inputs, dimensions, base64),
                Cow::Borrowed(json),
            )
        }
        Work::Images if !script.images.is_empty() => (
            openai::scripted_images_body(call.created, &script.images),
            Cow::Borrowed(json),
        ),
        Work::Images => {
            let count = usize::try_from(request.n.unwrap_or(1).clamp(1, 4)).unwrap_or(1);
            let (width, height) = media::parse_size(request.size.as_deref());
            let encoded: Cow<'_, str> = if width.is_none() && height.is_none() {
                Cow::Borrowed(media::default_png_base64())
            } else {
                let png = media::png_of_size(width, height);
                Cow::Owned(base64::engine::general_purpose::STANDARD.encode(png))
            };
            (
                openai::images_body(call.created, count, &encoded),
                Cow::Borrowed(json),
            )
        }
        Work::Task(HfTask::TextToImage) if !script.images.is_empty() => {
            let image = &script.images[0];
            let claimed = image.claimed_type.as_deref().unwrap_or("image/png");
            (image.bytes.clone(), Cow::Owned(claimed.to_owned()))
        }
        Work::Task(HfTask::TextToImage) => {
            let parameters = request.parameters.as_ref();
            let width = parameters.and_then(|parameters| parameters.width);
            let height = parameters.and_then(|parameters| parameters.height);
            (
                media::png_of_size(width, height),
                Cow::Borrowed("image/png"),
            )
        }
        Work::Task(HfTask::Summarization) => {
            (hf::summarization_body(&script.text), Cow::Borrowed(json))
        }
        Work::Task(HfTask::Translation) => {
            (hf::translation_body(&script.text), Cow::Borrowed(json))
        }
        Work::Task(HfTask::FeatureExtraction) => {
            let single = matches!(request.inputs, Some(Value::String(_)));
            let inputs = request::input_texts(request.inputs.as_ref());
            (hf::features_body(&inputs, single), Cow::Borrowed(json))
        }
        Work::Task(HfTask::TextGeneration) | Work::Chat | Work::Completion | Work::Tgi => {
            let finish_reason = hf::tgi_finish_reason(call.finish_reason);
            let tokens = script.deltas().len();
            (
                hf::generated_body(&script.text, finish_reason, tokens, false),
                Cow::Borrowed(json),
            )
        }
    };
    deliver(call, script, 1, body, &content_type, shutdown).await
}

/// A non-stream answer after the generation time, ending as scripted.
async fn deliver(
    call: &Call<'_>,
    script: &Script,
    chunks: usize,
    body: Vec<u8>,
    content_type: &str,
    mut shutdown: watch::Receiver<bool>,
) -> Response {
    if script.outcome == Outcome::StallAfter(0) {
        timeline::until_stopped(&mut shutdown).await;
        return vanished(shutdown);
    }
    if !timeline::wait(script.generation_time(chunks), &mut shutdown).await {
        return vanished(shutdown);
    }
    let half = &body[..body.len() / 2];
    let (content_type, body) = match script.outcome {
        Outcome::CutAfter(_) => (
            content_type,
            Timeline::of(half, End::Cut).into_body(shutdown),
        ),
        Outcome::StallAfter(_) => {
            let body = Timeline::of(half, End::Stall).into_body(shutdown);
            (content_type, body)
        }
        Outcome::MalformedAfter(_) => (content_type, Body::from(half.to_vec())),
        Outcome::ErrorAfter(_) => {
            let mut failed = Vec::new();
            timeline::write_json(&mut failed, &errors::failed_answer_body(call.dialect));
            ("application/json", Body::from(failed))
        }
        Outcome::Complete | Outcome::NoDone | Outcome::Status { .. } => {
            (content_type, Body::from(body))
        }
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    add_generation_id(call, headers);
    response
}

/// The answer to a request that was still waiting when the server stopped: a body that
/// fails at once, so the client sees the connection go rather than an answer.
fn vanished(shutdown: watch::Receiver<bool>) -> Response {
    Response::new(Timeline::of(&[], End::Cut).into_body(shutdown))
}

/// A `text/event-stream` answer playing `timeline`.
fn event_stream(call: &Call<'_>, timeline: Timeline, shutdown: watch::Receiver<bool>) -> Response {
    let mut response = Response::new(timeline.into_body(shutdown));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    add_generation_id(call, headers);
    response
}

/// OpenRouter also names the generation in `X-Generation-Id` (its streaming documentation:
/// "for all endpoints"), the same id as the body's `id`.
fn add_generation_id(call: &Call<'_>, headers: &mut axum::http::HeaderMap) {
    if call.dialect == Dialect::OpenRouter
        && let Ok(value) = HeaderValue::from_str(&call.id)
    {
        headers.insert("x-generation-id", value);
    }
}

/// The answer's `id`: OpenRouter's `gen-{time}-{random}`, OpenAI's `chatcmpl-…`/`cmpl-…`.
/// Hugging Face task answers carry none.
fn answer_id(dialect: Dialect, work: Work, created: u64) -> String {
    match (dialect, work) {
        (_, Work::Tgi | Work::Task(_) | Work::Images | Work::Embeddings) => String::new(),
        (Dialect::OpenRouter, _) => format!("gen-{created}-{}", random_suffix(20)),
        (_, Work::Completion) => format!("cmpl-{}", random_suffix(24)),
        (_, Work::Chat) => format!("chatcmpl-{}", random_suffix(24)),
    }
}

/// Letters and digits, different for every call in the process.
fn random_suffix(length: usize) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static SEED: OnceLock<u64> = OnceLock::new();
    let seed = *SEED.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos() as u64)
    });
    let draw = seed ^ COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut state = 0u64;
    (0..length)
        .map(|index| {
            // Ten base-62 digits per 64 random bits, each block drawn afresh.
            if index % 10 == 0 {
                state = media::splitmix64(draw.wrapping_add((index as u64) << 32));
            }
            let character = ALPHABET[(state % 62) as usize];
            state /= 62;
            char::from(character)
        })
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
