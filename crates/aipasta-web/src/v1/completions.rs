//! `POST /v1/completions`: the legacy text completion. A model that only continues text gets
//! the prompt as is; a chat model gets it as one user message.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::auth::api::ClientInfo;
use crate::generations::begin;
use crate::state::AppState;
use aipasta_engine::prepare::{GenerateInput, Mode, Unsupported};
use aipasta_engine::{Field, Source};

use super::chat::find_model;
use super::error::{OpenAiError, OpenAiErrorBody, V1Result};
use super::request::{Body, Sampling, required};
use super::shapes::Completion;
use super::stream::{Flavor, respond, whole};

/// OpenAI's legacy completion request; fields not listed here are ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = V1CompletionRequest)]
pub struct CompletionRequest {
    /// A model id from `GET /v1/models`.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    pub model: Option<String>,
    #[serde(default)]
    #[schema(value_type = Prompt, required = true)]
    pub prompt: Option<Prompt>,
    #[serde(flatten)]
    pub sampling: Sampling,
}

/// `"prompt": "text"` or `["text"]`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = V1Prompt)]
pub enum Prompt {
    One(String),
    #[schema(value_type = Vec<String>)]
    Many(Vec<String>),
    /// Token ids, which AI Pasta cannot send on (refused with `invalid_type`).
    #[schema(value_type = Vec<u32>)]
    Other(serde::de::IgnoredAny),
}

impl Prompt {
    fn text(self) -> V1Result<String> {
        match self {
            Prompt::One(text) => Ok(text),
            Prompt::Many(mut list) if list.len() == 1 => Ok(list.remove(0)),
            Prompt::Many(_) => Err(OpenAiError::invalid(
                "prompt",
                "unsupported_value",
                "Send one prompt per request (a string, or an array of one string).",
            )),
            Prompt::Other(_) => Err(OpenAiError::invalid(
                "prompt",
                "invalid_type",
                "`prompt` must be a string (token arrays are not supported).",
            )),
        }
    }
}

/// Create a completion (legacy)
///
/// OpenAI's legacy text completion: `prompt` is a string or an array of one string. Streams
/// `text_completion` chunks like chat does, ending with `data: [DONE]`.
#[utoipa::path(
    post,
    path = "/v1/completions",
    request_body = CompletionRequest,
    responses(
        (status = 200, description = "The completion (`text_completion`), or its chunks when streaming.",
            content((Completion = "application/json"), (String = "text/event-stream"))),
        (status = 400, description = "A refused request (`missing_required_parameter`, `invalid_type`, `parameter_out_of_range`, `unsupported_value`, ...), with `param`.", body = OpenAiErrorBody),
        (status = 404, description = "An unknown model (`model_not_found`).", body = OpenAiErrorBody),
        (status = 429, description = "Too many requests, or the monthly token allowance used up.", body = OpenAiErrorBody),
        (status = 502, description = "The provider failed.", body = OpenAiErrorBody),
        (status = 503, description = "Generations cannot be saved right now (`storage_unavailable`).", body = OpenAiErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(request): Body<CompletionRequest>,
) -> V1Result<Response> {
    let model = required(request.model, "model")?;
    let prompt = required(request.prompt, "prompt")?;
    request.sampling.check_n()?;
    find_model(&state, &model).await?;
    let prompt = prompt.text()?;
    let input = GenerateInput {
        prompt: Some(prompt),
        parameters: request.sampling.parameters(),
        mode: Some(Mode::Text),
        stream: request.sampling.stream(),
        ..GenerateInput::default()
    };
    let client = ClientInfo::from_request(&headers, Some(address));
    let live = begin(
        &state,
        &caller,
        &model,
        &input,
        Source::V1,
        Unsupported::Drop,
        &client,
    )
    .await
    .map_err(|e| {
        OpenAiError::from_generation(e, |field| (field == Field::Messages).then_some("prompt"))
    })?;
    if input.stream {
        return Ok(respond(live, Flavor::Text, request.sampling.include_usage()).await);
    }
    Ok(whole(live, Flavor::Text).await)
}
