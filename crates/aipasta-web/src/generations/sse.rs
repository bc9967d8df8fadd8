//! A generation as Server-Sent Events: `start`, the text so far as one `delta` (so a
//! reattaching client catches up), each new `delta`, `usage`, then `done` or `error`. The
//! response only watches the generation: closing it does not stop the generation.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;

use aipasta_providers::generate::Usage;

use aipasta_engine::{Live, LiveEvent, Outcome, Subscription};

use super::OutcomeSummary;
use super::api::GenerationRecord;

/// How often an idle stream sends a comment, so proxies keep the connection open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The SSE response attached to `live`.
pub fn attach(live: Arc<Live>) -> Response {
    Sse::new(events(live))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// The events of `live` as a stream, from its start.
pub fn events(live: Arc<Live>) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    let start = json_event(
        "start",
        &StartEvent {
            id: &live.id,
            model: Some(&live.model_slug),
        },
    );
    let attached = Attached {
        start: Some(start),
        follower: Follower::new(live),
    };
    futures_util::stream::unfold(attached, |mut attached| async move {
        attached.next().await.map(|event| (Ok(event), attached))
    })
}

struct Attached {
    start: Option<Event>,
    follower: Follower,
}

impl Attached {
    async fn next(&mut self) -> Option<Event> {
        // The id is shown only once the starting row is durable; a start that could not be
        // stored is followed straight by its error.
        if let Some(start) = self.start.take()
            && self.follower.wait_for_start().await
        {
            return Some(start);
        }
        Some(match self.follower.next().await? {
            Followed::Text(text) => delta_event(&text),
            Followed::Usage(usage) => json_event(
                "usage",
                &UsageEvent {
                    prompt_tokens: usage.prompt_tokens,
                    completion_tokens: usage.completion_tokens,
                    total_tokens: usage.total_tokens,
                },
            ),
            Followed::End(outcome) => {
                let live = self.follower.live();
                let summary = OutcomeSummary::new(&live.id, &live.model_slug, &outcome);
                match &outcome.error {
                    None => json_event("done", &summary),
                    Some(error) => json_event(
                        "error",
                        &ErrorEvent {
                            code: error.code(),
                            message: Some(error.message()),
                            status: outcome.status,
                            generation: summary,
                        },
                    ),
                }
            }
        })
    }
}

/// What following a generation yields, in order: its text (each byte exactly once), usage
/// reports, and last its ending.
#[derive(Debug, Clone)]
pub enum Followed {
    /// Text not yielded before.
    Text(String),
    Usage(Usage),
    /// How it ended; every text before it has been yielded. Nothing follows.
    End(Arc<Outcome>),
}

/// Follows a [`Live`] from its start: the text so far first (so a reattaching client catches
/// up), then each new piece. A follower that falls behind the broadcast catches up from the
/// text itself, tracking the bytes it has yielded, so it never misses or repeats text. The
/// SSE of the plan's API and the `/v1` gateway's chunks are both built on it.
pub struct Follower {
    live: Arc<Live>,
    subscription: Subscription,
    /// Bytes of the content already yielded.
    sent: usize,
    queue: VecDeque<Followed>,
    ended: bool,
    /// Whether the starting row is durable, once known (checked before anything is yielded).
    start_durable: Option<bool>,
}

impl Follower {
    pub fn new(live: Arc<Live>) -> Follower {
        let subscription = live.subscribe();
        let mut queue = VecDeque::new();
        let sent = subscription.content.len();
        if !subscription.content.is_empty() {
            queue.push_back(Followed::Text(subscription.content.clone()));
        }
        Follower {
            live,
            subscription,
            sent,
            queue,
            ended: false,
            start_durable: None,
        }
    }

    /// Waits until the generation's starting row is durable; false when it could not be
    /// stored, and the follower then yields only the failure.
    pub async fn wait_for_start(&mut self) -> bool {
        if let Some(durable) = self.start_durable {
            return durable;
        }
        let durable = self.live.start_recorded().await;
        self.start_durable = Some(durable);
        if durable {
            return true;
        }
        self.queue.clear();
        self.queue
            .push_back(Followed::End(Arc::new(Outcome::start_not_recorded())));
        self.ended = true;
        false
    }

