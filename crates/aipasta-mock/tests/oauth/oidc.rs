//! OpenID Connect: discovery, the code flow with PKCE, the id_token, userinfo, and refusals.

use std::time::Duration;

use aipasta_mock::{
    Fault, MockUser, OIDC_AUTHORIZE_PATH, OIDC_DISCOVERY_PATH, OIDC_TOKEN_PATH, OIDC_USERINFO_PATH,
};
use reqwest::Response;
use serde_json::Value;

use crate::support::{
    CALLBACK, CLIENT_ID, CLIENT_SECRET, Pkce, client, get, pkce, redirect_target, start,
    verify_hs256,
};

/// Signs in through `/authorize` with PKCE, a state and a nonce; returns the code.
async fn sign_in(url: &str, pkce: &Pkce, extra: &[(&str, &str)]) -> String {
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("scope", "openid email profile"),
        ("state", "state-123"),
        ("nonce", "nonce-456"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    // A parameter in `extra` replaces the default: OAuth refuses repeated parameters.
    query.retain(|(name, _)| !extra.iter().any(|(other, _)| other == name));
    query.extend_from_slice(extra);
    let response = get(url, OIDC_AUTHORIZE_PATH, &query).await;
    let (target, params) = redirect_target(&response);
    assert_eq!(target, CALLBACK);
    assert_eq!(params["state"], "state-123");
    params["code"].clone()
}

/// Redeems a code with `client_secret_post`.
async fn redeem(url: &str, code: &str, verifier: &str, secret: &str) -> Response {
    client()
        .post(format!("{url}{OIDC_TOKEN_PATH}"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("client_id", CLIENT_ID),
            ("client_secret", secret),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
}

async fn status_and_json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn userinfo(url: &str, access_token: &str) -> Response {
    client()
        .get(format!("{url}{OIDC_USERINFO_PATH}"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn discovery_names_every_endpoint_on_the_issuer() {
    let oauth = start().await;
    let url = oauth.url();
    let (status, doc) = status_and_json(get(&url, OIDC_DISCOVERY_PATH, &[]).await).await;
    assert_eq!(status, 200);
    assert_eq!(doc["issuer"], url);
    assert_eq!(doc["authorization_endpoint"], format!("{url}/authorize"));
    assert_eq!(doc["token_endpoint"], format!("{url}/token"));
    assert_eq!(doc["userinfo_endpoint"], format!("{url}/userinfo"));
    assert_eq!(doc["jwks_uri"], format!("{url}/jwks"));
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["HS256"])
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        doc["scopes_supported"],
        serde_json::json!(["openid", "email", "profile"])
    );
    let (_, jwks) = status_and_json(get(&url, "/jwks", &[]).await).await;
    assert_eq!(jwks, serde_json::json!({"keys": []}));
}

#[tokio::test]
async fn the_code_flow_with_pkce_gives_a_signed_id_token_and_userinfo() {
    let oauth = start().await;
    let url = oauth.url();
    let pkce = pkce('a');
    let code = sign_in(&url, &pkce, &[]).await;
    assert_eq!(oauth.last_nonce().as_deref(), Some("nonce-456"));
    assert_eq!(oauth.last_code_challenge(), Some(pkce.challenge.clone()));
    assert_eq!(oauth.last_state().as_deref(), Some("state-123"));
    let authorize = &oauth.requests(OIDC_AUTHORIZE_PATH)[0];
    assert_eq!(authorize.query_param("code_challenge_method"), Some("S256"));

    let response = redeem(&url, &code, &pkce.verifier, CLIENT_SECRET).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "openid email profile");
    let form = &oauth.posted_forms(OIDC_TOKEN_PATH)[0];
    assert!(form.contains(&("code_verifier".to_owned(), pkce.verifier.clone())));

    let claims = verify_hs256(body["id_token"].as_str().unwrap(), CLIENT_SECRET);
    assert_eq!(claims["iss"], url);
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["sub"], "1001");
    assert_eq!(claims["nonce"], "nonce-456");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Alice Example");
    assert_eq!(claims["picture"], "https://example.com/avatars/alice.png");
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["exp"].as_u64().unwrap(), iat + 3600);

    let access_token = body["access_token"].as_str().unwrap();
    let (status, info) = status_and_json(userinfo(&url, access_token).await).await;
    assert_eq!(status, 200);
    assert_eq!(info["sub"], "1001");
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["name"], "Alice Example");
    assert_eq!(info["picture"], "https://example.com/avatars/alice.png");
}

