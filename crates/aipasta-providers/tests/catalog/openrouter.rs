//! `parse_openrouter_models` on the small hand-written fixture and on odd bodies.

use aipasta_core::catalog::{Capabilities, ModelFacts};
use aipasta_core::money::Price;
use aipasta_mock::fixtures::OPENROUTER_MODELS_SMALL;
use aipasta_providers::catalog::{CatalogError, parse_openrouter_models, strip_descriptions};

use crate::support::{model, price, strings};

fn small() -> Vec<ModelFacts> {
    parse_openrouter_models(OPENROUTER_MODELS_SMALL.as_bytes()).unwrap()
}

#[test]
fn every_fixture_model_is_imported_in_order() {
    let ids: Vec<_> = small().into_iter().map(|m| m.provider_model_id).collect();
    assert_eq!(
        ids,
        [
            "mistralai/mistral-brio-2",
            "meta-llama/llama-5-8b-instruct:free",
            "openrouter/auto",
            "google/gemini-4-flash-lite",
            "openai/gpt-image-lite",
            "qwen/qwen4-vl-7b-instruct",
            "mistralai/devstral-nano-2",
            "openai/text-embedding-4-small",
        ]
    );
}

#[test]
fn a_priced_chat_model_keeps_every_fact() {
    let models = small();
    let m = model(&models, "mistralai/mistral-brio-2");
    assert_eq!(m.provider, "openrouter");
    assert_eq!(m.slug, "mistralai/mistral-brio-2");
    assert_eq!(m.name, "Mistral: Brio 2");
    assert_eq!(m.developer.as_deref(), Some("Mistral"), "from the name");
    assert_eq!(
        m.description.as_deref(),
        Some("A made-up general chat model for tests.")
    );
    assert_eq!(m.hugging_face_id, None, "an empty id is no id");
    assert_eq!(m.released_at, Some(1_772_323_200_000));
    assert_eq!(m.context_length, Some(256_000));
    assert_eq!(m.max_output_tokens, Some(32_000));
    assert_eq!(m.category, "chat");
    assert_eq!(
        m.tags,
        strings(&["long-context", "mistralai", "structured-outputs", "tools"])
    );
    assert_eq!(m.input_modalities, strings(&["text"]));
    assert_eq!(m.output_modalities, strings(&["text"]));
    assert!(m.supported_parameters.contains(&"tool_choice".to_owned()));
    assert_eq!(
        m.parameter_defaults.iter().collect::<Vec<_>>(),
        [(&"temperature".to_owned(), &0.7)],
        "null defaults are dropped"
    );
    assert_eq!(
        m.capabilities,
        Capabilities {
            text_generation: true,
            chat_completion: true,
            ..Capabilities::default()
        }
    );

    let p = &m.pricing;
    assert_eq!(p.prompt, price("0.000003"));
    assert_eq!(p.completion, price("0.000015"));
    assert_eq!(p.request, price("0.0005"));
    assert_eq!(p.cache_read, price("0.0000003"));
    assert_eq!(p.cache_write, price("0.00000375"));
    assert_eq!(p.image, None, "absent, not listed");
    assert_eq!(p.extra.len(), 1);
    assert_eq!(p.extra.get("web_search").copied(), price("0.01"));
}

#[test]
fn long_decimal_prices_survive_exactly() {
    let models = small();
    let m = model(&models, "google/gemini-4-flash-lite");
    let cache_write = m.pricing.cache_write.unwrap();
    assert_eq!(cache_write.to_string(), "0.00000008333333333333334");
    assert_eq!(m.pricing.cache_read, price("0.00000001"));
    assert_eq!(m.pricing.image, price("0.0000001"));
    let extra: Vec<_> = m.pricing.extra.keys().map(String::as_str).collect();
    assert_eq!(extra, ["audio", "internal_reasoning", "web_search"]);
    assert_eq!(m.pricing.extra["web_search"].to_string(), "0.014");
    assert_eq!(m.category, "reasoning");
    assert_eq!(m.developer.as_deref(), Some("Google"));
    assert_eq!(
        m.tags,
        strings(&[
            "audio",
            "file",
            "google",
            "long-context",
            "reasoning",
            "structured-outputs",
            "tools",
            "vision"
        ])
    );
    assert_eq!(
        m.input_modalities,
        strings(&["audio", "file", "image", "text", "video"])
    );
    assert!(m.capabilities.image_analysis && m.capabilities.chat_completion);
    assert!(!m.capabilities.image_generation);
}

