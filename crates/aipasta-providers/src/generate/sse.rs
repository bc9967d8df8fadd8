//! An incremental Server-Sent Events parser, fed bytes as they arrive.
//!
//! It follows the WHATWG event-stream rules where providers rely on them: lines end with `\n`,
//! `\r\n` or a lone `\r` (also when a `\r\n` is split between two chunks); a line starting with
//! `:` is a comment (keep-alives such as `: OPENROUTER PROCESSING`); `data:` with or without the
//! space; several `data` lines make one event joined by `\n`; a blank line ends an event; `event`
//! and `id` are kept, `retry` and unknown fields ignored; a leading byte-order mark is skipped.
//! Bytes are only decoded once a whole line is in, so a UTF-8 character split across chunks is
//! read whole. One departure from the standard: an event still open when the body ends (no
//! blank line after it) is delivered by [`SseParser::finish`] rather than dropped, because
//! providers do end streams that way.

use std::fmt;

/// How long one line or one event's data may grow before the stream is judged malformed.
pub const MAX_EVENT_BYTES: usize = 32 * 1024 * 1024;

/// How much of a line that is not SSE is kept, for error messages.
const UNRECOGNISED_KEPT_CHARS: usize = 200;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, when one was given (providers rarely send it; `error` is the one
    /// that matters).
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen, when any.
    pub id: Option<String>,
}

/// What the parser found in the bytes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    Event(SseEvent),
    /// A comment line, without its `:` (and one leading space). Providers send these as
    /// keep-alives; they are signs of life, not content.
    Comment(String),
}

/// The stream broke the parser's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseError {
    pub message: String,
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SseError {}

/// The parser's state between chunks.
#[derive(Debug)]
pub struct SseParser {
    /// The bytes of the line being read.
    line: Vec<u8>,
    /// The previous chunk ended with `\r`: a `\n` at the start of the next one belongs to it.
    after_cr: bool,
    /// The first line has been read (a byte-order mark is only skipped before it).
    first_line_read: bool,
    data: String,
    /// At least one `data` field was seen for the open event.
    has_data: bool,
    event: Option<String>,
    last_id: Option<String>,
    max_bytes: usize,
    unrecognised: Option<String>,
}

impl Default for SseParser {
    fn default() -> SseParser {
        SseParser::new()
    }
}

impl SseParser {
    pub fn new() -> SseParser {
        SseParser::with_limit(MAX_EVENT_BYTES)
    }

    /// A parser refusing lines or events longer than `max_bytes`.
    pub fn with_limit(max_bytes: usize) -> SseParser {
        SseParser {
            line: Vec::new(),
            after_cr: false,
            first_line_read: false,
            data: String::new(),
            has_data: false,
            event: None,
            last_id: None,
            max_bytes,
            unrecognised: None,
        }
    }

