//! Cross-site request forgery protection by double submit: every browser gets a random token
//! in an HttpOnly cookie; pages put the same token in their forms (and in a `<meta>` for our
//! scripts, which send it as `X-CSRF-Token`). A state-changing request that rides on a cookie
//! must carry the matching token. Requests authenticated by a bearer JWT or API key carry no
//! ambient authority and need none; any other `Authorization` header (`Basic` added by a proxy,
//! say, which a browser sends on forged requests too) changes nothing: the cookie decides.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN, SET_COOKIE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::identity::{Caller, Identity};
use super::tokens::random_token;
use crate::chrome::cookie;
use crate::error::ApiError;
use crate::pages::is_api_path;
use crate::state::AppState;

/// This browser's CSRF token, for templates and handlers.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

pub const HEADER: &str = "x-csrf-token";
pub const FORM_FIELD: &str = "csrf_token";
/// Form bodies are read to find the token; larger ones are refused (our forms are small).
const MAX_FORM_BYTES: usize = 256 * 1024;

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn refuse(is_api: bool, message: &'static str) -> Response {
    if is_api {
        ApiError::new(StatusCode::FORBIDDEN, "csrf_failed", message).into_response()
    } else {
        (StatusCode::FORBIDDEN, message).into_response()
    }
}

/// The CSRF cookie to set on a request's response: pages hand out a new browser's token.
#[must_use]
pub struct Handout(Option<HeaderValue>);

impl Handout {
    pub fn apply(self, response: &mut Response) {
        if let Some(cookie) = self.0 {
            response.headers_mut().append(SET_COOKIE, cookie);
        }
    }
}

/// Checks `request` (after `identify` put its [`Identity`] in its extensions): it goes on (with its [`CsrfToken`] in its extensions, and the cookie to
/// hand out) or is refused with the response to send.
pub async fn check(state: &AppState, request: Request) -> Result<(Request, Handout), Response> {
    // A bearer credential carries no ambient authority, so nothing to check and no token to
    // hand out: API clients and the gateway skip this work entirely. Only a credential that
    // `identify` verified counts, never the mere presence of a header.
    let by_bearer = request
        .extensions()
        .get::<Identity>()
        .and_then(|identity| identity.0.as_ref())
        .is_some_and(Caller::is_bearer);
    if by_bearer {
        return Ok((request, Handout(None)));
    }
    let auth = &state.config.auth;
    let (mut parts, body) = request.into_parts();
    let existing = cookie(&parts.headers, auth.csrf_cookie())
        .map(str::to_owned)
        .filter(|t| t.len() >= 32);
    let has_session = cookie(&parts.headers, auth.session_cookie()).is_some();
    let token = existing.clone().unwrap_or_else(|| random_token(32));
    parts.extensions.insert(CsrfToken(token.clone()));
    let is_api = is_api_path(parts.uri.path());
    let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    // Pages' forms are always checked (sign-in included: no logging a victim into an
    // attacker's account); the JSON API when a session cookie rides along.
    let must_check = unsafe_method && (!is_api || has_session);

    let mut request = Request::from_parts(parts, body);
    if must_check {
        if let Some(origin) = request.headers().get(ORIGIN).and_then(|v| v.to_str().ok()) {
            let host = request
                .headers()
                .get(HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let origin_host = origin.split("://").nth(1).unwrap_or("");
            if origin != "null" && origin_host != host {
                return Err(refuse(is_api, "Cross-site requests are not accepted."));
            }
        }
        let Some(expected) = existing.as_deref() else {
            return Err(refuse(
                is_api,
                "This form has expired. Reload the page and try again.",
            ));
        };
        let from_header = request
            .headers()
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let presented = match from_header {
            Some(value) => Some(value),
            None => {
                let is_form = request
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
                if is_form {
                    let (parts, body) = request.into_parts();
                    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
                        return Err((StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.")
                            .into_response());
                    };
                    let field = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                        .ok()
                        .and_then(|pairs| {
                            pairs
                                .into_iter()
                                .find(|(k, _)| k == FORM_FIELD)
                                .map(|(_, v)| v)
                        });
                    request = Request::from_parts(parts, Body::from(bytes));
                    field
                } else {
                    None
                }
            }
        };
        if !presented.is_some_and(|p| constant_time_eq(&p, expected)) {
            return Err(refuse(
                is_api,
                "This form has expired or did not come from this site. Reload the page and try again.",
            ));
        }
    }

    // Pages hand out the token; API answers to cookie-less clients need none.
    let handout = (existing.is_none() && !is_api)
        .then(|| HeaderValue::from_str(&auth.cookie(auth.csrf_cookie(), &token, None)).ok())
        .flatten();
    Ok((request, Handout(handout)))
}
