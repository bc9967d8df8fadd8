//! The mock's shapes against the providers' own: the required fields of the OpenAI and
//! OpenRouter OpenAPI specs, and the Hugging Face recordings (TGI token events, the router's
//! chunks, summaries, translations). Each test skips, saying so, when the shared fixtures are
//! not on this machine.

use std::collections::BTreeSet;

use aipasta_mock::{MockConfig, MockServer};
use serde_json::{Value, json};

use crate::support::{chat, chunks, parse_sse, post, read_body, shared_fixture};

/// The `required:` list at `indent` spaces, first met inside the component schema `schema`
/// (a block-style OpenAPI YAML with schemas at four spaces).
fn required(spec: &str, schema: &str, indent: usize) -> Vec<String> {
    let header = format!("    {schema}:");
    let mut lines = spec.lines().skip_while(|line| *line != header).skip(1);
    let marker = format!("{}required:", " ".repeat(indent));
    let item = format!("{}- ", " ".repeat(indent + 2));
    let mut found = Vec::new();
    let mut inside = false;
    for line in lines.by_ref() {
        let schema_ended = !line.starts_with("     ") && !line.trim().is_empty();
        if schema_ended {
            break;
        }
        if inside {
            match line.strip_prefix(&item) {
                Some(name) => {
                    found.push(name.trim().trim_matches('\'').trim_matches('"').to_owned())
                }
                None => break,
            }
        } else if line == marker {
            inside = true;
        }
    }
    assert!(
        !found.is_empty(),
        "no required list for {schema} at indent {indent}"
    );
    found
}

