//! Resolving the caller once per request: a bearer JWT, a personal API key, or the session
//! cookie. The result sits in the request's extensions for the access rules and handlers.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use aipasta_core::account::{Role, Scope};
use aipasta_core::clock::now_ms;
use aipasta_store::accounts::{self, UserRow};

use super::tokens::{API_KEY_PREFIX, sha256_hex, verify_jwt};
use crate::chrome::cookie;
use crate::error::ApiError;
use crate::state::AppState;

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A browser session (the row id, i.e. the token's hash).
    Session { session_id: String },
    /// The JWT from `/api/auth/signin`.
    Bearer,
    /// A personal API key and its scopes.
    ApiKey { key_id: String, scopes: Vec<Scope> },
}

/// A signed-in, active account.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Shared: a cached bearer caller is handed to many requests.
    pub user: Arc<UserRow>,
    pub role: Role,
    pub credential: Credential,
}

impl Caller {
    pub fn id(&self) -> &str {
        &self.user.id
    }

    pub fn is_api_key(&self) -> bool {
        matches!(self.credential, Credential::ApiKey { .. })
    }

    /// Authenticated by a bearer JWT or API key the client sent itself, which a browser never
    /// adds to a forged request (unlike a cookie).
    pub fn is_bearer(&self) -> bool {
        !matches!(self.credential, Credential::Session { .. })
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        match &self.credential {
            Credential::ApiKey { scopes, .. } => scopes.contains(&scope),
            _ => true,
        }
    }

    pub fn session_id(&self) -> Option<&str> {
        match &self.credential {
            Credential::Session { session_id } => Some(session_id),
            _ => None,
        }
    }
}

/// The caller of this request, if any.
#[derive(Debug, Clone, Default)]
pub struct Identity(pub Option<Caller>);

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Identity, Infallible> {
        Ok(parts
            .extensions
            .get::<Identity>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The signed-in caller; handlers behind an access rule other than `Public` can rely on it.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Caller, ApiError> {
        parts
            .extensions
            .get::<Identity>()
            .and_then(|identity| identity.0.clone())
            .ok_or_else(|| {
                ApiError::new(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "Sign in first.",
                )
            })
    }
}

fn role_of(user: &UserRow, admin_emails: &[String]) -> Role {
    if admin_emails.iter().any(|e| e == &user.email) {
        return Role::Admin;
    }
    Role::parse(&user.role).unwrap_or(Role::User)
}

/// What the `Authorization` header offers.
#[derive(Debug, PartialEq, Eq)]
enum Authorization<'a> {
    /// No header, or another scheme (`Basic` from a proxy, `Negotiate`, ...): not ours, so the
    /// request is judged by its cookie alone.
    NotBearer,
    /// The `Bearer` scheme (in any case, RFC 7235) with one token.
    Bearer(&'a str),
    /// The `Bearer` scheme without a usable token (none, several words, not ASCII).
    MalformedBearer,
}

fn authorization(headers: &HeaderMap) -> Authorization<'_> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Authorization::NotBearer;
    };
    let bytes = value.as_bytes();
    let scheme_end = bytes
        .iter()
        .position(|b| *b == b' ' || *b == b'\t')
        .unwrap_or(bytes.len());
    if !bytes[..scheme_end].eq_ignore_ascii_case(b"bearer") {
        return Authorization::NotBearer;
    }
    let token = std::str::from_utf8(&bytes[scheme_end..])
        .map(|rest| rest.trim_matches([' ', '\t']))
        .unwrap_or_default();
    if token.is_empty() || token.contains([' ', '\t']) || !token.is_ascii() {
        return Authorization::MalformedBearer;
    }
    Authorization::Bearer(token)
}

fn invalid_bearer() -> Response {
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "invalid_token",
        "The bearer token or API key is invalid, expired or revoked.",
    )
    .into_response()
}

/// Finds the caller of a request with these headers. A bearer credential that does not check
/// out is a 401 at once (a client that sends one expects it to work); a stale session cookie
/// is just anonymous. Any other `Authorization` scheme is ignored: the cookie decides, and the
/// request is then a cookie request in every way (CSRF included).
pub async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Identity, Response> {
    let caller = match authorization(headers) {
        Authorization::Bearer(token) => match bearer_caller(state, token).await {
            Ok(Some(caller)) => Some(caller),
            Ok(None) => return Err(invalid_bearer()),
            Err(error) => return Err(error.into_response()),
        },
        Authorization::MalformedBearer => return Err(invalid_bearer()),
        Authorization::NotBearer => match cookie(headers, state.config.auth.session_cookie()) {
            Some(token) => session_caller(state, token).await,
            None => None,
        },
    };
    Ok(Identity(caller))
}

