//! One upstream HTTP call under [`Timeouts`]: sending, waiting for the headers, reading a whole
//! body, or turning an event-stream body into an [`EventStream`] through a [`Decoder`].

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use tokio::time::Instant;

use crate::generate::errors::{self, Limit};
use crate::generate::sse::{SseItem, SseParser};
use crate::generate::{
    EventStream, ProviderError, ProviderErrorKind, StreamEvent, Timeouts, Upstream,
};

/// The largest whole answer read (images and embeddings included).
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// How much of an error answer is read.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// How long an error answer's body may take once its headers are in.
const ERROR_BODY_GRACE: Duration = Duration::from_secs(5);

/// The most parsed URLs kept per thread: beyond it, the cache starts again empty.
const MAX_PARSED_URLS: usize = 64;

thread_local! {
    static PARSED_URLS: RefCell<HashMap<String, reqwest::Url>> = RefCell::new(HashMap::new());
}

/// `url` parsed, from a small per-thread cache. Calls go to a handful of URLs (an endpoint's
/// base and a task's path), yet parsing one on every call, with its host's IDNA mapping, cost
/// about 3% of a gateway call's CPU. `None` when `url` does not parse.
fn parsed_url(url: &str) -> Option<reqwest::Url> {
    PARSED_URLS.with_borrow_mut(|cache| {
        if let Some(parsed) = cache.get(url) {
            return Some(parsed.clone());
        }
        let parsed = reqwest::Url::parse(url).ok()?;
        if cache.len() >= MAX_PARSED_URLS {
            cache.clear();
        }
        cache.insert(url.to_owned(), parsed.clone());
        Some(parsed)
    })
}

/// A call being prepared: where, what and under which limits.
pub(crate) struct Call<'a> {
    pub client: &'a reqwest::Client,
    pub upstream: &'a Upstream,
    /// The provider's model id, for messages.
    pub model: &'a str,
    pub url: String,
    pub body: serde_json::Value,
    pub accept: &'static str,
    pub timeouts: Timeouts,
    /// Send OpenRouter's attribution headers.
    pub attribution: bool,
}

/// A successful answer's headers, with the clock the call started on.
pub(crate) struct Answer {
    pub response: reqwest::Response,
    pub clock: Clock,
}

/// The call's deadlines.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub started: Instant,
    pub timeouts: Timeouts,
}

impl Clock {
    pub fn start(timeouts: Timeouts) -> Clock {
        Clock {
            started: Instant::now(),
            timeouts,
        }
    }

    pub fn total_deadline(&self) -> Instant {
        self.started + self.timeouts.total
    }

    /// The first-token deadline, or the total one when that comes first, and which it is.
    pub fn first_token_deadline(&self) -> (Instant, Limit) {
        earliest(
            (self.started + self.timeouts.first_token, Limit::FirstToken),
            (self.total_deadline(), Limit::Total),
        )
    }

    /// The next between-token deadline after life at `last_life`, or the total one.
    pub fn between_deadline(&self, last_life: Instant) -> (Instant, Limit) {
        earliest(
            (
                last_life + self.timeouts.between_tokens,
                Limit::BetweenTokens,
            ),
            (self.total_deadline(), Limit::Total),
        )
    }

    pub fn limit_duration(&self, limit: Limit) -> Duration {
        match limit {
            Limit::FirstToken => self.timeouts.first_token,
            Limit::BetweenTokens => self.timeouts.between_tokens,
            Limit::Total => self.timeouts.total,
        }
    }
}

fn earliest(a: (Instant, Limit), b: (Instant, Limit)) -> (Instant, Limit) {
    if b.0 < a.0 { b } else { a }
}

