//! What markdown is too costly to parse. CommonMark parsers, pulldown-cmark included, take time
//! that grows with the square of nesting depth (each line re-walks every open container), so a
//! few hundred kilobytes of nested `- ` or `> ` take seconds to minutes. This pre-pass is one
//! linear walk over the source that refuses what no real answer needs: more than
//! [`MAX_SOURCE_BYTES`], containers nested deeper than [`MAX_NESTING`] (by markers or by
//! indentation), a block longer than [`MAX_BLOCK_BYTES`], or tables whose short rows would be
//! padded with more than
//! [`MAX_TABLE_PADDING`] empty cells (every row is padded to the header's width, so a wide
//! header over many one-character rows multiplies the output). What it refuses is shown as
//! plain text instead.

/// Markdown longer than this is shown as plain text (and refused by the render endpoint).
pub const MAX_SOURCE_BYTES: usize = 1 << 20;
/// Block containers (quotes, list items) deeper than this.
pub const MAX_NESTING: usize = 32;
/// Bytes between two blank lines (code fences aside). The parser reads each paragraph's inline
/// markup in one go, before the first of its events, so a long paragraph of costly patterns
/// (`<a<a…`, runs of `*`) cannot be stopped by the rendering deadline; this bounds that step.
/// Lists and tables without blank lines count as one block here.
pub const MAX_BLOCK_BYTES: usize = 64 << 10;
/// Characters of inline markup (brackets, emphasis, code, `<`, `&`, pipes…) and lines,
/// outside code fences. The parser's first pass handles them all before the first event, where the
/// rendering deadline cannot stop it (about 35–65 ns each when they are dense), so their
/// number bounds that pass to a few milliseconds. A long answer has a few percent of them.
pub const MAX_INLINE_MARKS: usize = 150_000;
/// What a line outside code fences counts towards [`MAX_INLINE_MARKS`]: the block parser's
/// work per line (hundreds of thousands of one-word headings or list items cost as much as
/// dense inline markup). A million bytes of ordinary prose is about 25,000 lines.
const LINE_MARKS: usize = 1;
/// Empty cells the parser would add to pad tables' short rows.
pub const MAX_TABLE_PADDING: usize = 100_000;

/// Why a source is shown as plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooCostly {
    Long,
    Deep,
    Wide,
    LongBlock,
    Marked,
    /// Not checked here: a rendering that missed its time budget (`offload.rs`).
    Slow,
}

impl TooCostly {
    /// A note for the reader, above the plain text.
    pub fn note(self) -> &'static str {
        match self {
            TooCostly::Long => "Shown as plain text: too long to format.",
            TooCostly::Deep => "Shown as plain text: nested too deeply to format.",
            TooCostly::Wide => "Shown as plain text: a table too wide to format.",
            TooCostly::Marked => "Shown as plain text: too much markup to format.",
            TooCostly::LongBlock => {
                "Shown as plain text: a paragraph, list or table too long to format."
            }
            TooCostly::Slow => "Shown as plain text: formatting took too long.",
        }
    }
}

/// `Ok` when `source` is cheap to parse.
pub fn check(source: &str) -> Result<(), TooCostly> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(TooCostly::Long);
    }
    // Columns of the table being read (0 outside one), and the padding counted so far.
    let mut columns = 0;
    let mut padding = 0usize;
    // Bytes since the last blank line outside code fences, and the fence we are in.
    let mut block = 0usize;
    let mut fence: Option<Fence> = None;
    // Characters the inline parser must consider, outside code fences.
    let mut marks = 0usize;
    for line in source.split('\n') {
        let line = line.as_bytes();
        if nesting(line) > MAX_NESTING {
            return Err(TooCostly::Deep);
        }
        if let Some(open) = &fence {
            if open.covers(line) {
                if open.is_closed_by(line) {
                    fence = None;
                }
                continue;
            }
            fence = None;
        }
        // Each line costs the block parser about as much as a few marks.
        marks += LINE_MARKS + line.iter().filter(|c| is_inline_mark(**c)).count();
        if marks > MAX_INLINE_MARKS {
            return Err(TooCostly::Marked);
        }
        if let Some(opened) = Fence::opened_by(line) {
            fence = Some(opened);
            block = 0;
        } else if line.iter().all(u8::is_ascii_whitespace) {
            block = 0;
        } else {
            block += line.len() + 1;
            if block > MAX_BLOCK_BYTES {
                return Err(TooCostly::LongBlock);
            }
        }
        if let Some(width) = delimiter_row_columns(line) {
            columns = width;
        } else if line.iter().all(u8::is_ascii_whitespace) {
            columns = 0;
        } else if columns > 0 {
            let cells = line.iter().filter(|c| **c == b'|').count() + 1;
            padding += columns.saturating_sub(cells);
            if padding > MAX_TABLE_PADDING {
                return Err(TooCostly::Wide);
            }
        }
    }
    Ok(())
}