/// The caller a bearer JWT or API key stands for; `None` when it does not check out. Recently
/// resolved credentials come from [`CallerCache`](super::callers::CallerCache).
async fn bearer_caller(state: &AppState, token: &str) -> Result<Option<Caller>, ApiError> {
    let auth = &state.config.auth;
    let now = now_ms();
    let cache_key;
    let expires_at;
    // Read before the rows, so a change racing with the read leaves the entry stale.
    let version = state.db.accounts_version();
    let found = if token.starts_with(API_KEY_PREFIX) {
        let hash = sha256_hex(token);
        cache_key = format!("key:{hash}");
        if let Some(caller) = state.callers.get(&cache_key, version, now) {
            return Ok(Some(caller));
        }
        match accounts::find_api_key(&state.db, &hash).await? {
            Some((key, user)) => {
                let scopes: Vec<String> = serde_json::from_str(&key.scopes).unwrap_or_default();
                let scopes = scopes.iter().filter_map(|s| Scope::parse(s)).collect();
                expires_at = key.expires_at;
                Some((
                    user,
                    Credential::ApiKey {
                        key_id: key.id,
                        scopes,
                    },
                ))
            }
            None => return Ok(None),
        }
    } else {
        // The signature, expiry and issue time are checked on every request; only the account
        // is cached (and it holds `tokens_valid_after`, moved by a password change or a
        // sign-out, which also make the cached entry stale).
        let Some(claims) = verify_jwt(token, auth.jwt_key(), now / 1000) else {
            return Ok(None);
        };
        let issued_at = claims.issued_at_ms();
        cache_key = format!("jwt:{}", claims.sub);
        if let Some(caller) = state.callers.get(&cache_key, version, now) {
            return Ok((issued_at > caller.user.tokens_valid_after).then_some(caller));
        }
        expires_at = None;
        accounts::find_user_by_id(&state.db, &claims.sub)
            .await?
            .filter(|u| u.status == "active" && issued_at > u.tokens_valid_after)
            .map(|u| (u, Credential::Bearer))
    };
    let Some((user, credential)) = found else {
        return Ok(None);
    };
    let caller = Caller {
        role: role_of(&user, &auth.admin_emails),
        user: Arc::new(user),
        credential,
    };
    state
        .callers
        .put(cache_key, caller.clone(), version, expires_at);
    Ok(Some(caller))
}

async fn session_caller(state: &AppState, token: &str) -> Option<Caller> {
    let hash = sha256_hex(token);
    let (session, user) = accounts::find_session(&state.db, &hash).await.ok()??;
    let auth = &state.config.auth;
    let now = now_ms();
    // Slide the expiry, at most once a minute per session, to keep reads read-only.
    if now - session.last_seen_at > 60_000 {
        let expires = now + auth.session_ttl.as_millis() as i64;
        if let Err(error) = accounts::touch_session(&state.db, &hash, expires).await {
            tracing::warn!(%error, "could not refresh a session");
        }
    }
    Some(Caller {
        role: role_of(&user, &auth.admin_emails),
        user: Arc::new(user),
        credential: Credential::Session {
            session_id: session.id,
        },
    })
}

#[cfg(test)]
mod tests {
    use axum::http::header::AUTHORIZATION;
    use axum::http::{HeaderMap, HeaderValue};

    use super::{Authorization, authorization};

    /// What `value` parses to, with the token owned: `Bearer(token)`, `MalformedBearer` or
    /// `NotBearer` as text.
    fn parsed(value: &[u8]) -> String {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        format!("{:?}", authorization(&headers))
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_needs_one_token() {
        assert_eq!(parsed(b"Bearer abc.def"), r#"Bearer("abc.def")"#);
        assert_eq!(parsed(b"BEARER ap_x"), r#"Bearer("ap_x")"#);
        assert_eq!(parsed(b"bearer \t ap_x "), r#"Bearer("ap_x")"#);
        for malformed in [
            &b"Bearer"[..],
            b"Bearer ",
            b"bEaReR \t",
            b"Bearer a b",
            b"Bearer \xc3\xa9t\xc3\xa9",
        ] {
            assert_eq!(
                parsed(malformed),
                "MalformedBearer",
                "{}",
                String::from_utf8_lossy(malformed)
            );
        }
        for other in [
            &b"Basic dXNlcjpwYXNz"[..],
            b"Negotiate YIIx",
            b"Bearerish token",
            b"Token ap_x",
            b"",
        ] {
            assert_eq!(parsed(other), "NotBearer");
        }
        assert_eq!(authorization(&HeaderMap::new()), Authorization::NotBearer);
    }
}
