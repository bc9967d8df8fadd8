//! The parsers on real Hugging Face answers: the VCR recordings in
//! `../shared/fixtures/hf-cassettes` (skipped, with a message, when that folder is absent).

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

use super::huggingface::{
    TgiDecoder, parse_features, parse_generated_text, parse_image, parse_text_field,
};
use super::openai::{ChunkDecoder, TextEndpoint};
use super::test_support::{decode, text, upstream};
use super::{ProviderErrorKind, StreamEvent, Usage, errors};
use crate::ProviderKind;

const CASSETTES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/hf-cassettes"
);

#[derive(Debug, Deserialize)]
struct Cassette {
    interactions: Vec<Interaction>,
}

#[derive(Debug, Deserialize)]
struct Interaction {
    request: Request,
    response: Response,
}

#[derive(Debug, Deserialize)]
struct Request {
    uri: String,
}

#[derive(Debug, Deserialize)]
struct Response {
    body: Body,
    #[serde(default)]
    headers: BTreeMap<String, Vec<String>>,
    status: Status,
}

#[derive(Debug, Deserialize)]
struct Body {
    /// Text, or base64 for the `!!binary` bodies (read as text by the YAML parser).
    string: String,
}

#[derive(Debug, Deserialize)]
struct Status {
    code: u16,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    }

    fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, values) in &self.headers {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::from_bytes(name.as_bytes()),
                values.first().map(|v| HeaderValue::from_str(v)),
            ) {
                map.insert(name, value);
            }
        }
        map
    }

    fn bytes(&self) -> Vec<u8> {
        self.body.string.as_bytes().to_vec()
    }
}

/// The cassette's interactions, or `None` (with a message) when the fixtures are absent.
fn cassette(name: &str) -> Option<Vec<Interaction>> {
    let path = format!("{CASSETTES}/{name}.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("SKIPPED: ../shared/fixtures not found ({path})");
        return None;
    };
    let cassette: Cassette = serde_norway::from_str(&text).unwrap();
    Some(cassette.interactions)
}

/// The one interaction whose URI contains `uri_part` (and has `status`).
fn answer<'a>(interactions: &'a [Interaction], uri_part: &str, status: u16) -> &'a Response {
    &interactions
        .iter()
        .find(|i| i.request.uri.contains(uri_part) && i.response.status.code == status)
        .unwrap_or_else(|| panic!("no {status} answer for {uri_part}"))
        .response
}

#[test]
fn summarization() {
    let Some(interactions) =
        cassette("TestInferenceClient.test_summarization[hf-inference,summarization]")
    else {
        return;
    };
    let response = answer(&interactions, "hf-inference/models/", 200);
    let up = upstream(ProviderKind::HuggingFace);
    let completion = parse_text_field(&up, "m", &response.bytes(), "summary_text").unwrap();
    assert!(
        completion.content.starts_with("eloqu eloqu"),
        "{}",
        completion.content
    );
    assert!(
        completion.content.ends_with("veto veto"),
        "{}",
        completion.content
    );
    assert!(
        completion.content.contains('\u{30F4}'),
        "escaped katakana decoded"
    );
}

#[test]
fn translation() {
    let Some(interactions) =
        cassette("TestInferenceClient.test_translation[hf-inference,translation]")
    else {
        return;
    };
    let response = answer(&interactions, "hf-inference/models/t5-small", 200);
    let up = upstream(ProviderKind::HuggingFace);
    let completion =
        parse_text_field(&up, "t5-small", &response.bytes(), "translation_text").unwrap();
    assert_eq!(completion.content, "Hallo Welt");
}

#[test]
fn feature_extraction_of_token_level_vectors() {
    let Some(interactions) = cassette(
        "TestInferenceClient.test_feature_extraction_with_sentence_transformers[hf-inference,feature-extraction]",
    ) else {
        return;
    };
    let response = answer(&interactions, "feature-extraction/facebook/bart-base", 200);
    let body = response.bytes();
    let up = upstream(ProviderKind::HuggingFace);
    let completion = parse_features(&up, "facebook/bart-base", &body).unwrap();
    // bart-base answers [inputs][tokens][768]: one vector per token.
    let raw: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let tokens = raw[0].as_array().unwrap().len();
    assert!(tokens > 1);
    assert_eq!(completion.embeddings.len(), tokens);
    assert!(completion.embeddings.iter().all(|v| v.len() == 768));
    assert!((completion.embeddings[0][0] - 2.424_803_7).abs() < 1e-6);
}

