//! Turning every way a call can fail into a [`ProviderError`] a person can act on: the
//! upstream's name, what happened, the provider's own words and what to do. No message ever
//! carries the API key: everything taken from an answer is redacted before it is shortened.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde_json::{Map, Value};

use crate::ProviderKind;
use crate::generate::{ProviderError, ProviderErrorKind, Upstream};
use crate::redact::{hide_addresses, redact_key};

/// How much of a provider's text goes into a message.
pub(crate) const SNIPPET_CHARS: usize = 200;

/// The limit a timeout hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    FirstToken,
    BetweenTokens,
    Total,
}

/// The name people know the upstream by: `OpenRouter`, `Hugging Face`, or an
/// OpenAI-compatible endpoint's own name.
pub(crate) fn display_name(upstream: &Upstream) -> String {
    let name = upstream.name.trim();
    match upstream.kind {
        ProviderKind::OpenRouter if name.is_empty() || name == "openrouter" => {
            "OpenRouter".to_owned()
        }
        ProviderKind::HuggingFace if name.is_empty() || name == "huggingface" => {
            "Hugging Face".to_owned()
        }
        _ if name.is_empty() => "The OpenAI-compatible server".to_owned(),
        _ => name.to_owned(),
    }
}

/// The error for a non-success status, with the provider's message from `body`.
pub(crate) fn status_error(
    upstream: &Upstream,
    model: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> ProviderError {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let details = ErrorBody::read(body, content_type);
    let said = details
        .message
        .as_deref()
        .map(|m| redact(upstream, m))
        .map(|m| one_line(&m, SNIPPET_CHARS));
    let retry_after = retry_after(headers, SystemTime::now());
    let name = display_name(upstream);
    let kind = kind_for_status(status, details.estimated_time.is_some());
    let quoted = |fallback: &str| said.clone().unwrap_or_else(|| fallback.to_owned());
    let message = match kind {
        ProviderErrorKind::BadRequest => format!(
            "{name} refused the request as invalid: {} ({status}). Check the parameters sent \
             for this model.",
            quoted("no reason given")
        ),
        ProviderErrorKind::Unauthorized => format!(
            "{name} refused the API key: {} ({status}). Check the key configured for {name}.",
            quoted("the key is missing or wrong")
        ),
        ProviderErrorKind::PaymentRequired => format!(
            "{name} refused the request: {} ({status}). {}",
            quoted("insufficient credits"),
            match upstream.kind {
                ProviderKind::OpenRouter => "Add credits at openrouter.ai or use another key.",
                ProviderKind::HuggingFace => {
                    "Add credits to the Hugging Face account or use another key."
                }
                ProviderKind::OpenAiCompatible => "Add credits or use another key.",
            }
        ),
        ProviderErrorKind::Forbidden => format!(
            "{name} refused the request: {} ({status}). The key may not be allowed to use this \
             model, or the provider's moderation refused the input.",
            quoted("forbidden")
        ),
        ProviderErrorKind::ModelNotFound => format!(
            "{name} does not know the model `{}`: {} ({status}). Check the model id, or sync \
             the catalog.",
            one_line(model, SNIPPET_CHARS),
            quoted("not found")
        ),
        ProviderErrorKind::Timeout => format!(
            "{name} timed out: {} ({status}). Try again, perhaps with a shorter answer.",
            quoted("the request took too long")
        ),
        ProviderErrorKind::RateLimited => format!(
            "{name} is limiting the rate of requests: {} ({status}). {}",
            quoted("too many requests"),
            match retry_after {
                Some(wait) => format!("Try again in {}.", seconds(wait)),
                None => "Try again in a moment.".to_owned(),
            }
        ),
        ProviderErrorKind::ModelLoading => format!(
            "The model `{}` is still loading on {name} ({status}){}. Try again then.",
            one_line(model, SNIPPET_CHARS),
            match details.estimated_time {
                Some(wait) => format!("; it should be ready in about {}", seconds(wait)),
                None => String::new(),
            }
        ),
        ProviderErrorKind::Unavailable => format!(
            "{name} is unavailable: {} ({status}). Try again shortly, or use another model.",
            quoted("the service or the model's provider is down or overloaded")
        ),
        _ => format!(
            "{name} failed: {} ({status}). Try again; if it keeps failing, use another model.",
            quoted("an internal error")
        ),
    };
    ProviderError {
        kind,
        status: Some(status),
        message,
        retry_after,
        estimated_time: details.estimated_time,
    }
}

/// Which kind a status is. `loading` says whether the body carried Hugging Face's
/// `estimated_time`.
pub(crate) fn kind_for_status(status: u16, loading: bool) -> ProviderErrorKind {
    match status {
        400 | 422 => ProviderErrorKind::BadRequest,
        401 => ProviderErrorKind::Unauthorized,
        402 => ProviderErrorKind::PaymentRequired,
        403 => ProviderErrorKind::Forbidden,
        404 => ProviderErrorKind::ModelNotFound,
        408 => ProviderErrorKind::Timeout,
        429 => ProviderErrorKind::RateLimited,
        503 if loading => ProviderErrorKind::ModelLoading,
        // 524 and 529 are OpenRouter's (Cloudflare's) edge timeout and "provider overloaded".
        502 | 503 | 504 | 524 | 529 => ProviderErrorKind::Unavailable,
        500..=599 => ProviderErrorKind::ServerError,
        // Any other refusal (405, 409, 413, …) says the request itself is wrong.
        400..=499 => ProviderErrorKind::BadRequest,
        // Redirects are followed by the client; one that is left, or a status outside the
        // ranges, is the server misbehaving.
        _ => ProviderErrorKind::ServerError,
    }
}

/// What an error answer said.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ErrorBody {
    pub message: Option<String>,
    /// Hugging Face's `estimated_time` (seconds) for a loading model.
    pub estimated_time: Option<Duration>,
}

