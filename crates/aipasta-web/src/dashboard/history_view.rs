//! What the history pages show, as words: the filter form's choices and values, one row of the
//! table, the notices a delete leaves, and the small formatters (UTC times, money, tokens,
//! durations, labels) both pages share. No I/O here: `history_pages.rs` reads, this writes.

use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

use aipasta_core::money::{Nanos, human_usd};
use aipasta_core::params::SAMPLING;
use aipasta_engine::Source;
use aipasta_engine::prepare::Mode;
use aipasta_store::generations::{HISTORY_EXCERPT_CHARS, HistoryItem, HistorySort, ModelUse};

use super::filters::BadFilter;

/// The filter form's fields, in the query string's names: what a link keeps of the filters.
pub const FILTER_KEYS: [&str; 11] = [
    "q", "model", "mode", "source", "status", "from", "to", "sort", "order", "group", "limit",
];
/// Where a list is: kept by a delete's way back, dropped by the filter form.
pub const POSITION_KEYS: [&str; 2] = ["cursor", "page"];
const STATUSES: [&str; 6] = [
    "pending",
    "success",
    "error",
    "timeout",
    "cancelled",
    "interrupted",
];
/// How much of a prompt a row of the table shows.
const ROW_EXCERPT_CHARS: usize = 100;

/// One `<option>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choice(value: &str, label: &str, current: &str) -> Choice {
    Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected: value == current,
    }
}

/// The query string's last non-blank value of `key` (an HTML form sends every field).
pub fn value_of<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .rev()
        .find(|(k, v)| k == key && !v.trim().is_empty())
        .map_or("", |(_, v)| v.trim())
}

/// The filter form as the query string filled it in, with the message of a refused value
/// beside its field.
pub struct FilterForm {
    pub q: String,
    pub models: Vec<Choice>,
    pub modes: Vec<Choice>,
    pub sources: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub from: String,
    pub to: String,
    pub sorts: Vec<Choice>,
    pub orders: Vec<Choice>,
    /// One row a conversation (the default) or every turn.
    pub groups: Vec<Choice>,
    pub limit: String,
    pub error: Option<BadFilter>,
}

impl FilterForm {
    /// `used`: the account's models (deleted ones, which cannot be filtered by, left out).
    pub fn new(pairs: &[(String, String)], used: &[ModelUse], error: Option<BadFilter>) -> Self {
        let model = value_of(pairs, "model");
        let mut models = vec![choice("", "Any model", model)];
        let mut found = model.is_empty();
        for used in used {
            let Some(slug) = &used.slug else { continue };
            let selected = model == slug || model == used.model_id;
            found |= selected;
            models.push(Choice {
                value: slug.clone(),
                label: used.name.clone().unwrap_or_else(|| slug.clone()),
                selected,
            });
        }
        if !found {
            // A model named in the address but not in the list (never used, or named by id):
            // kept, so that applying other filters does not drop it.
            models.push(choice(model, model, model));
        }
        let mode = value_of(pairs, "mode");
        let source = value_of(pairs, "source");
        let status = value_of(pairs, "status");
        let sort = value_of(pairs, "sort");
        let order = value_of(pairs, "order");
        let group = match value_of(pairs, "group") {
            "" => "conversation",
            group => group,
        };
        FilterForm {
            q: value_of(pairs, "q").to_owned(),
            models,
            modes: std::iter::once(choice("", "Any mode", mode))
                .chain(
                    Mode::ALL
                        .iter()
                        .map(|m| choice(m.as_str(), mode_label(m.as_str()), mode)),
                )
                .collect(),
            sources: std::iter::once(choice("", "Any source", source))
                .chain(
                    Source::ALL
                        .iter()
                        .map(|s| choice(s.as_str(), source_label(s.as_str()), source)),
                )
                .collect(),
            statuses: std::iter::once(choice("", "Any status", status))
                .chain(
                    STATUSES
                        .iter()
                        .map(|s| choice(s, status_words(s).0, status)),
                )
                .collect(),
            from: value_of(pairs, "from").to_owned(),
            to: value_of(pairs, "to").to_owned(),
            sorts: HistorySort::ALL
                .iter()
                .map(|s| {
                    let mut c = choice(s.as_str(), sort_label(*s), sort);
                    c.selected |= sort.is_empty() && *s == HistorySort::Time;
                    c
                })
                .collect(),
            orders: vec![
                choice(
                    "desc",
                    "Descending",
                    if order.is_empty() { "desc" } else { order },
                ),
                choice("asc", "Ascending", order),
            ],
            groups: vec![
                choice("conversation", "One row a conversation", group),
                choice("turn", "Every turn", group),
            ],
            limit: value_of(pairs, "limit").to_owned(),
            error,
        }
    }

