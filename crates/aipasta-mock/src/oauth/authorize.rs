//! The sign-in pages, `GET /authorize` (OIDC) and `GET /login/oauth/authorize` (GitHub): they
//! check the request as the providers do, "sign in" a configured user with no UI, and redirect
//! back with a code (or an error).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::config::{MockClient, MockUser};
use super::params::Params;
use super::respond::{error_page, redirect};
use super::state::{Dialect, NewCode, OAuthState};
use super::{GITHUB_AUTHORIZE_PATH, OIDC_AUTHORIZE_PATH, pkce};
use crate::fault::ErrorShape;
use crate::state::Shared;

/// The scopes OIDC `/authorize` grants; `openid` is required.
const OIDC_SCOPES: [&str; 3] = ["openid", "email", "profile"];

const GITHUB_DOCS: &str =
    "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors";

pub(crate) async fn oidc_authorize(
    State(shared): State<Arc<Shared<OAuthState>>>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(fault) = shared
        .play_fault(OIDC_AUTHORIZE_PATH, ErrorShape::OAuth)
        .await
    {
        return fault;
    }
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    decide_oidc(&mut shared.lock().data, &params)
}

pub(crate) async fn github_authorize(
    State(shared): State<Arc<Shared<OAuthState>>>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(fault) = shared
        .play_fault(GITHUB_AUTHORIZE_PATH, ErrorShape::GitHub)
        .await
    {
        return fault;
    }
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    decide_github(&mut shared.lock().data, &params)
}

fn decide_oidc(state: &mut OAuthState, params: &Params) -> Response {
    if let Some(name) = params.repeated() {
        return bad_request(&format!("The parameter {name} was sent more than once."));
    }
    let client = match trusted_client(state, params) {
        Ok(client) => client,
        Err(message) => return bad_request(&message),
    };
    let Some(redirect_uri) = params.get("redirect_uri").map(str::to_owned) else {
        return bad_request("Missing required parameter: redirect_uri");
    };
    if !client.redirect_uris.contains(&redirect_uri) {
        return bad_request(&format!(
            "redirect_uri_mismatch: {redirect_uri} is not registered for client {}.",
            client.client_id
        ));
    }
    // From here the redirect URI is trusted, so errors go back to the app (RFC 6749 §4.1.2.1).
    let back = Back {
        redirect_uri: &redirect_uri,
        state: params.get("state"),
    };
    match params.get("response_type") {
        Some("code") => {}
        Some(_) => return back.error("unsupported_response_type", "Only response_type=code."),
        None => return back.error("invalid_request", "Missing response_type."),
    }
    let scopes: Vec<&str> = params
        .get("scope")
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    if !scopes.contains(&"openid") {
        return back.error("invalid_scope", "The openid scope is required.");
    }
    if let Some(unknown) = scopes.iter().find(|scope| !OIDC_SCOPES.contains(scope)) {
        return back.error("invalid_scope", &format!("Unknown scope: {unknown}"));
    }
    let code_challenge = match checked_challenge(params) {
        Ok(challenge) => challenge,
        Err(description) => return back.error("invalid_request", description),
    };
    if state.deny {
        return back.error("access_denied", "The user denied access.");
    }
    let user = match signing_in(state, params.get("login_hint"), |user, hint| {
        user.email.eq_ignore_ascii_case(hint)
    }) {
        Ok(user) => user,
        Err(message) => return bad_request(&message),
    };
    let code = state.issue_code(NewCode {
        dialect: Dialect::Oidc,
        client_id: client.client_id,
        redirect_uri: redirect_uri.clone(),
        user,
        scope: scopes.join(" "),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge,
    });
    back.with_code(&code)
}

