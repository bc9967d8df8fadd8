//! GitHub's OAuth dialect (not OIDC): `POST /login/oauth/access_token` answers errors with
//! status 200, form-encoded unless JSON is asked for; then the REST API's `/user` and
//! `/user/emails` (served under `/api`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use url::form_urlencoded;

use super::client_auth::{authenticate, read_credentials};
use super::params::Params;
use super::respond::bearer_token;
use super::state::{Dialect, OAuthState, RedeemError, Redemption, TokenGrant};
use super::{GITHUB_EMAILS_PATH, GITHUB_TOKEN_PATH, GITHUB_USER_PATH};
use crate::fault::ErrorShape;
use crate::state::Shared;

type OAuthShared = Shared<OAuthState>;

const TOKEN_DOCS: &str = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";

pub(crate) async fn access_token(
    State(shared): State<Arc<OAuthShared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = shared
        .play_fault(GITHUB_TOKEN_PATH, ErrorShape::GitHub)
        .await
    {
        return fault;
    }
    let params = Params::parse(&body);
    let json = accepts_json(&headers);
    let mut inner = shared.lock();
    inner
        .data
        .posted_forms
        .push((GITHUB_TOKEN_PATH.to_owned(), params.clone().into_pairs()));
    match exchange(&mut inner.data, &headers, &params) {
        Ok((access_token, scope)) => token_answer(
            json,
            &[
                ("access_token", access_token.as_str()),
                ("token_type", "bearer"),
                ("scope", scope.as_str()),
            ],
        ),
        Err((error, description, anchor)) => token_answer(
            json,
            &[
                ("error", error),
                ("error_description", description),
                ("error_uri", &format!("{TOKEN_DOCS}/#{anchor}")),
            ],
        ),
    }
}

/// `(error, error_description, docs anchor)`, GitHub's wording.
type GitHubError = (&'static str, &'static str, &'static str);

fn exchange(
    state: &mut OAuthState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<(String, String), GitHubError> {
    const BAD_CLIENT: GitHubError = (
        "incorrect_client_credentials",
        "The client_id and/or client_secret passed are incorrect.",
        "incorrect-client-credentials",
    );
    const BAD_CODE: GitHubError = (
        "bad_verification_code",
        "The code passed is incorrect or expired.",
        "bad-verification-code",
    );
    let credentials = read_credentials(headers, params).map_err(|_| BAD_CLIENT)?;
    let client_id = authenticate(state, &credentials)
        .ok_or(BAD_CLIENT)?
        .client_id
        .clone();
    let code = params.get("code").ok_or(BAD_CODE)?;
    let redeemed = state.redeem(&Redemption {
        dialect: Dialect::GitHub,
        code,
        client_id: &client_id,
        redirect_uri: params.get("redirect_uri"),
        code_verifier: params.get("code_verifier"),
    });
    match redeemed {
        Ok((token, grant)) => Ok((token, grant.scope)),
        Err(RedeemError::RedirectUriMismatch) => Err((
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
            "redirect-uri-mismatch",
        )),
        // GitHub gives one answer for every other bad code (wrong PKCE verifier included).
        Err(_) => Err(BAD_CODE),
    }
}

/// Status 200 either way: JSON when `Accept: application/json`, otherwise GitHub's default
/// form encoding (`access_token=...&scope=...&token_type=bearer`).
fn token_answer(json: bool, pairs: &[(&str, &str)]) -> Response {
    if json {
        let body: serde_json::Map<String, Value> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), json!(value)))
            .collect();
        return Json(Value::Object(body)).into_response();
    }
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

