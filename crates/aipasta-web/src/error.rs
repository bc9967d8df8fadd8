//! Errors as responses. The JSON API answers the plan's envelope
//! `{"success": false, "error": {"code", "message"}}`; pages answer the HTML error page.
//! Internal causes are logged once, here, and never shown to the client.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use aipasta_engine::GenerationError;
use aipasta_providers::generate::ProviderErrorKind;
use aipasta_store::DbError;

use crate::api::Failure;

/// An error from a JSON API handler.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    /// The request field the error is about, when it is about one (OpenAI's `param`).
    pub param: Option<&'static str>,
    /// Seconds a client should wait before trying again (`Retry-After`), when it should.
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            param: None,
            retry_after: None,
        }
    }

    /// Asks the client to wait `seconds` before trying again.
    pub fn with_retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }

    /// The database cannot be reached or written right now: a 503 the client may retry.
    pub fn database_unavailable(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::warn!(%cause, "database unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "The database is unavailable right now; nothing was changed. Try again in a moment.",
        )
        .with_retry_after(DATABASE_RETRY_AFTER_SECONDS)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// Logs `cause` and answers a generic 500.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side. The error was logged; try again in a moment.",
        )
    }
}

/// The stable error code for a status, for errors that did not come with one.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "validation_error",
        429 => "rate_limited",
        503 => "unavailable",
        504 => "timeout",
        s if s >= 500 => "internal_error",
        _ => "error",
    }
}

/// The JSON error envelope, as text.
pub fn envelope(code: &str, message: &str) -> String {
    serde_json::to_string(&Failure::new(code, message)).unwrap_or_default()
}

/// How long a client is asked to wait when the database is unavailable.
pub use aipasta_engine::DATABASE_RETRY_AFTER_SECONDS;

/// What an error response was, kept in its extensions: `/v1`'s rewrite reads this, never the
/// body, to answer in OpenAI's shape.
#[derive(Debug, Clone)]
pub struct ErrorFacts {
    pub code: Cow<'static, str>,
    pub message: String,
    pub param: Option<&'static str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Failure::new(&self.code, &self.message);
        // Names the request field at fault, as OpenAI's `param` does.
        body.error.param = self.param;
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(ErrorFacts {
            code: self.code,
            message: self.message,
            param: self.param,
        });
        response
    }
}

/// The status the plan's API answers a generation's refusal or failure with.
pub fn generation_status(error: &GenerationError) -> StatusCode {
    use GenerationError::*;
    match error {
        StorageUnavailable { started: false } | DatabaseUnavailable | ModelMaintenance { .. } => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ModelNotFound { .. } => StatusCode::NOT_FOUND,
        ModelUnavailable { .. } => StatusCode::GONE,
        MissingInput
        | TooManyMessages { .. }
        | UnsupportedMode { .. }
        | ContextExceeded { .. }
        | ParameterOutOfRange { .. }
        | UnsupportedParameter { .. }
        | ProviderNotConfigured { .. } => StatusCode::BAD_REQUEST,
        InputTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        MonthlyLimitReached { .. } => StatusCode::TOO_MANY_REQUESTS,
        Upstream { kind, .. } => match kind {
            ProviderErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ProviderErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ProviderErrorKind::BadRequest | ProviderErrorKind::Unsupported => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::BAD_GATEWAY,
        },
        Interrupted { .. } => StatusCode::SERVICE_UNAVAILABLE,
        // The provider answered, but the answer could not be kept.
        StorageUnavailable { started: true } | NotRecorded => StatusCode::BAD_GATEWAY,
    }
}

impl From<GenerationError> for ApiError {
    fn from(error: GenerationError) -> ApiError {
        ApiError {
            status: generation_status(&error),
            code: error.code().into(),
            message: error.message().into_owned(),
            param: error.param(),
            retry_after: error.retry_after(),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> ApiError {
        if error.is_unique_violation() {
            return ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "That already exists; choose another value.",
            );
        }
        if error.is_unavailable() {
            return ApiError::database_unavailable(&error);
        }
        ApiError::internal(&error)
    }
}
