//! What people see when an upstream misbehaves, on both databases, against the mock: a key
//! echoed back in any form (whichever configured key it was), an upstream's internal address,
//! an answer cut after its `200`, and a silent upstream on a whole answer. Checked in the
//! `/api` and `/v1` answers, the stored generation row and the logs.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aipasta_core::catalog::{Capabilities, ModelFacts};
use aipasta_engine::EnvEndpoint;
use aipasta_mock::{
    Fault, MockConfig, MockServer, OPENAI_CHAT_PATH, OPENROUTER_CHAT_PATH, Outcome, Script,
};
use aipasta_providers::generate::ApiKey;
use aipasta_store::{Backend, Query};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, backends, mock_provider_config, spawn_app_with};

/// A seeded OpenRouter chat model.
const MODEL: &str = "ai21/jamba-large-1.7";

/// Everything the app logs on this test's thread while it runs, at debug level and above (a
/// `#[tokio::test]` runs the app's tasks on its one thread).
///
/// One global subscriber routes each event to the buffer of the thread it happens on. A
/// per-thread default subscriber (`set_default`) lost events now and then when tests ran in
/// parallel: tracing caches each log site's interest for every thread at once, and a site
/// first reached on a thread without a subscriber could be cached as uninteresting.
struct Logs {
    buffer: Arc<Mutex<Vec<u8>>>,
}

thread_local! {
    /// Where this thread's events go while a test captures them.
    static CAPTURE: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> =
        const { std::cell::RefCell::new(None) };
}

fn capturing() -> bool {
    CAPTURE.with(|capture| capture.borrow().is_some())
}

/// Writes to the current thread's capture, if it has one.
struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(buffer) = &*capture.borrow() {
                buffer
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture() -> Logs {
        use tracing_subscriber::layer::SubscriberExt;
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            // Asked per event, never cached per site: only capturing threads pay for
            // formatting.
            let only_captured = tracing_subscriber::filter::filter_fn(|metadata| {
                *metadata.level() <= tracing::Level::DEBUG && capturing()
            });
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(|| ThreadWriter);
            let subscriber = tracing_subscriber::registry()
                .with(tracing_subscriber::Layer::with_filter(layer, only_captured));
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the test binary");
        });
        // Another test's thread may have met a callsite first and cached a stale interest
        // for it (tokio-rs/tracing#3611); asking every callsite again makes this capture see
        // every event of its thread.
        tracing::callsite::rebuild_interest_cache();
        let buffer = Arc::new(Mutex::new(Vec::new()));
        CAPTURE.with(|capture| *capture.borrow_mut() = Some(buffer.clone()));
        Logs { buffer }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap_or_else(PoisonError::into_inner))
            .into_owned()
    }
}

impl Drop for Logs {
    fn drop(&mut self) {
        CAPTURE.with(|capture| *capture.borrow_mut() = None);
    }
}

/// A chat model of `provider` (an OpenAI-compatible endpoint's name) in the catalog.
async fn add_chat_model(app: &TestApp, provider: &str, id: &str) -> String {
    let slug = format!("{provider}/{id}");
    let facts = ModelFacts {
        provider: provider.into(),
        provider_model_id: id.into(),
        slug: slug.clone(),
        name: id.into(),
        description: None,
        category: "text-generation".into(),
        tags: Vec::new(),
        pricing: Default::default(),
        capabilities: Capabilities {
            chat_completion: true,
            text_generation: true,
            ..Capabilities::default()
        },
        input_modalities: vec!["text".into()],
        output_modalities: vec!["text".into()],
        context_length: Some(8192),
        max_output_tokens: None,
        supported_parameters: Vec::new(),
        parameter_defaults: BTreeMap::new(),
        developer: None,
        hugging_face_id: None,
        license: None,
        released_at: None,
        downloads: None,
    };
    aipasta_store::catalog::upsert_provider_models(&app.db, provider, &[facts], false)
        .await
        .unwrap();
    slug
}