    /// The message for `field`, or "" (the template shows it beside that field).
    pub fn error_of(&self, field: &str) -> &str {
        self.error
            .as_ref()
            .filter(|e| e.field == field)
            .map_or("", |e| e.message.as_str())
    }

    /// A refused value the form has no field for (a stale cursor, a page number).
    pub fn general_error(&self) -> &str {
        self.error
            .as_ref()
            .filter(|e| !FILTER_KEYS.contains(&e.field))
            .map_or("", |e| e.message.as_str())
    }
}

/// The query string of `pairs` restricted to `keys` (blank values dropped), with `extra`
/// appended: `?a=1&b=2`, or "" when nothing is left.
pub fn query_of(pairs: &[(String, String)], keys: &[&str], extra: &[(&str, &str)]) -> String {
    let mut kept: Vec<(&str, &str)> = keys
        .iter()
        .filter_map(|key| {
            let value = value_of(pairs, key);
            (!value.is_empty()).then_some((*key, value))
        })
        .collect();
    kept.extend_from_slice(extra);
    if kept.is_empty() {
        return String::new();
    }
    format!("?{}", serde_urlencoded::to_string(kept).unwrap_or_default())
}

/// This list's address: its filters and its position, without notices.
pub fn list_href(pairs: &[(String, String)]) -> String {
    let keys: Vec<&str> = FILTER_KEYS.iter().chain(&POSITION_KEYS).copied().collect();
    format!("/dashboard/history{}", query_of(pairs, &keys, &[]))
}

/// Where a delete form goes back to: a `/dashboard/history` address with its filters and
/// position, or the first page for anything else (no way out of the history through it).
pub fn safe_return(return_to: &str) -> String {
    let (path, query) = return_to.split_once('?').unwrap_or((return_to, ""));
    if path != "/dashboard/history" {
        return "/dashboard/history".to_owned();
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    list_href(&pairs)
}

/// The notice the list shows after a delete, from the numbers it was sent back with.
pub fn delete_notice(pairs: &[(String, String)]) -> Option<String> {
    match value_of(pairs, "notice") {
        "none-selected" => {
            return Some("Nothing was selected: tick the generations to delete first.".into());
        }
        "too-many" => return Some("Select at most 1,000 generations at a time.".into()),
        _ => {}
    }
    let count = |key| value_of(pairs, key).parse::<u64>().ok();
    let (deleted, kept, missing) = (count("deleted"), count("kept"), count("missing"));
    if deleted.is_none() && kept.is_none() && missing.is_none() {
        return None;
    }
    let mut parts = Vec::new();
    match deleted.unwrap_or(0) {
        0 => parts.push("Nothing was deleted.".to_owned()),
        1 => parts.push("Deleted 1 generation.".to_owned()),
        n => parts.push(format!("Deleted {n} generations.")),
    }
    match kept.unwrap_or(0) {
        0 => {}
        1 => parts.push("1 is still running and was kept: stop it first.".to_owned()),
        n => parts.push(format!(
            "{n} are still running and were kept: stop them first."
        )),
    }
    match missing.unwrap_or(0) {
        0 => {}
        n => parts.push(format!("{n} could not be found.")),
    }
    parts.push("What they used still counts in your usage.".to_owned());
    Some(parts.join(" "))
}

/// One generation in the table.
pub struct Row {
    pub id: String,
    pub href: String,
    pub time: String,
    pub iso: String,
    pub model: String,
    /// The model's page, while the model exists.
    pub model_href: Option<String>,
    pub mode: &'static str,
    pub source: &'static str,
    pub excerpt: String,
    /// Part of a chat conversation: its page shows the whole conversation.
    pub conversation: bool,
    pub status: &'static str,
    pub tone: &'static str,
    pub error_code: Option<String>,
    pub tokens: String,
    pub cost: String,
    pub duration: String,
}

impl Row {
    pub fn of(item: HistoryItem) -> Row {
        let (status, tone) = status_words(&item.status);
        Row {
            href: format!("/dashboard/history/{}", item.id),
            time: when(item.created_at),
            iso: iso(item.created_at),
            model: item
                .model_name
                .clone()
                .or_else(|| item.model_id.clone())
                .unwrap_or_else(|| "A deleted model".to_owned()),
            model_href: item
                .model_slug
                .as_ref()
                .map(|slug| format!("/models/{slug}")),
            mode: mode_label(&item.mode),
            source: source_label(&item.source),
            excerpt: excerpt(&item.prompt_excerpt),
            conversation: item.session_id.is_some(),
            status,
            tone,
            error_code: item.error_code.filter(|_| tone == "bad"),
            tokens: thousands(item.total_tokens),
            cost: money(item.cost_nanos),
            duration: item.duration_ms.map_or_else(|| "—".to_owned(), duration),
            id: item.id,
        }
    }
}

/// A prompt's start on one line, shortened.
fn excerpt(prompt: &str) -> String {
    let text = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return "(no prompt)".to_owned();
    }
    let mut short: String = text.chars().take(ROW_EXCERPT_CHARS).collect();
    let cut = text.chars().count() > ROW_EXCERPT_CHARS
        || prompt.chars().count() >= HISTORY_EXCERPT_CHARS as usize;
    if cut {
        short.push('…');
    }
    short
}

