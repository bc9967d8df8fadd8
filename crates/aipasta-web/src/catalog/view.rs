//! How a model is presented: cards and detail for the pages, JSON for the API.

use std::collections::BTreeMap;

use aipasta_core::catalog::{Capabilities, Capability, ParameterRange, short_tokens};
use aipasta_core::money::{Price, per_million_label};
use aipasta_store::catalog::ModelRow;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use utoipa::ToSchema;

/// What a model card shows.
pub struct ModelCard {
    /// The catalog's id of the model.
    pub id: String,
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
    /// The favorite star, for a signed-in visitor (see `dashboard::favorites_pages::Stars`).
    pub star: Option<crate::dashboard::favorites_pages::FavoriteStar>,
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
            id: row.id.clone(),
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
            star: None,
        }
    }
}

/// USD per thousand units as a JSON number (the plan's API shape); exact text is in `perToken`.
fn per_thousand(price: Option<Price>) -> Option<f64> {
    price.and_then(|p| (p.decimal() * Decimal::from(1000)).to_f64())
}

fn text(price: Option<Price>) -> Option<String> {
    price.map(|p| p.to_string())
}

fn millis_to_rfc3339(ms: Option<i64>) -> Option<String> {
    ms.and_then(|ms| {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
    })
    .and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
}

/// A model as the list endpoints show it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogModel {
    /// The slug, e.g. `openai/gpt-4o`: what the generate calls and `/v1` take as the model.
    id: String,
    /// The catalog's own id.
    uuid: String,
    name: String,
    display_name: String,
    description: String,
    /// `openrouter`, `huggingface` or an OpenAI-compatible endpoint's name.
    provider: String,
    /// The model's id at its provider.
    provider_model_id: String,
    /// The category's slug.
    category: Option<String>,
    pricing: CatalogPricing,
    capabilities: CatalogCapabilities,
    /// In tokens.
    context_length: Option<i64>,
    /// `active`, `beta`, `maintenance` or `deprecated`.
    status: String,
    is_featured: bool,
    /// RFC 3339.
    release_date: Option<String>,
}

/// A model's prices.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogPricing {
    /// USD per 1K input tokens (a rounded number; `perToken` has the exact text).
    input: Option<f64>,
    /// USD per 1K output tokens.
    output: Option<f64>,
    currency: String,
    free: bool,
    /// Always `per 1K tokens`.
    unit: &'static str,
    per_token: CatalogPerToken,
}

/// The exact prices per unit, as decimal text.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogPerToken {
    /// Per input token.
    prompt: Option<String>,
    /// Per output token.
    completion: Option<String>,
    /// Per input image.
    image: Option<String>,
    /// Per request.
    request: Option<String>,
    /// Per cached input token read.
    cache_read: Option<String>,
    /// Per input token written to the cache.
    cache_write: Option<String>,
    /// Any other price the provider lists (`web_search`, `audio`, ...), by its name.
    #[schema(value_type = BTreeMap<String, String>)]
    other: BTreeMap<String, Price>,
}

/// What a model can do.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogCapabilities {
    text_generation: bool,
    chat_completion: bool,
    code_generation: bool,
    translation: bool,
    summarization: bool,
    image_generation: bool,
    image_analysis: bool,
    embedding: bool,
}

impl From<Capabilities> for CatalogCapabilities {
    fn from(caps: Capabilities) -> CatalogCapabilities {
        CatalogCapabilities {
            text_generation: caps.text_generation,
            chat_completion: caps.chat_completion,
            code_generation: caps.code_generation,
            translation: caps.translation,
            summarization: caps.summarization,
            image_generation: caps.image_generation,
            image_analysis: caps.image_analysis,
            embedding: caps.embedding,
        }
    }
}

impl CatalogModel {
    /// The model as the list endpoints show it.
    pub fn new(row: &ModelRow) -> CatalogModel {
        let pricing = row.pricing();
        CatalogModel {
            id: row.slug.clone(),
            uuid: row.id.clone(),
            name: row.name.clone(),
            display_name: row.display_name.clone(),
            description: row.description.clone(),
            provider: row.provider.clone(),
            provider_model_id: row.provider_model_id.clone(),
            category: row.category_slug.clone(),
            pricing: CatalogPricing {
                input: per_thousand(pricing.prompt),
                output: per_thousand(pricing.completion),
                currency: row.price_currency.clone(),
                free: row.is_free,
                unit: "per 1K tokens",
                per_token: CatalogPerToken {
                    prompt: text(pricing.prompt),
                    completion: text(pricing.completion),
                    image: text(pricing.image),
                    request: text(pricing.request),
                    cache_read: text(pricing.cache_read),
                    cache_write: text(pricing.cache_write),
                    other: pricing.extra,
                },
            },
            capabilities: row.capabilities().into(),
            context_length: row.context_length,
            status: row.status.clone(),
            is_featured: row.is_featured,
            release_date: millis_to_rfc3339(row.release_date),
        }
    }
}

