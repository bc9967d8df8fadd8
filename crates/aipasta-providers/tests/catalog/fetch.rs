//! Fetching model lists from `aipasta-mock`: what is sent, and every way it can go wrong.

use std::time::{Duration, Instant};

use aipasta_mock::{
    Fault, HF_HUB_MODELS_PATH, MockConfig, MockServer, OPENAI_MODELS_PATH, OPENROUTER_MODELS_PATH,
};
use aipasta_providers::catalog::{
    CatalogError, HF_HUB_PIPELINE_TAGS, fetch_huggingface_hub_models,
    fetch_huggingface_hub_models_within, fetch_openai_compatible_models, fetch_openrouter_models,
    fetch_openrouter_models_within,
};
use serde_json::{Value, json};

const KEY: &str = "sk-or-v1-test-secret-0123456789";

async fn mock() -> MockServer {
    MockServer::start(MockConfig::default()).await
}

#[tokio::test]
async fn openrouter_models_are_fetched_with_all_modalities() {
    let server = mock().await;
    let client = reqwest::Client::new();
    let models = fetch_openrouter_models(&client, &server.openrouter_base_url(), None)
        .await
        .unwrap();
    assert_eq!(models.len(), 8);
    assert_eq!(server.request_count(OPENROUTER_MODELS_PATH), 1);
    let request = &server.requests(OPENROUTER_MODELS_PATH)[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.query_param("output_modalities"), Some("all"));
    assert_eq!(request.header("authorization"), None, "no key, no header");
}

#[tokio::test]
async fn the_key_is_sent_as_a_bearer_token_and_a_trailing_slash_is_fine() {
    let server = mock().await;
    let client = reqwest::Client::new();
    let base = format!("{}/", server.openrouter_base_url());
    fetch_openrouter_models(&client, &base, Some(KEY))
        .await
        .unwrap();
    let request = &server.requests(OPENROUTER_MODELS_PATH)[0];
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test]
async fn an_error_status_is_an_http_error_with_the_answer_and_no_key() {
    let server = mock().await;
    server.set_fault(OPENROUTER_MODELS_PATH, Some(Fault::Status(500)));
    let client = reqwest::Client::new();
    let error = fetch_openrouter_models(&client, &server.openrouter_base_url(), Some(KEY))
        .await
        .unwrap_err();
    let CatalogError::Http {
        status,
        ref url,
        ref body_snippet,
        ..
    } = error
    else {
        panic!("{error:?}");
    };
    assert_eq!(status, 500);
    assert!(
        url.ends_with("/api/v1/models?output_modalities=all"),
        "{url}"
    );
    assert!(
        body_snippet.contains("Internal Server Error"),
        "{body_snippet}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "OpenRouter answered 500 Internal Server Error for {}/models",
            server.openrouter_base_url()
        )),
        "{message}"
    );
    assert!(!message.contains(KEY) && !format!("{error:?}").contains(KEY));

    server.set_fault(OPENROUTER_MODELS_PATH, None);
    fetch_openrouter_models(&client, &server.openrouter_base_url(), Some(KEY))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_key_echoed_by_the_upstream_is_redacted() {
    let server = mock().await;
    server.set_fault(
        OPENROUTER_MODELS_PATH,
        Some(Fault::Raw {
            status: 401,
            content_type: "application/json".to_owned(),
            body: format!(r#"{{"error": {{"code": 401, "message": "Invalid key {KEY}"}}}}"#),
        }),
    );
    let error = fetch_openrouter_models(
        &reqwest::Client::new(),
        &server.openrouter_base_url(),
        Some(KEY),
    )
    .await
    .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("Invalid key [redacted]"), "{message}");
    assert!(!message.contains(KEY));
}