/// `2025-01-31 13:05` (UTC).
pub fn when(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
                .ok()
        })
        .unwrap_or_default()
}

/// `2025-01-31T13:05:09Z`, for `<time datetime>`.
pub fn iso(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// `$0.000123`, as the playground and settings write money.
pub fn money(nanos: i64) -> String {
    format!("${}", human_usd(Nanos(nanos).usd()))
}

/// `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `340 ms` or `1.2 s`.
pub fn duration(ms: i64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

pub fn mode_label(mode: &str) -> &'static str {
    match mode {
        "chat" => "Chat",
        "text" => "Text",
        "code" => "Code",
        "image" => "Image",
        "summarize" => "Summarize",
        "translate" => "Translate",
        "embed" => "Embed",
        _ => "Other",
    }
}

pub fn source_label(source: &str) -> &'static str {
    match source {
        "playground" => "Playground",
        "api" => "API",
        "v1" => "/v1",
        "compare" => "Compare",
        "batch" => "Batch",
        _ => "Other",
    }
}

/// A status in words and its tone (`ok`, `bad`, `busy`) for the badge's colour.
pub fn status_words(status: &str) -> (&'static str, &'static str) {
    match status {
        "success" => ("Success", "ok"),
        "pending" => ("Running", "busy"),
        "cancelled" => ("Cancelled", "busy"),
        "timeout" => ("Timed out", "bad"),
        "interrupted" => ("Interrupted", "bad"),
        _ => ("Error", "bad"),
    }
}

fn sort_label(sort: HistorySort) -> &'static str {
    match sort {
        HistorySort::Time => "Time",
        HistorySort::Cost => "Cost",
        HistorySort::Tokens => "Tokens",
        HistorySort::Duration => "Duration",
    }
}

/// "newest first", "largest first"...
pub fn order_words(sort: HistorySort, descending: bool) -> String {
    let by = sort_label(sort).to_lowercase();
    let first = match (sort, descending) {
        (HistorySort::Time, true) => "newest first",
        (HistorySort::Time, false) => "oldest first",
        (HistorySort::Duration, true) => "longest first",
        (HistorySort::Duration, false) => "shortest first",
        (_, true) => "largest first",
        (_, false) => "smallest first",
    };
    format!("by {by}, {first}")
}

