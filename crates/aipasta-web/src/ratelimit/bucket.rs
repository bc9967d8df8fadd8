//! The token bucket's arithmetic, pure (time is passed in) so it is testable without a clock.
//! `redis_store.rs` runs the same steps in Lua; keep the two in step.

use std::time::Duration;

use super::Limit;

/// The longest wait ever announced. It also stands for "never": a cost above the capacity, or
/// a bucket that does not refill. Idle Redis keys live at most this long.
pub(crate) const MAX_WAIT_MS: u64 = 24 * 60 * 60 * 1000;

/// Floating-point slack, so a bucket refilled to 0.999999999 tokens still pays for one, and a
/// wait of 10000.000000001 ms is announced as 10 s, not 11.
const EPSILON: f64 = 1e-9;

/// The answer to "may this request go ahead?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead; `remaining` whole tokens are left in the bucket.
    Allowed { remaining: u32 },
    /// Refused; the tokens will be there after `retry_after` (whole seconds, at least 1).
    Limited { retry_after: Duration },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }

    /// The wait to announce in `Retry-After`, when refused.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Decision::Allowed { .. } => None,
            Decision::Limited { retry_after } => Some(*retry_after),
        }
    }
}

/// A `Retry-After` for a wait of `ms`: whole seconds rounded up, never 0, so a client that
/// obeys the header to the second is never refused again for being early.
pub(crate) fn retry_after_from_ms(ms: u64) -> Duration {
    Duration::from_secs(ms.div_ceil(1000).max(1))
}

/// A bucket's saved state: `tokens` as of `at_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bucket {
    pub tokens: f64,
    pub at_ms: u64,
}

impl Bucket {
    /// The state at `now_ms`: refilled for the time since it was saved, never above capacity.
    /// A clock that went backwards refills nothing.
    pub fn refilled(self, limit: Limit, now_ms: u64) -> Bucket {
        let capacity = f64::from(limit.capacity);
        let elapsed = now_ms.saturating_sub(self.at_ms) as f64;
        let tokens = (self.tokens + elapsed * limit.rate() / 1000.0).min(capacity);
        Bucket {
            tokens,
            at_ms: self.at_ms.max(now_ms),
        }
    }

    /// Whether the bucket has refilled completely by `now_ms`, so forgetting it changes nothing.
    pub fn is_full_at(self, limit: Limit, now_ms: u64) -> bool {
        self.refilled(limit, now_ms).tokens + EPSILON >= f64::from(limit.capacity)
    }
}

