//! OpenAI's `GET /v1/models` list (Hugging Face router, Ollama, vLLM, llama.cpp, LM Studio)
//! → [`ModelFacts`]. The list says little: an id, a date, an owner; the rest is inferred.

use aipasta_core::catalog::{Capabilities, ModelFacts};
use serde::Deserialize;
use serde_json::Value;

use crate::catalog::CatalogError;
use crate::catalog::classify::{
    developer_display_name, developer_slug, is_code_model, mentions_embeddings, tidy_tags,
};
use crate::catalog::lenient::{id_for_log, lenient, model_list, sorted_strings};

#[derive(Debug, Deserialize)]
struct RawListedModel {
    id: String,
    /// Seconds since the epoch.
    #[serde(default, deserialize_with = "lenient")]
    created: Option<i64>,
    /// The Hugging Face router adds modalities; plain OpenAI-compatible servers do not.
    #[serde(default, deserialize_with = "lenient")]
    architecture: RawArchitecture,
}

#[derive(Debug, Default, Deserialize)]
struct RawArchitecture {
    #[serde(default, deserialize_with = "lenient")]
    input_modalities: Vec<Value>,
    #[serde(default, deserialize_with = "lenient")]
    output_modalities: Vec<Value>,
}

/// Parses `{"object": "list", "data": [{"id", "object", "created", "owned_by"}]}`. `provider` is
/// the endpoint's name (stored in `provider`); `slug_prefix` is put before each id to make its
/// public slug (e.g. `ollama/`). Prices are unknown: these lists carry none.
pub fn parse_openai_models_list(
    body: &[u8],
    provider: &str,
    slug_prefix: &str,
) -> Result<Vec<ModelFacts>, CatalogError> {
    let entries = model_list(body, Some("data"), provider)?;
    let mut models = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let id = id_for_log(&entry);
        match serde_json::from_value::<RawListedModel>(entry) {
            Ok(raw) if !raw.id.trim().is_empty() => {
                models.push(model_facts(raw, provider, slug_prefix));
            }
            Ok(_) => tracing::warn!(index, provider, "skipping a listed model with an empty id"),
            Err(error) => tracing::warn!(
                index,
                id,
                provider,
                %error,
                "skipping a listed model the catalog cannot read"
            ),
        }
    }
    Ok(models)
}

fn model_facts(raw: RawListedModel, provider: &str, slug_prefix: &str) -> ModelFacts {
    let id = raw.id.trim().to_owned();
    // `meta-llama/Llama-3.1-8B-Instruct` reads as `Llama-3.1-8B-Instruct`; `llama3.2:3b` as is.
    let name = id
        .rsplit_once('/')
        .map_or(id.as_str(), |(_, n)| n)
        .to_owned();
    let embeddings = mentions_embeddings(&id, "");
    let code = !embeddings && is_code_model(&id, "");
    let category = if embeddings {
        "embeddings"
    } else if code {
        "code"
    } else {
        "chat"
    };
    let mut input = sorted_strings(&raw.architecture.input_modalities);
    if input.is_empty() {
        input = vec!["text".to_owned()];
    }
    let mut output = sorted_strings(&raw.architecture.output_modalities);
    if output.is_empty() {
        output = vec![if embeddings { "embeddings" } else { "text" }.to_owned()];
    }
    let vision = input.iter().any(|m| m == "image");
    let capabilities = Capabilities {
        text_generation: !embeddings,
        chat_completion: !embeddings,
        code_generation: code,
        image_analysis: vision,
        image_generation: output.iter().any(|m| m == "image"),
        embedding: embeddings,
        ..Capabilities::default()
    };
    let slug = developer_slug(&id);
    let developer = slug.as_deref().map(developer_display_name);
    // On the Hugging Face router the ids are Hub repository ids.
    let hugging_face_id = (provider == crate::ProviderKind::HuggingFace.as_str()
        && id.contains('/'))
    .then(|| id.clone());
    let tags = tidy_tags(vision.then(|| "vision".to_owned()).into_iter().chain(slug));

    ModelFacts {
        provider: provider.to_owned(),
        provider_model_id: id.clone(),
        slug: format!("{slug_prefix}{id}"),
        name,
        description: None,
        category: category.to_owned(),
        tags,
        pricing: Default::default(),
        capabilities,
        input_modalities: input,
        output_modalities: output,
        context_length: None,
        max_output_tokens: None,
        supported_parameters: Vec::new(),
        parameter_defaults: Default::default(),
        developer,
        hugging_face_id,
        license: None,
        released_at: raw
            .created
            .filter(|seconds| *seconds > 0)
            .and_then(|seconds| seconds.checked_mul(1000)),
        downloads: None,
    }
}
