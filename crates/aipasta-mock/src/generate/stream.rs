//! Playing a [`Script`] as a server-sent-event stream: keep-alives, deltas, and the scripted
//! ending, in the event format of the route ([`StreamFormat`]).

use std::time::Duration;

use super::script::{Outcome, Script};
use super::timeline::{End, Timeline};

/// OpenRouter's keep-alive comment (without the leading `: `).
pub(crate) const KEEP_ALIVE: &str = "OPENROUTER PROCESSING";

/// The `data:` line of [`Outcome::MalformedAfter`]: the start of a chunk, never finished.
pub(crate) const MALFORMED_EVENT: &str =
    "{\"id\":\"malformed\",\"choices\":[{\"delta\":{\"content\":\"";

/// One provider's stream events.
pub(crate) trait StreamFormat {
    /// The event for delta `index`; `last` when it is the final delta of a stream that
    /// completes (TGI puts the whole answer in that one).
    fn delta(&mut self, out: &mut Timeline, index: usize, piece: &str, last: bool);
    /// What follows the deltas of a stream that completes (finish and usage chunks), before
    /// `[DONE]`. `sent` deltas were sent.
    fn finish(&mut self, out: &mut Timeline, sent: usize);
    /// The provider's mid-stream error event.
    fn error(&mut self, out: &mut Timeline);
    /// Whether a complete stream ends with `data: [DONE]`.
    fn has_done(&self) -> bool;
}

/// The whole stream for `script`, whose text is already split into `deltas`.
pub(crate) fn play(script: &Script, deltas: &[&str], format: &mut impl StreamFormat) -> Timeline {
    let mut out = Timeline::new();
    keep_alives(&mut out, script.keep_alives, script.first_token_delay);
    let total = deltas.len();
    let interrupted_after = match script.outcome {
        Outcome::CutAfter(n) | Outcome::ErrorAfter(n) | Outcome::StallAfter(n) => {
            Some(n.min(total))
        }
        _ => None,
    };
    let malformed_after = match script.outcome {
        Outcome::MalformedAfter(n) => Some(n.min(total)),
        _ => None,
    };
    let sent = interrupted_after.unwrap_or(total);
    for (index, piece) in deltas.iter().take(sent).enumerate() {
        if malformed_after == Some(index) {
            out.data_raw(MALFORMED_EVENT);
        }
        if index > 0 {
            out.pause(script.chunk_delay);
        }
        let last = interrupted_after.is_none() && index + 1 == total;
        format.delta(&mut out, index, piece, last);
    }
    match script.outcome {
        Outcome::CutAfter(_) => out.end(End::Cut),
        Outcome::StallAfter(_) => out.end(End::Stall),
        Outcome::ErrorAfter(_) => {
            if sent > 0 {
                out.pause(script.chunk_delay);
            }
            format.error(&mut out);
        }
        Outcome::Complete
        | Outcome::NoDone
        | Outcome::MalformedAfter(_)
        | Outcome::Status { .. } => {
            if malformed_after == Some(total) {
                out.data_raw(MALFORMED_EVENT);
            }
            format.finish(&mut out, total);
            if format.has_done() && script.outcome != Outcome::NoDone {
                out.data_raw("[DONE]");
            }
        }
    }
    out
}

/// `count` keep-alive comments spread evenly over `delay`, then the rest of `delay`.
fn keep_alives(out: &mut Timeline, count: usize, delay: Duration) {
    let steps = u32::try_from(count.saturating_add(1)).unwrap_or(u32::MAX);
    let step = delay / steps;
    let mut waited = Duration::ZERO;
    for _ in 0..count {
        out.pause(step);
        waited += step;
        out.comment(KEEP_ALIVE);
    }
    out.pause(delay.saturating_sub(waited));
}