pub(crate) async fn user(State(shared): State<Arc<OAuthShared>>, headers: HeaderMap) -> Response {
    if let Some(fault) = shared
        .play_fault(GITHUB_USER_PATH, ErrorShape::GitHub)
        .await
    {
        return fault;
    }
    let inner = shared.lock();
    let grant = match api_grant(&inner.data, &headers) {
        Ok(grant) => grant,
        Err(refusal) => return refusal.into_response(),
    };
    let user = &grant.user;
    // GitHub ids are numbers; a test configuring another sub for GitHub should hear about it.
    let Ok(id) = user.sub.parse::<u64>() else {
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The mock user's sub must be numeric to be a GitHub user id.",
            "https://docs.github.com/rest",
        );
    };
    let avatar_url = user
        .picture
        .clone()
        .unwrap_or_else(|| format!("{}/avatars/{id}", inner.data.issuer));
    let body = json!({
        "login": user.github_login,
        "id": id,
        "node_id": format!("U_mock{id}"),
        "avatar_url": avatar_url,
        "html_url": format!("https://github.com/{}", user.github_login),
        "type": "User",
        "site_admin": false,
        "name": (!user.name.is_empty()).then_some(&user.name),
        "email": user.github_email_public.then_some(&user.email),
    });
    with_scopes_header(Json(body).into_response(), grant)
}

pub(crate) async fn emails(State(shared): State<Arc<OAuthShared>>, headers: HeaderMap) -> Response {
    if let Some(fault) = shared
        .play_fault(GITHUB_EMAILS_PATH, ErrorShape::GitHub)
        .await
    {
        return fault;
    }
    let inner = shared.lock();
    let grant = match api_grant(&inner.data, &headers) {
        Ok(grant) => grant,
        Err(refusal) => return refusal.into_response(),
    };
    // Without `user:email` (or `user`) GitHub hides the list behind a 404.
    if !grant
        .scope
        .split(',')
        .any(|scope| scope == "user:email" || scope == "user")
    {
        return api_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user",
        );
    }
    let user = &grant.user;
    // GitHub lists the noreply address too; it comes first here so apps that take the first
    // entry instead of the primary one fail their tests.
    let body = json!([
        {
            "email": format!("{}+{}@users.noreply.github.com", user.sub, user.github_login),
            "primary": false,
            "verified": true,
            "visibility": null,
        },
        {
            "email": user.email,
            "primary": true,
            "verified": user.email_verified,
            "visibility": if user.github_email_public { "public" } else { "private" },
        },
    ]);
    with_scopes_header(Json(body).into_response(), grant)
}

/// Why GitHub's API refuses a request before looking at what it asks.
enum Refusal {
    /// GitHub requires a `User-Agent` (and reqwest sends none by default): 403.
    NoUserAgent,
    NoToken,
    BadToken,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::NoUserAgent => (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Request forbidden by administrative rules. Please make sure your request has a \
                 User-Agent header (https://docs.github.com/rest/overview/resources-in-the-rest-api#user-agent-required).",
            )
                .into_response(),
            Refusal::NoToken => api_error(
                StatusCode::UNAUTHORIZED,
                "Requires authentication",
                "https://docs.github.com/rest/users/users#get-the-authenticated-user",
            ),
            Refusal::BadToken => api_error(
                StatusCode::UNAUTHORIZED,
                "Bad credentials",
                "https://docs.github.com/rest",
            ),
        }
    }
}

/// The live GitHub token grant behind an API request.
fn api_grant<'a>(state: &'a OAuthState, headers: &HeaderMap) -> Result<&'a TokenGrant, Refusal> {
    if !headers.contains_key(header::USER_AGENT) {
        return Err(Refusal::NoUserAgent);
    }
    let token = bearer_token(headers, true).ok_or(Refusal::NoToken)?;
    state.token(Dialect::GitHub, token).ok_or(Refusal::BadToken)
}

/// The REST API's error body.
fn api_error(status: StatusCode, message: &str, documentation_url: &str) -> Response {
    let body = json!({
        "message": message,
        "documentation_url": documentation_url,
        "status": status.as_u16().to_string(),
    });
    (status, Json(body)).into_response()
}

/// GitHub reports the token's scopes in `X-OAuth-Scopes` (comma and space separated).
fn with_scopes_header(mut response: Response, grant: &TokenGrant) -> Response {
    let scopes = grant.scope.split(',').collect::<Vec<_>>().join(", ");
    if let Ok(value) = HeaderValue::from_str(&scopes) {
        response.headers_mut().insert("x-oauth-scopes", value);
    }
    response
}

fn accepts_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("application/json"))
}
