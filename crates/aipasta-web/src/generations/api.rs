//! The plan's generation endpoints.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use aipasta_core::media::{self, ImageFormat, KEPT_FORMATS};
use aipasta_engine::Image;
use aipasta_store::generations::{self, GenerationRow};

use super::{FailureSummary, OutcomeSummary, begin, failure_status, sse, usd};
use crate::api::{Failure, Success, ok};
use crate::auth::api::ClientInfo;
use crate::auth::{Access, Caller, Routes};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use aipasta_engine::Source;
use aipasta_engine::prepare::{GenerateInput, Unsupported};

pub fn routes() -> Routes {
    use Access::User;
    Routes::new()
        // Model ids contain slashes, so the id is the path up to `/generate`.
        .api_at("/api/models/{*id}", User, routes!(generate_for_model))
        .api(User, routes!(generate_unified))
        .api(User, routes!(stream_unified))
        .api(User, routes!(details))
        .api(User, routes!(reattach))
        .api(User, routes!(cancel))
        .api(User, routes!(image))
}

// The engine's `GenerateInput` as the document describes it: the engine crate does not derive
// `ToSchema`, so this mirrors its fields (and `Deserialize` stays the engine's).
/// What the generate calls take: a `prompt` or `messages`, with optional parameters.
#[derive(ToSchema)]
#[schema(as = GenerationRequest)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct GenerationRequestDoc {
    /// The prompt: one user turn for chat models (`messages`, when not empty, wins), the
    /// text for the other modes.
    prompt: Option<String>,
    /// The conversation so far, oldest first (for the other modes without `prompt`, its user
    /// turns are joined).
    messages: Option<Vec<GenerationMessageDoc>>,
    /// Also read as `system_prompt` or `system`.
    system_prompt: Option<String>,
    #[schema(schema_with = crate::apidocs::parameter_input_schema)]
    parameters: Option<serde_json::Value>,
    /// The playground's mode; by default the model's main capability decides.
    mode: Option<GenerationModeDoc>,
    /// Answer with Server-Sent Events instead of the finished generation.
    stream: Option<bool>,
    /// A playground session to record the generation in (also read as `session_id`).
    session_id: Option<String>,
}

/// One turn of a conversation.
#[derive(ToSchema)]
#[schema(as = GenerationMessage)]
#[allow(dead_code)]
struct GenerationMessageDoc {
    role: GenerationRoleDoc,
    content: String,
}

#[derive(ToSchema)]
#[schema(as = GenerationRole)]
#[allow(dead_code)]
#[serde(rename_all = "lowercase")]
enum GenerationRoleDoc {
    System,
    User,
    Assistant,
}

#[derive(ToSchema)]
#[schema(as = GenerationMode)]
#[allow(dead_code)]
#[serde(rename_all = "lowercase")]
enum GenerationModeDoc {
    Chat,
    Text,
    Code,
    Image,
    Summarize,
    Translate,
    Embed,
}