impl ErrorBody {
    /// Reads the error shapes providers use: OpenRouter `{"error": {"code", "message",
    /// "metadata"}}`, OpenAI `{"error": {"message", "type", "param", "code"}}`, Hugging Face
    /// `{"error": "..."}` or `{"error": [...]}` (with `estimated_time`), FastAPI's `{"detail"}`,
    /// a bare `{"message"}`; anything else is shown as text (HTML reduced to its words).
    pub fn read(body: &[u8], content_type: &str) -> ErrorBody {
        if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
            return ErrorBody {
                message: json_error_message(&object),
                estimated_time: object
                    .get("estimated_time")
                    .and_then(Value::as_f64)
                    .and_then(duration_from_secs),
            };
        }
        let text = String::from_utf8_lossy(body);
        let looks_html = content_type.contains("html")
            || text.trim_start().starts_with('<') && text.contains('>');
        let text = if looks_html {
            html_to_text(&text)
        } else {
            text.into_owned()
        };
        let text = one_line(&text, SNIPPET_CHARS);
        ErrorBody {
            message: (!text.is_empty()).then_some(text),
            estimated_time: None,
        }
    }
}

/// The message of a JSON error object, in the shapes providers use.
pub(crate) fn json_error_message(object: &Map<String, Value>) -> Option<String> {
    let message = match object.get("error") {
        Some(Value::String(message)) => Some(message.clone()),
        Some(Value::Array(messages)) => {
            let joined = messages
                .iter()
                .map(|m| match m {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("; ");
            Some(joined)
        }
        Some(Value::Object(error)) => error_object_message(error),
        _ => None,
    };
    message
        .or_else(|| match object.get("detail") {
            Some(Value::String(detail)) => Some(detail.clone()),
            // FastAPI validation errors: [{"loc": [...], "msg": "...", ...}].
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .filter_map(|item| item.get("msg").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => None,
        })
        .or_else(|| {
            object
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
}

/// `{"message", "param", "metadata": {"provider_name", "raw", "reasons"}}` as one sentence.
fn error_object_message(error: &Map<String, Value>) -> Option<String> {
    let mut message = error
        .get("message")
        .and_then(Value::as_str)
        .map(|m| m.trim().trim_end_matches('.').to_owned())
        .unwrap_or_default();
    if let Some(param) = error.get("param").and_then(Value::as_str) {
        message.push_str(&format!(" (parameter `{param}`)"));
    }
    if let Some(Value::Object(metadata)) = error.get("metadata") {
        if let Some(provider) = metadata.get("provider_name").and_then(Value::as_str) {
            message.push_str(&format!(" [from {provider}]"));
        }
        if let Some(reasons) = metadata.get("reasons").and_then(Value::as_array) {
            let reasons: Vec<&str> = reasons.iter().filter_map(Value::as_str).collect();
            if !reasons.is_empty() {
                message.push_str(&format!(": {}", reasons.join(", ")));
            }
        }
        match metadata.get("raw") {
            Some(Value::String(raw)) if !raw.trim().is_empty() => {
                let raw = match serde_json::from_str::<Value>(raw) {
                    Ok(Value::Object(inner)) => {
                        json_error_message(&inner).unwrap_or_else(|| raw.to_owned())
                    }
                    _ => raw.to_owned(),
                };
                message.push_str(&format!(": {raw}"));
            }
            Some(Value::Object(inner)) => {
                if let Some(raw) = json_error_message(inner) {
                    message.push_str(&format!(": {raw}"));
                }
            }
            _ => {}
        }
    }
    let message = message.trim().to_owned();
    (!message.is_empty()).then_some(message)
}

/// `Retry-After` as seconds (`120`, `1.5`) or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return duration_from_secs(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn duration_from_secs(secs: f64) -> Option<Duration> {
    // Bounded to a day: a bigger figure is a provider's mistake, not a plan.
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// A failure before any answer: the request could not be sent or no headers came back.
pub(crate) fn transport_error(upstream: &Upstream, error: &reqwest::Error) -> ProviderError {
    let name = display_name(upstream);
    let cause = redact(upstream, &error_chain(error));
    if error.is_timeout() {
        return ProviderError::new(
            ProviderErrorKind::Timeout,
            format!(
                "{name} did not answer within the HTTP client's own time limit: {cause}. Try \
                 again, or raise the limit."
            ),
        );
    }
    ProviderError::new(
        ProviderErrorKind::Network,
        format!(
            "Could not reach {name}: {cause}. Check that the address is right and the service \
             is up."
        ),
    )
}

/// The connection broke while a whole (not streamed) answer was being read. Its `200` had
/// come: the provider may well have charged for the answer, so this is a cut answer
/// ([`ProviderErrorKind::StreamCut`]), which is never retried, not a network failure.
pub(crate) fn broken_whole_answer(upstream: &Upstream, error: &reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        return transport_error(upstream, error);
    }
    let name = display_name(upstream);
    let cause = redact(upstream, &error_chain(error));
    ProviderError::new(
        ProviderErrorKind::StreamCut,
        format!(
            "The connection to {name} broke before the answer was complete: {cause}. The answer \
             is lost; it was not asked for again, since {name} may have charged for it."
        ),
    )
}

/// The connection broke after the answer began.
pub(crate) fn broken_mid_answer(upstream: &Upstream, error: &reqwest::Error) -> ProviderError {
    let name = display_name(upstream);
    let cause = redact(upstream, &error_chain(error));
    if error.is_timeout() {
        return ProviderError::new(
            ProviderErrorKind::Timeout,
            format!("{name} hit the HTTP client's own time limit mid-answer: {cause}."),
        );
    }
    ProviderError::new(
        ProviderErrorKind::StreamCut,
        format!("The connection to {name} broke mid-answer: {cause}. The answer is incomplete."),
    )
}

/// The settings behind each limit, named in its messages so the operator knows which to raise.
const FIRST_TOKEN_SETTING: &str = "AIPASTA_FIRST_TOKEN_TIMEOUT";
const BETWEEN_TOKENS_SETTING: &str = "AIPASTA_TOKEN_TIMEOUT";
const TOTAL_SETTING: &str = "AIPASTA_GENERATION_TIMEOUT";

/// The error for a limit that ran out.
pub(crate) fn timeout(upstream: &Upstream, limit: Limit, after: Duration) -> ProviderError {
    let name = display_name(upstream);
    let after = seconds(after);
    let message = match limit {
        Limit::FirstToken => format!(
            "{name} sent no first token within {after} (the first-token limit, \
             {FIRST_TOKEN_SETTING}). The model may be busy or loading; try again or raise the \
             limit."
        ),
        Limit::BetweenTokens => format!(
            "{name} went silent for {after} mid-answer (the between-token limit, \
             {BETWEEN_TOKENS_SETTING}). The answer is incomplete."
        ),
        Limit::Total => format!(
            "{name} did not finish within {after} (the total limit, {TOTAL_SETTING}). Ask for a \
             shorter answer or raise the limit."
        ),
    };
    ProviderError::new(ProviderErrorKind::Timeout, message)
}

/// The first-token limit ran out on a whole (not streamed) answer: nothing came back, not even
/// the headers, which most servers send only once the answer is ready.
pub(crate) fn no_whole_answer(upstream: &Upstream, after: Duration) -> ProviderError {
    let name = display_name(upstream);
    ProviderError::new(
        ProviderErrorKind::Timeout,
        format!(
            "{name} sent no answer within {} (the first-token limit, {FIRST_TOKEN_SETTING}). A \
             whole answer must begin within it: try again, stream long answers, or raise the \
             limit.",
            seconds(after)
        ),
    )
}

/// An answer that is not in the documented shape.
pub(crate) fn malformed(upstream: &Upstream, problem: &str, body: &[u8]) -> ProviderError {
    let name = display_name(upstream);
    let start = one_line(&redact(upstream, &String::from_utf8_lossy(body)), 120);
    let start = if start.is_empty() {
        "(nothing)".to_owned()
    } else {
        start
    };
    ProviderError::new(
        ProviderErrorKind::Malformed,
        format!("{name} sent an answer AI Pasta cannot read: {problem}; it starts with: {start}"),
    )
}

/// A task this provider kind cannot do.
pub(crate) fn unsupported(upstream: &Upstream, what: &str) -> ProviderError {
    ProviderError::new(
        ProviderErrorKind::Unsupported,
        format!("{} cannot {what}.", display_name(upstream)),
    )
}

/// An error reported inside an answer that had begun (a stream's error event, or
/// `finish_reason: "error"`).
pub(crate) fn in_answer(upstream: &Upstream, said: Option<&str>) -> ProviderError {
    let name = display_name(upstream);
    let message = match said.map(|s| one_line(&redact(upstream, s), SNIPPET_CHARS)) {
        Some(said) if !said.is_empty() => {
            format!("{name} stopped the answer with an error: {said}")
        }
        _ => format!("{name} stopped the answer with an error and gave no reason."),
    };
    ProviderError::new(ProviderErrorKind::StreamError, message)
}

/// `1.5 s`, `60 s`, `0.3 s`.
pub(crate) fn seconds(duration: Duration) -> String {
    let secs = (duration.as_secs_f64() * 1000.0).round() / 1000.0;
    format!("{secs} s")
}

/// Text on one line (whitespace runs collapsed), at most `max` characters, with `…` when cut.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= max {
        return joined;
    }
    let mut cut: String = joined.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Every form of the key blanked out (see [`crate::redact::redact_key`]), should an upstream
/// echo it.
pub(crate) fn redact(upstream: &Upstream, text: &str) -> String {
    match &upstream.api_key {
        Some(key) => redact_key(text, key.expose()).into_owned(),
        None => text.to_owned(),
    }
}

/// `text` fit for the people who asked: the key in every form blanked, and the upstream's
/// addresses (its base URL, Hugging Face's inference URL; their `host:port` and host) hidden.
/// Where an upstream runs is the operator's business: the logs keep it.
pub(crate) fn for_people(upstream: &Upstream, text: &str) -> String {
    let mut text = Cow::Borrowed(text);
    if let Some(key) = &upstream.api_key
        && let Cow::Owned(redacted) = redact_key(&text, key.expose())
    {
        text = Cow::Owned(redacted);
    }
    for url in std::iter::once(&upstream.base_url).chain(&upstream.inference_url) {
        if let Cow::Owned(hidden) = hide_addresses(&text, url) {
            text = Cow::Owned(hidden);
        }
    }
    text.into_owned()
}

/// `error` with its message made [`for_people`]: every error leaving this module passes here,
/// whichever path made it.
pub(crate) fn for_people_error(upstream: &Upstream, mut error: ProviderError) -> ProviderError {
    error.message = for_people(upstream, &error.message);
    error
}

/// `url` for the log: without credentials, should it carry any.
pub(crate) fn loggable_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() || !parsed.username().is_empty() {
                let _ = parsed.set_username("");
                let _ = parsed.set_password(None);
            }
            parsed.to_string()
        }
        Err(_) => "(an invalid URL)".to_owned(),
    }
}

