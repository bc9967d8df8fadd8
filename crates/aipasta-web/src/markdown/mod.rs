//! Untrusted markdown (model descriptions, prompts, model output) to safe HTML: rendered with
//! pulldown-cmark, then cleaned by ammonia's allowlist. Raw HTML in the source is escaped, never
//! passed through; links get `rel="noopener noreferrer nofollow"`; only http(s) and mailto
//! URLs survive. Sources too costly to parse (`bounds.rs`) are shown as escaped plain text, and
//! request handlers render through `offload.rs`: on the blocking pool, a few at a time, within a
//! time budget, with finished texts cached.

mod bounds;
mod highlight;
mod offload;

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, html};

pub use bounds::{MAX_SOURCE_BYTES, TooCostly};
pub use offload::{RENDER_BUDGET, Style, render_cached, render_off_thread};

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_generic_attributes(["class"].iter().copied())
        .add_tag_attributes("code", ["class"].iter().copied());
    builder
});

/// Renders `source` as sanitised HTML, safe to insert into a page unescaped. Linear in the
/// source's length: what `bounds::check` finds too costly comes back as plain text.
pub fn render(source: &str) -> String {
    match bounds::check(source) {
        Ok(()) => render_markdown(source),
        Err(reason) => plain_text(source, reason),
    }
}

/// `source` as escaped text in a `<pre>`, under a note saying why it is not formatted.
pub fn plain_text(source: &str, reason: TooCostly) -> String {
    let mut out = String::with_capacity(source.len() + source.len() / 8 + 96);
    out.push_str("<p class=\"md-note\">");
    out.push_str(reason.note());
    out.push_str("</p><pre class=\"md-plain\">");
    for ch in source.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out.push_str("</pre>");
    out
}

/// An answer: [`render`] with the code blocks highlighted (`highlight.rs`).
pub fn render_answer(source: &str) -> String {
    match bounds::check(source) {
        Ok(()) => highlight::highlight(&render_markdown(source)),
        Err(reason) => plain_text(source, reason),
    }
}

fn render_markdown(source: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    // Raw HTML in the markdown is shown as text: it is either a mistake or an attack.
    let events = Parser::new_ext(source, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut unsafe_html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut unsafe_html, events);
    CLEANER.clean(&unsafe_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders() {
        let html = render("# Title\n\nSome **bold** and `code`.\n\n- a\n- b");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<code>code</code>"));
        assert!(html.contains("<li>a</li>"));
    }

    /// The real tags of `html` (escaped text such as `&lt;script&gt;` is not a tag).
    fn tags(html: &str) -> Vec<String> {
        html.split('<')
            .skip(1)
            .filter_map(|rest| rest.split_once('>').map(|(tag, _)| tag.to_lowercase()))
            .collect()
    }

    #[test]
    fn hostile_input_is_inert() {
        for attack in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "<iframe src=https://evil.example></iframe>",
            "![x](javascript:alert(1))",
            "<a href=\"https://evil.example\" onclick=\"steal()\">x</a>",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "<svg onload=alert(1)>",
        ] {
            let html = render(attack);
            for tag in tags(&html) {
                let name = tag
                    .trim_start_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                assert!(
                    ["p", "a", "img", "em", "strong", "code"].contains(&name),
                    "{attack} -> {html}: <{tag}>"
                );
                let has_handler = tag
                    .split_whitespace()
                    .skip(1)
                    .any(|attr| attr.starts_with("on"));
                assert!(!has_handler, "{attack} -> {html}: <{tag}>");
                assert!(
                    !tag.contains("javascript:") && !tag.contains("data:"),
                    "{attack} -> {html}"
                );
            }
        }
        let link = render("[docs](https://example.com)");
        assert!(
            link.contains("rel=\"noopener noreferrer nofollow\""),
            "{link}"
        );
    }
}
