//! `POST /v1/embeddings`: vectors from embedding models. Each input is one generation (one row
//! in the history, with its tokens and cost); a list of inputs runs a few at a time.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Caller;
use crate::auth::api::ClientInfo;
use crate::generations::begin;
use crate::state::AppState;
use aipasta_engine::prepare::{GenerateInput, Mode, Unsupported};
use aipasta_engine::{Field, Source};

use super::chat::find_model;
use super::error::{OpenAiError, V1Result};
use super::request::Body;
use super::with_generation_id;

/// The most inputs in one request.
const MAX_INPUTS: usize = 256;
/// How many inputs are embedded at once.
const CONCURRENCY: usize = 4;

#[derive(Debug, Deserialize)]
pub struct EmbeddingRequest {
    pub model: String,
    pub input: Input,
    /// `float` (the default) or `base64` (little-endian `f32`s).
    #[serde(default)]
    pub encoding_format: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Input {
    One(String),
    Many(Vec<String>),
    /// Token ids, which AI Pasta cannot send on.
    Other(serde::de::IgnoredAny),
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(request): Body<EmbeddingRequest>,
) -> V1Result<Response> {
    let base64 = match request.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(OpenAiError::invalid(
                "encoding_format",
                "invalid_value",
                format!("`encoding_format` is `float` or `base64`, not `{other}`."),
            ));
        }
    };
    let inputs = match request.input {
        Input::One(text) => vec![text],
        Input::Many(list) => list,
        Input::Other(_) => {
            return Err(OpenAiError::invalid(
                "input",
                "invalid_type",
                "`input` must be a string or an array of strings (token arrays are not supported).",
            ));
        }
    };
    if inputs.is_empty() || inputs.len() > MAX_INPUTS {
        return Err(OpenAiError::invalid(
            "input",
            "invalid_value",
            format!("`input` must hold 1 to {MAX_INPUTS} strings."),
        ));
    }
    if let Some(i) = inputs.iter().position(|text| text.trim().is_empty()) {
        return Err(OpenAiError::invalid(
            &format!("input[{i}]"),
            "invalid_value",
            "Every input must be a non-empty string.",
        ));
    }
    let row = find_model(&state, &request.model).await?;
    let client = ClientInfo::from_request(&headers, Some(address));
    let (state, caller, client, model) = (&state, &caller, &client, request.model.as_str());
    let results: Vec<V1Result<(String, Vec<f32>, u64)>> =
        futures_util::stream::iter(inputs.into_iter().map(|text| async move {
            let input = GenerateInput {
                prompt: Some(text),
                mode: Some(Mode::Embed),
                ..GenerateInput::default()
            };
            let live = begin(
                state,
                caller,
                model,
                &input,
                Source::V1,
                Unsupported::Drop,
                client,
            )
            .await
            .map_err(|e| {
                OpenAiError::from_generation(e, |field| {
                    (field == Field::Messages).then_some("input")
                })
            })?;
            let outcome = live.wait().await;
            if outcome.error.is_some() {
                return Err(OpenAiError::from_outcome(&outcome));
            }
            let vector = outcome.embeddings.first().cloned().ok_or_else(|| {
                OpenAiError::new(
                    StatusCode::BAD_GATEWAY,
                    "server_error",
                    "upstream_malformed",
                    "The provider answered without an embedding.",
                )
            })?;
            let tokens = outcome.usage.prompt_tokens.max(outcome.usage.total_tokens);
            Ok((live.id.clone(), vector, tokens))
        }))
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let mut data = Vec::with_capacity(results.len());
    let mut ids = Vec::with_capacity(results.len());
    let mut tokens = 0;
    for (index, result) in results.into_iter().enumerate() {
        let (id, vector, used) = result?;
        let embedding = if base64 {
            let bytes: Vec<u8> = vector.iter().flat_map(|f| f.to_le_bytes()).collect();
            json!(base64::engine::general_purpose::STANDARD.encode(bytes))
        } else {
            json!(vector)
        };
        data.push(json!({"object": "embedding", "index": index, "embedding": embedding}));
        ids.push(id);
        tokens += used;
    }
    let body = json!({
        "object": "list",
        "data": data,
        "model": row.slug,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    });
    Ok(with_generation_id(
        Json(body).into_response(),
        &ids.join(","),
    ))
}
