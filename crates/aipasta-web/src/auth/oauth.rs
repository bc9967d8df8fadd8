//! Signing in with GitHub, Google or any OpenID Connect provider (authorization code flow with
//! PKCE). The flow's state travels in a short-lived signed cookie, so nothing is stored before
//! the person comes back. A returning person is found by the provider's id for them; a new one
//! by a verified email, which links the identity to the existing account; otherwise a new
//! account is created.

use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use aipasta_core::account::{Email, Role};
use aipasta_core::clock::now_ms;
use aipasta_store::accounts::{self, NewUser, UserRow};

use super::api::{ClientInfo, respond_with_cookies, start_session};
use super::pages::safe_next;
use super::tokens::{derive_key, random_token};
use super::{Access, Routes};
use crate::chrome::cookie;
use crate::state::AppState;

/// Which dialect a provider speaks.
#[derive(Debug, Clone)]
pub enum ProviderKind {
    /// GitHub's OAuth 2.0 (not OIDC): `web_url` for the login pages, `api_url` for `/user`.
    GitHub { web_url: String, api_url: String },
    /// Any OpenID Connect provider, found through `{issuer}/.well-known/openid-configuration`.
    Oidc { issuer: String },
}

/// A configured sign-in provider.
#[derive(Clone)]
pub struct OAuthProvider {
    /// The key in URLs and in the identities table: `github`, `google`, or `oidc`.
    pub key: String,
    /// The button's label: "GitHub", "Google", or the configured OIDC name.
    pub label: String,
    pub client_id: String,
    pub client_secret: String,
    pub kind: ProviderKind,
}

impl std::fmt::Debug for OAuthProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthProvider")
            .field("key", &self.key)
            .field("label", &self.label)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("kind", &self.kind)
            .finish()
    }
}

pub fn routes() -> Routes {
    Routes::new()
        .get("/auth/oauth/{provider}", Access::Public, start)
        .get("/auth/callback/{provider}", Access::Public, callback)
}

const STATE_COOKIE: &str = "aipasta_oauth";
const FLOW_LIFETIME_MS: i64 = 10 * 60 * 1000;
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(15);

/// Token requests must not follow redirects (a redirect could carry the code elsewhere).
static OAUTH_HTTP: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PROVIDER_TIMEOUT)
        .user_agent(concat!("AIPasta/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
});

#[derive(Serialize, Deserialize)]
struct Flow {
    provider: String,
    state: String,
    verifier: String,
    next: String,
    expires: i64,
}

fn sign(state: &AppState, payload: &str) -> String {
    let key = derive_key(state.config.auth.secret(), "aipasta oauth state v1");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(payload.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

fn seal(state: &AppState, flow: &Flow) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(flow).unwrap_or_default());
    format!("{payload}.{}", sign(state, &payload))
}

fn open(state: &AppState, sealed: &str) -> Option<Flow> {
    let (payload, signature) = sealed.split_once('.')?;
    let expected = sign(state, payload);
    let same = expected.len() == signature.len()
        && expected
            .bytes()
            .zip(signature.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return None;
    }
    let flow: Flow = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (flow.expires > now_ms()).then_some(flow)
}

fn redirect(to: &str, cookies: Vec<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, value);
    }
    respond_with_cookies(response, cookies)
}

fn fail(reason: &str) -> Response {
    redirect(&format!("/auth/error?error={reason}"), Vec::new())
}

/// Where the provider sends the person back: on this site's address (see `site`), never one
/// a request's `Host` header made up.
fn callback_url(state: &AppState, headers: &HeaderMap, provider: &str) -> String {
    format!(
        "{}/auth/callback/{provider}",
        crate::site::base_url(state, headers)
    )
}

#[derive(Deserialize)]
struct Discovery {
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
}

/// The endpoints of a provider: (authorize, token, profile).
async fn endpoints(provider: &OAuthProvider) -> Result<(String, String, String), String> {
    match &provider.kind {
        ProviderKind::GitHub { web_url, api_url } => Ok((
            format!("{}/login/oauth/authorize", web_url.trim_end_matches('/')),
            format!("{}/login/oauth/access_token", web_url.trim_end_matches('/')),
            format!("{}/user", api_url.trim_end_matches('/')),
        )),
        ProviderKind::Oidc { issuer } => {
            let url = format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            );
            let discovery: Discovery = OAUTH_HTTP
                .get(&url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| format!("discovery at {url} failed: {e}"))?
                .json()
                .await
                .map_err(|e| format!("discovery at {url} answered something else: {e}"))?;
            Ok((
                discovery.authorization_endpoint,
                discovery.token_endpoint,
                discovery.userinfo_endpoint,
            ))
        }
    }
}

