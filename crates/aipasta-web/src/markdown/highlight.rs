//! A tiny syntax highlighter of our own for code blocks in model output: keywords, strings,
//! comments and numbers of the common languages, marked with `tok-*` classes. It runs on HTML
//! that `markdown::render_markdown` already sanitised, touching only the text inside
//! `<pre><code class="language-…">`, and writes that text back escaped, so it cannot add markup
//! beyond its own `<span class="tok-…">`. Linear, and stops colouring at the rendering's
//! deadline or once a block's HTML has grown to [`MAX_GROWTH`] times its code.

use std::time::Instant;

const KEYWORDS: &[&str] = &[
    "as",
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "def",
    "default",
    "defer",
    "del",
    "do",
    "elif",
    "else",
    "enum",
    "except",
    "export",
    "extends",
    "false",
    "finally",
    "fn",
    "for",
    "from",
    "func",
    "function",
    "go",
    "if",
    "impl",
    "import",
    "in",
    "interface",
    "is",
    "lambda",
    "let",
    "loop",
    "match",
    "mod",
    "mut",
    "new",
    "nil",
    "None",
    "not",
    "null",
    "or",
    "and",
    "package",
    "pass",
    "private",
    "protected",
    "pub",
    "public",
    "raise",
    "return",
    "self",
    "Self",
    "static",
    "struct",
    "super",
    "switch",
    "this",
    "throw",
    "trait",
    "True",
    "False",
    "true",
    "try",
    "type",
    "typeof",
    "undefined",
    "use",
    "var",
    "void",
    "where",
    "while",
    "with",
    "yield",
    "select",
    "insert",
    "update",
    "delete",
    "SELECT",
    "FROM",
    "WHERE",
    "INSERT",
    "UPDATE",
    "DELETE",
    "JOIN",
    "int",
    "char",
    "bool",
    "string",
    "float",
    "double",
    "long",
    "unsigned",
    "echo",
    "then",
    "fi",
    "done",
    "esac",
    "local",
    "unsafe",
    "dyn",
    "ref",
    "crate",
    "of",
    "instanceof",
];

/// Which comment styles a language uses.
struct Syntax {
    slash: bool,
    hash: bool,
    dash: bool,
}

fn syntax(language: &str) -> Syntax {
    let language = language.to_ascii_lowercase();
    let hash = matches!(
        language.as_str(),
        "python"
            | "py"
            | "sh"
            | "bash"
            | "shell"
            | "zsh"
            | "ruby"
            | "rb"
            | "yaml"
            | "yml"
            | "toml"
            | "r"
            | "perl"
            | "dockerfile"
            | "makefile"
            | "console"
    );
    let dash = matches!(language.as_str(), "sql" | "lua" | "haskell" | "hs");
    Syntax {
        slash: !hash && !dash || language == "sql",
        hash,
        dash,
    }
}

