//! Brute-force protection for sign-in and sign-up: the settings, the decision, and the pure rule
//! from a failure count to a decision.

use std::time::Duration;

use super::bucket::retry_after_from_ms;

/// How repeated failures for one key (an account, or a client IP) are slowed and then refused.
///
/// Failures are counted in a fixed window that starts at the first failure. From `slow_after`
/// failures on, each attempt is delayed: `first_delay`, doubling per further failure, at most
/// `max_delay`. The `lock_after`-th failure locks the key for `lock_for` (0 disables locking);
/// the lock replaces the count, so after it the key starts afresh. A success clears the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginGuardSettings {
    pub window: Duration,
    pub slow_after: u32,
    pub lock_after: u32,
    pub lock_for: Duration,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for LoginGuardSettings {
    fn default() -> LoginGuardSettings {
        LoginGuardSettings {
            window: Duration::from_secs(15 * 60),
            slow_after: 3,
            lock_after: 10,
            lock_for: Duration::from_secs(15 * 60),
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(5),
        }
    }
}

/// What to do with a sign-in attempt before looking at the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginDecision {
    /// Go ahead.
    Allowed,
    /// Wait this long, then go ahead: the answer is slow, not refused, so a person who mistyped
    /// twice barely notices while a guesser's rate collapses.
    Delay(Duration),
    /// Refuse without checking the password; answer 429 with `Retry-After` (whole seconds, ≥ 1).
    Locked { retry_after: Duration },
}

impl LoginDecision {
    /// The stricter of two decisions, for checking the account and the IP together: a lock beats
    /// a delay beats going ahead; between two of a kind, the longer wait wins.
    pub fn stricter(self, other: LoginDecision) -> LoginDecision {
        use LoginDecision::{Allowed, Delay, Locked};
        match (self, other) {
            (Locked { retry_after: a }, Locked { retry_after: b }) => Locked {
                retry_after: a.max(b),
            },
            (locked @ Locked { .. }, _) | (_, locked @ Locked { .. }) => locked,
            (Delay(a), Delay(b)) => Delay(a.max(b)),
            (delay @ Delay(_), Allowed) | (Allowed, delay @ Delay(_)) => delay,
            (Allowed, Allowed) => Allowed,
        }
    }
}

/// What a key's record says now: its failures in the current window and the decision they
/// lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginStatus {
    pub failures: u32,
    pub decision: LoginDecision,
}

impl LoginStatus {
    pub(crate) fn of(
        failures: u32,
        lock_left_ms: Option<u64>,
        settings: &LoginGuardSettings,
    ) -> LoginStatus {
        LoginStatus {
            failures,
            decision: decide(failures, lock_left_ms, settings),
        }
    }

    /// True when the key has no failures and no lock.
    pub fn is_clean(&self) -> bool {
        self.failures == 0 && !matches!(self.decision, LoginDecision::Locked { .. })
    }
}

/// The decision for a key with `failures` in the current window and, if locked, `lock_left_ms`.
pub(crate) fn decide(
    failures: u32,
    lock_left_ms: Option<u64>,
    settings: &LoginGuardSettings,
) -> LoginDecision {
    if let Some(left) = lock_left_ms.filter(|left| *left > 0) {
        return LoginDecision::Locked {
            retry_after: retry_after_from_ms(left),
        };
    }
    match delay_for(failures, settings) {
        Some(delay) => LoginDecision::Delay(delay),
        None => LoginDecision::Allowed,
    }
}

/// The delay after `failures` failures: none before `slow_after`, then doubling, capped.
fn delay_for(failures: u32, settings: &LoginGuardSettings) -> Option<Duration> {
    if failures == 0 || failures < settings.slow_after {
        return None;
    }
    // The first delayed attempt gets `first_delay` itself, even when `slow_after` is 0.
    let doublings = failures - settings.slow_after.max(1);
    let factor = 2u32.checked_pow(doublings).unwrap_or(u32::MAX);
    let delay = settings.first_delay.saturating_mul(factor);
    Some(delay.min(settings.max_delay))
}

/// A duration in milliseconds for storage and Redis, at least 1 (Redis refuses a 0 expiry).
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{LoginDecision, LoginGuardSettings, decide};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn delays_start_after_slow_after_and_double_up_to_the_cap() {
        let settings = LoginGuardSettings::default();
        let decisions: Vec<_> = (0..10).map(|n| decide(n, None, &settings)).collect();
        use LoginDecision::{Allowed, Delay};
        assert_eq!(
            decisions,
            [
                Allowed,
                Allowed,
                Allowed,
                Delay(ms(250)),
                Delay(ms(500)),
                Delay(ms(1000)),
                Delay(ms(2000)),
                Delay(ms(4000)),
                Delay(ms(5000)),
                Delay(ms(5000)),
            ]
        );
        // Huge counts saturate instead of overflowing.
        assert_eq!(decide(u32::MAX, None, &settings), Delay(ms(5000)));
    }

    #[test]
    fn a_lock_wins_and_rounds_up_to_whole_seconds() {
        let settings = LoginGuardSettings::default();
        assert_eq!(
            decide(0, Some(1), &settings),
            LoginDecision::Locked {
                retry_after: Duration::from_secs(1)
            }
        );
        assert_eq!(
            decide(5, Some(899_001), &settings),
            LoginDecision::Locked {
                retry_after: Duration::from_secs(900)
            }
        );
        assert_eq!(decide(0, Some(0), &settings), LoginDecision::Allowed);
    }

    #[test]
    fn stricter_prefers_locks_then_longer_waits() {
        use LoginDecision::{Allowed, Delay, Locked};
        let lock = |s| Locked {
            retry_after: Duration::from_secs(s),
        };
        assert_eq!(Allowed.stricter(Allowed), Allowed);
        assert_eq!(Allowed.stricter(Delay(ms(5))), Delay(ms(5)));
        assert_eq!(Delay(ms(9)).stricter(Delay(ms(5))), Delay(ms(9)));
        assert_eq!(Delay(ms(9)).stricter(lock(3)), lock(3));
        assert_eq!(lock(3).stricter(Allowed), lock(3));
        assert_eq!(lock(3).stricter(lock(7)), lock(7));
    }
}
