//! The first run: an OpenAI-compatible server set in the environment shows its models in the
//! catalog and the playground within seconds of start, without `aipasta models sync`; a
//! failing one is tried again until it answers; a stalled one holds up neither start-up nor
//! serving. On every backend, in process and as the real binary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aipasta_engine::sync::EndpointSource;
use aipasta_mock::{Fault, MockConfig, MockServer, OPENAI_MODELS_PATH};
use aipasta_store::testing::TestDatabase;
use aipasta_web::WebConfig;
use aipasta_web::services::background_sync::RetryBackoff;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, backends, spawn_app_with};

/// The environment's endpoint name (`AIPASTA_OPENAI_COMPATIBLE_NAME`'s default).
const ENDPOINT: &str = "local";
/// Models the mock's `/v1/models` lists.
const MOCK_MODELS: i64 = 4;
const ENDPOINT_KEY: &str = "sk-local-endpoint-key";

/// Settings with the mock as the environment's OpenAI-compatible endpoint (for the sync and
/// for generations), and quick retries.
fn config(mock: &MockServer) -> WebConfig {
    let mut config = WebConfig::default();
    config.sync.openai_compatible = vec![EndpointSource {
        name: ENDPOINT.into(),
        base_url: mock.openai_base_url(),
        api_key: Some(ENDPOINT_KEY.into()),
    }];
    config.engine.providers.openai_compatible = vec![aipasta_engine::EnvEndpoint {
        name: ENDPOINT.into(),
        base_url: mock.openai_base_url(),
        api_key: Some(aipasta_providers::generate::ApiKey::new(ENDPOINT_KEY)),
    }];
    config.sync_retry = RetryBackoff {
        first: Duration::from_millis(150),
        longest: Duration::from_millis(300),
    };
    config
}

/// How many of the endpoint's models `/api/models` lists (the catalog holds no others).
async fn listed(app: &TestApp) -> i64 {
    let (status, body) = app.get_json("/api/models?limit=100").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let models = body["data"].as_array().unwrap();
    models.iter().filter(|m| m["provider"] == ENDPOINT).count() as i64
}

