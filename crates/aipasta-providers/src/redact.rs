//! Keeping secrets and internal addresses out of text an upstream sent back.
//!
//! Upstreams echo what they were sent in surprising ways: the key in another case, cut to its
//! first or last characters ("sk-or-v1-4f2a…"), URL-encoded in a quoted request line, or their
//! own address in a proxy's error page. [`redact_key`] blanks every form of a key that would
//! help someone use it; [`hide_addresses`] replaces an endpoint's address (URL, `host:port`,
//! host) so that people see the provider's name, never where it runs.

use std::borrow::Cow;
use std::ops::Range;

/// What a blanked key reads as.
pub const REDACTED: &str = "[redacted]";

/// What a hidden address reads as.
pub const HIDDEN_ADDRESS: &str = "[address hidden]";

/// The shortest piece of a key, taken from either end, that is blanked. Shorter pieces (the
/// four last characters an error such as OpenAI's "sk-proj-****…sJkA" shows, the hint AI Pasta
/// shows itself) do not help anyone use the key.
pub const MIN_KEY_FRAGMENT: usize = 8;

/// `text` with every form of `key` replaced by [`REDACTED`]: the key itself, in any case and
/// URL-encoded (any of its characters, either hex case), and any run of at least
/// [`MIN_KEY_FRAGMENT`] characters that starts or ends it (a truncated key). A key shorter than
/// that is blanked only whole. Borrowed when there is nothing to blank.
pub fn redact_key<'a>(text: &'a str, key: &str) -> Cow<'a, str> {
    let key = key.trim().to_ascii_lowercase();
    if key.is_empty() || text.is_empty() {
        return Cow::Borrowed(text);
    }
    let decoded = Decoded::new(text);
    let mut found = Vec::new();
    key_ranges(&decoded.bytes, key.as_bytes(), &mut found);
    let found = found
        .into_iter()
        .map(|range| decoded.origin(range))
        .collect();
    replace_ranges(text, found, REDACTED)
}

/// Text lower-cased with its `%XX` escapes decoded, remembering where each byte came from.
struct Decoded {
    bytes: Vec<u8>,
    /// The offset in the text of each byte, and the text's length after the last.
    starts: Vec<usize>,
}

impl Decoded {
    fn new(text: &str) -> Decoded {
        let raw = text.as_bytes();
        let mut bytes = Vec::with_capacity(raw.len());
        let mut starts = Vec::with_capacity(raw.len() + 1);
        let mut at = 0;
        while at < raw.len() {
            starts.push(at);
            let escaped = (raw[at] == b'%')
                .then(|| Some((hex(*raw.get(at + 1)?)? << 4) | hex(*raw.get(at + 2)?)?))
                .flatten();
            match escaped {
                Some(byte) => {
                    bytes.push(byte.to_ascii_lowercase());
                    at += 3;
                }
                None => {
                    bytes.push(raw[at].to_ascii_lowercase());
                    at += 1;
                }
            }
        }
        starts.push(raw.len());
        Decoded { bytes, starts }
    }