/// Generate with a model
///
/// The plan's generation call (`{id}` is the model's slug, with its slashes). Answers the
/// finished generation, or with `stream: true` Server-Sent Events: `start` (`{id, model}`,
/// once the generation is stored), `delta` (`{content}`, the text so far first), `usage`
/// (`{promptTokens, completionTokens, totalTokens}`), then `done` (the generation, as in the
/// JSON answer's `data`) or `error` (`{code, message, status, generation}`). Parameters the
/// model does not support are refused. A generation that fails answers its error's status
/// with the generation in `data`.
#[utoipa::path(
    post,
    path = "/api/models/{id}/generate",
    params(("id" = String, Path, description = "The model's slug; it contains slashes (`openai/gpt-4o`).")),
    request_body = GenerationRequestDoc,
    responses(
        (status = 200, description = "The generation, or its events when streaming.",
            content((Answer = "application/json"), (String = "text/event-stream"))),
        (status = 400, description = "A refused request (`validation_error` and others, with `param`).", body = Failure),
        (status = 404, description = "No such model.", body = Failure),
        (status = 429, description = "The monthly token allowance is used up.", body = Failure),
        (status = 502, description = "The provider failed: the generation, with `success: false` and `error`.", body = Answer),
        (status = 504, description = "The provider timed out: the generation, with `success: false` and `error`.", body = Answer),
        (status = 503, description = "Generations cannot be saved right now (`storage_unavailable`) or the database is unreachable (`database_unavailable`); nothing was started. `Retry-After` says when to try again.", body = Failure),
    ),
)]
async fn generate_for_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<String>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: Request,
) -> ApiResult<Response> {
    let path = path.trim_matches('/');
    // The favorite toggle shares the path shape (a model id with slashes, then an action).
    if path.ends_with("/favorite") {
        return crate::dashboard::api::add_favorite(&state, &caller, path).await;
    }
    let Some(model) = path.strip_suffix("/generate") else {
        return Err(ApiError::not_found(
            "No such endpoint. Generate with POST /api/models/{id}/generate.",
        ));
    };
    let input = match Json::<GenerateInput>::from_request(request, &state).await {
        Ok(Json(input)) => input,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    let client = ClientInfo::from_request(&headers, Some(address));
    respond(&state, &caller, model, input, &client).await
}

/// The unified form: the model in the body.
#[derive(Deserialize, ToSchema)]
#[schema(as = UnifiedGenerationRequest)]
struct UnifiedInput {
    /// The model's slug (also read as `modelId`).
    #[serde(alias = "modelId")]
    model: String,
    #[serde(flatten)]
    #[schema(value_type = GenerationRequestDoc)]
    input: GenerateInput,
}

/// Generate (model in the body)
///
/// Like `POST /api/models/{id}/generate`, with `model` in the body; streams (the same events)
/// with `stream: true`.
#[utoipa::path(
    post,
    path = "/api/ai/generate",
    request_body = UnifiedInput,
    responses(
        (status = 200, description = "The generation, or its events when streaming.",
            content((Answer = "application/json"), (String = "text/event-stream"))),
        (status = 400, description = "A refused request, with `param`.", body = Failure),
        (status = 404, description = "No such model.", body = Failure),
        (status = 429, description = "The monthly token allowance is used up.", body = Failure),
        (status = 502, description = "The provider failed: the generation, with `success: false` and `error`.", body = Answer),
        (status = 504, description = "The provider timed out: the generation, with `success: false` and `error`.", body = Answer),
        (status = 503, description = "Generations cannot be saved right now (`storage_unavailable`, with `Retry-After`).", body = Failure),
    ),
)]
async fn generate_unified(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<UnifiedInput>,
) -> ApiResult<Response> {
    let client = ClientInfo::from_request(&headers, Some(address));
    respond(&state, &caller, &body.model, body.input, &client).await
}

/// Generate, streamed
///
/// Like `POST /api/ai/generate`, always as Server-Sent Events: `start` (`{id, model}`),
/// `delta` (`{content}`), `usage` (`{promptTokens, completionTokens, totalTokens}`), then
/// `done` (the generation) or `error` (`{code, message, status, generation}`). A request
/// refused before the generation starts is an HTTP error.
#[utoipa::path(
    post,
    path = "/api/ai/stream",
    request_body = UnifiedInput,
    responses(
        (status = 200, description = "The events.", content_type = "text/event-stream", body = String),
        (status = 400, description = "A refused request, with `param`.", body = Failure),
        (status = 404, description = "No such model.", body = Failure),
        (status = 429, description = "The monthly token allowance is used up.", body = Failure),
        (status = 503, description = "Generations cannot be saved right now (`storage_unavailable`, with `Retry-After`).", body = Failure),
    ),
)]
async fn stream_unified(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(mut body): Json<UnifiedInput>,
) -> ApiResult<Response> {
    body.input.stream = true;
    let client = ClientInfo::from_request(&headers, Some(address));
    respond(&state, &caller, &body.model, body.input, &client).await
}

async fn respond(
    state: &AppState,
    caller: &Caller,
    model: &str,
    input: GenerateInput,
    client: &ClientInfo,
) -> ApiResult<Response> {
    let source = if caller.is_api_key() {
        Source::Api
    } else {
        Source::Playground
    };
    let live = begin(
        state,
        caller,
        model,
        &input,
        source,
        Unsupported::Refuse,
        client,
    )
    .await?;
    if input.stream {
        return Ok(sse::attach(live));
    }
    let outcome = live.wait().await;
    let data = OutcomeSummary::new(&live.id, &live.model_slug, &outcome);
    Ok(match &outcome.error {
        None => Json(Answer {
            success: true,
            error: None,
            data,
        })
        .into_response(),
        Some(error) => (
            failure_status(&outcome),
            Json(Answer {
                success: false,
                error: Some(FailureSummary::new(error)),
                data,
            }),
        )
            .into_response(),
    })
}

/// A generate call's answer: the plan's envelope around the summary, with `success: false`
/// and `error` when the generation failed.
#[derive(Serialize, ToSchema)]
#[schema(as = GenerationAnswer)]
struct Answer<'a> {
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<FailureSummary<'a>>,
    data: OutcomeSummary<'a>,
}

