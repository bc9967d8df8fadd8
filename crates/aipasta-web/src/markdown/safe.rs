//! Safe HTML by construction. pulldown-cmark's writer escapes every text and attribute it
//! writes, so the only ways markdown can put markup on a page are raw HTML (turned into text
//! here), link and image addresses (kept only with a safe scheme) and what the writer itself
//! emits (table alignment as inline `style`, task-list `<input>`s: replaced here). Links are
//! written here, with `rel="noopener noreferrer nofollow"`. So no separate sanitiser has to
//! re-parse the output: that re-parse cost more than the rendering itself (html5ever, ~150 ms
//! per MiB of answer).

use pulldown_cmark::{Alignment, CowStr, Event, LinkType, Tag, TagEnd};
use pulldown_cmark_escape::{escape_href, escape_html};

/// Rewrites one event of untrusted markdown into one that renders safely, or drops it.
#[derive(Default)]
pub(super) struct SafeEvents {
    /// For each open link or image: whether its start was kept (so its end is kept too).
    kept: Vec<bool>,
}

impl SafeEvents {
    pub(super) fn rewrite<'a>(&mut self, event: Event<'a>) -> Option<Event<'a>> {
        match event {
            // Raw HTML in the markdown is shown as text: it is either a mistake or an attack.
            Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            }) => {
                let href = match link_type {
                    LinkType::Email => CowStr::from(format!("mailto:{dest_url}")),
                    _ => dest_url,
                };
                let keep = is_safe_url(&href);
                self.kept.push(keep);
                keep.then(|| Event::Html(link_start(&href, &title).into()))
            }
            Event::End(TagEnd::Link) => self
                .kept
                .pop()
                .unwrap_or(false)
                .then(|| Event::Html("</a>".into())),
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let keep = is_safe_url(&dest_url) && !dest_url.trim_start().starts_with("mailto:");
                self.kept.push(keep);
                keep.then_some(Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }))
            }
            Event::End(TagEnd::Image) => self
                .kept
                .pop()
                .unwrap_or(false)
                .then_some(Event::End(TagEnd::Image)),
            // Alignment would be written as inline styles, which the site's CSP refuses.
            Event::Start(Tag::Table(alignments)) => Some(Event::Start(Tag::Table(
                alignments.iter().map(|_| Alignment::None).collect(),
            ))),
            Event::TaskListMarker(done) => Some(Event::Text(if done { "☑ " } else { "☐ " }.into())),
            other => Some(other),
        }
    }
}

fn link_start(href: &str, title: &str) -> String {
    let mut out = String::with_capacity(href.len() + title.len() + 64);
    out.push_str("<a href=\"");
    // Writing to a String cannot fail.
    let _ = escape_href(&mut out, href);
    if !title.is_empty() {
        out.push_str("\" title=\"");
        let _ = escape_html(&mut out, title);
    }
    out.push_str("\" rel=\"noopener noreferrer nofollow\">");
    out
}

/// Whether a link may point at `url`: http(s) and mailto, or a relative address. Read as a
/// browser reads it (leading spaces and control characters ignored, tabs and newlines removed
/// anywhere), so `java\tscript:` or ` javascript:` is seen for what it is.
pub(super) fn is_safe_url(url: &str) -> bool {
    let cleaned: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let scheme_end = cleaned.find([':', '/', '?', '#']);
    match scheme_end {
        Some(at) if cleaned[at..].starts_with(':') => {
            let scheme = cleaned[..at].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::is_safe_url;

    #[test]
    fn only_web_and_mail_schemes_or_relative_addresses_are_safe() {
        for safe in [
            "https://example.com/a?b#c",
            "http://example.com",
            "HTTPS://EXAMPLE.COM",
            "mailto:ada@example.com",
            "/models",
            "#section",
            "page?x=a:b",
            "//cdn.example.com/x",
        ] {
            assert!(is_safe_url(safe), "{safe}");
        }
        for unsafe_url in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "\u{1}javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:msgbox",
            "file:///etc/passwd",
        ] {
            assert!(!is_safe_url(unsafe_url), "{unsafe_url:?}");
        }
    }
}
