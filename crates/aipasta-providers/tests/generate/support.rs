//! Helpers shared by the generation tests.

use std::time::Duration;

use aipasta_mock::{MockConfig, MockServer};
use aipasta_providers::ProviderKind;
use aipasta_providers::generate::{
    ApiKey, Attribution, ChatMessage, EventStream, GenerationRequest, Parameters, ProviderError,
    Role, StreamEvent, Task, Timeouts, Upstream,
};

pub const KEY: &str = "sk-or-v1-test-secret-0123456789";

pub async fn mock() -> MockServer {
    MockServer::start(MockConfig::default()).await
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

pub fn openrouter(server: &MockServer) -> Upstream {
    Upstream {
        kind: ProviderKind::OpenRouter,
        name: "openrouter".to_owned(),
        base_url: server.openrouter_base_url(),
        inference_url: None,
        api_key: Some(ApiKey::new(KEY)),
        attribution: Some(Attribution {
            referer: "https://aipasta.example".to_owned(),
            title: "AI Pasta".to_owned(),
        }),
    }
}

pub fn openai(server: &MockServer) -> Upstream {
    Upstream {
        kind: ProviderKind::OpenAiCompatible,
        name: "local-vllm".to_owned(),
        base_url: server.openai_base_url(),
        inference_url: None,
        api_key: None,
        attribution: None,
    }
}

pub fn huggingface(server: &MockServer) -> Upstream {
    Upstream {
        kind: ProviderKind::HuggingFace,
        name: "huggingface".to_owned(),
        base_url: server.hf_router_base_url(),
        inference_url: Some(server.hf_inference_url()),
        api_key: Some(ApiKey::new(KEY)),
        attribution: None,
    }
}

pub fn chat(model: &str) -> GenerationRequest {
    GenerationRequest {
        task: Task::Chat,
        model: model.to_owned(),
        messages: vec![
            ChatMessage {
                role: Role::System,
                content: "Be brief.".to_owned(),
            },
            ChatMessage {
                role: Role::User,
                content: "Say hello".to_owned(),
            },
        ],
        prompt: String::new(),
        parameters: Parameters::default(),
    }
}

pub fn task(task: Task, model: &str, prompt: &str) -> GenerationRequest {
    GenerationRequest {
        task,
        model: model.to_owned(),
        messages: Vec::new(),
        prompt: prompt.to_owned(),
        parameters: Parameters::default(),
    }
}

/// Limits short enough for stall tests, long enough for a loaded machine.
pub fn quick() -> Timeouts {
    Timeouts {
        first_token: Duration::from_secs(5),
        between_tokens: Duration::from_millis(300),
        total: Duration::from_secs(20),
    }
}

pub async fn collect(mut stream: EventStream) -> Vec<Result<StreamEvent, ProviderError>> {
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event);
    }
    events
}

pub fn text(events: &[Result<StreamEvent, ProviderError>]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Delta(text)) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

pub fn deltas(events: &[Result<StreamEvent, ProviderError>]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Ok(StreamEvent::Delta(_))))
        .count()
}

/// The last event, which must be an error.
pub fn final_error(events: &[Result<StreamEvent, ProviderError>]) -> &ProviderError {
    match events.last() {
        Some(Err(error)) => error,
        other => panic!("the stream should end with an error, got {other:?}"),
    }
}

/// The last event, which must be `Finished`.
pub fn finish_reason(events: &[Result<StreamEvent, ProviderError>]) -> Option<String> {
    match events.last() {
        Some(Ok(StreamEvent::Finished { finish_reason })) => finish_reason.clone(),
        other => panic!("the stream should end with Finished, got {other:?}"),
    }
}

pub fn usage_events(
    events: &[Result<StreamEvent, ProviderError>],
) -> Vec<aipasta_providers::generate::Usage> {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Usage(usage)) => Some(*usage),
            _ => None,
        })
        .collect()
}

/// No message may ever carry the key.
pub fn assert_no_key(error: &ProviderError) {
    assert!(!error.message.contains(KEY), "{}", error.message);
    assert!(!format!("{error:?}").contains(KEY));
}
