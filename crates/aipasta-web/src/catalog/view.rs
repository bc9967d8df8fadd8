//! How a model is presented: cards and detail for the pages, JSON for the API.

use aipasta_core::catalog::{Capability, short_tokens};
use aipasta_core::money::{Price, per_million_label};
use aipasta_store::catalog::ModelRow;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

/// What a model card shows.
pub struct ModelCard {
    pub slug: String,
    pub href: String,
    pub name: String,
    pub provider: String,
    pub developer: String,
    pub monogram: String,
    pub category: String,
    pub context: String,
    pub price_in: String,
    pub price_out: String,
    pub free: bool,
    pub badges: Vec<&'static str>,
    pub status: String,
}

/// The page URL of a model: its slug's path segments, each escaped.
pub fn model_href(slug: &str) -> String {
    let escaped: Vec<String> = slug.split('/').map(escape_segment).collect();
    format!("/models/{}", escaped.join("/"))
}

fn escape_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Up to two letters that stand for the developer in a card's monogram.
fn monogram(name: &str) -> String {
    let letters: String = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(2)
        .filter_map(|w| w.chars().next())
        .collect();
    if letters.is_empty() {
        "?".into()
    } else {
        letters.to_uppercase()
    }
}

pub fn provider_label(provider: &str) -> String {
    match provider {
        "openrouter" => "OpenRouter".into(),
        "huggingface" => "Hugging Face".into(),
        other => other.to_owned(),
    }
}

impl ModelCard {
    pub fn from_row(row: &ModelRow) -> ModelCard {
        let pricing = row.pricing();
        let caps = row.capabilities();
        let developer = row
            .developer
            .clone()
            .unwrap_or_else(|| provider_label(&row.provider));
        ModelCard {
            slug: row.slug.clone(),
            href: model_href(&row.slug),
            name: row.display_name.clone(),
            provider: provider_label(&row.provider),
            monogram: monogram(&developer),
            developer,
            category: row.category_name.clone().unwrap_or_default(),
            context: row
                .context_length
                .filter(|c| *c > 0)
                .map(|c| format!("{} context", short_tokens(c)))
                .unwrap_or_default(),
            price_in: per_million_label(pricing.prompt),
            price_out: per_million_label(pricing.completion),
            free: row.is_free,
            badges: Capability::ALL
                .into_iter()
                .filter(|c| c.of(&caps) && *c != Capability::TextGeneration)
                .map(Capability::label)
                .collect(),
            status: row.status.clone(),
        }
    }
}

/// USD per thousand units as a JSON number (the plan's API shape); exact text is in `perToken`.
fn per_thousand(price: Option<Price>) -> Value {
    price
        .and_then(|p| (p.decimal() * Decimal::from(1000)).to_f64())
        .map_or(Value::Null, Value::from)
}

fn text(price: Option<Price>) -> Value {
    price.map_or(Value::Null, |p| Value::String(p.to_string()))
}

fn millis_to_rfc3339(ms: Option<i64>) -> Value {
    ms.and_then(|ms| {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
    })
    .and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
    .map_or(Value::Null, Value::String)
}

/// The model as the list endpoints show it.
pub fn model_summary_json(row: &ModelRow) -> Value {
    let pricing = row.pricing();
    json!({
        "id": row.slug,
        "uuid": row.id,
        "name": row.name,
        "displayName": row.display_name,
        "description": row.description,
        "provider": row.provider,
        "providerModelId": row.provider_model_id,
        "category": row.category_slug,
        "pricing": {
            "input": per_thousand(pricing.prompt),
            "output": per_thousand(pricing.completion),
            "currency": row.price_currency,
            "free": row.is_free,
            "unit": "per 1K tokens",
            "perToken": {
                "prompt": text(pricing.prompt),
                "completion": text(pricing.completion),
                "image": text(pricing.image),
                "request": text(pricing.request),
                "cacheRead": text(pricing.cache_read),
                "cacheWrite": text(pricing.cache_write),
                "other": pricing.extra,
            },
        },
        "capabilities": row.capabilities(),
        "contextLength": row.context_length,
        "status": row.status,
        "isFeatured": row.is_featured,
        "releaseDate": millis_to_rfc3339(row.release_date),
    })
}

/// The model with everything the details endpoint shows.
pub fn model_json(row: &ModelRow, tags: &[String]) -> Value {
    let mut value = model_summary_json(row);
    let ranges = row.parameter_ranges();
    let range = |name: &str| {
        ranges.get(name).map_or(
            Value::Null,
            |r| json!({ "min": r.min, "max": r.max, "default": r.default }),
        )
    };
    let others: serde_json::Map<String, Value> = ranges
        .iter()
        .filter(|(name, _)| *name != "temperature" && *name != "top_p")
        .map(|(name, r)| {
            (
                name.clone(),
                json!({ "min": r.min, "max": r.max, "default": r.default }),
            )
        })
        .collect();
    if let Value::Object(map) = &mut value {
        map.insert("longDescription".into(), json!(row.long_description));
        map.insert("tags".into(), json!(tags));
        map.insert(
            "parameters".into(),
            json!({
                "maxTokens": row.max_tokens,
                "defaultMaxTokens": row.default_max_tokens,
                "supportsStreaming": row.supports_streaming,
                "supportsSystemPrompt": row.supports_system_prompt,
                "temperature": range("temperature"),
                "topP": range("top_p"),
                "other": others,
                "supported": row.supported_parameters(),
            }),
        );
        map.insert(
            "modalities".into(),
            json!({ "input": row.input_modalities(), "output": row.output_modalities() }),
        );
        map.insert(
            "performance".into(),
            json!({
                "averageLatency": row.average_latency_ms,
                "successRate": row.success_rate,
                "uptime": row.uptime,
            }),
        );
        map.insert(
            "metadata".into(),
            json!({
                "version": row.version,
                "releaseDate": millis_to_rfc3339(row.release_date),
                "developer": row.developer,
                "license": row.license,
                "documentation": row.documentation_url,
                "sourceCode": row.source_code_url,
                "paperUrl": row.paper_url,
                "huggingFaceId": row.hugging_face_id,
            }),
        );
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_keep_slashes_and_escape_the_rest() {
        assert_eq!(
            model_href("anthropic/claude-opus-4"),
            "/models/anthropic/claude-opus-4"
        );
        assert_eq!(model_href("meta/llama:free"), "/models/meta/llama:free");
        assert_eq!(model_href("hf/a b/<x>"), "/models/hf/a%20b/%3Cx%3E");
        assert_eq!(monogram("Mistral AI"), "MA");
        assert_eq!(monogram("OpenAI"), "O");
    }
}
