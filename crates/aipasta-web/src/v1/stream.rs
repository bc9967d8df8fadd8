//! A generation as OpenAI answers it: whole ([`whole`]), or streamed as `data: {chunk}` events,
//! then `data: [DONE]` ([`respond`]).
//!
//! Chat: a first chunk with `delta: {role: "assistant", content: ""}`, one chunk per piece of
//! text, a last chunk with an empty delta and the `finish_reason`, then (with
//! `stream_options.include_usage`) a chunk with `choices: []` and the `usage`. Legacy
//! completions: `text_completion` chunks with `text`, the same ending.
//!
//! A generation that fails after the stream started sends one `data: {"error": {...}}` event
//! (OpenAI's error object) and closes without `[DONE]`: the OpenAI SDKs (Python and Node)
//! raise an `APIError` with that message when a stream event carries `error`, and `[DONE]`
//! would tell other clients that the answer was complete. The text produced before the
//! failure was already sent, and is kept in the history.
//!
//! The stream only watches the generation (through a [`Follower`], which never misses or
//! repeats text even when the client reads slowly); closing it does not stop the generation.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Serialize;

use crate::generations::sse::{Followed, Follower};
use aipasta_engine::{Live, Outcome};

use super::error::OpenAiError;
use super::request::{chat_finish_reason, text_finish_reason};
use super::shapes::{Choice, Completion, Delta, Usage};
use super::{unix_seconds, with_generation_id};

/// How often an idle stream sends a comment, so proxies keep the connection open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The longest the response headers wait for the first text; after it the stream starts (and
/// its keep-alives keep proxies patient) even if the model is still thinking.
const FIRST_TEXT_WAIT: Duration = Duration::from_secs(25);

/// Which endpoint's chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `chat.completion.chunk`, ids `chatcmpl-…`.
    Chat,
    /// `text_completion`, ids `cmpl-…`.
    Text,
}

impl Flavor {
    pub fn id(self, generation: &str) -> String {
        match self {
            Flavor::Chat => format!("chatcmpl-{generation}"),
            Flavor::Text => format!("cmpl-{generation}"),
        }
    }
}

/// The streamed response for `live`. The headers wait for the first text (up to
/// [`FIRST_TEXT_WAIT`]): a generation that fails before producing anything (the provider is
/// down, busy or refuses) answers an HTTP error in OpenAI's shape, which OpenAI SDKs raise
/// as their usual exceptions and retry when they retry such statuses.
pub async fn respond(live: Arc<Live>, flavor: Flavor, include_usage: bool) -> Response {
    let id = live.id.clone();
    let mut follower = Follower::new(live.clone());
    let first = tokio::time::timeout(FIRST_TEXT_WAIT, follower.next())
        .await
        .ok()
        .flatten();
    if let Some(Followed::End(outcome)) = &first
        && outcome.error.is_some()
    {
        return with_generation_id(OpenAiError::from_outcome(outcome).into_response(), &id);
    }
    let chunks = Chunks {
        id: flavor.id(&live.id),
        created: unix_seconds(live.created_at),
        model: live.model_slug.clone(),
        follower,
        pending: first,
        flavor,
        include_usage,
        queue: VecDeque::new(),
        started: false,
        ended: false,
    };
    let stream = futures_util::stream::unfold(chunks, |mut chunks| async move {
        chunks.next().await.map(|event| (Ok(event), chunks))
    });
    with_generation_id(sse(stream), &id)
}

/// The whole answer for `live` once it ends (`chat.completion` or `text_completion`), or the
/// failure in OpenAI's error shape.
pub async fn whole(live: Arc<Live>, flavor: Flavor) -> Response {
    let outcome = live.wait().await;
    if outcome.error.is_some() {
        return with_generation_id(
            OpenAiError::from_outcome(&outcome).into_response(),
            &live.id,
        );
    }
    let id = flavor.id(&live.id);
    let (object, choice) = match flavor {
        Flavor::Chat => (
            "chat.completion",
            Choice::message(&outcome.content, chat_finish_reason(&outcome)),
        ),
        Flavor::Text => (
            "text_completion",
            Choice::text(&outcome.content, Some(text_finish_reason(&outcome))),
        ),
    };
    let body = Completion {
        id: &id,
        object,
        created: unix_seconds(live.created_at),
        model: &live.model_slug,
        choices: vec![choice],
        usage: Some(Some(Usage::of(&outcome))),
    };
    with_generation_id(axum::Json(body).into_response(), &live.id)
}

fn sse(stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

struct Chunks {
    id: String,
    created: i64,
    model: String,
    follower: Follower,
    /// What the follower gave while the headers waited.
    pending: Option<Followed>,
    flavor: Flavor,
    include_usage: bool,
    queue: VecDeque<Event>,
    started: bool,
    ended: bool,
}

impl Chunks {
    async fn next(&mut self) -> Option<Event> {
        if !self.started {
            self.started = true;
            if self.flavor == Flavor::Chat {
                let opening = Delta {
                    role: Some("assistant"),
                    content: Some(""),
                };
                return Some(self.chunk(Choice::delta(opening, None)));
            }
        }
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(event);
            }
            if self.ended {
                return None;
            }
            let item = match self.pending.take() {
                Some(item) => Some(item),
                None => self.follower.next().await,
            };
            match item {
                Some(Followed::Text(text)) => {
                    let choice = match self.flavor {
                        Flavor::Chat => Choice::delta(
                            Delta {
                                role: None,
                                content: Some(&text),
                            },
                            None,
                        ),
                        Flavor::Text => Choice::text(&text, None),
                    };
                    return Some(self.chunk(choice));
                }
                // The outcome carries the final counts.
                Some(Followed::Usage(_)) => {}
                Some(Followed::End(outcome)) => self.end(&outcome),
                None => self.ended = true,
            }
        }
    }

    fn end(&mut self, outcome: &Outcome) {
        self.ended = true;
        if outcome.error.is_some() {
            self.queue
                .push_back(data(&OpenAiError::from_outcome(outcome).body()));
            return;
        }
        let last = match self.flavor {
            Flavor::Chat => Choice::delta(Delta::default(), Some(chat_finish_reason(outcome))),
            Flavor::Text => Choice::text("", Some(text_finish_reason(outcome))),
        };
        let last = self.chunk(last);
        self.queue.push_back(last);
        if self.include_usage {
            let mut usage = self.envelope(Vec::new());
            usage.usage = Some(Some(Usage::of(outcome)));
            self.queue.push_back(data(&usage));
        }
        self.queue.push_back(Event::default().data("[DONE]"));
    }

    /// A chunk with one choice.
    fn chunk(&self, choice: Choice<'_>) -> Event {
        data(&self.envelope(vec![choice]))
    }

    fn envelope<'a>(&'a self, choices: Vec<Choice<'a>>) -> Completion<'a> {
        Completion {
            id: &self.id,
            object: match self.flavor {
                Flavor::Chat => "chat.completion.chunk",
                Flavor::Text => "text_completion",
            },
            created: self.created,
            model: &self.model,
            choices,
            // As OpenAI does: with include_usage, every chunk says `usage: null` but the last.
            usage: self.include_usage.then_some(None),
        }
    }
}

fn data(value: &impl Serialize) -> Event {
    // Our own shapes: serialising them cannot fail.
    Event::default().data(serde_json::to_string(value).unwrap_or_default())
}
