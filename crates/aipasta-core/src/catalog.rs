//! The model catalog's vocabulary: what a provider tells us about a model ([`ModelFacts`]), its
//! capabilities, status and category, and the text normalisation search relies on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::money::Price;
use crate::params::sampling_param;

/// A model's lifecycle state as the plan names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ModelStatus {
    #[default]
    Active,
    Beta,
    Maintenance,
    /// Gone upstream (or retired by an admin); kept so its history still works.
    Deprecated,
}

impl ModelStatus {
    pub const ALL: [ModelStatus; 4] = [
        ModelStatus::Active,
        ModelStatus::Beta,
        ModelStatus::Maintenance,
        ModelStatus::Deprecated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Active => "active",
            ModelStatus::Beta => "beta",
            ModelStatus::Maintenance => "maintenance",
            ModelStatus::Deprecated => "deprecated",
        }
    }

    pub fn parse(text: &str) -> Option<ModelStatus> {
        ModelStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What a model can do (the plan's `capabilities` block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    pub text_generation: bool,
    pub chat_completion: bool,
    pub code_generation: bool,
    pub translation: bool,
    pub summarization: bool,
    pub image_generation: bool,
    pub image_analysis: bool,
    pub embedding: bool,
}

/// A capability by name, as used in filters (`?capability=chat`) and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    TextGeneration,
    Chat,
    Code,
    Translation,
    Summarization,
    ImageGeneration,
    ImageAnalysis,
    Embedding,
}

impl Capability {
    pub const ALL: [Capability; 8] = [
        Capability::TextGeneration,
        Capability::Chat,
        Capability::Code,
        Capability::Translation,
        Capability::Summarization,
        Capability::ImageGeneration,
        Capability::ImageAnalysis,
        Capability::Embedding,
    ];

    /// The name in URLs and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::TextGeneration => "text-generation",
            Capability::Chat => "chat",
            Capability::Code => "code",
            Capability::Translation => "translation",
            Capability::Summarization => "summarization",
            Capability::ImageGeneration => "image-generation",
            Capability::ImageAnalysis => "image-analysis",
            Capability::Embedding => "embedding",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Capability::TextGeneration => "Text",
            Capability::Chat => "Chat",
            Capability::Code => "Code",
            Capability::Translation => "Translation",
            Capability::Summarization => "Summaries",
            Capability::ImageGeneration => "Images",
            Capability::ImageAnalysis => "Vision",
            Capability::Embedding => "Embeddings",
        }
    }

    pub fn parse(text: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The column that stores this capability.
    pub fn column(self) -> &'static str {
        match self {
            Capability::TextGeneration => "cap_text_generation",
            Capability::Chat => "cap_chat_completion",
            Capability::Code => "cap_code_generation",
            Capability::Translation => "cap_translation",
            Capability::Summarization => "cap_summarization",
            Capability::ImageGeneration => "cap_image_generation",
            Capability::ImageAnalysis => "cap_image_analysis",
            Capability::Embedding => "cap_embedding",
        }
    }

    pub fn of(self, caps: &Capabilities) -> bool {
        match self {
            Capability::TextGeneration => caps.text_generation,
            Capability::Chat => caps.chat_completion,
            Capability::Code => caps.code_generation,
            Capability::Translation => caps.translation,
            Capability::Summarization => caps.summarization,
            Capability::ImageGeneration => caps.image_generation,
            Capability::ImageAnalysis => caps.image_analysis,
            Capability::Embedding => caps.embedding,
        }
    }
}

/// Prices in USD per unit. `None` means unknown (OpenRouter's `"-1"` for router models);
/// `Some(Price::ZERO)` means free.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    /// Per input token.
    pub prompt: Option<Price>,
    /// Per output token.
    pub completion: Option<Price>,
    /// Per input image.
    pub image: Option<Price>,
    /// Per request.
    pub request: Option<Price>,
    /// Per cached input token read.
    pub cache_read: Option<Price>,
    /// Per input token written to the cache.
    pub cache_write: Option<Price>,
    /// Any other price the provider lists (`web_search`, `audio`, `internal_reasoning`, ...),
    /// by the provider's name for it.
    pub extra: BTreeMap<String, Price>,
}

