//! Faults a test can script into a route (an error status, a body that is not JSON, a stall)
//! and the error bodies each provider really sends, so clients are tested against the real shape.

use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// What a route does instead of (or before) its normal answer, until the fault is cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this HTTP status with the provider's usual JSON error body.
    Status(u16),
    /// Answer `200 OK` with `application/json` that is cut off mid-document.
    MalformedJson,
    /// Wait this long, then answer normally. Longer than the client's timeout tests timeouts;
    /// the wait ends early when the server is dropped so tests never linger.
    Stall(Duration),
    /// Answer exactly this status, content type and body (e.g. a proxy's HTML error page).
    Raw {
        status: u16,
        content_type: String,
        body: String,
    },
}

/// Whose error body to imitate.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ErrorShape {
    /// `{"error": {"code": 500, "message": "..."}}`
    OpenRouter,
    /// `{"error": "..."}`
    HuggingFaceHub,
    /// `{"error": {"message", "type", "param", "code"}}`
    OpenAi,
    /// RFC 6749 §5.2: `{"error": "server_error", "error_description": "..."}`
    OAuth,
    /// GitHub's REST API: `{"message", "documentation_url", "status"}`
    GitHub,
}

/// The body served for [`Fault::MalformedJson`]: valid JSON's first half.
pub(crate) const MALFORMED_JSON: &str = r#"{"data": [{"id": "truncated/model", "name": "#;

/// A status answer in the provider's error shape.
pub(crate) fn error_response(shape: ErrorShape, status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = typical_message(shape, status);
    let body = match shape {
        ErrorShape::OpenRouter => json!({"error": {"code": status.as_u16(), "message": message}}),
        ErrorShape::HuggingFaceHub => json!({"error": message}),
        ErrorShape::OpenAi => json!({
            "error": {
                "message": message,
                "type": if status.is_server_error() { "server_error" } else { "invalid_request_error" },
                "param": null,
                "code": null,
            }
        }),
        ErrorShape::OAuth => {
            json!({"error": oauth_error_code(status), "error_description": message})
        }
        ErrorShape::GitHub => json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.as_u16().to_string(),
        }),
    };
    (status, axum::Json(body)).into_response()
}

pub(crate) fn raw_response(status: u16, content_type: &str, body: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, content_type.to_owned())],
        body.to_owned(),
    )
        .into_response()
}

pub(crate) fn malformed_json_response() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        MALFORMED_JSON,
    )
        .into_response()
}

/// RFC 6749's error code closest to a status.
fn oauth_error_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "invalid_client",
        503 => "temporarily_unavailable",
        code if code >= 500 => "server_error",
        _ => "invalid_request",
    }
}

/// The messages the providers send for the statuses clients meet most.
fn typical_message(shape: ErrorShape, status: StatusCode) -> String {
    let known = match (shape, status.as_u16()) {
        (ErrorShape::OpenRouter, 401) => Some("No auth credentials found"),
        (ErrorShape::OpenRouter, 402) => {
            Some("Insufficient credits. Add more using https://openrouter.ai/credits")
        }
        (ErrorShape::OpenRouter, 429) => Some("Rate limit exceeded: too many requests"),
        (ErrorShape::HuggingFaceHub, 401) => Some("Invalid credentials in Authorization header"),
        (ErrorShape::HuggingFaceHub, 429) => Some(
            "You have exceeded our hourly quotas for action: api. We invite you to retry later.",
        ),
        (ErrorShape::OpenAi, 401) => Some("Incorrect API key provided."),
        (ErrorShape::OpenAi, 429) => Some("Rate limit reached for requests"),
        (ErrorShape::GitHub, 401) => Some("Bad credentials"),
        (ErrorShape::GitHub, 403) => Some("API rate limit exceeded"),
        _ => None,
    };
    known
        .map(str::to_owned)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned())
}
