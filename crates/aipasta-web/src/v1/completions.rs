//! `POST /v1/completions`: the legacy text completion. A model that only continues text gets
//! the prompt as is; a chat model gets it as one user message.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use crate::auth::Caller;
use crate::auth::api::ClientInfo;
use crate::generations::begin;
use crate::state::AppState;
use aipasta_engine::prepare::{GenerateInput, Mode, Unsupported};
use aipasta_engine::{Field, Source};

use super::chat::find_model;
use super::error::{OpenAiError, V1Result};
use super::request::{Body, Sampling};
use super::stream::{Flavor, respond, whole};

#[derive(Debug, Deserialize)]
pub struct CompletionRequest {
    pub model: String,
    pub prompt: Prompt,
    #[serde(flatten)]
    pub sampling: Sampling,
}

/// `"prompt": "text"` or `["text"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Prompt {
    One(String),
    Many(Vec<String>),
    /// Token ids, which AI Pasta cannot send on.
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

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(request): Body<CompletionRequest>,
) -> V1Result<Response> {
    request.sampling.check_n()?;
    find_model(&state, &request.model).await?;
    let prompt = request.prompt.text()?;
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
        &request.model,
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
