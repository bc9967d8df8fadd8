//! Who is calling, and what they may do: sessions, bearer tokens, API keys, CSRF and the
//! access rule every route declares.

pub mod access;
pub mod api;
pub mod callers;
pub mod csrf;
pub mod guard;
pub mod identity;
pub mod oauth;
pub mod pages;
pub mod password;
pub mod tokens;

use std::sync::Arc;
use std::time::Duration;

pub use access::{Access, Routes};
pub use identity::{Caller, Identity};

/// Settings of the accounts system.
#[derive(Clone)]
pub struct AuthSettings {
    /// The server secret every signing key is derived from (`AIPASTA_SECRET_KEY`). Private,
    /// with the key derived from it, so the two cannot disagree: set by [`Self::with_secret`].
    secret: Arc<[u8]>,
    jwt_key: tokens::JwtKey,
    /// Mark cookies `Secure` (the site is served over HTTPS).
    pub secure_cookies: bool,
    /// Accounts with these (normalised) emails are admins.
    pub admin_emails: Vec<String>,
    /// How long a browser session lasts without activity.
    pub session_ttl: Duration,
    /// How long a JWT from `/api/auth/signin` is valid.
    pub jwt_ttl: Duration,
    /// The site's public address (`https://pasta.example.com`), for OAuth callbacks; the
    /// request's host when unset.
    pub public_url: Option<String>,
    /// Sign-in providers that are turned on.
    pub oauth: Vec<oauth::OAuthProvider>,
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("secret", &"[REDACTED]")
            .field("secure_cookies", &self.secure_cookies)
            .field("admin_emails", &self.admin_emails)
            .field("session_ttl", &self.session_ttl)
            .field("jwt_ttl", &self.jwt_ttl)
            .field("public_url", &self.public_url)
            .field("oauth", &self.oauth)
            .finish()
    }
}

impl Default for AuthSettings {
    /// A random secret: fine for tests; the binary passes the configured one.
    fn default() -> AuthSettings {
        AuthSettings::with_secret(tokens::random_token(32).as_bytes())
    }
}

impl AuthSettings {
    /// The defaults, under `secret`.
    pub fn with_secret(secret: &[u8]) -> AuthSettings {
        AuthSettings {
            secret: secret.into(),
            jwt_key: tokens::JwtKey::derive(secret),
            secure_cookies: false,
            admin_emails: Vec::new(),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            jwt_ttl: Duration::from_secs(3600),
            public_url: None,
            oauth: Vec::new(),
        }
    }

    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    pub fn jwt_key(&self) -> &tokens::JwtKey {
        &self.jwt_key
    }

    pub fn session_cookie(&self) -> &'static str {
        // `__Host-` cookies are only accepted over HTTPS, from this exact host.
        if self.secure_cookies {
            "__Host-aipasta_session"
        } else {
            "aipasta_session"
        }
    }

    pub fn csrf_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-aipasta_csrf"
        } else {
            "aipasta_csrf"
        }
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure behind HTTPS.
    pub fn cookie(&self, name: &str, value: &str, max_age: Option<Duration>) -> String {
        let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if let Some(age) = max_age {
            cookie.push_str(&format!("; Max-Age={}", age.as_secs()));
        }
        if self.secure_cookies {
            cookie.push_str("; Secure");
        }
        cookie
    }

    pub fn expired_cookie(&self, name: &str) -> String {
        self.cookie(name, "", Some(Duration::ZERO))
    }
}