fn decide_github(state: &mut OAuthState, params: &Params) -> Response {
    if let Some(name) = params.repeated() {
        return bad_request(&format!("The parameter {name} was sent more than once."));
    }
    // GitHub answers an unknown client with its 404 page.
    let Some(client) = params
        .get("client_id")
        .and_then(|id| state.client(id))
        .cloned()
    else {
        return error_page(StatusCode::NOT_FOUND, "No OAuth app has this client_id.");
    };
    let Some(registered) = client.redirect_uris.first().cloned() else {
        return bad_request("The client has no registered callback URL.");
    };
    let sent = params.get("redirect_uri");
    // GitHub sends a wrong redirect_uri's error to the registered callback URL (safe: it is
    // registered), and uses that URL when none is sent.
    let redirect_uri = match sent {
        Some(uri) if client.redirect_uris.iter().any(|known| known == uri) => uri.to_owned(),
        Some(_) => {
            let back = Back {
                redirect_uri: &registered,
                state: params.get("state"),
            };
            return back.github_error(
                "redirect_uri_mismatch",
                "The redirect_uri MUST match the registered callback URL for this application.",
                "#redirect-uri-mismatch",
            );
        }
        None => registered,
    };
    let back = Back {
        redirect_uri: &redirect_uri,
        state: params.get("state"),
    };
    let code_challenge = match checked_challenge(params) {
        Ok(challenge) => challenge,
        Err(description) => return back.error("invalid_request", description),
    };
    if state.deny {
        return back.github_error(
            "access_denied",
            "The user has denied your application access.",
            "#access-denied",
        );
    }
    let user = match signing_in(state, params.get("login"), |user, login| {
        user.github_login.eq_ignore_ascii_case(login)
    }) {
        Ok(user) => user,
        Err(message) => return bad_request(&message),
    };
    // GitHub takes space- (or comma-) separated scopes and reports them comma-separated.
    let scope = params
        .get("scope")
        .unwrap_or_default()
        .split([' ', ','])
        .filter(|scope| !scope.is_empty())
        .collect::<Vec<_>>()
        .join(",");
    let code = state.issue_code(NewCode {
        dialect: Dialect::GitHub,
        client_id: client.client_id,
        redirect_uri: redirect_uri.clone(),
        user,
        scope,
        nonce: None,
        code_challenge,
    });
    back.with_code(&code)
}

/// The client named by `client_id`, or why there is none (for the error page).
fn trusted_client(state: &OAuthState, params: &Params) -> Result<MockClient, String> {
    let Some(client_id) = params.get("client_id") else {
        return Err("Missing required parameter: client_id".to_owned());
    };
    state
        .client(client_id)
        .cloned()
        .ok_or_else(|| format!("invalid_client: no client {client_id}."))
}

/// The PKCE challenge, if sent: S256 only (a missing method means `plain`, which real providers
/// increasingly refuse and which the mock refuses so clients are tested with S256).
fn checked_challenge(params: &Params) -> Result<Option<String>, &'static str> {
    match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err("code_challenge_method was sent without code_challenge."),
        (Some(_), method) if method != Some("S256") => {
            Err("Only code_challenge_method=S256 is supported.")
        }
        (Some(challenge), _) if !pkce::is_s256_challenge(challenge) => {
            Err("code_challenge is not a base64url SHA-256 (43 characters).")
        }
        (Some(challenge), _) => Ok(Some(challenge.to_owned())),
    }
}

/// The user who signs in: the one the hint names, else the next user. A hint naming nobody is
/// a test's mistake, so it gets an error page saying so rather than someone else's account.
fn signing_in(
    state: &OAuthState,
    hint: Option<&str>,
    matches: impl Fn(&MockUser, &str) -> bool,
) -> Result<MockUser, String> {
    match hint {
        Some(hint) => state
            .users
            .iter()
            .find(|user| matches(user, hint))
            .cloned()
            .ok_or_else(|| format!("No mock user matches the hint {hint}.")),
        None => state
            .next_user
            .clone()
            .ok_or_else(|| "The mock has no user to sign in.".to_owned()),
    }
}

fn bad_request(message: &str) -> Response {
    error_page(StatusCode::BAD_REQUEST, message)
}

/// The way back to the app: its redirect URI and the `state` to echo.
struct Back<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
}

impl Back<'_> {
    fn with_code(&self, code: &str) -> Response {
        self.send(vec![("code", code)])
    }

    fn error(&self, error: &str, description: &str) -> Response {
        self.send(vec![("error", error), ("error_description", description)])
    }

    /// GitHub's errors also carry `error_uri`, a link to its troubleshooting docs.
    fn github_error(&self, error: &str, description: &str, anchor: &str) -> Response {
        let error_uri = format!("{GITHUB_DOCS}/{anchor}");
        self.send(vec![
            ("error", error),
            ("error_description", description),
            ("error_uri", &error_uri),
        ])
    }

    fn send<'a>(&'a self, mut pairs: Vec<(&'a str, &'a str)>) -> Response {
        if let Some(state) = self.state {
            pairs.push(("state", state));
        }
        redirect(self.redirect_uri, &pairs)
    }
}
