//! The OpenID Connect provider's machine-facing endpoints: discovery, `/token`, `/userinfo` and
//! `/jwks`, answering (and failing) as Google and other OIDC providers do.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::client_auth::{CredentialsError, authenticate, read_credentials};
use super::config::MockUser;
use super::jwt::sign_hs256;
use super::params::Params;
use super::respond::{bearer_token, no_store_json, oauth_error};
use super::state::{ACCESS_TOKEN_SECONDS, Dialect, OAuthState, Redemption};
use super::{
    OIDC_AUTHORIZE_PATH, OIDC_DISCOVERY_PATH, OIDC_JWKS_PATH, OIDC_TOKEN_PATH, OIDC_USERINFO_PATH,
};
use crate::fault::ErrorShape;
use crate::state::Shared;

type OAuthShared = Shared<OAuthState>;

pub(crate) async fn discovery(State(shared): State<Arc<OAuthShared>>) -> Response {
    if let Some(fault) = shared
        .play_fault(OIDC_DISCOVERY_PATH, ErrorShape::OAuth)
        .await
    {
        return fault;
    }
    let issuer = shared.lock().data.issuer.clone();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{OIDC_AUTHORIZE_PATH}"),
        "token_endpoint": format!("{issuer}{OIDC_TOKEN_PATH}"),
        "userinfo_endpoint": format!("{issuer}{OIDC_USERINFO_PATH}"),
        "jwks_uri": format!("{issuer}{OIDC_JWKS_PATH}"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["HS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
            "email", "email_verified", "name", "picture",
        ],
    }))
    .into_response()
}

/// HS256 `id_token`s are checked with the client secret, so there is no public key to publish;
/// the endpoint exists because discovery must name one and clients fetch it.
pub(crate) async fn jwks(State(shared): State<Arc<OAuthShared>>) -> Response {
    if let Some(fault) = shared.play_fault(OIDC_JWKS_PATH, ErrorShape::OAuth).await {
        return fault;
    }
    Json(json!({"keys": []})).into_response()
}

pub(crate) async fn token(
    State(shared): State<Arc<OAuthShared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = shared.play_fault(OIDC_TOKEN_PATH, ErrorShape::OAuth).await {
        return fault;
    }
    let params = Params::parse(&body);
    let mut inner = shared.lock();
    inner
        .data
        .posted_forms
        .push((OIDC_TOKEN_PATH.to_owned(), params.clone().into_pairs()));
    exchange(&mut inner.data, &headers, &params)
}

/// The authorization-code grant, checked in RFC 6749's order: the request, the client, then
/// the code.
fn exchange(state: &mut OAuthState, headers: &HeaderMap, params: &Params) -> Response {
    let invalid_request =
        |description: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description);
    if !is_form(headers) {
        return invalid_request("The body must be application/x-www-form-urlencoded.");
    }
    if let Some(name) = params.repeated() {
        return invalid_request(&format!("The parameter {name} was sent more than once."));
    }
    let credentials = match read_credentials(headers, params) {
        Ok(credentials) => credentials,
        Err(CredentialsError::TwoMethods) => {
            return invalid_request("The client used more than one authentication method.");
        }
        Err(CredentialsError::Missing | CredentialsError::MalformedBasic) => {
            return invalid_client();
        }
    };
    let Some(client) = authenticate(state, &credentials).cloned() else {
        return invalid_client();
    };
    match params.get("grant_type") {
        Some("authorization_code") => {}
        Some(other) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("Unsupported grant_type: {other}"),
            );
        }
        None => return invalid_request("Missing grant_type."),
    }
    let Some(code) = params.get("code") else {
        return invalid_request("Missing code.");
    };
    let redeemed = state.redeem(&Redemption {
        dialect: Dialect::Oidc,
        code,
        client_id: &client.client_id,
        redirect_uri: params.get("redirect_uri"),
        code_verifier: params.get("code_verifier"),
    });
    let (access_token, grant) = match redeemed {
        Ok(redeemed) => redeemed,
        Err(error) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                error.description(),
            );
        }
    };
    let now = unix_seconds();
    let mut claims = Map::new();
    claims.insert("iss".to_owned(), json!(state.issuer));
    claims.insert("sub".to_owned(), json!(grant.user.sub));
    claims.insert("aud".to_owned(), json!(client.client_id));
    claims.insert("exp".to_owned(), json!(now + ACCESS_TOKEN_SECONDS));
    claims.insert("iat".to_owned(), json!(now));
    claims.insert("auth_time".to_owned(), json!(now));
    if let Some(nonce) = &grant.nonce {
        claims.insert("nonce".to_owned(), json!(nonce));
    }
    claims.extend(profile_claims(&grant.user, &grant.scope));
    let id_token = sign_hs256(&Value::Object(claims), &client.client_secret);
    no_store_json(
        StatusCode::OK,
        json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "id_token": id_token,
            "scope": grant.scope,
        }),
    )
}

pub(crate) async fn userinfo(
    State(shared): State<Arc<OAuthShared>>,
    headers: HeaderMap,
) -> Response {
    if let Some(fault) = shared
        .play_fault(OIDC_USERINFO_PATH, ErrorShape::OAuth)
        .await
    {
        return fault;
    }
    // RFC 6750 §3: no credentials gets a bare challenge, a bad token says `invalid_token`.
    let Some(token) = bearer_token(&headers, false) else {
        return bearer_challenge("Bearer", json!({"error": "invalid_request"}));
    };
    let inner = shared.lock();
    let Some(grant) = inner.data.token(Dialect::Oidc, token) else {
        return bearer_challenge(
            "Bearer error=\"invalid_token\"",
            json!({
                "error": "invalid_token",
                "error_description": "The access token is unknown, expired or revoked.",
            }),
        );
    };
    let mut claims = Map::new();
    claims.insert("sub".to_owned(), json!(grant.user.sub));
    claims.extend(profile_claims(&grant.user, &grant.scope));
    Json(Value::Object(claims)).into_response()
}

/// The claims the granted scopes release (OIDC Core §5.4): `email` gives `email` and
/// `email_verified`; `profile` gives `name` (when set) and `picture` (when set).
fn profile_claims(user: &MockUser, scope: &str) -> Map<String, Value> {
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    let mut claims = Map::new();
    if scopes.contains(&"email") {
        claims.insert("email".to_owned(), json!(user.email));
        claims.insert("email_verified".to_owned(), json!(user.email_verified));
    }
    if scopes.contains(&"profile") {
        if !user.name.is_empty() {
            claims.insert("name".to_owned(), json!(user.name));
        }
        if let Some(picture) = &user.picture {
            claims.insert("picture".to_owned(), json!(picture));
        }
    }
    claims
}

fn invalid_client() -> Response {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed: unknown client_id or wrong client_secret.",
    )
}

fn bearer_challenge(challenge: &'static str, body: Value) -> Response {
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

/// Whether the body is declared as a form (parameters may follow the media type).
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}
