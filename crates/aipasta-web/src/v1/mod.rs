//! The OpenAI-compatible gateway under `/v1`: any OpenAI SDK pointed at
//! `http://host:3000/v1` with a personal API key (`ap_...`) reaches every model of the
//! catalog. Requests are translated into the engine's `GenerateInput` and started through
//! [`crate::generations::begin`], so they get the same validation, limits, retries, recording,
//! cost and history as the playground, marked `source = 'v1'`.
//!
//! - `models.rs`: `GET /v1/models`, `GET /v1/models/{id}`;
//! - `chat.rs`: `POST /v1/chat/completions` (whole or streamed);
//! - `completions.rs`: `POST /v1/completions` (legacy text completion, whole or streamed);
//! - `embeddings.rs`: `POST /v1/embeddings`;
//! - `images.rs`: `POST /v1/images/generations`;
//! - `request.rs`: the body extractor, required fields, and the fields chat and completions
//!   share;
//! - `stream.rs`: a generation as OpenAI's SSE chunks, ending with `data: [DONE]`;
//! - `shapes.rs`: OpenAI's answers and chunks as typed structs;
//! - `error.rs`: errors in OpenAI's shape, and the rewrite of every other `/v1` error.
//!
//! Parameters a model does not support are dropped (OpenAI clients send parameters every
//! model may not know); unknown fields are ignored.

mod chat;
mod completions;
mod embeddings;
pub mod error;
mod images;
mod models;
mod request;
mod shapes;
mod stream;

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use utoipa_axum::routes;

use crate::auth::{Access, Routes};

/// Every `/v1` route. An API key needs the `read` scope for the model list and the `generate`
/// scope for everything else; sessions and JWTs work too.
pub fn routes() -> Routes {
    use Access::User;
    Routes::new()
        .api(User, routes!(models::list))
        // Model ids contain slashes: `/v1/models/{*id}`.
        .api(User, routes!(models::details))
        .api(User, routes!(chat::create))
        .api(User, routes!(completions::create))
        .api(User, routes!(embeddings::create))
        .api(User, routes!(images::create))
}

/// Whether `path` belongs to the gateway (its errors use OpenAI's shape).
pub fn is_v1_path(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/")
}

/// The response header naming the generation behind a `/v1` answer, for finding it in the
/// history (`GET /api/generations/{id}`).
pub static GENERATION_ID_HEADER: HeaderName = HeaderName::from_static("x-aipasta-generation-id");

/// Adds [`GENERATION_ID_HEADER`] to `response`.
fn with_generation_id(mut response: Response, id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(id) {
        response
            .headers_mut()
            .insert(GENERATION_ID_HEADER.clone(), value);
    }
    response
}

/// Unix seconds from epoch milliseconds, as OpenAI's `created` fields.
fn unix_seconds(millis: i64) -> i64 {
    millis.div_euclid(1000)
}