fn assert_has(value: &Value, fields: &[String], what: &str) {
    for field in fields {
        assert!(
            value.get(field).is_some(),
            "{what} lacks required `{field}`: {value}"
        );
    }
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// The first `data: {…}` event in a recording that starts with `prefix`, parsed.
fn recorded_event(cassette: &str, prefix: &str) -> Value {
    let start = cassette
        .find(&format!("data: {prefix}"))
        .expect("the recording has the event")
        + 6;
    let line = cassette[start..].lines().next().unwrap();
    serde_json::from_str(line).unwrap()
}

#[tokio::test]
async fn openai_answers_have_every_field_the_spec_requires() {
    let Some(spec) = shared_fixture("openai-openapi.yaml") else {
        return;
    };
    let server = MockServer::start(MockConfig::default()).await;
    let base = server.openai_base_url();

    let answer: Value = post(&format!("{base}/chat/completions"), &chat("m", "x", false))
        .await
        .json()
        .await
        .unwrap();
    assert_has(
        &answer,
        &required(&spec, "CreateChatCompletionResponse", 6),
        "chat.completion",
    );
    assert_has(
        &answer["choices"][0],
        &required(&spec, "CreateChatCompletionResponse", 12),
        "choice",
    );
    assert_has(
        &answer["usage"],
        &required(&spec, "CompletionUsage", 6),
        "usage",
    );

    let mut request = chat("m", "x", true);
    request["stream_options"] = json!({"include_usage": true});
    let events = parse_sse(
        &read_body(post(&format!("{base}/chat/completions"), &request).await)
            .await
            .unwrap(),
    );
    let chunk_fields = required(&spec, "CreateChatCompletionStreamResponse", 6);
    let choice_fields = required(&spec, "CreateChatCompletionStreamResponse", 12);
    for chunk in chunks(&events) {
        assert_has(&chunk, &chunk_fields, "chat.completion.chunk");
        for choice in chunk["choices"].as_array().unwrap() {
            assert_has(choice, &choice_fields, "chunk choice");
        }
    }

    let completion: Value = post(
        &format!("{base}/completions"),
        &json!({"model": "m", "prompt": "x"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_has(
        &completion,
        &required(&spec, "CreateCompletionResponse", 6),
        "text_completion",
    );
    assert_has(
        &completion["choices"][0],
        &required(&spec, "CreateCompletionResponse", 12),
        "completion choice",
    );

    let embeddings: Value = post(
        &format!("{base}/embeddings"),
        &json!({"model": "m", "input": "x"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_has(
        &embeddings,
        &required(&spec, "CreateEmbeddingResponse", 6),
        "embeddings",
    );
    assert_has(
        &embeddings["usage"],
        &required(&spec, "CreateEmbeddingResponse", 10),
        "embedding usage",
    );
    assert_has(
        &embeddings["data"][0],
        &required(&spec, "Embedding", 6),
        "embedding",
    );

    let images: Value = post(
        &format!("{base}/images/generations"),
        &json!({"prompt": "x"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_has(&images, &required(&spec, "ImagesResponse", 6), "images");
}

#[tokio::test]
async fn openrouter_answers_have_every_field_the_spec_requires() {
    let Some(spec) = shared_fixture("openrouter-openapi.yaml") else {
        return;
    };
    let server = MockServer::start(MockConfig::default()).await;
    let url = format!("{}/chat/completions", server.openrouter_base_url());
    let answer: Value = post(&url, &chat("m", "x", false))
        .await
        .json()
        .await
        .unwrap();
    assert_has(&answer, &required(&spec, "ChatResult", 6), "ChatResult");
    assert_has(
        &answer["choices"][0],
        &required(&spec, "ChatChoice", 6),
        "ChatChoice",
    );
    let events = parse_sse(
        &read_body(post(&url, &chat("m", "x", true)).await)
            .await
            .unwrap(),
    );
    let chunk_fields = required(&spec, "ChatStreamChunk", 6);
    let choice_fields = required(&spec, "ChatStreamChoice", 6);
    for chunk in chunks(&events) {
        assert_has(&chunk, &chunk_fields, "ChatStreamChunk");
        assert_has(&chunk["choices"][0], &choice_fields, "ChatStreamChoice");
        // Optional in the spec, but a string when present.
        assert!(chunk.get("system_fingerprint").is_none_or(Value::is_string));
    }
}

#[tokio::test]
async fn tgi_token_events_match_the_recording() {
    let Some(cassette) = shared_fixture("hf-cassettes/test_http_session_correctly_closed.yaml")
    else {
        return;
    };
    let recorded = recorded_event(&cassette, "{\"index\"");
    let server = MockServer::start(MockConfig::default()).await;
    let url = format!(
        "{}/models/meta-llama/Llama-3.1-8B-Instruct",
        server.hf_inference_url()
    );
    let request = json!({"inputs": "Count", "parameters": {"max_new_tokens": 1}, "stream": true});
    let events = parse_sse(&read_body(post(&url, &request).await).await.unwrap());
    let events = chunks(&events);
    assert_eq!(events.len(), 1, "max_new_tokens 1");
    let ours = &events[0];
    assert_eq!(keys(ours), keys(&recorded));
    assert_eq!(keys(&ours["token"]), keys(&recorded["token"]));
    assert_eq!(ours["index"], recorded["index"]);
    assert_eq!(
        ours["details"], recorded["details"],
        "null without `details`"
    );
    assert!(ours["generated_text"].is_string() && recorded["generated_text"].is_string());
}

#[tokio::test]
async fn router_chunks_match_the_recording() {
    let Some(cassette) =
        shared_fixture("hf-cassettes/test_openai_compatibility_with_stream_true.yaml")
    else {
        return;
    };
    let recorded = recorded_event(&cassette, "{\"object\":\"chat.completion.chunk\"");
    let server = MockServer::start(MockConfig::default()).await;
    let url = format!("{}/chat/completions", server.hf_router_base_url());
    let mut request = chat("meta-llama/Llama-3.1-8B-Instruct", "x", true);
    request["stream_options"] = json!({"include_usage": true});
    let events = parse_sse(&read_body(post(&url, &request).await).await.unwrap());
    let first = &chunks(&events)[0];
    assert_eq!(keys(first), keys(&recorded));
    assert_eq!(keys(&first["choices"][0]), keys(&recorded["choices"][0]));
    assert_eq!(
        keys(&first["choices"][0]["delta"]),
        keys(&recorded["choices"][0]["delta"])
    );
    assert_eq!(first["usage"], recorded["usage"]);
}

#[tokio::test]
async fn summaries_and_translations_match_the_recordings() {
    let summary = shared_fixture(
        "hf-cassettes/TestInferenceClient.test_summarization[hf-inference,summarization].yaml",
    );
    let translation = shared_fixture(
        "hf-cassettes/TestInferenceClient.test_translation[hf-inference,translation].yaml",
    );
    let (Some(summary), Some(translation)) = (summary, translation) else {
        return;
    };
    assert!(
        summary.contains("[{\\\"summary_text\\\":"),
        "the recording's key"
    );
    assert!(
        translation.contains("[{\"translation_text\":"),
        "the recording's key"
    );
    let server = MockServer::start(MockConfig::default()).await;
    let base = format!("{}/models", server.hf_inference_url());
    let request = json!({"inputs": "Hello world", "parameters": {}});
    let body: Value = post(&format!("{base}/condense/brief-bart-large"), &request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys(&body[0]), BTreeSet::from(["summary_text".to_owned()]));
    let body: Value = post(&format!("{base}/polyglot-nlp/opus-mt-de-en-lite"), &request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        keys(&body[0]),
        BTreeSet::from(["translation_text".to_owned()])
    );
}
