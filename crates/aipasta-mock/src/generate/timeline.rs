//! A response body played over time: bytes, pauses, and how it ends (cleanly, cut abruptly,
//! or stalled until the server is dropped). Streams and scripted non-stream failures are both
//! built as a [`Timeline`] first, then played; a timeline without pauses goes out in one piece.

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures_util::stream;
use serde::Serialize;
use tokio::sync::watch;

/// How long a cut waits after the last bytes: the server only flushes when the body pauses,
/// and a body failing at once would take the unflushed bytes down with it.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(10);

/// How the body ends after its last bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The chunked body is terminated normally.
    Clean,
    /// The body stream fails, so the connection closes without the terminating chunk.
    Cut,
    /// Nothing more until the server is dropped, then as `Cut`.
    Stall,
}

/// Bytes to send, each segment after its pause.
pub(crate) struct Timeline {
    segments: Vec<(Duration, Vec<u8>)>,
    end: End,
}

impl Timeline {
    pub(crate) fn new() -> Timeline {
        Timeline {
            segments: vec![(Duration::ZERO, Vec::with_capacity(1024))],
            end: End::Clean,
        }
    }

    /// A body that is these bytes, then `end`.
    pub(crate) fn of(bytes: &[u8], end: End) -> Timeline {
        let mut timeline = Timeline::new();
        timeline.bytes().extend_from_slice(bytes);
        timeline.end(end);
        timeline
    }

    /// Waits this long before what is written next.
    pub(crate) fn pause(&mut self, pause: Duration) {
        if pause.is_zero() {
            return;
        }
        match self.segments.last_mut() {
            Some((waited, bytes)) if bytes.is_empty() => *waited = waited.saturating_add(pause),
            _ => self.segments.push((pause, Vec::new())),
        }
    }

    /// The segment being written.
    pub(crate) fn bytes(&mut self) -> &mut Vec<u8> {
        if self.segments.is_empty() {
            self.segments.push((Duration::ZERO, Vec::new()));
        }
        let last = self.segments.len() - 1;
        &mut self.segments[last].1
    }

    /// An SSE comment line (`: text`) and the blank line that ends the event.
    pub(crate) fn comment(&mut self, text: &str) {
        let bytes = self.bytes();
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(b"\n\n");
    }

    /// An SSE event `data: {json}`.
    pub(crate) fn data_json(&mut self, value: &impl Serialize) {
        let bytes = self.bytes();
        bytes.extend_from_slice(b"data: ");
        write_json(bytes, value);
        bytes.extend_from_slice(b"\n\n");
    }

    /// An SSE event `data: {text}` (e.g. `[DONE]`, or a line that is not JSON).
    pub(crate) fn data_raw(&mut self, text: &str) {
        let bytes = self.bytes();
        bytes.extend_from_slice(b"data: ");
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(b"\n\n");
    }

    pub(crate) fn end(&mut self, end: End) {
        self.end = end;
    }

    /// The body that plays the timeline; pauses and stalls end early when `shutdown` turns
    /// `true` (the server was dropped), and the body then fails like a cut.
    pub(crate) fn into_body(self, shutdown: watch::Receiver<bool>) -> Body {
        let immediate = self.end == End::Clean && self.segments.iter().all(|(w, _)| w.is_zero());
        if immediate {
            let all: Vec<u8> = self
                .segments
                .into_iter()
                .flat_map(|(_, bytes)| bytes)
                .collect();
            return Body::from_stream(stream::iter([Ok::<_, io::Error>(Bytes::from(all))]));
        }
        let player = Player {
            segments: self.segments.into_iter(),
            end: Some(self.end),
            shutdown,
        };
        Body::from_stream(stream::unfold(player, Player::next))
    }
}

/// Plays a timeline, one segment per poll.
struct Player {
    segments: std::vec::IntoIter<(Duration, Vec<u8>)>,
    /// `None` once the end was played.
    end: Option<End>,
    shutdown: watch::Receiver<bool>,
}

impl Player {
    async fn next(mut self) -> Option<(io::Result<Bytes>, Player)> {
        while let Some((pause, bytes)) = self.segments.next() {
            if !wait(pause, &mut self.shutdown).await {
                return self.fail("the mock server stopped");
            }
            if !bytes.is_empty() {
                return Some((Ok(Bytes::from(bytes)), self));
            }
        }
        match self.end.take()? {
            End::Clean => None,
            End::Cut => {
                // Let the server flush what was sent, so the client sees it before the cut.
                tokio::time::sleep(FLUSH_BEFORE_CUT).await;
                self.fail("scripted cut")
            }
            End::Stall => {
                until_stopped(&mut self.shutdown).await;
                self.fail("the mock server stopped during a stall")
            }
        }
    }

    fn fail(mut self, why: &'static str) -> Option<(io::Result<Bytes>, Player)> {
        self.segments = Vec::new().into_iter();
        self.end = None;
        Some((Err(io::Error::other(why)), self))
    }
}

/// Serialises `value` onto `out`; our bodies always serialise, but should one not, `null`
/// keeps the document well-formed.
pub(crate) fn write_json(out: &mut Vec<u8>, value: &impl Serialize) {
    let start = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.truncate(start);
        out.extend_from_slice(b"null");
    }
}

/// Waits `pause`, or less if the server stops; `false` means it stopped.
pub(crate) async fn wait(pause: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if pause.is_zero() {
        return !*shutdown.borrow();
    }
    tokio::select! {
        () = tokio::time::sleep(pause) => true,
        _ = shutdown.wait_for(|stopping| *stopping) => false,
    }
}

/// Returns when the server stops (or its handle is gone).
pub(crate) async fn until_stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stopped.
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_split_segments_and_merge_when_nothing_was_written() {
        let mut timeline = Timeline::new();
        timeline.data_raw("a");
        timeline.pause(Duration::from_millis(5));
        timeline.pause(Duration::from_millis(5));
        timeline.comment("keep");
        timeline.data_json(&serde_json::json!({"b": 1}));
        assert_eq!(timeline.segments.len(), 2);
        assert_eq!(timeline.segments[0].1, b"data: a\n\n");
        assert_eq!(timeline.segments[1].0, Duration::from_millis(10));
        assert_eq!(timeline.segments[1].1, b": keep\n\ndata: {\"b\":1}\n\n");
    }
}
