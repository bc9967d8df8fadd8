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
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::auth::api::ClientInfo;
use crate::error::ApiError;
use crate::generations::api::servable_image;
use crate::generations::begin;
use crate::state::AppState;
use aipasta_engine::prepare::{GenerateInput, Mode, ParameterInput, Unsupported};
use aipasta_engine::{Field, Source};

use super::chat::find_model;
use super::error::{OpenAiError, OpenAiErrorBody, V1Result};
use super::request::{Body, required};
use super::{unix_seconds, with_generation_id};

/// OpenAI's image request; fields not listed here are ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = V1ImageRequest)]
pub struct ImageRequest {
    /// An image model's id from `GET /v1/models`.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    pub model: Option<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    pub prompt: Option<String>,
    /// AI Pasta makes one image per request: only 1 is taken.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1)]
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

/// The images, in OpenAI's shape.
#[derive(Serialize, ToSchema)]
#[schema(as = V1ImagesResponse)]
pub struct ImagesResponse {
    /// Unix seconds.
    created: i64,
    data: Vec<ImageData>,
}

/// One image: `b64_json` or `url`, as `response_format` asked.
#[derive(Serialize, ToSchema)]
#[schema(as = V1Image)]
pub struct ImageData {
    /// The image's bytes in base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    b64_json: Option<String>,
    /// `/api/generations/{id}/image?index=N` on the site's public address; it needs the same
    /// `Authorization` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    /// The text the provider answered with the image, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    revised_prompt: Option<String>,
}

/// Create an image
///
/// An image from an image model. `n` must be 1; `size` is `WIDTHxHEIGHT`; `response_format`
/// is `b64_json` (the default here) or `url`, a link to `/api/generations/{id}/image` on the
/// site's public address (`AIPASTA_PUBLIC_URL`; never taken from the request's `Host`) that
/// needs the same `Authorization` header. Either form carries only images whose bytes are a
/// PNG, JPEG, WebP or GIF, typed by those bytes whatever the provider claimed; a provider
/// answer holding anything else (HTML, SVG, script, nothing) is refused as a whole — a 502
/// `upstream_malformed` saying what the image looked like, recorded as an `error`, with none
/// of its images kept.
#[utoipa::path(
    post,
    path = "/v1/images/generations",
    request_body = ImageRequest,
    responses(
        (status = 200, description = "The image.", body = ImagesResponse),
        (status = 400, description = "A refused request (`missing_required_parameter`, `unsupported_value`, `invalid_value`), with `param`.", body = OpenAiErrorBody),
        (status = 404, description = "An unknown model (`model_not_found`).", body = OpenAiErrorBody),
        (status = 502, description = "The provider failed, or returned an image that is not a PNG, JPEG, WebP or GIF (`upstream_malformed`).", body = OpenAiErrorBody),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(request): Body<ImageRequest>,
) -> V1Result<Response> {
    let model = required(request.model, "model")?;
    let prompt = required(request.prompt, "prompt")?;
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
    find_model(&state, &model).await?;
    let input = GenerateInput {
        prompt: Some(prompt),
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
        &model,
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
        let revised_prompt = (!outcome.content.is_empty()).then(|| outcome.content.clone());
        data.push(if as_url {
            ImageData {
                url: Some(format!(
                    "{base}/api/generations/{}/image?index={index}",
                    live.id
                )),
                b64_json: None,
                revised_prompt,
            }
        } else {
            // Only checked images are kept; checked again, as the image route does.
            servable_image(&live.id, index, image)
                .map_err(|e| OpenAiError::from(ApiError::internal(&e.message)))?;
            ImageData {
                b64_json: Some(base64::engine::general_purpose::STANDARD.encode(&image.bytes)),
                url: None,
                revised_prompt,
            }
        });
    }
    if data.is_empty() {
        return Err(OpenAiError::new(
            StatusCode::BAD_GATEWAY,
            "server_error",
            "upstream_malformed",
            "The provider answered without an image.",
        ));
    }
    let body = ImagesResponse {
        created: unix_seconds(live.created_at),
        data,
    };
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