/// A generation the caller owns, or 404 (another account's id is as unknown as a made-up one).
async fn owned_row(state: &AppState, caller: &Caller, id: &str) -> ApiResult<GenerationRow> {
    state
        .engine
        .generation(id, caller.id())
        .await?
        .ok_or_else(|| ApiError::not_found("No generation of yours has that id."))
}

/// A running generation: its text so far.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GenerationProgress)]
struct Progress<'a> {
    id: &'a str,
    /// The model's slug.
    model: &'a str,
    /// Always `pending`.
    status: &'static str,
    /// The text so far.
    content: String,
    /// Unix milliseconds.
    created_at: i64,
}

/// `GET /api/generations/{id}`'s `data`: a running generation's progress, or the stored record.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = GenerationDetails)]
enum Details<'a> {
    Running(Progress<'a>),
    Stored(Box<GenerationRecord>),
}

/// A generation
///
/// One of your generations (from the playground, the API or `/v1`), with its input, output,
/// usage, cost and timing; a running one shows its text so far (`status: pending`). Another
/// account's id is as unknown as a made-up one.
#[utoipa::path(
    get,
    path = "/api/generations/{id}",
    params(("id" = String, Path, description = "The generation's id.")),
    responses(
        (status = 200, description = "The generation.", body = Success<Details>),
        (status = 404, description = "None of yours has that id (`not_found`).", body = Failure),
    ),
)]
async fn details(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if let Some(live) = state.engine.live(&id)
        && live.user_id == caller.id()
        && live.outcome().is_none()
    {
        return Ok(ok(Details::Running(Progress {
            id: &live.id,
            model: &live.model_slug,
            status: "pending",
            content: live.content(),
            created_at: live.created_at,
        })));
    }
    let row = owned_row(&state, &caller, &id).await?;
    let images = generations::count_assets(&state.db, &row.id).await?;
    Ok(ok(Details::Stored(Box::new(GenerationRecord::new(
        &row, images,
    )))))
}

/// A stored generation in the plan's shape.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerationRecord {
    id: String,
    /// The model's catalog id (its uuid), when the model is still known.
    model_id: Option<String>,
    session_id: Option<String>,
    /// `playground`, `api`, `v1`, `compare` or `batch`.
    source: String,
    /// `chat`, `text`, `code`, `image`, `summarize`, `translate` or `embed`.
    mode: String,
    input: GenerationRecordInput,
    output: GenerationRecordOutput,
    metadata: GenerationRecordMetadata,
    /// `pending`, `success`, `error`, `timeout`, `cancelled` or `interrupted`.
    status: String,
    /// Why it failed, when it did.
    error: Option<GenerationRecordError>,
    visibility: String,
    /// Unix milliseconds.
    created_at: i64,
    /// Unix milliseconds.
    updated_at: i64,
}

/// What the generation was asked.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerationRecordInput {
    prompt: String,
    system_prompt: Option<String>,
    /// The conversation sent: `[{role, content}]`.
    #[schema(value_type = Object)]
    messages: Value,
    /// The parameters sent.
    #[schema(value_type = Object)]
    parameters: Value,
}

/// What the generation produced.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerationRecordOutput {
    content: String,
    finish_reason: Option<String>,
    usage: GenerationRecordUsage,
    /// Links to its images (`/api/generations/{id}/image?index=N`).
    images: Vec<String>,
}

/// The tokens recorded.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerationRecordUsage {
    prompt_tokens: i64,
    completion_tokens: i64,
    total_tokens: i64,
}

/// Timing, cost and where the answer came from.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerationRecordMetadata {
    /// Milliseconds.
    duration: Option<i64>,
    /// Milliseconds.
    time_to_first_token: Option<i64>,
    /// USD.
    cost: Option<f64>,
    /// The exact cost in nano-dollars.
    cost_nanos: i64,
    provider: Option<String>,
    model_version: Option<String>,
    provider_generation_id: Option<String>,
    /// The error's details, when it failed.
    #[schema(value_type = Option<Object>)]
    details: Option<Value>,
}

/// A stored generation's error.
#[derive(Serialize, ToSchema)]
pub struct GenerationRecordError {
    code: String,
    message: Option<String>,
}

