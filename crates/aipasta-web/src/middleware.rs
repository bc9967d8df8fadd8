//! The layers every response passes through: request ids, tracing, metrics, security headers,
//! compression, panic recovery, and error bodies in the right format for their area.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::error::{code_for_status, envelope};
use crate::pages::{ErrorPage, is_api_path, render};
use crate::ratelimit::{Decision, Limit};
use crate::state::AppState;

/// No inline script or style, no eval, no framing: model output rendered on a page can never
/// run code even if sanitising missed something.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; \
media-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A random UUID per request, from `rand`'s thread-local generator rather than a system call
/// each (tower-http's `MakeRequestUuid`): request ids need to be unique, not secret.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = id.hyphenated().encode_lower(&mut text);
        HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

pub fn wrap(routes: Router<AppState>, state: AppState) -> Router {
    // Secure cookies mean the site is served over HTTPS: browsers may then be told to use
    // nothing else. Never otherwise, or a plain-HTTP install would lock its users out.
    let hsts = state.config.auth.secure_cookies;
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), RandomRequestId))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id,
                )
            }),
        )
        .layer(CompressionLayer::new().compress_when(compressible()))
        .layer(from_fn(move |request, next| respond(request, next, hsts)))
        .layer(CatchPanicLayer::custom(|_panic| {
            tracing::error!("a request handler panicked");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }));
    routes
        .layer(from_fn_with_state(state.clone(), gate))
        .layer(layers)
        .with_state(state)
}

/// What every request passes before its route, in order: who is calling, CSRF protection
/// (which needs the caller), then the API's rate limit (per caller). One layer rather than
/// three: each layer boxes and moves the request's future and clones the services below it.
async fn gate(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    // `/metrics` answers to its own token (`AIPASTA_METRICS_TOKEN`), which is no account's
    // credential: the caller is nobody, and a scraper's bearer token must not be refused as a
    // bad one.
    if request.uri().path() == crate::observability::METRICS_PATH {
        return next.run(request).await;
    }
    match crate::auth::identity::identify(&state, request.headers()).await {
        Ok(identity) => request.extensions_mut().insert(identity),
        Err(refused) => return refused,
    };
    let (request, handout) = match crate::auth::csrf::check(&state, request).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    if let Some((key, limit)) = api_rate_limit(&state, &request)
        && let Decision::Limited { retry_after } = state.limiter.check(&key, limit, 1).await
    {
        return crate::ratelimit::too_many_requests(
            retry_after,
            "Too many requests. Slow down and try again after the time in the Retry-After header.",
        );
    }
    let mut response = next.run(request).await;
    handout.apply(&mut response);
    response
}

/// Answers worth compressing. Below about a kilobyte, gzip and brotli save a few hundred bytes
/// at best while setting up an encoder costs more CPU than the rest of a small JSON answer
/// (brotli was 5% of the gateway's profile); streams are never buffered by an encoder, and
/// images are compressed already.
fn compressible() -> impl Predicate {
    SizeAbove::new(1024)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
}

/// The API's general rate limit for `request`: its bucket (per account when signed in, per IP
/// otherwise) and the limit. `None` outside the API and for health checks, so monitoring never
/// trips it.
fn api_rate_limit(state: &AppState, request: &Request) -> Option<(String, Limit)> {
    let path = request.uri().path();
    if !is_api_path(path) || path == "/api/health" {
        return None;
    }
    let caller = request
        .extensions()
        .get::<crate::auth::Identity>()
        .and_then(|identity| identity.0.as_ref());
    Some(match caller {
        Some(caller) => (
            format!("api:user:{}", caller.id()),
            state.config.limits.api_per_account,
        ),
        None => {
            let ip = request
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip().to_string())
                .unwrap_or_else(|| "unknown".into());
            (format!("api:ip:{ip}"), state.config.limits.api_per_ip)
        }
    })
}

/// Every response's finishing touches, in one layer rather than three (each layer boxes and
/// moves the request's future, which showed in the profile of `GET /`): error bodies in the
/// right format, the security headers (HSTS when `hsts`), and the request's metrics.
async fn respond(request: Request, next: Next, hsts: bool) -> Response {
    let metrics = crate::observability::RequestMetrics::start(&request);
    let is_api = is_api_path(request.uri().path());
    let mut response = error_bodies(request, next).await;
    add_security_headers(&mut response, is_api, hsts);
    metrics.finish(response.status());
    response
}

/// `Strict-Transport-Security`: a year, subdomains included.
pub const HSTS_VALUE: &str = "max-age=31536000; includeSubDomains";

fn add_security_headers(response: &mut Response, is_api: bool, hsts: bool) {
    let headers = response.headers_mut();
    // Room for all of them at once, rather than the map growing twice on the way.
    headers.reserve(8);
    if hsts {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS_VALUE),
        );
    }
    // A route with a stricter policy of its own (stored assets' sandbox) keeps it.
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
        );
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    if is_api && !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Error responses that carry no body of the right kind (a 405 from the router, an extractor's
/// plain-text rejection, a caught panic) get one: the JSON envelope under `/api`, keeping the
/// rejection's explanation as the message, and the HTML error page elsewhere.
async fn error_bodies(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_api = is_api_path(path);
    let is_v1 = crate::v1::is_v1_path(path);
    let is_head = request.method() == Method::HEAD;
    // What an error page needs of the request, kept cheaply (reference-counted copies, no
    // copy of the whole header map): the request id, the path and the cookies (the theme).
    let request_id = request.headers().get(&REQUEST_ID).cloned();
    let uri = request.uri().clone();
    let cookies: Vec<HeaderValue> = request.headers().get_all(COOKIE).iter().cloned().collect();
    let response = next.run(request).await;
    // The OpenAI-compatible gateway answers OpenAI's error shape, whoever refused the request.
    if is_v1 && !is_head {
        return crate::v1::error::rewrite(response).await;
    }

    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_head {
        return response;
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let already_right = if is_api {
        content_type.starts_with("application/json")
    } else {
        content_type.starts_with("text/html")
    };
    if already_right {
        return response;
    }

    let (mut response_parts, body) = response.into_parts();
    let rewritten = if is_api {
        // Rejection messages are short; a body too large to read is replaced by the generic one.
        let text = to_bytes(body, 4096)
            .await
            .ok()
            .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
            .map(|text| text.trim().to_string())
            .filter(|text| !text.is_empty() && status.is_client_error());
        let message = text.unwrap_or_else(|| default_message(status).to_string());
        let json = envelope(code_for_status(status), &message);
        response_parts
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Body::from(json)
    } else {
        let (mut parts, ()) = Request::new(()).into_parts();
        parts.uri = uri;
        for value in cookies {
            parts.headers.append(COOKIE, value);
        }
        let request_id = request_id
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let page = ErrorPage::for_status(&parts, status, request_id);
        let html = render(&page);
        response_parts.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        html.into_body()
    };
    response_parts
        .headers
        .remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(response_parts, rewritten)
}

fn default_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        405 => "This endpoint does not accept that HTTP method.",
        404 => "Not found.",
        s if s >= 500 => {
            "Something went wrong on our side. The error was logged; try again in a moment."
        }
        _ => "The request could not be completed.",
    }
}
