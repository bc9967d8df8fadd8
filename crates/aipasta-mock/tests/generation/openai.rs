//! OpenAI-compatible chat, completions, embeddings and images.

use aipasta_mock::{
    DEFAULT_TEXT, Fault, MockConfig, MockServer, OPENAI_CHAT_PATH, OPENAI_EMBEDDINGS_PATH,
    OPENAI_IMAGES_PATH, Outcome, Script, UsagePlacement,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::support::{chat, chat_content, chunks, data, decode_png, parse_sse, post, read_body};

fn url(server: &MockServer, route: &str) -> String {
    format!("{}/{route}", server.openai_base_url())
}

#[tokio::test]
async fn a_plain_chat_answer_has_openais_shape() {
    let server = MockServer::start(MockConfig::default()).await;
    let response = post(
        &url(&server, "chat/completions"),
        &chat("llama3.2:3b", "Say hi", false),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("x-generation-id").is_none(),
        "OpenRouter only"
    );
    let body: Value = response.json().await.unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "llama3.2:3b");
    assert!(body["system_fingerprint"].is_string());
    assert_eq!(body["choices"][0]["message"]["content"], DEFAULT_TEXT);
    assert!(body["choices"][0]["message"]["refusal"].is_null());
    assert!(body["choices"][0]["logprobs"].is_null());
    assert_eq!(body["usage"]["prompt_tokens"], 2);
    assert!(body["usage"].get("cost").is_none(), "cost is OpenRouter's");
}

#[tokio::test]
async fn include_usage_adds_a_usage_chunk_with_empty_choices() {
    let server = MockServer::start(MockConfig::default()).await;
    server.set_default_script(OPENAI_CHAT_PATH, Script::text("a b c").cost("1"));
    let mut request = chat("m", "one two three", true);
    request["stream_options"] = json!({"include_usage": true});
    let events = parse_sse(
        &read_body(post(&url(&server, "chat/completions"), &request).await)
            .await
            .unwrap(),
    );
    assert_eq!(*data(&events).last().unwrap(), "[DONE]");
    let with_usage = chunks(&events);
    assert_eq!(with_usage.len(), 5, "three deltas, the finish, the usage");
    assert_eq!(chat_content(&with_usage), "a b c");
    for chunk in &with_usage[..4] {
        assert!(
            chunk["usage"].is_null() && chunk.get("usage").is_some(),
            "usage: null"
        );
    }
    assert_eq!(with_usage[3]["choices"][0]["finish_reason"], "stop");
    assert_eq!(with_usage[3]["choices"][0]["delta"], json!({}));
    assert_eq!(with_usage[4]["choices"], json!([]));
    assert_eq!(
        with_usage[4]["usage"],
        json!({"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6})
    );

    // Without include_usage, the script's placement (default: the finish chunk).
    let events = parse_sse(
        &read_body(post(&url(&server, "chat/completions"), &chat("m", "x", true)).await)
            .await
            .unwrap(),
    );
    let plain = chunks(&events);
    assert_eq!(plain.len(), 4);
    assert!(plain[0].get("usage").is_none());
    assert_eq!(plain[3]["usage"]["completion_tokens"], 3);

    // A script that omits usage wins over include_usage (a server that ignores it).
    server.push_script(
        OPENAI_CHAT_PATH,
        Script::default().usage(UsagePlacement::Omitted),
    );
    let events = parse_sse(
        &read_body(post(&url(&server, "chat/completions"), &request).await)
            .await
            .unwrap(),
    );
    assert!(chunks_have_no_usage(&chunks(&events)));
}

fn chunks_have_no_usage(chunks: &[Value]) -> bool {
    chunks.iter().all(|chunk| chunk["usage"].is_null())
}

#[tokio::test]
async fn no_done_ends_after_the_finish_chunk() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(
        OPENAI_CHAT_PATH,
        Script::text("a b").outcome(Outcome::NoDone),
    );
    let response = post(&url(&server, "chat/completions"), &chat("m", "x", true)).await;
    let events = parse_sse(&read_body(response).await.expect("a clean end"));
    let data = data(&events);
    assert!(!data.contains(&"[DONE]"));
    let chunks = chunks(&events);
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
    assert_eq!(chat_content(&chunks), "a b");
}

#[tokio::test]
async fn mid_stream_error_is_openais_error_object() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(
        OPENAI_CHAT_PATH,
        Script::text("a b c").outcome(Outcome::ErrorAfter(1)),
    );
    let response = post(&url(&server, "chat/completions"), &chat("m", "x", true)).await;
    let events = parse_sse(&read_body(response).await.unwrap());
    let chunks = chunks(&events);
    assert_eq!(chunks.len(), 2);
    assert_eq!(chat_content(&chunks), "a");
    assert_eq!(chunks[1]["error"]["type"], "server_error");
    assert!(chunks[1]["error"]["message"].is_string());
    assert!(chunks[1].get("choices").is_none());
    assert!(!data(&events).contains(&"[DONE]"));
}

