//! GitHub's dialect: authorize, the token exchange (JSON and form answers, 200-status errors),
//! and the REST API's `/user` and `/user/emails`.

use aipasta_mock::{
    GITHUB_AUTHORIZE_PATH, GITHUB_EMAILS_PATH, GITHUB_TOKEN_PATH, GITHUB_USER_PATH, MockOAuth,
};
use reqwest::Response;
use serde_json::Value;

use crate::support::{
    CALLBACK, CLIENT_ID, CLIENT_SECRET, client, get, pkce, redirect_target, start,
};

/// Signs in with `scope`; returns the code.
async fn sign_in(oauth: &MockOAuth, extra: &[(&str, &str)]) -> String {
    let mut query = vec![
        ("client_id", CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("scope", "read:user user:email"),
        ("state", "gh-state"),
    ];
    // A parameter in `extra` replaces the default: OAuth refuses repeated parameters.
    query.retain(|(name, _)| !extra.iter().any(|(other, _)| other == name));
    query.extend_from_slice(extra);
    let response = get(&oauth.url(), GITHUB_AUTHORIZE_PATH, &query).await;
    let (target, params) = redirect_target(&response);
    assert_eq!(target, CALLBACK);
    assert_eq!(params["state"], "gh-state");
    params["code"].clone()
}

/// Exchanges a code asking for JSON, as apps do.
async fn exchange(oauth: &MockOAuth, form: &[(&str, &str)]) -> Value {
    let response = client()
        .post(format!("{}{GITHUB_TOKEN_PATH}", oauth.url()))
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "GitHub answers 200 even to errors"
    );
    response.json().await.unwrap()
}

async fn api(oauth: &MockOAuth, path: &str, token: &str) -> Response {
    client()
        .get(format!("{}{path}", oauth.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_whole_github_flow_reaches_the_user_and_emails() {
    let oauth = start().await;
    let code = sign_in(&oauth, &[]).await;
    let body = exchange(
        &oauth,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await;
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "read:user,user:email");
    let token = body["access_token"].as_str().unwrap();
    assert!(token.starts_with("gho_"));

    assert_eq!(oauth.github_api_url(), format!("{}/api", oauth.url()));
    let response = api(&oauth, GITHUB_USER_PATH, token).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["x-oauth-scopes"],
        "read:user, user:email"
    );
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["id"], 1001, "a number, not a string");
    assert!(user["id"].is_u64());
    assert_eq!(user["login"], "alice");
    assert_eq!(user["name"], "Alice Example");
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["avatar_url"], "https://example.com/avatars/alice.png");

    let emails: Value = api(&oauth, GITHUB_EMAILS_PATH, token)
        .await
        .json()
        .await
        .unwrap();
    let emails = emails.as_array().unwrap();
    let primary: Vec<&Value> = emails.iter().filter(|e| e["primary"] == true).collect();
    assert_eq!(primary.len(), 1);
    assert_eq!(primary[0]["email"], "alice@example.com");
    assert_eq!(primary[0]["verified"], true);
    assert_eq!(primary[0]["visibility"], "public");
    assert!(emails.iter().any(|e| {
        e["email"]
            .as_str()
            .unwrap()
            .ends_with("@users.noreply.github.com")
    }));
}

#[tokio::test]
async fn without_accept_json_the_token_answer_is_form_encoded() {
    let oauth = start().await;
    let code = sign_in(&oauth, &[]).await;
    let response = client()
        .post(format!("{}{GITHUB_TOKEN_PATH}", oauth.url()))
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect();
    assert!(
        pairs
            .iter()
            .any(|(k, v)| k == "access_token" && v.starts_with("gho_"))
    );
    assert!(pairs.contains(&("token_type".to_owned(), "bearer".to_owned())));
}

