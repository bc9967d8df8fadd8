//! Provider settings end to end, on every backend, against the mock provider: admins' endpoints
//! (SSRF guard, sealed keys, sync, generations, deprecation on delete), the admin page's forms,
//! admins' keys for the built-ins, users' own keys (used before any other for their own
//! generations only), and `aipasta models sync` with endpoints.

use std::time::Duration;

use aipasta_core::secret_box::{SecretBox, key_hint};
use aipasta_mock::{
    DEFAULT_TEXT, MockConfig, MockServer, OPENAI_CHAT_PATH, OPENAI_MODELS_PATH,
    OPENROUTER_CHAT_PATH,
};
use aipasta_providers::generate::ApiKey;
use aipasta_store::testing::TestDatabase;
use aipasta_store::{Backend, Query};
use aipasta_web::WebConfig;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    BrowserSession, TestApp, TestUser, backends, csrf_from, mock_provider_config, spawn_app_with,
};

/// A seeded OpenRouter chat model.
const OPENROUTER_MODEL: &str = "ai21/jamba-large-1.7";
/// The endpoint the tests add, and one of the mock's `/v1/models`.
const ENDPOINT: &str = "lab";
const ENDPOINT_MODEL: &str = "lab/llama3.2:3b";
/// Models the mock's OpenAI-compatible `/v1/models` lists.
const MOCK_MODELS: usize = 4;

const ENDPOINT_KEY: &str = "sk-lab-endpoint-secret-0123456789";
const OTHER_ENDPOINT_KEY: &str = "sk-lab-rotated-secret-9876543210";
const ENV_OPENROUTER_KEY: &str = "sk-or-v1-environment-key-000000";
const ADMIN_OPENROUTER_KEY: &str = "sk-or-v1-admin-stored-key-11111";
const ADA_OPENROUTER_KEY: &str = "sk-or-v1-ada-own-key-2222222222";

fn config(mock: &MockServer, env_openrouter_key: Option<&str>) -> WebConfig {
    let mut config = mock_provider_config(mock);
    config.engine.providers.openrouter_api_key = env_openrouter_key.map(ApiKey::new);
    config.engine.providers.huggingface_api_key = None;
    config.engine.timeouts.first_token = Duration::from_secs(5);
    config.engine.timeouts.between_tokens = Duration::from_secs(2);
    config.engine.max_attempts = 1;
    config
}

async fn start(
    backend: Backend,
    env_openrouter_key: Option<&str>,
    seed: bool,
) -> (MockServer, TestApp, TestUser, TestUser) {
    let mock = MockServer::start(MockConfig::default()).await;
    let app = spawn_app_with(backend, config(&mock, env_openrouter_key), seed).await;
    let admin = app.sign_up("Admin", "admin@example.com").await;
    aipasta_store::accounts::set_role(&app.db, &admin.id, "admin")
        .await
        .unwrap();
    let ada = app.sign_up("Ada", "ada@example.com").await;
    (mock, app, admin, ada)
}

/// A JSON call as `user`: the status, the body as text (to search for keys) and as JSON.
async fn call(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, String, Value) {
    let reply = app.user(user).send(method, path, body).await;
    let json = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    (reply.status, reply.text(), json)
}

async fn page(app: &TestApp, user: &TestUser, path: &str) -> (StatusCode, String) {
    let reply = app.user(user).get(path).await;
    (reply.status, reply.text())
}

async fn generate(app: &TestApp, user: &TestUser, model: &str) -> (StatusCode, Value) {
    let (status, _, body) = call(
        app,
        user,
        Method::POST,
        &format!("/api/models/{model}/generate"),
        Some(json!({ "prompt": "Say something short" })),
    )
    .await;
    (status, body)
}

/// The `Authorization` header of the last request the mock got on `path`.
fn last_authorization(mock: &MockServer, path: &str) -> Option<String> {
    mock.requests(path)
        .last()
        .and_then(|r| r.header("authorization").map(str::to_owned))
}

fn assert_no_key(text: &str, keys: &[&str], what: &str) {
    for key in keys {
        assert!(!text.contains(key), "{what} shows a key: {text}");
    }
}