async fn api_key(app: &TestApp, user: &TestUser) -> String {
    let (status, body) = app
        .call(
            user,
            Method::POST,
            "/api/users/api-keys",
            Some(json!({"name": "sdk", "scopes": ["read", "generate"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["key"].as_str().unwrap().to_owned()
}

/// A whole generation through `/api`: its status, body as text, and id.
async fn api_generate(app: &TestApp, user: &TestUser, model: &str) -> (StatusCode, String, String) {
    let response = app
        .user(user)
        .post(
            &format!("/api/models/{model}/generate"),
            json!({"prompt": "Say something short"}),
        )
        .await;
    let id = response.json()["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (response.status, response.text(), id)
}

/// A chat completion through `/v1`, whole and streamed: both answers as text.
async fn v1_chat(app: &TestApp, key: &str, model: &str) -> Vec<String> {
    let mut answers = Vec::new();
    for stream in [false, true] {
        let response = app
            .bearer(key)
            .post(
                "/v1/chat/completions",
                json!({
                    "model": model, "stream": stream,
                    "messages": [{"role": "user", "content": "Say something short"}],
                }),
            )
            .await;
        let status = response.status;
        let text = response.text();
        assert!(
            status.is_client_error() || status.is_server_error() || text.contains("error"),
            "{status}: {text}"
        );
        answers.push(text);
    }
    answers
}

/// The stored row's error columns, after the recorder wrote it.
async fn stored_error(
    app: &TestApp,
    id: &str,
) -> (String, Option<String>, Option<String>, Option<String>) {
    app.state.engine.flush().await;
    Query::new(
        "SELECT status, error_code, error_message, error_details FROM generations WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Every error row of the database, as text: what was stored for people to read later.
async fn all_stored_errors(app: &TestApp) -> String {
    app.state.engine.flush().await;
    let rows: Vec<(Option<String>, Option<String>)> =
        Query::new("SELECT error_message, error_details FROM generations")
            .fetch_all(&app.db)
            .await
            .unwrap();
    format!("{rows:?}")
}

// ---- keys ----

const ENV_KEY: &str = "sk-or-v1-env0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const ADMIN_KEY: &str = "sk-or-v1-adm9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const OWN_KEY: &str = "sk-or-v1-own1122334455667788990011223344556";
const LAB_KEY: &str = "sk-lab-endpoint-7d1e0c2b9a8f7e6d5c4b3a291807";
const LOCAL_KEY: &str = "sk-local-env-5c4b3a29180f7e6d5c4b3a2918070f";

/// The key as upstreams have been seen to quote it back.
fn echoes(key: &str) -> String {
    let encoded: String = key.bytes().map(|b| format!("%{b:02X}")).collect();
    format!(
        "Invalid key {}. Hint: {}… / …{} / {}***{}. Request: GET /v1/models?key={encoded}",
        key.to_uppercase(),
        &key[..16],
        &key[key.len() - 14..],
        &key[..10],
        &key[key.len() - 10..],
    )
}

/// No piece of any key long enough to matter, in any case or URL-encoded.
fn assert_no_key(text: &str, what: &str) {
    let text = text.to_lowercase();
    for key in [ENV_KEY, ADMIN_KEY, OWN_KEY, LAB_KEY, LOCAL_KEY] {
        let key = key.to_lowercase();
        for piece in [&key[..9], &key[key.len() - 9..]] {
            assert!(
                !text.contains(piece),
                "{what} shows a piece of a key ({piece}): {text}"
            );
        }
    }
    assert!(
        !text.contains("%73%6b"),
        "{what} shows an encoded key: {text}"
    );
}

fn echo_on(mock: &MockServer, path: &str, key: &str) {
    mock.set_fault(
        path,
        Some(Fault::Raw {
            status: 401,
            content_type: "application/json".to_owned(),
            body: json!({"error": {"code": 401, "message": echoes(key)}}).to_string(),
        }),
    );
}

#[tokio::test]
async fn no_configured_key_reaches_people_or_logs_in_any_form() {
    let logs = Logs::capture();
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let mut config = mock_provider_config(&mock);
        config.engine.providers.openrouter_api_key = Some(ApiKey::new(ENV_KEY));
        config.engine.providers.openai_compatible = vec![EnvEndpoint {
            name: "local".into(),
            base_url: mock.openai_base_url(),
            api_key: Some(ApiKey::new(LOCAL_KEY)),
        }];
        let app = spawn_app_with(backend, config, true).await;
        let admin = app.sign_up("Admin", "admin@example.com").await;
        aipasta_store::accounts::set_role(&app.db, &admin.id, "admin")
            .await
            .unwrap();
        let bob = app.sign_up("Bob", "bob@example.com").await;
        let ada = app.sign_up("Ada", "ada@example.com").await;
        let (bob_key, ada_key) = (api_key(&app, &bob).await, api_key(&app, &ada).await);
        let local_model = add_chat_model(&app, "local", "env-chat").await;
        // A model the mock lists: adding the endpoint syncs it, and a model missing from its
        // list would be deprecated.
        let lab_model = add_chat_model(&app, "lab", "llama3.2:3b").await;
        let mut answers = Vec::new();
        let mut ids = Vec::new();

        let mut check = async |user: &TestUser, key: &str, model: &str, path: &str, sent: &str| {
            echo_on(&mock, path, sent);
            let (status, text, id) = api_generate(&app, user, model).await;
            assert_eq!(
                status,
                StatusCode::BAD_GATEWAY,
                "{backend:?} {model}: {text}"
            );
            assert!(text.contains("upstream_unauthorized"), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
            assert_eq!(
                mock.requests(path)
                    .last()
                    .and_then(|r| r.header("authorization").map(str::to_owned)),
                Some(format!("Bearer {sent}")),
                "the key under test was the one sent"
            );
            answers.push(text);
            answers.extend(v1_chat(&app, key, model).await);
            ids.push(id);
        };
        // The environment's OpenRouter key, then an admin's stored one, then Ada's own.
        check(&bob, &bob_key, MODEL, OPENROUTER_CHAT_PATH, ENV_KEY).await;
        let (status, body) = app
            .call(
                &admin,
                Method::PUT,
                "/api/admin/providers/builtin/openrouter/key",
                Some(json!({"apiKey": ADMIN_KEY})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        check(&bob, &bob_key, MODEL, OPENROUTER_CHAT_PATH, ADMIN_KEY).await;
        let (status, body) = app
            .call(
                &ada,
                Method::PUT,
                "/api/users/provider-keys/openrouter",
                Some(json!({"apiKey": OWN_KEY})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        check(&ada, &ada_key, MODEL, OPENROUTER_CHAT_PATH, OWN_KEY).await;
        // The environment's OpenAI-compatible endpoint, and one an admin added.
        check(&bob, &bob_key, &local_model, OPENAI_CHAT_PATH, LOCAL_KEY).await;
        let (status, body) = app
            .call(
                &admin,
                Method::POST,
                "/api/admin/providers",
                Some(json!({"name": "lab", "baseUrl": mock.openai_base_url(), "apiKey": LAB_KEY, "allowPrivate": true})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        check(&bob, &bob_key, &lab_model, OPENAI_CHAT_PATH, LAB_KEY).await;

        for (index, answer) in answers.iter().enumerate() {
            assert_no_key(answer, &format!("{backend:?}: answer {index}"));
        }
        for id in &ids {
            let (status, code, message, details) = stored_error(&app, id).await;
            assert_eq!(
                (status.as_str(), code.as_deref()),
                ("error", Some("upstream_unauthorized"))
            );
            assert!(
                message.as_deref().unwrap_or("").contains("[redacted]"),
                "{message:?}"
            );
            assert_no_key(&format!("{message:?} {details:?}"), "the stored row");
        }
        assert_no_key(&all_stored_errors(&app).await, "a stored row");
    }
    let logged = logs.text();
    assert!(
        logged.contains("[redacted]"),
        "the refusals were logged: {logged}"
    );
    assert_no_key(&logged, "the log");
}

// ---- addresses ----

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn upstream_addresses_are_kept_for_the_log_only() {
    let logs = Logs::capture();
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let port = closed_port();
        let mut config = mock_provider_config(&mock);
        config.engine.timeouts.first_token = Duration::from_millis(800);
        config.engine.providers.openai_compatible = vec![EnvEndpoint {
            name: "gone".into(),
            base_url: format!("http://127.0.0.1:{port}/internal/v1"),
            api_key: None,
        }];
        let app = spawn_app_with(backend, config, true).await;
        let user = app.sign_up("Bob", "bob@example.com").await;
        let key = api_key(&app, &user).await;
        let gone = add_chat_model(&app, "gone", "chat").await;
        let mock_port = mock.address.port().to_string();
        let mut answers = Vec::new();

        // Refused: nothing listens at the endpoint's address.
        let (status, text, id) = api_generate(&app, &user, &gone).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{text}");
        assert!(
            text.contains("upstream_unreachable") && text.contains("Could not reach gone"),
            "{text}"
        );
        answers.push(text);
        answers.extend(v1_chat(&app, &key, &gone).await);
        let mut ids = vec![id];

        // A 500 whose page names the upstream's address, then a silent upstream.
        let page = format!(
            "<html><title>500: backend http://{}/api/v1/chat/completions failed</title></html>",
            mock.address
        );
        for fault in [
            Fault::Raw {
                status: 500,
                content_type: "text/html".into(),
                body: page,
            },
            Fault::Stall(Duration::from_secs(30)),
        ] {
            mock.set_fault(OPENROUTER_CHAT_PATH, Some(fault.clone()));
            let (status, text, id) = api_generate(&app, &user, MODEL).await;
            assert!(status.is_server_error(), "{fault:?}: {status} {text}");
            answers.push(text);
            answers.extend(v1_chat(&app, &key, MODEL).await);
            ids.push(id);
        }
        mock.set_fault(OPENROUTER_CHAT_PATH, None);

        for answer in &answers {
            for address in ["127.0.0.1", &port.to_string(), &mock_port, "/internal/v1"] {
                assert!(
                    !answer.contains(address),
                    "{backend:?}: {address} in {answer}"
                );
            }
        }
        for id in &ids {
            let (_, _, message, details) = stored_error(&app, id).await;
            let stored = format!("{message:?} {details:?}");
            assert!(message.is_some(), "{stored}");
            for address in ["127.0.0.1", &port.to_string(), &mock_port] {
                assert!(
                    !stored.contains(address),
                    "{backend:?}: {address} stored: {stored}"
                );
            }
        }
        // The operator still learns where it failed.
        let logged = logs.text();
        assert!(
            logged.contains(&format!(
                "http://127.0.0.1:{port}/internal/v1/chat/completions"
            )),
            "{logged}"
        );
    }
}

// ---- whole answers ----

async fn start(backend: Backend) -> (MockServer, TestApp, TestUser) {
    let mock = MockServer::start(MockConfig::default()).await;
    let app = spawn_app_with(backend, mock_provider_config(&mock), true).await;
    let user = app.sign_up("Gen Tester", "gen@example.com").await;
    (mock, app, user)
}

#[tokio::test]
async fn a_whole_answer_cut_after_its_200_is_not_asked_for_again() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::outcome_only(Outcome::CutAfter(3)),
        );
        let (status, text, id) = api_generate(&app, &user, MODEL).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{backend:?}: {text}");
        assert!(text.contains("stream_cut"), "{text}");
        assert!(text.contains("may have charged"), "{text}");
        // One call: the provider may have charged for the answer already.
        assert_eq!(mock.request_count(OPENROUTER_CHAT_PATH), 1);
        let (status, code, _, _) = stored_error(&app, &id).await;
        assert_eq!(
            (status.as_str(), code.as_deref()),
            ("error", Some("stream_cut"))
        );
    }
}

#[tokio::test]
async fn a_silent_upstream_fails_a_whole_answer_at_the_first_token_limit() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        // No headers, no byte: the first-token limit (2 s here) must end it, not the total
        // limit (10 s).
        mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::outcome_only(Outcome::StallAfter(0)),
        );
        let started = Instant::now();
        let (status, text, id) = api_generate(&app, &user, MODEL).await;
        let took = started.elapsed();
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{backend:?}: {text}");
        assert!(took < Duration::from_secs(6), "{backend:?}: took {took:?}");
        let message: Value = serde_json::from_str(&text).unwrap();
        let message = message["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("within 2 s (the first-token limit, AIPASTA_FIRST_TOKEN_TIMEOUT)"),
            "{message}"
        );
        let (status, code, _, _) = stored_error(&app, &id).await;
        assert_eq!(
            (status.as_str(), code.as_deref()),
            ("timeout", Some("upstream_timeout"))
        );
        // A timeout is not retried.
        assert_eq!(mock.request_count(OPENROUTER_CHAT_PATH), 1);
    }
}
