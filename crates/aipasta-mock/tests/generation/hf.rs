//! Hugging Face: the router's OpenAI-compatible chat, and the inference API's tasks (TGI text
//! generation plain and streamed, images, summaries, translations, features).

use aipasta_mock::{
    DEFAULT_TEXT, HF_ROUTER_CHAT_PATH, HfTask, MockConfig, MockServer, Outcome, Script,
    hf_inference_path,
};
use serde_json::{Value, json};

use crate::support::{chat, chat_content, chunks, data, decode_png, parse_sse, post, read_body};

/// Models of the small Hub fixture, one per task.
const CHAT_MODEL: &str = "acme-labs/Orca-Chat-7B";
const IMAGE_MODEL: &str = "pixelforge/Sketchy-XL";
const SUMMARY_MODEL: &str = "condense/brief-bart-large";
const TRANSLATION_MODEL: &str = "polyglot-nlp/opus-mt-de-en-lite";
const FEATURES_MODEL: &str = "vectorhub/mini-embed-v2";
const SPEECH_MODEL: &str = "soundlab/whisperish-small";

fn model_url(server: &MockServer, model: &str) -> String {
    format!("{}/models/{model}", server.hf_inference_url())
}

#[tokio::test]
async fn tgi_plain_answer_is_a_list_with_generated_text() {
    let server = MockServer::start(MockConfig::default()).await;
    let url = model_url(&server, CHAT_MODEL);
    let body: Value = post(&url, &json!({"inputs": "Hello", "parameters": {}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body, json!([{"generated_text": DEFAULT_TEXT}]));

    server.set_default_script(&hf_inference_path(CHAT_MODEL), Script::text("a b c"));
    let request = json!({
        "inputs": "Once upon",
        "parameters": {"details": true, "return_full_text": true, "max_new_tokens": 2},
        "stream": false,
    });
    let body: Value = post(&url, &request).await.json().await.unwrap();
    assert_eq!(body[0]["generated_text"], "Once upona b");
    assert_eq!(body[0]["details"]["finish_reason"], "length");
    assert_eq!(body[0]["details"]["generated_tokens"], 2);
    let recorded = &server.requests(&hf_inference_path(CHAT_MODEL))[1];
    assert_eq!(recorded.json().unwrap(), request);
}

#[tokio::test]
async fn tgi_stream_is_token_events_with_the_text_at_the_end_and_no_done() {
    let server = MockServer::start(MockConfig::default()).await;
    server.set_default_script(
        &hf_inference_path(CHAT_MODEL),
        Script::text("one two three"),
    );
    let url = model_url(&server, CHAT_MODEL);
    let request = json!({"inputs": "Count:", "parameters": {"details": true}, "stream": true});
    let response = post(&url, &request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = parse_sse(&read_body(response).await.unwrap());
    assert!(!data(&events).contains(&"[DONE]"));
    let events = chunks(&events);
    assert_eq!(events.len(), 3);
    let texts: Vec<&str> = events
        .iter()
        .map(|e| e["token"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["one", " two", " three"]);
    for (index, event) in events.iter().enumerate() {
        assert_eq!(event["index"], index + 1);
        assert_eq!(event["token"]["special"], false);
        assert!(event["token"]["id"].is_u64() && event["token"]["logprob"].is_f64());
    }
    assert!(
        events[..2]
            .iter()
            .all(|e| e["generated_text"].is_null() && e["details"].is_null())
    );
    assert_eq!(events[2]["generated_text"], "one two three");
    assert_eq!(events[2]["details"]["finish_reason"], "eos_token");
    assert_eq!(events[2]["details"]["generated_tokens"], 3);
    assert_eq!(events[2]["details"]["input_length"], 1);

    // Without `details`, TGI leaves them null, even at the end.
    let request = json!({"inputs": "Count:", "stream": true});
    let events = parse_sse(&read_body(post(&url, &request).await).await.unwrap());
    let last = chunks(&events).pop().unwrap();
    assert_eq!(last["generated_text"], "one two three");
    assert!(last["details"].is_null());
}

#[tokio::test]
async fn tgi_errors_mid_stream_and_before() {
    let server = MockServer::start(MockConfig::default()).await;
    let path = hf_inference_path(CHAT_MODEL);
    server.push_script(&path, Script::text("a b c").outcome(Outcome::ErrorAfter(1)));
    server.push_script(
        &path,
        Script::outcome_only(Outcome::Status {
            status: 503,
            retry_after: Some(20),
            estimated_time: Some(20.0),
        }),
    );
    server.push_script(&path, Script::status(422));
    let url = model_url(&server, CHAT_MODEL);
    let events = parse_sse(
        &read_body(post(&url, &json!({"inputs": "x", "stream": true})).await)
            .await
            .unwrap(),
    );
    let events = chunks(&events);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["token"]["text"], "a");
    assert!(events[1]["error"].is_string());
    assert_eq!(events[1]["error_type"], "generation");

    let response = post(&url, &json!({"inputs": "x"})).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "20");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"],
        format!("Model {CHAT_MODEL} is currently loading")
    );
    assert_eq!(body["estimated_time"], 20.0);

    let response = post(&url, &json!({"inputs": "x"})).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_type"], "validation");

    // A body TGI cannot read: its plain-text 422.
    let response = post(&url, &json!({"parameters": {}})).await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("missing field `inputs`")
    );
}