/// Waits up to `seconds` for `/api/models` to list every model of the endpoint.
async fn wait_for_models(app: &TestApp, seconds: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let count = listed(app).await;
        if count == MOCK_MODELS {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {count} of the endpoint's {MOCK_MODELS} models after {seconds} s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits up to `seconds` for the mock to have been asked for its models `count` times.
async fn wait_for_requests(mock: &MockServer, count: usize, seconds: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while mock.request_count(OPENAI_MODELS_PATH) < count {
        assert!(
            Instant::now() < deadline,
            "{what}: the endpoint was asked {} times for its models, not {count}",
            mock.request_count(OPENAI_MODELS_PATH)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_environments_endpoint_lists_its_models_in_the_catalog_and_playground_at_start() {
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let app = spawn_app_with(backend, config(&mock), false).await;
        wait_for_models(&app, 10, &format!("{backend:?}")).await;

        let asked = mock.requests(OPENAI_MODELS_PATH);
        assert_eq!(asked.len(), 1, "{backend:?}: one sync at start");
        assert_eq!(
            asked[0].header("authorization"),
            Some(format!("Bearer {ENDPOINT_KEY}").as_str()),
            "with the environment's key"
        );
        // The playground's picker finds them too.
        let html = app.get("/playground?q=llama").await.text().await.unwrap();
        assert!(
            html.contains("/models/local/llama3.2:3b/playground"),
            "{backend:?}: {html}"
        );
    }
}

#[tokio::test]
async fn a_failing_endpoint_is_tried_again_until_its_models_arrive() {
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        mock.set_fault(OPENAI_MODELS_PATH, Some(Fault::Status(500)));
        let app = spawn_app_with(backend, config(&mock), false).await;

        // Tried again after each failure, the catalog unchanged meanwhile.
        wait_for_requests(&mock, 3, 10, &format!("{backend:?}")).await;
        assert_eq!(listed(&app).await, 0, "{backend:?}");

        mock.set_fault(OPENAI_MODELS_PATH, None);
        wait_for_models(
            &app,
            10,
            &format!("{backend:?}: after the endpoint recovered"),
        )
        .await;

        // Done: no more tries.
        let asked = mock.request_count(OPENAI_MODELS_PATH);
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert_eq!(
            mock.request_count(OPENAI_MODELS_PATH),
            asked,
            "{backend:?}: the retries stop once a sync succeeded"
        );
    }
}

#[tokio::test]
async fn a_stalled_endpoint_holds_up_neither_start_up_nor_serving() {
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        mock.set_fault(
            OPENAI_MODELS_PATH,
            Some(Fault::Stall(Duration::from_secs(120))),
        );
        let started = Instant::now();
        let app = spawn_app_with(backend, config(&mock), false).await;

        // The sync is under way (and stalled) ...
        wait_for_requests(&mock, 1, 10, &format!("{backend:?}")).await;
        // ... while the server answers at once.
        for path in ["/api/health", "/api/models", "/models", "/playground"] {
            let asked = Instant::now();
            let response = app.get(path).await;
            assert_eq!(response.status(), StatusCode::OK, "{backend:?}: {path}");
            assert!(
                asked.elapsed() < Duration::from_secs(2),
                "{backend:?}: {path} took {:?} while the sync stalls",
                asked.elapsed()
            );
        }
        assert_eq!(listed(&app).await, 0, "{backend:?}");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no request waited for the stalled sync"
        );
    }
}

/// `aipasta serve` as an operator starts it.
struct Served {
    child: Child,
    address: String,
}

impl Served {
    fn start(database: &TestDatabase, mock: &MockServer, dir: &std::path::Path) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aipasta"))
            .current_dir(dir)
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--data-dir",
                &dir.join("data").display().to_string(),
                "--database-url",
                &database.url,
            ])
            .env("AIPASTA_OPENAI_COMPATIBLE_URL", mock.openai_base_url())
            .env_remove("AIPASTA_OPENAI_COMPATIBLE_NAME")
            .env_remove("AIPASTA_OPENAI_COMPATIBLE_API_KEY")
            // Nothing may reach the internet: no built-in provider has a key.
            .env_remove("AIPASTA_OPENROUTER_API_KEY")
            .env_remove("OPENROUTER_API_KEY")
            .env_remove("AIPASTA_HUGGINGFACE_API_KEY")
            .env_remove("HUGGINGFACE_API_KEY")
            .env_remove("AIPASTA_MODEL_SYNC_INTERVAL")
            .env("AIPASTA_OPENROUTER_BASE_URL", mock.openrouter_base_url())
            .env("AIPASTA_HUGGINGFACE_HUB_URL", mock.url())
            .env("AIPASTA_LOG_FORMAT", "json")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn aipasta serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let address = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("aipasta exited before listening"))
                .expect("a log line");
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split('"').next().unwrap_or_default().to_owned();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Served { child, address }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn aipasta_serve_lists_the_environments_endpoint_models_within_seconds() {
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let (database, _db) = TestDatabase::migrated(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let served = Served::start(&database, &mock, dir.path());
        let client = reqwest::Client::new();
        let started = Instant::now();
        let url = format!(
            "http://{}/api/models?provider={ENDPOINT}&limit=10",
            served.address
        );
        let body = loop {
            let body: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
            if body["pagination"]["total"] == MOCK_MODELS {
                break body;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{backend:?}: the endpoint's models are not listed 10 s after start: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let ids: Vec<&str> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["id"].as_str())
            .collect();
        assert!(ids.contains(&"local/llama3.2:3b"), "{backend:?}: {ids:?}");
        let picker = client
            .get(format!("http://{}/playground?q=qwen", served.address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            picker.contains("/models/local/qwen2.5-coder:7b/playground"),
            "{backend:?}: the playground lists them"
        );
        drop(served);
    }
}