impl Pricing {
    /// Free when both token prices are known to be zero.
    pub fn is_free(&self) -> bool {
        matches!((self.prompt, self.completion), (Some(p), Some(c)) if p.is_zero() && c.is_zero())
    }
}

/// A category seeded on first start.
#[derive(Debug, Clone, Copy)]
pub struct SeedCategory {
    pub slug: &'static str,
    pub name: &'static str,
    pub parent: Option<&'static str>,
    pub icon: &'static str,
    pub color: &'static str,
    pub description: &'static str,
}

const fn seed(
    slug: &'static str,
    name: &'static str,
    parent: Option<&'static str>,
    icon: &'static str,
    color: &'static str,
    description: &'static str,
) -> SeedCategory {
    SeedCategory {
        slug,
        name,
        parent,
        icon,
        color,
        description,
    }
}

/// The categories seeded on first start, in display order.
pub const SEED_CATEGORIES: &[SeedCategory] = &[
    seed(
        "text-generation",
        "Text generation",
        None,
        "text",
        "#c73a22",
        "Models that write: completion, long-form text and instruction following.",
    ),
    seed(
        "chat",
        "Chat",
        Some("text-generation"),
        "chat",
        "#d9622b",
        "Conversational models tuned to follow a dialogue.",
    ),
    seed(
        "reasoning",
        "Reasoning",
        Some("text-generation"),
        "brain",
        "#b0452c",
        "Models that think step by step before they answer.",
    ),
    seed(
        "code",
        "Code",
        None,
        "code",
        "#2f6fbf",
        "Models tuned to write, explain and fix code.",
    ),
    seed(
        "image-generation",
        "Image generation",
        None,
        "image",
        "#8a4fbf",
        "Models that turn a prompt into a picture.",
    ),
    seed(
        "image-analysis",
        "Image analysis",
        None,
        "eye",
        "#2f8f6f",
        "Models that read images: captions, questions about a picture, documents.",
    ),
    seed(
        "embeddings",
        "Embeddings",
        None,
        "vector",
        "#5b6b7f",
        "Models that turn text into vectors for search and clustering.",
    ),
    seed(
        "summarization",
        "Summarization",
        None,
        "summary",
        "#a0782a",
        "Models that condense long text.",
    ),
    seed(
        "translation",
        "Translation",
        None,
        "translate",
        "#3a8fa8",
        "Models that translate between languages.",
    ),
];

/// Everything a provider (or the compiled-in seed) says about one model. The store turns it
/// into a catalog row, keeping what an admin changed by hand.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ModelFacts {
    /// `openrouter`, `huggingface`, or an OpenAI-compatible endpoint's name.
    pub provider: String,
    /// The id the provider's API expects, e.g. `anthropic/claude-opus-4`.
    pub provider_model_id: String,
    /// The public id in our URLs: the provider model id for OpenRouter, `hf/<id>` for
    /// Hugging Face, `<endpoint>/<id>` for OpenAI-compatible servers.
    pub slug: String,
    /// A display name, e.g. `Anthropic: Claude Opus 4`.
    pub name: String,
    /// The provider's own description, when it gives one.
    pub description: Option<String>,
    /// The slug of the category it belongs in (one of [`SEED_CATEGORIES`]).
    pub category: String,
    pub tags: Vec<String>,
    pub pricing: Pricing,
    pub capabilities: Capabilities,
    pub input_modalities: Vec<String>,
    pub output_modalities: Vec<String>,
    pub context_length: Option<i64>,
    /// The most tokens one answer may have (`top_provider.max_completion_tokens`).
    pub max_output_tokens: Option<i64>,
    /// Request parameters the model accepts (`temperature`, `top_p`, `tools`, ...).
    pub supported_parameters: Vec<String>,
    /// Default values the provider recommends (`temperature`, `top_p`, ...), when it says.
    pub parameter_defaults: BTreeMap<String, f64>,
    /// Who made the model (the part of the id before `/`, in its usual spelling).
    pub developer: Option<String>,
    pub hugging_face_id: Option<String>,
    pub license: Option<String>,
    /// When the model was published, in milliseconds since the epoch.
    pub released_at: Option<i64>,
    /// Popularity upstream (Hugging Face downloads), for sorting.
    pub downloads: Option<i64>,
}

