//! The markdown renderer against the costliest inputs we know, each up to 1 MiB (the most the
//! render endpoint takes): for each, the slowest of three renderings of an answer (markdown,
//! sanitising and code highlighting) beside the goal of 50 ms. Shapes that are quadratic in
//! CommonMark parsers (nesting, brackets, delimiter runs), output amplifiers (wide tables) and
//! the highlighter's own scanning (unclosed strings and comments) are all here.
//!
//! `cargo bench -p aipasta-web --bench markdown` prints the table;
//! `cargo bench -p aipasta-web --bench markdown -- --write-worst FILE` also writes the slowest
//! input, as the render endpoint's JSON body, for `scripts/bench-markdown.sh`.

use std::time::{Duration, Instant};

use aipasta_web::markdown::{MAX_BLOCK_BYTES, MAX_INLINE_MARKS, MAX_SOURCE_BYTES, render_answer};

const GOAL: Duration = Duration::from_millis(50);

/// `unit` repeated to just under the size limit, then `tail`.
fn fill(unit: &str, tail: &str) -> String {
    let times = (MAX_SOURCE_BYTES - tail.len()) / unit.len();
    let mut out = unit.repeat(times);
    out.push_str(tail);
    out
}

/// Lines from `line(i)` until the size limit.
fn lines(line: impl Fn(usize) -> String) -> String {
    let mut out = String::new();
    for i in 0.. {
        let next = line(i);
        if out.len() + next.len() + 1 > MAX_SOURCE_BYTES {
            break;
        }
        out.push_str(&next);
        out.push('\n');
    }
    out
}

/// `unit` repeated into paragraphs just under the block limit, separated by blank lines, until
/// the size limit: what the costly inline patterns look like once single huge paragraphs are
/// refused.
/// `unit` in paragraphs up to just under the markup limit, then ordinary prose to the size
/// limit: the most costly markup a source can hold and still be formatted.
fn under_the_markup_limit(unit: &str) -> String {
    let marks_per_unit = unit
        .bytes()
        .filter(|c| b"[]()<>*_~`|!&\\".contains(c))
        .count();
    let lines_per_unit = unit.matches('\n').count();
    let units_per_block = (MAX_BLOCK_BYTES - 2) / unit.len();
    let mut out = String::new();
    let mut marks = 0;
    loop {
        let cost = units_per_block * (marks_per_unit + lines_per_unit) + 2;
        if marks + cost >= MAX_INLINE_MARKS - 1000 || out.len() + MAX_BLOCK_BYTES > MAX_SOURCE_BYTES
        {
            break;
        }
        out.push_str(&unit.repeat(units_per_block));
        out.push_str("\n\n");
        marks += cost;
    }
    let prose = "Plain words of an ordinary paragraph, nothing marked in it at all. ".repeat(20);
    while out.len() + prose.len() + 2 <= MAX_SOURCE_BYTES {
        out.push_str(&prose);
        out.push_str("\n\n");
    }
    out
}

fn paragraphs(unit: &str) -> String {
    let block = unit.repeat((MAX_BLOCK_BYTES - 2) / unit.len());
    let mut out = String::new();
    while out.len() + block.len() + 2 <= MAX_SOURCE_BYTES {
        out.push_str(&block);
        out.push_str("\n\n");
    }
    out
}

/// The costly inline patterns, each as paragraphs under the block limit.
const INLINE_PATTERNS: &[(&str, &str)] = &[
    ("`[ (](` in 64 KiB paragraphs", "[ (]("),
    ("`[a](<b` in 64 KiB paragraphs", "[a](<b"),
    ("`[` in 64 KiB paragraphs", "["),
    ("`](` in 64 KiB paragraphs", "]("),
    ("`*a **a ***a ` in 64 KiB paragraphs", "*a **a ***a "),
    ("`a`` in 64 KiB paragraphs", "a``"),
    ("`<a` in 64 KiB paragraphs", "<a"),
    ("`<!--` in 64 KiB paragraphs", "<!--"),
    (
        "entities in 64 KiB paragraphs",
        "&amp;&#x1F600;&#128512;&nbsp;",
    ),
    ("`~~a ` in 64 KiB paragraphs", "~~a "),
    ("links in 64 KiB paragraphs", "[x](https://example.com/a) "),
    ("hard line breaks in 64 KiB paragraphs", "a  \n"),
    ("`*` in 64 KiB paragraphs", "*"),
    ("`_a` in 64 KiB paragraphs", "_a"),
];

