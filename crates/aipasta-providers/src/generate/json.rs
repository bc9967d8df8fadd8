//! Lenient reading of provider answers: a field of the wrong type reads as absent, new fields
//! are ignored, and money is read from the number's own text, never through `f64`.

use std::str::FromStr;

use aipasta_core::money::Nanos;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::generate::Usage;

/// A non-blank string field, trimmed.
pub(crate) fn text(object: &Map<String, Value>, field: &str) -> Option<String> {
    object
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A token count: an integer, an integral float, or a string holding one.
pub(crate) fn count(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Text content in the shapes providers send: a string, or a list of parts each with a
/// `text` (or a plain string).
pub(crate) fn content(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let joined: String = parts
                .iter()
                .filter_map(|part| match part {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(part) => part.get("text").and_then(Value::as_str),
                    _ => None,
                })
                .collect();
            Some(joined)
        }
        _ => None,
    }
}

/// An OpenAI-style `usage` object: prompt, completion and total tokens (the total computed
/// when missing) and OpenRouter's `cost`. `raw` is the whole JSON text the usage came from,
/// read again for the cost's exact digits. `None` when nothing in it can be read.
pub(crate) fn usage(value: Option<&Value>, raw: &[u8]) -> Option<Usage> {
    usage_with_cost(value?, || usage_cost(raw))
}

/// [`usage`] of a `usage` object given as its own JSON text, the cost read from its digits.
pub(crate) fn raw_usage(raw: &RawValue) -> Option<Usage> {
    let value: Value = serde_json::from_str(raw.get()).ok()?;
    usage_with_cost(&value, || {
        let probe: UsageProbe<'_> = serde_json::from_str(raw.get()).ok()?;
        exact_cost(probe.cost?)
    })
}

/// `usage` read from `value`, its exact cost from `cost` when it has one.
fn usage_with_cost(value: &Value, cost: impl FnOnce() -> Option<Nanos>) -> Option<Usage> {
    let usage = value.as_object()?;
    let prompt = count(
        usage
            .get("prompt_tokens")
            .or_else(|| usage.get("input_tokens")),
    );
    let completion = count(
        usage
            .get("completion_tokens")
            .or_else(|| usage.get("output_tokens")),
    );
    let total = count(usage.get("total_tokens"));
    let cost = match usage.get("cost") {
        Some(Value::Number(_)) | Some(Value::String(_)) => cost(),
        _ => None,
    };
    if prompt.is_none() && completion.is_none() && total.is_none() && cost.is_none() {
        return None;
    }
    let prompt = prompt.unwrap_or(0);
    let completion = completion.unwrap_or(0);
    Some(Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: total.unwrap_or(prompt + completion),
        cost,
    })
}

/// A non-blank string given as its JSON text, trimmed; anything else reads as absent.
pub(crate) fn raw_text(raw: Option<&RawValue>) -> Option<String> {
    let text: String = serde_json::from_str(raw?.get()).ok()?;
    let trimmed = text.trim();
    match trimmed.len() {
        0 => None,
        n if n == text.len() => Some(text),
        _ => Some(trimmed.to_owned()),
    }
}

#[derive(Deserialize)]
struct CostProbe<'a> {
    #[serde(borrow, default)]
    usage: Option<UsageProbe<'a>>,
}

#[derive(Deserialize)]
struct UsageProbe<'a> {
    #[serde(borrow, default)]
    cost: Option<&'a RawValue>,
}

/// `usage.cost` of a JSON document, read from the number's text (`0.0012`, `1.5e-7`) so that
/// no binary rounding creeps in. A string holding a decimal is accepted too.
pub(crate) fn usage_cost(raw: &[u8]) -> Option<Nanos> {
    let probe: CostProbe<'_> = serde_json::from_slice(raw).ok()?;
    exact_cost(probe.usage?.cost?)
}

fn exact_cost(cost: &RawValue) -> Option<Nanos> {
    let text = cost.get().trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .trim();
    decimal(text).map(Nanos::from_usd)
}

/// A decimal from its text, in plain or scientific notation.
pub(crate) fn decimal(text: &str) -> Option<Decimal> {
    if text.is_empty() || text == "null" {
        return None;
    }
    if text.contains(['e', 'E']) {
        return Decimal::from_scientific(text).ok();
    }
    Decimal::from_str_exact(text)
        .or_else(|_| Decimal::from_str(text))
        .ok()
}