/// Lower-case words made of letters and digits, joined by single spaces: what search matches
/// against, so case and punctuation never matter (`Claude-Opus`, `claude opus` and
/// `anthropic/claude` all meet `anthropic claude opus 4`).
pub fn normalize_for_search(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(ch.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_normalisation_ignores_case_and_punctuation() {
        assert_eq!(
            normalize_for_search("Anthropic: Claude-Opus 4"),
            "anthropic claude opus 4"
        );
        assert_eq!(
            normalize_for_search("  anthropic/claude  "),
            "anthropic claude"
        );
        assert_eq!(normalize_for_search("Llama-3.1_8B"), "llama 3 1 8b");
        assert_eq!(normalize_for_search("--"), "");
    }

    #[test]
    fn free_needs_both_token_prices_known_and_zero() {
        let mut pricing = Pricing {
            prompt: Some(Price::ZERO),
            completion: Some(Price::ZERO),
            ..Pricing::default()
        };
        assert!(pricing.is_free());
        pricing.completion = None;
        assert!(!pricing.is_free(), "unknown is not free");
    }

    #[test]
    fn names_round_trip() {
        for c in Capability::ALL {
            assert_eq!(Capability::parse(c.as_str()), Some(c));
        }
        for s in ModelStatus::ALL {
            assert_eq!(ModelStatus::parse(s.as_str()), Some(s));
        }
        let seeded: Vec<_> = SEED_CATEGORIES.iter().map(|c| c.slug).collect();
        for category in SEED_CATEGORIES {
            if let Some(parent) = category.parent {
                assert!(seeded.contains(&parent), "{parent}");
            }
        }
    }
}

/// The range and default of one numeric request parameter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParameterRange {
    pub min: f64,
    pub max: f64,
    pub default: f64,
}

/// The documented range and default of a parameter by API name (`min`, `max`, `default`).
fn standard(name: &str) -> Option<(f64, f64, f64)> {
    sampling_param(name)
        .filter(|param| param.name == name)
        .map(|param| (param.min, param.max, param.default))
}

/// The documented range of a sampling parameter by API name, for checking a request when the
/// model lists no range of its own.
pub fn standard_range(name: &str) -> Option<(f64, f64)> {
    standard(name).map(|(min, max, _)| (min, max))
}

/// The ranges of the numeric parameters a model supports, with the provider's recommended
/// defaults where it gives them (clamped into range).
pub fn parameter_ranges(facts: &ModelFacts) -> BTreeMap<String, ParameterRange> {
    facts
        .supported_parameters
        .iter()
        .filter_map(|name| {
            let (min, max, default) = standard(name)?;
            let default = facts
                .parameter_defaults
                .get(name)
                .copied()
                .filter(|d| d.is_finite())
                .map_or(default, |d| d.clamp(min, max));
            Some((name.clone(), ParameterRange { min, max, default }))
        })
        .collect()
}

/// The name without the developer prefix OpenRouter puts in front: `Anthropic: Claude Opus 4`
/// → `Claude Opus 4`.
pub fn display_name(name: &str) -> &str {
    match name.split_once(": ") {
        Some((_, rest)) if !rest.trim().is_empty() => rest.trim(),
        _ => name.trim(),
    }
}

/// A short token count for people: `128K` for 131,072 (powers of two read as binary K), `200K`
/// for 200,000, `1M` for 1,048,576 or 1,000,000.
pub fn short_tokens(tokens: i64) -> String {
    let (kilo, mega) = if tokens % 1024 == 0 {
        (1024, 1_048_576)
    } else {
        (1000, 1_000_000)
    };
    if tokens >= mega {
        let millions = tokens as f64 / mega as f64;
        let text = format!("{millions:.1}");
        format!("{}M", text.trim_end_matches(".0"))
    } else if tokens >= kilo {
        format!("{}K", (tokens + kilo / 2) / kilo)
    } else {
        tokens.to_string()
    }
}