/// Highlights every `<pre><code class="language-…">` block of sanitised `html`. Past
/// `deadline` the rest of the code is left as it is (escaped, without colours).
pub fn highlight(html: &str, deadline: Instant) -> String {
    const OPEN: &str = "<pre><code class=\"language-";
    let mut out = String::with_capacity(html.len() + html.len() / 4);
    let mut rest = html;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(quote) = after.find("\">") else {
            break;
        };
        let language = &after[..quote];
        let body_start = quote + 2;
        let Some(end) = after[body_start..].find("</code></pre>") else {
            break;
        };
        let body = &after[body_start..body_start + end];
        out.push_str(&rest[..start + OPEN.len() + body_start]);
        out.push_str(&tokens(&unescape(body), &syntax(language), deadline));
        out.push_str("</code></pre>");
        rest = &after[body_start + end + "</code></pre>".len()..];
    }
    out.push_str(rest);
    out
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let Some(semi) = tail.find(';').filter(|s| *s <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(ch) => {
                out.push(ch);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape_into(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
}

fn span(out: &mut String, class: &str, text: &str) {
    out.push_str("<span class=\"tok-");
    out.push_str(class);
    out.push_str("\">");
    escape_into(out, text);
    out.push_str("</span>");
}

/// How many times its size a code block's coloured HTML may grow before the rest is left plain.
const MAX_GROWTH: usize = 3;

fn tokens(code: &str, syntax: &Syntax, deadline: Instant) -> String {
    const CHECK_EVERY: usize = 4096;
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len() * 2);
    let mut i = 0;
    let mut steps = 0usize;
    // Where the last unclosed string of each quote (", ', `) gave up: a quote before that
    // point cannot close either, so it is not scanned again (`"\"\"\"…` would be quadratic).
    let mut unclosed_until = [0usize; 3];
    let text = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
    let line_end = |from: usize| {
        chars[from..]
            .iter()
            .position(|c| *c == '\n')
            .map_or(chars.len(), |p| from + p)
    };
    // Colours add ~27 bytes a token; dense code (`1 1 1 …`) would grow fourteenfold.
    let max_len = code.len().saturating_mul(MAX_GROWTH);
    while i < chars.len() {
        if steps.is_multiple_of(CHECK_EVERY) && (Instant::now() > deadline || out.len() > max_len) {
            escape_into(&mut out, &text(i, chars.len()));
            break;
        }
        steps += 1;
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let comment_start = (syntax.slash && c == '/' && next == Some('/'))
            || (syntax.hash && c == '#')
            || (syntax.dash && c == '-' && next == Some('-'));
        if comment_start {
            let end = line_end(i);
            span(&mut out, "c", &text(i, end));
            i = end;
        } else if syntax.slash && c == '/' && next == Some('*') {
            let end = (i + 2..chars.len().saturating_sub(1))
                .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                .map_or(chars.len(), |j| j + 2);
            span(&mut out, "c", &text(i, end));
            i = end;
        } else if c == '"' || c == '\'' || c == '`' {
            // A string ends at its closing quote; single quotes stay on one line (Rust
            // lifetimes and apostrophes are not strings).
            let kind = match c {
                '"' => 0,
                '\'' => 1,
                _ => 2,
            };
            let mut j = i + 1;
            let mut closed = false;
            if i < unclosed_until[kind] {
                j = chars.len();
            }
            while j < chars.len() {
                if chars[j] == '\\' {
                    j += 2;
                    continue;
                }
                if chars[j] == c {
                    closed = true;
                    break;
                }
                if chars[j] == '\n' && c != '`' {
                    break;
                }
                j += 1;
            }
            if closed {
                span(&mut out, "s", &text(i, j + 1));
                i = j + 1;
            } else {
                unclosed_until[kind] = unclosed_until[kind].max(j.min(chars.len()));
                escape_into(&mut out, &c.to_string());
                i += 1;
            }
        } else if c.is_ascii_digit() {
            let mut j = i + 1;
            while j < chars.len()
                && (chars[j].is_ascii_alphanumeric() || chars[j] == '.' || chars[j] == '_')
            {
                j += 1;
            }
            span(&mut out, "n", &text(i, j));
            i = j;
        } else if c.is_alphabetic() || c == '_' {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let word = text(i, j);
            if KEYWORDS.contains(&word.as_str()) {
                span(&mut out, "k", &word);
            } else {
                escape_into(&mut out, &word);
            }
            i = j;
        } else {
            escape_into(&mut out, &c.to_string());
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::markdown::render_answer as render;

    #[test]
    fn past_the_deadline_code_stays_escaped_without_colours() {
        let html = "<pre><code class=\"language-rust\">fn x() { &lt;b&gt; }\n".to_owned()
            + &"let y = 1;\n".repeat(1000)
            + "</code></pre>";
        let late = super::highlight(&html, Instant::now() - Duration::from_secs(1));
        assert!(late.contains("fn x() { &lt;b&gt; }"), "{}", &late[..200]);
        assert!(!late.contains("tok-"), "no colours once late");
        let on_time = super::highlight(&html, Instant::now() + Duration::from_secs(60));
        assert!(on_time.contains(r#"<span class="tok-k">fn</span>"#));
    }

    #[test]
    fn dense_code_stops_being_coloured_once_it_has_grown_threefold() {
        let code = "1 ".repeat(50_000);
        let html = format!("<pre><code class=\"language-c\">{code}</code></pre>");
        let out = super::highlight(&html, Instant::now() + Duration::from_secs(60));
        assert!(out.len() < html.len() * 3 + 4096 * 40, "{}", out.len());
        assert!(out.contains("tok-n") && out.ends_with("1 1 </code></pre>"));
    }

    #[test]
    fn strings_that_never_close_are_not_scanned_again() {
        // Each quote's scan skips the escaped ones to the end of the line: once per line now.
        let code = format!("```js\n{}\n```", "\"\\".repeat(20_000));
        let html = render(&code);
        assert!(!html.contains("tok-s"), "nothing closes");
        assert_eq!(
            html.matches("&quot;").count(),
            20_000,
            "every quote is kept"
        );
        let closed = render("```js\nlet a = \"x\\\"y\"; let b = 'z';\n```");
        assert!(
            closed.contains(r#"<span class="tok-s">&quot;x\&quot;y&quot;</span>"#),
            "{closed}"
        );
    }

    #[test]
    fn code_blocks_get_token_classes_and_stay_escaped() {
        let html = render("```rust\nfn main() { let s = \"<b>\"; // hi\n  42 }\n```");
        assert!(html.contains(r#"<span class="tok-k">fn</span>"#), "{html}");
        assert!(
            html.contains(r#"<span class="tok-s">&quot;&lt;b&gt;&quot;</span>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<span class="tok-c">// hi</span>"#),
            "{html}"
        );
        assert!(html.contains(r#"<span class="tok-n">42</span>"#), "{html}");
        assert!(!html.contains("<b>"));
        let python = render("```python\n# note\ndef f(): return 'x'\n```");
        assert!(
            python.contains(r#"<span class="tok-c"># note</span>"#),
            "{python}"
        );
        let plain = render("```\nlet x = 1;\n```");
        assert!(!plain.contains("tok-"), "no language, no highlighting");
        let inline = render("Text `fn` here.");
        assert!(!inline.contains("tok-"));
    }
}
