//! An admin's change reaches the next generation at once on this instance: the engine's caches
//! (model rows, the default monthly limit) are told through `Engine::changed`, not left to
//! expire. Each test first warms the cache, so without the event the old value would be used.

use aipasta_mock::{MockConfig, MockServer};
use aipasta_store::accounts;
use aipasta_store::testing::backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, mock_provider_config, spawn_app_with};

/// A seeded OpenRouter model.
const MODEL: &str = "ai21/jamba-large-1.7";

async fn start(backend: aipasta_store::Backend) -> (MockServer, TestApp, TestUser, TestUser) {
    let mock = MockServer::start(MockConfig::default()).await;
    let app = spawn_app_with(backend, mock_provider_config(&mock), true).await;
    let admin = app.sign_up("Admin", "admin@example.com").await;
    accounts::set_role(&app.db, &admin.id, "admin")
        .await
        .unwrap();
    let user = app.sign_up("Ada", "ada@example.com").await;
    (mock, app, admin, user)
}

async fn generate(app: &TestApp, user: &TestUser) -> (StatusCode, Value) {
    app.call(
        user,
        Method::POST,
        "/api/ai/generate",
        Some(json!({"model": MODEL, "prompt": "Hello"})),
    )
    .await
}

#[tokio::test]
async fn a_model_an_admin_puts_under_maintenance_is_refused_at_once() {
    for backend in backends() {
        let (_mock, app, admin, user) = start(backend).await;
        // Caches the model's row.
        let (status, answer) = generate(&app, &user).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {answer}");

        let (status, answer) = app
            .call(
                &admin,
                Method::PUT,
                &format!("/api/admin/models/{}", MODEL.replace('/', "%2F")),
                Some(json!({"status": "maintenance"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {answer}");

        let (status, answer) = generate(&app, &user).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{backend:?}: {answer}"
        );
        assert_eq!(answer["error"]["code"], "model_maintenance", "{backend:?}");
        assert_eq!(answer["error"]["param"], "model", "{backend:?}");
        app.stop().await.0.expect("the server stops cleanly");
    }
}

#[tokio::test]
async fn a_lower_default_monthly_limit_applies_to_the_next_generation() {
    for backend in backends() {
        let (_mock, app, admin, user) = start(backend).await;
        // Caches the default limit (10,000 tokens) and this month's use.
        let (status, answer) = generate(&app, &user).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {answer}");
        let used = answer["data"]["usage"]["totalTokens"].as_i64().unwrap();
        assert!(used > 0, "{backend:?}: {answer}");

        let (status, answer) = app
            .call(
                &admin,
                Method::PUT,
                "/api/admin/settings",
                Some(json!({"monthlyTokenLimit": used})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {answer}");

        let (status, answer) = generate(&app, &user).await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "{backend:?}: {answer}"
        );
        assert_eq!(
            answer["error"]["code"], "monthly_limit_reached",
            "{backend:?}"
        );
        app.stop().await.0.expect("the server stops cleanly");
    }
}
