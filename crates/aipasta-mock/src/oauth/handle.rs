//! The [`MockOAuth`] handle: starting the provider on `127.0.0.1:0`, scripting it while it runs
//! (users, clients, redirect URIs, denial, faults) and inspecting what it received.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use tokio::net::TcpListener;
use tokio::sync::watch;
use url::Url;

use super::config::{MockClient, MockOAuthConfig, MockUser};
use super::state::OAuthState;
use super::{GITHUB_AUTHORIZE_PATH, OIDC_AUTHORIZE_PATH, routes};
use crate::fault::Fault;
use crate::record::{RecordedRequest, record_request};
use crate::spawn::serve_until_stopped;
use crate::state::Shared;

/// A running mock sign-in provider. Its URL is the OIDC issuer and GitHub's web URL; GitHub's
/// API is at [`MockOAuth::github_api_url`]. Dropping it stops the server.
pub struct MockOAuth {
    pub address: SocketAddr,
    shared: Arc<Shared<OAuthState>>,
    shutdown: watch::Sender<bool>,
}

impl MockOAuth {
    /// Starts the provider on a free loopback port. Panics if no port can be bound: this is test
    /// tooling, and a test cannot go on without its provider.
    pub async fn start(config: MockOAuthConfig) -> MockOAuth {
        match MockOAuth::try_start(config).await {
            Ok(server) => server,
            Err(error) => panic!("the mock OAuth server could not bind 127.0.0.1:0: {error}"),
        }
    }

    /// Starts the provider on a free loopback port.
    pub async fn try_start(config: MockOAuthConfig) -> io::Result<MockOAuth> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let (shutdown, stopping) = watch::channel(false);
        let shared = Arc::new(Shared::new(
            OAuthState::new(format!("http://{address}"), config),
            shutdown.subscribe(),
        ));
        let app = Router::new()
            .merge(routes())
            .fallback(|| async { (StatusCode::NOT_FOUND, "no such mock route") })
            .layer(middleware::from_fn_with_state(
                shared.clone(),
                record_request,
            ))
            .with_state(shared.clone());
        serve_until_stopped(listener, app, stopping);
        Ok(MockOAuth {
            address,
            shared,
            shutdown,
        })
    }

    /// The server's root, e.g. `http://127.0.0.1:41234`: the OIDC issuer (discovery at
    /// `{url}/.well-known/openid-configuration`) and GitHub's web URL (`{url}/login/oauth/...`).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// GitHub's REST API base URL: `{url}/api` (so `/user` is `{url}/api/user`).
    pub fn github_api_url(&self) -> String {
        format!("{}/api", self.url())
    }

    /// Makes `user` the one who signs in when a request names nobody (no `login_hint`, GitHub
    /// `login`); the user is added (or replaced, by `sub`) too.
    pub fn set_next_user(&self, user: MockUser) {
        let mut inner = self.shared.lock();
        inner.data.upsert_user(user.clone());
        inner.data.next_user = Some(user);
    }

    /// Adds a user (or replaces the one with the same `sub`), e.g. to sign in by hint.
    pub fn add_user(&self, user: MockUser) {
        self.shared.lock().data.upsert_user(user);
    }

    /// Adds a client (or replaces the one with the same `client_id`).
    pub fn add_client(&self, client: MockClient) {
        self.shared.lock().data.upsert_client(client);
    }

    /// Registers one more redirect URI for a client, typically the app's callback once its port
    /// is known. Panics on an unknown client or a URI that is not absolute: a test mistake.
    pub fn register_redirect_uri(&self, client_id: &str, redirect_uri: &str) {
        if let Err(error) = Url::parse(redirect_uri) {
            panic!("redirect URI {redirect_uri} is not an absolute URL: {error}");
        }
        let mut inner = self.shared.lock();
        let Some(client) = inner
            .data
            .clients
            .iter_mut()
            .find(|client| client.client_id == client_id)
        else {
            panic!("no mock OAuth client {client_id}");
        };
        if !client
            .redirect_uris
            .iter()
            .any(|known| known == redirect_uri)
        {
            client.redirect_uris.push(redirect_uri.to_owned());
        }
    }

    /// While `true`, every sign-in is refused as if the person pressed "Cancel": the redirect
    /// carries `error=access_denied` (and the `state`).
    pub fn set_deny(&self, deny: bool) {
        self.shared.lock().data.deny = deny;
    }

    /// How long codes stay redeemable (60 s unless changed); a short one tests expiry.
    pub fn set_code_lifetime(&self, lifetime: Duration) {
        self.shared.lock().data.code_lifetime = lifetime;
    }

    /// Revokes every access token issued so far (OIDC and GitHub), as when a person revokes the
    /// app at the provider.
    pub fn revoke_tokens(&self) {
        self.shared.lock().data.revoke_tokens();
    }

    /// Scripts (or with `None` clears) a fault on one route, by path (e.g.
    /// [`super::OIDC_TOKEN_PATH`]); status faults answer in the route's error shape (RFC 6749
    /// JSON for OIDC, GitHub's `{"message", ...}` for GitHub). It stays until cleared.
    pub fn set_fault(&self, path: &str, fault: Option<Fault>) {
        self.shared.set_fault(path, fault);
    }

    /// How many requests arrived for this path (any method, any query).
    pub fn request_count(&self, path: &str) -> usize {
        self.shared.request_count(path)
    }

    /// The requests that arrived for this path, oldest first (of the last 1000 requests).
    pub fn requests(&self, path: &str) -> Vec<RecordedRequest> {
        self.shared.requests(path)
    }

    /// The form bodies posted to a token endpoint ([`super::OIDC_TOKEN_PATH`],
    /// [`super::GITHUB_TOKEN_PATH`]), oldest first, decoded, e.g. to check `code_verifier`.
    pub fn posted_forms(&self, path: &str) -> Vec<Vec<(String, String)>> {
        self.shared
            .lock()
            .data
            .posted_forms
            .iter()
            .filter(|(posted_to, _)| posted_to == path)
            .map(|(_, form)| form.clone())
            .collect()
    }

    /// The `nonce` of the last sign-in request (OIDC or GitHub), if it had one.
    pub fn last_nonce(&self) -> Option<String> {
        self.last_authorize_param("nonce")
    }

    /// The `code_challenge` of the last sign-in request, if it had one.
    pub fn last_code_challenge(&self) -> Option<String> {
        self.last_authorize_param("code_challenge")
    }

    /// The `state` of the last sign-in request, if it had one.
    pub fn last_state(&self) -> Option<String> {
        self.last_authorize_param("state")
    }

    fn last_authorize_param(&self, name: &str) -> Option<String> {
        self.shared
            .lock()
            .requests
            .iter()
            .rev()
            .find(|request| {
                request.path == OIDC_AUTHORIZE_PATH || request.path == GITHUB_AUTHORIZE_PATH
            })
            .and_then(|request| request.query_param(name))
            .map(str::to_owned)
    }
}

impl Drop for MockOAuth {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}
