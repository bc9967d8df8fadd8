//! OpenRouter: chat and text completions, whole and streamed, against the mock.

use aipasta_core::money::Nanos;
use aipasta_mock::{
    DEFAULT_TEXT, HOSTILE_HTML, OPENROUTER_CHAT_PATH, OPENROUTER_COMPLETIONS_PATH, Script,
    UsagePlacement,
};
use aipasta_providers::generate::{
    Parameters, StreamEvent, Task, Timeouts, Usage, complete, stream,
};
use serde_json::json;

use crate::support::*;

/// `DEFAULT_TEXT` has nine words: nine deltas, nine completion tokens.
const DEFAULT_DELTAS: u64 = 9;
/// "Be brief." and "Say hello".
const CHAT_PROMPT_TOKENS: u64 = 4;

#[tokio::test]
async fn the_chat_request_carries_the_model_messages_set_parameters_and_headers() {
    let server = mock().await;
    let upstream = openrouter(&server);
    let mut request = chat("openai/gpt-4o");
    request.parameters = Parameters {
        sampling: aipasta_core::params::SamplingValues::from([("temperature", 0.25)]),
        max_tokens: Some(100),
        seed: Some(7),
        stop: vec!["###".to_owned()],
        ..Parameters::default()
    };
    complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap();
    let recorded = &server.requests(OPENROUTER_CHAT_PATH)[0];
    assert_eq!(recorded.method, "POST");
    assert_eq!(
        recorded.json().unwrap(),
        json!({
            "model": "openai/gpt-4o",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Say hello"}
            ],
            "temperature": 0.25,
            "max_tokens": 100,
            "seed": 7,
            "stop": ["###"]
        })
    );
    assert_eq!(
        recorded.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(
        recorded.header("http-referer"),
        Some("https://aipasta.example")
    );
    assert_eq!(recorded.header("x-title"), Some("AI Pasta"));
    assert_eq!(recorded.header("content-type"), Some("application/json"));
    assert_eq!(recorded.header("accept"), Some("application/json"));
}

#[tokio::test]
async fn a_streamed_request_asks_for_usage() {
    let server = mock().await;
    let upstream = openrouter(&server);
    let events = collect(
        stream(
            &client(),
            &upstream,
            &chat("openai/gpt-4o"),
            Timeouts::default(),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(text(&events), DEFAULT_TEXT);
    let body = server.requests(OPENROUTER_CHAT_PATH)[0].json().unwrap();
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        server.requests(OPENROUTER_CHAT_PATH)[0].header("accept"),
        Some("text/event-stream")
    );
}

#[tokio::test]
async fn a_whole_chat_answer_with_exact_cost() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().cost("0.000123456789"),
    );
    let upstream = openrouter(&server);
    let completion = complete(
        &client(),
        &upstream,
        &chat("openai/gpt-4o"),
        Timeouts::default(),
    )
    .await
    .unwrap();
    assert_eq!(completion.content, DEFAULT_TEXT);
    assert_eq!(completion.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        completion.usage,
        Some(Usage {
            prompt_tokens: CHAT_PROMPT_TOKENS,
            completion_tokens: DEFAULT_DELTAS,
            total_tokens: CHAT_PROMPT_TOKENS + DEFAULT_DELTAS,
            cost: Some(Nanos(123_457)),
        })
    );
    let id = completion.provider_generation_id.unwrap();
    assert!(id.starts_with("gen-"), "{id}");
    assert_eq!(completion.model_version.as_deref(), Some("openai/gpt-4o"));
    assert!(completion.images.is_empty() && completion.embeddings.is_empty());
}

