//! Signing in with OpenID Connect and GitHub: the whole dance against the mock provider, on
//! every backend.

use reqwest::StatusCode;
use serde_json::Value;

use aipasta_mock::{MockOAuth, MockOAuthConfig, MockUser};
use aipasta_store::accounts;
use aipasta_web::auth::oauth::{OAuthProvider, ProviderKind};

use crate::helpers::{BrowserSession, Reply, TestApp, backends, spawn_app_with};

async fn app_with_providers(backend: aipasta_store::Backend, mock: &MockOAuth) -> TestApp {
    let mut config = aipasta_web::WebConfig::default();
    let provider = |key: &str, kind: ProviderKind| OAuthProvider {
        key: key.into(),
        label: key.into(),
        client_id: "mock-client-id".into(),
        client_secret: "mock-client-secret".into(),
        kind,
    };
    config.auth.oauth = vec![
        provider("oidc", ProviderKind::Oidc { issuer: mock.url() }),
        provider(
            "github",
            ProviderKind::GitHub {
                web_url: mock.url(),
                api_url: mock.github_api_url(),
            },
        ),
    ];
    let app = spawn_app_with(backend, config, false).await;
    for key in ["oidc", "github"] {
        mock.register_redirect_uri("mock-client-id", &app.url(&format!("/auth/callback/{key}")));
    }
    app
}

/// Runs the browser's side of the dance; answers where the app finally sends the person.
/// The redirects are followed by hand, to the absolute URLs they name (the provider's, then
/// the app's callback).
async fn dance(browser: &BrowserSession<'_>, provider: &str) -> String {
    let start = browser
        .get(&format!("/auth/oauth/{provider}?next=/models"))
        .await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "start");
    let authorize = start.header("location");
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "PKCE: {authorize}"
    );
    let consent = Reply::read(browser.client.get(authorize)).await;
    assert_eq!(
        consent.status,
        StatusCode::FOUND,
        "the provider sends the browser back"
    );
    let done = Reply::read(browser.client.get(consent.header("location"))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    done.header("location").to_owned()
}

async fn session_email(browser: &BrowserSession<'_>) -> Value {
    let session = browser.get("/api/auth/session").await.json();
    session["user"]["email"].clone()
}

#[tokio::test]
async fn oidc_sign_in_creates_then_finds_the_account_and_links_by_verified_email() {
    for backend in backends() {
        let mock = MockOAuth::start(MockOAuthConfig::default()).await;
        let app = app_with_providers(backend, &mock).await;

        // Alice has a password account already: a verified email links the identity to it.
        let alice = app.sign_up("Alice", "alice@example.com").await;
        let browser = BrowserSession::new(&app);
        assert_eq!(dance(&browser, "oidc").await, "/models", "{backend:?}");
        assert_eq!(session_email(&browser).await, "alice@example.com");
        let identities = accounts::list_identities(&app.db, &alice.id).await.unwrap();
        let providers: Vec<&str> = identities.iter().map(|i| i.provider.as_str()).collect();
        assert_eq!(
            providers,
            ["credentials", "oidc"],
            "the providers list records the link"
        );

        // She comes back: found by the provider's id for her, not duplicated.
        let again = BrowserSession::new(&app);
        dance(&again, "oidc").await;
        assert_eq!(session_email(&again).await, "alice@example.com");
        let count: i64 = aipasta_store::Query::new("SELECT COUNT(*) FROM users")
            .fetch_scalar(&app.db)
            .await
            .unwrap();
        assert_eq!(count, 1);

        // Someone new gets a new account without a password.
        mock.set_next_user(MockUser::new("2001", "carol@example.com", "Carol"));
        let carol = BrowserSession::new(&app);
        dance(&carol, "oidc").await;
        assert_eq!(session_email(&carol).await, "carol@example.com");
        let stored = accounts::find_user_by_email(&app.db, "carol@example.com")
            .await
            .unwrap()
            .unwrap();
        assert!(stored.password_hash.is_none());
        assert!(stored.email_verified_at.is_some());
    }
}

#[tokio::test]
async fn an_unverified_email_never_takes_over_an_existing_account() {
    let mock = MockOAuth::start(MockOAuthConfig::default()).await;
    let app = app_with_providers(aipasta_store::Backend::Sqlite, &mock).await;
    let bob = app.sign_up("Bob", "bob@example.com").await;
    let mut unverified = MockUser::new("1002", "bob@example.com", "Bob?");
    unverified.email_verified = false;
    mock.set_next_user(unverified);
    let browser = BrowserSession::new(&app);
    let landed = dance(&browser, "oidc").await;
    assert_eq!(landed, "/auth/error?error=unverified");
    assert!(session_email(&browser).await.is_null());
    assert_eq!(
        accounts::list_identities(&app.db, &bob.id)
            .await
            .unwrap()
            .len(),
        1,
        "nothing linked"
    );
}

#[tokio::test]
async fn github_sign_in_works_and_refusals_and_forged_states_are_errors() {
    for backend in backends() {
        let mock = MockOAuth::start(MockOAuthConfig::default()).await;
        let app = app_with_providers(backend, &mock).await;
        let browser = BrowserSession::new(&app);
        assert_eq!(dance(&browser, "github").await, "/models", "{backend:?}");
        assert_eq!(session_email(&browser).await, "alice@example.com");
        let user = accounts::find_user_by_email(&app.db, "alice@example.com")
            .await
            .unwrap()
            .unwrap();
        let identities = accounts::list_identities(&app.db, &user.id).await.unwrap();
        assert_eq!(identities[0].provider, "github");
        assert_eq!(identities[0].provider_user_id, "1001");

        // A callback whose state was not issued to this browser is refused.
        let stranger = BrowserSession::new(&app);
        let forged = stranger
            .get("/auth/callback/github?code=abc&state=made-up")
            .await;
        assert_eq!(forged.header("location"), "/auth/error?error=state");

        // The person declines at the provider.
        mock.set_deny(true);
        let declined = BrowserSession::new(&app);
        let start = declined.get("/auth/oauth/oidc").await;
        let back = Reply::read(declined.client.get(start.header("location"))).await;
        let landed = Reply::read(declined.client.get(back.header("location"))).await;
        assert_eq!(landed.header("location"), "/auth/error?error=access_denied");
        mock.set_deny(false);

        // A provider that is not configured does not exist.
        assert_eq!(
            browser.get("/auth/oauth/myspace").await.status,
            StatusCode::NOT_FOUND
        );
        let page = app.get("/auth/signin").await.text().await.unwrap();
        assert!(
            page.contains("/auth/oauth/github") && page.contains("/auth/oauth/oidc"),
            "buttons on the sign-in page"
        );
    }
}
