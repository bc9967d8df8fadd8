//! The mock server itself: routes, Hub filtering, faults, request records and shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aipasta_mock::{
    Fault, HF_HUB_MODELS_PATH, MockConfig, MockServer, OPENAI_MODELS_PATH, OPENROUTER_MODELS_PATH,
};
use serde_json::Value;

async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn every_catalog_route_serves_its_fixture() {
    let server = MockServer::start(MockConfig::default()).await;
    let (status, body) = get_json(&format!("{}/models", server.openrouter_base_url())).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().unwrap().len(), 8);
    let (_, body) = get_json(&format!("{}/models", server.openai_base_url())).await;
    assert_eq!(body["object"], "list");
    let (_, body) = get_json(&format!("{}/api/models", server.url())).await;
    assert_eq!(body.as_array().unwrap().len(), 9, "no filter, everything");
    assert_eq!(server.request_count(OPENROUTER_MODELS_PATH), 1);
    assert_eq!(server.request_count(OPENAI_MODELS_PATH), 1);
    assert_eq!(server.request_count(HF_HUB_MODELS_PATH), 1);
}

#[tokio::test]
async fn the_hub_filters_sorts_and_limits() {
    let server = MockServer::start(MockConfig::default()).await;
    let url = format!(
        "{}/api/models?pipeline_tag=text-generation&sort=downloads&limit=2",
        server.url()
    );
    let (_, body) = get_json(&url).await;
    let ids: Vec<_> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["acme-labs/Orca-Chat-7B", "acme-labs/Orca-Coder-7B"]);
    let request = &server.requests(HF_HUB_MODELS_PATH)[0];
    assert_eq!(request.query_param("limit"), Some("2"));
}

#[tokio::test]
async fn faults_answer_in_the_provider_shape_until_cleared() {
    let server = MockServer::start(MockConfig::default()).await;
    server.set_models_fault(Some(Fault::Status(503)));
    let (status, body) = get_json(&format!("{}/models", server.openrouter_base_url())).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], 503);
    let (status, body) = get_json(&format!("{}/api/models", server.url())).await;
    assert_eq!(status, 503);
    assert!(body["error"].is_string());
    let (_, body) = get_json(&format!("{}/models", server.openai_base_url())).await;
    assert_eq!(body["error"]["type"], "server_error");

    server.set_fault(OPENROUTER_MODELS_PATH, Some(Fault::MalformedJson));
    let text = reqwest::get(format!("{}/models", server.openrouter_base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err());

    server.set_models_fault(None);
    let (status, _) = get_json(&format!("{}/models", server.openrouter_base_url())).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_stall_delays_the_answer() {
    let server = MockServer::start(MockConfig::default()).await;
    server.set_fault(
        OPENAI_MODELS_PATH,
        Some(Fault::Stall(Duration::from_millis(300))),
    );
    let started = std::time::Instant::now();
    let (status, _) = get_json(&format!("{}/models", server.openai_base_url())).await;
    assert_eq!(status, 200, "answers normally after the stall");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn unknown_routes_are_404_and_still_counted() {
    let server = MockServer::start(MockConfig::default()).await;
    let response = reqwest::get(format!("{}/nope", server.url()))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(server.request_count("/nope"), 1);
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let server = MockServer::start(MockConfig::default()).await;
    let url = format!("{}/models", server.openai_base_url());
    drop(server);
    let client = reqwest::Client::new();
    let mut refused = false;
    for _ in 0..50 {
        if client.get(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "still answering after drop");
}
