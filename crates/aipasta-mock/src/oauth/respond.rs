//! Answers shared by the OAuth routes: the browser-facing redirect and error page, RFC 6749
//! JSON errors, and reading a bearer token.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};
use url::Url;

/// `302 Found` to `redirect_uri` with `pairs` added to its query (keeping any query it has), as
/// providers answer `/authorize`.
pub(crate) fn redirect(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut target) = Url::parse(redirect_uri) else {
        // Registered URIs are checked for being absolute when registered; this is a safety net.
        return error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The registered redirect_uri is not an absolute URL.",
        );
    };
    target.query_pairs_mut().extend_pairs(pairs);
    match HeaderValue::from_str(target.as_str()) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The redirect URL is not a valid header.",
        ),
    }
}

/// The page a provider shows instead of redirecting when it cannot trust the redirect URI (an
/// unknown client, an unregistered URI): redirecting there would make it an open redirector.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<title>Mock OAuth: error</title>\n<h1>{}</h1>\n<p>{}</p>\n",
        status.as_u16(),
        escape_html(message)
    );
    (status, Html(body)).into_response()
}

/// An RFC 6749 §5.2 error: `{"error", "error_description"}`. A 401 (`invalid_client`) carries
/// `WWW-Authenticate`, which the RFC requires when the client used Basic.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = no_store_json(
        status,
        json!({"error": error, "error_description": description}),
    );
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"mock-oauth\""),
        );
    }
    response
}

/// JSON that must not be cached: token responses carry secrets (RFC 6749 §5.1).
pub(crate) fn no_store_json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The token of `Authorization: Bearer <token>`; GitHub also takes `token <token>`.
pub(crate) fn bearer_token(headers: &HeaderMap, also_token_scheme: bool) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let accepted = scheme.eq_ignore_ascii_case("bearer")
        || (also_token_scheme && scheme.eq_ignore_ascii_case("token"));
    let token = token.trim();
    (accepted && !token.is_empty()).then_some(token)
}

fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}