#[tokio::test]
async fn bad_codes_and_secrets_get_githubs_error_shape() {
    let oauth = start().await;
    let body = exchange(
        &oauth,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", "not-a-code"),
        ],
    )
    .await;
    assert_eq!(body["error"], "bad_verification_code");
    assert_eq!(
        body["error_description"],
        "The code passed is incorrect or expired."
    );
    assert!(body.get("access_token").is_none());

    let code = sign_in(&oauth, &[]).await;
    let body = exchange(
        &oauth,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
            ("code", code.as_str()),
        ],
    )
    .await;
    assert_eq!(body["error"], "incorrect_client_credentials");

    let form = [
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code", code.as_str()),
    ];
    assert!(exchange(&oauth, &form).await.get("access_token").is_some());
    assert_eq!(
        exchange(&oauth, &form).await["error"],
        "bad_verification_code",
        "codes are single-use"
    );
}

#[tokio::test]
async fn pkce_is_optional_but_checked_when_used() {
    let oauth = start().await;
    let pair = pkce('p');
    let extra = [
        ("code_challenge", pair.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = sign_in(&oauth, &extra).await;
    let wrong = pkce('q');
    let form = [
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code", code.as_str()),
        ("code_verifier", wrong.verifier.as_str()),
    ];
    assert_eq!(
        exchange(&oauth, &form).await["error"],
        "bad_verification_code"
    );

    let code = sign_in(&oauth, &extra).await;
    let form = [
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code", code.as_str()),
        ("code_verifier", pair.verifier.as_str()),
    ];
    assert!(exchange(&oauth, &form).await.get("access_token").is_some());
    let posted = oauth.posted_forms(GITHUB_TOKEN_PATH);
    assert!(posted[1].iter().any(|(k, _)| k == "code_verifier"));
}

#[tokio::test]
async fn a_private_email_is_null_and_emails_need_the_scope() {
    let oauth = start().await;
    let code = sign_in(&oauth, &[("login", "bob"), ("scope", "read:user")]).await;
    let body = exchange(
        &oauth,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", code.as_str()),
        ],
    )
    .await;
    let token = body["access_token"].as_str().unwrap();
    let user: Value = api(&oauth, GITHUB_USER_PATH, token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["id"], 1002);
    assert!(user["email"].is_null());
    assert!(user["name"].is_null());
    let response = api(&oauth, GITHUB_EMAILS_PATH, token).await;
    assert_eq!(response.status().as_u16(), 404, "no user:email scope");
}

#[tokio::test]
async fn the_api_wants_a_user_agent_and_a_good_token() {
    let oauth = start().await;
    let response = api(&oauth, GITHUB_USER_PATH, "gho_not_a_token").await;
    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Bad credentials");

    // A client without the default User-Agent, as reqwest is out of the box.
    let bare = reqwest::Client::new();
    let response = bare
        .get(format!("{}{GITHUB_USER_PATH}", oauth.url()))
        .bearer_auth("gho_anything")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
}

#[tokio::test]
async fn deny_and_a_wrong_redirect_uri_go_back_with_errors() {
    let oauth = start().await;
    oauth.set_deny(true);
    let query = [("client_id", CLIENT_ID), ("state", "x")];
    let (target, params) = redirect_target(&get(&oauth.url(), GITHUB_AUTHORIZE_PATH, &query).await);
    assert_eq!(target, CALLBACK, "no redirect_uri: the registered one");
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "x");
    oauth.set_deny(false);

    let query = [
        ("client_id", CLIENT_ID),
        ("redirect_uri", "https://evil.example/cb"),
        ("state", "y"),
    ];
    let (target, params) = redirect_target(&get(&oauth.url(), GITHUB_AUTHORIZE_PATH, &query).await);
    assert_eq!(
        target, CALLBACK,
        "GitHub sends the error to the registered URL"
    );
    assert_eq!(params["error"], "redirect_uri_mismatch");

    let query = [("client_id", "unknown")];
    let response = get(&oauth.url(), GITHUB_AUTHORIZE_PATH, &query).await;
    assert_eq!(response.status().as_u16(), 404);
    assert!(!response.headers().contains_key("location"));
}
