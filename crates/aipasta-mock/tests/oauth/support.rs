//! Helpers the flows share: a non-redirecting client, PKCE pairs, reading a redirect, and an
//! HS256 check written independently of the mock's own.

use std::collections::HashMap;

use aipasta_mock::{MockOAuth, MockOAuthConfig};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use reqwest::{Response, redirect};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "mock-client-id";
pub const CLIENT_SECRET: &str = "mock-client-secret";
/// The app's callback; nothing listens there because redirects are not followed.
pub const CALLBACK: &str = "http://127.0.0.1:9/auth/callback";

/// Like a browser that stops at each redirect, with a `User-Agent` (GitHub requires one).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .user_agent("aipasta-mock-tests")
        .build()
        .unwrap()
}

/// The default provider with the app's callback registered after start, as tests will do.
pub async fn start() -> MockOAuth {
    let oauth = MockOAuth::start(MockOAuthConfig::default()).await;
    oauth.register_redirect_uri(CLIENT_ID, CALLBACK);
    oauth
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

/// A fresh PKCE pair computed here, not by the mock.
pub fn pkce(seed: char) -> Pkce {
    let verifier: String = std::iter::repeat_n(seed, 64).collect();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

/// `GET {url}{path}?{query}`.
pub async fn get(url: &str, path: &str, query: &[(&str, &str)]) -> Response {
    client()
        .get(format!("{url}{path}"))
        .query(query)
        .send()
        .await
        .unwrap()
}

/// A 302's target split into its URL without query and its query parameters.
pub fn redirect_target(response: &Response) -> (String, HashMap<String, String>) {
    assert_eq!(response.status().as_u16(), 302, "expected a redirect");
    let location = response.headers()["location"].to_str().unwrap();
    let url = url::Url::parse(location).unwrap();
    let params = url.query_pairs().into_owned().collect();
    let mut bare = url.clone();
    bare.set_query(None);
    (bare.to_string(), params)
}

/// Checks an HS256 JWT's header and signature with `secret` and returns its claims.
pub fn verify_hs256(token: &str, secret: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS has three parts");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    mac.verify_slice(&signature)
        .expect("the id_token signature does not verify with the client secret");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
}
