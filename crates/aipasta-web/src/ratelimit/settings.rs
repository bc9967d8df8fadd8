//! The limits' numbers, with defaults sized for people using the site (not scripts hammering it).

use super::{Limit, LoginGuardSettings};

/// Every limit the web layer applies; each may be overridden (e.g. from `AIPASTA_*` settings;
/// [`Limit`] parses `20/min` or `120/min,burst=60`).
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitSettings {
    /// Sign-in attempts per client IP.
    pub signin_per_ip: Limit,
    /// Sign-in attempts per account (email), whoever makes them.
    pub signin_per_account: Limit,
    /// Accounts created per client IP.
    pub signup_per_ip: Limit,
    /// API requests per signed-in account.
    pub api_per_account: Limit,
    /// API requests per client IP (anonymous callers, and all accounts behind one address).
    pub api_per_ip: Limit,
    /// Slowing down and locking out repeated sign-in failures.
    pub login_guard: LoginGuardSettings,
}

impl Default for RateLimitSettings {
    fn default() -> RateLimitSettings {
        RateLimitSettings {
            signin_per_ip: Limit::per_minute(20),
            signin_per_account: Limit::per_minute(10),
            signup_per_ip: Limit::per_hour(5),
            // Two a second on average, with room for a page that fires a burst of calls.
            api_per_account: Limit::per_minute(120).with_burst(60),
            api_per_ip: Limit::per_minute(300),
            login_guard: LoginGuardSettings::default(),
        }
    }
}
