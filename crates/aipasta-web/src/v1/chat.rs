//! `POST /v1/chat/completions`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use aipasta_providers::generate::{ChatMessage, Role};
use aipasta_store::catalog::ModelRow;

use crate::auth::Caller;
use crate::auth::api::ClientInfo;
use crate::generations::begin;
use crate::state::AppState;
use aipasta_engine::Source;
use aipasta_engine::prepare::{GenerateInput, Mode, Unsupported};

use super::error::{OpenAiError, OpenAiErrorBody, V1Result};
use super::request::{Body, Sampling, required};
use super::shapes::Completion;
use super::stream::{Flavor, respond, whole};

/// OpenAI's chat request; fields not listed here are ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = V1ChatRequest)]
pub struct ChatRequest {
    /// A model id from `GET /v1/models`.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    pub model: Option<String>,
    /// The conversation, oldest first: at least one message.
    #[serde(default)]
    #[schema(value_type = Vec<InMessage>, required = true, min_items = 1)]
    pub messages: Option<Vec<InMessage>>,
    #[serde(flatten)]
    pub sampling: Sampling,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = V1ChatMessage)]
pub struct InMessage {
    /// `system`, `developer`, `user` or `assistant`.
    pub role: String,
    #[serde(default)]
    pub content: Option<Content>,
}

/// A message's content: text, or a list of parts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = V1Content)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
}

/// A content part: `text` parts are joined; others are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = V1ContentPart)]
pub struct Part {
    /// `text`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
}

