//! OpenRouter's `GET /api/v1/models` → [`ModelFacts`]: exact prices, modalities, parameters,
//! category, capabilities and tags.

use std::collections::BTreeMap;

use aipasta_core::catalog::{Capabilities, ModelFacts, Pricing};
use aipasta_core::money::{Price, PriceError};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::ProviderKind;
use crate::catalog::CatalogError;
use crate::catalog::classify::{
    developer_display_name, developer_slug, is_code_model, mentions_embeddings, tidy_tags,
};
use crate::catalog::lenient::{id_for_log, lenient, model_list, non_blank, sorted_strings};

/// What the source of an error is called before the fetch knows the URL.
const SOURCE: &str = "OpenRouter";

/// Context windows from here up earn the `long-context` tag.
const LONG_CONTEXT_TOKENS: i64 = 200_000;

/// One entry of `data`, as far as the catalog reads it. Only `id` is required.
#[derive(Debug, Deserialize)]
struct RawModel {
    id: String,
    #[serde(default, deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    hugging_face_id: Option<String>,
    /// Seconds since the epoch.
    #[serde(default, deserialize_with = "lenient")]
    created: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    context_length: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    architecture: RawArchitecture,
    /// Price name → value. Prices are decimal strings; other values (`discount`, `overrides`)
    /// are not per-unit prices.
    #[serde(default, deserialize_with = "lenient")]
    pricing: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "lenient")]
    top_provider: RawTopProvider,
    #[serde(default, deserialize_with = "lenient")]
    supported_parameters: Vec<Value>,
    #[serde(default, deserialize_with = "lenient")]
    default_parameters: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize)]
struct RawArchitecture {
    /// The older summary form, `text+image->text`, used when the lists are missing.
    #[serde(default, deserialize_with = "lenient")]
    modality: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    input_modalities: Vec<Value>,
    #[serde(default, deserialize_with = "lenient")]
    output_modalities: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawTopProvider {
    #[serde(default, deserialize_with = "lenient")]
    context_length: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    max_completion_tokens: Option<i64>,
}

/// Parses OpenRouter's model list (`{"data": [...]}`). A model that cannot be read (no string
/// `id`) is skipped with a warning; a body that is not JSON or has no `data` array is an error.
pub fn parse_openrouter_models(body: &[u8]) -> Result<Vec<ModelFacts>, CatalogError> {
    let entries = model_list(body, Some("data"), SOURCE)?;
    let mut models = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let id = id_for_log(&entry);
        match serde_json::from_value::<RawModel>(entry) {
            Ok(raw) if !raw.id.trim().is_empty() => models.push(model_facts(raw)),
            Ok(_) => tracing::warn!(index, "skipping an OpenRouter model with an empty id"),
            Err(error) => tracing::warn!(
                index,
                id,
                %error,
                "skipping an OpenRouter model the catalog cannot read"
            ),
        }
    }
    Ok(models)
}