    /// The text's byte range that `range` of the decoded bytes came from.
    fn origin(&self, range: Range<usize>) -> Range<usize> {
        self.starts[range.start]..self.starts[range.end]
    }
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Where `needle` (lower-case), whole or as a long enough prefix or suffix, occurs in
/// `haystack` (lower-case).
fn key_ranges(haystack: &[u8], needle: &[u8], found: &mut Vec<Range<usize>>) {
    let fragments = needle.len() > MIN_KEY_FRAGMENT;
    for start in 0..haystack.len() {
        let common = haystack[start..]
            .iter()
            .zip(needle)
            .take_while(|(a, b)| a == b)
            .count();
        if common == needle.len() || (fragments && common >= MIN_KEY_FRAGMENT) {
            found.push(start..start + common);
        }
    }
    if !fragments {
        return;
    }
    let last = needle[needle.len() - 1];
    for end in 1..=haystack.len() {
        if haystack[end - 1] != last {
            continue;
        }
        let common = haystack[..end]
            .iter()
            .rev()
            .zip(needle.iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        if common >= MIN_KEY_FRAGMENT {
            found.push(end - common..end);
        }
    }
}

/// `text` with every address of an endpoint at `url` replaced by [`HIDDEN_ADDRESS`]: the URL
/// (with or without a trailing slash), its origin, its `host:port` and its host, in any case.
/// Of the public providers' own hosts (`openrouter.ai`, `huggingface.co`…) only the URL is
/// hidden: their links in their own messages (`https://openrouter.ai/credits`) help people and
/// reveal nothing.
pub fn hide_addresses<'a>(text: &'a str, url: &str) -> Cow<'a, str> {
    let url = url.trim().trim_end_matches('/');
    if url.is_empty() || text.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut forms = vec![url.to_ascii_lowercase()];
    if let Ok(parsed) = reqwest::Url::parse(url)
        && let Some(host) = parsed.host_str()
    {
        let host = host.to_ascii_lowercase();
        if !is_public_provider_host(&host) {
            if let Some(port) = parsed.port_or_known_default() {
                forms.push(format!("{host}:{port}"));
            }
            // An IPv6 host is also written without its brackets.
            forms.push(
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
            );
            forms.push(host);
        }
    }
    let haystack = text.to_ascii_lowercase();
    let bytes = haystack.as_bytes();
    // A form only counts as a whole word: `10.1.2.3` is not hidden inside `10.1.2.30`.
    let alone = |range: &Range<usize>| {
        let before = range.start.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(range.end).copied();
        !before.is_some_and(|b| b.is_ascii_alphanumeric())
            && !after.is_some_and(|b| b.is_ascii_alphanumeric())
    };
    let mut found = Vec::new();
    for form in forms.iter().filter(|form| !form.is_empty()) {
        found.extend(
            haystack
                .match_indices(form.as_str())
                .map(|(start, _)| start..start + form.len())
                .filter(alone),
        );
    }
    replace_ranges(text, found, HIDDEN_ADDRESS)
}

/// The built-in providers' public hosts: their names are no secret.
fn is_public_provider_host(host: &str) -> bool {
    const PUBLIC: [&str; 2] = ["openrouter.ai", "huggingface.co"];
    PUBLIC.iter().any(|public| {
        host == *public
            || host
                .strip_suffix(public)
                .is_some_and(|sub| sub.ends_with('.'))
    })
}

