//! Hugging Face: the router's chat and every inference task against the mock.

use std::time::Duration;

use aipasta_mock::{DEFAULT_TEXT, HF_ROUTER_CHAT_PATH, HfTask, Outcome, Script, hf_inference_path};
use aipasta_providers::generate::{
    ProviderErrorKind, StreamEvent, Task, Timeouts, Usage, complete, stream,
};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn chat_goes_to_the_router() {
    let server = mock().await;
    let upstream = huggingface(&server);
    let request = chat("meta-llama/Llama-3.1-8B-Instruct");
    let completion = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap();
    assert_eq!(completion.content, DEFAULT_TEXT);
    let recorded = &server.requests(HF_ROUTER_CHAT_PATH)[0];
    assert_eq!(
        recorded.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(recorded.header("x-title"), None);
    let events = collect(
        stream(&client(), &upstream, &request, quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text(&events), DEFAULT_TEXT);
    assert_eq!(finish_reason(&events).as_deref(), Some("stop"));
}

const GENERATOR: &str = "acme-labs/Orca-Chat-7B";

#[tokio::test]
async fn text_generation_whole_in_tgi_format() {
    let server = mock().await;
    server.set_hf_task(GENERATOR, HfTask::TextGeneration);
    let upstream = huggingface(&server);
    let mut request = task(Task::TextCompletion, GENERATOR, "Once upon a time");
    request.parameters.max_tokens = Some(50);
    request.parameters.sampling =
        aipasta_core::params::SamplingValues::from([("temperature", 0.8)]);
    let completion = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap();
    assert_eq!(completion.content, DEFAULT_TEXT);
    assert_eq!(completion.finish_reason.as_deref(), Some("eos_token"));
    assert_eq!(completion.usage.map(|u| u.completion_tokens), Some(9));
    let recorded = &server.requests(&hf_inference_path(GENERATOR))[0];
    assert_eq!(
        recorded.json().unwrap(),
        json!({
            "inputs": "Once upon a time",
            "parameters": {
                "max_new_tokens": 50,
                "temperature": 0.8,
                "return_full_text": false,
                "details": true
            },
            "stream": false
        })
    );
    assert_eq!(
        recorded.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test]
async fn text_generation_streamed_without_done() {
    let server = mock().await;
    server.set_hf_task(GENERATOR, HfTask::TextGeneration);
    let upstream = huggingface(&server);
    let mut request = task(Task::TextCompletion, GENERATOR, "Once upon a time");
    request.parameters.max_tokens = Some(4);
    let events = collect(
        stream(&client(), &upstream, &request, quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text(&events), "The mock model answers");
    assert_eq!(
        usage_events(&events),
        vec![Usage {
            prompt_tokens: 4,
            completion_tokens: 4,
            total_tokens: 8,
            cost: None
        }]
    );
    assert_eq!(finish_reason(&events).as_deref(), Some("length"));
    let body = server.requests(&hf_inference_path(GENERATOR))[0]
        .json()
        .unwrap();
    assert_eq!(body["stream"], json!(true));
}

#[tokio::test]
async fn text_generation_stream_failures() {
    let server = mock().await;
    server.set_hf_task(GENERATOR, HfTask::TextGeneration);
    let path = hf_inference_path(GENERATOR);
    server.push_script(&path, Script::default().outcome(Outcome::CutAfter(2)));
    server.push_script(&path, Script::default().outcome(Outcome::ErrorAfter(1)));
    let upstream = huggingface(&server);
    let request = task(Task::TextCompletion, GENERATOR, "Hi");

    let cut = collect(
        stream(&client(), &upstream, &request, quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(deltas(&cut), 2);
    assert_eq!(final_error(&cut).kind, ProviderErrorKind::StreamCut);

    let failed = collect(
        stream(&client(), &upstream, &request, quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(deltas(&failed), 1);
    let error = final_error(&failed);
    assert_eq!(error.kind, ProviderErrorKind::StreamError);
    assert!(
        error.message.contains("CUDA out of memory"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn text_to_image_bytes_of_the_asked_size() {
    let server = mock().await;
    let model = "stabilityai/sdxl-turbo";
    server.set_hf_task(model, HfTask::TextToImage);
    let upstream = huggingface(&server);
    let mut request = task(Task::ImageGeneration, model, "a red panda");
    request.parameters.width = Some(48);
    request.parameters.height = Some(40);
    request.parameters.seed = Some(3);
    let completion = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap();
    assert_eq!(completion.images.len(), 1);
    let image = &completion.images[0];
    assert_eq!(image.mime_type, "image/png");
    let width = u32::from_be_bytes(image.bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(image.bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (48, 40));
    assert_eq!(
        server.requests(&hf_inference_path(model))[0]
            .json()
            .unwrap(),
        json!({"inputs": "a red panda", "parameters": {"width": 48, "height": 40, "seed": 3}})
    );
}

#[tokio::test]
async fn summarisation_whole_and_as_a_one_delta_stream() {
    let server = mock().await;
    let model = "facebook/bart-large-cnn";
    server.set_hf_task(model, HfTask::Summarization);
    server.set_default_script(&hf_inference_path(model), Script::text("A short summary."));
    let upstream = huggingface(&server);
    let request = task(
        Task::Summarization,
        model,
        "A long article about many things.",
    );
    let completion = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap();
    assert_eq!(completion.content, "A short summary.");
    let events = collect(
        stream(&client(), &upstream, &request, quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        events,
        vec![
            Ok(StreamEvent::Delta("A short summary.".to_owned())),
            Ok(StreamEvent::Finished {
                finish_reason: Some("stop".to_owned())
            })
        ]
    );
}

#[tokio::test]
async fn translation_names_the_target_language() {
    let server = mock().await;
    let model = "Helsinki-NLP/opus-mt-en-fr";
    server.set_hf_task(model, HfTask::Translation);
    server.set_default_script(&hf_inference_path(model), Script::text("Bonjour le monde"));
    let upstream = huggingface(&server);
    let mut request = task(Task::Translation, model, "Hello world");
    request.parameters.target_language = Some("fr".to_owned());
    let completion = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap();
    assert_eq!(completion.content, "Bonjour le monde");
    assert_eq!(
        server.requests(&hf_inference_path(model))[0]
            .json()
            .unwrap(),
        json!({"inputs": "Hello world", "parameters": {"tgt_lang": "fr"}})
    );
}

#[tokio::test]
async fn feature_extraction() {
    let server = mock().await;
    let model = "sentence-transformers/all-MiniLM-L6-v2";
    server.set_hf_task(model, HfTask::FeatureExtraction);
    let upstream = huggingface(&server);
    let request = task(Task::Embedding, model, "Hello world");
    let completion = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap();
    assert_eq!(completion.embeddings.len(), 1);
    assert!(completion.embeddings[0].len() > 1);
    assert_eq!(
        server.requests(&hf_inference_path(model))[0]
            .json()
            .unwrap(),
        json!({"inputs": "Hello world"})
    );
}

#[tokio::test]
async fn a_loading_model_says_how_long() {
    let server = mock().await;
    let model = "facebook/bart-large-cnn";
    server.set_hf_task(model, HfTask::Summarization);
    server.push_script(
        &hf_inference_path(model),
        Script::outcome_only(Outcome::Status {
            status: 503,
            retry_after: None,
            estimated_time: Some(12.5),
        }),
    );
    let upstream = huggingface(&server);
    let request = task(Task::Summarization, model, "Text");
    let error = complete(&client(), &upstream, &request, Timeouts::default())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ProviderErrorKind::ModelLoading);
    assert!(error.kind.is_retryable());
    assert_eq!(error.status, Some(503));
    assert_eq!(error.estimated_time, Some(Duration::from_millis(12_500)));
    assert!(error.message.contains("still loading"), "{}", error.message);
    assert_no_key(&error);
    // Then it is ready.
    assert!(
        complete(&client(), &upstream, &request, Timeouts::default())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_503_without_estimated_time_is_unavailable() {
    let server = mock().await;
    server.push_script(HF_ROUTER_CHAT_PATH, Script::status(503));
    let upstream = huggingface(&server);
    let error = stream(&client(), &upstream, &chat("m"), quick())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ProviderErrorKind::Unavailable);
    assert_eq!(error.estimated_time, None);
}
