//! The 429 answer: `Retry-After` in whole seconds and the API's JSON error envelope.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// A wait as whole seconds for `Retry-After`: rounded up, at least 1.
pub fn retry_after_secs(retry_after: Duration) -> u64 {
    let secs = retry_after.as_secs();
    let secs = if retry_after.subsec_nanos() > 0 {
        secs.saturating_add(1)
    } else {
        secs
    };
    secs.max(1)
}

/// `429 Too Many Requests` with `Retry-After: <secs>` and
/// `{"success": false, "error": {"code": "rate_limited", "message": ...}}`.
///
/// Outside `/api` the `error_bodies` middleware swaps the JSON for the HTML error page (keeping
/// the header); forms that want their own wording should render it themselves.
pub fn too_many_requests(retry_after: Duration, message: &str) -> Response {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
        .with_retry_after(retry_after_secs(retry_after))
        .into_response()
}

/// "in 1 second", "in 5 minutes", "in 2 hours": the wait for a message people read. Rounded up,
/// so following the message never leads to another refusal.
pub fn wait_phrase(retry_after: Duration) -> String {
    let secs = retry_after_secs(retry_after);
    let (count, unit) = if secs < 60 {
        (secs, "second")
    } else if secs < 3600 {
        (secs.div_ceil(60), "minute")
    } else {
        (secs.div_ceil(3600), "hour")
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("in {count} {unit}{plural}")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::to_bytes;
    use axum::http::StatusCode;

    use super::{retry_after_secs, too_many_requests, wait_phrase};

    #[test]
    fn seconds_round_up_and_are_never_zero() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(300)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }

    #[test]
    fn phrases_pick_a_readable_unit() {
        assert_eq!(wait_phrase(Duration::from_millis(10)), "in 1 second");
        assert_eq!(wait_phrase(Duration::from_secs(59)), "in 59 seconds");
        assert_eq!(wait_phrase(Duration::from_secs(60)), "in 1 minute");
        assert_eq!(wait_phrase(Duration::from_secs(61)), "in 2 minutes");
        assert_eq!(wait_phrase(Duration::from_secs(900)), "in 15 minutes");
        assert_eq!(wait_phrase(Duration::from_secs(7200)), "in 2 hours");
    }

    #[tokio::test]
    async fn the_response_is_a_429_with_retry_after_and_the_envelope() {
        let response = too_many_requests(Duration::from_millis(1500), "Slow down.");
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "2");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body = to_bytes(response.into_body(), 4096).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "success": false,
                "error": { "code": "rate_limited", "message": "Slow down." }
            })
        );
    }
}