#[tokio::test]
async fn http_basic_client_authentication_works_too() {
    let oauth = start().await;
    let url = oauth.url();
    let pkce = pkce('b');
    let code = sign_in(&url, &pkce, &[]).await;
    let response = client()
        .post(format!("{url}{OIDC_TOKEN_PATH}"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
            ("code_verifier", pkce.verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 200, "{body}");
    verify_hs256(body["id_token"].as_str().unwrap(), CLIENT_SECRET);
}

#[tokio::test]
async fn a_code_works_once_and_its_replay_revokes_the_token() {
    let oauth = start().await;
    let url = oauth.url();
    let pkce = pkce('c');
    let code = sign_in(&url, &pkce, &[]).await;
    let (status, body) =
        status_and_json(redeem(&url, &code, &pkce.verifier, CLIENT_SECRET).await).await;
    assert_eq!(status, 200);
    let access_token = body["access_token"].as_str().unwrap().to_owned();
    let (status, body) =
        status_and_json(redeem(&url, &code, &pkce.verifier, CLIENT_SECRET).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("already been used")
    );
    assert_eq!(userinfo(&url, &access_token).await.status().as_u16(), 401);
}

#[tokio::test]
async fn a_wrong_or_missing_verifier_is_refused() {
    let oauth = start().await;
    let url = oauth.url();
    let pkce = pkce('d');
    let code = sign_in(&url, &pkce, &[]).await;
    let other = crate::support::pkce('e');
    let (status, body) =
        status_and_json(redeem(&url, &code, &other.verifier, CLIENT_SECRET).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("code_verifier")
    );

    let code = sign_in(&url, &pkce, &[]).await;
    let (status, body) = status_and_json(redeem(&url, &code, "", CLIENT_SECRET).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client() {
    let oauth = start().await;
    let url = oauth.url();
    let pkce = pkce('f');
    let code = sign_in(&url, &pkce, &[]).await;
    let response = redeem(&url, &code, &pkce.verifier, "not-the-secret").await;
    assert!(response.headers().contains_key("www-authenticate"));
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    // A wrong secret does not spend the code: the real client can still redeem it.
    let (status, _) =
        status_and_json(redeem(&url, &code, &pkce.verifier, CLIENT_SECRET).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_unregistered_redirect_uri_or_client_gets_a_page_not_a_redirect() {
    let oauth = start().await;
    let url = oauth.url();
    let query = |client_id: &'static str, redirect_uri: &'static str| {
        vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", "openid"),
            ("state", "s"),
        ]
    };
    for (client_id, redirect_uri) in [
        (CLIENT_ID, "https://evil.example/steal"),
        (CLIENT_ID, "http://127.0.0.1:9/auth/callback/extra"),
        ("unknown-client", CALLBACK),
    ] {
        let response = get(&url, OIDC_AUTHORIZE_PATH, &query(client_id, redirect_uri)).await;
        assert_eq!(
            response.status().as_u16(),
            400,
            "{client_id} {redirect_uri}"
        );
        assert!(!response.headers().contains_key("location"));
    }
}

#[tokio::test]
async fn the_token_request_must_repeat_the_redirect_uri() {
    let oauth = start().await;
    let url = oauth.url();
    oauth.register_redirect_uri(CLIENT_ID, "http://127.0.0.1:9/other");
    let pkce = pkce('g');
    let code = sign_in(&url, &pkce, &[]).await;
    let response = client()
        .post(format!("{url}{OIDC_TOKEN_PATH}"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code_verifier", pkce.verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn deny_mode_redirects_with_access_denied() {
    let oauth = start().await;
    let url = oauth.url();
    oauth.set_deny(true);
    let pkce = pkce('h');
    let query = [
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("scope", "openid email"),
        ("state", "st"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let (target, params) = redirect_target(&get(&url, OIDC_AUTHORIZE_PATH, &query).await);
    assert_eq!(target, CALLBACK);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "st");
    assert!(!params.contains_key("code"));
    oauth.set_deny(false);
    let (_, params) = redirect_target(&get(&url, OIDC_AUTHORIZE_PATH, &query).await);
    assert!(params.contains_key("code"));
}

#[tokio::test]
async fn login_hint_and_next_user_choose_who_signs_in() {
    let oauth = start().await;
    let url = oauth.url();
    let pkce = pkce('i');
    let code = sign_in(&url, &pkce, &[("login_hint", "bob@example.com")]).await;
    let (_, body) = status_and_json(redeem(&url, &code, &pkce.verifier, CLIENT_SECRET).await).await;
    let claims = verify_hs256(body["id_token"].as_str().unwrap(), CLIENT_SECRET);
    assert_eq!(claims["sub"], "1002");
    assert_eq!(claims["email_verified"], false);
    assert!(claims.get("name").is_none(), "Bob set no name");

    oauth.set_next_user(MockUser::new("1003", "carol@example.com", "Carol"));
    let code = sign_in(&url, &pkce, &[]).await;
    let (_, body) = status_and_json(redeem(&url, &code, &pkce.verifier, CLIENT_SECRET).await).await;
    let claims = verify_hs256(body["id_token"].as_str().unwrap(), CLIENT_SECRET);
    assert_eq!(claims["email"], "carol@example.com");

    let response = get(
        &url,
        OIDC_AUTHORIZE_PATH,
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
            ("login_hint", "nobody@example.com"),
        ],
    )
    .await;
    assert_eq!(
        response.status().as_u16(),
        400,
        "a hint naming nobody is loud"
    );
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let oauth = start().await;
    let url = oauth.url();
    oauth.set_code_lifetime(Duration::from_millis(1));
    let pkce = pkce('j');
    let code = sign_in(&url, &pkce, &[]).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (status, body) =
        status_and_json(redeem(&url, &code, &pkce.verifier, CLIENT_SECRET).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn bad_authorize_parameters_go_back_as_errors() {
    let oauth = start().await;
    let url = oauth.url();
    let base = [
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
    ];
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("scope", "email")], "invalid_scope"),
        (
            &[
                ("scope", "openid"),
                (
                    "code_challenge",
                    "plain-challenge-is-not-allowed-here-at-all-x",
                ),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            &[("scope", "openid"), ("response_type", "token")],
            "unsupported_response_type",
        ),
    ];
    for (extra, error) in cases {
        let mut query: Vec<(&str, &str)> = base
            .iter()
            .filter(|(name, _)| !extra.iter().any(|(other, _)| other == name))
            .copied()
            .collect();
        query.extend_from_slice(extra);
        let (_, params) = redirect_target(&get(&url, OIDC_AUTHORIZE_PATH, &query).await);
        assert_eq!(params["error"], error, "{extra:?}");
        assert_eq!(params["state"], "s");
    }
}

#[tokio::test]
async fn scopes_limit_the_claims() {
    let oauth = start().await;
    let url = oauth.url();
    let pkce = pkce('k');
    let code = sign_in(&url, &pkce, &[("scope", "openid")]).await;
    let (_, body) = status_and_json(redeem(&url, &code, &pkce.verifier, CLIENT_SECRET).await).await;
    let claims = verify_hs256(body["id_token"].as_str().unwrap(), CLIENT_SECRET);
    assert!(claims.get("email").is_none());
    let (_, info) =
        status_and_json(userinfo(&url, body["access_token"].as_str().unwrap()).await).await;
    assert_eq!(info, serde_json::json!({"sub": "1001"}));
}

#[tokio::test]
async fn userinfo_refuses_a_bad_token_and_revoked_ones() {
    let oauth = start().await;
    let url = oauth.url();
    let response = userinfo(&url, "not-a-token").await;
    assert_eq!(response.status().as_u16(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let pkce = pkce('l');
    let code = sign_in(&url, &pkce, &[]).await;
    let (_, body) = status_and_json(redeem(&url, &code, &pkce.verifier, CLIENT_SECRET).await).await;
    let access_token = body["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&url, access_token).await.status().as_u16(), 200);
    oauth.revoke_tokens();
    assert_eq!(userinfo(&url, access_token).await.status().as_u16(), 401);
}

#[tokio::test]
async fn a_scripted_fault_answers_in_the_oauth_error_shape() {
    let oauth = start().await;
    let url = oauth.url();
    oauth.set_fault(OIDC_TOKEN_PATH, Some(Fault::Status(500)));
    let pkce = pkce('m');
    let code = sign_in(&url, &pkce, &[]).await;
    let (status, body) =
        status_and_json(redeem(&url, &code, &pkce.verifier, CLIENT_SECRET).await).await;
    assert_eq!(status, 500);
    assert_eq!(body["error"], "server_error");
    oauth.set_fault(OIDC_TOKEN_PATH, None);
    let (status, _) =
        status_and_json(redeem(&url, &code, &pkce.verifier, CLIENT_SECRET).await).await;
    assert_eq!(status, 200, "the fault did not spend the code");
    assert_eq!(oauth.request_count(OIDC_TOKEN_PATH), 2);
}