/// An error and its causes, `outer: inner`, without the URL (which may carry credentials).
pub(crate) fn error_chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = current {
        let text = error.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    let url_free = parts.join(": ");
    match error.url() {
        Some(url) => url_free.replace(url.as_str(), "the upstream"),
        None => url_free,
    }
}

/// The words of an HTML page: its title when it has one, else its text without tags, scripts
/// or styles.
fn html_to_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    if let (Some(start), Some(end)) = (lower.find("<title"), lower.find("</title>"))
        && let Some(open_end) = lower[start..].find('>').map(|i| start + i + 1)
        && open_end <= end
    {
        let title = decode_entities(html[open_end..end].trim());
        if !title.is_empty() {
            return title;
        }
    }
    let mut text = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        let after = &rest[open..];
        let after_lower = after.to_ascii_lowercase();
        let skip_to = if after_lower.starts_with("<script") {
            after_lower.find("</script>").map(|i| i + "</script>".len())
        } else if after_lower.starts_with("<style") {
            after_lower.find("</style>").map(|i| i + "</style>".len())
        } else {
            after.find('>').map(|i| i + 1)
        };
        match skip_to {
            Some(skip) => rest = &after[skip..],
            None => {
                rest = "";
                break;
            }
        }
    }
    text.push_str(rest);
    decode_entities(&text)
}