    /// The generation followed.
    pub fn live(&self) -> &Arc<Live> {
        &self.live
    }

    /// The next piece, or `None` after the end.
    pub async fn next(&mut self) -> Option<Followed> {
        if self.start_durable.is_none() {
            self.wait_for_start().await;
        }
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            let finished = self.subscription.outcome.borrow().clone();
            if let Some(outcome) = finished {
                self.end(outcome);
                continue;
            }
            tokio::select! {
                received = self.subscription.events.recv() => self.take(received),
                // A closed channel means the generation is gone; the outcome check above ends it.
                _ = self.subscription.outcome.changed() => {}
            }
        }
    }

    fn take(&mut self, received: Result<LiveEvent, RecvError>) {
        match received {
            Ok(LiveEvent::Delta { start, text }) => self.send_text(start, &text),
            Ok(LiveEvent::Usage(usage)) => self.queue.push_back(Followed::Usage(usage)),
            Err(RecvError::Lagged(_)) => {
                // Fell behind: catch up from the text itself, then follow again.
                let (rest, events) = self.live.content_from(self.sent);
                self.subscription.events = events;
                if !rest.is_empty() {
                    self.sent += rest.len();
                    self.queue.push_back(Followed::Text(rest));
                }
            }
            Err(RecvError::Closed) => {}
        }
    }

    /// Queues the part of a delta (starting at byte `start`) not yielded yet.
    fn send_text(&mut self, start: usize, text: &str) {
        let end = start + text.len();
        if end <= self.sent {
            return;
        }
        let new = text.get(self.sent.saturating_sub(start)..).unwrap_or(text);
        self.sent = end;
        self.queue.push_back(Followed::Text(new.to_owned()));
    }

    fn end(&mut self, outcome: Arc<Outcome>) {
        // Deltas still in the channel are in the outcome's content too: yield what is missing.
        while let Ok(received) = self.subscription.events.try_recv() {
            self.take(Ok(received));
        }
        if outcome.content.len() > self.sent
            && let Some(rest) = outcome.content.get(self.sent..)
        {
            self.queue.push_back(Followed::Text(rest.to_owned()));
            self.sent = outcome.content.len();
        }
        self.queue.push_back(Followed::End(outcome));
        self.ended = true;
    }
}

/// `start`: the generation's id, sent once its row is stored.
#[derive(Serialize)]
struct StartEvent<'a> {
    id: &'a str,
    /// The model's slug (a replayed generation whose model was removed has none).
    model: Option<&'a str>,
}

/// `delta`: text not sent before.
#[derive(Serialize)]
struct DeltaEvent<'a> {
    content: &'a str,
}

/// `usage`: the tokens so far, as the provider reported them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageEvent {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

/// `error`: how the generation failed, with the generation as it ended (`done` is the
/// generation alone).
#[derive(Serialize)]
struct ErrorEvent<'a, G: Serialize> {
    code: &'a str,
    message: Option<Cow<'a, str>>,
    status: &'a str,
    generation: G,
}

fn delta_event(text: &str) -> Event {
    json_event("delta", &DeltaEvent { content: text })
}

fn json_event(name: &str, data: &impl Serialize) -> Event {
    // Our own summaries and records: serialising them cannot fail.
    let data = serde_json::to_string(data).unwrap_or_default();
    Event::default().event(name).data(data)
}

/// The events of a generation that already ended, from its row: the same sequence a client
/// attached from the start would have seen.
pub fn replay(row: &aipasta_store::generations::GenerationRow) -> Response {
    let mut events = vec![json_event(
        "start",
        &StartEvent {
            id: &row.id,
            model: row.model_id.as_deref(),
        },
    )];
    if !row.output_content.is_empty() {
        events.push(delta_event(&row.output_content));
    }
    let summary = GenerationRecord::new(row, 0);
    match row.error_code.as_deref() {
        None => events.push(json_event("done", &summary)),
        Some(code) => events.push(json_event(
            "error",
            &ErrorEvent {
                code,
                message: row.error_message.as_deref().map(Cow::Borrowed),
                status: &row.status,
                generation: summary,
            },
        )),
    }
    let stream = futures_util::stream::iter(events.into_iter().map(Ok::<_, Infallible>));
    Sse::new(stream).into_response()
}
