//! Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with the status
//! OpenAI would answer, so OpenAI SDKs raise their usual exceptions (`AuthenticationError` for
//! 401, `PermissionDeniedError` for 403, `NotFoundError` for 404, `BadRequestError` for 400,
//! `RateLimitError` for 429, `InternalServerError` for 5xx).
//!
//! Handlers under `/v1` answer [`OpenAiError`] directly. Everything else that can answer a
//! `/v1` request before a handler runs (the identity middleware's 401 for a bad key, the access
//! rule's 401/403, the general rate limit, the router's 404 and 405, a panic) answers the plan's
//! envelope; [`rewrite`], called by the `error_bodies` middleware for `/v1` paths, turns those
//! into this shape from the facts the [`ApiError`] left in the response's extensions (never by
//! reading its body). A generation's refusal or failure maps from its [`GenerationError`]
//! variant.

use std::borrow::Cow;

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use aipasta_engine::{Field, GenerationError, Outcome};

use crate::error::{ApiError, ErrorFacts, generation_status};

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

/// An error as OpenAI writes it: `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = V1Error)]
pub struct OpenAiErrorBody<'a> {
    pub error: OpenAiErrorDetail<'a>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenAiErrorDetail<'a> {
    pub message: &'a str,
    /// `invalid_request_error`, `authentication_error`, `insufficient_quota`, `server_error`, ...
    #[serde(rename = "type")]
    pub kind: &'a str,
    /// The request field at fault, or `null`.
    pub param: Option<&'a str>,
    /// A stable code (`model_not_found`, `invalid_api_key`, `rate_limit_exceeded`, ...), or `null`.
    pub code: Option<&'a str>,
}

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

    pub fn body(&self) -> OpenAiErrorBody<'_> {
        OpenAiErrorBody {
            error: OpenAiErrorDetail {
                message: &self.message,
                kind: self.kind,
                param: self.param.as_deref(),
                code: self.code.as_deref(),
            },
        }
    }

    /// A generation that ended badly: the upstream's failure, with the status the plan's API
    /// uses for it (502 for a provider error, 504 for a timeout, 429 when the provider is busy).
    pub fn from_outcome(outcome: &Outcome) -> OpenAiError {
        match &outcome.error {
            Some(error) => OpenAiError::from(error.clone()),
            None => OpenAiError::new(
                StatusCode::BAD_GATEWAY,
                "server_error",
                outcome.status,
                "The generation did not finish.",
            ),
        }
    }

    /// A generation's refusal for an endpoint whose request names a field its own way
    /// (`prompt` for completions, `input` for embeddings, `size` for images).
    pub fn from_generation(
        error: GenerationError,
        rename: impl Fn(Field) -> Option<&'static str>,
    ) -> OpenAiError {
        let renamed = error.field().and_then(rename);
        let mut answer = OpenAiError::from(error);
        if let (Some(name), Some(_)) = (renamed, &answer.param) {
            answer.param = Some(name.to_owned());
        }
        answer
    }
}

pub const INVALID_REQUEST: &str = "invalid_request_error";

/// Marks a response already in OpenAI's shape, so [`rewrite`] passes it unchanged.
#[derive(Debug, Clone, Copy)]
struct OpenAiShaped;

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        response.extensions_mut().insert(OpenAiShaped);
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A generation's refusal or failure, in OpenAI's terms: by variant, never by its text.
impl From<GenerationError> for OpenAiError {
    fn from(error: GenerationError) -> OpenAiError {
        use GenerationError::*;
        let message = error.message().into_owned();
        let about = |status: StatusCode, code: &'static str, param: &str, message: String| {
            OpenAiError::new(status, INVALID_REQUEST, code, message).with_param(param)
        };
        let mut answer = match &error {
            // A deprecated model is as gone as an unknown one, for a client.
            ModelNotFound { .. } | ModelUnavailable { .. } => {
                about(StatusCode::NOT_FOUND, "model_not_found", "model", message)
            }
            MonthlyLimitReached { .. } => OpenAiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "insufficient_quota",
                "insufficient_quota",
                message,
            ),
            InputTooLarge { .. } | ContextExceeded { .. } => about(
                StatusCode::BAD_REQUEST,
                "context_length_exceeded",
                "messages",
                message,
            ),
            // OpenAI's clients choose the task by the endpoint: the model is what cannot do it.
            UnsupportedMode { .. } => about(
                StatusCode::BAD_REQUEST,
                "unsupported_mode",
                "model",
                message,
            ),
            _ => {
                let status = generation_status(&error);
                let mut answer = OpenAiError::new(
                    status,
                    kind_for(status, error.code()),
                    error.code(),
                    message,
                );
                if status == StatusCode::BAD_REQUEST {
                    answer.param = error.param().map(str::to_owned);
                }
                answer
            }
        };
        answer.retry_after = error.retry_after();
        answer
    }
}

