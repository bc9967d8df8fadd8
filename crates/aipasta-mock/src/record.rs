//! Remembers every request the mock receives, so tests can prove a call was (or was not) made
//! and inspect what the client sent (query, headers).

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::middleware::Next;
use axum::response::Response;

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
}

/// Middleware: record the request, then let the route answer.
pub(crate) async fn record_request<T: Send + 'static>(
    State(shared): State<Arc<Shared<T>>>,
    request: Request,
    next: Next,
) -> Response {
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
    };
    shared.lock().record(recorded);
    next.run(request).await
}
