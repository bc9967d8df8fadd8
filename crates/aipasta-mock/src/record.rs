//! Remembers every request the mock receives, so tests can prove a call was (or was not) made
//! and inspect what the client sent (query, headers, body).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::state::Shared;

/// One request as the mock saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, without the `?`.
    pub query: Option<String>,
    /// The decoded query parameters, in order.
    pub query_pairs: Vec<(String, String)>,
    /// Header names in lower case, values as sent (non-UTF-8 values are dropped).
    pub headers: Vec<(String, String)>,
    /// The body as sent (empty for a `GET`).
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query_pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of a header (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Bodies larger than this are refused with `413` (the mock's answers never need them).
const MAX_RECORDED_BODY: usize = 64 * 1024 * 1024;

/// Middleware: read the body, record the request, then let the route answer (with the body
/// put back).
pub(crate) async fn record_request<T: Send + 'static>(
    State(shared): State<Arc<Shared<T>>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_RECORDED_BODY).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large or broken",
        )
            .into_response();
    };
    let request = Request::from_parts(parts, Body::from(bytes.clone()));
    let uri = request.uri();
    let query_pairs = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|Query(pairs)| pairs)
        .unwrap_or_default();
    let recorded = RecordedRequest {
        method: request.method().to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        query_pairs,
        headers: request
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                value
                    .to_str()
                    .ok()
                    .map(|value| (name.as_str().to_owned(), value.to_owned()))
            })
            .collect(),
        body: bytes.to_vec(),
    };
    shared.lock().record(recorded);
    next.run(request).await
}