#[tokio::test]
async fn max_tokens_cuts_the_answer_with_finish_reason_length() {
    let server = MockServer::start(MockConfig::default()).await;
    server.set_default_script(OPENAI_CHAT_PATH, Script::text("one two three four five"));
    let mut request = chat("m", "x", false);
    request["max_tokens"] = json!(3);
    let body: Value = post(&url(&server, "chat/completions"), &request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "one two three");
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert_eq!(body["usage"]["completion_tokens"], 3);

    request["stream"] = json!(true);
    let events = parse_sse(
        &read_body(post(&url(&server, "chat/completions"), &request).await)
            .await
            .unwrap(),
    );
    let chunks = chunks(&events);
    assert_eq!(chat_content(&chunks), "one two three");
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "length"
    );
}

#[tokio::test]
async fn errors_have_openais_shape() {
    let server = MockServer::start(MockConfig::default()).await;
    let response = post(&url(&server, "chat/completions"), &json!({"messages": []})).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "model");

    server.push_script(OPENAI_CHAT_PATH, Script::status(401));
    server.push_script(
        OPENAI_CHAT_PATH,
        Script::outcome_only(Outcome::Status {
            status: 503,
            retry_after: Some(2),
            estimated_time: None,
        }),
    );
    let response = post(&url(&server, "chat/completions"), &chat("m", "x", false)).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_api_key");
    assert!(body["error"].get("param").is_some());
    let response = post(&url(&server, "chat/completions"), &chat("m", "x", true)).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "2");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "server_error");
}

#[tokio::test]
async fn faults_still_work_on_generation_routes() {
    let server = MockServer::start(MockConfig::default()).await;
    server.set_fault(
        OPENAI_CHAT_PATH,
        Some(Fault::Raw {
            status: 502,
            content_type: "text/html".to_owned(),
            body: "<html>Bad gateway</html>".to_owned(),
        }),
    );
    let response = post(&url(&server, "chat/completions"), &chat("m", "x", false)).await;
    assert_eq!(response.status(), 502);
    assert_eq!(response.text().await.unwrap(), "<html>Bad gateway</html>");
    server.set_fault(OPENAI_CHAT_PATH, None);
    let response = post(&url(&server, "chat/completions"), &chat("m", "x", false)).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn text_completions_stream_text_deltas() {
    let server = MockServer::start(MockConfig::default()).await;
    let request = json!({"model": "m", "prompt": ["a b", "c"], "stream": true});
    let events = parse_sse(
        &read_body(post(&url(&server, "completions"), &request).await)
            .await
            .unwrap(),
    );
    let chunks = chunks(&events);
    assert!(chunks[0]["id"].as_str().unwrap().starts_with("cmpl-"));
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["text"].as_str())
        .collect();
    assert_eq!(text, DEFAULT_TEXT);
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["usage"]["prompt_tokens"], 3);
}

#[tokio::test]
async fn embeddings_are_deterministic_per_input() {
    let server = MockServer::start(MockConfig::default()).await;
    let request =
        json!({"model": "nomic-embed-text", "input": ["hello world", "other", "hello world"]});
    let response = post(&url(&server, "embeddings"), &request).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], "nomic-embed-text");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 5, "total_tokens": 5})
    );
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    assert_eq!(data[1]["object"], "embedding");
    assert_eq!(data[1]["index"], 1);
    assert_eq!(data[0]["embedding"].as_array().unwrap().len(), 8);
    assert_eq!(data[0]["embedding"], data[2]["embedding"]);
    assert_ne!(data[0]["embedding"], data[1]["embedding"]);

    let request = json!({"model": "m", "input": "hello world", "dimensions": 16});
    let floats: Value = post(&url(&server, "embeddings"), &request)
        .await
        .json()
        .await
        .unwrap();
    let floats: Vec<f32> = floats["data"][0]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(floats.len(), 16);
    let request = json!({"model": "m", "input": "hello world", "dimensions": 16, "encoding_format": "base64"});
    let encoded: Value = post(&url(&server, "embeddings"), &request)
        .await
        .json()
        .await
        .unwrap();
    let bytes = BASE64
        .decode(encoded["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let decoded: Vec<f32> = bytes
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(decoded, floats);

    server.push_script(OPENAI_EMBEDDINGS_PATH, Script::status(429));
    let response = post(&url(&server, "embeddings"), &request).await;
    assert_eq!(response.status(), 429);
}

#[tokio::test]
async fn images_are_real_pngs_in_b64_json() {
    let server = MockServer::start(MockConfig::default()).await;
    let request = json!({"model": "gpt-image-1", "prompt": "a red fox", "n": 2});
    let body: Value = post(&url(&server, "images/generations"), &request)
        .await
        .json()
        .await
        .unwrap();
    assert!(body["created"].is_u64());
    let images = body["data"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    let png = BASE64
        .decode(images[0]["b64_json"].as_str().unwrap())
        .unwrap();
    assert_eq!(decode_png(&png), (64, 64));

    let request = json!({"prompt": "a red fox", "size": "32x48"});
    let body: Value = post(&url(&server, "images/generations"), &request)
        .await
        .json()
        .await
        .unwrap();
    let png = BASE64
        .decode(body["data"][0]["b64_json"].as_str().unwrap())
        .unwrap();
    assert_eq!(decode_png(&png), (32, 48));

    server.push_script(OPENAI_IMAGES_PATH, Script::status(400));
    let response = post(&url(&server, "images/generations"), &request).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
}