#[test]
fn text_to_image_bytes() {
    let Some(interactions) =
        cassette("TestInferenceClient.test_text_to_image_default[hf-inference,text-to-image]")
    else {
        return;
    };
    let response = answer(&interactions, "hf-inference/models/CompVis", 200);
    let clean: String = response
        .body
        .string
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let jpeg = base64::engine::general_purpose::STANDARD
        .decode(clean)
        .unwrap();
    let content_type = response.header("content-type").unwrap();
    assert_eq!(content_type, "image/jpeg");
    let up = upstream(ProviderKind::HuggingFace);
    let completion = parse_image(
        &up,
        "CompVis/stable-diffusion-v1-4",
        content_type,
        jpeg.clone(),
    )
    .unwrap();
    assert_eq!(completion.images.len(), 1);
    assert_eq!(completion.images[0].mime_type, "image/jpeg");
    assert_eq!(completion.images[0].bytes, jpeg);
    assert!(jpeg.starts_with(b"\xFF\xD8\xFF"));
    // Without a content type, the bytes say what they are.
    let sniffed = parse_image(&up, "m", "", jpeg).unwrap();
    assert_eq!(sniffed.images[0].mime_type, "image/jpeg");
}

#[test]
fn tgi_generation_with_details() {
    let Some(interactions) = cassette("TestTextGenerationClientVCR.test_generate_best_of") else {
        return;
    };
    let response = answer(&interactions, "hf-inference/models/google/flan-t5-xxl", 200);
    let up = upstream(ProviderKind::HuggingFace);
    let completion = parse_generated_text(&up, "google/flan-t5-xxl", &response.bytes()).unwrap();
    assert_eq!(completion.content, "5");
    assert_eq!(completion.finish_reason.as_deref(), Some("length"));
    assert_eq!(
        completion.usage,
        Some(Usage {
            prompt_tokens: 0,
            completion_tokens: 1,
            total_tokens: 1,
            cost: None
        })
    );
}

#[test]
fn pipeline_generation_and_its_refusal() {
    let Some(interactions) = cassette("TestTextGenerationClientVCR.test_generate_non_tgi_endpoint")
    else {
        return;
    };
    let up = upstream(ProviderKind::HuggingFace);
    let ok = answer(&interactions, "hf-inference/models/gpt2", 200);
    let completion = parse_generated_text(&up, "gpt2", &ok.bytes()).unwrap();
    assert_eq!(completion.content, " 3 4 5 6 7 8 9 10 11 12");
    assert_eq!(completion.usage, None);

    let refused = answer(&interactions, "hf-inference/models/gpt2", 400);
    let error = errors::status_error(&up, "gpt2", 400, &refused.header_map(), &refused.bytes());
    assert_eq!(error.kind, ProviderErrorKind::BadRequest);
    assert_eq!(error.status, Some(400));
    assert!(
        error
            .message
            .contains("model_kwargs` are not used by the model"),
        "{}",
        error.message
    );
    assert!(
        error.message.starts_with("Hugging Face refused"),
        "{}",
        error.message
    );
}

#[test]
fn validation_error() {
    let Some(interactions) = cassette("TestTextGenerationClientVCR.test_generate_validation_error")
    else {
        return;
    };
    let up = upstream(ProviderKind::HuggingFace);
    let refused = answer(&interactions, "hf-inference/models/google/flan-t5-xxl", 422);
    let error = errors::status_error(
        &up,
        "google/flan-t5-xxl",
        422,
        &refused.header_map(),
        &refused.bytes(),
    );
    assert_eq!(error.kind, ProviderErrorKind::BadRequest);
    assert!(
        error.message.contains("Input validation error"),
        "{}",
        error.message
    );
}

#[test]
fn loading_model() {
    let Some(interactions) =
        cassette("TestInferenceClient.test_text_classification[hf-inference,text-classification]")
    else {
        return;
    };
    let up = upstream(ProviderKind::HuggingFace);
    let loading = answer(&interactions, "hf-inference/models/distilbert", 503);
    let model = "distilbert/distilbert-base-uncased-finetuned-sst-2-english";
    let error = errors::status_error(&up, model, 503, &loading.header_map(), &loading.bytes());
    assert_eq!(error.kind, ProviderErrorKind::ModelLoading);
    assert!(error.kind.is_retryable());
    assert_eq!(error.estimated_time, Some(Duration::from_secs(20)));
    assert!(error.message.contains("still loading"), "{}", error.message);
    assert!(error.message.contains("about 20 s"), "{}", error.message);
}