/// What kind of JSON value this is, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The usage of a document, read both ways: from the whole document and from the usage's
    /// own text (they must agree).
    fn usage_of(raw: &str) -> Option<Usage> {
        let value: Value = serde_json::from_str(raw).unwrap();
        let whole = usage(value.get("usage"), raw.as_bytes());
        #[derive(Deserialize)]
        struct Probe<'a> {
            #[serde(borrow)]
            usage: Option<&'a RawValue>,
        }
        let probe: Probe<'_> = serde_json::from_str(raw).unwrap();
        assert_eq!(probe.usage.and_then(raw_usage), whole, "{raw}");
        whole
    }

    #[test]
    fn cost_is_exact_from_the_numbers_text() {
        let usage = usage_of(
            r#"{"usage": {"prompt_tokens": 10, "completion_tokens": 15, "total_tokens": 25,
                "cost": 0.0012, "cost_details": {"upstream_inference_cost": null}}}"#,
        )
        .unwrap();
        assert_eq!(usage.prompt_tokens, 10);
        assert_eq!(usage.completion_tokens, 15);
        assert_eq!(usage.total_tokens, 25);
        assert_eq!(usage.cost, Some(Nanos(1_200_000)));
        // 0.1 + 0.2 style digits that f64 cannot hold exactly.
        assert_eq!(
            usage_of(r#"{"usage": {"prompt_tokens": 1, "cost": 0.000000300000000000000004}}"#)
                .unwrap()
                .cost,
            Some(Nanos(300))
        );
        assert_eq!(
            usage_of(r#"{"usage": {"cost": 1.5e-7}}"#).unwrap().cost,
            Some(Nanos(150))
        );
        assert_eq!(
            usage_of(r#"{"usage": {"cost": 2.5E-9}}"#).unwrap().cost,
            Some(Nanos(3))
        );
        assert_eq!(
            usage_of(r#"{"usage": {"cost": "0.04"}}"#).unwrap().cost,
            Some(Nanos(40_000_000))
        );
        assert_eq!(
            usage_of(r#"{"usage": {"cost": 0}}"#).unwrap().cost,
            Some(Nanos(0))
        );
        assert_eq!(
            usage_of(r#"{"usage": {"prompt_tokens": 3, "cost": null}}"#)
                .unwrap()
                .cost,
            None
        );
    }

    #[test]
    fn cost_inside_nested_usage_of_a_stream_chunk() {
        let raw = r#"{"id":"gen-1","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6,"cost":0.00001234}}"#;
        assert_eq!(usage_of(raw).unwrap().cost, Some(Nanos(12_340)));
    }

    #[test]
    fn tokens_are_read_leniently() {
        let usage =
            usage_of(r#"{"usage": {"prompt_tokens": "7", "completion_tokens": 3.0}}"#).unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (7, 3));
        assert_eq!(usage.total_tokens, 10, "the total is computed when missing");
        assert_eq!(usage_of(r#"{"usage": null}"#), None);
        assert_eq!(usage_of(r#"{"usage": {"foo": 1}}"#), None);
        assert_eq!(usage_of(r#"{"usage": "lots"}"#), None);
        assert_eq!(usage_of(r#"{}"#), None);
    }

    #[test]
    fn raw_text_is_a_trimmed_non_blank_string() {
        let raw = |text: &str| serde_json::from_str::<Box<RawValue>>(text).unwrap();
        assert_eq!(raw_text(Some(&raw(r#""gen-1""#))), Some("gen-1".into()));
        assert_eq!(raw_text(Some(&raw(r#"" a\u0062 ""#))), Some("ab".into()));
        assert_eq!(raw_text(Some(&raw(r#""  ""#))), None);
        assert_eq!(raw_text(Some(&raw("12"))), None);
        assert_eq!(raw_text(Some(&raw("null"))), None);
        assert_eq!(raw_text(None), None);
    }

    #[test]
    fn content_strings_and_parts() {
        assert_eq!(content(Some(&json!("hi"))), Some("hi".to_owned()));
        assert_eq!(
            content(Some(
                &json!([{"type": "text", "text": "a"}, "b", {"type": "image"}])
            )),
            Some("ab".to_owned())
        );
        assert_eq!(content(Some(&Value::Null)), None);
        assert_eq!(content(None), None);
    }
}
