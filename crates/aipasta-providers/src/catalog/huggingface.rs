//! The Hugging Face Hub's `GET /api/models` list → [`ModelFacts`]: the pipeline tag decides the
//! category, capabilities and modalities. Hub models carry no per-token price.

use aipasta_core::catalog::{Capabilities, ModelFacts};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ProviderKind;
use crate::catalog::CatalogError;
use crate::catalog::classify::{is_code_model, tidy_tags};
use crate::catalog::lenient::{id_for_log, lenient, model_list, non_blank};

const SOURCE: &str = "the Hugging Face Hub";

/// One Hub list entry, as far as the catalog reads it. Only `id` is required.
#[derive(Debug, Deserialize)]
struct RawHubModel {
    id: String,
    #[serde(default, deserialize_with = "lenient")]
    pipeline_tag: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    downloads: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    tags: Vec<Value>,
    #[serde(default, deserialize_with = "lenient")]
    library_name: Option<String>,
    #[serde(default, rename = "createdAt", deserialize_with = "lenient")]
    created_at: Option<String>,
}

/// What a pipeline tag means for the catalog.
struct Pipeline {
    category: &'static str,
    capabilities: Capabilities,
    input: &'static [&'static str],
    output: &'static [&'static str],
}

/// The pipeline tags the catalog imports; others (speech, classification, ...) are skipped.
fn pipeline(tag: &str, conversational: bool, code: bool) -> Option<Pipeline> {
    let none = Capabilities::default();
    let text_generation = Capabilities {
        text_generation: true,
        chat_completion: conversational,
        code_generation: code,
        ..none
    };
    Some(match tag {
        "text-generation" => Pipeline {
            category: if code {
                "code"
            } else if conversational {
                "chat"
            } else {
                // A base model completes text but does not hold a dialogue.
                "text-generation"
            },
            capabilities: text_generation,
            input: &["text"],
            output: &["text"],
        },
        "text-to-image" => Pipeline {
            category: "image-generation",
            capabilities: Capabilities {
                image_generation: true,
                ..none
            },
            input: &["text"],
            output: &["image"],
        },
        "summarization" => Pipeline {
            category: "summarization",
            capabilities: Capabilities {
                summarization: true,
                ..none
            },
            input: &["text"],
            output: &["text"],
        },
        "translation" => Pipeline {
            category: "translation",
            capabilities: Capabilities {
                translation: true,
                ..none
            },
            input: &["text"],
            output: &["text"],
        },
        "feature-extraction" | "sentence-similarity" => Pipeline {
            category: "embeddings",
            capabilities: Capabilities {
                embedding: true,
                ..none
            },
            input: &["text"],
            output: &["embeddings"],
        },
        "image-to-text" => Pipeline {
            category: "image-analysis",
            capabilities: Capabilities {
                image_analysis: true,
                ..none
            },
            input: &["image"],
            output: &["text"],
        },
        "image-text-to-text" => Pipeline {
            category: "image-analysis",
            capabilities: Capabilities {
                image_analysis: true,
                ..text_generation
            },
            input: &["image", "text"],
            output: &["text"],
        },
        _ => return None,
    })
}

/// Parses a Hub model list (a top-level JSON array). Models whose pipeline tag the catalog
/// does not import are skipped quietly; unreadable entries are skipped with a warning; a body
/// that is not a JSON array is an error.
pub fn parse_huggingface_hub_models(body: &[u8]) -> Result<Vec<ModelFacts>, CatalogError> {
    let entries = model_list(body, None, SOURCE)?;
    let mut models = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let id = id_for_log(&entry);
        match serde_json::from_value::<RawHubModel>(entry) {
            Ok(raw) if raw.id.trim().is_empty() => {
                tracing::warn!(index, "skipping a Hugging Face model with an empty id");
            }
            Ok(raw) => {
                if let Some(model) = model_facts(raw) {
                    models.push(model);
                }
            }
            Err(error) => tracing::warn!(
                index,
                id,
                %error,
                "skipping a Hugging Face model the catalog cannot read"
            ),
        }
    }
    Ok(models)
}

fn model_facts(raw: RawHubModel) -> Option<ModelFacts> {
    let id = raw.id.trim().to_owned();
    let tags: Vec<&str> = raw.tags.iter().filter_map(Value::as_str).collect();
    let conversational = tags.contains(&"conversational");
    let (owner, repo) = match id.split_once('/') {
        Some((owner, repo)) => (Some(owner.to_owned()), repo.to_owned()),
        None => (None, id.clone()),
    };
    let code = is_code_model(&id, "");
    let Some(pipeline) = raw
        .pipeline_tag
        .as_deref()
        .and_then(|tag| pipeline(tag, conversational, code))
    else {
        tracing::debug!(model = id, pipeline_tag = ?raw.pipeline_tag, "not a catalog pipeline");
        return None;
    };
    let license = tags
        .iter()
        .find_map(|tag| tag.strip_prefix("license:"))
        .map(str::to_owned)
        .filter(|license| !license.is_empty());
    let library = non_blank(raw.library_name);
    // A few tags that help people choose; the Hub's full list is mostly noise (arxiv ids, regions).
    let our_tags = tidy_tags(
        [
            conversational.then(|| "conversational".to_owned()),
            pipeline
                .input
                .contains(&"image")
                .then(|| "vision".to_owned()),
            library,
            owner.clone(),
        ]
        .into_iter()
        .flatten(),
    );

    Some(ModelFacts {
        provider: ProviderKind::HuggingFace.as_str().to_owned(),
        provider_model_id: id.clone(),
        slug: format!("hf/{id}"),
        name: repo,
        description: None,
        category: pipeline.category.to_owned(),
        tags: our_tags,
        // Hub models are not priced per token: unknown, which is not free.
        pricing: Default::default(),
        capabilities: pipeline.capabilities,
        input_modalities: pipeline.input.iter().map(|m| (*m).to_owned()).collect(),
        output_modalities: pipeline.output.iter().map(|m| (*m).to_owned()).collect(),
        context_length: None,
        max_output_tokens: None,
        supported_parameters: Vec::new(),
        parameter_defaults: Default::default(),
        developer: owner,
        hugging_face_id: Some(id),
        license,
        released_at: raw.created_at.as_deref().and_then(epoch_millis),
        downloads: raw.downloads,
    })
}

/// RFC 3339 (`2025-11-04T08:25:31.000Z`) → milliseconds since the epoch.
fn epoch_millis(text: &str) -> Option<i64> {
    let moment = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(moment.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_become_epoch_millis() {
        assert_eq!(
            epoch_millis("2025-11-04T08:25:31.000Z"),
            Some(1_762_244_731_000)
        );
        assert_eq!(epoch_millis("yesterday"), None);
    }
}