#[test]
fn unauthorized_and_text_plain_refusals() {
    let up = upstream(ProviderKind::HuggingFace);
    if let Some(interactions) =
        cassette("TestInferenceClient.test_chat_completion_unprocessable_entity")
    {
        let refused = answer(&interactions, "/v1/chat/completions", 401);
        let error = errors::status_error(&up, "m", 401, &refused.header_map(), &refused.bytes());
        assert_eq!(error.kind, ProviderErrorKind::Unauthorized);
        assert!(
            error.message.contains("Invalid username or password."),
            "{}",
            error.message
        );
    }
    if let Some(interactions) =
        cassette("TestInferenceClient.test_chat_completion_unprocessable_entity.422-text-plain")
    {
        let refused = answer(&interactions, "/v1/chat/completions", 422);
        let error = errors::status_error(&up, "m", 422, &refused.header_map(), &refused.bytes());
        assert_eq!(error.kind, ProviderErrorKind::BadRequest);
        assert!(
            error
                .message
                .contains("Failed to deserialize the JSON body"),
            "{}",
            error.message
        );
        assert!(!error.message.contains('\n'));
    }
}

#[test]
fn tgi_stream_without_done() {
    let Some(interactions) = cassette("test_http_session_correctly_closed") else {
        return;
    };
    let response = answer(&interactions, "hf-inference/models/meta-llama", 200);
    let body = response.bytes();
    for chunk in [1, 7, body.len()] {
        let up = upstream(ProviderKind::HuggingFace);
        let events = decode(TgiDecoder::new(up), &body, chunk);
        assert_eq!(
            events,
            vec![
                Ok(StreamEvent::Delta(",".to_owned())),
                Ok(StreamEvent::Finished {
                    finish_reason: None
                })
            ],
            "chunk {chunk}"
        );
    }
}

#[test]
fn router_chat_stream() {
    let Some(interactions) = cassette("test_openai_compatibility_with_stream_true") else {
        return;
    };
    let response = answer(&interactions, "/v1/chat/completions", 200);
    let body = response.bytes();
    let whole = {
        let up = upstream(ProviderKind::HuggingFace);
        decode(
            ChunkDecoder::new(up, TextEndpoint::Chat, None),
            &body,
            body.len(),
        )
    };
    let up = upstream(ProviderKind::HuggingFace);
    let byte_by_byte = decode(ChunkDecoder::new(up, TextEndpoint::Chat, None), &body, 1);
    assert_eq!(whole, byte_by_byte);
    // The blank `id` is no id; the model is known from the first chunk, once.
    assert_eq!(
        whole[0],
        Ok(StreamEvent::Meta {
            provider_generation_id: None,
            model_version: Some("meta-llama/Llama-3.1-8B-Instruct".to_owned()),
        })
    );
    assert_eq!(
        whole
            .iter()
            .filter(|e| matches!(e, Ok(StreamEvent::Meta { .. })))
            .count(),
        1
    );
    let content = text(&whole);
    assert!(content.starts_with("Here we go:"), "{content}");
    assert!(content.ends_with("10."), "{content}");
    assert_eq!(
        whole.last(),
        Some(&Ok(StreamEvent::Finished {
            finish_reason: Some("stop".to_owned())
        }))
    );
}

#[test]
fn provider_stream_with_usage_in_the_finishing_chunk() {
    let Some(interactions) =
        cassette("TestInferenceClient.test_chat_completion_with_stream[together,conversational]")
    else {
        return;
    };
    let response = answer(&interactions, "together/v1/chat/completions", 200);
    let body = response.bytes();
    let up = upstream(ProviderKind::HuggingFace);
    let events = decode(ChunkDecoder::new(up, TextEndpoint::Chat, None), &body, 13);
    let n = events.len();
    assert_eq!(
        events[n - 2],
        Ok(StreamEvent::Usage(Usage {
            prompt_tokens: 26,
            completion_tokens: 20,
            total_tokens: 46,
            cost: None
        }))
    );
    assert_eq!(
        events[n - 1],
        Ok(StreamEvent::Finished {
            finish_reason: Some("length".to_owned())
        })
    );
    assert_eq!(
        events[0],
        Ok(StreamEvent::Meta {
            provider_generation_id: Some("91158e6ad8a0ef60".to_owned()),
            model_version: Some("meta-llama/Meta-Llama-3-8B-Instruct-Turbo".to_owned()),
        })
    );
    let content = text(&events);
    assert!(content.starts_with("Deep"), "{content}");
    assert!(content.ends_with(" and"), "{content}");
}