fn find_provider<'a>(state: &'a AppState, key: &str) -> Option<&'a OAuthProvider> {
    state.config.auth.oauth.iter().find(|p| p.key == key)
}

#[derive(Deserialize)]
struct StartQuery {
    next: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Query(query): Query<StartQuery>,
) -> Response {
    let Some(provider) = find_provider(&state, &key) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (authorize, token, _) = match endpoints(provider).await {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(provider = %key, %error, "sign-in provider unavailable");
            return fail("provider");
        }
    };
    let (Ok(auth_url), Ok(token_url), Ok(redirect_url)) = (
        AuthUrl::new(authorize),
        TokenUrl::new(token),
        RedirectUrl::new(callback_url(&state, &headers, &key)),
    ) else {
        return fail("provider");
    };
    let client = BasicClient::new(ClientId::new(provider.client_id.clone()))
        .set_client_secret(ClientSecret::new(provider.client_secret.clone()))
        .set_auth_uri(auth_url)
        .set_token_uri(token_url)
        .set_redirect_uri(redirect_url);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let scopes: &[&str] = match provider.kind {
        ProviderKind::GitHub { .. } => &["read:user", "user:email"],
        ProviderKind::Oidc { .. } => &["openid", "email", "profile"],
    };
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    if matches!(provider.kind, ProviderKind::Oidc { .. }) {
        request = request.add_extra_param("nonce", random_token(16));
    }
    let (url, csrf) = request.url();
    let flow = Flow {
        provider: key.clone(),
        state: csrf.secret().clone(),
        verifier: verifier.secret().clone(),
        next: safe_next(query.next.as_deref()),
        expires: now_ms() + FLOW_LIFETIME_MS,
    };
    let auth = &state.config.auth;
    let cookie = auth.cookie(
        STATE_COOKIE,
        &seal(&state, &flow),
        Some(Duration::from_millis(FLOW_LIFETIME_MS as u64)),
    );
    redirect(url.as_str(), vec![cookie])
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Who the provider says the person is.
struct ProviderProfile {
    id: String,
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
    picture: Option<String>,
}

async fn github_profile(api_user_url: &str, access_token: &str) -> Result<ProviderProfile, String> {
    #[derive(Deserialize)]
    struct User {
        id: i64,
        login: String,
        name: Option<String>,
        avatar_url: Option<String>,
    }
    #[derive(Deserialize)]
    struct EmailEntry {
        email: String,
        primary: bool,
        verified: bool,
    }
    let user: User = OAUTH_HTTP
        .get(api_user_url)
        .bearer_auth(access_token)
        .header("accept", "application/vnd.github+json")
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let emails: Vec<EmailEntry> = OAUTH_HTTP
        .get(format!("{api_user_url}/emails"))
        .bearer_auth(access_token)
        .header("accept", "application/vnd.github+json")
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let primary = emails.iter().find(|e| e.primary);
    Ok(ProviderProfile {
        id: user.id.to_string(),
        email: primary.map(|e| e.email.clone()),
        email_verified: primary.is_some_and(|e| e.verified),
        name: user.name.or(Some(user.login)),
        picture: user.avatar_url,
    })
}

async fn oidc_profile(userinfo_url: &str, access_token: &str) -> Result<ProviderProfile, String> {
    #[derive(Deserialize)]
    struct UserInfo {
        sub: String,
        email: Option<String>,
        #[serde(default)]
        email_verified: bool,
        name: Option<String>,
        picture: Option<String>,
    }
    let info: UserInfo = OAUTH_HTTP
        .get(userinfo_url)
        .bearer_auth(access_token)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    Ok(ProviderProfile {
        id: info.sub,
        email: info.email,
        email_verified: info.email_verified,
        name: info.name,
        picture: info.picture,
    })
}