/// Create a chat completion
///
/// OpenAI's chat completion. With `stream: true` the answer is Server-Sent Events:
/// `data: {chat.completion.chunk}` lines — a first chunk with
/// `delta: {role: "assistant", content: ""}`, content deltas, a chunk with an empty delta and
/// `finish_reason`, then (with `stream_options.include_usage`) a chunk with `choices: []` and
/// `usage` — and `data: [DONE]`. The first chunk (which carries the generation's id) is sent
/// once the generation's row is stored, and `[DONE]` (or a whole answer) once its final row
/// is. A failure after the stream started sends one `data: {"error": {...}}` event and closes
/// without `[DONE]` (OpenAI's SDKs raise it as an `APIError`); a failure before the first
/// token is an HTTP error. Parameters the model does not support are dropped; unknown fields
/// are ignored; `n` must be 1; image content parts are refused. The generation is recorded
/// with `source: v1`; its id is in the `X-AIPasta-Generation-Id` header.
#[utoipa::path(
    post,
    path = "/v1/chat/completions",
    request_body = ChatRequest,
    responses(
        (status = 200, description = "The completion (`chat.completion`), or its chunks (`chat.completion.chunk`) when streaming.",
            content((Completion = "application/json"), (String = "text/event-stream"))),
        (status = 400, description = "A refused request (`invalid_request_error`, with `param`): `missing_required_parameter`, `parameter_out_of_range`, `empty_array`, `missing_input`, `image_input_not_supported`, `unsupported_value`, `invalid_json`.", body = OpenAiErrorBody),
        (status = 404, description = "An unknown model (`model_not_found`).", body = OpenAiErrorBody),
        (status = 429, description = "Too many requests (`rate_limit_exceeded`) or the monthly token allowance used up (`insufficient_quota`).", body = OpenAiErrorBody),
        (status = 502, description = "The provider failed.", body = OpenAiErrorBody),
        (status = 503, description = "Generations cannot be saved right now (`storage_unavailable`); nothing was started. `Retry-After` says when to try again.", body = OpenAiErrorBody),
        (status = 504, description = "The provider timed out.", body = OpenAiErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(request): Body<ChatRequest>,
) -> V1Result<Response> {
    let model_id = required(request.model, "model")?;
    let given = required(request.messages, "messages")?;
    request.sampling.check_n()?;
    let model = find_model(&state, &model_id).await?;
    let messages = messages(&model, &given)?;
    let input = GenerateInput {
        messages: Some(messages),
        parameters: request.sampling.parameters(),
        mode: Some(Mode::Chat),
        stream: request.sampling.stream(),
        ..GenerateInput::default()
    };
    let client = ClientInfo::from_request(&headers, Some(address));
    let live = begin(
        &state,
        &caller,
        &model_id,
        &input,
        Source::V1,
        Unsupported::Drop,
        &client,
    )
    .await?;
    if input.stream {
        return Ok(respond(live, Flavor::Chat, request.sampling.include_usage()).await);
    }
    Ok(whole(live, Flavor::Chat).await)
}

/// The model asked for, or OpenAI's 404 (`begin` looks it up again, from the same cache).
pub async fn find_model(state: &AppState, model: &str) -> V1Result<std::sync::Arc<ModelRow>> {
    if model.trim().is_empty() {
        return Err(OpenAiError::invalid(
            "model",
            "missing_required_parameter",
            "You must provide a model: an id from GET /v1/models.",
        ));
    }
    state
        .engine
        .models
        .get(&state.db, model)
        .await?
        .ok_or_else(|| model_not_found(model))
}

pub fn model_not_found(model: &str) -> OpenAiError {
    OpenAiError::new(
        axum::http::StatusCode::NOT_FOUND,
        super::error::INVALID_REQUEST,
        "model_not_found",
        format!("The model `{model}` does not exist. GET /v1/models lists the models you can use."),
    )
    .with_param("model")
}

/// OpenAI's messages as the engine's: text parts joined; images refused.
fn messages(model: &ModelRow, given: &[InMessage]) -> V1Result<Vec<ChatMessage>> {
    if given.is_empty() {
        return Err(OpenAiError::invalid(
            "messages",
            "empty_array",
            "`messages` must hold at least one message.",
        ));
    }
    given
        .iter()
        .enumerate()
        .map(|(i, message)| {
            let role = match message.role.as_str() {
                "system" | "developer" => Role::System,
                "user" => Role::User,
                "assistant" => Role::Assistant,
                "tool" | "function" => {
                    return Err(OpenAiError::invalid(
                        &format!("messages[{i}].role"),
                        "unsupported_value",
                        "Tool and function messages are not supported: AI Pasta does not pass tools to models.",
                    ));
                }
                other => {
                    return Err(OpenAiError::invalid(
                        &format!("messages[{i}].role"),
                        "invalid_value",
                        format!("`{other}` is not a role; use system, developer, user or assistant."),
                    ));
                }
            };
            let content = match &message.content {
                None => String::new(),
                Some(Content::Text(text)) => text.clone(),
                Some(Content::Parts(parts)) => join_parts(model, i, parts)?,
            };
            Ok(ChatMessage { role, content })
        })
        .collect()
}

fn join_parts(model: &ModelRow, message: usize, parts: &[Part]) -> V1Result<String> {
    let mut texts = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let param = format!("messages[{message}].content[{j}]");
        match part.kind.as_str() {
            "text" | "input_text" => texts.push(part.text.clone().unwrap_or_default()),
            "image_url" | "input_image" | "image" => {
                let sees_images = model.cap_image_analysis
                    || model.input_modalities().iter().any(|m| m == "image");
                let message = if sees_images {
                    format!(
                        "{} reads images, but AI Pasta's gateway passes text only for now: send the text parts alone.",
                        model.display_name
                    )
                } else {
                    format!(
                        "{} does not accept images: send text only, or pick a model that reads images.",
                        model.display_name
                    )
                };
                return Err(OpenAiError::invalid(
                    &param,
                    "image_input_not_supported",
                    message,
                ));
            }
            other => {
                return Err(OpenAiError::invalid(
                    &param,
                    "unsupported_content",
                    format!(
                        "Content parts of type `{other}` are not supported; send `text` parts."
                    ),
                ));
            }
        }
    }
    Ok(texts.join("\n"))
}
