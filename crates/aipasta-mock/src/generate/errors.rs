//! The error bodies of the generation routes, in each provider's real shape: before the answer
//! (a status), inside a `200` answer (non-stream [`Outcome::ErrorAfter`]) and mid-stream.
//!
//! [`Outcome::ErrorAfter`]: super::Outcome::ErrorAfter

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Dialect;

/// A scripted status before any byte, with the dialect's error body and `Retry-After`.
pub(crate) fn status_response(
    dialect: Dialect,
    model: &str,
    status: u16,
    retry_after: Option<u64>,
    estimated_time: Option<f64>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = status_body(dialect, model, status, estimated_time);
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn status_body(
    dialect: Dialect,
    model: &str,
    status: StatusCode,
    estimated_time: Option<f64>,
) -> Value {
    let code = status.as_u16();
    match dialect {
        Dialect::OpenRouter => {
            json!({"error": {"code": code, "message": openrouter_message(status)}})
        }
        Dialect::OpenAi => {
            let (kind, error_code) = match code {
                401 => ("invalid_request_error", Some("invalid_api_key")),
                404 => ("invalid_request_error", Some("model_not_found")),
                429 => ("requests", Some("rate_limit_exceeded")),
                code if code >= 500 => ("server_error", None),
                _ => ("invalid_request_error", None),
            };
            json!({"error": {
                "message": openai_message(status, model),
                "type": kind,
                "param": null,
                "code": error_code,
            }})
        }
        Dialect::HuggingFace => {
            let mut body = match code {
                503 => json!({"error": format!("Model {model} is currently loading")}),
                422 => json!({
                    "error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096",
                    "error_type": "validation",
                }),
                429 => json!({"error": "Model is overloaded", "error_type": "overloaded"}),
                401 => json!({"error": "Invalid credentials in Authorization header"}),
                404 => json!({"error": format!("Model {model} does not exist")}),
                _ => json!({"error": reason(status)}),
            };
            if let (Some(seconds), Some(object)) = (estimated_time, body.as_object_mut()) {
                object.insert("estimated_time".to_owned(), json!(seconds));
            }
            body
        }
    }
}

/// The body of a `200` whose generation failed after it was accepted (non-stream).
pub(crate) fn failed_answer_body(dialect: Dialect) -> Value {
    match dialect {
        Dialect::OpenRouter => json!({"error": {
            "code": 502,
            "message": "Provider returned error",
            "metadata": {"error_type": "provider_unavailable"},
        }}),
        Dialect::OpenAi => openai_server_error(),
        Dialect::HuggingFace => hf_generation_error(),
    }
}

/// OpenAI's error object as it arrives mid-stream (a `data:` event of its own).
pub(crate) fn openai_server_error() -> Value {
    json!({"error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error",
        "param": null,
        "code": null,
    }})
}

/// TGI's error event, mid-stream or in a failed answer.
pub(crate) fn hf_generation_error() -> Value {
    json!({
        "error": "Request failed during generation: Server error: CUDA out of memory",
        "error_type": "generation",
    })
}

/// A request the route cannot read: the dialect's 400 (Hugging Face: TGI's plain-text 400 or
/// 422, as its JSON extractor words them).
pub(crate) fn bad_request(dialect: Dialect, problem: &BadRequest) -> Response {
    match dialect {
        Dialect::OpenRouter => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {"code": 400, "message": problem.message()}})),
        )
            .into_response(),
        Dialect::OpenAi => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {
                "message": problem.message(),
                "type": "invalid_request_error",
                "param": problem.param(),
                "code": null,
            }})),
        )
            .into_response(),
        Dialect::HuggingFace => {
            let (status, text) = match problem {
                BadRequest::Syntax(error) => (
                    StatusCode::BAD_REQUEST,
                    format!("Failed to parse the request body as JSON: {error}"),
                ),
                BadRequest::Data(error) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("Failed to deserialize the JSON body into the target type: {error}"),
                ),
                BadRequest::Missing(field) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "Failed to deserialize the JSON body into the target type: missing field `{field}`"
                    ),
                ),
            };
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                text,
            )
                .into_response()
        }
    }
}

/// Why a request body was refused.
#[derive(Debug)]
pub(crate) enum BadRequest {
    /// Not JSON.
    Syntax(serde_json::Error),
    /// JSON, but a field has the wrong type.
    Data(serde_json::Error),
    /// A required field is absent.
    Missing(&'static str),
}

impl BadRequest {
    pub(crate) fn from_json(error: serde_json::Error) -> BadRequest {
        match error.classify() {
            serde_json::error::Category::Data => BadRequest::Data(error),
            _ => BadRequest::Syntax(error),
        }
    }

    fn message(&self) -> String {
        match self {
            BadRequest::Syntax(error) => {
                format!("We could not parse the JSON body of your request: {error}")
            }
            BadRequest::Data(error) => format!("Invalid request body: {error}"),
            BadRequest::Missing("model") => "you must provide a model parameter".to_owned(),
            BadRequest::Missing(field) => format!("Missing required parameter: '{field}'."),
        }
    }

    fn param(&self) -> Option<&'static str> {
        match self {
            BadRequest::Missing(field) => Some(field),
            _ => None,
        }
    }
}

fn openrouter_message(status: StatusCode) -> String {
    let known = match status.as_u16() {
        400 => "Invalid request parameters",
        401 => "No auth credentials found",
        402 => "Insufficient credits. Add more using https://openrouter.ai/credits",
        403 => "Request blocked: your input was flagged by moderation",
        408 => "Operation timed out. Please try again later.",
        429 => "Rate limit exceeded: too many requests",
        502 => "Provider returned error",
        503 => "No endpoints found that can handle the requested parameters",
        _ => return reason(status),
    };
    known.to_owned()
}

fn openai_message(status: StatusCode, model: &str) -> String {
    match status.as_u16() {
        401 => "Incorrect API key provided: sk-mock***. You can find your API key at https://platform.openai.com/account/api-keys.".to_owned(),
        404 => format!("The model `{model}` does not exist or you do not have access to it."),
        429 => "Rate limit reached for requests. Please try again later.".to_owned(),
        500 => "The server had an error while processing your request. Sorry about that!".to_owned(),
        503 => "The engine is currently overloaded, please try again later.".to_owned(),
        _ => reason(status),
    }
}

fn reason(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_owned()
}
