//! The plan's JSON envelope, typed: `{"success": true, "data": ...}` for an answer and
//! `{"success": false, "error": {"code", "message", "param"?}}` for an error. Every `/api`
//! handler answers through these, so the OpenAPI document's schemas are the types the
//! handlers serialize.

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A successful answer: `{"success": true, "data": ...}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Success<T> {
    /// Always `true`.
    pub success: bool,
    pub data: T,
}

impl<T> Success<T> {
    pub fn new(data: T) -> Success<T> {
        Success {
            success: true,
            data,
        }
    }
}

impl<T: Serialize> IntoResponse for Success<T> {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}

/// `data` in a 200 answer.
pub fn ok<T: Serialize>(data: T) -> Response {
    Success::new(data).into_response()
}

/// `data` in a 201 answer (something was created).
pub fn created<T: Serialize>(data: T) -> Response {
    (StatusCode::CREATED, Success::new(data)).into_response()
}

/// An error: `{"success": false, "error": {"code", "message", "param"?}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ApiError)]
pub struct Failure<'a> {
    /// Always `false`.
    pub success: bool,
    pub error: FailureDetail<'a>,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailureDetail<'a> {
    /// A stable, machine-readable code (`validation_error`, `not_found`, `rate_limited`, ...).
    #[schema(value_type = String)]
    pub code: Cow<'a, str>,
    /// What happened and what to do, for a person.
    #[schema(value_type = String)]
    pub message: Cow<'a, str>,
    /// The request field at fault, when the error is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub param: Option<&'a str>,
}

impl<'a> Failure<'a> {
    pub fn new(code: &'a str, message: &'a str) -> Failure<'a> {
        Failure {
            success: false,
            error: FailureDetail {
                code: Cow::Borrowed(code),
                message: Cow::Borrowed(message),
                param: None,
            },
        }
    }
}