fn model_facts(raw: RawModel) -> ModelFacts {
    let id = raw.id.trim().to_owned();
    let name = non_blank(raw.name).unwrap_or_else(|| id.clone());
    let (input_modalities, output_modalities) = modalities(&raw.architecture);
    let supported_parameters = sorted_strings(&raw.supported_parameters);
    let supports = |parameter: &str| supported_parameters.iter().any(|p| p == parameter);
    let context_length = raw.context_length.or(raw.top_provider.context_length);
    let pricing = pricing(raw.pricing.as_ref(), &id);

    let has_input = |m: &str| input_modalities.iter().any(|x| x == m);
    let has_output = |m: &str| output_modalities.iter().any(|x| x == m);
    let reasoning = supports("reasoning") || supports("include_reasoning");
    let category = if has_output("image") {
        "image-generation"
    } else if mentions_embeddings(&id, &name) {
        "embeddings"
    } else if is_code_model(&id, &name) {
        "code"
    } else if reasoning {
        "reasoning"
    } else {
        "chat"
    };
    let capabilities = Capabilities {
        text_generation: has_output("text"),
        chat_completion: has_output("text"),
        code_generation: category == "code",
        translation: false,
        summarization: false,
        image_generation: has_output("image"),
        image_analysis: has_input("image"),
        embedding: category == "embeddings",
    };

    let slug = developer_slug(&id);
    let developer = name
        .split_once(": ")
        .map(|(developer, _)| developer.trim().to_owned())
        .filter(|developer| !developer.is_empty())
        .or_else(|| slug.as_deref().map(developer_display_name));
    let flags = [
        (has_input("image"), "vision"),
        (has_input("audio") || has_output("audio"), "audio"),
        (has_input("file"), "file"),
        (supports("tools"), "tools"),
        (reasoning, "reasoning"),
        (
            supports("structured_outputs") || supports("response_format"),
            "structured-outputs",
        ),
        (pricing.is_free() || id.ends_with(":free"), "free"),
        (
            context_length.is_some_and(|c| c >= LONG_CONTEXT_TOKENS),
            "long-context",
        ),
    ];
    let tags = tidy_tags(
        flags
            .into_iter()
            .filter(|(set, _)| *set)
            .map(|(_, tag)| tag.to_owned())
            .chain(slug),
    );

    ModelFacts {
        provider: ProviderKind::OpenRouter.as_str().to_owned(),
        provider_model_id: id.clone(),
        slug: id,
        name,
        description: non_blank(raw.description),
        category: category.to_owned(),
        tags,
        pricing,
        capabilities,
        input_modalities,
        output_modalities,
        context_length,
        max_output_tokens: raw.top_provider.max_completion_tokens,
        supported_parameters,
        parameter_defaults: parameter_defaults(raw.default_parameters.as_ref()),
        developer,
        hugging_face_id: non_blank(raw.hugging_face_id),
        license: None,
        released_at: raw
            .created
            .filter(|seconds| *seconds > 0)
            .and_then(|seconds| seconds.checked_mul(1000)),
        downloads: None,
    }
}

/// Input and output modalities from the lists, or from `text+image->text` when they are absent.
fn modalities(architecture: &RawArchitecture) -> (Vec<String>, Vec<String>) {
    let input = sorted_strings(&architecture.input_modalities);
    let output = sorted_strings(&architecture.output_modalities);
    if !input.is_empty() || !output.is_empty() {
        return (input, output);
    }
    let Some((from, to)) = architecture
        .modality
        .as_deref()
        .and_then(|m| m.split_once("->"))
    else {
        return (input, output);
    };
    let split = |side: &str| {
        let parts: Vec<Value> = side.split('+').map(|p| Value::from(p.trim())).collect();
        sorted_strings(&parts)
    };
    (split(from), split(to))
}

/// Exact prices. Absent `prompt`/`completion` mean free (OpenRouter omits zero prices); other
/// absent prices are not listed. Negative prices (`"-1"` on router models, whose price depends
/// on the model picked per request) mean unknown. A missing `pricing` block is unknown, not free.
fn pricing(raw: Option<&Map<String, Value>>, model_id: &str) -> Pricing {
    let Some(raw) = raw else {
        return Pricing::default();
    };
    let mut pricing = Pricing {
        prompt: Some(Price::ZERO),
        completion: Some(Price::ZERO),
        ..Pricing::default()
    };
    for (key, value) in raw {
        // Only strings are prices in OpenRouter's schema; numbers there are ratios (`discount`).
        let Some(text) = value.as_str() else {
            continue;
        };
        let price = price(text, key, model_id);
        match key.as_str() {
            "prompt" => pricing.prompt = price,
            "completion" => pricing.completion = price,
            "image" => pricing.image = price,
            "request" => pricing.request = price,
            "input_cache_read" => pricing.cache_read = price,
            "input_cache_write" => pricing.cache_write = price,
            _ => {
                if let Some(price) = price {
                    pricing.extra.insert(key.clone(), price);
                }
            }
        }
    }
    pricing
}

fn price(text: &str, key: &str, model_id: &str) -> Option<Price> {
    match Price::parse(text) {
        Ok(price) => Some(price),
        Err(PriceError::Negative(_)) => None,
        Err(PriceError::NotANumber(_)) => {
            tracing::warn!(
                model = model_id,
                key,
                value = text,
                "OpenRouter price is not a number; treated as unknown"
            );
            None
        }
    }
}

/// Recommended parameter values, numbers only (null means "no recommendation").
fn parameter_defaults(raw: Option<&Map<String, Value>>) -> BTreeMap<String, f64> {
    raw.into_iter()
        .flatten()
        .filter_map(|(key, value)| value.as_f64().map(|number| (key.clone(), number)))
        .collect()
}
