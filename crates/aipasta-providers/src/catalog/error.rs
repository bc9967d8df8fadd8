//! [`CatalogError`]: why a model list could not be fetched or read, worded so a person knows
//! what to check. No variant ever carries an API key.

use std::time::Duration;

use reqwest::StatusCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The provider answered with a non-success status.
    #[error("{provider} answered {} for {url}: {body_snippet}", status_line(*status))]
    Http {
        provider: String,
        url: String,
        status: u16,
        /// The first 200 characters of the answer, on one line.
        body_snippet: String,
    },
    /// No complete answer within the time limit.
    #[error(
        "{provider} did not answer within {} s at {url}; check that the URL is right and the \
         service is up, then try again",
        after.as_secs_f64()
    )]
    Timeout {
        provider: String,
        url: String,
        after: Duration,
    },
    /// The request could not be sent or the answer not received (DNS, refused connection, TLS).
    #[error("could not reach {provider} at {url}: {message}")]
    Network {
        provider: String,
        url: String,
        message: String,
    },
    /// The answer is not JSON, or not a model list of the shape the provider documents.
    #[error("invalid model list from {url_or_source}: {message}")]
    InvalidJson {
        url_or_source: String,
        message: String,
    },
}

impl CatalogError {
    pub(crate) fn invalid(source: impl Into<String>, message: impl Into<String>) -> CatalogError {
        CatalogError::InvalidJson {
            url_or_source: source.into(),
            message: message.into(),
        }
    }
}

/// `500 Internal Server Error`, or just the number when the status has no standard reason.
fn status_line(status: u16) -> String {
    match StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_errors_name_the_provider_status_and_url() {
        let error = CatalogError::Http {
            provider: "OpenRouter".to_owned(),
            url: "https://openrouter.ai/api/v1/models".to_owned(),
            status: 500,
            body_snippet: "oops".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            "OpenRouter answered 500 Internal Server Error for https://openrouter.ai/api/v1/models: oops"
        );
        let unusual = CatalogError::Http {
            provider: "x".to_owned(),
            url: "u".to_owned(),
            status: 599,
            body_snippet: String::new(),
        };
        assert!(unusual.to_string().starts_with("x answered 599 for u"));
    }

    #[test]
    fn timeouts_say_how_long_was_waited() {
        let error = CatalogError::Timeout {
            provider: "OpenRouter".to_owned(),
            url: "https://openrouter.ai/api/v1/models".to_owned(),
            after: Duration::from_millis(1500),
        };
        assert!(error.to_string().contains("within 1.5 s"), "{error}");
    }
}