impl Call<'_> {
    /// Sends the request and waits for the headers within the first-token limit (or the
    /// total one, when smaller). A non-success status becomes its [`ProviderError`].
    pub async fn send(self) -> Result<Answer, ProviderError> {
        let clock = Clock::start(self.timeouts);
        let headers = self.headers()?;
        let request = match parsed_url(&self.url) {
            Some(url) => self.client.post(url),
            // reqwest then reports the malformed URL as the call's error.
            None => self.client.post(&self.url),
        };
        let request = request.headers(headers).json(&self.body);
        let (deadline, limit) = clock.first_token_deadline();
        let response = match tokio::time::timeout_at(deadline, request.send()).await {
            Err(_) => {
                let after = clock.limit_duration(limit);
                return Err(if limit == Limit::FirstToken && !self.streaming() {
                    errors::no_whole_answer(self.upstream, after)
                } else {
                    errors::timeout(self.upstream, limit, after)
                });
            }
            Ok(Err(error)) => {
                // People are told the provider's name only; where it runs is for the log.
                tracing::warn!(
                    upstream = %self.upstream.name,
                    url = %errors::loggable_url(&self.url),
                    error = %errors::redact(self.upstream, &errors::error_chain(&error)),
                    "could not reach the upstream"
                );
                return Err(errors::transport_error(self.upstream, &error));
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status.is_success() {
            return Ok(Answer { response, clock });
        }
        let headers = response.headers().clone();
        let grace = (Instant::now() + ERROR_BODY_GRACE).min(clock.total_deadline());
        let body = read_capped(response, MAX_ERROR_BODY_BYTES, grace)
            .await
            .unwrap_or_default();
        tracing::debug!(
            upstream = %self.upstream.name,
            url = %errors::loggable_url(&self.url),
            status = status.as_u16(),
            "the upstream refused a generation"
        );
        Err(errors::status_error(
            self.upstream,
            self.model,
            status.as_u16(),
            &headers,
            &body,
        ))
    }

    /// Whether the answer is asked for as an event stream.
    fn streaming(&self) -> bool {
        self.accept == "text/event-stream"
    }

    fn headers(&self) -> Result<HeaderMap, ProviderError> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(self.accept));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(key) = &self.upstream.api_key {
            let key = key.expose().trim();
            if !key.is_empty() {
                let mut value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                    ProviderError::new(
                        ProviderErrorKind::Unauthorized,
                        format!(
                            "The API key configured for {} contains characters that cannot be \
                             sent in a header. Set the key again.",
                            errors::display_name(self.upstream)
                        ),
                    )
                })?;
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
            }
        }
        if self.attribution
            && let Some(attribution) = &self.upstream.attribution
        {
            for (name, value) in [
                ("http-referer", &attribution.referer),
                ("x-title", &attribution.title),
            ] {
                match HeaderValue::from_str(value.trim()) {
                    Ok(value) if !value.is_empty() => {
                        headers.insert(HeaderName::from_static(name), value);
                    }
                    Ok(_) => {}
                    Err(_) => tracing::warn!(
                        header = name,
                        "the attribution value cannot be sent as a header; left out"
                    ),
                }
            }
        }
        Ok(headers)
    }
}

impl Answer {
    /// The whole body, within the total limit.
    pub async fn body(self, upstream: &Upstream) -> Result<(HeaderMap, Vec<u8>), ProviderError> {
        let headers = self.response.headers().clone();
        let deadline = self.clock.total_deadline();
        match read_capped(self.response, MAX_BODY_BYTES, deadline).await {
            Ok(body) => Ok((headers, body)),
            Err(ReadError::Deadline) => Err(errors::timeout(
                upstream,
                Limit::Total,
                self.clock.timeouts.total,
            )),
            Err(ReadError::TooLarge) => Err(ProviderError::new(
                ProviderErrorKind::Malformed,
                format!(
                    "{} sent an answer larger than {} MiB; AI Pasta does not read it.",
                    errors::display_name(upstream),
                    MAX_BODY_BYTES / (1024 * 1024)
                ),
            )),
            Err(ReadError::Transport(error)) => Err(errors::broken_whole_answer(upstream, &error)),
        }
    }

    pub fn content_type(&self) -> String {
        content_type(self.response.headers())
    }
}

/// The media type of an answer, lower-cased, without parameters.
pub(crate) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// A header's value as text, when it has a non-blank one.
pub(crate) fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

enum ReadError {
    Deadline,
    TooLarge,
    Transport(reqwest::Error),
}

