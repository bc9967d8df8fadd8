//! The model catalog's provider side: turning OpenRouter, Hugging Face Hub and OpenAI-compatible
//! model lists into [`ModelFacts`], and fetching those lists.

mod classify;
mod error;
mod fetch;
mod huggingface;
mod lenient;
mod openai_compatible;
mod openrouter;

use aipasta_core::catalog::ModelFacts;

pub use error::CatalogError;
pub use fetch::{
    CATALOG_FETCH_TIMEOUT, DEFAULT_HF_HUB_URL, DEFAULT_OPENROUTER_BASE_URL, HF_HUB_PIPELINE_TAGS,
    fetch_huggingface_hub_models, fetch_huggingface_hub_models_within,
    fetch_openai_compatible_models, fetch_openai_compatible_models_within, fetch_openrouter_models,
    fetch_openrouter_models_within,
};
pub use huggingface::parse_huggingface_hub_models;
pub use openai_compatible::parse_openai_models_list;
pub use openrouter::parse_openrouter_models;

/// Drops the providers' description texts: the compiled-in seed catalog must not redistribute
/// them.
pub fn strip_descriptions(models: &mut [ModelFacts]) {
    for model in models {
        model.description = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_descriptions_clears_every_description() {
        let mut models = vec![
            ModelFacts {
                description: Some("provider text".to_owned()),
                ..ModelFacts::default()
            },
            ModelFacts::default(),
        ];
        strip_descriptions(&mut models);
        assert!(models.iter().all(|m| m.description.is_none()));
    }
}
