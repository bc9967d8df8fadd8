//! The sign-in guard: brute-force protection that nobody can turn against an account's owner.
//!
//! Failed passwords are counted under three keys (see [`SignInKeys`]):
//!
//! - **the account from this address** slows after a few failures and then locks: the only
//!   lock an account has, and it holds only for the address that earned it;
//! - **the address**, whatever the account, slows and locks the same way (a guesser trying
//!   many accounts locks only itself);
//! - **the account**, from every address, only slows (never locks), and its token bucket
//!   (`signin_per_account`) refuses only addresses that already failed on it.
//!
//! So the owner, coming from an address with no failures, is at worst slowed down while
//! someone else hammers the account, and signs in with the right password.

use std::net::IpAddr;
use std::time::Duration;

use super::{Decision, LoginDecision, RateLimitSettings, RateLimiter, keys};

/// The keys one sign-in attempt is counted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInKeys {
    /// This address (IPv6 by /64), whatever the account: its bucket and its failures.
    pub address: String,
    /// This account (the email as typed, hashed), from anywhere: its bucket and its failures.
    pub account: String,
    /// This account from this address: the failures that lock.
    pub pair: String,
}

impl SignInKeys {
    pub fn new(email: &str, ip: IpAddr) -> SignInKeys {
        SignInKeys {
            address: keys::ip(keys::SIGN_IN, ip),
            account: keys::account(keys::SIGN_IN, email),
            pair: keys::pair(keys::SIGN_IN, email, ip),
        }
    }
}

/// What to do with a sign-in attempt before looking at the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInDecision {
    /// Check the password after waiting this long (zero: at once).
    Proceed { wait: Duration },
    /// Too many attempts from this address, or on this account from addresses that failed on
    /// it: 429 for a moment (a bucket's refill).
    TooFast { retry_after: Duration },
    /// Too many failures from this address, on this account or across accounts: 429 until the
    /// lock ends.
    Locked { retry_after: Duration },
}

impl RateLimiter {
    /// The guard's decision for an attempt; takes a token from the buckets it passes.
    pub async fn sign_in_check(
        &self,
        keys: &SignInKeys,
        limits: &RateLimitSettings,
    ) -> SignInDecision {
        if let Decision::Limited { retry_after } =
            self.check(&keys.address, limits.signin_per_ip, 1).await
        {
            return SignInDecision::TooFast { retry_after };
        }
        let pair = self.login_status(&keys.pair, &limits.login_guard).await;
        let address = self.login_check(&keys.address, &limits.login_guard).await;
        let wait = match pair.decision.stricter(address) {
            LoginDecision::Locked { retry_after } => {
                return SignInDecision::Locked { retry_after };
            }
            LoginDecision::Delay(wait) => wait,
            LoginDecision::Allowed => Duration::ZERO,
        };
        // Only an address that failed on this account answers for the account's rate: a fresh
        // one (the owner's, most likely) is never refused because others hammer the account.
        if !pair.is_clean()
            && let Decision::Limited { retry_after } = self
                .check(&keys.account, limits.signin_per_account, 1)
                .await
        {
            return SignInDecision::TooFast { retry_after };
        }
        let throttle = limits.account_throttle_without_lock();
        let account_wait = match self.login_check(&keys.account, &throttle).await {
            LoginDecision::Allowed => Duration::ZERO,
            LoginDecision::Delay(wait) => wait,
            // Never a lock for the account as a whole, even one an older version wrote.
            LoginDecision::Locked { .. } => throttle.max_delay,
        };
        SignInDecision::Proceed {
            wait: wait.max(account_wait),
        }
    }

    /// Counts a wrong password under every key.
    pub async fn sign_in_failed(&self, keys: &SignInKeys, limits: &RateLimitSettings) {
        self.login_failed(&keys.pair, &limits.login_guard).await;
        self.login_failed(&keys.address, &limits.login_guard).await;
        self.login_failed(&keys.account, &limits.account_throttle_without_lock())
            .await;
    }

    /// A right password clears this address's failures on the account, and only those: the
    /// address's failures on other accounts and the account's from elsewhere stay.
    pub async fn sign_in_succeeded(&self, keys: &SignInKeys) {
        self.login_succeeded(&keys.pair).await;
    }
}
