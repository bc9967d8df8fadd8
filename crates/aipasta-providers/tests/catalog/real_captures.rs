//! The parsers on real provider captures from `../shared/fixtures` (skipped when absent).

use std::collections::BTreeMap;

use aipasta_core::catalog::{ModelFacts, SEED_CATEGORIES};
use aipasta_core::money::Price;
use aipasta_providers::catalog::{parse_huggingface_hub_models, parse_openrouter_models};
use serde_json::Value;

use crate::support::model;

const OPENROUTER_CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/openrouter-models.json"
);
const HF_CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/hf-models.json"
);

fn read_capture(path: &str) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(_) => {
            println!("SKIPPED: ../shared/fixtures not found ({path})");
            None
        }
    }
}

#[test]
fn the_real_openrouter_list_imports_completely_and_exactly() {
    let Some(body) = read_capture(OPENROUTER_CAPTURE) else {
        return;
    };
    let models = parse_openrouter_models(&body).unwrap();
    let raw: Value = serde_json::from_slice(&body).unwrap();
    let raw = raw["data"].as_array().unwrap();
    assert_eq!(models.len(), 337);
    assert_eq!(raw.len(), 337);

    for (facts, raw) in models.iter().zip(raw) {
        let id = raw["id"].as_str().unwrap();
        assert_eq!(facts.provider_model_id, id);
        assert_eq!(facts.slug, id);
        // Names are trimmed: the capture has one with a trailing space.
        assert_eq!(facts.name, raw["name"].as_str().unwrap().trim());
        assert!(facts.developer.is_some(), "{id} has no developer");
        assert!(
            SEED_CATEGORIES.iter().any(|c| c.slug == facts.category),
            "{id}: {}",
            facts.category
        );
        assert_eq!(facts.released_at, raw["created"].as_i64().map(|s| s * 1000));
        assert_eq!(
            facts.max_output_tokens,
            raw["top_provider"]["max_completion_tokens"].as_i64()
        );
        check_prices(facts, raw);
        if id.ends_with(":free") {
            assert!(facts.tags.contains(&"free".to_owned()), "{id}");
        }
        for (name, value) in raw["default_parameters"].as_object().into_iter().flatten() {
            assert_eq!(facts.parameter_defaults.get(name).copied(), value.as_f64());
        }
    }

    let flash = model(&models, "google/gemini-2.5-flash");
    assert_eq!(
        flash.pricing.cache_write.map(|p| p.to_string()).as_deref(),
        Some("0.00000008333333333333334")
    );
    assert_eq!(
        flash.pricing.prompt,
        Some(Price::parse("0.0000003").unwrap())
    );
    assert_eq!(
        flash
            .pricing
            .extra
            .get("web_search")
            .map(|p| p.to_string())
            .as_deref(),
        Some("0.014")
    );
    for router in [
        "openrouter/auto",
        "openrouter/fusion",
        "openrouter/pareto-code",
    ] {
        let m = model(&models, router);
        assert_eq!(
            (m.pricing.prompt, m.pricing.completion),
            (None, None),
            "{router}"
        );
    }
    assert_eq!(model(&models, "openrouter/pareto-code").category, "code");
    assert_eq!(
        model(&models, "~anthropic/claude-haiku-latest")
            .developer
            .as_deref(),
        Some("Anthropic")
    );
    assert_eq!(
        model(&models, "z-ai/glm-5.2").developer.as_deref(),
        Some("Z.ai")
    );

    let mut per_category: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &models {
        *per_category.entry(m.category.as_str()).or_default() += 1;
    }
    println!("OpenRouter models per category: {per_category:?}");
    let count = |category: &str| per_category.get(category).copied().unwrap_or(0);
    assert!(count("image-generation") >= 1);
    assert!(count("reasoning") >= 1);
    assert!(count("code") >= 1);
    assert!(count("chat") >= 10);
    assert!(
        count("chat") + count("reasoning") > models.len() / 2,
        "most OpenRouter models are chat or reasoning models"
    );
}

/// Every price in the capture lands where it belongs, exactly; negatives are unknown.
fn check_prices(facts: &ModelFacts, raw: &Value) {
    let id = &facts.provider_model_id;
    let pricing = raw["pricing"].as_object().unwrap();
    for (key, value) in pricing {
        let Some(text) = value.as_str() else { continue };
        let expected = if text.starts_with('-') {
            None
        } else {
            Some(Price::parse(text).unwrap())
        };
        let actual = match key.as_str() {
            "prompt" => facts.pricing.prompt,
            "completion" => facts.pricing.completion,
            "image" => facts.pricing.image,
            "request" => facts.pricing.request,
            "input_cache_read" => facts.pricing.cache_read,
            "input_cache_write" => facts.pricing.cache_write,
            other => facts.pricing.extra.get(other).copied(),
        };
        assert_eq!(actual, expected, "{id} {key}");
    }
    for key in ["prompt", "completion"] {
        if !pricing.contains_key(key) {
            let actual = if key == "prompt" {
                facts.pricing.prompt
            } else {
                facts.pricing.completion
            };
            assert_eq!(actual, Some(Price::ZERO), "{id} absent {key}");
        }
    }
}

#[test]
fn the_real_hub_list_imports() {
    let Some(body) = read_capture(HF_CAPTURE) else {
        return;
    };
    let models = parse_huggingface_hub_models(&body).unwrap();
    assert_eq!(models.len(), 2);
    let kimi = model(&models, "moonshotai/Kimi-K2-Thinking");
    assert_eq!(kimi.slug, "hf/moonshotai/Kimi-K2-Thinking");
    assert_eq!(kimi.category, "chat");
    assert!(kimi.capabilities.chat_completion);
    assert_eq!(kimi.license.as_deref(), Some("other"));
    assert_eq!(kimi.downloads, Some(5119));
    assert_eq!(kimi.developer.as_deref(), Some("moonshotai"));
    let minimax = model(&models, "MiniMaxAI/MiniMax-M2");
    assert_eq!(minimax.license.as_deref(), Some("mit"));
    assert_eq!(minimax.released_at, Some(1_761_140_710_000)); // 2025-10-22T13:45:10Z
    assert_eq!(
        minimax.tags,
        ["conversational", "minimaxai", "transformers"].map(str::to_owned)
    );
}