impl GenerationRecord {
    /// The stored generation, with `images` links to its images.
    pub fn new(row: &GenerationRow, images: i64) -> GenerationRecord {
        let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
        GenerationRecord {
            id: row.id.clone(),
            model_id: row.model_id.clone(),
            session_id: row.session_id.clone(),
            source: row.source.clone(),
            mode: row.mode.clone(),
            input: GenerationRecordInput {
                prompt: row.prompt.clone(),
                system_prompt: row.system_prompt.clone(),
                messages: parse(&row.messages),
                parameters: parse(&row.parameters),
            },
            output: GenerationRecordOutput {
                content: row.output_content.clone(),
                finish_reason: row.finish_reason.clone(),
                usage: GenerationRecordUsage {
                    prompt_tokens: row.prompt_tokens,
                    completion_tokens: row.completion_tokens,
                    total_tokens: row.total_tokens,
                },
                images: (0..images)
                    .map(|i| format!("/api/generations/{}/image?index={i}", row.id))
                    .collect(),
            },
            metadata: GenerationRecordMetadata {
                duration: row.duration_ms,
                time_to_first_token: row.time_to_first_token_ms,
                cost: usd(row.cost_nanos),
                cost_nanos: row.cost_nanos,
                provider: row.provider.clone(),
                model_version: row.model_version.clone(),
                provider_generation_id: row.provider_generation_id.clone(),
                details: row.error_details.as_deref().map(parse),
            },
            status: row.status.clone(),
            error: row.error_code.as_ref().map(|code| GenerationRecordError {
                code: code.clone(),
                message: row.error_message.clone(),
            }),
            visibility: row.visibility.clone(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Reattach to a generation
///
/// The events of a running generation from its start, as Server-Sent Events: `start`, the
/// text so far as one `delta`, each new `delta`, `usage`, then `done` or `error` (the same
/// events as a streamed generate call). A generation that already ended replays as `start`,
/// its whole text and its ending, whose generation is then the stored record (as in
/// `GET /api/generations/{id}`). Closing the stream does not stop the generation.
#[utoipa::path(
    get,
    path = "/api/generations/{id}/stream",
    params(("id" = String, Path, description = "The generation's id.")),
    responses(
        (status = 200, description = "The events.", content_type = "text/event-stream", body = String),
        (status = 404, description = "None of yours has that id (`not_found`).", body = Failure),
    ),
)]
async fn reattach(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if let Some(live) = state.engine.live(&id)
        && live.user_id == caller.id()
    {
        return Ok(sse::attach(live));
    }
    let row = owned_row(&state, &caller, &id).await?;
    Ok(sse::replay(&row))
}

/// Cancel a generation
///
/// Stops a running generation; what it produced is kept, with status `cancelled`. Answers
/// the generation as it ended.
#[utoipa::path(
    post,
    path = "/api/generations/{id}/cancel",
    params(("id" = String, Path, description = "The generation's id.")),
    responses(
        (status = 200, description = "The generation as it ended.", body = Success<OutcomeSummary>),
        (status = 404, description = "None of yours has that id (`not_found`).", body = Failure),
        (status = 409, description = "It already ended (`already_finished`).", body = Failure),
    ),
)]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if let Some(live) = state.engine.live(&id)
        && live.user_id == caller.id()
    {
        live.cancel();
        let outcome = live.wait().await;
        return Ok(ok(OutcomeSummary::new(
            &live.id,
            &live.model_slug,
            &outcome,
        )));
    }
    let row = owned_row(&state, &caller, &id).await?;
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "already_finished",
        format!("This generation already ended ({}).", row.status),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImageQuery {
    /// Which image, from 0.
    #[serde(default)]
    index: i64,
}

/// An image's bytes, for the document.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary, as = GenerationImageBytes)]
#[allow(dead_code)]
struct ImageBytes(Vec<u8>);

/// The `Content-Security-Policy` of every stored asset's response: a document of its own that
/// may run nothing and load nothing, should a browser ever treat it as one.
pub const ASSET_CONTENT_SECURITY_POLICY: &str = "sandbox; default-src 'none'";