/// Takes `cost` tokens from `saved` (a missing bucket is full) at `now_ms`. A refused request
/// takes nothing, so clients that keep retrying are not punished beyond the limit itself.
pub(crate) fn take(
    saved: Option<Bucket>,
    limit: Limit,
    cost: u32,
    now_ms: u64,
) -> (Bucket, Decision) {
    let full = Bucket {
        tokens: f64::from(limit.capacity),
        at_ms: now_ms,
    };
    let mut bucket = saved.unwrap_or(full).refilled(limit, now_ms);
    let cost_f = f64::from(cost);
    if cost <= limit.capacity && bucket.tokens + EPSILON >= cost_f {
        bucket.tokens = (bucket.tokens - cost_f).max(0.0);
        let remaining = (bucket.tokens + EPSILON).floor() as u32;
        return (bucket, Decision::Allowed { remaining });
    }
    let rate = limit.rate();
    let wait_ms = if cost > limit.capacity || rate == 0.0 {
        MAX_WAIT_MS
    } else {
        (((cost_f - bucket.tokens) * 1000.0 / rate - EPSILON).ceil() as u64).min(MAX_WAIT_MS)
    };
    let retry_after = retry_after_from_ms(wait_ms);
    (bucket, Decision::Limited { retry_after })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Bucket, Decision, MAX_WAIT_MS, retry_after_from_ms, take};
    use crate::ratelimit::Limit;

    /// Takes `cost` repeatedly at `now`, threading the state like a store would.
    fn run(state: &mut Option<Bucket>, limit: Limit, cost: u32, now: u64) -> Decision {
        let (bucket, decision) = take(*state, limit, cost, now);
        *state = Some(bucket);
        decision
    }

    #[test]
    fn a_new_bucket_allows_its_capacity_then_refuses() {
        let limit = Limit::new(3, 1.0);
        let mut state = None;
        assert_eq!(
            run(&mut state, limit, 1, 0),
            Decision::Allowed { remaining: 2 }
        );
        assert_eq!(
            run(&mut state, limit, 1, 0),
            Decision::Allowed { remaining: 1 }
        );
        assert_eq!(
            run(&mut state, limit, 1, 0),
            Decision::Allowed { remaining: 0 }
        );
        assert_eq!(
            run(&mut state, limit, 1, 0),
            Decision::Limited {
                retry_after: Duration::from_secs(1)
            }
        );
    }

    #[test]
    fn tokens_refill_with_time_up_to_capacity() {
        let limit = Limit::new(10, 2.0); // one token every 500 ms
        let mut state = None;
        assert_eq!(
            run(&mut state, limit, 10, 0),
            Decision::Allowed { remaining: 0 }
        );
        assert!(!run(&mut state, limit, 1, 499).is_allowed());
        assert_eq!(
            run(&mut state, limit, 1, 500),
            Decision::Allowed { remaining: 0 }
        );
        // Two and a half tokens later: two whole ones, the half stays for later.
        assert_eq!(
            run(&mut state, limit, 2, 1750),
            Decision::Allowed { remaining: 0 }
        );
        assert_eq!(
            run(&mut state, limit, 1, 2000),
            Decision::Allowed { remaining: 0 }
        );
        // A long idle time fills the bucket, never beyond capacity.
        assert_eq!(
            run(&mut state, limit, 1, 1_000_000),
            Decision::Allowed { remaining: 9 }
        );
    }

    #[test]
    fn refused_requests_take_nothing() {
        let limit = Limit::new(2, 1.0);
        let mut state = None;
        run(&mut state, limit, 2, 0);
        for now in [100, 200, 300] {
            assert!(!run(&mut state, limit, 1, now).is_allowed());
        }
        assert!(run(&mut state, limit, 1, 1000).is_allowed());
    }

    #[test]
    fn retry_after_is_the_wait_for_the_missing_tokens_rounded_up() {
        let limit = Limit::per_minute(6); // one token every 10 s
        let mut state = None;
        run(&mut state, limit, 6, 0);
        assert_eq!(
            run(&mut state, limit, 1, 0).retry_after(),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            run(&mut state, limit, 1, 2500).retry_after(),
            Some(Duration::from_secs(8)) // 7.5 s rounds up
        );
        assert_eq!(
            run(&mut state, limit, 3, 2500).retry_after(),
            Some(Duration::from_secs(28))
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(retry_after_from_ms(0), Duration::from_secs(1));
        assert_eq!(retry_after_from_ms(1), Duration::from_secs(1));
        assert_eq!(retry_after_from_ms(1000), Duration::from_secs(1));
        assert_eq!(retry_after_from_ms(1001), Duration::from_secs(2));
        assert_eq!(retry_after_from_ms(59_999), Duration::from_secs(60));
    }

    #[test]
    fn impossible_requests_wait_the_longest() {
        let never = Some(Duration::from_millis(MAX_WAIT_MS));
        assert_eq!(take(None, Limit::new(2, 1.0), 3, 0).1.retry_after(), never);
        let mut state = None;
        let fixed = Limit::new(1, 0.0);
        run(&mut state, fixed, 1, 0);
        assert_eq!(run(&mut state, fixed, 1, 1_000_000).retry_after(), never);
    }

    #[test]
    fn a_clock_going_backwards_refills_nothing() {
        let limit = Limit::new(1, 1.0);
        let mut state = None;
        run(&mut state, limit, 1, 10_000);
        assert!(!run(&mut state, limit, 1, 5_000).is_allowed());
        assert!(!run(&mut state, limit, 1, 10_999).is_allowed());
        assert!(run(&mut state, limit, 1, 11_000).is_allowed());
    }

    #[test]
    fn fullness_accounts_for_refill() {
        let limit = Limit::new(4, 4.0);
        let (bucket, _) = take(None, limit, 4, 0);
        assert!(!bucket.is_full_at(limit, 999));
        assert!(bucket.is_full_at(limit, 1000));
    }
}
