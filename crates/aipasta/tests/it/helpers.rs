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
            .anonymous()
            .post(
                "/api/auth/signup",
                serde_json::json!({ "name": name, "email": email, "password": password }),
            )
            .await;
        assert_eq!(
            response.status,
            reqwest::StatusCode::CREATED,
            "sign up {email}"
        );
        let body = response.json();
        TestUser {
            id: body["user"]["id"].as_str().expect("id").to_owned(),
            email: email.trim().to_lowercase(),
            password,
            token: body["token"].as_str().expect("token").to_owned(),
        }
    }

    /// A request with the user's bearer token, for the requests a test builds by hand (a
    /// stream read as it comes, an unusual header); ordinary calls go through [`TestApp::user`].
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
        let reply = self.user(user).send(method, path, body).await;
        (reply.status, reply.json())
    }

    /// Calls the JSON API with no credential, as a script that has not signed in does.
    pub fn anonymous(&self) -> Caller<'_> {
        Caller {
            app: self,
            bearer: None,
        }
    }

    /// Calls the JSON API with the user's JWT.
    pub fn user<'a>(&'a self, user: &'a TestUser) -> Caller<'a> {
        self.bearer(&user.token)
    }

    /// Calls the JSON API with any bearer credential: an API key, or a JWT from a later
    /// sign-in than the one [`TestUser`] keeps.
    pub fn bearer<'a>(&'a self, token: &'a str) -> Caller<'a> {
        Caller {
            app: self,
            bearer: Some(token),
        }
    }
}

/// One caller of the JSON API (anonymous or with a bearer credential): most API tests send
/// ordinary requests that differ only in who sends them, and want the whole answer back at
/// once. Requests that are themselves the subject of a test (odd headers, raw bodies, a stream
/// read as it comes) are built by hand from [`TestApp::as_user`] or `client` instead.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    app: &'a TestApp,
    bearer: Option<&'a str>,
}

impl Caller<'_> {
    /// Sends `method path`, with `body` as JSON when given; answers the whole reply.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let mut request = self.app.client.request(method, self.app.url(path));
        if let Some(token) = self.bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = &body {
            request = request.json(body);
        }
        Reply::read(request).await
    }

    // The methods the API tests use, so a call reads as `app.user(&ada).get("/api/...")`.

    pub async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: serde_json::Value) -> Reply {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

/// A whole answer, read before any assertion: its status, headers and body stay at hand
/// together, so a test can check them in any order and show the body when a check fails.
pub struct Reply {
    pub status: reqwest::StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
    /// The request's method and URL, for the messages of failed checks.
    request: String,
}

impl Reply {
    /// Sends `request` and reads the whole answer. Hand-built requests (the ones a test is
    /// about) are read through here too, so every answer is checked alike.
    pub async fn read(request: reqwest::RequestBuilder) -> Reply {
        let (client, request) = request.build_split();
        let request = request.unwrap_or_else(|e| panic!("a request that cannot be sent: {e}"));
        let what = format!("{} {}", request.method(), request.url());
        let response = client
            .execute(request)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("the body of {what}: {e}"))
            .to_vec();
        Reply {
            status,
            headers,
            body,
            request: what,
        }
    }

    /// The request answered (`GET http://…/path?query`), for a failed check's message.
    pub fn request(&self) -> &str {
        &self.request
    }

    /// The body as text (UTF-8, as the app always answers).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; a body that is not JSON fails the test, showing it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "JSON from {} ({}): {e}: {}",
                self.request,
                self.status,
                self.text()
            )
        })
    }

    /// A header that must be there, as text (`location`, `retry-after`...).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in the answer to {}", self.request))
            .to_str()
            .unwrap_or_else(|e| panic!("the {name} header of {}: {e}", self.request))
    }
}

/// A browser signed in or not: a cookie-keeping client on one app. Pages and forms are what
/// browsers use, so this answers whole [`Reply`]s for pages and form posts; a form's CSRF token
/// is passed by the test, which is often what the test is about.
pub struct BrowserSession<'a> {
    app: &'a TestApp,
    /// For requests a test builds by hand with this browser's cookies.
    pub client: reqwest::Client,
}

impl<'a> BrowserSession<'a> {
    /// A fresh browser with no cookies.
    pub fn new(app: &'a TestApp) -> Self {
        BrowserSession {
            app,
            client: browser_client(),
        }
    }

    /// A fresh browser connecting from `127.0.0.x` (see [`browser_client_from`]).
    pub fn from_address(app: &'a TestApp, last_octet: u8) -> Self {
        BrowserSession {
            app,
            client: browser_client_from(last_octet),
        }
    }

    /// A fresh browser signed in as `user` through the sign-in form; fails the test unless the
    /// form answered with its redirect (303), as it does once the password is accepted.
    pub async fn signed_in(app: &'a TestApp, user: &TestUser) -> Self {
        let browser = BrowserSession::new(app);
        let signed_in = browser.sign_in(user, None).await;
        assert_eq!(signed_in.status, reqwest::StatusCode::SEE_OTHER);
        browser
    }

    /// Fetches `path` on the app with this browser's cookies.
    pub async fn get(&self, path: &str) -> Reply {
        Reply::read(self.client.get(self.app.url(path))).await
    }

    /// The page at `path` as HTML, whatever its status.
    pub async fn page(&self, path: &str) -> String {
        self.get(path).await.text()
    }

    /// Posts `fields` as a form, in their order.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        Reply::read(self.client.post(self.app.url(path)).form(fields)).await
    }

    /// Fills in the sign-in form as `user` does (with the token of a freshly fetched form,
    /// and `next` when given); answers the form's reply.
    pub async fn sign_in(&self, user: &TestUser, next: Option<&str>) -> Reply {
        let csrf = csrf_from(&self.page("/auth/signin").await);
        let mut fields = vec![
            ("email", user.email.as_str()),
            ("password", user.password.as_str()),
            ("csrf_token", csrf.as_str()),
        ];
        if let Some(next) = next {
            fields.push(("next", next));
        }
        self.post_form("/auth/signin", &fields).await
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