/// A generated image
///
/// One image of an image generation. Only images whose bytes are a PNG, JPEG, WebP or GIF are
/// kept (a generation whose provider returned anything else ended as an `error` and kept
/// none), and the bytes are checked again when served: `Content-Type` is `image/png`,
/// `image/jpeg`, `image/webp` or `image/gif` as the bytes say, with `Content-Disposition:
/// inline; filename="aipasta-{id}-{index}.{png|jpg|webp|gif}"`. The image, and this route's
/// own 404 and 410, are sent with `Content-Security-Policy: sandbox; default-src 'none'` (in
/// place of the site's policy) and `X-Content-Type-Options: nosniff`. An image stored before
/// images were checked whose bytes are no such image is never served (410
/// `image_not_served`). Refusals before the handler (401, a malformed `index`) carry the site's
/// policy.
#[utoipa::path(
    get,
    path = "/api/generations/{id}/image",
    params(("id" = String, Path, description = "The generation's id."), ImageQuery),
    responses(
        (status = 200, description = "The image (`image/png`, `image/jpeg`, `image/webp` or `image/gif`, as its bytes say).",
            content((ImageBytes = "image/png"), (ImageBytes = "image/jpeg"), (ImageBytes = "image/webp"), (ImageBytes = "image/gif"))),
        (status = 404, description = "No such generation of yours, or no image at that index (`not_found`).", body = Failure),
        (status = 410, description = "A stored image that is not a PNG, JPEG, WebP or GIF (`image_not_served`).", body = Failure),
    ),
)]
async fn image(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<ImageQuery>,
) -> Response {
    let mut response = match stored_image(&state, &caller, &id, query.index).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(ASSET_CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn stored_image(
    state: &AppState,
    caller: &Caller,
    id: &str,
    index: i64,
) -> ApiResult<Response> {
    let not_found = || ApiError::not_found("This generation has no image at that index.");
    let position = usize::try_from(index).map_err(|_| not_found())?;
    let image = state
        .engine
        .image(id, caller.id(), position)
        .await?
        .ok_or_else(not_found)?;
    let format = servable_image(id, position, &image)?;
    Ok((
        [
            (header::CONTENT_TYPE, format.mime_type().to_owned()),
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "inline; filename=\"aipasta-{id}-{index}.{}\"",
                    format.extension()
                ),
            ),
        ],
        // Shares the outcome's (or the row's) bytes rather than copying them.
        Body::from(axum::body::Bytes::from_owner(image.bytes)),
    )
        .into_response())
}

/// The stored image's true format, or a 410 for bytes that are no raster image (only rows
/// written before images were checked can hold such bytes): they are never served.
pub(crate) fn servable_image(
    generation: &str,
    position: usize,
    image: &Image,
) -> Result<ImageFormat, ApiError> {
    ImageFormat::sniff(&image.bytes).ok_or_else(|| {
        tracing::warn!(
            %generation,
            position,
            stored_type = %image.mime_type,
            "a stored image is not a raster image; not served"
        );
        ApiError::new(
            StatusCode::GONE,
            "image_not_served",
            format!(
                "This image is not {KEPT_FORMATS} (it {}), so it is not served. It was stored \
                 before AI Pasta checked the images providers return.",
                media::looks_like(&image.bytes)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use utoipa::PartialSchema;

    use super::{GenerationModeDoc, GenerationRequestDoc, GenerationRoleDoc};
    use aipasta_engine::prepare::GenerateInput;

    fn schema_of<T: PartialSchema>() -> Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    /// The documented request mirrors the engine's `GenerateInput`: every documented field is
    /// one the engine reads, and every documented mode and role is one it accepts. A field
    /// renamed or removed in the engine fails here instead of leaving the document wrong.
    #[test]
    fn the_documented_request_is_what_the_engine_reads() {
        let documented = schema_of::<GenerationRequestDoc>();
        let properties = documented["properties"].as_object().unwrap();
        let sample = |name: &str| match name {
            "prompt" => json!("a prompt"),
            "messages" => json!([{"role": "user", "content": "hello"}]),
            "systemPrompt" => json!("be brief"),
            "parameters" => json!({"temperature": 0.5}),
            "mode" => json!("code"),
            "stream" => json!(true),
            "sessionId" => json!("session-1"),
            other => panic!("the document names {other}: give it a sample here"),
        };
        for name in properties.keys() {
            let input: GenerateInput =
                serde_json::from_value(json!({ name.as_str(): sample(name) })).unwrap();
            let read = match name.as_str() {
                "prompt" => input.prompt.is_some(),
                "messages" => input.messages.is_some(),
                "systemPrompt" => input.system_prompt.is_some(),
                "parameters" => input.parameters != Default::default(),
                "mode" => input.mode.is_some(),
                "stream" => input.stream,
                "sessionId" => input.session_id.is_some(),
                _ => false,
            };
            assert!(read, "the engine does not read the documented field {name}");
        }
        for (enumeration, field) in [
            (schema_of::<GenerationModeDoc>(), "mode"),
            (schema_of::<GenerationRoleDoc>(), "role"),
        ] {
            for value in enumeration["enum"].as_array().unwrap() {
                let body = if field == "mode" {
                    json!({ "mode": value })
                } else {
                    json!({ "messages": [{ "role": value, "content": "x" }] })
                };
                assert!(
                    serde_json::from_value::<GenerateInput>(body).is_ok(),
                    "the engine refuses the documented {field} {value}"
                );
            }
        }
    }
}