async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
    deadline: Instant,
) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) => return Err(ReadError::Deadline),
            Ok(Err(error)) => return Err(ReadError::Transport(error)),
            Ok(Ok(None)) => return Ok(body),
            Ok(Ok(Some(chunk))) => {
                if body.len() + chunk.len() > cap {
                    if cap == MAX_ERROR_BODY_BYTES {
                        // An error body is only quoted: its start is enough.
                        let room = cap - body.len();
                        body.extend_from_slice(&chunk[..room]);
                        return Ok(body);
                    }
                    return Err(ReadError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
}

/// What a provider's stream format does with each event.
pub(crate) trait Decoder: Send + 'static {
    /// Reads one event's data, pushing what it says. Returns `true` when the answer is
    /// complete (or failed) and nothing more should be read.
    fn event(&mut self, event: &crate::generate::sse::SseEvent, out: &mut Events) -> bool;

    /// The body ended (or went quiet after a finish): push `Finished` (with the usage first)
    /// if the answer was finished, else the error saying it was cut.
    fn end(&mut self, out: &mut Events);

    /// A finish reason was seen: silence or an end from here on is a clean finish.
    fn finish_seen(&self) -> bool;
}

/// The events decoded so far and not yet handed out.
pub(crate) type Events = VecDeque<Result<StreamEvent, ProviderError>>;

/// The state of a streaming call between two `next`s.
struct StreamState<D: Decoder> {
    response: reqwest::Response,
    upstream: Upstream,
    clock: Clock,
    parser: SseParser,
    decoder: D,
    pending: Events,
    /// A content delta or finish has been handed out: the first-token limit is met.
    first_token: bool,
    last_life: Instant,
    /// Nothing more is read; `pending` is drained, then the stream ends.
    done: bool,
    /// Any event (not a comment) was seen, for telling a cut stream from a non-stream.
    saw_event: bool,
}

/// Wraps an event-stream answer into an [`EventStream`] with the first-token, between-token
/// and total limits applied.
pub(crate) fn event_stream<D: Decoder>(
    answer: Answer,
    upstream: &Upstream,
    decoder: D,
) -> EventStream {
    let state = StreamState {
        response: answer.response,
        upstream: upstream.clone(),
        clock: answer.clock,
        parser: SseParser::new(),
        decoder,
        pending: VecDeque::new(),
        first_token: false,
        last_life: Instant::now(),
        done: false,
        saw_event: false,
    };
    EventStream::new(futures_util::stream::unfold(
        state,
        |mut state| async move {
            let item = state.next_item().await?;
            Some((item, state))
        },
    ))
}

/// An answer that is already whole, handed out as a stream.
pub(crate) fn ready_stream(events: Vec<Result<StreamEvent, ProviderError>>) -> EventStream {
    EventStream::new(futures_util::stream::iter(events))
}

impl<D: Decoder> StreamState<D> {
    async fn next_item(&mut self) -> Option<Result<StreamEvent, ProviderError>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                if let Err(error) = item {
                    // An error ends the stream: nothing after it is handed out.
                    self.pending.clear();
                    self.done = true;
                    return Some(Err(errors::for_people_error(&self.upstream, error)));
                }
                if matches!(
                    item,
                    Ok(StreamEvent::Delta(_) | StreamEvent::Finished { .. })
                ) {
                    self.first_token = true;
                }
                if matches!(item, Ok(StreamEvent::Finished { .. })) {
                    self.pending.clear();
                    self.done = true;
                }
                return Some(item);
            }
            if self.done {
                return None;
            }
            self.read_more().await;
        }
    }

    /// Waits for the next chunk within the limit that applies, and decodes it.
    async fn read_more(&mut self) {
        let (deadline, limit) = if self.first_token || self.decoder.finish_seen() {
            self.clock.between_deadline(self.last_life)
        } else {
            self.clock.first_token_deadline()
        };
        match tokio::time::timeout_at(deadline, self.response.chunk()).await {
            Err(_) => {
                if self.decoder.finish_seen() && limit != Limit::Total {
                    // The answer was complete; only the closing words are missing.
                    self.decoder.end(&mut self.pending);
                } else {
                    self.pending.push_back(Err(errors::timeout(
                        &self.upstream,
                        limit,
                        self.clock.limit_duration(limit),
                    )));
                }
                self.done = true;
            }
            Ok(Err(error)) => {
                if self.decoder.finish_seen() {
                    self.decoder.end(&mut self.pending);
                } else {
                    self.pending
                        .push_back(Err(errors::broken_mid_answer(&self.upstream, &error)));
                }
                self.done = true;
            }
            Ok(Ok(Some(chunk))) => {
                self.last_life = Instant::now();
                match self.parser.feed(&chunk) {
                    Ok(items) => self.decode(items),
                    Err(error) => self.malformed(&error.message),
                }
            }
            Ok(Ok(None)) => {
                match self.parser.finish() {
                    Ok(items) => self.decode(items),
                    Err(error) => self.malformed(&error.message),
                }
                if !self.done {
                    self.end_of_body();
                }
            }
        }
    }

    fn decode(&mut self, items: Vec<SseItem>) {
        for item in items {
            if self.done {
                return;
            }
            if let SseItem::Event(event) = item {
                self.saw_event = true;
                if self.decoder.event(&event, &mut self.pending) {
                    self.done = true;
                }
            }
        }
    }

    fn end_of_body(&mut self) {
        if !self.saw_event
            && !self.decoder.finish_seen()
            && let Some(line) = self.parser.unrecognised()
        {
            let line = line.to_owned();
            self.malformed_with("the answer is not an event stream", line.as_bytes());
            return;
        }
        self.decoder.end(&mut self.pending);
        self.done = true;
    }

    fn malformed(&mut self, problem: &str) {
        self.malformed_with(problem, b"");
    }

    fn malformed_with(&mut self, problem: &str, sample: &[u8]) {
        self.pending
            .push_back(Err(errors::malformed(&self.upstream, problem, sample)));
        self.done = true;
    }
}

#[cfg(test)]
mod url_cache_tests {
    use super::*;

    #[test]
    fn parsed_urls_are_the_urls_parsed_and_the_cache_stays_bounded() {
        let url = "https://openrouter.ai/api/v1/chat/completions";
        assert_eq!(parsed_url(url), reqwest::Url::parse(url).ok());
        assert_eq!(parsed_url(url).unwrap().as_str(), url);
        assert_eq!(parsed_url("http://exa mple.com/"), None);
        for n in 0..(3 * MAX_PARSED_URLS) {
            let url = format!("http://127.0.0.1:{}/v1/chat/completions", 1000 + n);
            assert_eq!(parsed_url(&url).unwrap().port(), Some(1000 + n as u16));
        }
        assert!(PARSED_URLS.with_borrow(|cache| cache.len()) <= MAX_PARSED_URLS);
    }
}
