//! OpenRouter's chat and completions: answers, streams (keep-alives, usage placements,
//! `[DONE]`), cost, the generation id, error bodies, the script queue and recorded requests.

use aipasta_mock::{
    DEFAULT_TEXT, MockConfig, MockServer, OPENROUTER_CHAT_PATH, OPENROUTER_COMPLETIONS_PATH,
    Outcome, Script, UsagePlacement,
};
use serde_json::{Value, json};

use crate::support::{Event, chat, chat_content, chunks, data, parse_sse, post, read_body};

fn url(server: &MockServer) -> String {
    format!("{}/chat/completions", server.openrouter_base_url())
}

#[tokio::test]
async fn a_plain_answer_has_openrouters_shape() {
    let server = MockServer::start(MockConfig::default()).await;
    let response = post(
        &url(&server),
        &chat("acme/orca-7b", "What is  the capital?", false),
    )
    .await;
    assert_eq!(response.status(), 200);
    let header_id = response.headers()["x-generation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with("gen-"), "{id}");
    assert_eq!(header_id, id, "header and body name the same generation");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "acme/orca-7b");
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000);
    assert!(body["system_fingerprint"].is_null());
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], DEFAULT_TEXT);
    assert_eq!(choice["finish_reason"], "stop");
    let words = DEFAULT_TEXT.split_whitespace().count();
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 4, "completion_tokens": words, "total_tokens": 4 + words})
    );
}

#[tokio::test]
async fn cost_is_a_json_number_and_ids_differ() {
    let server = MockServer::start(MockConfig::default()).await;
    server.set_default_script(OPENROUTER_CHAT_PATH, Script::default().cost("0.00042"));
    let first: Value = post(&url(&server), &chat("m", "hi", false))
        .await
        .json()
        .await
        .unwrap();
    let second: Value = post(&url(&server), &chat("m", "hi", false))
        .await
        .json()
        .await
        .unwrap();
    assert!(first["usage"]["cost"].is_f64());
    assert_eq!(first["usage"]["cost"].as_f64(), Some(0.00042));
    assert_ne!(first["id"], second["id"]);
}

#[tokio::test]
async fn a_stream_starts_with_keep_alives_and_ends_with_usage_then_done() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("one two three four")
            .keep_alives(2)
            .cost("0.5"),
    );
    let response = post(&url(&server), &chat("acme/orca-7b", "hello there", true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let header_id = response.headers()["x-generation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let events = parse_sse(&read_body(response).await.unwrap());
    assert_eq!(
        events[0],
        Event::Comment("OPENROUTER PROCESSING".to_owned())
    );
    assert_eq!(
        events[1],
        Event::Comment("OPENROUTER PROCESSING".to_owned())
    );
    assert!(matches!(events[2], Event::Data(_)));
    assert_eq!(*data(&events).last().unwrap(), "[DONE]");
    let chunks = chunks(&events);
    assert_eq!(chunks.len(), 5, "four deltas and the finish");
    assert_eq!(chat_content(&chunks), "one two three four");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(chunks[1]["choices"][0]["delta"].get("role").is_none());
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], header_id.as_str());
        assert_eq!(chunk["model"], "acme/orca-7b");
    }
    assert!(
        chunks[..4]
            .iter()
            .all(|c| c["choices"][0]["finish_reason"].is_null())
    );
    let last = &chunks[4];
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["usage"]["prompt_tokens"], 2);
    assert_eq!(last["usage"]["completion_tokens"], 4);
    assert_eq!(last["usage"]["total_tokens"], 6);
    assert_eq!(last["usage"]["cost"], 0.5);
}

#[tokio::test]
async fn usage_goes_where_the_script_places_it() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("a b").usage(UsagePlacement::SeparateChunk),
    );
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("a b").usage(UsagePlacement::Omitted),
    );
    let events = parse_sse(
        &read_body(post(&url(&server), &chat("m", "x", true)).await)
            .await
            .unwrap(),
    );
    let separate = chunks(&events);
    assert_eq!(separate.len(), 4);
    assert_eq!(separate[2]["choices"][0]["finish_reason"], "stop");
    assert!(separate[2].get("usage").is_none());
    assert_eq!(separate[3]["choices"], json!([]));
    assert_eq!(separate[3]["usage"]["completion_tokens"], 2);

    let events = parse_sse(
        &read_body(post(&url(&server), &chat("m", "x", true)).await)
            .await
            .unwrap(),
    );
    let omitted = chunks(&events);
    assert_eq!(omitted.len(), 3);
    assert!(omitted.iter().all(|chunk| chunk.get("usage").is_none()));
    assert_eq!(*data(&events).last().unwrap(), "[DONE]");

    // Plain answers leave usage out too.
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().usage(UsagePlacement::Omitted),
    );
    let body: Value = post(&url(&server), &chat("m", "x", false))
        .await
        .json()
        .await
        .unwrap();
    assert!(body.get("usage").is_none());
}

#[tokio::test]
async fn openrouter_ignores_include_usage() {
    let server = MockServer::start(MockConfig::default()).await;
    let mut request = chat("m", "x", true);
    request["stream_options"] = json!({"include_usage": true});
    let events = parse_sse(
        &read_body(post(&url(&server), &request).await)
            .await
            .unwrap(),
    );
    let chunks = chunks(&events);
    let last = chunks.last().unwrap();
    assert_eq!(
        last["choices"][0]["finish_reason"], "stop",
        "usage stays in the final chunk"
    );
    assert!(last["usage"]["total_tokens"].is_u64());
    assert!(
        chunks[0].get("usage").is_none(),
        "no null usage on OpenRouter"
    );
}