/// A short description written from a model's facts, used until a sync brings the provider's
/// own (the seed catalog carries no provider texts).
pub fn describe(facts: &ModelFacts) -> String {
    let name = display_name(&facts.name);
    let kind = SEED_CATEGORIES
        .iter()
        .find(|c| c.slug == facts.category)
        .map_or("AI", |c| c.name);
    let mut text = match &facts.developer {
        Some(developer) => format!("{name} is a {} model by {developer}", kind.to_lowercase()),
        None => format!("{name} is a {} model", kind.to_lowercase()),
    };
    if let Some(context) = facts.context_length.filter(|c| *c > 0) {
        text.push_str(&format!(
            " with a {}-token context window",
            short_tokens(context)
        ));
    }
    text.push('.');
    let mut abilities = Vec::new();
    if facts.capabilities.image_analysis {
        abilities.push("reads images");
    }
    if facts.capabilities.image_generation {
        abilities.push("generates images");
    }
    if facts.supported_parameters.iter().any(|p| p == "tools") {
        abilities.push("calls tools");
    }
    if facts.supported_parameters.iter().any(|p| p == "reasoning") {
        abilities.push("can reason step by step before answering");
    }
    if !abilities.is_empty() {
        text.push_str(&format!(" It {}.", join_words(&abilities)));
    }
    match (facts.pricing.prompt, facts.pricing.completion) {
        (Some(p), Some(c)) if p.is_zero() && c.is_zero() => text.push_str(" Free to use."),
        (Some(p), Some(c)) => text.push_str(&format!(
            " Input costs {} and output {} tokens.",
            crate::money::per_million_label(Some(p)).replace(" / 1M", " per million"),
            crate::money::per_million_label(Some(c)).replace(" / 1M", " per million"),
        )),
        _ => {}
    }
    text
}

fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod describe_tests {
    use super::*;

    #[test]
    fn descriptions_come_from_facts() {
        let facts = ModelFacts {
            name: "Anthropic: Claude Opus 4".into(),
            developer: Some("Anthropic".into()),
            category: "chat".into(),
            context_length: Some(200_000),
            capabilities: Capabilities {
                image_analysis: true,
                ..Capabilities::default()
            },
            supported_parameters: vec!["tools".into(), "temperature".into()],
            pricing: Pricing {
                prompt: Price::parse("0.000015").ok(),
                completion: Price::parse("0.000075").ok(),
                ..Pricing::default()
            },
            ..ModelFacts::default()
        };
        assert_eq!(
            describe(&facts),
            "Claude Opus 4 is a chat model by Anthropic with a 200K-token context window. \
             It reads images and calls tools. Input costs $15 per million and output $75 per million tokens."
        );
    }

    #[test]
    fn ranges_follow_supported_parameters_and_provider_defaults() {
        let facts = ModelFacts {
            supported_parameters: vec!["temperature".into(), "top_p".into(), "tools".into()],
            parameter_defaults: [("top_p".to_owned(), 0.95), ("temperature".to_owned(), 9.0)]
                .into_iter()
                .collect(),
            ..ModelFacts::default()
        };
        let ranges = parameter_ranges(&facts);
        assert_eq!(ranges.len(), 2);
        assert_eq!(ranges["top_p"].default, 0.95);
        assert_eq!(ranges["temperature"].default, 2.0, "clamped into range");
        assert_eq!(display_name("Meta: Llama 3"), "Llama 3");
        assert_eq!(display_name("gpt-4o"), "gpt-4o");
        assert_eq!(short_tokens(131_072), "128K");
        assert_eq!(short_tokens(200_000), "200K");
        assert_eq!(short_tokens(1_048_576), "1M");
        assert_eq!(short_tokens(2_000_000), "2M");
        assert_eq!(short_tokens(1_500_000), "1.5M");
        assert_eq!(short_tokens(32_768), "32K");
        assert_eq!(short_tokens(512), "512");
    }
}