#[tokio::test]
async fn text_to_image_answers_png_bytes() {
    let server = MockServer::start(MockConfig::default()).await;
    let url = model_url(&server, IMAGE_MODEL);
    let response = post(
        &url,
        &json!({"inputs": "An astronaut riding a horse", "parameters": {}}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(decode_png(&bytes), (64, 64));
    let request = json!({"inputs": "x", "parameters": {"width": 40, "height": 24}});
    let bytes = post(&url, &request).await.bytes().await.unwrap();
    assert_eq!(decode_png(&bytes), (40, 24));
}

#[tokio::test]
async fn summaries_translations_and_features() {
    let server = MockServer::start(MockConfig::default()).await;
    server.set_default_script(&hf_inference_path(SUMMARY_MODEL), Script::text("Short."));
    server.set_default_script(
        &hf_inference_path(TRANSLATION_MODEL),
        Script::text("Hallo Welt"),
    );
    let request = json!({"inputs": "The sky is blue, the tree is green.", "parameters": {}});
    let body: Value = post(&model_url(&server, SUMMARY_MODEL), &request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body, json!([{"summary_text": "Short."}]));
    let body: Value = post(&model_url(&server, TRANSLATION_MODEL), &request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body, json!([{"translation_text": "Hallo Welt"}]));

    let url = model_url(&server, FEATURES_MODEL);
    let single: Value = post(&url, &json!({"inputs": "Hi, who are you?"}))
        .await
        .json()
        .await
        .unwrap();
    let vector = single.as_array().unwrap();
    assert_eq!(vector.len(), 8);
    assert!(vector.iter().all(Value::is_f64));
    let many: Value = post(&url, &json!({"inputs": ["Hi, who are you?", "Bye"]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(many.as_array().unwrap().len(), 2);
    assert_eq!(many[0], single, "the same input gives the same vector");
    assert_ne!(many[1], single);
}

#[tokio::test]
async fn tasks_follow_the_hub_list_overrides_and_changes() {
    let server = MockServer::start(MockConfig::default()).await;
    // Not in the Hub list: text generation.
    let body: Value = post(
        &model_url(&server, "someone/unknown-model"),
        &json!({"inputs": "x"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body[0]["generated_text"], DEFAULT_TEXT);
    // A task the mock does not serve.
    let response = post(&model_url(&server, SPEECH_MODEL), &json!({"inputs": "x"})).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("automatic-speech-recognition")
    );

    server.set_hf_task(CHAT_MODEL, HfTask::Summarization);
    let body: Value = post(&model_url(&server, CHAT_MODEL), &json!({"inputs": "x"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body[0]["summary_text"], DEFAULT_TEXT);

    server.set_hf_hub_models(r#"[{"id": "someone/unknown-model", "pipeline_tag": "translation"}]"#);
    let body: Value = post(
        &model_url(&server, "someone/unknown-model"),
        &json!({"inputs": "x"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body[0]["translation_text"], DEFAULT_TEXT);
    assert_eq!(
        HfTask::from_pipeline_tag("text-to-image"),
        Some(HfTask::TextToImage)
    );
    assert_eq!(HfTask::Translation.pipeline_tag(), "translation");
}

#[tokio::test]
async fn the_router_speaks_openai_chat_with_hugging_face_errors() {
    let server = MockServer::start(MockConfig::default()).await;
    let url = format!("{}/chat/completions", server.hf_router_base_url());
    let body: Value = post(&url, &chat("meta-llama/Llama-3.1-8B-Instruct", "Hi", false))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "meta-llama/Llama-3.1-8B-Instruct");
    assert_eq!(body["choices"][0]["message"]["content"], DEFAULT_TEXT);

    let mut request = chat("m", "Hi", true);
    request["stream_options"] = json!({"include_usage": true});
    let events = parse_sse(&read_body(post(&url, &request).await).await.unwrap());
    assert_eq!(*data(&events).last().unwrap(), "[DONE]");
    let chunks = chunks(&events);
    assert_eq!(chat_content(&chunks), DEFAULT_TEXT);
    assert_eq!(
        chunks.last().unwrap()["usage"]["completion_tokens"],
        DEFAULT_TEXT.split_whitespace().count()
    );

    server.push_script(HF_ROUTER_CHAT_PATH, Script::status(401));
    let response = post(&url, &chat("m", "Hi", false)).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].is_string(),
        "Hugging Face's flat error: {body}"
    );

    let response = post(&url, &json!({"model": "m", "messages": "please"})).await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .starts_with("Failed to deserialize the JSON body")
    );
}

#[tokio::test]
async fn tgi_chat_on_the_inference_path() {
    let server = MockServer::start(MockConfig::default()).await;
    let url = format!("{}/v1/chat/completions", model_url(&server, CHAT_MODEL));
    let body: Value = post(
        &url,
        &json!({"messages": [{"role": "user", "content": "Hi"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], CHAT_MODEL, "the model from the path");
    let path = format!("{}/v1/chat/completions", hf_inference_path(CHAT_MODEL));
    assert_eq!(server.request_count(&path), 1);
}