#[tokio::test]
async fn mid_stream_error_is_a_chunk_with_error_and_finish_reason_error() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("a b c d").outcome(Outcome::ErrorAfter(2)),
    );
    let events = parse_sse(
        &read_body(post(&url(&server), &chat("m", "x", true)).await)
            .await
            .unwrap(),
    );
    assert!(!data(&events).contains(&"[DONE]"));
    let chunks = chunks(&events);
    assert_eq!(chunks.len(), 3);
    assert_eq!(chat_content(&chunks[..2]), "a b");
    let error = &chunks[2];
    assert_eq!(error["object"], "chat.completion.chunk");
    assert_eq!(error["error"]["code"], 502);
    assert!(error["error"]["message"].as_str().unwrap().len() > 5);
    assert_eq!(error["choices"][0]["finish_reason"], "error");
}

#[tokio::test]
async fn statuses_carry_openrouters_error_body_and_retry_after() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::outcome_only(Outcome::Status {
            status: 429,
            retry_after: Some(7),
            estimated_time: None,
        }),
    );
    server.push_script(OPENROUTER_CHAT_PATH, Script::status(402));
    let response = post(&url(&server), &chat("m", "x", true)).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 429);
    assert!(body["error"]["message"].is_string());

    let response = post(&url(&server), &chat("m", "x", false)).await;
    assert_eq!(response.status(), 402);
    assert!(response.headers().get("retry-after").is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 402);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("credits")
    );
}

#[tokio::test]
async fn the_queue_plays_429_then_an_answer_then_the_default() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(OPENROUTER_CHAT_PATH, Script::status(429));
    server.push_script(OPENROUTER_CHAT_PATH, Script::text("second"));
    server.set_default_script(OPENROUTER_CHAT_PATH, Script::text("default"));
    assert_eq!(server.queued_scripts(OPENROUTER_CHAT_PATH), 2);

    let response = post(&url(&server), &chat("m", "x", false)).await;
    assert_eq!(response.status(), 429);
    let mut contents = Vec::new();
    for _ in 0..3 {
        let body: Value = post(&url(&server), &chat("m", "x", false))
            .await
            .json()
            .await
            .unwrap();
        contents.push(
            body["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(contents, ["second", "default", "default"]);
    assert_eq!(server.queued_scripts(OPENROUTER_CHAT_PATH), 0);
    assert_eq!(server.request_count(OPENROUTER_CHAT_PATH), 4);

    server.clear_scripts(OPENROUTER_CHAT_PATH);
    let body: Value = post(&url(&server), &chat("m", "x", false))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], DEFAULT_TEXT);
}

#[tokio::test]
async fn queues_are_per_path() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(OPENROUTER_COMPLETIONS_PATH, Script::status(500));
    let response = post(&url(&server), &chat("m", "x", false)).await;
    assert_eq!(response.status(), 200, "the chat path has no script queued");
    let completions = format!("{}/completions", server.openrouter_base_url());
    let response = post(&completions, &json!({"model": "m", "prompt": "x"})).await;
    assert_eq!(response.status(), 500);
}

#[tokio::test]
async fn recorded_requests_keep_the_body_and_headers() {
    let server = MockServer::start(MockConfig::default()).await;
    let body = json!({
        "model": "acme/orca-7b",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "temperature": 0.25,
        "max_tokens": 64,
        "stream": true,
    });
    let response = reqwest::Client::new()
        .post(url(&server))
        .bearer_auth("sk-or-v1-test")
        .header("HTTP-Referer", "https://aipasta.example")
        .header("X-Title", "AI Pasta")
        .json(&body)
        .send()
        .await
        .unwrap();
    read_body(response).await.unwrap();
    let requests = server.requests(OPENROUTER_CHAT_PATH);
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.json().unwrap(), body);
    assert_eq!(
        serde_json::from_slice::<Value>(&request.body).unwrap()["temperature"],
        0.25
    );
    assert_eq!(
        request.header("authorization"),
        Some("Bearer sk-or-v1-test")
    );
    assert_eq!(
        request.header("http-referer"),
        Some("https://aipasta.example")
    );
    assert_eq!(request.header("X-Title"), Some("AI Pasta"));
}

#[tokio::test]
async fn completions_answer_text_completion_objects() {
    let server = MockServer::start(MockConfig::default()).await;
    let url = format!("{}/completions", server.openrouter_base_url());
    server.set_default_script(OPENROUTER_COMPLETIONS_PATH, Script::text("x y z"));
    let body: Value = post(&url, &json!({"model": "m", "prompt": "one two"}))
        .await
        .json()
        .await
        .unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("gen-"));
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["choices"][0]["text"], "x y z");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 2);

    let response = post(
        &url,
        &json!({"model": "m", "prompt": "one two", "stream": true}),
    )
    .await;
    let events = parse_sse(&read_body(response).await.unwrap());
    let chunks = chunks(&events);
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["text"].as_str())
        .collect();
    assert_eq!(text, "x y z");
    assert!(
        chunks
            .iter()
            .all(|chunk| chunk["object"] == "text_completion")
    );
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
    assert_eq!(*data(&events).last().unwrap(), "[DONE]");
}

#[tokio::test]
async fn requests_are_checked_like_openrouter_does() {
    let server = MockServer::start(MockConfig::default()).await;
    // No model: OpenRouter uses the account's default.
    let body: Value = post(
        &url(&server),
        &json!({"messages": [{"role": "user", "content": "x"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["model"], "openrouter/auto");
    let response = reqwest::Client::new()
        .post(url(&server))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 400);
    let response = post(&url(&server), &json!({"model": "m"})).await;
    assert_eq!(response.status(), 400, "no messages");
    assert_eq!(server.queued_scripts(OPENROUTER_CHAT_PATH), 0);
}
