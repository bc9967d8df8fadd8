//! [`MockOAuth`]: a mock sign-in provider speaking OpenID Connect (as Google and generic OIDC
//! providers) and GitHub's OAuth 2.0 dialect, so sign-in is tested end to end without a real
//! provider.

mod authorize;
mod client_auth;
mod config;
mod github;
mod handle;
mod jwt;
mod oidc;
mod params;
mod pkce;
mod respond;
mod state;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use config::{MockClient, MockOAuthConfig, MockUser};
pub use handle::MockOAuth;

use crate::state::Shared;

/// OIDC discovery; the issuer is the server's URL.
pub const OIDC_DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// OIDC (and Google) sign-in page.
pub const OIDC_AUTHORIZE_PATH: &str = "/authorize";
/// OIDC token endpoint (authorization-code grant).
pub const OIDC_TOKEN_PATH: &str = "/token";
/// OIDC userinfo endpoint.
pub const OIDC_USERINFO_PATH: &str = "/userinfo";
/// OIDC key set: always empty, `id_token`s are HS256 with the client secret.
pub const OIDC_JWKS_PATH: &str = "/jwks";
/// GitHub's sign-in page (`https://github.com/login/oauth/authorize`).
pub const GITHUB_AUTHORIZE_PATH: &str = "/login/oauth/authorize";
/// GitHub's token endpoint (`https://github.com/login/oauth/access_token`).
pub const GITHUB_TOKEN_PATH: &str = "/login/oauth/access_token";
/// GitHub's `GET /user` (`https://api.github.com/user`); the API base is `{url}/api`.
pub const GITHUB_USER_PATH: &str = "/api/user";
/// GitHub's `GET /user/emails`.
pub const GITHUB_EMAILS_PATH: &str = "/api/user/emails";

fn routes() -> Router<Arc<Shared<state::OAuthState>>> {
    Router::new()
        .route(OIDC_DISCOVERY_PATH, get(oidc::discovery))
        .route(OIDC_AUTHORIZE_PATH, get(authorize::oidc_authorize))
        .route(OIDC_TOKEN_PATH, post(oidc::token))
        .route(OIDC_USERINFO_PATH, get(oidc::userinfo))
        .route(OIDC_JWKS_PATH, get(oidc::jwks))
        .route(GITHUB_AUTHORIZE_PATH, get(authorize::github_authorize))
        .route(GITHUB_TOKEN_PATH, post(github::access_token))
        .route(GITHUB_USER_PATH, get(github::user))
        .route(GITHUB_EMAILS_PATH, get(github::emails))
}