async fn callback(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let auth = &state.config.auth;
    let clear = auth.expired_cookie(STATE_COOKIE);
    let flow = cookie(&headers, STATE_COOKIE).and_then(|sealed| open(&state, sealed));
    let Some(flow) = flow.filter(|f| f.provider == key && Some(&f.state) == query.state.as_ref())
    else {
        return respond_with_cookies(fail("state"), vec![clear]);
    };
    if let Some(error) = query.error {
        let reason = if error == "access_denied" {
            "access_denied"
        } else {
            "provider"
        };
        return respond_with_cookies(fail(reason), vec![clear]);
    }
    let (Some(provider), Some(code)) = (find_provider(&state, &key), query.code) else {
        return respond_with_cookies(fail("provider"), vec![clear]);
    };
    let profile = match exchange(&state, provider, &headers, &key, code, flow.verifier).await {
        Ok(profile) => profile,
        Err(error) => {
            tracing::warn!(provider = %key, %error, "sign-in with a provider failed");
            return respond_with_cookies(fail("provider"), vec![clear]);
        }
    };
    let user = match find_or_create(&state, &key, &profile).await {
        Ok(user) => user,
        Err(reason) => return respond_with_cookies(fail(reason), vec![clear]),
    };
    let client = ClientInfo::from_request(&headers, Some(address));
    match start_session(&state, &user, &client).await {
        Ok(mut cookies) => {
            cookies.push(clear);
            // Checked when the flow began and signed since; checked again so the one rule
            // `safe_next` keeps is the last word on every redirect.
            redirect(&safe_next(Some(&flow.next)), cookies)
        }
        Err(_) => respond_with_cookies(fail("provider"), vec![clear]),
    }
}

async fn exchange(
    state: &AppState,
    provider: &OAuthProvider,
    headers: &HeaderMap,
    key: &str,
    code: String,
    verifier: String,
) -> Result<ProviderProfile, String> {
    let (authorize, token, profile_url) = endpoints(provider).await?;
    let client = BasicClient::new(ClientId::new(provider.client_id.clone()))
        .set_client_secret(ClientSecret::new(provider.client_secret.clone()))
        .set_auth_uri(AuthUrl::new(authorize).map_err(|e| e.to_string())?)
        .set_token_uri(TokenUrl::new(token).map_err(|e| e.to_string())?)
        .set_redirect_uri(
            RedirectUrl::new(callback_url(state, headers, key)).map_err(|e| e.to_string())?,
        )
        // Both GitHub and the mock accept credentials in the form; Basic auth is also standard.
        .set_auth_type(oauth2::AuthType::RequestBody);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&*OAUTH_HTTP)
        .await
        .map_err(|e| format!("token exchange failed: {e}"))?;
    let access_token = tokens.access_token().secret();
    match provider.kind {
        ProviderKind::GitHub { .. } => github_profile(&profile_url, access_token).await,
        ProviderKind::Oidc { .. } => oidc_profile(&profile_url, access_token).await,
    }
}

/// The account for this identity; answers an error reason for `/auth/error` when there is none.
async fn find_or_create(
    state: &AppState,
    key: &str,
    profile: &ProviderProfile,
) -> Result<UserRow, &'static str> {
    let db = &state.db;
    if let Some(user) = accounts::find_identity(db, key, &profile.id)
        .await
        .map_err(|_| "provider")?
    {
        return if user.status == "active" {
            Ok(user)
        } else {
            Err("suspended")
        };
    }
    let email = profile
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or("unverified")?;
    if let Some(user) = accounts::find_user_by_email(db, email.as_str())
        .await
        .map_err(|_| "provider")?
    {
        // Linking to an existing account needs the provider to vouch for the address.
        if !profile.email_verified {
            return Err("unverified");
        }
        if user.status != "active" {
            return Err("suspended");
        }
        accounts::link_identity(db, &user.id, key, &profile.id, Some(email.as_str()))
            .await
            .map_err(|_| "provider")?;
        return Ok(user);
    }
    let admin = state
        .config
        .auth
        .admin_emails
        .iter()
        .any(|e| e == email.as_str())
        && profile.email_verified;
    let name = profile
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| {
            email
                .as_str()
                .split('@')
                .next()
                .unwrap_or("New user")
                .to_owned()
        });
    let new = NewUser {
        email: email.as_str().to_owned(),
        name: name.chars().take(100).collect(),
        password_hash: None,
        role: if admin { Role::Admin } else { Role::User }
            .as_str()
            .to_owned(),
        email_verified: profile.email_verified,
        image: profile
            .picture
            .clone()
            .filter(|p| p.starts_with("https://") || p.starts_with("http://")),
        identity: (key.to_owned(), profile.id.clone()),
    };
    accounts::create_user(db, &new)
        .await
        .map_err(|_| "provider")
}