/// Labels of the recorded parameters that are not sampling parameters.
const OTHER_PARAMETERS: [(&str, &str); 6] = [
    ("maxTokens", "Max tokens"),
    ("seed", "Seed"),
    ("stop", "Stop sequences"),
    ("width", "Width"),
    ("height", "Height"),
    ("targetLanguage", "Target language"),
];

/// A generation's recorded parameters (a JSON object) as labelled values, the mode left out
/// (the page shows it apart). Known parameters first, in the sampling table's order.
pub fn parameters(recorded: &str) -> Vec<(String, String)> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(recorded) else {
        return Vec::new();
    };
    let known: Vec<(&str, &str)> = SAMPLING
        .iter()
        .map(|p| (p.field, p.label))
        .chain(OTHER_PARAMETERS)
        .collect();
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map_or_else(|| item.to_string(), str::to_owned)
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    let mut shown: Vec<(String, String)> = known
        .iter()
        .filter_map(|(field, label)| Some(((*label).to_owned(), text(map.get(*field)?))))
        .collect();
    for (key, value) in &map {
        if key != "mode" && !known.iter().any(|(field, _)| field == key) {
            shown.push((key.clone(), text(value)));
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(query).unwrap_or_default()
    }

    #[test]
    fn a_delete_goes_back_only_to_the_history() {
        assert_eq!(
            safe_return("/dashboard/history?q=pasta&cursor=abc&deleted=3&x=1"),
            "/dashboard/history?q=pasta&cursor=abc"
        );
        for elsewhere in [
            "https://evil.example/dashboard/history",
            "//evil.example/dashboard/history",
            "/dashboard/history/../settings",
            "/dashboard/historyx",
            "/dashboard/settings?dashboard/history",
            "",
        ] {
            assert_eq!(safe_return(elsewhere), "/dashboard/history", "{elsewhere}");
        }
        // Whatever the query held, what comes back is encoded again.
        assert_eq!(
            safe_return("/dashboard/history?q=a%0d%0aSet-Cookie:x"),
            "/dashboard/history?q=a%0D%0ASet-Cookie%3Ax"
        );
    }

    #[test]
    fn notices_count_what_a_delete_did() {
        assert_eq!(delete_notice(&pairs("q=x")), None);
        let notice = delete_notice(&pairs("deleted=2&kept=1")).unwrap();
        assert!(notice.starts_with("Deleted 2 generations."), "{notice}");
        assert!(
            notice.contains("1 is still running and was kept"),
            "{notice}"
        );
        assert!(
            delete_notice(&pairs("deleted=1"))
                .unwrap()
                .starts_with("Deleted 1 generation.")
        );
        assert!(
            delete_notice(&pairs("notice=none-selected"))
                .unwrap()
                .starts_with("Nothing was selected")
        );
    }

    #[test]
    fn figures_read_like_people_write_them() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(money(123), "$0.000000123");
        assert_eq!(money(123_000), "$0.000123");
        assert_eq!(money(0), "$0");
        assert_eq!(duration(340), "340 ms");
        assert_eq!(duration(1_250), "1.2 s");
        assert_eq!(when(86_400_000 + 3_660_000), "1970-01-02 01:01");
        assert_eq!(excerpt("  a\n\n b "), "a b");
        assert!(excerpt(&"word ".repeat(40)).ends_with('…'));
        assert_eq!(
            query_of(&pairs("q=a b&mode=&sort=cost&cursor=x"), &FILTER_KEYS, &[]),
            "?q=a+b&sort=cost"
        );
    }

    #[test]
    fn parameters_are_labelled_and_the_mode_left_out() {
        let shown = parameters(
            r#"{"mode":"text","temperature":0.3,"stop":["a","b"],"maxTokens":200,"custom":true}"#,
        );
        assert!(shown.contains(&("Temperature".to_owned(), "0.3".to_owned())));
        assert!(shown.contains(&("Stop sequences".to_owned(), "a, b".to_owned())));
        assert!(shown.contains(&("Max tokens".to_owned(), "200".to_owned())));
        assert!(shown.contains(&("custom".to_owned(), "true".to_owned())));
        assert!(!shown.iter().any(|(label, _)| label == "mode"));
        assert!(parameters("not json").is_empty());
    }
}
