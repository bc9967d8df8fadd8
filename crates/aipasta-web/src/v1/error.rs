//! Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with the status
//! OpenAI would answer, so OpenAI SDKs raise their usual exceptions (`AuthenticationError` for
//! 401, `PermissionDeniedError` for 403, `NotFoundError` for 404, `BadRequestError` for 400,
//! `RateLimitError` for 429, `InternalServerError` for 5xx).
//!
//! Handlers under `/v1` answer [`OpenAiError`] directly. Everything else that can answer a
//! `/v1` request before a handler runs (the identity middleware's 401 for a bad key, the access
//! rule's 401/403, the general rate limit, the router's 404 and 405, a panic) answers the plan's
//! envelope; [`rewrite`], called by the `error_bodies` middleware for `/v1` paths, turns those
//! into this shape.

use std::borrow::Cow;

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::engine::{Failure, Outcome};
use crate::error::ApiError;
use crate::generations::failure_status;

/// One error, as OpenAI describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAiError {
    pub status: StatusCode,
    pub message: String,
    /// `invalid_request_error`, `insufficient_quota`, `requests`, `server_error`, ...
    pub kind: &'static str,
    pub param: Option<String>,
    pub code: Option<Cow<'static, str>>,
    /// Seconds to wait before retrying (`Retry-After`), when the client should.
    pub retry_after: Option<u64>,
}

pub type V1Result<T> = Result<T, OpenAiError>;

impl OpenAiError {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> OpenAiError {
        OpenAiError {
            status,
            message: message.into(),
            kind,
            param: None,
            code: Some(code.into()),
            retry_after: None,
        }
    }

    /// A 400 about one request field.
    pub fn invalid(
        param: &str,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> OpenAiError {
        OpenAiError::new(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            code,
            message.into(),
        )
        .with_param(param)
    }

    pub fn with_param(mut self, param: impl Into<String>) -> OpenAiError {
        self.param = Some(param.into());
        self
    }

    pub fn body(&self) -> Value {
        json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        })
    }

    /// A generation that ended badly: the upstream's failure, with the status the plan's API
    /// uses for it (502 for a provider error, 504 for a timeout, 429 when the provider is busy).
    pub fn from_outcome(outcome: &Outcome) -> OpenAiError {
        let fallback = Failure {
            code: outcome.status.to_owned(),
            message: "The generation did not finish.".to_owned(),
            upstream_status: None,
        };
        let failure = outcome.error.as_ref().unwrap_or(&fallback);
        let status = match failure_status(outcome) {
            StatusCode::OK => StatusCode::BAD_GATEWAY,
            status => status,
        };
        OpenAiError::new(
            status,
            kind_for(status, &failure.code),
            failure.code.clone(),
            failure.message.clone(),
        )
    }

    /// The error object a stream sends when the generation fails after it started.
    pub fn stream_event(outcome: &Outcome) -> Value {
        OpenAiError::from_outcome(outcome).body()
    }
}

pub const INVALID_REQUEST: &str = "invalid_request_error";

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The engine's and the plan's errors (`ApiError`), in OpenAI's terms.
impl From<ApiError> for OpenAiError {
    fn from(error: ApiError) -> OpenAiError {
        OpenAiError {
            retry_after: error.retry_after,
            ..translate(error.status, &error.code, error.message)
        }
    }
}

/// Maps the plan's status and code to OpenAI's status, type, code and param.
fn translate(status: StatusCode, code: &str, message: String) -> OpenAiError {
    let param = backticked(&message);
    let (status, code): (StatusCode, Cow<'static, str>) = match (status.as_u16(), code) {
        // A bad, revoked or missing key.
        (401, _) => (status, "invalid_api_key".into()),
        (403, _) => (status, "insufficient_permissions".into()),
        // A deprecated model is as gone as an unknown one, for a client.
        (404 | 410, "model_not_found" | "model_unavailable") => {
            let mut error = OpenAiError::new(
                StatusCode::NOT_FOUND,
                INVALID_REQUEST,
                "model_not_found",
                message,
            );
            error.param = Some("model".into());
            return error;
        }
        (404, "not_found") => (status, "unknown_url".into()),
        (429, "monthly_limit_reached") => {
            return OpenAiError::new(status, "insufficient_quota", "insufficient_quota", message);
        }
        (429, _) => {
            return OpenAiError::new(status, "requests", "rate_limit_exceeded", message);
        }
        (413, _) | (400, "prompt_too_long") => {
            let mut error = OpenAiError::new(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                "context_length_exceeded",
                message,
            );
            error.param = Some("messages".into());
            return error;
        }
        (400, "unsupported_mode") => {
            let mut error = OpenAiError::new(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                code.to_owned(),
                message,
            );
            error.param = Some("model".into());
            return error;
        }
        (400, "missing_input") => {
            let mut error = OpenAiError::new(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                code.to_owned(),
                message,
            );
            error.param = Some("messages".into());
            return error;
        }
        (_, code) => (status, code.to_owned().into()),
    };
    OpenAiError {
        kind: kind_for(status, &code),
        status,
        message,
        param: if status == StatusCode::BAD_REQUEST {
            param
        } else {
            None
        },
        code: Some(code),
        retry_after: None,
    }
}