/// A model with everything the details endpoint shows.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogModelDetails {
    #[serde(flatten)]
    summary: CatalogModel,
    long_description: Option<String>,
    /// Sorted.
    tags: Vec<String>,
    parameters: CatalogModelParameters,
    modalities: CatalogModalities,
    performance: CatalogPerformance,
    metadata: CatalogModelMetadata,
    /// Models like this one (only in `GET /api/models/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    related: Option<Vec<CatalogModel>>,
}

/// What a model takes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogModelParameters {
    /// The most output tokens a request may ask for.
    max_tokens: Option<i64>,
    default_max_tokens: Option<i64>,
    supports_streaming: bool,
    supports_system_prompt: bool,
    temperature: Option<CatalogParameterRange>,
    top_p: Option<CatalogParameterRange>,
    /// The ranges of the other sampling parameters, by their snake_case names.
    other: BTreeMap<String, CatalogParameterRange>,
    /// The parameters the model accepts, by their snake_case names.
    supported: Vec<String>,
}

/// The range and default of one numeric parameter.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogParameterRange {
    min: f64,
    max: f64,
    default: f64,
}

impl From<&ParameterRange> for CatalogParameterRange {
    fn from(range: &ParameterRange) -> CatalogParameterRange {
        CatalogParameterRange {
            min: range.min,
            max: range.max,
            default: range.default,
        }
    }
}

/// What a model reads and writes (`text`, `image`, ...).
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogModalities {
    input: Vec<String>,
    output: Vec<String>,
}

/// This instance's figures for the model: moving averages over roughly the last 20 to 60
/// generations.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogPerformance {
    /// Milliseconds, of successful generations.
    average_latency: Option<i64>,
    /// A percentage (0 to 100) of finished generations that succeeded; cancelled ones are not
    /// counted.
    #[schema(minimum = 0, maximum = 100)]
    success_rate: Option<f64>,
    /// A percentage; not measured yet.
    uptime: Option<f64>,
}

/// Where a model comes from.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogModelMetadata {
    version: Option<String>,
    /// RFC 3339.
    release_date: Option<String>,
    developer: Option<String>,
    license: Option<String>,
    /// A URL.
    documentation: Option<String>,
    /// A URL.
    source_code: Option<String>,
    paper_url: Option<String>,
    hugging_face_id: Option<String>,
}

impl CatalogModelDetails {
    /// The model with everything the details endpoint shows, without `related`.
    pub fn new(row: &ModelRow, tags: &[String]) -> CatalogModelDetails {
        let ranges = row.parameter_ranges();
        let range = |name: &str| ranges.get(name).map(CatalogParameterRange::from);
        let others = ranges
            .iter()
            .filter(|(name, _)| *name != "temperature" && *name != "top_p")
            .map(|(name, r)| (name.clone(), CatalogParameterRange::from(r)))
            .collect();
        CatalogModelDetails {
            summary: CatalogModel::new(row),
            long_description: row.long_description.clone(),
            tags: tags.to_vec(),
            parameters: CatalogModelParameters {
                max_tokens: row.max_tokens,
                default_max_tokens: row.default_max_tokens,
                supports_streaming: row.supports_streaming,
                supports_system_prompt: row.supports_system_prompt,
                temperature: range("temperature"),
                top_p: range("top_p"),
                other: others,
                supported: row.supported_parameters(),
            },
            modalities: CatalogModalities {
                input: row.input_modalities(),
                output: row.output_modalities(),
            },
            performance: CatalogPerformance {
                average_latency: row.average_latency_ms,
                success_rate: row.success_rate,
                uptime: row.uptime,
            },
            metadata: CatalogModelMetadata {
                version: row.version.clone(),
                release_date: millis_to_rfc3339(row.release_date),
                developer: row.developer.clone(),
                license: row.license.clone(),
                documentation: row.documentation_url.clone(),
                source_code: row.source_code_url.clone(),
                paper_url: row.paper_url.clone(),
                hugging_face_id: row.hugging_face_id.clone(),
            },
            related: None,
        }
    }

    /// Adds the models like this one.
    pub fn with_related(self, related: &[ModelRow]) -> CatalogModelDetails {
        CatalogModelDetails {
            related: Some(related.iter().map(CatalogModel::new).collect()),
            ..self
        }
    }
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