fn is_inline_mark(c: u8) -> bool {
    matches!(
        c,
        b'[' | b']'
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'*'
            | b'_'
            | b'~'
            | b'`'
            | b'|'
            | b'!'
            | b'&'
            | b'\\'
    )
}

/// A code fence (three or more backticks or tildes) opened at the top level or inside a list
/// item, as far as it keeps code away from the inline parser. Judged conservatively: a fence
/// opened behind `>` is not tracked, and a line indented less than the fence ends it here even
/// where the parser would keep it, so a misjudged fence can only make a block count as
/// longer, never hide one.
struct Fence {
    marker: u8,
    length: usize,
    indent: usize,
}

impl Fence {
    fn opened_by(line: &[u8]) -> Option<Fence> {
        let indent = line.iter().take_while(|c| **c == b' ').count();
        let rest = &line[indent..];
        let marker = *rest.first().filter(|c| matches!(c, b'`' | b'~'))?;
        let length = rest.iter().take_while(|c| **c == marker).count();
        // A backtick fence's info string may not hold a backtick (else it is inline code).
        let info_ok = marker == b'~' || !rest[length..].contains(&b'`');
        (length >= 3 && info_ok).then_some(Fence {
            marker,
            length,
            indent,
        })
    }

    /// Whether `line` stays inside the fence: blank, or indented at least as far.
    fn covers(&self, line: &[u8]) -> bool {
        line.iter().all(u8::is_ascii_whitespace)
            || line.iter().take_while(|c| **c == b' ').count() >= self.indent
    }

    fn is_closed_by(&self, line: &[u8]) -> bool {
        let rest = line.trim_ascii_start();
        let run = rest.iter().take_while(|c| **c == self.marker).count();
        run >= self.length && rest[run..].iter().all(u8::is_ascii_whitespace)
    }
}

/// An upper bound of the containers `line` opens: each `>` and each list marker (`-`, `+`,
/// `*`, `1.`, `1)`) at the start of the line or after another container's marker, and, on a
/// line that has one, each two columns of indentation before it (a nested item needs at least
/// two more than its parent). A line without a marker opens nothing: it only continues
/// containers some earlier line opened, whose depth was checked there. Counted over the line's
/// leading part only, so the whole check stays linear.
fn nesting(line: &[u8]) -> usize {
    let mut depth = 0;
    let mut columns = 0;
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            b' ' => columns += 1,
            b'\t' => columns += 4,
            b'>' => depth += 1,
            b'-' | b'+' | b'*' if line.get(i + 1).is_none_or(|c| *c == b' ' || *c == b'\t') => {
                depth += 1
            }
            b'0'..=b'9' => {
                let digits = line[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let after = line.get(i + digits);
                let marker = digits <= 9 && matches!(after, Some(b'.' | b')'));
                let spaced = line
                    .get(i + digits + 1)
                    .is_none_or(|c| *c == b' ' || *c == b'\t');
                if !(marker && spaced) {
                    break;
                }
                depth += 1;
                i += digits;
            }
            _ => break,
        }
        i += 1;
    }
    if depth == 0 { 0 } else { depth + columns / 2 }
}

