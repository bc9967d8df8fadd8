//! A running generation as its subscribers see it: the text so far, then how it ended.
//!
//! The task that owns the upstream call appends deltas under a lock and broadcasts them; a
//! subscriber takes a snapshot and a receiver under the same lock, so it never misses or
//! repeats text. A subscriber that falls behind resynchronises from the text itself (every
//! delta says where it starts), so a slow reader costs nothing but its own catching up.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use aipasta_providers::generate::Usage;

use crate::error::GenerationError;

/// Deltas kept for slow subscribers before they must resynchronise; small, since each open
/// stream holds one of these.
const BROADCAST_CAPACITY: usize = 32;

/// How a generation ended, as sent to clients and recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `success`, `error`, `timeout`, `cancelled` or `interrupted`.
    pub status: &'static str,
    pub content: String,
    pub finish_reason: Option<String>,
    pub usage: Usage,
    /// Whether the token counts were estimated because the provider gave none.
    pub usage_estimated: bool,
    pub cost_nanos: i64,
    pub duration_ms: i64,
    pub time_to_first_token_ms: Option<i64>,
    /// The model that answered, when a fallback did.
    pub answered_by: Option<String>,
    pub provider_generation_id: Option<String>,
    /// The images it made, checked to be raster images, in order (also in the final row).
    pub images: Vec<Image>,
    /// The vectors of an embedding call, in input order (empty for every other task).
    pub embeddings: Vec<Vec<f32>>,
    pub error: Option<GenerationError>,
}

/// One generated image: a PNG, JPEG, WebP or GIF, typed by its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub mime_type: String,
    pub bytes: Arc<[u8]>,
}

/// What a subscriber receives.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    /// Text starting at byte `start` of the content.
    Delta {
        start: usize,
        text: Arc<str>,
    },
    Usage(Usage),
}

struct State {
    content: String,
    /// Made by the first subscriber: a generation nobody follows delta by delta (a whole
    /// answer, awaited with [`Live::wait`]) allocates no channel and copies no delta.
    events: Option<broadcast::Sender<LiveEvent>>,
}

impl State {
    fn subscribe(&mut self) -> broadcast::Receiver<LiveEvent> {
        self.events
            .get_or_insert_with(|| broadcast::channel(BROADCAST_CAPACITY).0)
            .subscribe()
    }

    fn send(&self, event: impl FnOnce() -> LiveEvent) {
        // No subscriber left is fine: the text is kept for whoever attaches later.
        if let Some(events) = &self.events
            && events.receiver_count() > 0
        {
            let _ = events.send(event());
        }
    }
}

/// One running (or just finished) generation.
pub struct Live {
    pub id: String,
    pub user_id: String,
    pub model_slug: String,
    pub created_at: i64,
    state: Mutex<State>,
    outcome: watch::Sender<Option<Arc<Outcome>>>,
    pub(crate) cancel: CancellationToken,
    /// Cancelled once the task has queued its final row: the outcome follows when that row
    /// is durable.
    ended: CancellationToken,
    /// Whether the starting row is durable: a streamed generation's id is shown to no one
    /// before (see [`Live::start_recorded`]).
    start: watch::Sender<StartRecord>,
    /// Cancelled once a row of this generation (its start or its end) is in the database, so
    /// a read of this one generation waits for it rather than for every queued write.
    row_written: CancellationToken,
}

/// Where a generation's starting row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartRecord {
    /// Queued; not committed yet.
    Pending,
    /// Committed, or recorded quietly because nobody is shown the id before the end.
    Durable,
    /// It could not be stored: the generation is cancelled and its id never shown.
    Failed,
}

/// Everything a subscriber needs to start: the text so far and the events after it.
pub struct Subscription {
    pub content: String,
    pub events: broadcast::Receiver<LiveEvent>,
    pub outcome: watch::Receiver<Option<Arc<Outcome>>>,
}