/// OpenAI's error `type` for a status.
fn kind_for(status: StatusCode, code: &str) -> &'static str {
    match status.as_u16() {
        429 if code == "insufficient_quota" => "insufficient_quota",
        429 => "requests",
        s if s >= 500 => "server_error",
        _ => INVALID_REQUEST,
    }
}

/// The first `name` in backticks of a message (the engine names the parameter it refuses).
fn backticked(message: &str) -> Option<String> {
    let rest = message.split_once('`')?.1;
    let name = rest.split_once('`')?.0;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| name.to_owned())
}

/// Rewrites an error response to a `/v1` request into OpenAI's shape. Successful responses, and
/// errors already in OpenAI's shape, pass unchanged; the plan's envelope keeps its message and
/// has its code translated; a body without JSON (a router 405, a panic) gets a message for its
/// status. Headers (`Retry-After`, the request id) are kept.
pub async fn rewrite(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    let error = match parsed.as_ref().and_then(|v| v.get("error")) {
        Some(error) if error.get("type").is_some() => {
            // Already OpenAI's shape (a `/v1` handler's own answer).
            return Response::from_parts(parts, Body::from(bytes));
        }
        Some(error) => {
            let code = error.get("code").and_then(Value::as_str).unwrap_or("error");
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_else(|| default_message(status))
                .to_owned();
            translate(status, code, message)
        }
        None => {
            let text = String::from_utf8_lossy(&bytes).trim().to_owned();
            let message = if text.is_empty() || status.is_server_error() {
                default_message(status).to_owned()
            } else {
                text
            };
            let code = match status.as_u16() {
                404 => "unknown_url",
                405 => "method_not_allowed",
                s if s >= 500 => "internal_error",
                _ => "invalid_request",
            };
            translate(status, code, message)
        }
    };
    let body = error.body().to_string();
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

fn default_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        // `API_KEY_PREFIX` (auth/tokens.rs); a test below holds the two together.
        401 => "Send your AI Pasta API key as `Authorization: Bearer ap_...`.",
        404 => "No such endpoint under /v1.",
        405 => "This endpoint does not accept that HTTP method.",
        s if s >= 500 => {
            "Something went wrong on our side. The error was logged; try again in a moment."
        }
        _ => "The request could not be completed.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_key_message_shows_how_keys_start() {
        let prefix = crate::auth::tokens::API_KEY_PREFIX;
        assert!(
            default_message(StatusCode::UNAUTHORIZED).contains(&format!("Bearer {prefix}...")),
            "{}",
            default_message(StatusCode::UNAUTHORIZED)
        );
    }

    #[test]
    fn the_plans_codes_become_openais() {
        let e = OpenAiError::from(ApiError::new(
            StatusCode::BAD_REQUEST,
            "parameter_out_of_range",
            "`temperature` must be between 0 and 2; it was 3.5.",
        ));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.kind, "invalid_request_error");
        assert_eq!(e.param.as_deref(), Some("temperature"));
        assert_eq!(e.code.as_deref(), Some("parameter_out_of_range"));

        let e = OpenAiError::from(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "monthly_limit_reached",
            "used",
        ));
        assert_eq!(
            (e.kind, e.code.as_deref()),
            ("insufficient_quota", Some("insufficient_quota"))
        );

        let e = OpenAiError::from(ApiError::new(StatusCode::GONE, "model_unavailable", "gone"));
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.param.as_deref(), Some("model"));

        let e = OpenAiError::from(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "bad key",
        ));
        assert_eq!(e.code.as_deref(), Some("invalid_api_key"));
        assert_eq!(e.param, None);

        let e = OpenAiError::from(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "prompt_too_long",
            "long",
        ));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.code.as_deref(), Some("context_length_exceeded"));
    }

    #[test]
    fn only_plain_names_in_backticks_are_params() {
        assert_eq!(
            backticked("`max_tokens` must be").as_deref(),
            Some("max_tokens")
        );
        assert_eq!(backticked("no name here"), None);
        assert_eq!(backticked("`a b` is odd"), None);
    }

    #[tokio::test]
    async fn envelopes_and_plain_errors_are_rewritten() {
        let response =
            ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", "Bad key.").into_response();
        let rewritten = rewrite(response).await;
        assert_eq!(rewritten.status(), StatusCode::UNAUTHORIZED);
        let bytes = to_bytes(rewritten.into_body(), 10_000).await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "invalid_api_key");
        assert_eq!(body["error"]["message"], "Bad key.");
        assert_eq!(body["error"]["param"], Value::Null);

        // The general rate limit keeps its Retry-After.
        let limited = crate::ratelimit::too_many_requests(
            std::time::Duration::from_secs(3),
            "Too many requests.",
        );
        let rewritten = rewrite(limited).await;
        assert_eq!(rewritten.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(rewritten.headers()["retry-after"], "3");
        let bytes = to_bytes(rewritten.into_body(), 10_000).await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["type"], "requests");
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");

        let response = (StatusCode::METHOD_NOT_ALLOWED, "").into_response();
        let rewritten = rewrite(response).await;
        let bytes = to_bytes(rewritten.into_body(), 10_000).await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
}
