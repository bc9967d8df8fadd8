//! A sampling parameter added as one row of the parameter table (`min_p`) works everywhere the
//! table reaches: the plan's API (either name), `/v1`, the provider's body, the checks against
//! the model, the recorded parameters and the playground form.

use aipasta_mock::{MockConfig, MockServer, OPENROUTER_CHAT_PATH};
use aipasta_store::testing::backends;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, mock_provider_config, spawn_app_with};

/// A seeded OpenRouter model that lists `min_p`.
const WITH_MIN_P: &str = "arcee-ai/coder-large";
/// A seeded OpenRouter model that does not.
const WITHOUT_MIN_P: &str = "ai21/jamba-large-1.7";

fn last_body(mock: &MockServer) -> Value {
    let request = mock
        .requests(OPENROUTER_CHAT_PATH)
        .pop()
        .expect("a request reached the provider");
    serde_json::from_slice(&request.body).unwrap()
}

async fn start(backend: aipasta_store::Backend) -> (MockServer, TestApp, TestUser) {
    let mock = MockServer::start(MockConfig::default()).await;
    let app = spawn_app_with(backend, mock_provider_config(&mock), true).await;
    let user = app.sign_up("Ada", "ada@example.com").await;
    (mock, app, user)
}

#[tokio::test]
async fn min_p_reaches_the_provider_from_the_api_and_v1_and_is_checked() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;

        // The plan's API, by the plan's name: sent by the provider's name, recorded.
        let reply = app
            .user(&user)
            .post(
                "/api/ai/generate",
                json!({"model": WITH_MIN_P, "prompt": "Hi", "parameters": {"minP": 0.05}}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{backend:?}: {}",
            reply.text()
        );
        assert_eq!(last_body(&mock)["min_p"], json!(0.05), "{backend:?}");
        let id = reply.json()["data"]["id"].as_str().unwrap().to_owned();
        let (_, stored) = app
            .call(
                &user,
                reqwest::Method::GET,
                &format!("/api/generations/{id}"),
                None,
            )
            .await;
        assert_eq!(
            stored["data"]["input"]["parameters"]["minP"],
            json!(0.05),
            "{backend:?}: {stored}"
        );

        // Out of its range: a 400 naming it, nothing sent.
        let sent = mock.request_count(OPENROUTER_CHAT_PATH);
        let reply = app
            .user(&user)
            .post(
                "/api/ai/generate",
                json!({"model": WITH_MIN_P, "prompt": "Hi", "parameters": {"min_p": 1.5}}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{backend:?}");
        let error = &reply.json()["error"];
        assert_eq!(error["code"], "parameter_out_of_range", "{backend:?}");
        assert_eq!(error["param"], "min_p", "{backend:?}");
        // A model that does not take it: refused by the plan's API ...
        let reply = app
            .user(&user)
            .post(
                "/api/ai/generate",
                json!({"model": WITHOUT_MIN_P, "prompt": "Hi", "parameters": {"minP": 0.1}}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{backend:?}");
        assert_eq!(reply.json()["error"]["code"], "unsupported_parameter");
        assert_eq!(reply.json()["error"]["param"], "min_p");
        assert_eq!(
            mock.request_count(OPENROUTER_CHAT_PATH),
            sent,
            "{backend:?}"
        );

        // ... and left out by /v1, whose clients send what any model may not know.
        let (key, _) = api_key(&app, &user).await;
        for (model, expected) in [(WITH_MIN_P, json!(0.2)), (WITHOUT_MIN_P, Value::Null)] {
            let reply = app
                .bearer(&key)
                .post(
                    "/v1/chat/completions",
                    json!({"model": model, "min_p": 0.2,
                           "messages": [{"role": "user", "content": "Hi"}]}),
                )
                .await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{backend:?} {model}: {}",
                reply.text()
            );
            assert_eq!(last_body(&mock)["min_p"], expected, "{backend:?} {model}");
        }
        app.stop().await.0.expect("the server stops cleanly");
    }
}

#[tokio::test]
async fn the_playground_offers_min_p_under_advanced_for_models_that_take_it() {
    let (_mock, app, _user) = start(backends()[0]).await;
    let page = app
        .anonymous()
        .get(&format!("/models/{WITH_MIN_P}/playground"))
        .await
        .text();
    assert!(page.contains("id=\"param-minP\""), "the control is drawn");
    assert!(page.contains("Min P"), "with its label");
    let page = app
        .anonymous()
        .get(&format!("/models/{WITHOUT_MIN_P}/playground"))
        .await
        .text();
    assert!(
        !page.contains("param-minP"),
        "not for a model that does not list it"
    );
    app.stop().await.0.expect("the server stops cleanly");
}

async fn api_key(app: &TestApp, user: &TestUser) -> (String, Value) {
    let (status, body) = app
        .call(
            user,
            reqwest::Method::POST,
            "/api/users/api-keys",
            Some(json!({"name": "sdk", "scopes": ["read", "generate"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (body["data"]["key"].as_str().unwrap().to_owned(), body)
}