#[tokio::test]
async fn admins_add_sync_use_and_delete_an_openai_compatible_endpoint() {
    for backend in backends() {
        let (mock, app, admin, ada) = start(backend, None, false).await;
        let keys = [ENDPOINT_KEY, OTHER_ENDPOINT_KEY];
        let mut bodies = Vec::new();
        let new_endpoint = json!({
            "name": ENDPOINT, "baseUrl": mock.openai_base_url(), "apiKey": ENDPOINT_KEY,
        });

        // The mock is on 127.0.0.1: refused until the admin allows private addresses.
        let (status, text, body) = call(
            &app,
            &admin,
            Method::POST,
            "/api/admin/providers",
            Some(new_endpoint.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}: {text}");
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["code"], "validation_error");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("127.0.0.1") && message.contains("allow private"),
            "{message}"
        );
        bodies.push(text);

        let mut allowed = new_endpoint.clone();
        allowed["allowPrivate"] = json!(true);
        let (status, text, body) = call(
            &app,
            &admin,
            Method::POST,
            "/api/admin/providers",
            Some(allowed.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {text}");
        let id = body["data"]["id"].as_str().unwrap().to_owned();
        assert_eq!(body["data"]["name"], ENDPOINT);
        assert_eq!(body["data"]["keyHint"], key_hint(ENDPOINT_KEY));
        assert_eq!(body["data"]["allowPrivate"], true);
        assert_eq!(body["data"]["active"], true);
        // Synced on creation: the answer says how many models arrived.
        assert_eq!(body["data"]["models"], MOCK_MODELS, "{text}");
        assert_eq!(body["data"]["sync"]["ok"], true, "{text}");
        assert_eq!(body["data"]["sync"]["inserted"], MOCK_MODELS, "{text}");
        assert_eq!(mock.request_count(OPENAI_MODELS_PATH), 1);
        bodies.push(text);

        // Stored sealed, never in the clear.
        let sealed: String =
            Query::new("SELECT api_key_sealed FROM provider_endpoints WHERE id = $1")
                .bind(&id)
                .fetch_scalar(&app.db)
                .await
                .unwrap();
        assert!(sealed.starts_with("v1.") && !sealed.contains(ENDPOINT_KEY));

        // Names: taken, a built-in's, not a slug.
        for (name, expected) in [
            (ENDPOINT, StatusCode::CONFLICT),
            ("openrouter", StatusCode::BAD_REQUEST),
            ("Not A Slug", StatusCode::BAD_REQUEST),
        ] {
            let mut body = allowed.clone();
            body["name"] = json!(name);
            let (status, text, _) = call(
                &app,
                &admin,
                Method::POST,
                "/api/admin/providers",
                Some(body),
            )
            .await;
            assert_eq!(status, expected, "{backend:?}: {name}: {text}");
        }
        // Not a web address.
        let mut body = allowed.clone();
        body["name"] = json!("other");
        body["baseUrl"] = json!("ftp://example.com/v1");
        let (status, text, _) = call(
            &app,
            &admin,
            Method::POST,
            "/api/admin/providers",
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        assert!(text.contains("http"), "{text}");

        // Sync again: its models are in the catalog under its name, fetched with its key.
        let (status, text, body) = call(
            &app,
            &admin,
            Method::POST,
            &format!("/api/admin/providers/{id}/sync"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {text}");
        assert_eq!(body["data"][0]["provider"], ENDPOINT);
        assert_eq!(body["data"][0]["ok"], true);
        assert_eq!(body["data"][0]["fetched"], MOCK_MODELS);
        assert_eq!(body["data"][0]["inserted"], 0, "they arrived on creation");
        assert_eq!(
            last_authorization(&mock, OPENAI_MODELS_PATH).as_deref(),
            Some(format!("Bearer {ENDPOINT_KEY}").as_str())
        );
        bodies.push(text);
        let (status, listed) = app
            .get_json(&format!("/api/models?provider={ENDPOINT}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        assert_eq!(listed["pagination"]["total"], MOCK_MODELS);
        assert!(
            listed["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["id"] == ENDPOINT_MODEL || m["slug"] == ENDPOINT_MODEL),
            "{listed}"
        );

        // A generation with one of its models reaches the endpoint with the stored key.
        let (status, body) = generate(&app, &ada, ENDPOINT_MODEL).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(body["data"]["content"], DEFAULT_TEXT);
        let sent = mock.requests(OPENAI_CHAT_PATH);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].json().unwrap()["model"], "llama3.2:3b");
        assert_eq!(
            sent[0].header("authorization"),
            Some(format!("Bearer {ENDPOINT_KEY}").as_str())
        );

        // The overview: hints, counts, flags.
        let (status, text, body) =
            call(&app, &admin, Method::GET, "/api/admin/providers", None).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let listed = &body["data"]["endpoints"][0];
        assert_eq!(listed["name"], ENDPOINT);
        assert_eq!(listed["baseUrl"], mock.openai_base_url());
        assert_eq!(listed["keyHint"], key_hint(ENDPOINT_KEY));
        assert_eq!(listed["allowPrivate"], true);
        assert_eq!(listed["models"], MOCK_MODELS);
        assert_eq!(body["data"]["builtins"][0]["provider"], "openrouter");
        assert_eq!(body["data"]["builtins"][0]["keySource"], "none");
        bodies.push(text);

        // Partial updates: an omitted key is kept, a new one replaces it, an empty one clears it.
        let path = format!("/api/admin/providers/{id}");
        let (status, text, body) = call(
            &app,
            &admin,
            Method::PUT,
            &path,
            Some(json!({ "active": true })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(body["data"]["keyHint"], key_hint(ENDPOINT_KEY));
        bodies.push(text);
        let (status, text, body) = call(
            &app,
            &admin,
            Method::PUT,
            &path,
            Some(json!({ "apiKey": OTHER_ENDPOINT_KEY })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(body["data"]["keyHint"], key_hint(OTHER_ENDPOINT_KEY));
        bodies.push(text);
        let (status, _) = generate(&app, &ada, ENDPOINT_MODEL).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            last_authorization(&mock, OPENAI_CHAT_PATH).as_deref(),
            Some(format!("Bearer {OTHER_ENDPOINT_KEY}").as_str()),
            "the change is used at once"
        );
        let (status, text, body) = call(
            &app,
            &admin,
            Method::PUT,
            &path,
            Some(json!({ "apiKey": "" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(body["data"]["keyHint"], Value::Null);
        assert_eq!(body["data"]["hasKey"], false);
        // Taking the permission away checks the URL again.
        let (status, text, _) = call(
            &app,
            &admin,
            Method::PUT,
            &path,
            Some(json!({ "allowPrivate": false })),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        assert!(text.contains("127.0.0.1"), "{text}");
        // Renaming is refused: its models carry the name.
        let (status, text, _) = call(
            &app,
            &admin,
            Method::PUT,
            &path,
            Some(json!({ "name": "renamed" })),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        // Turned off: its models cannot be used.
        let (status, _, _) = call(
            &app,
            &admin,
            Method::PUT,
            &path,
            Some(json!({ "active": false })),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let before = mock.request_count(OPENAI_CHAT_PATH);
        let (status, body) = generate(&app, &ada, ENDPOINT_MODEL).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["code"], "provider_not_configured");
        assert_eq!(mock.request_count(OPENAI_CHAT_PATH), before);

        // The admin page lists it, without any key.
        let (status, html) = page(&app, &admin, "/admin/providers").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(&format!("data-endpoint=\"{ENDPOINT}\"")),
            "{html}"
        );
        bodies.push(html);

        // Non-admins are refused everything here.
        for (method, path) in [
            (Method::GET, "/api/admin/providers".to_owned()),
            (Method::POST, "/api/admin/providers".to_owned()),
            (Method::PUT, format!("/api/admin/providers/{id}")),
            (Method::DELETE, format!("/api/admin/providers/{id}")),
            (Method::POST, format!("/api/admin/providers/{id}/sync")),
            (
                Method::PUT,
                "/api/admin/providers/builtin/openrouter/key".to_owned(),
            ),
        ] {
            let (status, _, body) =
                call(&app, &ada, method.clone(), &path, Some(allowed.clone())).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
            assert_eq!(body["error"]["code"], "forbidden");
        }
        let (status, _) = page(&app, &ada, "/admin/providers").await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Deleted: its models stay, deprecated.
        let (status, text, body) = call(&app, &admin, Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(body["data"]["modelsDeprecated"], MOCK_MODELS);
        let statuses: Vec<(String,)> = Query::new("SELECT status FROM models WHERE provider = $1")
            .bind(ENDPOINT)
            .fetch_all(&app.db)
            .await
            .unwrap();
        assert_eq!(statuses.len(), MOCK_MODELS, "{backend:?}: never deleted");
        assert!(
            statuses.iter().all(|(s,)| s == "deprecated"),
            "{statuses:?}"
        );
        let (status, _, _) = call(&app, &admin, Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app.state.engine.flush().await;
        let history: i64 = Query::new(
            "SELECT COUNT(*) FROM generations g JOIN models m ON m.id = g.model_id WHERE m.provider = $1",
        )
        .bind(ENDPOINT)
        .fetch_scalar(&app.db)
        .await
        .unwrap();
        assert!(history >= 2, "the generations keep their model");

        for text in &bodies {
            assert_no_key(text, &keys, "a response");
        }
    }
}

#[tokio::test]
async fn a_users_own_key_is_used_for_their_generations_only() {
    for backend in backends() {
        let (mock, app, admin, ada) = start(backend, Some(ENV_OPENROUTER_KEY), true).await;
        let bob = app.sign_up("Bob", "bob@example.com").await;
        let mut bodies = Vec::new();

        let (status, text, body) =
            call(&app, &ada, Method::GET, "/api/users/provider-keys", None).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let providers: Vec<&str> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["provider"].as_str().unwrap())
            .collect();
        assert_eq!(providers, ["openrouter", "huggingface"]);
        assert_eq!(body["data"][0]["configured"], false);

        let (status, text, body) = call(
            &app,
            &ada,
            Method::PUT,
            "/api/users/provider-keys/openrouter",
            Some(json!({ "apiKey": ADA_OPENROUTER_KEY })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {text}");
        assert_eq!(body["data"]["keyHint"], key_hint(ADA_OPENROUTER_KEY));
        assert_eq!(body["data"]["configured"], true);
        bodies.push(text);
        let (_, text, body) = call(&app, &ada, Method::GET, "/api/users/provider-keys", None).await;
        assert_eq!(body["data"][0]["keyHint"], key_hint(ADA_OPENROUTER_KEY));
        assert_eq!(body["data"][1]["configured"], false);
        bodies.push(text);

        // Bad input.
        for (path, key, expected) in [
            (
                "/api/users/provider-keys/openai",
                "sk-x-0123456789abcdef",
                StatusCode::NOT_FOUND,
            ),
            (
                "/api/users/provider-keys/openrouter",
                "",
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/users/provider-keys/openrouter",
                "two words",
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let (status, text, _) = call(
                &app,
                &ada,
                Method::PUT,
                path,
                Some(json!({ "apiKey": key })),
            )
            .await;
            assert_eq!(status, expected, "{path} {key:?}: {text}");
        }

        // Ada's generation uses her key; Bob's uses the environment's.
        let (status, body) = generate(&app, &ada, OPENROUTER_MODEL).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(
            last_authorization(&mock, OPENROUTER_CHAT_PATH).as_deref(),
            Some(format!("Bearer {ADA_OPENROUTER_KEY}").as_str())
        );
        let (status, body) = generate(&app, &bob, OPENROUTER_MODEL).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            last_authorization(&mock, OPENROUTER_CHAT_PATH).as_deref(),
            Some(format!("Bearer {ENV_OPENROUTER_KEY}").as_str())
        );

        // An admin's stored key comes before the environment's, after a user's own.
        let (status, text, body) = call(
            &app,
            &admin,
            Method::PUT,
            "/api/admin/providers/builtin/openrouter/key",
            Some(json!({ "apiKey": ADMIN_OPENROUTER_KEY })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(
            body["data"]["storedKeyHint"],
            key_hint(ADMIN_OPENROUTER_KEY)
        );
        bodies.push(text);
        let (_, text, body) = call(&app, &admin, Method::GET, "/api/admin/providers", None).await;
        assert_eq!(body["data"]["builtins"][0]["keySource"], "stored");
        assert_eq!(body["data"]["builtins"][0]["environmentKey"], true);
        bodies.push(text);
        generate(&app, &bob, OPENROUTER_MODEL).await;
        assert_eq!(
            last_authorization(&mock, OPENROUTER_CHAT_PATH).as_deref(),
            Some(format!("Bearer {ADMIN_OPENROUTER_KEY}").as_str())
        );
        generate(&app, &ada, OPENROUTER_MODEL).await;
        assert_eq!(
            last_authorization(&mock, OPENROUTER_CHAT_PATH).as_deref(),
            Some(format!("Bearer {ADA_OPENROUTER_KEY}").as_str())
        );

        // The settings page shows the hint only.
        let (status, html) = page(&app, &ada, "/dashboard/settings").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Provider keys"), "{html}");
        assert!(html.contains(&key_hint(ADA_OPENROUTER_KEY)));
        bodies.push(html);
        let (_, html) = page(&app, &admin, "/admin/providers").await;
        assert!(html.contains(&key_hint(ADMIN_OPENROUTER_KEY)));
        bodies.push(html);

        // Removed: Ada is back on the site's key.
        let (status, _, _) = call(
            &app,
            &ada,
            Method::DELETE,
            "/api/users/provider-keys/openrouter",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, _) = call(
            &app,
            &ada,
            Method::DELETE,
            "/api/users/provider-keys/openrouter",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        generate(&app, &ada, OPENROUTER_MODEL).await;
        assert_eq!(
            last_authorization(&mock, OPENROUTER_CHAT_PATH).as_deref(),
            Some(format!("Bearer {ADMIN_OPENROUTER_KEY}").as_str())
        );
        // API keys cannot manage provider keys (an account matter).
        let (_, _, key) = call(
            &app,
            &ada,
            Method::POST,
            "/api/users/api-keys",
            Some(json!({ "name": "script", "scopes": ["read", "generate"] })),
        )
        .await;
        let api_key = key["data"]["key"].as_str().unwrap();
        let refused = app
            .bearer(api_key)
            .put(
                "/api/users/provider-keys/openrouter",
                json!({ "apiKey": ADA_OPENROUTER_KEY }),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);

        for text in &bodies {
            assert_no_key(
                text,
                &[ENV_OPENROUTER_KEY, ADMIN_OPENROUTER_KEY, ADA_OPENROUTER_KEY],
                "a response",
            );
        }
    }
}

#[tokio::test]
async fn an_admins_stored_key_is_used_when_the_environment_has_none() {
    for backend in backends() {
        let (mock, app, admin, ada) = start(backend, None, true).await;
        let (status, body) = generate(&app, &ada, OPENROUTER_MODEL).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}: {body}");
        assert_eq!(body["error"]["code"], "provider_not_configured");
        assert_eq!(mock.request_count(OPENROUTER_CHAT_PATH), 0);

        let (status, text, _) = call(
            &app,
            &admin,
            Method::PUT,
            "/api/admin/providers/builtin/openrouter/key",
            Some(json!({ "apiKey": ADMIN_OPENROUTER_KEY })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let (status, body) = generate(&app, &ada, OPENROUTER_MODEL).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            last_authorization(&mock, OPENROUTER_CHAT_PATH).as_deref(),
            Some(format!("Bearer {ADMIN_OPENROUTER_KEY}").as_str())
        );
        let (_, _, body) = call(&app, &admin, Method::GET, "/api/admin/providers", None).await;
        assert_eq!(body["data"]["builtins"][0]["keySource"], "stored");
        assert_eq!(body["data"]["builtins"][0]["environmentKey"], false);
        assert_eq!(body["data"]["builtins"][1]["keySource"], "none");

        for (method, path, expected) in [
            (
                Method::PUT,
                "/api/admin/providers/builtin/anthropic/key",
                StatusCode::NOT_FOUND,
            ),
            (
                Method::DELETE,
                "/api/admin/providers/builtin/huggingface/key",
                StatusCode::NOT_FOUND,
            ),
            (
                Method::DELETE,
                "/api/admin/providers/builtin/openrouter/key",
                StatusCode::OK,
            ),
        ] {
            let (status, text, _) = call(
                &app,
                &admin,
                method.clone(),
                path,
                Some(json!({ "apiKey": "sk-whatever-0123456789" })),
            )
            .await;
            assert_eq!(status, expected, "{method} {path}: {text}");
        }
        let (_, _, body) = call(&app, &admin, Method::GET, "/api/admin/providers", None).await;
        assert_eq!(body["data"]["builtins"][0]["keySource"], "none");
        let (status, _) = generate(&app, &ada, OPENROUTER_MODEL).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "the key is gone at once");
    }
}

async fn browser_page(browser: &BrowserSession<'_>, path: &str) -> (StatusCode, String) {
    let reply = browser.get(path).await;
    (reply.status, reply.text())
}

/// Posts a form; answers the status, the redirect target and the body.
async fn post_form(
    browser: &BrowserSession<'_>,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let reply = browser.post_form(path, fields).await;
    let location = reply
        .headers
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (reply.status, location, reply.text())
}

#[tokio::test]
async fn the_admin_page_works_with_plain_forms_and_shows_form_errors() {
    for backend in backends() {
        let (mock, app, admin, ada) = start(backend, None, false).await;
        let browser = BrowserSession::signed_in(&app, &admin).await;
        let (status, html) = browser_page(&browser, "/admin/providers").await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(html.contains("No endpoints yet"), "an empty state: {html}");
        let csrf = csrf_from(&html);
        let base_url = mock.openai_base_url();
        let mut pages = Vec::new();

        // Without the CSRF token: refused.
        let (status, _, _) = post_form(
            &browser,
            "/admin/providers",
            &[("name", ENDPOINT), ("base_url", &base_url)],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // A private address without permission: the page again, with the message and the
        // entered values, but not the key.
        let (status, _, html) = post_form(
            &browser,
            "/admin/providers",
            &[
                ("csrf_token", &csrf),
                ("name", ENDPOINT),
                ("base_url", &base_url),
                ("api_key", ENDPOINT_KEY),
                ("active", "on"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}");
        assert!(html.contains("role=\"alert\""), "{html}");
        assert!(html.contains("127.0.0.1"), "{html}");
        assert!(html.contains(&format!("value=\"{ENDPOINT}\"")), "{html}");
        assert!(html.contains(&format!("value=\"{base_url}\"")), "{html}");
        pages.push(html);

        // A bad name.
        let (status, _, html) = post_form(
            &browser,
            "/admin/providers",
            &[
                ("csrf_token", &csrf),
                ("name", "Not A Slug"),
                ("base_url", &base_url),
                ("allow_private", "on"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("lower-case"), "{html}");
        assert!(html.contains("value=\"Not A Slug\""), "{html}");

        // Accepted with permission: a redirect to the page with a notice.
        let (status, location, _) = post_form(
            &browser,
            "/admin/providers",
            &[
                ("csrf_token", &csrf),
                ("name", ENDPOINT),
                ("base_url", &base_url),
                ("api_key", ENDPOINT_KEY),
                ("allow_private", "on"),
                ("active", "on"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            location,
            format!("/admin/providers?done=created-synced&models={MOCK_MODELS}")
        );
        let (_, html) = browser_page(&browser, &location).await;
        assert!(
            html.contains(&format!(
                "The endpoint is added and synced: {MOCK_MODELS} models arrived in the catalog."
            )),
            "{html}"
        );
        assert!(html.contains(&key_hint(ENDPOINT_KEY)), "{html}");
        pages.push(html);
        let id = aipasta_store::providers::find_endpoint_by_name(&app.db, ENDPOINT)
            .await
            .unwrap()
            .unwrap()
            .id;

        // Sync from the page: the result is shown.
        let (status, _, html) = post_form(
            &browser,
            "/admin/providers/sync",
            &[("csrf_token", &csrf), ("provider", ENDPOINT)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains(&format!("{ENDPOINT}: {MOCK_MODELS} models fetched")),
            "{html}"
        );
        pages.push(html);

        // A refused edit keeps what was entered and opens the form.
        let (status, _, html) = post_form(
            &browser,
            &format!("/admin/providers/{id}/edit"),
            &[
                ("csrf_token", &csrf),
                ("base_url", "http://10.1.2.3/v1"),
                ("active", "on"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("10.1.2.3"), "{html}");
        assert!(html.contains("value=\"http://10.1.2.3/v1\""), "{html}");
        // A saved edit: a new key.
        let (status, location, _) = post_form(
            &browser,
            &format!("/admin/providers/{id}/edit"),
            &[
                ("csrf_token", &csrf),
                ("base_url", &base_url),
                ("api_key", OTHER_ENDPOINT_KEY),
                ("allow_private", "on"),
                ("active", "on"),
            ],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::SEE_OTHER, "/admin/providers?done=saved")
        );
        let row = aipasta_store::providers::find_endpoint(&app.db, &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.api_key_hint, Some(key_hint(OTHER_ENDPOINT_KEY)));

        // A built-in's key, stored and removed from the page.
        let (status, location, _) = post_form(
            &browser,
            "/admin/providers/builtin/openrouter/key",
            &[("csrf_token", &csrf), ("api_key", ADMIN_OPENROUTER_KEY)],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::SEE_OTHER, "/admin/providers?done=key-saved")
        );
        let (_, html) = browser_page(&browser, "/admin/providers").await;
        assert!(html.contains(&key_hint(ADMIN_OPENROUTER_KEY)), "{html}");
        assert!(html.contains("the key stored here"), "{html}");
        pages.push(html);
        let (status, _, html) = post_form(
            &browser,
            "/admin/providers/builtin/openrouter/key",
            &[("csrf_token", &csrf), ("api_key", "has a space")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("OpenRouter: The API key"), "{html}");
        let (status, location, _) = post_form(
            &browser,
            "/admin/providers/builtin/openrouter/key/delete",
            &[("csrf_token", &csrf)],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::SEE_OTHER, "/admin/providers?done=key-removed")
        );

        // Deleting needs the confirmation box.
        let (status, _, html) = post_form(
            &browser,
            &format!("/admin/providers/{id}/delete"),
            &[("csrf_token", &csrf)],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("Tick the box"), "{html}");
        assert!(
            aipasta_store::providers::find_endpoint(&app.db, &id)
                .await
                .unwrap()
                .is_some()
        );
        let (status, location, _) = post_form(
            &browser,
            &format!("/admin/providers/{id}/delete"),
            &[("csrf_token", &csrf), ("confirm", "yes")],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::SEE_OTHER, "/admin/providers?done=deleted")
        );
        let active: i64 = Query::new(
            "SELECT COUNT(*) FROM models WHERE provider = $1 AND status <> 'deprecated'",
        )
        .bind(ENDPOINT)
        .fetch_scalar(&app.db)
        .await
        .unwrap();
        assert_eq!(active, 0);

        // A person's own keys from the settings page.
        let ada_browser = BrowserSession::signed_in(&app, &ada).await;
        let (_, html) = browser_page(&ada_browser, "/dashboard/settings").await;
        let ada_csrf = csrf_from(&html);
        let (status, location, _) = post_form(
            &ada_browser,
            "/dashboard/settings/provider-keys/openrouter",
            &[("csrf_token", &ada_csrf), ("api_key", ADA_OPENROUTER_KEY)],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (
                StatusCode::SEE_OTHER,
                "/dashboard/settings?done=provider-key-saved"
            )
        );
        let (_, html) = browser_page(&ada_browser, &location).await;
        assert!(html.contains(&key_hint(ADA_OPENROUTER_KEY)), "{html}");
        assert!(html.contains("Remove my OpenRouter key"), "{html}");
        pages.push(html);
        let (status, location, _) = post_form(
            &ada_browser,
            "/dashboard/settings/provider-keys/openrouter/remove",
            &[("csrf_token", &ada_csrf)],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (
                StatusCode::SEE_OTHER,
                "/dashboard/settings?done=provider-key-removed"
            )
        );
        let (status, _) = browser_page(&ada_browser, "/admin/providers").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "not for users");

        for html in &pages {
            assert_no_key(
                html,
                &[
                    ENDPOINT_KEY,
                    OTHER_ENDPOINT_KEY,
                    ADMIN_OPENROUTER_KEY,
                    ADA_OPENROUTER_KEY,
                ],
                "a page",
            );
        }
    }
}

/// An endpoint added while it fails: the answer (API) and the page (form) say why no model
/// arrived; it is tried again in the background until its models arrive.
#[tokio::test]
async fn an_endpoint_failing_when_added_says_why_and_its_models_arrive_when_it_answers() {
    use aipasta_mock::Fault;
    use aipasta_web::services::background_sync::RetryBackoff;
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let mut config = config(&mock, None);
        config.sync_retry = RetryBackoff {
            first: Duration::from_millis(200),
            longest: Duration::from_millis(400),
        };
        let app = spawn_app_with(backend, config, false).await;
        let admin = app.sign_up("Admin", "admin@example.com").await;
        aipasta_store::accounts::set_role(&app.db, &admin.id, "admin")
            .await
            .unwrap();
        mock.set_fault(OPENAI_MODELS_PATH, Some(Fault::Status(500)));

        // The API: created (201), with the failed sync's reason.
        let (status, text, body) = call(
            &app,
            &admin,
            Method::POST,
            "/api/admin/providers",
            Some(json!({
                "name": ENDPOINT, "baseUrl": mock.openai_base_url(), "allowPrivate": true,
            })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {text}");
        let sync = &body["data"]["sync"];
        assert_eq!(sync["ok"], false, "{text}");
        assert_eq!(sync["retrying"], true, "{text}");
        assert!(
            sync["error"].as_str().unwrap().contains("500"),
            "the reason: {text}"
        );
        assert_eq!(body["data"]["models"], 0);
        assert_eq!(listed(&app.db, ENDPOINT).await, 0);

        // The form: the page says the sync failed, and why.
        let browser = BrowserSession::signed_in(&app, &admin).await;
        let (_, html) = browser_page(&browser, "/admin/providers").await;
        let (status, location, _) = post_form(
            &browser,
            "/admin/providers",
            &[
                ("csrf_token", &csrf_from(&html)),
                ("name", "lab-two"),
                ("base_url", &mock.openai_base_url()),
                ("allow_private", "on"),
                ("active", "on"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, "/admin/providers?done=created-failed");
        let (_, html) = browser_page(&browser, &location).await;
        assert!(
            html.contains("its models could not be fetched"),
            "{backend:?}: {html}"
        );
        let card = html
            .split("data-endpoint=\"lab-two\"")
            .nth(1)
            .expect("the endpoint's card");
        assert!(
            card.contains("The last sync failed") && card.contains("500"),
            "{backend:?}: the card says why: {card}"
        );

        // Tried again in the background: once the server answers, both have their models.
        mock.set_fault(OPENAI_MODELS_PATH, None);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while listed(&app.db, ENDPOINT).await < MOCK_MODELS as i64
            || listed(&app.db, "lab-two").await < MOCK_MODELS as i64
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{backend:?}: the models did not arrive after the endpoint recovered"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (status, listed_models) = app
            .get_json(&format!("/api/models?provider={ENDPOINT}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed_models["pagination"]["total"], MOCK_MODELS);
        let (_, html) = browser_page(&browser, "/admin/providers").await;
        assert!(!html.contains("The last sync failed"), "{html}");
    }
}

const SERVER_SECRET: &str = "0123456789abcdef0123456789abcdef-providers-test";

/// Runs `aipasta models sync --provider <provider>` with the mock as every upstream and its
/// OpenAI-compatible `/v1` as the environment's endpoint (`local`).
async fn run_sync(mock: &MockServer, database: &TestDatabase, provider: &str) -> (bool, String) {
    let work_dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aipasta"))
        .current_dir(work_dir.path())
        .args([
            "models",
            "sync",
            "--provider",
            provider,
            "--database-url",
            &database.url,
        ])
        .env("AIPASTA_SECRET_KEY", SERVER_SECRET)
        .env("AIPASTA_OPENROUTER_BASE_URL", mock.openrouter_base_url())
        .env("AIPASTA_HUGGINGFACE_HUB_URL", mock.url())
        .env("AIPASTA_OPENAI_COMPATIBLE_URL", mock.openai_base_url())
        .env_remove("AIPASTA_OPENAI_COMPATIBLE_NAME")
        .env_remove("AIPASTA_OPENAI_COMPATIBLE_API_KEY")
        .env("AIPASTA_LOG", "warn")
        .env_remove("AIPASTA_OPENROUTER_API_KEY")
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("AIPASTA_HUGGINGFACE_API_KEY")
        .env_remove("HUGGINGFACE_API_KEY")
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

async fn listed(db: &aipasta_store::Db, provider: &str) -> i64 {
    Query::new("SELECT COUNT(*) FROM models WHERE provider = $1 AND status <> 'deprecated'")
        .bind(provider)
        .fetch_scalar(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn models_sync_takes_the_environments_endpoint_and_admins_endpoints() {
    use aipasta_store::providers::{
        NewProviderEndpoint, OPENAI_COMPATIBLE, SealedKey, create_endpoint,
    };
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let (database, db) = TestDatabase::migrated(backend).await;
        let keys = SecretBox::for_provider_keys(SERVER_SECRET.as_bytes());
        let endpoint = |name: &str, allow_private: bool| NewProviderEndpoint {
            name: name.to_owned(),
            kind: OPENAI_COMPATIBLE.to_owned(),
            base_url: mock.openai_base_url(),
            api_key: Some(SealedKey {
                sealed: keys.seal(ENDPOINT_KEY),
                hint: key_hint(ENDPOINT_KEY),
            }),
            allow_private,
            is_active: true,
            created_by: None,
        };
        create_endpoint(&db, &endpoint(ENDPOINT, true))
            .await
            .unwrap();

        // The environment's endpoint: trusted, so loopback just works.
        let (ok, output) = run_sync(&mock, &database, "local").await;
        assert!(ok, "{backend:?}: {output}");
        assert!(
            output.contains(&format!("local: {MOCK_MODELS} models fetched")),
            "{output}"
        );
        assert_eq!(listed(&db, "local").await, MOCK_MODELS as i64);
        assert_eq!(last_authorization(&mock, OPENAI_MODELS_PATH), None);

        // An admin's endpoint, with its stored key opened with the server secret.
        let (ok, output) = run_sync(&mock, &database, ENDPOINT).await;
        assert!(ok, "{backend:?}: {output}");
        assert_eq!(listed(&db, ENDPOINT).await, MOCK_MODELS as i64);
        assert_eq!(
            last_authorization(&mock, OPENAI_MODELS_PATH).as_deref(),
            Some(format!("Bearer {ENDPOINT_KEY}").as_str())
        );
        assert!(!output.contains(ENDPOINT_KEY), "{output}");

        // Unknown names fail clearly.
        let (ok, output) = run_sync(&mock, &database, "nosuch").await;
        assert!(!ok);
        assert!(
            output.contains("no OpenAI-compatible endpoint is named nosuch"),
            "{output}"
        );
        let (ok, output) = run_sync(&mock, &database, "Not A Name").await;
        assert!(!ok);
        assert!(output.contains("unknown provider"), "{output}");

        // An admin's endpoint on a private address without permission: the guard refuses it.
        create_endpoint(&db, &endpoint("strict", false))
            .await
            .unwrap();
        let before = mock.request_count(OPENAI_MODELS_PATH);
        let (ok, output) = run_sync(&mock, &database, "strict").await;
        assert!(!ok, "{output}");
        assert!(output.contains("127.0.0.1"), "{output}");
        assert_eq!(
            mock.request_count(OPENAI_MODELS_PATH),
            before,
            "nothing was sent"
        );

        // `all`: the built-ins and every endpoint (the refused one fails on its own).
        let (ok, output) = run_sync(&mock, &database, "all").await;
        assert!(!ok, "the refused endpoint fails the run: {output}");
        for provider in ["openrouter:", "huggingface:", "local:", "lab:", "strict:"] {
            assert!(output.contains(provider), "{provider} {output}");
        }
        assert!(output.contains("the sync failed for strict"), "{output}");
        assert_eq!(listed(&db, "local").await, MOCK_MODELS as i64);
        assert_eq!(listed(&db, ENDPOINT).await, MOCK_MODELS as i64);
        drop(database);
    }
}