fn inputs() -> Vec<(&'static str, String)> {
    let half = MAX_SOURCE_BYTES / 2 - 1;
    let realistic = {
        let section = "## Cooking pasta\n\nBring **plenty** of water to a boil, salt it, and add the pasta. \
            See [the guide](https://example.com/guide) and `al dente`.\n\n1. Boil\n   - salt\n   - stir\n2. Drain\n\n\
            > Tip: keep a cup of the water.\n\n```python\ndef cook(minutes: int) -> str:\n    # stir now and then\n    return \"done after %d\" % minutes\n```\n\n\
            | shape | minutes |\n|---|---:|\n| spaghetti | 9 |\n| penne | 11 |\n\n";
        fill(section, "")
    };
    vec![
        ("a realistic long answer", realistic),
        ("nested `- ` (one line)", fill("- ", "a")),
        ("nested `> ` (one line)", fill("> ", "a")),
        ("nested `>` (one line)", fill(">", "a")),
        ("nested `1. `", fill("1. ", "a")),
        (
            "list nested by indentation",
            lines(|i| format!("{}- x", "  ".repeat(i))),
        ),
        ("quote and list alternating", fill("> - ", "a")),
        (
            "lists nested to the limit, repeated",
            lines(|_| format!("{}x", "- ".repeat(32))),
        ),
        (
            "quotes nested to the limit, repeated",
            lines(|_| format!("{}x", "> ".repeat(32))),
        ),
        ("`[ (](` repeated", fill("[ (](", "")),
        ("`[a](<b` repeated", fill("[a](<b", "")),
        ("`[` run", fill("[", "")),
        ("`](` run", fill("](", "")),
        ("`![` run", fill("![", "")),
        (
            "emphasis `*` runs around a letter",
            format!("{}a{}", "*".repeat(half), "*".repeat(half)),
        ),
        (
            "emphasis `_` runs around a letter",
            format!("{}a{}", "_".repeat(half), "_".repeat(half)),
        ),
        ("mixed emphasis `*a **a ***a `", fill("*a **a ***a ", "")),
        (
            "`- - - s - - -`",
            format!("{}s{}", "- ".repeat(half / 2), " -".repeat(half / 2)),
        ),
        ("backtick runs of growing length", {
            let mut out = String::new();
            let mut n = 1;
            while out.len() + 2 * n + 2 < MAX_SOURCE_BYTES {
                out.push_str(&"`".repeat(n));
                out.push('a');
                n += 1;
            }
            out
        }),
        ("`a`` repeated", fill("a``", "")),
        ("autolink openers `<a`", fill("<a", "")),
        ("HTML comment openers `<!--`", fill("<!--", "")),
        ("processing instructions `<?`", fill("<?", "")),
        ("CDATA openers", fill("<![CDATA[", "")),
        ("entities", fill("&amp;&#x1F600;&#128512;&nbsp;", "")),
        ("strikethrough openers `~~a`", fill("~~a ", "")),
        ("link reference definitions and uses", {
            let defs = lines(|i| format!("[r{i}]: https://example.com/{i}"));
            let defs = &defs[..MAX_SOURCE_BYTES / 2];
            let defs = &defs[..defs.rfind('\n').unwrap_or(0)];
            let uses = fill("[r1] ", "");
            format!("{defs}\n\n{}", &uses[..MAX_SOURCE_BYTES / 2 - 4])
        }),
        ("a table 128 columns wide over one-pipe rows", {
            let header = format!("{}|\n{}|\n", "| a ".repeat(128), "|---".repeat(128));
            format!(
                "{header}{}",
                fill("|\n", "")[..MAX_SOURCE_BYTES - header.len()].to_owned()
            )
        }),
        ("a table 2 columns wide, a million cells", {
            let header = "| a | b |\n|---|---|\n";
            format!(
                "{header}{}",
                &fill("|x\n", "")[..MAX_SOURCE_BYTES - header.len()]
            )
        }),
        ("task list items", fill("- [ ] a\n", "")),
        (
            "code: unclosed strings",
            format!(
                "```rust\n{}\n```",
                &fill("\"a '", "")[..MAX_SOURCE_BYTES - 20]
            ),
        ),
        (
            "code: quotes escaping each other `\"\\`",
            format!("```js\n{}\n```", &fill("\"\\", "")[..MAX_SOURCE_BYTES - 20]),
        ),
        (
            "code: unclosed block comments",
            format!("```c\n{}\n```", &fill("/* a ", "")[..MAX_SOURCE_BYTES - 20]),
        ),
        (
            "code: one long line of words",
            format!(
                "```python\n{}\n```",
                &fill("def if else x1 ", "")[..MAX_SOURCE_BYTES - 20]
            ),
        ),
        ("many code fences", fill("```\nx\n```\n", "")),
        ("unclosed fences", fill("```\n", "")),
        ("hard line breaks", fill("a  \n", "")),
        ("setext headings", fill("a\n=\n", "")),
        ("one long word", fill("a", "")),
        ("multibyte text", fill("é中😀", "")),
        (
            "task lists in 100-item paragraphs",
            fill(&format!("{}\n", "- [ ] a\n".repeat(100)), ""),
        ),
        (
            "tables of 1,000 rows",
            fill(
                &format!("| a | b |\n|---|---|\n{}\n", "| *x* | `y` |\n".repeat(1000)),
                "",
            ),
        ),
        ("setext headings", fill("a\n=\n\n", "")),
        (
            "short paragraphs of links and emphasis",
            fill(
                "A [link](https://example.com) and *em* and **strong** and `code`.\n\n",
                "",
            ),
        ),
    ]
    .into_iter()
    .chain(
        INLINE_PATTERNS
            .iter()
            .map(|(name, unit)| (*name, paragraphs(unit))),
    )
    .chain(INLINE_PATTERNS.iter().map(|(name, unit)| {
        let name = name.replace("in 64 KiB paragraphs", "up to the markup limit, then prose");
        (&*name.leak(), under_the_markup_limit(unit))
    }))
    .collect()
}