#[tokio::test]
async fn max_tokens_cuts_with_length() {
    let server = mock().await;
    let upstream = openrouter(&server);
    let mut request = chat("openai/gpt-4o");
    request.parameters.max_tokens = Some(3);
    let completion = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap();
    assert_eq!(completion.content, "The mock model");
    assert_eq!(completion.finish_reason.as_deref(), Some("length"));
    let events = collect(
        stream(&client(), &upstream, &request, Timeouts::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text(&events), "The mock model");
    assert_eq!(finish_reason(&events).as_deref(), Some("length"));
}

async fn streamed_with(
    placement: UsagePlacement,
) -> Vec<Result<StreamEvent, aipasta_providers::generate::ProviderError>> {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().usage(placement).cost("0.00002"),
    );
    let upstream = openrouter(&server);
    collect(
        stream(&client(), &upstream, &chat("openai/gpt-4o"), quick())
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn usage_in_the_finishing_chunk() {
    let events = streamed_with(UsagePlacement::FinalChunk).await;
    assert_eq!(text(&events), DEFAULT_TEXT);
    assert_eq!(deltas(&events) as u64, DEFAULT_DELTAS);
    assert_eq!(
        usage_events(&events),
        vec![Usage {
            prompt_tokens: CHAT_PROMPT_TOKENS,
            completion_tokens: DEFAULT_DELTAS,
            total_tokens: CHAT_PROMPT_TOKENS + DEFAULT_DELTAS,
            cost: Some(Nanos(20_000)),
        }]
    );
    assert_eq!(finish_reason(&events).as_deref(), Some("stop"));
    // Usage comes right before the finish.
    assert!(matches!(
        events[events.len() - 2],
        Ok(StreamEvent::Usage(_))
    ));
}

#[tokio::test]
async fn usage_in_a_separate_chunk() {
    let events = streamed_with(UsagePlacement::SeparateChunk).await;
    assert_eq!(text(&events), DEFAULT_TEXT);
    assert_eq!(usage_events(&events).len(), 1);
    assert_eq!(usage_events(&events)[0].completion_tokens, DEFAULT_DELTAS);
    assert_eq!(usage_events(&events)[0].cost, Some(Nanos(20_000)));
    assert_eq!(finish_reason(&events).as_deref(), Some("stop"));
}

#[tokio::test]
async fn usage_omitted() {
    let events = streamed_with(UsagePlacement::Omitted).await;
    assert_eq!(text(&events), DEFAULT_TEXT);
    assert!(usage_events(&events).is_empty());
    assert_eq!(finish_reason(&events).as_deref(), Some("stop"));
}

#[tokio::test]
async fn meta_comes_first_and_once() {
    let events = streamed_with(UsagePlacement::FinalChunk).await;
    let metas: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Meta {
                provider_generation_id,
                model_version,
            }) => Some((provider_generation_id.clone(), model_version.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(metas.len(), 1, "{events:?}");
    assert!(matches!(events[0], Ok(StreamEvent::Meta { .. })));
    assert!(metas[0].0.as_deref().unwrap().starts_with("gen-"));
    assert_eq!(metas[0].1.as_deref(), Some("openai/gpt-4o"));
}

#[tokio::test]
async fn keep_alives_are_skipped() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default()
            .keep_alives(5)
            .first_token_delay(std::time::Duration::from_millis(200)),
    );
    let upstream = openrouter(&server);
    let events = collect(
        stream(&client(), &upstream, &chat("openai/gpt-4o"), quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text(&events), DEFAULT_TEXT);
    assert_eq!(finish_reason(&events).as_deref(), Some("stop"));
}

#[tokio::test]
async fn untrusted_output_arrives_byte_for_byte() {
    let server = mock().await;
    server.push_script(OPENROUTER_CHAT_PATH, Script::text(HOSTILE_HTML).chunks(40));
    server.push_script(OPENROUTER_CHAT_PATH, Script::text(HOSTILE_HTML));
    let upstream = openrouter(&server);
    let events = collect(
        stream(&client(), &upstream, &chat("openai/gpt-4o"), quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text(&events), HOSTILE_HTML);
    let completion = complete(&client(), &upstream, &chat("openai/gpt-4o"), quick())
        .await
        .unwrap();
    assert_eq!(completion.content, HOSTILE_HTML);
}

#[tokio::test]
async fn text_completions_whole_and_streamed() {
    let server = mock().await;
    let upstream = openrouter(&server);
    let request = task(
        Task::TextCompletion,
        "mistralai/mistral-7b",
        "Once upon a time",
    );
    let completion = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap();
    assert_eq!(completion.content, DEFAULT_TEXT);
    assert_eq!(completion.usage.unwrap().prompt_tokens, 4);
    let recorded = &server.requests(OPENROUTER_COMPLETIONS_PATH)[0];
    assert_eq!(
        recorded.json().unwrap(),
        json!({"model": "mistralai/mistral-7b", "prompt": "Once upon a time"})
    );
    assert_eq!(recorded.header("x-title"), Some("AI Pasta"));

    let events = collect(
        stream(&client(), &upstream, &request, Timeouts::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text(&events), DEFAULT_TEXT);
    assert_eq!(finish_reason(&events).as_deref(), Some("stop"));
    assert_eq!(usage_events(&events).len(), 1);
}

#[tokio::test]
async fn summarisation_is_not_an_openrouter_task() {
    let server = mock().await;
    let upstream = openrouter(&server);
    let request = task(Task::Summarization, "openai/gpt-4o", "Long text");
    let error = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap_err();
    assert_eq!(
        error.kind,
        aipasta_providers::generate::ProviderErrorKind::Unsupported
    );
    assert!(
        error.message.starts_with("OpenRouter cannot"),
        "{}",
        error.message
    );
    assert_eq!(server.request_count(OPENROUTER_CHAT_PATH), 0);
}