/// The plan's errors (`ApiError`), in OpenAI's terms.
impl From<ApiError> for OpenAiError {
    fn from(error: ApiError) -> OpenAiError {
        OpenAiError {
            retry_after: error.retry_after,
            ..translate(error.status, &error.code, error.message, error.param)
        }
    }
}

/// Maps an error the plan's API would answer (a refused key, a rate limit, an unknown route)
/// to OpenAI's status, type, code and param.
fn translate(
    status: StatusCode,
    code: &str,
    message: String,
    param: Option<&'static str>,
) -> OpenAiError {
    let code: Cow<'static, str> = match (status.as_u16(), code) {
        // A bad, revoked or missing key.
        (401, _) => "invalid_api_key".into(),
        (403, _) => "insufficient_permissions".into(),
        (404, "not_found") => "unknown_url".into(),
        (429, _) => {
            return OpenAiError::new(status, "requests", "rate_limit_exceeded", message);
        }
        (_, code) => code.to_owned().into(),
    };
    OpenAiError {
        kind: kind_for(status, &code),
        status,
        message,
        param: param
            .filter(|_| status == StatusCode::BAD_REQUEST)
            .map(str::to_owned),
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

/// Rewrites an error response to a `/v1` request into OpenAI's shape. Successful responses, and
/// errors already in OpenAI's shape, pass unchanged; an [`ApiError`] (the plan's envelope) is
/// translated from the facts it left in the response's extensions; anything else (a router
/// 405, an extractor's plain-text rejection, a panic) gets its text, or a message for its
/// status. Headers (`Retry-After`, the request id) are kept.
pub async fn rewrite(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<OpenAiShaped>().is_some()
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let error = match parts.extensions.remove::<ErrorFacts>() {
        Some(facts) => translate(status, &facts.code, facts.message, facts.param),
        None => {
            let bytes = to_bytes(body, 64 * 1024).await.unwrap_or_default();
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
            translate(status, code, message, None)
        }
    };
    let body = serde_json::to_string(&error.body()).unwrap_or_default();
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
    use serde_json::Value;

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
    fn generation_errors_become_openais_by_variant() {
        let e = OpenAiError::from(GenerationError::ParameterOutOfRange {
            param: "temperature",
            message: "`temperature` must be between 0 and 2; it was 3.5.".into(),
        });
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.kind, "invalid_request_error");
        assert_eq!(e.param.as_deref(), Some("temperature"));
        assert_eq!(e.code.as_deref(), Some("parameter_out_of_range"));

        let e = OpenAiError::from(GenerationError::MonthlyLimitReached { used: 5, limit: 5 });
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            (e.kind, e.code.as_deref()),
            ("insufficient_quota", Some("insufficient_quota"))
        );

        let e = OpenAiError::from(GenerationError::ModelUnavailable {
            model: "Old".into(),
        });
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.param.as_deref(), Some("model"));
        assert_eq!(e.code.as_deref(), Some("model_not_found"));

        let e = OpenAiError::from(GenerationError::InputTooLarge { chars: 2, limit: 1 });
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.code.as_deref(), Some("context_length_exceeded"));
        assert_eq!(e.param.as_deref(), Some("messages"));

        let e = OpenAiError::from(GenerationError::StorageUnavailable { started: false });
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.kind, "server_error");
        assert_eq!(
            e.retry_after,
            Some(crate::error::DATABASE_RETRY_AFTER_SECONDS)
        );
        assert_eq!(e.param, None);
    }

    #[test]
    fn the_plans_errors_become_openais() {
        let e = OpenAiError::from(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "bad key",
        ));
        assert_eq!(e.code.as_deref(), Some("invalid_api_key"));
        assert_eq!(e.param, None);
        // A message that mentions a name in backticks names no param: only the error's own
        // field does.
        let e = OpenAiError::from(ApiError::bad_request(
            "invalid_scopes",
            "Send `scopes` as a list.",
        ));
        assert_eq!(e.param, None);
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
