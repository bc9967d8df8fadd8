//! `parse_huggingface_hub_models` on the small hand-written Hub list.

use aipasta_core::catalog::{Capabilities, ModelFacts, Pricing};
use aipasta_mock::fixtures::HF_HUB_MODELS_SMALL;
use aipasta_providers::catalog::{CatalogError, parse_huggingface_hub_models};

use crate::support::{model, strings};

fn small() -> Vec<ModelFacts> {
    parse_huggingface_hub_models(HF_HUB_MODELS_SMALL.as_bytes()).unwrap()
}

#[test]
fn known_pipelines_are_imported_and_others_skipped() {
    let models = small();
    let categories: Vec<_> = models
        .iter()
        .map(|m| (m.provider_model_id.as_str(), m.category.as_str()))
        .collect();
    assert_eq!(
        categories,
        [
            ("acme-labs/Orca-Chat-7B", "chat"),
            ("acme-labs/Orca-Base-1B", "text-generation"),
            ("acme-labs/Orca-Coder-7B", "code"),
            ("pixelforge/Sketchy-XL", "image-generation"),
            ("condense/brief-bart-large", "summarization"),
            ("polyglot-nlp/opus-mt-de-en-lite", "translation"),
            ("vectorhub/mini-embed-v2", "embeddings"),
            ("seeing-eye/Vista-VL-3B", "image-analysis"),
        ],
        "the speech model is skipped"
    );
}

#[test]
fn a_conversational_model_keeps_the_hub_facts() {
    let models = small();
    let m = model(&models, "acme-labs/Orca-Chat-7B");
    assert_eq!(m.provider, "huggingface");
    assert_eq!(m.slug, "hf/acme-labs/Orca-Chat-7B");
    assert_eq!(m.name, "Orca-Chat-7B");
    assert_eq!(m.developer.as_deref(), Some("acme-labs"));
    assert_eq!(m.hugging_face_id.as_deref(), Some("acme-labs/Orca-Chat-7B"));
    assert_eq!(m.license.as_deref(), Some("apache-2.0"));
    assert_eq!(m.downloads, Some(1_250_000));
    assert_eq!(m.released_at, Some(1_768_472_430_000)); // 2026-01-15T10:20:30Z
    assert_eq!(
        m.tags,
        strings(&["acme-labs", "conversational", "transformers"])
    );
    assert_eq!(m.pricing, Pricing::default(), "unknown, not free");
    assert_eq!(
        m.capabilities,
        Capabilities {
            text_generation: true,
            chat_completion: true,
            ..Capabilities::default()
        }
    );
    assert_eq!(m.description, None);
}

#[test]
fn pipelines_set_capabilities_and_modalities() {
    let models = small();
    let base = model(&models, "acme-labs/Orca-Base-1B");
    assert!(base.capabilities.text_generation && !base.capabilities.chat_completion);
    assert_eq!(base.license.as_deref(), Some("mit"));

    let coder = model(&models, "acme-labs/Orca-Coder-7B");
    assert!(coder.capabilities.code_generation && coder.capabilities.chat_completion);

    let image = model(&models, "pixelforge/Sketchy-XL");
    assert!(image.capabilities.image_generation && !image.capabilities.text_generation);
    assert_eq!(image.output_modalities, strings(&["image"]));
    assert_eq!(image.license.as_deref(), Some("openrail++"));
    assert_eq!(image.tags, strings(&["diffusers", "pixelforge"]));

    assert!(
        model(&models, "condense/brief-bart-large")
            .capabilities
            .summarization
    );
    assert!(
        model(&models, "polyglot-nlp/opus-mt-de-en-lite")
            .capabilities
            .translation
    );

    let embed = model(&models, "vectorhub/mini-embed-v2");
    assert_eq!(
        embed.capabilities,
        Capabilities {
            embedding: true,
            ..Capabilities::default()
        }
    );
    assert_eq!(embed.output_modalities, strings(&["embeddings"]));
    assert!(embed.tags.contains(&"sentence-transformers".to_owned()));

    let vision = model(&models, "seeing-eye/Vista-VL-3B");
    assert!(vision.capabilities.image_analysis && vision.capabilities.chat_completion);
    assert_eq!(vision.input_modalities, strings(&["image", "text"]));
    assert!(vision.tags.contains(&"vision".to_owned()));
}

#[test]
fn bad_entries_are_skipped_and_bad_bodies_refused() {
    let body = br#"[
        {"pipeline_tag": "text-generation"},
        {"id": "a/no-pipeline"},
        {"id": "a/odd", "pipeline_tag": "translation", "downloads": "lots", "createdAt": 5, "tags": "x"}
    ]"#;
    let models = parse_huggingface_hub_models(body).unwrap();
    assert_eq!(models.len(), 1);
    assert_eq!(models[0].downloads, None);
    assert_eq!(models[0].released_at, None);
    assert_eq!(models[0].license, None);

    for body in [&b"{\"data\": []}"[..], b"not json"] {
        assert!(matches!(
            parse_huggingface_hub_models(body),
            Err(CatalogError::InvalidJson { .. })
        ));
    }
}
