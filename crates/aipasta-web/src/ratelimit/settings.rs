//! The limits' numbers, with defaults sized for people using the site (not scripts hammering it).

use super::{Limit, LoginGuardSettings};

/// Every limit the web layer applies; each may be overridden (e.g. from `AIPASTA_*` settings;
/// [`Limit`] parses `20/min` or `120/min,burst=60`).
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitSettings {
    /// Sign-in attempts per client IP.
    pub signin_per_ip: Limit,
    /// Sign-in attempts per account (email) from addresses that already failed on it; an
    /// address with no failures for the account is never refused on the account's behalf.
    pub signin_per_account: Limit,
    /// Accounts created per client IP (refused sign-ups do not count).
    pub signup_per_ip: Limit,
    /// Sign-up attempts per client IP, created or refused: bounds trying emails to see which
    /// are taken.
    pub signup_attempts_per_ip: Limit,
    /// API requests per signed-in account.
    pub api_per_account: Limit,
    /// API requests per client IP (anonymous callers, and all accounts behind one address).
    pub api_per_ip: Limit,
    /// Slowing down, then locking, repeated sign-in failures of one account from one address,
    /// and of one address across accounts.
    pub login_guard: LoginGuardSettings,
    /// Slowing down every attempt on an account that fails from many addresses. It never
    /// locks (`lock_after` is ignored): a lock anyone can trigger would lock the owner out.
    pub account_throttle: LoginGuardSettings,
}

impl RateLimitSettings {
    /// [`Self::account_throttle`] as applied: without a lock, whatever it says.
    pub fn account_throttle_without_lock(&self) -> LoginGuardSettings {
        LoginGuardSettings {
            lock_after: 0,
            ..self.account_throttle.clone()
        }
    }
}

impl Default for RateLimitSettings {
    fn default() -> RateLimitSettings {
        RateLimitSettings {
            signin_per_ip: Limit::per_minute(20),
            signin_per_account: Limit::per_minute(10),
            signup_per_ip: Limit::per_hour(5),
            signup_attempts_per_ip: Limit::per_minute(20),
            // Two a second on average, with room for a page that fires a burst of calls.
            api_per_account: Limit::per_minute(120).with_burst(60),
            api_per_ip: Limit::per_minute(300),
            login_guard: LoginGuardSettings::default(),
            // Spread over many addresses, failures slow the account once there are as many as
            // one address may make before its lock.
            account_throttle: LoginGuardSettings {
                lock_after: 0,
                slow_after: LoginGuardSettings::default().lock_after,
                ..LoginGuardSettings::default()
            },
        }
    }
}
