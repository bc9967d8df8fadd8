//! `spawn_app`: the whole application on `127.0.0.1:0` with a fresh database, stopped on drop.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use aipasta_store::testing::TestDatabase;
pub use aipasta_store::testing::backends;
use aipasta_store::{Backend, Db};
use aipasta_web::ratelimit::RateLimiter;
use aipasta_web::{AppState, WebConfig};

pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub db: Db,
    /// The running app's state (its engine, caches), for tests that look inside.
    pub state: AppState,
    pub database: TestDatabase,
    shutdown: oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub async fn get_json(&self, path: &str) -> (reqwest::StatusCode, serde_json::Value) {
        let response = self.get(path).await;
        let status = response.status();
        let body = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("JSON from {path}: {e}"));
        (status, body)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }
}

/// Starts the app on `backend` with default settings and an empty catalog (categories only).
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, WebConfig::default(), false).await
}

/// Starts the app with the compiled-in seed catalog, as a fresh install has.
pub async fn spawn_seeded_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, WebConfig::default(), true).await
}

pub async fn spawn_app_with(backend: Backend, config: WebConfig, seed: bool) -> TestApp {
    spawn_app_with_limiter(backend, config, seed, RateLimiter::in_memory()).await
}

/// Starts the app with its rate limits kept by `limiter` (Redis, for the tests of both).
pub async fn spawn_app_with_limiter(
    backend: Backend,
    config: WebConfig,
    seed: bool,
    limiter: RateLimiter,
) -> TestApp {
    let (database, db) = TestDatabase::migrated(backend).await;
    if seed {
        aipasta_store::catalog::seed_if_empty(&db)
            .await
            .expect("seed the catalog");
    } else {
        aipasta_store::catalog::seed_categories(&db)
            .await
            .expect("seed categories");
    }
    serve_app_with_limiter(database, db, config, limiter).await
}

/// Serves the app on an existing database (a restart), with `config`.
pub async fn serve_app(database: TestDatabase, db: Db, config: WebConfig) -> TestApp {
    serve_app_with_limiter(database, db, config, RateLimiter::in_memory()).await
}

async fn serve_app_with_limiter(
    database: TestDatabase,
    db: Db,
    config: WebConfig,
    limiter: RateLimiter,
) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let state = AppState::with_limiter(db.clone(), config, limiter);
    let app_state = state.clone();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(async move {
        let signal = async {
            let _ = stopped.await;
        };
        let served = aipasta_web::serve(listener, state, signal).await;
        if let Err(error) = &served {
            eprintln!("test server stopped: {error}");
        }
        served
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));
    TestApp {
        address,
        client,
        db,
        state: app_state,
        database,
        shutdown,
        served,
    }
}

impl TestApp {
    /// Shuts the app down as a SIGTERM would and waits until `serve` has returned; answers
    /// what `serve` answered and the database, for a restart.
    pub async fn stop(self) -> (std::io::Result<()>, TestDatabase) {
        let _ = self.shutdown.send(());
        let served = self.served.await.expect("the server task");
        (served, self.database)
    }
}

/// A signed-up account and its JWT.
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub token: String,
}

impl TestApp {
    /// Signs up `email` through the API; answers the account and its bearer token.
    pub async fn sign_up(&self, name: &str, email: &str) -> TestUser {
        let password = "pasta al dente 42".to_owned();
        let response = self
            .client
            .post(self.url("/api/auth/signup"))
            .json(&serde_json::json!({ "name": name, "email": email, "password": password }))
            .send()
            .await
            .expect("sign up");
        assert_eq!(
            response.status(),
            reqwest::StatusCode::CREATED,
            "sign up {email}"
        );
        let body: serde_json::Value = response.json().await.expect("JSON");
        TestUser {
            id: body["user"]["id"].as_str().expect("id").to_owned(),
            email: email.trim().to_lowercase(),
            password,
            token: body["token"].as_str().expect("token").to_owned(),
        }
    }

    /// A request with the user's bearer token.
    pub fn as_user(
        &self,
        user: &TestUser,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&user.token)
    }

    /// Sends the user's request, with `body` as JSON when given; answers the status and the
    /// JSON answer.
    pub async fn call(
        &self,
        user: &TestUser,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut request = self.as_user(user, method.clone(), path);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let answer = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("JSON from {method} {path}: {e}"));
        (status, answer)
    }
}

/// Every rate limiter to run a behaviour on: memory always, and Redis at
/// `AIPASTA_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) when it answers, which is
/// required when `CI` or that variable is set.
pub async fn limiters() -> Vec<RateLimiter> {
    let url = std::env::var("AIPASTA_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let required = ["CI", "AIPASTA_TEST_REDIS_URL"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    let mut limiters = vec![RateLimiter::in_memory()];
    match RateLimiter::redis(&url).await {
        Ok(redis) => limiters.push(redis),
        Err(error) if required => panic!("Redis is required here: {error}"),
        Err(error) => eprintln!("SKIPPED redis: {error}"),
    }
    limiters
}

/// A browser-like client that connects from `127.0.0.x`: another address than the default
/// client's, as far as the app's per-address limits can tell (loopback is a whole /8).
pub fn browser_client_from(last_octet: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
            127, 0, 0, last_octet,
        )))
        .build()
        .expect("client")
}

/// A browser-like client: keeps cookies, follows no redirects.
pub fn browser_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The CSRF token a page embeds (`<meta name="csrf-token">`).
pub fn csrf_from(html: &str) -> String {
    html.split(r#"<meta name="csrf-token" content=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf meta tag")
        .to_owned()
}

/// Settings whose OpenRouter and Hugging Face endpoints are the mock's, with a test key for
/// each, short time limits and quick retries (3 attempts): the base every generation test
/// adjusts.
pub fn mock_provider_config(mock: &aipasta_mock::MockServer) -> WebConfig {
    use aipasta_engine::{EngineSettings, ProviderSettings};
    use aipasta_providers::generate::{ApiKey, Timeouts};
    use std::time::Duration;
    WebConfig {
        engine: EngineSettings {
            providers: ProviderSettings {
                openrouter_base_url: mock.openrouter_base_url(),
                openrouter_api_key: Some(ApiKey::new("sk-or-v1-test")),
                huggingface_router_url: mock.hf_router_base_url(),
                huggingface_inference_url: mock.hf_inference_url(),
                huggingface_api_key: Some(ApiKey::new("hf_test")),
                ..ProviderSettings::default()
            },
            timeouts: Timeouts {
                first_token: Duration::from_secs(2),
                between_tokens: Duration::from_millis(700),
                total: Duration::from_secs(10),
            },
            max_attempts: 3,
            base_backoff: Duration::from_millis(10),
            max_retry_wait: Duration::from_secs(2),
            ..EngineSettings::default()
        },
        ..WebConfig::default()
    }
}