fn decode_entities(text: &str) -> String {
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// One stream event's data as a JSON object, or the `Malformed` error that ends the stream.
pub(crate) fn event_object(
    upstream: &Upstream,
    data: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, ProviderError> {
    match serde_json::from_str::<serde_json::Value>(data) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        Ok(other) => Err(malformed(
            upstream,
            &format!(
                "a stream event is {}, not a JSON object",
                crate::generate::json::kind(&other)
            ),
            data.as_bytes(),
        )),
        Err(e) => Err(malformed(
            upstream,
            &format!("a stream event is not JSON ({e})"),
            data.as_bytes(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;
    use crate::generate::test_support::{KEY, upstream};

    fn refusal(kind: ProviderKind, status: u16, body: &str) -> ProviderError {
        status_error(
            &upstream(kind),
            "vendor/model",
            status,
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn every_status_has_its_kind() {
        use ProviderErrorKind::*;
        for (status, kind) in [
            (400, BadRequest),
            (422, BadRequest),
            (413, BadRequest),
            (401, Unauthorized),
            (402, PaymentRequired),
            (403, Forbidden),
            (404, ModelNotFound),
            (408, Timeout),
            (429, RateLimited),
            (502, Unavailable),
            (503, Unavailable),
            (504, Unavailable),
            (524, Unavailable),
            (529, Unavailable),
            (500, ServerError),
            (501, ServerError),
            (599, ServerError),
            (302, ServerError),
        ] {
            assert_eq!(kind_for_status(status, false), kind, "{status}");
        }
        assert_eq!(kind_for_status(503, true), ModelLoading);
        assert_eq!(kind_for_status(500, true), ServerError);
    }

    #[test]
    fn openrouter_credits_message() {
        let error = refusal(
            ProviderKind::OpenRouter,
            402,
            r#"{"error":{"code":402,"message":"Insufficient credits. Add more using https://openrouter.ai/credits"}}"#,
        );
        assert_eq!(error.kind, ProviderErrorKind::PaymentRequired);
        assert_eq!(error.status, Some(402));
        assert_eq!(
            error.message,
            "OpenRouter refused the request: Insufficient credits. Add more using \
             https://openrouter.ai/credits (402). Add credits at openrouter.ai or use another key."
        );
        let bare = refusal(ProviderKind::OpenRouter, 402, "");
        assert_eq!(
            bare.message,
            "OpenRouter refused the request: insufficient credits (402). Add credits at \
             openrouter.ai or use another key."
        );
    }

    #[test]
    fn openrouter_metadata_names_the_provider_and_its_words() {
        let error = refusal(
            ProviderKind::OpenRouter,
            502,
            r#"{"error":{"code":502,"message":"Provider returned error","metadata":{"provider_name":"Fireworks","raw":"{\"error\":{\"message\":\"model overloaded\"}}"}}}"#,
        );
        assert_eq!(error.kind, ProviderErrorKind::Unavailable);
        assert!(
            error
                .message
                .contains("Provider returned error [from Fireworks]: model overloaded"),
            "{}",
            error.message
        );
        let moderation = refusal(
            ProviderKind::OpenRouter,
            403,
            r#"{"error":{"code":403,"message":"Input flagged","metadata":{"reasons":["violence","hate"],"flagged_input":"..."}}}"#,
        );
        assert!(
            moderation
                .message
                .contains("Input flagged: violence, hate (403)"),
            "{}",
            moderation.message
        );
    }

    #[test]
    fn openai_errors_name_the_parameter() {
        let error = refusal(
            ProviderKind::OpenAiCompatible,
            400,
            r#"{"error":{"message":"Invalid value for 'temperature'.","type":"invalid_request_error","param":"temperature","code":null}}"#,
        );
        assert_eq!(
            error.message,
            "openai-compatible refused the request as invalid: Invalid value for \
             'temperature' (parameter `temperature`) (400). Check the parameters sent for this \
             model."
        );
    }

    #[test]
    fn hugging_face_error_lists_and_fastapi_details() {
        let error = refusal(
            ProviderKind::HuggingFace,
            400,
            r#"{"error":["Input should be a valid string","Field required"]}"#,
        );
        assert!(
            error
                .message
                .contains("Input should be a valid string; Field required"),
            "{}",
            error.message
        );
        let detail = refusal(
            ProviderKind::OpenAiCompatible,
            422,
            r#"{"detail":[{"loc":["body","model"],"msg":"field required","type":"missing"}]}"#,
        );
        assert!(
            detail.message.contains("field required"),
            "{}",
            detail.message
        );
        let plain = refusal(
            ProviderKind::OpenAiCompatible,
            404,
            r#"{"detail":"Not Found"}"#,
        );
        assert_eq!(plain.kind, ProviderErrorKind::ModelNotFound);
        assert!(
            plain.message.starts_with(
                "openai-compatible does not know the model `vendor/model`: Not Found (404)."
            ),
            "{}",
            plain.message
        );
    }

    #[test]
    fn html_pages_become_one_short_line() {
        let page = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title>\
                    <style>body{color:red}</style></head><body><h1>502</h1></body></html>";
        let error = refusal(ProviderKind::OpenRouter, 502, page);
        assert!(
            error.message.contains(": 502 Bad Gateway (502)"),
            "{}",
            error.message
        );
        let untitled = "<html><body><script>alert('x')</script><p>Upstream\n\n  timed   \
                        out</p><p>try &amp; again</p></body></html>";
        let error = refusal(ProviderKind::OpenRouter, 500, untitled);
        assert!(
            error
                .message
                .contains(": Upstream timed out try & again (500)"),
            "{}",
            error.message
        );
        assert!(!error.message.contains('<'));
        assert!(!error.message.contains("alert"));
    }

    #[test]
    fn long_text_is_cut_to_200_characters() {
        let body = "é".repeat(1000);
        let error = refusal(ProviderKind::OpenAiCompatible, 500, &body);
        let said = error
            .message
            .split(": ")
            .nth(1)
            .and_then(|rest| rest.split(" (500)").next())
            .unwrap();
        assert_eq!(said.chars().count(), SNIPPET_CHARS);
        assert!(said.ends_with('…'));
    }

    #[test]
    fn keys_are_never_repeated() {
        let body = format!(r#"{{"error":{{"message":"Incorrect API key provided: {KEY}"}}}}"#);
        let error = refusal(ProviderKind::OpenAiCompatible, 401, &body);
        assert!(!error.message.contains(KEY), "{}", error.message);
        assert!(error.message.contains("[redacted]"), "{}", error.message);
        let text = refusal(
            ProviderKind::OpenAiCompatible,
            500,
            &format!("bad key {KEY}"),
        );
        assert!(!text.message.contains(KEY));
        let answer = malformed(&upstream(ProviderKind::OpenRouter), "x", KEY.as_bytes());
        assert!(!answer.message.contains(KEY));
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(120)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("1.5"));
        assert_eq!(
            retry_after(&headers, now),
            Some(Duration::from_millis(1500))
        );
        // 2015-10-21 07:28:00 is 1_445_412_480 s after the epoch.
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:30 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(30)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:00:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("-3"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn rate_limits_say_when_to_come_back() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        let error = status_error(
            &upstream(ProviderKind::OpenRouter),
            "m",
            429,
            &headers,
            br#"{"error":{"code":429,"message":"Rate limit exceeded"}}"#,
        );
        assert_eq!(error.kind, ProviderErrorKind::RateLimited);
        assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
        assert!(
            error.message.ends_with("Try again in 7 s."),
            "{}",
            error.message
        );
    }

    #[test]
    fn timeouts_name_their_limit() {
        let up = upstream(ProviderKind::OpenRouter);
        let first = timeout(&up, Limit::FirstToken, Duration::from_millis(300));
        assert_eq!(first.kind, ProviderErrorKind::Timeout);
        assert!(
            first
                .message
                .contains("within 0.3 s (the first-token limit, AIPASTA_FIRST_TOKEN_TIMEOUT)"),
            "{}",
            first.message
        );
        let between = timeout(&up, Limit::BetweenTokens, Duration::from_secs(60));
        assert!(
            between
                .message
                .contains("60 s mid-answer (the between-token limit, AIPASTA_TOKEN_TIMEOUT)"),
            "{}",
            between.message
        );
        let total = timeout(&up, Limit::Total, Duration::from_secs(600));
        assert!(
            total
                .message
                .contains("600 s (the total limit, AIPASTA_GENERATION_TIMEOUT)"),
            "{}",
            total.message
        );
    }

    #[test]
    fn names_people_know() {
        let mut up = upstream(ProviderKind::OpenAiCompatible);
        up.name = "local-ollama".to_owned();
        assert_eq!(display_name(&up), "local-ollama");
        assert_eq!(
            display_name(&upstream(ProviderKind::HuggingFace)),
            "Hugging Face"
        );
        assert_eq!(
            display_name(&upstream(ProviderKind::OpenRouter)),
            "OpenRouter"
        );
    }
}