#[test]
fn router_prices_of_minus_one_are_unknown() {
    let models = small();
    let m = model(&models, "openrouter/auto");
    assert_eq!(m.pricing.prompt, None);
    assert_eq!(m.pricing.completion, None);
    assert!(!m.pricing.is_free());
    assert!(!m.tags.contains(&"free".to_owned()));
    assert_eq!(m.name, "Auto Router");
    assert_eq!(m.developer.as_deref(), Some("OpenRouter"), "from the id");
    assert_eq!(m.context_length, Some(2_000_000), "top-level context wins");
    assert_eq!(m.max_output_tokens, None);
    assert!(m.parameter_defaults.is_empty(), "null defaults");
    assert_eq!(m.category, "reasoning");
}

#[test]
fn free_models_are_free_and_tagged() {
    let models = small();
    let m = model(&models, "meta-llama/llama-5-8b-instruct:free");
    assert_eq!(m.slug, "meta-llama/llama-5-8b-instruct:free", "suffix kept");
    assert_eq!(m.pricing.prompt, Some(Price::ZERO));
    assert_eq!(m.pricing.completion, Some(Price::ZERO));
    assert!(m.pricing.is_free());
    assert_eq!(m.tags, strings(&["free", "meta-llama"]));
    assert_eq!(m.developer.as_deref(), Some("Meta"));
    assert_eq!(
        m.hugging_face_id.as_deref(),
        Some("meta-llama/Llama-5-8B-Instruct")
    );
    assert_eq!(m.max_output_tokens, None, "null max_completion_tokens");
    let defaults: Vec<_> = m
        .parameter_defaults
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        defaults,
        [
            ("repetition_penalty", 1.1),
            ("temperature", 0.6),
            ("top_k", 40.0),
            ("top_p", 0.9)
        ]
    );
}

#[test]
fn absent_token_prices_are_zero_and_absent_others_unlisted() {
    let models = small();
    let m = model(&models, "qwen/qwen4-vl-7b-instruct");
    assert_eq!(m.pricing.prompt, Some(Price::ZERO));
    assert_eq!(m.pricing.completion, price("0.0000002"));
    assert_eq!(
        (m.pricing.image, m.pricing.request, m.pricing.cache_read),
        (None, None, None)
    );
    assert!(m.pricing.extra.is_empty());
    assert_eq!(m.description, None, "an empty description is none");
    assert_eq!(m.max_output_tokens, None);
    assert_eq!(m.category, "chat");
    assert!(m.capabilities.image_analysis);
    assert_eq!(m.tags, strings(&["qwen", "vision"]));
}

#[test]
fn image_code_and_embedding_models_get_their_categories() {
    let models = small();
    let image = model(&models, "openai/gpt-image-lite");
    assert_eq!(image.category, "image-generation");
    assert_eq!(
        image.capabilities,
        Capabilities {
            text_generation: true,
            chat_completion: true,
            image_generation: true,
            image_analysis: true,
            ..Capabilities::default()
        }
    );
    assert_eq!(image.output_modalities, strings(&["image", "text"]));
    assert_eq!(image.developer.as_deref(), Some("OpenAI"));

    let code = model(&models, "mistralai/devstral-nano-2");
    assert_eq!(code.category, "code", "code wins over reasoning");
    assert!(code.capabilities.code_generation);
    assert!(code.tags.contains(&"reasoning".to_owned()));

    let embedding = model(&models, "openai/text-embedding-4-small");
    assert_eq!(embedding.category, "embeddings");
    assert_eq!(
        embedding.capabilities,
        Capabilities {
            embedding: true,
            ..Capabilities::default()
        }
    );
    assert_eq!(embedding.output_modalities, strings(&["embeddings"]));
}

