//! Prometheus metrics: requests by route and status, and a latency histogram, at `/metrics`
//! (behind a bearer token when `AIPASTA_METRICS_TOKEN` is set).

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock, PoisonError, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::state::AppState;

const REQUESTS: &str = "aipasta_http_requests_total";
const DURATION: &str = "aipasta_http_request_duration_seconds";
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process-wide recorder. `metrics` has one global recorder, so every app in a process
/// (several in a test binary) shares it.
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

pub fn install_recorder() {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.to_string()), LATENCY_BUCKETS);
        match builder.and_then(|b| b.install_recorder()) {
            Ok(handle) => Some(handle),
            Err(error) => {
                tracing::warn!(%error, "metrics disabled: could not install the recorder");
                None
            }
        }
    });
}

pub const METRICS_PATH: &str = "/metrics";

pub fn routes() -> crate::auth::Routes {
    // Public as a route: when `AIPASTA_METRICS_TOKEN` is set, `render` asks for it.
    crate::auth::Routes::new().get(METRICS_PATH, crate::auth::Access::Public, render)
}

async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.server.metrics_token
        && !presents(&headers, token)
    {
        let mut refused = (
            StatusCode::UNAUTHORIZED,
            "/metrics needs the bearer token set in AIPASTA_METRICS_TOKEN.",
        )
            .into_response();
        refused.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return refused;
    }
    let body = match HANDLE.get() {
        Some(Some(handle)) => {
            handle.run_upkeep();
            handle.render()
        }
        _ => String::new(),
    };
    let mut response = body.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Whether the request carries `Authorization: Bearer <token>`. The two are compared as SHA-256
/// digests in constant time, so neither the token's bytes nor its length show in the timing.
fn presents(headers: &HeaderMap, token: &str) -> bool {
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    let digest = |text: &str| Sha256::digest(text.as_bytes());
    !presented.is_empty() && bool::from(digest(presented).ct_eq(&digest(token)))
}

/// One request's metrics: counted and timed, labelled by route pattern (never the raw path,
/// which would make one series per model id). Started before the handler, finished with the
/// response's status (see `middleware::respond`).
pub struct RequestMetrics {
    started: Instant,
    method: Method,
    route: Option<MatchedPath>,
}

impl RequestMetrics {
    pub fn start(request: &Request) -> RequestMetrics {
        RequestMetrics {
            started: Instant::now(),
            method: request.method().clone(),
            route: request.extensions().get::<MatchedPath>().cloned(),
        }
    }

    pub fn finish(self, status: StatusCode) {
        let route = self.route.as_ref().map_or("unmatched", MatchedPath::as_str);
        let (counter, histogram) = handles(route, &self.method, status);
        counter.increment(1);
        histogram.record(self.started.elapsed().as_secs_f64());
    }
}

/// The series of one route, method and status.
struct Series {
    method: Method,
    status: StatusCode,
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

/// Metric handles by route, made once per route, method and status: looking a series up in
/// the recorder's registry by its label set hashes and compares every label on each request.
static SERIES: LazyLock<RwLock<HashMap<String, Vec<Series>>>> = LazyLock::new(Default::default);

fn handles(
    route: &str,
    method: &Method,
    status: StatusCode,
) -> (metrics::Counter, metrics::Histogram) {
    let find = |all: &HashMap<String, Vec<Series>>| {
        all.get(route)?
            .iter()
            .find(|s| s.status == status && s.method == *method)
            .map(|s| (s.requests.clone(), s.duration.clone()))
    };
    if let Some(found) = find(&SERIES.read().unwrap_or_else(PoisonError::into_inner)) {
        return found;
    }
    let mut all = SERIES.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = find(&all) {
        return found;
    }
    // Made once per series, so the labels' allocations do not matter.
    let method_label = method.as_str().to_owned();
    let route_label = route.to_owned();
    let series = Series {
        method: method.clone(),
        status,
        requests: metrics::counter!(REQUESTS, "method" => method_label.clone(), "route" => route_label.clone(), "status" => status.as_str().to_owned()),
        duration: metrics::histogram!(DURATION, "method" => method_label, "route" => route_label),
    };
    let found = (series.requests.clone(), series.duration.clone());
    all.entry(route.to_owned()).or_default().push(series);
    found
}