#[tokio::test]
async fn malformed_json_is_invalid_json_naming_the_url() {
    let server = mock().await;
    server.set_fault(OPENROUTER_MODELS_PATH, Some(Fault::MalformedJson));
    let error =
        fetch_openrouter_models(&reqwest::Client::new(), &server.openrouter_base_url(), None)
            .await
            .unwrap_err();
    match error {
        CatalogError::InvalidJson {
            url_or_source,
            message,
        } => {
            assert!(url_or_source.starts_with("OpenRouter at http://127.0.0.1:"));
            assert!(url_or_source.contains("/api/v1/models"));
            assert!(
                message.contains("truncated/model"),
                "shows the body: {message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_stalled_upstream_times_out() {
    let server = mock().await;
    server.set_fault(
        OPENROUTER_MODELS_PATH,
        Some(Fault::Stall(Duration::from_secs(30))),
    );
    let started = Instant::now();
    let error = fetch_openrouter_models_within(
        &reqwest::Client::new(),
        &server.openrouter_base_url(),
        None,
        Duration::from_millis(300),
    )
    .await
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    match &error {
        CatalogError::Timeout { url, after, .. } => {
            assert!(url.contains("/api/v1/models"));
            assert_eq!(*after, Duration::from_millis(300));
        }
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().contains("within 0.3 s"), "{error}");
}

#[tokio::test]
async fn an_unreachable_host_is_a_network_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = fetch_openrouter_models(
        &reqwest::Client::new(),
        &format!("http://user:pa55word@127.0.0.1:{port}/api/v1"),
        Some(KEY),
    )
    .await
    .unwrap_err();
    match &error {
        CatalogError::Network { url, message, .. } => {
            assert!(
                !url.contains("pa55word"),
                "credentials are not shown: {url}"
            );
            assert!(!message.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("could not reach OpenRouter at http://127.0.0.1:")
    );
    assert!(!error.to_string().contains(KEY));
}

#[tokio::test]
async fn a_changed_body_is_seen_on_the_next_fetch() {
    let server = mock().await;
    let client = reqwest::Client::new();
    let mut body: Value =
        serde_json::from_str(aipasta_mock::fixtures::OPENROUTER_MODELS_SMALL).unwrap();
    let data = body["data"].as_array_mut().unwrap();
    data.retain(|m| m["id"] != "openrouter/auto");
    data[0]["pricing"]["prompt"] = json!("0.000004");
    server.set_openrouter_models(serde_json::to_vec(&body).unwrap());
    let models = fetch_openrouter_models(&client, &server.openrouter_base_url(), None)
        .await
        .unwrap();
    assert_eq!(models.len(), 7);
    assert!(
        models
            .iter()
            .all(|m| m.provider_model_id != "openrouter/auto")
    );
    assert_eq!(models[0].pricing.prompt.unwrap().to_string(), "0.000004");
}

#[tokio::test]
async fn the_hub_is_asked_once_per_pipeline_tag() {
    let server = mock().await;
    let models = fetch_huggingface_hub_models(&reqwest::Client::new(), &server.url(), 10)
        .await
        .unwrap();
    let requests = server.requests(HF_HUB_MODELS_PATH);
    let asked: Vec<_> = requests
        .iter()
        .map(|r| r.query_param("pipeline_tag").unwrap())
        .collect();
    assert_eq!(asked, HF_HUB_PIPELINE_TAGS);
    for request in &requests {
        assert_eq!(request.query_param("sort"), Some("downloads"));
        assert_eq!(request.query_param("limit"), Some("10"));
    }
    // Three text-generation models and one of each other asked-for pipeline; the
    // image-text-to-text and speech models are not asked for.
    assert_eq!(models.len(), 7);
    assert_eq!(
        models[0].provider_model_id, "acme-labs/Orca-Chat-7B",
        "most downloaded first"
    );
}

#[tokio::test]
async fn the_per_task_limit_is_applied_by_the_hub() {
    let server = mock().await;
    let models = fetch_huggingface_hub_models(&reqwest::Client::new(), &server.url(), 1)
        .await
        .unwrap();
    assert_eq!(models.len(), 5, "one per pipeline tag");
}

#[tokio::test]
async fn the_same_hub_model_seen_twice_is_kept_once() {
    let server = mock().await;
    // A model whose pipeline tag changed between two of the requests shows up in both lists.
    let entry = |tag: &str| {
        json!({"id": "acme/shifty-1b", "pipeline_tag": tag, "downloads": 10,
               "tags": [tag], "library_name": "transformers"})
    };
    let list = json!([
        entry("text-generation"),
        entry("summarization"),
        entry("translation")
    ]);
    server.set_hf_hub_models(serde_json::to_vec(&list).unwrap());
    let models = fetch_huggingface_hub_models(&reqwest::Client::new(), &server.url(), 5)
        .await
        .unwrap();
    assert_eq!(models.len(), 1);
    assert_eq!(
        models[0].category, "text-generation",
        "the first sighting wins"
    );
    assert_eq!(server.request_count(HF_HUB_MODELS_PATH), 5);
}

#[tokio::test]
async fn a_failing_hub_request_fails_the_whole_fetch() {
    let server = mock().await;
    server.set_fault(HF_HUB_MODELS_PATH, Some(Fault::Status(429)));
    let error = fetch_huggingface_hub_models_within(
        &reqwest::Client::new(),
        &server.url(),
        5,
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    match &error {
        CatalogError::Http {
            status,
            body_snippet,
            ..
        } => {
            assert_eq!(*status, 429);
            assert!(body_snippet.contains("quotas"), "{body_snippet}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("The Hugging Face Hub answered 429 Too Many Requests")
    );
    assert_eq!(
        server.request_count(HF_HUB_MODELS_PATH),
        1,
        "stops at the first failure"
    );
}

#[tokio::test]
async fn openai_compatible_lists_are_fetched_from_base_models() {
    let server = mock().await;
    let client = reqwest::Client::new();
    let models = fetch_openai_compatible_models(
        &client,
        &server.openai_base_url(),
        Some(KEY),
        "ollama",
        "ollama/",
    )
    .await
    .unwrap();
    assert_eq!(models.len(), 4);
    assert!(models.iter().all(|m| m.slug.starts_with("ollama/")));
    let request = &server.requests(OPENAI_MODELS_PATH)[0];
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );

    server.set_fault(OPENAI_MODELS_PATH, Some(Fault::Status(401)));
    let error = fetch_openai_compatible_models(
        &client,
        &server.openai_base_url(),
        Some(KEY),
        "ollama",
        "ollama/",
    )
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("ollama answered 401 Unauthorized for"),
        "{error}"
    );
    assert!(matches!(error, CatalogError::Http { status: 401, .. }));
    assert_eq!(
        server.request_count(OPENROUTER_MODELS_PATH),
        0,
        "no other route was called"
    );
}