#[test]
fn unreadable_models_are_skipped_and_odd_fields_tolerated() {
    let body = br#"{"data": [
        {"name": "no id at all"},
        {"id": 42, "name": "numeric id"},
        "not even an object",
        {"id": "   "},
        {
            "id": "acme/odd-1",
            "name": "Acme: Odd 1",
            "context_length": "very long",
            "created": "yesterday",
            "architecture": "text->text",
            "pricing": {"prompt": "abc", "completion": "0.000001", "discount": 0.5,
                        "overrides": [{"min_prompt_tokens": 200000, "prompt": "0.000002"}],
                        "image_output": "0.00004", "audio": "-1"},
            "top_provider": null,
            "supported_parameters": [1, "tools", null],
            "default_parameters": {"temperature": "warm", "top_p": 0.5, "seed": true},
            "brand_new_field": {"anything": [1, 2, 3]}
        },
        {"id": "acme/bare"}
    ]}"#;
    let models = parse_openrouter_models(body).unwrap();
    let ids: Vec<_> = models
        .iter()
        .map(|m| m.provider_model_id.as_str())
        .collect();
    assert_eq!(ids, ["acme/odd-1", "acme/bare"]);

    let odd = &models[0];
    assert_eq!(odd.context_length, None);
    assert_eq!(odd.released_at, None);
    assert_eq!(odd.pricing.prompt, None, "unreadable price is unknown");
    assert_eq!(odd.pricing.completion, price("0.000001"));
    let extra: Vec<_> = odd.pricing.extra.keys().map(String::as_str).collect();
    assert_eq!(extra, ["image_output"], "negatives and non-strings dropped");
    assert_eq!(odd.supported_parameters, strings(&["tools"]));
    assert_eq!(odd.tags, strings(&["acme", "tools"]));
    assert_eq!(
        odd.parameter_defaults.iter().collect::<Vec<_>>(),
        [(&"top_p".to_owned(), &0.5)]
    );
    assert_eq!(odd.developer.as_deref(), Some("Acme"));

    let bare = &models[1];
    assert_eq!(
        bare.name, "acme/bare",
        "the id stands in for a missing name"
    );
    assert_eq!(
        bare.pricing.prompt, None,
        "no pricing block: unknown, not free"
    );
    assert!(bare.input_modalities.is_empty());
    assert_eq!(bare.category, "chat");
}

#[test]
fn the_old_modality_summary_fills_in_missing_lists() {
    let body =
        br#"{"data": [{"id": "acme/pics", "architecture": {"modality": "text+image->image"}}]}"#;
    let models = parse_openrouter_models(body).unwrap();
    assert_eq!(models[0].input_modalities, strings(&["image", "text"]));
    assert_eq!(models[0].output_modalities, strings(&["image"]));
    assert_eq!(models[0].category, "image-generation");
}

#[test]
fn bodies_that_are_not_model_lists_are_errors() {
    for body in [
        &b"<html>Bad gateway</html>"[..],
        b"",
        br#"{"models": []}"#,
        br#"[{"id": "a/b"}]"#,
        br#"{"data": {"id": "a/b"}}"#,
    ] {
        match parse_openrouter_models(body) {
            Err(CatalogError::InvalidJson { url_or_source, .. }) => {
                assert_eq!(url_or_source, "OpenRouter");
            }
            other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(body)),
        }
    }
    assert_eq!(parse_openrouter_models(br#"{"data": []}"#).unwrap(), []);
}

#[test]
fn descriptions_can_be_stripped_for_the_seed() {
    let mut models = small();
    assert!(models.iter().any(|m| m.description.is_some()));
    strip_descriptions(&mut models);
    assert!(models.iter().all(|m| m.description.is_none()));
}
