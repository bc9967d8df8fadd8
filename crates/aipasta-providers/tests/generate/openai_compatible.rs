//! OpenAI-compatible servers: chat, completions, embeddings and images against the mock.

use aipasta_mock::{
    DEFAULT_TEXT, OPENAI_CHAT_PATH, OPENAI_COMPLETIONS_PATH, OPENAI_EMBEDDINGS_PATH,
    OPENAI_IMAGES_PATH, Script, UsagePlacement,
};
use aipasta_providers::generate::{ProviderErrorKind, Task, Timeouts, complete, stream};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn chat_without_a_key_sends_no_authorization_and_no_attribution() {
    let server = mock().await;
    let upstream = openai(&server);
    let completion = complete(
        &client(),
        &upstream,
        &chat("llama3.1:8b"),
        Timeouts::default(),
    )
    .await
    .unwrap();
    assert_eq!(completion.content, DEFAULT_TEXT);
    assert_eq!(completion.usage.unwrap().completion_tokens, 9);
    assert_eq!(completion.model_version.as_deref(), Some("llama3.1:8b"));
    let recorded = &server.requests(OPENAI_CHAT_PATH)[0];
    assert_eq!(recorded.header("authorization"), None);
    assert_eq!(recorded.header("http-referer"), None);
    assert_eq!(recorded.header("x-title"), None);
}

#[tokio::test]
async fn attribution_is_only_for_openrouter() {
    let server = mock().await;
    let mut upstream = openai(&server);
    upstream.attribution = openrouter(&server).attribution;
    upstream.api_key = Some(aipasta_providers::generate::ApiKey::new(KEY));
    complete(&client(), &upstream, &chat("m"), Timeouts::default())
        .await
        .unwrap();
    let recorded = &server.requests(OPENAI_CHAT_PATH)[0];
    assert_eq!(recorded.header("x-title"), None);
    assert_eq!(
        recorded.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test]
async fn chat_streams_with_usage_in_a_separate_chunk() {
    let server = mock().await;
    server.push_script(
        OPENAI_CHAT_PATH,
        Script::default().usage(UsagePlacement::SeparateChunk),
    );
    let upstream = openai(&server);
    let events = collect(
        stream(&client(), &upstream, &chat("gpt-4o-mini"), quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text(&events), DEFAULT_TEXT);
    let usage = usage_events(&events);
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].prompt_tokens, 4);
    assert_eq!(usage[0].completion_tokens, 9);
    assert_eq!(usage[0].total_tokens, 13);
    assert_eq!(usage[0].cost, None);
    assert_eq!(finish_reason(&events).as_deref(), Some("stop"));
}

#[tokio::test]
async fn text_completions() {
    let server = mock().await;
    let upstream = openai(&server);
    let mut request = task(
        Task::TextCompletion,
        "gpt-3.5-turbo-instruct",
        "Hello there",
    );
    request.parameters.sampling = aipasta_core::params::SamplingValues::from([("top_p", 0.5)]);
    let completion = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap();
    assert_eq!(completion.content, DEFAULT_TEXT);
    assert_eq!(
        server.requests(OPENAI_COMPLETIONS_PATH)[0].json().unwrap(),
        json!({"model": "gpt-3.5-turbo-instruct", "prompt": "Hello there", "top_p": 0.5})
    );
    let events = collect(
        stream(&client(), &upstream, &request, quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text(&events), DEFAULT_TEXT);
    assert_eq!(finish_reason(&events).as_deref(), Some("stop"));
}

#[tokio::test]
async fn embeddings() {
    let server = mock().await;
    let upstream = openai(&server);
    let request = task(
        Task::Embedding,
        "text-embedding-3-small",
        "The quick brown fox",
    );
    let completion = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap();
    assert_eq!(completion.embeddings.len(), 1);
    assert!(!completion.embeddings[0].is_empty());
    assert!(completion.embeddings[0].iter().all(|f| f.is_finite()));
    assert_eq!(completion.usage.unwrap().prompt_tokens, 4);
    assert_eq!(
        server.requests(OPENAI_EMBEDDINGS_PATH)[0].json().unwrap(),
        json!({"model": "text-embedding-3-small", "input": "The quick brown fox"})
    );
}

#[tokio::test]
async fn images_as_base64_pngs_of_the_asked_size() {
    let server = mock().await;
    let upstream = openai(&server);
    let mut request = task(Task::ImageGeneration, "gpt-image-1", "a red panda");
    request.parameters.width = Some(64);
    request.parameters.height = Some(32);
    let completion = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap();
    assert_eq!(completion.images.len(), 1);
    let image = &completion.images[0];
    assert_eq!(image.mime_type, "image/png");
    assert!(image.bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    // The PNG header's width and height (IHDR).
    let width = u32::from_be_bytes(image.bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(image.bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (64, 32));
    assert_eq!(
        server.requests(OPENAI_IMAGES_PATH)[0].json().unwrap(),
        json!({
            "model": "gpt-image-1",
            "prompt": "a red panda",
            "size": "64x32",
            "n": 1,
            "response_format": "b64_json"
        })
    );
}

#[tokio::test]
async fn images_and_embeddings_are_not_streamed() {
    let server = mock().await;
    let upstream = openai(&server);
    for kind in [Task::ImageGeneration, Task::Embedding] {
        let request = task(kind, "m", "x");
        let error = stream(&client(), &upstream, &request, Timeouts::default())
            .await
            .unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::Unsupported, "{kind:?}");
    }
    assert_eq!(server.request_count(OPENAI_IMAGES_PATH), 0);
    assert_eq!(server.request_count(OPENAI_EMBEDDINGS_PATH), 0);
}

#[tokio::test]
async fn translation_is_not_an_openai_task() {
    let server = mock().await;
    let upstream = openai(&server);
    let error = complete(
        &client(),
        &upstream,
        &task(Task::Translation, "m", "Hello"),
        Timeouts::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind, ProviderErrorKind::Unsupported);
    assert!(
        error.message.starts_with("local-vllm cannot"),
        "{}",
        error.message
    );
}
