//! `parse_openai_models_list` on an Ollama-style list.

use aipasta_core::catalog::{ModelFacts, Pricing};
use aipasta_mock::fixtures::OPENAI_MODELS_SMALL;
use aipasta_providers::catalog::{CatalogError, parse_openai_models_list};

use crate::support::{model, strings};

fn small(provider: &str, prefix: &str) -> Vec<ModelFacts> {
    parse_openai_models_list(OPENAI_MODELS_SMALL.as_bytes(), provider, prefix).unwrap()
}

#[test]
fn listed_models_become_chat_models_with_unknown_prices() {
    let models = small("ollama", "ollama/");
    assert_eq!(models.len(), 4);
    let m = model(&models, "llama3.2:3b");
    assert_eq!(m.provider, "ollama");
    assert_eq!(m.slug, "ollama/llama3.2:3b");
    assert_eq!(m.name, "llama3.2:3b");
    assert_eq!(m.category, "chat");
    assert!(m.capabilities.chat_completion && m.capabilities.text_generation);
    assert_eq!(m.pricing, Pricing::default());
    assert_eq!(m.released_at, Some(1_730_000_000_000));
    assert_eq!(m.developer, None);
    assert_eq!(m.input_modalities, strings(&["text"]));
}

#[test]
fn embeddings_code_and_namespaced_ids_are_recognised() {
    let models = small("ollama", "ollama/");
    let embed = model(&models, "nomic-embed-text:latest");
    assert_eq!(embed.category, "embeddings");
    assert!(embed.capabilities.embedding && !embed.capabilities.chat_completion);
    assert_eq!(model(&models, "qwen2.5-coder:7b").category, "code");

    let llama = model(&models, "meta-llama/Llama-3.1-8B-Instruct");
    assert_eq!(llama.name, "Llama-3.1-8B-Instruct");
    assert_eq!(llama.developer.as_deref(), Some("Meta"));
    assert_eq!(
        llama.hugging_face_id, None,
        "only the Hugging Face router lists Hub ids"
    );
    assert_eq!(llama.tags, strings(&["meta-llama"]));

    let routed = small("huggingface", "hf-router/");
    let llama = model(&routed, "meta-llama/Llama-3.1-8B-Instruct");
    assert_eq!(llama.slug, "hf-router/meta-llama/Llama-3.1-8B-Instruct");
    assert_eq!(
        llama.hugging_face_id.as_deref(),
        Some("meta-llama/Llama-3.1-8B-Instruct")
    );
}

#[test]
fn router_modalities_are_read_when_present() {
    let body = br#"{"object": "list", "data": [{"id": "acme/see-7b", "object": "model",
        "created": 0, "owned_by": "acme",
        "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]},
        "providers": [{"provider": "somewhere", "status": "live"}]}]}"#;
    let models = parse_openai_models_list(body, "huggingface", "hf/").unwrap();
    assert!(models[0].capabilities.image_analysis);
    assert_eq!(models[0].released_at, None, "0 is no date");
    assert_eq!(models[0].tags, strings(&["acme", "vision"]));
}

#[test]
fn a_body_without_data_is_an_error_naming_the_endpoint() {
    match parse_openai_models_list(br#"{"error": {"message": "nope"}}"#, "ollama", "ollama/") {
        Err(CatalogError::InvalidJson {
            url_or_source,
            message,
        }) => {
            assert_eq!(url_or_source, "ollama");
            assert!(message.contains("nope"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
