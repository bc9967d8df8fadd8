//! `POST /v1/images/generations`: images from image models. The images are kept with the
//! generation (as in the playground); `response_format: "url"` answers links to them, which
//! need the same `Authorization` header to fetch. Either form only ever carries images the
//! engine checked (PNG, JPEG, WebP or GIF by their bytes); an answer with anything else is a
//! 502 `upstream_malformed` here, recorded as an `error`, and its bytes are not kept.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Caller;
use crate::auth::api::ClientInfo;
use crate::error::ApiError;
use crate::generations::api::servable_image;
use crate::generations::begin;
use crate::state::AppState;
use aipasta_engine::prepare::{GenerateInput, Mode, ParameterInput, Unsupported};
use aipasta_engine::{Field, Source};

use super::chat::find_model;
use super::error::{OpenAiError, V1Result};
use super::request::Body;
use super::{unix_seconds, with_generation_id};

#[derive(Debug, Deserialize)]
pub struct ImageRequest {
    pub model: String,
    pub prompt: String,
    #[serde(default)]
    pub n: Option<u32>,
    /// `"1024x1024"`, or `"auto"` for the model's default.
    #[serde(default)]
    pub size: Option<String>,
    /// `b64_json` (the default here) or `url`.
    #[serde(default)]
    pub response_format: Option<String>,
    #[serde(default)]
    pub seed: Option<i64>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(request): Body<ImageRequest>,
) -> V1Result<Response> {
    if let Some(n) = request.n.filter(|n| *n != 1) {
        return Err(OpenAiError::invalid(
            "n",
            "unsupported_value",
            format!("AI Pasta makes one image per request; `n` must be 1, not {n}."),
        ));
    }
    let as_url = match request.response_format.as_deref() {
        None | Some("b64_json") => false,
        Some("url") => true,
        Some(other) => {
            return Err(OpenAiError::invalid(
                "response_format",
                "invalid_value",
                format!("`response_format` is `b64_json` or `url`, not `{other}`."),
            ));
        }
    };
    let (width, height) = match request.size.as_deref() {
        None | Some("auto") => (None, None),
        Some(size) => parse_size(size).ok_or_else(|| {
            OpenAiError::invalid(
                "size",
                "invalid_value",
                format!("`size` is WIDTHxHEIGHT in pixels (like `1024x1024`), not `{size}`."),
            )
        })?,
    };
    find_model(&state, &request.model).await?;
    let input = GenerateInput {
        prompt: Some(request.prompt),
        mode: Some(Mode::Image),
        parameters: ParameterInput {
            width,
            height,
            seed: request.seed,
            ..ParameterInput::default()
        },
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
        OpenAiError::from_generation(e, |field| match field {
            Field::Messages => Some("prompt"),
            Field::Parameter("width" | "height") => Some("size"),
            _ => None,
        })
    })?;
    let outcome = live.wait().await;
    if outcome.error.is_some() {
        return Ok(with_generation_id(
            OpenAiError::from_outcome(&outcome).into_response(),
            &live.id,
        ));
    }
    let base = crate::site::base_url(&state, &headers);
    let mut data = Vec::with_capacity(outcome.images.len());
    for (index, image) in outcome.images.iter().enumerate() {
        let mut image = if as_url {
            json!({"url": format!("{base}/api/generations/{}/image?index={index}", live.id)})
        } else {
            // Only checked images are kept; checked again, as the image route does.
            servable_image(&live.id, index, image)
                .map_err(|e| OpenAiError::from(ApiError::internal(&e.message)))?;
            json!({"b64_json": base64::engine::general_purpose::STANDARD.encode(&image.bytes)})
        };
        if !outcome.content.is_empty() {
            image["revised_prompt"] = json!(outcome.content);
        }
        data.push(image);
    }
    if data.is_empty() {
        return Err(OpenAiError::new(
            StatusCode::BAD_GATEWAY,
            "server_error",
            "upstream_malformed",
            "The provider answered without an image.",
        ));
    }
    let body = json!({"created": unix_seconds(live.created_at), "data": data});
    Ok(with_generation_id(Json(body).into_response(), &live.id))
}

/// `"1024x768"` → (1024, 768).
fn parse_size(size: &str) -> Option<(Option<u32>, Option<u32>)> {
    let (width, height) = size.trim().split_once(['x', 'X'])?;
    Some((
        Some(width.trim().parse().ok()?),
        Some(height.trim().parse().ok()?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_width_by_height() {
        assert_eq!(parse_size("512x256"), Some((Some(512), Some(256))));
        assert_eq!(parse_size("1024X1024"), Some((Some(1024), Some(1024))));
        assert_eq!(parse_size("big"), None);
        assert_eq!(parse_size("10x"), None);
    }
}