    /// Reads one chunk and returns the events and comments it completed, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<SseItem>, SseError> {
        let mut items = Vec::new();
        let mut rest = chunk;
        if self.after_cr {
            if let Some((&b'\n', tail)) = rest.split_first() {
                rest = tail;
            }
            if !chunk.is_empty() {
                self.after_cr = false;
            }
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.push_bytes(&rest[..end])?;
            let terminator = rest[end];
            rest = &rest[end + 1..];
            if terminator == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, &mut items)?;
        }
        self.push_bytes(rest)?;
        Ok(items)
    }

    /// The body has ended: the last line (if it had no line end) and the last event (if no
    /// blank line closed it) are delivered.
    pub fn finish(&mut self) -> Result<Vec<SseItem>, SseError> {
        let mut items = Vec::new();
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, &mut items)?;
        }
        self.dispatch(&mut items);
        self.after_cr = false;
        Ok(items)
    }

    /// The first line that was neither a field we know nor a comment, shortened; a body that
    /// is all such lines was not an event stream.
    pub fn unrecognised(&self) -> Option<&str> {
        self.unrecognised.as_deref()
    }

    fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.line.len() + bytes.len() > self.max_bytes {
            return Err(SseError {
                message: format!(
                    "an event-stream line is longer than {} bytes",
                    self.max_bytes
                ),
            });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn line_done(&mut self, raw: &[u8], items: &mut Vec<SseItem>) -> Result<(), SseError> {
        let raw = match raw.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) if !self.first_line_read => rest,
            _ => raw,
        };
        self.first_line_read = true;
        if raw.is_empty() {
            self.dispatch(items);
            return Ok(());
        }
        let line = String::from_utf8_lossy(raw);
        if let Some(comment) = line.strip_prefix(':') {
            items.push(SseItem::Comment(
                comment.strip_prefix(' ').unwrap_or(comment).to_owned(),
            ));
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.data.len() + value.len() + 1 > self.max_bytes {
                    return Err(SseError {
                        message: format!(
                            "an event-stream event is longer than {} bytes",
                            self.max_bytes
                        ),
                    });
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            "id" => {
                // The standard ignores ids containing NUL.
                if !value.contains('\0') {
                    self.last_id = Some(value.to_owned());
                }
            }
            "retry" => {}
            _ => {
                if self.unrecognised.is_none() {
                    self.unrecognised = Some(line.chars().take(UNRECOGNISED_KEPT_CHARS).collect());
                }
            }
        }
        Ok(())
    }

    fn dispatch(&mut self, items: &mut Vec<SseItem>) {
        if !self.has_data {
            // An event with no data is not dispatched; its type is forgotten.
            self.event = None;
            return;
        }
        items.push(SseItem::Event(SseEvent {
            event: self.event.take().filter(|e| !e.is_empty()),
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        }));
        self.has_data = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: &str) -> SseItem {
        SseItem::Event(SseEvent {
            event: None,
            data: data.to_owned(),
            id: None,
        })
    }

    /// Feeds the chunks in order, then finishes.
    fn parse(chunks: &[&[u8]]) -> Vec<SseItem> {
        let mut parser = SseParser::new();
        let mut items = Vec::new();
        for chunk in chunks {
            items.extend(parser.feed(chunk).unwrap());
        }
        items.extend(parser.finish().unwrap());
        items
    }

    fn byte_by_byte(body: &[u8]) -> Vec<SseItem> {
        let chunks: Vec<&[u8]> = body.chunks(1).collect();
        parse(&chunks)
    }

    #[test]
    fn data_lines_with_and_without_a_space() {
        assert_eq!(
            parse(&[b"data: one\n\ndata:two\n\ndata:  three\n\n"]),
            vec![event("one"), event("two"), event(" three")]
        );
    }

    #[test]
    fn events_are_delivered_as_soon_as_their_blank_line_arrives() {
        let mut parser = SseParser::new();
        assert_eq!(parser.feed(b"data: a").unwrap(), vec![]);
        assert_eq!(parser.feed(b"\n").unwrap(), vec![]);
        assert_eq!(parser.feed(b"\n").unwrap(), vec![event("a")]);
        assert_eq!(parser.finish().unwrap(), vec![]);
    }

    #[test]
    fn multi_line_data_is_joined_with_newlines() {
        assert_eq!(
            parse(&[b"data: {\"a\":\ndata: 1}\n\n"]),
            vec![event("{\"a\":\n1}")]
        );
        assert_eq!(parse(&[b"data\ndata\n\n"]), vec![event("\n")]);
    }

    #[test]
    fn comments_are_reported_separately() {
        assert_eq!(
            parse(&[b": OPENROUTER PROCESSING\n\ndata: x\n:ping\n\n"]),
            vec![
                SseItem::Comment("OPENROUTER PROCESSING".to_owned()),
                SseItem::Comment("ping".to_owned()),
                event("x"),
            ]
        );
    }

    #[test]
    fn event_id_and_retry_fields() {
        let items = parse(&[b"event: error\nid: 7\nretry: 1000\ndata: {}\n\ndata: next\n\n"]);
        assert_eq!(
            items,
            vec![
                SseItem::Event(SseEvent {
                    event: Some("error".to_owned()),
                    data: "{}".to_owned(),
                    id: Some("7".to_owned()),
                }),
                // The id persists, the event type does not.
                SseItem::Event(SseEvent {
                    event: None,
                    data: "next".to_owned(),
                    id: Some("7".to_owned()),
                }),
            ]
        );
    }

    #[test]
    fn an_event_without_data_is_not_dispatched_and_forgets_its_type() {
        assert_eq!(parse(&[b"event: ping\n\ndata: x\n\n"]), vec![event("x")]);
    }

    #[test]
    fn crlf_and_lone_cr_line_ends() {
        let expected = vec![event("a"), event("b")];
        assert_eq!(parse(&[b"data: a\r\n\r\ndata: b\r\n\r\n"]), expected);
        assert_eq!(parse(&[b"data: a\r\rdata: b\r\r"]), expected);
        assert_eq!(parse(&[b"data: a\n\r\ndata: b\r\n\n"]), expected);
    }

    #[test]
    fn a_crlf_split_between_chunks_is_one_line_end() {
        // Were each `\n` read as a line end of its own, the blank lines would end the event
        // after `a` and dispatch an extra empty line.
        assert_eq!(
            parse(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]),
            vec![event("a\nb")]
        );
        assert_eq!(parse(&[b"data: a\r", b"", b"\n\r\n"]), vec![event("a")]);
    }

    #[test]
    fn utf8_split_across_chunks_is_decoded_whole() {
        let body = "data: caf\u{e9} \u{1F35D} \u{3042}\n\n".as_bytes();
        assert_eq!(
            byte_by_byte(body),
            vec![event("caf\u{e9} \u{1F35D} \u{3042}")]
        );
        let (head, tail) = body.split_at(body.len() - 5);
        assert_eq!(
            parse(&[head, tail]),
            vec![event("caf\u{e9} \u{1F35D} \u{3042}")]
        );
    }

    #[test]
    fn done_is_ordinary_data() {
        assert_eq!(parse(&[b"data: [DONE]\n\n"]), vec![event("[DONE]")]);
    }

    #[test]
    fn a_final_event_without_a_blank_line_is_delivered_at_the_end() {
        assert_eq!(
            parse(&[b"data: a\n\ndata: b\n"]),
            vec![event("a"), event("b")]
        );
        assert_eq!(
            parse(&[b"data: a\n\ndata: b"]),
            vec![event("a"), event("b")]
        );
        assert_eq!(parse(&[b"data: b\r"]), vec![event("b")]);
        assert_eq!(parse(&[b""]), vec![]);
        assert_eq!(
            parse(&[b": only a comment"]),
            vec![SseItem::Comment("only a comment".to_owned())]
        );
    }

    #[test]
    fn a_byte_order_mark_at_the_start_is_skipped() {
        assert_eq!(byte_by_byte(b"\xEF\xBB\xBFdata: a\n\n"), vec![event("a")]);
        // Elsewhere it is data.
        assert_eq!(
            parse(&[b"data: a\n\n\xEF\xBB\xBFdata: b\n\n"]),
            vec![event("a")]
        );
    }

    #[test]
    fn byte_by_byte_feeding_matches_whole_feeding() {
        let body: &[u8] = b": OPENROUTER PROCESSING\r\n\r\n\
            data: {\"choices\":[{\"delta\":{\"content\":\"Hi \xC3\xA9\"}}]}\r\n\r\n\
            event: x\rdata:1\rdata:2\r\r\
            : keep-alive\n\
            id: 3\n\
            data: [DONE]";
        let whole = parse(&[body]);
        assert_eq!(whole.len(), 5, "{whole:?}");
        assert_eq!(byte_by_byte(body), whole);
        for split in 0..body.len() {
            let (a, b) = body.split_at(split);
            assert_eq!(parse(&[a, b]), whole, "split at {split}");
        }
    }

    #[test]
    fn lines_and_events_past_the_limit_are_errors() {
        let mut parser = SseParser::with_limit(16);
        assert!(parser.feed(b"data: 0123456789abcdef").is_err());
        let mut parser = SseParser::with_limit(16);
        assert!(parser.feed(b"data: 0123456789\n").is_ok());
        let error = parser.feed(b"data: 0123456789\n").unwrap_err();
        assert!(error.to_string().contains("16 bytes"), "{error}");
    }

    #[test]
    fn lines_that_are_not_sse_are_remembered() {
        let mut parser = SseParser::new();
        let items = parser
            .feed(b"<html><body>Bad gateway</body></html>\n\n")
            .unwrap();
        assert!(items.is_empty());
        assert_eq!(
            parser.unrecognised(),
            Some("<html><body>Bad gateway</body></html>")
        );
    }
}
