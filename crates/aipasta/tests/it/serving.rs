//! The server's own edges: slow and idle connections are closed, HSTS exactly when cookies are
//! secure, a token for `/metrics`, no caching of the data export, and absolute URLs that a
//! hostile `Host` header cannot steer.

use std::time::{Duration, Instant};

use aipasta_engine::EnvEndpoint;
use aipasta_mock::{
    MockConfig, MockOAuth, MockOAuthConfig, MockServer, OPENROUTER_CHAT_PATH, Script,
};
use aipasta_providers::generate::ApiKey;
use aipasta_store::Backend;
use aipasta_web::WebConfig;
use aipasta_web::auth::oauth::{OAuthProvider, ProviderKind};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    BrowserSession, Reply, TestApp, backends, mock_provider_config, spawn_app, spawn_app_with,
};

// ---- slow and idle connections ----

/// Reads until the server closes the connection; panics if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Vec<u8> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(within, stream.read_to_end(&mut received)).await;
    assert!(
        read.is_ok(),
        "the connection was still open after {within:?}; got {:?}",
        String::from_utf8_lossy(&received)
    );
    received
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed_at_the_header_timeout() {
    let mut config = WebConfig::default();
    config.server.header_timeout = Duration::from_millis(500);
    let app = spawn_app_with(Backend::Sqlite, config, false).await;

    // Half a request line, then nothing (slowloris).
    let started = Instant::now();
    let mut slow = TcpStream::connect(app.address).await.unwrap();
    slow.write_all(b"GET /api/health HT").await.unwrap();
    closed_within(&mut slow, Duration::from_secs(3)).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400),
        "closed too soon: {took:?}"
    );

    // Headers that never end.
    let mut endless = TcpStream::connect(app.address).await.unwrap();
    endless
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
        .await
        .unwrap();
    closed_within(&mut endless, Duration::from_secs(3)).await;

    // A whole request is answered; the connection, kept alive, is closed once idle.
    let mut idle = TcpStream::connect(app.address).await.unwrap();
    idle.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = closed_within(&mut idle, Duration::from_secs(3)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");

    // Ordinary clients do not notice.
    let (status, body) = app.get_json("/api/health").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn answers_longer_than_the_header_timeout_are_not_cut() {
    let mock = MockServer::start(MockConfig::default()).await;
    let mut config = mock_provider_config(&mock);
    config.server.header_timeout = Duration::from_millis(300);
    let app = spawn_app_with(Backend::Sqlite, config, true).await;
    let user = app.sign_up("Ada", "ada@example.com").await;
    // Nine words 150 ms apart: a stream of well over a second, then a whole answer as slow.
    for stream in [true, false] {
        mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::default().chunk_delay(Duration::from_millis(150)),
        );
        let started = Instant::now();
        let response = app
            .user(&user)
            .post(
                "/api/models/ai21/jamba-large-1.7/generate",
                json!({"prompt": "take your time", "stream": stream}),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK);
        let body = response.text();
        assert!(
            started.elapsed() > Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        if stream {
            let done = body
                .lines()
                .any(|line| line.starts_with("event:") && line.trim_end().ends_with("done"));
            assert!(done, "{body}");
        }
        assert!(body.contains("deterministic"), "{body}");
    }
}

// ---- HSTS ----

#[tokio::test]
async fn hsts_is_sent_when_cookies_are_secure_and_never_otherwise() {
    let plain = spawn_app(Backend::Sqlite).await;
    let mut config = WebConfig::default();
    config.auth.secure_cookies = true;
    let secure = spawn_app_with(Backend::Sqlite, config, false).await;
    for path in ["/", "/api/health", "/api/missing", "/missing", "/metrics"] {
        let response = secure.get(path).await;
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains",
            "{path}"
        );
        let response = plain.get(path).await;
        assert!(
            !response.headers().contains_key("strict-transport-security"),
            "{path}"
        );
    }
}

// ---- /metrics ----

#[tokio::test]
async fn metrics_can_ask_for_a_bearer_token() {
    let open = spawn_app(Backend::Sqlite).await;
    let response = open.get("/metrics").await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "open without the setting"
    );

    let mut config = WebConfig::default();
    config.server.metrics_token = Some("scrape-0123456789abcdef".into());
    let app = spawn_app_with(Backend::Sqlite, config, false).await;
    // Built by hand: the authorization header, right or malformed, is what is tested.
    let metrics = |authorization: Option<&str>| {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        Reply::read(request)
    };
    for wrong in [
        None,
        Some("Bearer wrong"),
        Some("Bearer scrape-0123456789abcde"),
        Some("Bearer scrape-0123456789abcdef0"),
        Some("Bearer "),
        Some("Basic c2NyYXBlLTAxMjM0NTY3ODlhYmNkZWY="),
        Some("scrape-0123456789abcdef"),
    ] {
        let response = metrics(wrong).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{wrong:?}");
        assert_eq!(
            response.header("www-authenticate"),
            "Bearer realm=\"metrics\""
        );
        let body = response.text();
        assert!(!body.contains("aipasta_http_requests_total"), "{wrong:?}");
    }
    let response = metrics(Some("Bearer scrape-0123456789abcdef")).await;
    assert_eq!(response.status, StatusCode::OK);
    let body = response.text();
    assert!(body.contains("aipasta_http_requests_total"), "{body}");
}

