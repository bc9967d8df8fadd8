//! Rate limits per IP and per account: token buckets, and brute-force protection for sign-in.
//!
//! One [`RateLimiter`] serves the whole app. It keeps its state in memory
//! ([`RateLimiter::in_memory`]) or, with `AIPASTA_REDIS_URL` set, in Redis
//! ([`RateLimiter::redis`]) so that several instances share the limits.
//!
//! - [`RateLimiter::check`] takes tokens from a bucket named by [`keys`]; a refusal carries the
//!   wait for [`too_many_requests`] (429 with `Retry-After`).
//! - The login guard counts failed sign-ins per key: [`RateLimiter::login_check`] before looking
//!   at the password (sleep on `Delay`, refuse on `Locked`), then [`RateLimiter::login_failed`]
//!   or [`RateLimiter::login_succeeded`]. The sign-in guard (`sign_in.rs`:
//!   [`RateLimiter::sign_in_check`] and friends) combines it per address, per account and per
//!   (account, address) so that nobody can lock an account's owner out.
//!
//! If Redis stops answering, the calls in flight give up after 250 ms and a circuit breaker
//! sends every later call to this instance's memory at once (limits still apply, per instance)
//! until a background probe finds Redis back (see `redis_store.rs`).

mod bucket;
pub mod keys;
mod limit;
mod login;
mod memory;
mod redis_store;
mod response;
mod settings;
mod sign_in;

use std::fmt;
use std::sync::Arc;

pub use bucket::Decision;
pub use limit::{Limit, ParseLimitError};
pub use login::{LoginDecision, LoginGuardSettings, LoginStatus};
pub use response::{retry_after_secs, too_many_requests, wait_phrase};
pub use settings::RateLimitSettings;
pub use sign_in::{SignInDecision, SignInKeys};

use memory::MemoryStore;
use redis_store::RedisStore;

/// The app's rate limiter; cheap to clone (clones share state).
#[derive(Clone)]
pub struct RateLimiter {
    backend: Arc<Backend>,
}

enum Backend {
    Memory(MemoryStore),
    Redis(RedisStore),
}

impl RateLimiter {
    /// Limits kept in this process: right for a single instance.
    pub fn in_memory() -> RateLimiter {
        RateLimiter {
            backend: Arc::new(Backend::Memory(MemoryStore::new())),
        }
    }

    /// Limits kept in Redis at `url` and shared by every instance using it. Fails if the URL is
    /// invalid or the server does not answer a PING within a few seconds, so a misconfiguration
    /// shows at startup; outages after that fail open.
    pub async fn redis(url: &str) -> Result<RateLimiter, RateLimitError> {
        Ok(RateLimiter {
            backend: Arc::new(Backend::Redis(RedisStore::connect(url).await?)),
        })
    }

    /// Redis when a URL is given (`AIPASTA_REDIS_URL`), memory otherwise.
    pub async fn from_url(redis_url: Option<&str>) -> Result<RateLimiter, RateLimitError> {
        match redis_url {
            Some(url) => RateLimiter::redis(url).await,
            None => Ok(RateLimiter::in_memory()),
        }
    }

    /// `"memory"` or `"redis"`, for logs and the health page.
    pub fn backend_name(&self) -> &'static str {
        match *self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        }
    }

    /// Takes `cost` tokens from the bucket `key` (e.g. `api:user:<id>`, `signin:ip:1.2.3.4`; see
    /// [`keys`]) shaped by `limit`. A refused request takes nothing.
    pub async fn check(&self, key: &str, limit: Limit, cost: u32) -> Decision {
        match &*self.backend {
            Backend::Memory(store) => store.check(key, limit, cost),
            Backend::Redis(store) => store.check(key, limit, cost).await,
        }
    }

    /// What to do with a sign-in (or sign-up) attempt for `key` before checking the password.
    pub async fn login_check(&self, key: &str, settings: &LoginGuardSettings) -> LoginDecision {
        self.login_status(key, settings).await.decision
    }

    /// `key`'s failures in its current window, and the decision they lead to.
    pub async fn login_status(&self, key: &str, settings: &LoginGuardSettings) -> LoginStatus {
        match &*self.backend {
            Backend::Memory(store) => store.login_status(key, settings),
            Backend::Redis(store) => store.login_status(key, settings).await,
        }
    }

    /// Counts a failed attempt for `key`; may start a lock.
    pub async fn login_failed(&self, key: &str, settings: &LoginGuardSettings) {
        match &*self.backend {
            Backend::Memory(store) => store.login_failed(key, settings),
            Backend::Redis(store) => store.login_failed(key, settings).await,
        }
    }

    /// Clears `key`'s failures and lock: call it for the account key after a good password.
    /// (Not for the IP key: one good account must not wipe the failures of a guessing IP.)
    pub async fn login_succeeded(&self, key: &str) {
        match &*self.backend {
            Backend::Memory(store) => store.forget_login(key),
            Backend::Redis(store) => store.login_succeeded(key).await,
        }
    }

    /// Forgets everything about `key`: its bucket, failures and lock (an admin's "unlock").
    pub async fn reset(&self, key: &str) {
        match &*self.backend {
            Backend::Memory(store) => store.reset(key),
            Backend::Redis(store) => store.reset(key).await,
        }
    }
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("backend", &self.backend_name())
            .finish()
    }
}

/// Why the Redis backend could not start. URLs are shown with the password redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateLimitError {
    InvalidUrl { url: String, reason: String },
    Unreachable { url: String, reason: String },
}

impl fmt::Display for RateLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateLimitError::InvalidUrl { url, reason } => {
                write!(f, "invalid Redis URL `{url}` for rate limits: {reason}")
            }
            RateLimitError::Unreachable { url, reason } => {
                write!(
                    f,
                    "could not reach Redis at `{url}` for rate limits: {reason}"
                )
            }
        }
    }
}

impl std::error::Error for RateLimitError {}