/// "formatted", or "plain text: " and the reason the renderer gave.
fn shown_as(html: &str) -> String {
    const NOTE: &str = "<p class=\"md-note\">Shown as plain text: ";
    match html.strip_prefix(NOTE) {
        Some(rest) => format!("plain text: {}", rest.split('<').next().unwrap_or("")),
        None => "formatted".to_owned(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let write_worst = args
        .iter()
        .position(|a| a == "--write-worst")
        .and_then(|i| args.get(i + 1).cloned());
    println!("| input | bytes | slowest of 3 | shown as | goal |");
    println!("|---|---|---|---|---|");
    let mut worst: Option<(Duration, &str, String)> = None;
    for (name, source) in inputs() {
        assert!(source.len() <= MAX_SOURCE_BYTES, "{name} is too long");
        let mut shown = String::new();
        let slowest = (0..3)
            .map(|_| {
                let started = Instant::now();
                let html = render_answer(std::hint::black_box(&source));
                let took = started.elapsed();
                shown = shown_as(&html);
                took
            })
            .max()
            .unwrap_or_default();
        let verdict = if slowest < GOAL { "met" } else { "MISSED" };
        println!(
            "| {name} | {} | {:.1} ms | {shown} | < 50 ms: {verdict} |",
            source.len(),
            slowest.as_secs_f64() * 1000.0
        );
        if worst.as_ref().is_none_or(|(time, _, _)| slowest > *time) {
            worst = Some((slowest, name, source));
        }
    }
    if let Some((time, name, source)) = worst {
        println!(
            "\nslowest: {name}, {:.1} ms ({})",
            time.as_secs_f64() * 1000.0,
            if time < GOAL {
                "goal met"
            } else {
                "goal MISSED"
            }
        );
        if let Some(path) = write_worst {
            let body = serde_json::json!({ "markdown": source }).to_string();
            std::fs::write(&path, body).unwrap_or_else(|e| panic!("writing {path}: {e}"));
            println!("wrote the slowest input to {path}");
        }
    }
}