// ---- the data export ----

#[tokio::test]
async fn the_data_export_is_never_cached() {
    let app = spawn_app(Backend::Sqlite).await;
    let user = app.sign_up("Ada", "ada@example.com").await;
    let response = app.user(&user).get("/api/users/export").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("cache-control"), "no-store");

    // The settings page's download, signed in with a browser session.
    let browser = BrowserSession::signed_in(&app, &user).await;
    let download = browser.get("/dashboard/settings/export").await;
    assert_eq!(download.status, StatusCode::OK);
    assert!(
        download
            .header("content-disposition")
            .starts_with("attachment")
    );
    assert_eq!(download.header("cache-control"), "no-store");
}

// ---- absolute URLs ----

const HOSTILE: &str = "evil.example";
const PUBLIC_URL: &str = "https://pasta.example.com";

/// The app with an image model and an OIDC sign-in provider, `public_url` set or not.
async fn url_app(
    backend: Backend,
    mock: &MockServer,
    oauth: &MockOAuth,
    public_url: Option<&str>,
) -> TestApp {
    let mut config = mock_provider_config(mock);
    config.engine.providers.openai_compatible = vec![EnvEndpoint {
        name: "local".into(),
        base_url: mock.openai_base_url(),
        api_key: Some(ApiKey::new("sk-local")),
    }];
    config.auth.public_url = public_url.map(str::to_owned);
    config.auth.oauth = vec![OAuthProvider {
        key: "oidc".into(),
        label: "oidc".into(),
        client_id: "mock-client-id".into(),
        client_secret: "mock-client-secret".into(),
        kind: ProviderKind::Oidc {
            issuer: oauth.url(),
        },
    }];
    let app = spawn_app_with(backend, config, true).await;
    crate::images::add_local_image_model(&app).await;
    app
}

/// Every absolute URL the app builds for a request carrying `host`: the OAuth redirect URI,
/// the `/v1/images` `url`, the API docs' and the playground's examples.
async fn urls_built_for(app: &TestApp, host: &str, user_name: &str) -> Vec<String> {
    let mut built = Vec::new();
    // Built by hand: the Host header is what is tested.
    let start = Reply::read(
        app.client
            .get(app.url("/auth/oauth/oidc"))
            .header("host", host),
    )
    .await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let authorize = start.header("location").to_owned();
    let redirect_uri = url_query(&authorize, "redirect_uri");
    built.push(redirect_uri);

    let user = app
        .sign_up(user_name, &format!("{user_name}@example.com"))
        .await;
    let (status, body) = app
        .call(
            &user,
            Method::POST,
            "/api/users/api-keys",
            Some(json!({"name": "sdk", "scopes": ["read", "generate"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let key = body["data"]["key"].as_str().unwrap();
    let images = Reply::read(
        app.client
            .post(app.url("/v1/images/generations"))
            .header("host", host)
            .bearer_auth(key)
            .json(&json!({"model": "local/pixel-painter", "prompt": "a red square", "response_format": "url"})),
    )
    .await
    .json();
    built.push(
        images["data"][0]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("{images}"))
            .to_owned(),
    );

    for page in ["/docs/api", "/models/ai21/jamba-large-1.7/playground"] {
        let html = Reply::read(app.client.get(app.url(page)).header("host", host))
            .await
            .text();
        built.push(html);
    }
    built
}

fn url_query(url: &str, name: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

#[tokio::test]
async fn absolute_urls_never_come_from_a_hostile_host_header() {
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let oauth = MockOAuth::start(MockOAuthConfig::default()).await;

        // Without AIPASTA_PUBLIC_URL: the address the server listens on.
        let app = url_app(backend, &mock, &oauth, None).await;
        let own = format!("http://{}", app.address);
        let built = urls_built_for(&app, HOSTILE, "hostile").await;
        assert_eq!(built[0], format!("{own}/auth/callback/oidc"));
        assert!(
            built[1].starts_with(&format!("{own}/api/generations/")),
            "{}",
            built[1]
        );
        for text in &built {
            assert!(!text.contains(HOSTILE), "{backend:?}: {text}");
        }
        assert!(
            built[2].contains(&format!("{own}/v1")),
            "the docs' examples"
        );
        assert!(
            built[3].contains(&format!("{own}/v1")),
            "the playground's examples"
        );
        // A Host naming this server on a loopback name is taken as it is.
        let localhost = format!("localhost:{}", app.address.port());
        let built = urls_built_for(&app, &localhost, "local").await;
        assert_eq!(built[0], format!("http://{localhost}/auth/callback/oidc"));

        // With it: always the public address.
        let app = url_app(backend, &mock, &oauth, Some(PUBLIC_URL)).await;
        let built = urls_built_for(&app, HOSTILE, "hostile").await;
        assert_eq!(built[0], format!("{PUBLIC_URL}/auth/callback/oidc"));
        assert!(
            built[1].starts_with(&format!("{PUBLIC_URL}/api/generations/")),
            "{}",
            built[1]
        );
        for text in &built {
            assert!(!text.contains(HOSTILE), "{backend:?}: {text}");
        }
        assert!(built[2].contains(&format!("{PUBLIC_URL}/v1")));
        assert!(built[3].contains(&format!("{PUBLIC_URL}/v1")));
    }
}
