//! Untrusted markdown (model descriptions, prompts, model output) to safe HTML, rendered with
//! pulldown-cmark and made safe as it is written (`safe.rs`): raw HTML in the source is
//! escaped, never passed through; links get `rel="noopener noreferrer nofollow"`; only http(s),
//! mailto and relative addresses survive. What is too costly shows as escaped plain text
//! instead: sources `bounds.rs` refuses before parsing, and renderings that pass
//! [`RENDER_DEADLINE`] (checked as the events are read, where the inline parsing happens).
//! Request handlers render through `offload.rs`: on the blocking pool, a few at a time, within
//! a time budget, with finished texts cached.

mod bounds;
mod highlight;
mod offload;
mod safe;

use std::time::{Duration, Instant};

use pulldown_cmark::{Options, Parser, html};

pub use bounds::{MAX_BLOCK_BYTES, MAX_INLINE_MARKS, MAX_SOURCE_BYTES, TooCostly};
pub use offload::{RENDER_BUDGET, Style, render_cached, render_off_thread};

/// The longest one rendering may take before it is given up for plain text.
pub const RENDER_DEADLINE: Duration = Duration::from_millis(25);

/// Renders `source` as sanitised HTML, safe to insert into a page unescaped. Bounded: what
/// `bounds::check` finds too costly, or what passes [`RENDER_DEADLINE`], comes back as plain
/// text.
pub fn render(source: &str) -> String {
    bounded(source, |html, _| html)
}

/// An answer: [`render`] with the code blocks highlighted (`highlight.rs`; past the deadline,
/// the rest of the code keeps no colours).
pub fn render_answer(source: &str) -> String {
    bounded(source, |html, deadline| {
        highlight::highlight(&html, deadline)
    })
}

fn bounded(source: &str, finish: impl FnOnce(String, Instant) -> String) -> String {
    let deadline = Instant::now() + RENDER_DEADLINE;
    let reason = match bounds::check(source) {
        Ok(()) => match render_markdown(source, deadline) {
            Some(html) => return finish(html, deadline),
            None => TooCostly::Slow,
        },
        Err(reason) => reason,
    };
    plain_text(source, reason)
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

/// Safe HTML of `source`, or `None` once `deadline` passes (checked every few hundred events).
fn render_markdown(source: &str, deadline: Instant) -> Option<String> {
    const CHECK_EVERY: usize = 256;
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut safe = safe::SafeEvents::default();
    let mut read = 0usize;
    let mut late = false;
    let events = Parser::new_ext(source, options)
        .map_while(|event| {
            read += 1;
            if read.is_multiple_of(CHECK_EVERY) && Instant::now() > deadline {
                late = true;
                return None;
            }
            Some(event)
        })
        .filter_map(|event| safe.rewrite(event));
    let mut html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut html, events);
    (!late).then_some(html)
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

    /// Attacks on the parts pulldown-cmark writes as attributes: addresses in every form the
    /// parser decodes (entities, reference definitions, autolinks), titles and code languages
    /// with quotes; and what the writer would emit that the site does not want (inline styles,
    /// form inputs).
    #[test]
    fn attributes_cannot_be_broken_out_of_and_addresses_are_checked_decoded() {
        for (attack, shown) in [
            ("[x](&#106;avascript:alert(1))", "x"),
            ("[x](java&#x09;script:alert(1))", "x"),
            ("[x](&#x20;javascript:alert(1))", "x"),
            ("<javascript:alert(1)>", "javascript:alert(1)"),
            ("[x][r]\n\n[r]: javascript:alert(1)", "x"),
            ("![pic](data:image/svg+xml;base64,PHN2Zz4=)", "pic"),
            ("[x](mailto:ada@example.com)", "x"),
        ] {
            let html = render(attack);
            let lowered = html.to_lowercase();
            assert!(
                !lowered.contains("javascript:") || !lowered.contains("href"),
                "{attack} -> {html}"
            );
            assert!(!lowered.contains("src=\"data:"), "{attack} -> {html}");
            assert!(html.contains(shown), "{attack}: the text stays -> {html}");
        }
        let mail = render("<ada@example.com>");
        assert!(mail.contains(r#"href="mailto:ada@example.com""#), "{mail}");

        let title = render(r#"[x](https://example.com "a\" onmouseover=\"alert(1)")"#);
        assert!(!title.contains("\" onmouseover"), "{title}");
        assert!(title.contains("&quot;"), "{title}");
        let image = render(r#"![x](https://example.com/a.png "t\" onerror=\"alert(1)")"#);
        assert!(!image.contains("\" onerror"), "{image}");
        let code = render("```\" onclick=\"alert(1)\nx\n```");
        assert!(!code.contains("\" onclick"), "{code}");

        let table = render("| a | b |\n|:--|--:|\n| 1 | 2 |");
        assert!(
            table.contains("<table>") && !table.contains("style="),
            "{table}"
        );
        let tasks = render("- [x] done\n- [ ] to do");
        assert!(!tasks.contains("<input"), "{tasks}");
        assert!(
            tasks.contains("☑ done") && tasks.contains("☐ to do"),
            "{tasks}"
        );
    }

    #[test]
    fn a_rendering_past_its_deadline_is_given_up() {
        let source = "*a* ".repeat(10_000);
        let past = std::time::Instant::now() - std::time::Duration::from_secs(1);
        assert_eq!(super::render_markdown(&source, past), None);
        let future = std::time::Instant::now() + std::time::Duration::from_secs(60);
        assert!(super::render_markdown(&source, future).is_some());
    }
}
