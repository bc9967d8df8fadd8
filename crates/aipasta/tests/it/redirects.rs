//! `next`, wherever it is accepted (the sign-in and sign-up pages and forms, and the OAuth
//! flows' return path), sends the person to a path on this site and never elsewhere, however
//! it is spelled.

use reqwest::StatusCode;

use aipasta_mock::{MockOAuth, MockOAuthConfig};
use aipasta_web::auth::oauth::{OAuthProvider, ProviderKind};

use crate::helpers::{BrowserSession, Reply, TestApp, browser_client, csrf_from, spawn_app_with};

/// Where a refused `next` sends the person.
const DEFAULT: &str = "/dashboard/settings";

/// `next` values, as the server receives them (after the query or form is decoded once), that
/// a lenient browser or server could read as another site.
const HOSTILE: &[&str] = &[
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\/\\/evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "/%09/evil.example",
    "/%0d%0a/evil.example",
    "/%0D%0ALocation:%20https://evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%252F/evil.example",
    "/%25252F%25252Fevil.example",
    "/.//evil.example",
    "/..//evil.example",
    "/%2e%2e//evil.example",
    "https://evil.example",
    "HTTPS://evil.example/path",
    "http:evil.example",
    "http:/evil.example",
    "//evil.example@site",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "",
    "/auth/signout",
    "/auth/%73ignout",
];

/// `next` values that are paths here, and where they lead.
const KEPT: &[(&str, &str)] = &[
    ("/models", "/models"),
    (
        "/models?q=claude+opus&sort=name",
        "/models?q=claude+opus&sort=name",
    ),
    (
        "/models/openai/gpt-4o/playground",
        "/models/openai/gpt-4o/playground",
    ),
    ("/playground#chat", "/playground#chat"),
];

fn location(response: &Reply) -> String {
    assert_eq!(
        response.status,
        StatusCode::SEE_OTHER,
        "{:?}",
        response.request()
    );
    response.header("location").to_owned()
}

/// The generous limits and the OIDC provider every case needs.
async fn app_with_oidc(mock: &MockOAuth) -> TestApp {
    let mut config = aipasta_web::WebConfig::default();
    config.limits.signin_per_ip = "100000/min,burst=100000".parse().unwrap();
    config.limits.signup_per_ip = "100000/min,burst=100000".parse().unwrap();
    config.auth.oauth = vec![OAuthProvider {
        key: "oidc".into(),
        label: "OIDC".into(),
        client_id: "mock-client-id".into(),
        client_secret: "mock-client-secret".into(),
        kind: ProviderKind::Oidc { issuer: mock.url() },
    }];
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config, false).await;
    mock.register_redirect_uri("mock-client-id", &app.url("/auth/callback/oidc"));
    app
}

/// Every case, with where `next` should lead.
fn cases() -> Vec<(&'static str, &'static str)> {
    HOSTILE
        .iter()
        .map(|next| (*next, DEFAULT))
        .chain(KEPT.iter().copied())
        .collect()
}

#[tokio::test]
async fn the_sign_in_and_sign_up_pages_redirect_only_within_the_site() {
    let mock = MockOAuth::start(MockOAuthConfig::default()).await;
    let app = app_with_oidc(&mock).await;
    let ada = app.sign_up("Ada", "ada@example.com").await;
    let signed_in = BrowserSession::new(&app);
    signed_in.sign_in(&ada, None).await;

    for (next, expected) in cases() {
        // Signed in, the pages send the person on at once.
        for page in ["/auth/signin", "/auth/signup"] {
            // Built by hand: `next` is encoded as a query, as a browser would.
            let response =
                Reply::read(signed_in.client.get(app.url(page)).query(&[("next", next)])).await;
            assert_eq!(
                location(&response),
                expected,
                "GET {page} with next={next:?}"
            );
        }
        // Signed out, the page carries `next` into its form and links only once checked.
        let html = Reply::read(
            app.client
                .get(app.url("/auth/signin"))
                .query(&[("next", next)]),
        )
        .await
        .text();
        let in_form = html
            .split(r#"name="next" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the form's next field");
        let in_form = in_form.replace("&amp;", "&").replace("&#38;", "&");
        assert_eq!(in_form, expected, "the sign-in form's next for {next:?}");
        assert!(!html.contains("evil.example"), "{next:?} reached the page");
    }
}

#[tokio::test]
async fn the_sign_in_and_sign_up_forms_redirect_only_within_the_site() {
    let mock = MockOAuth::start(MockOAuthConfig::default()).await;
    let app = app_with_oidc(&mock).await;
    let ada = app.sign_up("Ada", "ada@example.com").await;
    for (i, (next, expected)) in cases().into_iter().enumerate() {
        // Each case from its own address, so the per-address limits never answer first.
        let browser = BrowserSession::from_address(&app, u8::try_from(10 + i).unwrap());
        let response = browser.sign_in(&ada, Some(next)).await;
        assert_eq!(
            location(&response),
            expected,
            "POST /auth/signin with next={next:?}"
        );

        let newcomer = BrowserSession::from_address(&app, u8::try_from(10 + i).unwrap());
        let page = newcomer.page("/auth/signup").await;
        let email = format!("new{i}@example.com");
        let response = newcomer
            .post_form(
                "/auth/signup",
                &[
                    ("name", "New"),
                    ("email", email.as_str()),
                    ("password", "a long enough phrase"),
                    ("csrf_token", csrf_from(&page).as_str()),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(
            location(&response),
            expected,
            "POST /auth/signup with next={next:?}"
        );
    }
}

#[tokio::test]
async fn the_oauth_flow_returns_only_within_the_site() {
    let mock = MockOAuth::start(MockOAuthConfig::default()).await;
    let app = app_with_oidc(&mock).await;
    for (next, expected) in cases() {
        // Built by hand: `next` in a query, then the URLs the redirects name, as given.
        let browser = browser_client();
        let start = Reply::read(
            browser
                .get(app.url("/auth/oauth/oidc"))
                .query(&[("next", next)]),
        )
        .await;
        let authorize = location(&start);
        let consent = Reply::read(browser.get(&authorize)).await;
        assert_eq!(
            consent.status,
            StatusCode::FOUND,
            "the provider sends the browser back"
        );
        let callback = consent.header("location").to_owned();
        let done = Reply::read(browser.get(&callback)).await;
        assert_eq!(
            location(&done),
            expected,
            "the OAuth return path for next={next:?}"
        );
    }
}