impl Live {
    pub fn new(id: String, user_id: String, model_slug: String, created_at: i64) -> Live {
        Live {
            id,
            user_id,
            model_slug,
            created_at,
            state: Mutex::new(State {
                content: String::new(),
                events: None,
            }),
            outcome: watch::channel(None).0,
            cancel: CancellationToken::new(),
            ended: CancellationToken::new(),
            start: watch::channel(StartRecord::Pending).0,
            row_written: CancellationToken::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Held only to copy or append text; a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends new text and tells the subscribers.
    pub fn push_delta(&self, text: &str) {
        let mut state = self.lock();
        let start = state.content.len();
        state.content.push_str(text);
        state.send(|| LiveEvent::Delta {
            start,
            text: Arc::from(text),
        });
    }

    pub fn push_usage(&self, usage: Usage) {
        self.lock().send(|| LiveEvent::Usage(usage));
    }

    /// The text so far.
    pub fn content(&self) -> String {
        self.lock().content.clone()
    }

    pub fn subscribe(&self) -> Subscription {
        let mut state = self.lock();
        Subscription {
            content: state.content.clone(),
            events: state.subscribe(),
            outcome: self.outcome.subscribe(),
        }
    }

    /// The text from byte `from` on, for a subscriber that fell behind.
    pub fn content_from(&self, from: usize) -> (String, broadcast::Receiver<LiveEvent>) {
        let mut state = self.lock();
        let rest = state.content.get(from..).unwrap_or_default().to_owned();
        (rest, state.subscribe())
    }

    /// Says whether the starting row is durable.
    pub(crate) fn set_start(&self, record: StartRecord) {
        self.start.send_replace(record);
    }

    /// Waits until the starting row is durable (true) or known not to be (false). Whoever
    /// shows a client the generation's id or text waits for this first.
    pub async fn start_recorded(&self) -> bool {
        let mut start = self.start.subscribe();
        match start
            .wait_for(|record| *record != StartRecord::Pending)
            .await
        {
            Ok(record) => *record == StartRecord::Durable,
            // The sender lives in `self`, so this cannot happen while we hold `self`.
            Err(_) => false,
        }
    }

    /// Says a row of this generation is in the database (or was given up on).
    pub(crate) fn mark_row_written(&self) {
        self.row_written.cancel();
    }

    /// Waits until a row of this generation is in the database: its starting row while it
    /// runs (a whole answer's start may be held back briefly), its final row once it ended.
    pub async fn row_written(&self) {
        self.row_written.cancelled().await;
    }

    /// Says the task has queued its final row.
    pub(crate) fn mark_ended(&self) {
        self.ended.cancel();
    }

    /// Waits until the task has queued its final row (the outcome may wait on the database).
    pub(crate) async fn ended(&self) {
        self.ended.cancelled().await;
    }

    /// Sets the outcome; subscribers waiting on it wake up. Only once the final row is
    /// durable: whoever sees the outcome may tell a client.
    pub fn finish(&self, outcome: Outcome) {
        self.outcome.send_replace(Some(Arc::new(outcome)));
    }

    pub fn outcome(&self) -> Option<Arc<Outcome>> {
        self.outcome.borrow().clone()
    }

    /// Asks the task to stop; the upstream request is dropped and the partial text kept.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Waits for the outcome.
    pub async fn wait(&self) -> Arc<Outcome> {
        let mut outcome = self.outcome.subscribe();
        loop {
            if let Some(done) = outcome.borrow_and_update().clone() {
                return done;
            }
            if outcome.changed().await.is_err() {
                // The sender lives in `self`, so this cannot happen while we hold `self`.
                return Arc::new(Outcome::interrupted(self.content()));
            }
        }
    }
}

impl Outcome {
    /// What a client hears of a generation whose final row could not be stored: an error,
    /// without the answer (which would be lost with the process).
    pub fn not_recorded(ended: Outcome) -> Outcome {
        Outcome {
            status: "error",
            content: String::new(),
            embeddings: Vec::new(),
            images: Vec::new(),
            error: Some(GenerationError::NotRecorded),
            ..ended
        }
    }

    /// What a client hears of a streamed generation whose starting row could not be stored:
    /// it was cancelled before anything of it was shown.
    pub fn start_not_recorded() -> Outcome {
        Outcome {
            status: "error",
            error: Some(GenerationError::StorageUnavailable { started: true }),
            ..Outcome::interrupted(String::new())
        }
    }

    pub fn interrupted(content: String) -> Outcome {
        Outcome {
            status: "interrupted",
            content,
            finish_reason: None,
            usage: Usage::default(),
            usage_estimated: false,
            cost_nanos: 0,
            duration_ms: 0,
            time_to_first_token_ms: None,
            answered_by: None,
            provider_generation_id: None,
            images: Vec::new(),
            embeddings: Vec::new(),
            error: Some(GenerationError::Interrupted { restarted: false }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_late_subscriber_gets_the_text_so_far_then_only_new_deltas() {
        let live = Live::new("g".into(), "u".into(), "m".into(), 0);
        live.push_delta("Hello");
        let mut sub = live.subscribe();
        assert_eq!(sub.content, "Hello");
        live.push_delta(", world");
        match sub.events.recv().await.unwrap() {
            LiveEvent::Delta { start, text } => {
                assert_eq!(start, 5);
                assert_eq!(&*text, ", world");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(live.content(), "Hello, world");
    }

    #[test]
    fn nothing_is_broadcast_before_someone_subscribes() {
        let live = Live::new("g".into(), "u".into(), "m".into(), 0);
        live.push_delta("Hello");
        live.push_usage(Usage::default());
        assert!(
            live.lock().events.is_none(),
            "no channel without a subscriber"
        );
        let mut sub = live.subscribe();
        assert_eq!(sub.content, "Hello");
        assert!(
            sub.events.try_recv().is_err(),
            "what came before is in the snapshot, not the channel"
        );
        let (rest, mut again) = live.content_from(2);
        assert_eq!(rest, "llo");
        live.push_delta("!");
        for events in [&mut sub.events, &mut again] {
            match events.try_recv() {
                Ok(LiveEvent::Delta { start, text }) => assert_eq!((start, &*text), (5, "!")),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_lagging_subscriber_resynchronises_from_the_content() {
        let live = Live::new("g".into(), "u".into(), "m".into(), 0);
        let mut sub = live.subscribe();
        for i in 0..(BROADCAST_CAPACITY * 2) {
            live.push_delta(&format!("{i} "));
        }
        assert!(matches!(
            sub.events.recv().await,
            Err(broadcast::error::RecvError::Lagged(_))
        ));
        let (rest, _) = live.content_from(0);
        assert_eq!(rest, live.content());
        assert!(rest.starts_with("0 1 2 "));
    }

    #[tokio::test]
    async fn waiting_ends_when_the_outcome_is_set() {
        let live = Arc::new(Live::new("g".into(), "u".into(), "m".into(), 0));
        let waiter = {
            let live = live.clone();
            tokio::spawn(async move { live.wait().await })
        };
        live.finish(Outcome::interrupted("x".into()));
        let outcome = waiter.await.unwrap();
        assert_eq!(outcome.status, "interrupted");
        assert_eq!(outcome.content, "x");
    }
}