/// The columns a table's delimiter row (`| --- | :-: |`) gives, at most: one more than its
/// pipes. `None` for any other line (one without a pipe is a heading underline or a rule).
fn delimiter_row_columns(line: &[u8]) -> Option<usize> {
    let mut pipes = 0;
    let mut dashes = false;
    for c in line {
        match c {
            b'|' => pipes += 1,
            b'-' => dashes = true,
            b':' | b' ' | b'\t' | b'>' => {}
            _ => return None,
        }
    }
    (dashes && pipes > 0).then_some(pipes + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_answers_pass() {
        let answer = "# Plan\n\n1. Boil water\n   - salt it\n     - a lot\n2. Cook\n\n> a quote\n> > nested\n\n```python\ndef f():\n        return 1\n```\n\n| a | b |\n|---|:-:|\n| 1 | 2 |\n";
        assert_eq!(check(answer), Ok(()));
    }

    #[test]
    fn costly_shapes_are_caught() {
        assert_eq!(check(&"- ".repeat(40)), Err(TooCostly::Deep));
        assert_eq!(check(&"> ".repeat(40)), Err(TooCostly::Deep));
        assert_eq!(check(&">".repeat(40)), Err(TooCostly::Deep));
        assert_eq!(check(&"1. ".repeat(40)), Err(TooCostly::Deep));
        let indented: String = (0..100)
            .map(|i| format!("{}- x\n", "  ".repeat(i)))
            .collect();
        assert_eq!(check(&indented), Err(TooCostly::Deep));
        let header = format!("{}|\n{}|\n", "| a ".repeat(200), "|---".repeat(200));
        assert_eq!(check(&header), Ok(()), "a wide header alone is linear");
        let padded = format!("{header}{}", "|\n".repeat(1000));
        assert_eq!(check(&padded), Err(TooCostly::Wide));
        let long_table = format!("| a | b |\n|---|---|\n{}", "| x | y |\n".repeat(5_000));
        assert_eq!(check(&long_table), Ok(()), "full rows add no padding");
        assert_eq!(
            check(&"a".repeat(MAX_SOURCE_BYTES + 1)),
            Err(TooCostly::Long)
        );
        let marked = "[x](y)\n\n".repeat(MAX_INLINE_MARKS / 4 + 1);
        assert_eq!(check(&marked), Err(TooCostly::Marked));
        let fenced = format!(
            "```\n{}```\n",
            "f(a[i]) && g(<b>);\n".repeat(MAX_INLINE_MARKS / 4)
        );
        assert_eq!(
            check(&fenced),
            Ok(()),
            "code in fences is not inline markup"
        );
        let paragraph = "<a".repeat(MAX_BLOCK_BYTES);
        assert_eq!(check(&paragraph), Err(TooCostly::LongBlock));
        // A fence the parser would not see as one hides nothing: inline code (a backtick in
        // the info string), a fence behind `>`, a list item's fence left by an unindented line.
        for opener in ["```a`\n", "> ```\n", "- x\n  ```\n"] {
            assert_eq!(
                check(&format!("{opener}{paragraph}")),
                Err(TooCostly::LongBlock),
                "{opener:?}"
            );
        }
    }

    #[test]
    fn long_code_in_fences_and_blank_separated_paragraphs_pass() {
        let code = "let x = [1, 2, 3];\n".repeat(MAX_BLOCK_BYTES / 10);
        assert_eq!(check(&format!("```rust\n{code}```\n")), Ok(()));
        assert_eq!(
            check(&format!("~~~\n{code}")),
            Ok(()),
            "unclosed at the end"
        );
        let nested = format!(
            "1. Run:\n\n   ```sh\n{}   ```\n",
            "   ls -l\n".repeat(30_000)
        );
        assert_eq!(check(&nested), Ok(()), "a list item's fence");
        let paragraphs = "A sentence of an ordinary paragraph.\n\n".repeat(20_000);
        assert_eq!(check(&paragraphs), Ok(()));
        // After a fence closes, counting starts again.
        let after = format!(
            "```\n{code}```\n{}",
            "word ".repeat(MAX_BLOCK_BYTES / 5 + 1)
        );
        assert_eq!(check(&after), Err(TooCostly::LongBlock));
    }

    #[test]
    fn things_that_only_look_like_markers_do_not_count() {
        // Deeply indented code without markers opens nothing.
        let code: String = (0..200)
            .map(|i| format!("{}x = {i}\n", "  ".repeat(i)))
            .collect();
        assert_eq!(check(&format!("```\n{code}```\n")), Ok(()));
        // Emphasis, negative numbers and a long horizontal rule are not containers.
        assert_eq!(check(&format!("{}\n", "*a* ".repeat(100))), Ok(()));
        assert_eq!(check(&"-1 -2 -3 ".repeat(100)), Ok(()));
        assert_eq!(check(&"-".repeat(10_000)), Ok(()));
        assert_eq!(check(&"1234567890. not a marker ".repeat(10)), Ok(()));
    }
}