/// `text` with the (possibly overlapping) byte `ranges` replaced by `with`, each widened to
/// whole characters; touching or overlapping ranges become one.
fn replace_ranges<'a>(text: &'a str, ranges: Vec<Range<usize>>, with: &str) -> Cow<'a, str> {
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut ranges: Vec<Range<usize>> = ranges
        .into_iter()
        .map(|Range { mut start, mut end }| {
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            while !text.is_char_boundary(end) {
                end += 1;
            }
            start..end
        })
        .collect();
    ranges.sort_by_key(|range| range.start);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut pending: Option<Range<usize>> = None;
    for range in ranges {
        match &mut pending {
            Some(open) if range.start <= open.end => open.end = open.end.max(range.end),
            _ => {
                if let Some(done) = pending.take() {
                    out.push_str(&text[copied..done.start]);
                    out.push_str(with);
                    copied = done.end;
                }
                pending = Some(range);
            }
        }
    }
    if let Some(done) = pending {
        out.push_str(&text[copied..done.start]);
        out.push_str(with);
        copied = done.end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-or-v1-4f2a9c81d07e4b5a9f3c2e1d0b8a7c6f";

    #[test]
    fn the_key_in_every_form_is_blanked() {
        let upper = KEY.to_uppercase();
        let head = &KEY[..20];
        let tail = &KEY[KEY.len() - 12..];
        for text in [
            format!("Incorrect API key provided: {KEY}."),
            format!("bad key {upper}"),
            format!("key {head}… was refused"),
            format!("key …{tail} was refused"),
            format!("key {}…{} was refused", &KEY[..10], &KEY[KEY.len() - 9..]),
            format!("GET /v1/models?api_key={KEY}&x=1"),
        ] {
            let redacted = redact_key(&text, KEY);
            assert!(redacted.contains(REDACTED), "{redacted}");
            let lower = redacted.to_ascii_lowercase();
            for piece in [
                &KEY[..MIN_KEY_FRAGMENT],
                &KEY[KEY.len() - MIN_KEY_FRAGMENT..],
            ] {
                assert!(!lower.contains(piece), "{piece} left in {redacted}");
            }
        }
    }

    #[test]
    fn url_encoded_keys_are_blanked() {
        let key = "abc+def/ghi=jkl~mnop";
        let text = "refused: token=abc%2Bdef%2Fghi%3Djkl%7Emnop (401)";
        assert_eq!(redact_key(text, key), "refused: token=[redacted] (401)");
        let lower_hex = "refused: token=abc%2bdef%2fghi%3djkl%7emnop";
        assert_eq!(redact_key(lower_hex, key), "refused: token=[redacted]");
        // Characters that need no escaping, escaped all the same.
        let over = "key=%73k-or-v1%2D4f2a9c81d07e4b5a9f3c2e1d0b8a7c6f!";
        assert_eq!(redact_key(over, KEY), "key=[redacted]!");
        // A stray `%` is just a character.
        assert_eq!(redact_key("100% sure, 50%z", KEY), "100% sure, 50%z");
    }

    #[test]
    fn short_pieces_and_short_keys() {
        // The last four characters, as OpenAI shows them, are no secret.
        let shown = format!(
            "Incorrect API key provided: sk-or-***{}.",
            &KEY[KEY.len() - 4..]
        );
        assert_eq!(redact_key(&shown, KEY), shown);
        // A short key is blanked whole only.
        assert_eq!(
            redact_key("bad key hf_test here", "hf_test"),
            "bad key [redacted] here"
        );
        assert_eq!(redact_key("hf_tes", "hf_test"), "hf_tes");
        assert!(matches!(redact_key("nothing here", KEY), Cow::Borrowed(_)));
        assert_eq!(redact_key("anything", "  "), "anything");
    }

    #[test]
    fn characters_around_a_key_survive_whole() {
        let text = format!("é{KEY}ü and {KEY}{KEY}");
        assert_eq!(redact_key(&text, KEY), "é[redacted]ü and [redacted]");
    }

    #[test]
    fn addresses_are_hidden_in_every_form() {
        let url = "http://10.1.2.3:8000/v1";
        for text in [
            "error sending request for url (http://10.1.2.3:8000/v1/chat/completions)",
            "connect to 10.1.2.3:8000 refused",
            "upstream 10.1.2.3 is down",
            "<title>502 at HTTP://10.1.2.3:8000/</title>",
        ] {
            let hidden = hide_addresses(text, url);
            assert!(!hidden.contains("10.1.2.3"), "{hidden}");
            assert!(hidden.contains(HIDDEN_ADDRESS), "{hidden}");
        }
        let named = hide_addresses("llm.internal:443 timed out", "https://llm.internal/v1/");
        assert_eq!(named, "[address hidden] timed out");
        let inside = hide_addresses("10.1.2.30 and 110.1.2.3", url);
        assert_eq!(inside, "10.1.2.30 and 110.1.2.3");
        // The public providers' own links stay.
        let credits = "Add more using https://openrouter.ai/credits";
        assert_eq!(
            hide_addresses(credits, "https://openrouter.ai/api/v1"),
            credits
        );
        assert_eq!(
            hide_addresses(
                "failed at https://openrouter.ai/api/v1/chat",
                "https://openrouter.ai/api/v1"
            ),
            "failed at [address hidden]/chat"
        );
    }
}
