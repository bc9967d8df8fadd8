//! `POST /v1/embeddings`: vectors from embedding models. Each input is one generation (one row
//! in the history, with its tokens and cost); a list of inputs runs a few at a time.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::auth::api::ClientInfo;
use crate::generations::begin;
use crate::state::AppState;
use aipasta_engine::prepare::{GenerateInput, Mode, Unsupported};
use aipasta_engine::{Field, Source};

use super::chat::find_model;
use super::error::{OpenAiError, OpenAiErrorBody, V1Result};
use super::request::{Body, required};
use super::with_generation_id;

/// The most inputs in one request.
const MAX_INPUTS: usize = 256;
/// How many inputs are embedded at once.
const CONCURRENCY: usize = 4;

/// OpenAI's embeddings request; fields not listed here are ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = V1EmbeddingRequest)]
pub struct EmbeddingRequest {
    /// An embedding model's id from `GET /v1/models`.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    pub model: Option<String>,
    #[serde(default)]
    #[schema(value_type = Input, required = true)]
    pub input: Option<Input>,
    /// `float` (the default) or `base64` (little-endian `f32`s).
    #[serde(default)]
    pub encoding_format: Option<String>,
}

/// A string, or 1 to 256 strings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = V1EmbeddingInput)]
pub enum Input {
    One(String),
    #[schema(value_type = Vec<String>)]
    Many(Vec<String>),
    /// Token ids, which AI Pasta cannot send on (refused with `invalid_type`).
    #[schema(value_type = Vec<u32>)]
    Other(serde::de::IgnoredAny),
}

/// The vectors, in input order, in OpenAI's list shape.
#[derive(Serialize, ToSchema)]
#[schema(as = V1EmbeddingList)]
pub struct EmbeddingList {
    /// Always `list`.
    object: &'static str,
    data: Vec<Embedding>,
    model: String,
    usage: EmbeddingUsage,
}

#[derive(Serialize, ToSchema)]
#[schema(as = V1Embedding)]
pub struct Embedding {
    /// Always `embedding`.
    object: &'static str,
    /// The input's position.
    index: usize,
    embedding: Vector,
}

/// A list of numbers, or with `encoding_format: base64` a base64 string of little-endian
/// `f32`s.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = V1Vector)]
pub enum Vector {
    Floats(Vec<f32>),
    Base64(String),
}

#[derive(Serialize, ToSchema)]
#[schema(as = V1EmbeddingUsage)]
pub struct EmbeddingUsage {
    prompt_tokens: u64,
    total_tokens: u64,
}

/// Create embeddings
///
/// Vectors from an embedding model: `input` is a string or an array of strings (up to 256;
/// each is recorded as one generation, and their ids are in the `X-AIPasta-Generation-Id`
/// header, comma-separated). `encoding_format: base64` answers little-endian `f32`s.
#[utoipa::path(
    post,
    path = "/v1/embeddings",
    request_body = EmbeddingRequest,
    responses(
        (status = 200, description = "The vectors, in input order.", body = EmbeddingList),
        (status = 400, description = "A refused request (`missing_required_parameter`, `invalid_type`, `invalid_value`; a model that cannot embed: `unsupported_mode`), with `param`.", body = OpenAiErrorBody),
        (status = 404, description = "An unknown model (`model_not_found`).", body = OpenAiErrorBody),
        (status = 502, description = "The provider failed, or answered without an embedding (`upstream_malformed`).", body = OpenAiErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(request): Body<EmbeddingRequest>,
) -> V1Result<Response> {
    let model = required(request.model, "model")?;
    let input = required(request.input, "input")?;
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
    let inputs = match input {
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
    let row = find_model(&state, &model).await?;
    let client = ClientInfo::from_request(&headers, Some(address));
    let (state, caller, client, model) = (&state, &caller, &client, model.as_str());
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
            Vector::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
        } else {
            Vector::Floats(vector)
        };
        data.push(Embedding {
            object: "embedding",
            index,
            embedding,
        });
        ids.push(id);
        tokens += used;
    }
    let body = EmbeddingList {
        object: "list",
        data,
        model: row.slug.clone(),
        usage: EmbeddingUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
    };
    Ok(with_generation_id(
        Json(body).into_response(),
        &ids.join(","),
    ))
}
