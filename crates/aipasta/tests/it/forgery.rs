//! Cross-site request forgery: a session cookie never authorises a forged request, whatever
//! `Authorization` header rides along (a proxy's `Basic`, `Negotiate`, a malformed `Bearer`).
//! Only a bearer credential that checks out makes a request need no CSRF token.

use reqwest::{Method, StatusCode};
use serde_json::json;

use aipasta_store::accounts;

use crate::helpers::{BrowserSession, Reply, TestApp, backends, csrf_from, spawn_app};

/// `Authorization` values that are not a valid bearer credential.
const NOT_A_BEARER_CREDENTIAL: &[&str] = &[
    "Basic dXNlcjpwYXNz",
    "Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnag",
    "NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==",
    "Digest username=\"ada\", realm=\"pasta\"",
    "Token ap_not_a_key",
    "Bearer",
    "Bearer ",
    "bearer",
    "BEARER",
    "Bearer not-a-token",
    "BEARER not-a-token",
    "Bearer ap_not_a_key",
    "Bearer two words",
    "",
];

/// A state-changing request a forger would send, and how to see whether it took effect.
#[derive(Debug, Clone, Copy)]
enum Forged {
    /// `PUT /api/users/settings` (JSON): the theme.
    ApiSettings,
    /// `DELETE /api/users/api-keys/{id}`: the key.
    ApiRevokeKey,
    /// `POST /dashboard/settings/preferences` (a form): the theme.
    PageSettings,
    /// `POST /dashboard/settings/api-keys` (a form): a new key.
    PageCreateKey,
}

const FORGED: [Forged; 4] = [
    Forged::ApiSettings,
    Forged::ApiRevokeKey,
    Forged::PageSettings,
    Forged::PageCreateKey,
];

impl Forged {
    fn request(
        self,
        app: &TestApp,
        browser: &reqwest::Client,
        key_id: &str,
    ) -> reqwest::RequestBuilder {
        match self {
            Forged::ApiSettings => browser
                .put(app.url("/api/users/settings"))
                .json(&json!({ "theme": "dark" })),
            Forged::ApiRevokeKey => browser.request(
                Method::DELETE,
                app.url(&format!("/api/users/api-keys/{key_id}")),
            ),
            Forged::PageSettings => browser
                .post(app.url("/dashboard/settings/preferences"))
                .form(&[("theme", "dark"), ("language", "en")]),
            Forged::PageCreateKey => browser
                .post(app.url("/dashboard/settings/api-keys"))
                .form(&[("name", "forged"), ("scope_read", "on")]),
        }
    }
}

/// A browser signed in as a new account with one API key; answers (browser, CSRF token, user
/// id, key id, a JWT of the account).
async fn signed_in_browser(app: &TestApp) -> (reqwest::Client, String, String, String, String) {
    let ada = app.sign_up("Ada", "ada@example.com").await;
    let (status, key) = app
        .call(
            &ada,
            Method::POST,
            "/api/users/api-keys",
            Some(json!({ "name": "kept", "scopes": ["read"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let browser = BrowserSession::signed_in(app, &ada).await;
    let settings = browser.page("/dashboard/settings").await;
    let key_id = key["data"]["id"].as_str().unwrap().to_owned();
    // The forged requests are built by hand with this browser's cookies.
    (
        browser.client,
        csrf_from(&settings),
        ada.id,
        key_id,
        ada.token,
    )
}

/// Nothing the forged requests aimed at has changed.
async fn assert_untouched(app: &TestApp, user_id: &str, key_id: &str, context: &str) {
    let user = accounts::find_user_by_id(&app.db, user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.theme, "system", "{context}: the theme changed");
    let keys = accounts::list_api_keys(&app.db, user_id).await.unwrap();
    let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, [key_id], "{context}: the keys changed");
}

#[tokio::test]
async fn an_authorization_header_that_is_not_a_bearer_credential_never_skips_csrf() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let (browser, csrf, user_id, key_id, _) = signed_in_browser(&app).await;
        for header in NOT_A_BEARER_CREDENTIAL {
            for forged in FORGED {
                let context = format!("{backend:?}: {forged:?} with `Authorization: {header}`");
                // No token: a forged form or fetch.
                let response = Reply::read(
                    forged
                        .request(&app, &browser, &key_id)
                        .header("authorization", *header),
                )
                .await;
                let status = response.status;
                assert!(
                    status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED,
                    "{context}: answered {status}"
                );
                if status == StatusCode::FORBIDDEN
                    && matches!(forged, Forged::ApiSettings | Forged::ApiRevokeKey)
                {
                    assert_eq!(response.json()["error"]["code"], "csrf_failed", "{context}");
                }
                // The right token, but sent from another site.
                let status = Reply::read(
                    forged
                        .request(&app, &browser, &key_id)
                        .header("authorization", *header)
                        .header("x-csrf-token", &csrf)
                        .header("origin", "https://evil.example"),
                )
                .await
                .status;
                assert!(
                    status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED,
                    "{context}, from another origin: answered {status}"
                );
                assert_untouched(&app, &user_id, &key_id, &context).await;
            }
        }

        // The checks above can pass: the same requests go through when they are genuine.
        let genuine = Reply::read(
            browser
                .put(app.url("/api/users/settings"))
                .header("authorization", "Basic dXNlcjpwYXNz")
                .header("x-csrf-token", &csrf)
                .json(&json!({ "theme": "light" })),
        )
        .await;
        assert_eq!(
            genuine.status,
            StatusCode::OK,
            "{backend:?}: the cookie with its token"
        );
        let user = accounts::find_user_by_id(&app.db, &user_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.theme, "light");
    }
}

#[tokio::test]
async fn a_verified_bearer_credential_in_any_case_needs_no_csrf_token() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let (browser, _, user_id, _, token) = signed_in_browser(&app).await;
        // RFC 7235: the scheme is case-insensitive; the token is then verified as a bearer
        // one, alone (no cookie to fall back on) or beside a session cookie.
        let schemes = [
            ("Bearer", "dark"),
            ("bearer", "light"),
            ("BEARER", "dark"),
            ("bEaReR", "light"),
        ];
        for (scheme, theme) in schemes {
            for (client, with) in [(&app.client, "alone"), (&browser, "beside a cookie")] {
                let response = Reply::read(
                    client
                        .put(app.url("/api/users/settings"))
                        .header("authorization", format!("{scheme} {token}"))
                        .json(&json!({ "theme": theme })),
                )
                .await;
                let context = format!("{backend:?}: {scheme}, {with}");
                assert_eq!(response.status, StatusCode::OK, "{context}");
                let user = accounts::find_user_by_id(&app.db, &user_id)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(user.theme, theme, "{context}");
            }
        }
    }
}
