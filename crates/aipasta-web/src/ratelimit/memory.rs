//! The in-memory backend: one process's buckets and failure counts behind a mutex, swept so
//! memory stays bounded. Also the Redis backend's fallback for the login guard.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::Limit;
use super::bucket::{Bucket, Decision, take};
use super::login::{LoginGuardSettings, LoginStatus, millis};

/// Entries per map before the oldest are evicted. A bucket is ~100 bytes plus its key, so this
/// caps each map at roughly 10–20 MB even under a flood of distinct keys.
const MAX_ENTRIES: usize = 100_000;

/// Calls between sweeps for entries that no longer matter.
const SWEEP_EVERY: u64 = 1024;

pub(crate) struct MemoryStore {
    /// Times are milliseconds since this instant: monotonic, so wall-clock jumps change nothing.
    epoch: Instant,
    max_entries: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    buckets: HashMap<String, BucketEntry>,
    logins: HashMap<String, LoginRecord>,
    calls: u64,
}

struct BucketEntry {
    bucket: Bucket,
    /// The shape last used, to tell when the bucket is full again and can be forgotten.
    limit: Limit,
}

#[derive(Clone, Copy)]
struct LoginRecord {
    failures: u32,
    window_ends_ms: u64,
    locked_until_ms: u64,
    touched_ms: u64,
}

impl LoginRecord {
    fn is_stale(&self, now_ms: u64) -> bool {
        now_ms >= self.window_ends_ms && now_ms >= self.locked_until_ms
    }
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::with_max_entries(MAX_ENTRIES)
    }

    pub fn with_max_entries(max_entries: usize) -> MemoryStore {
        MemoryStore {
            epoch: Instant::now(),
            max_entries: max_entries.max(1),
            state: Mutex::new(State::default()),
        }
    }

    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The state, even if a panic elsewhere poisoned the lock: every update below leaves the
    /// maps consistent, so the data is still good.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn check(&self, key: &str, limit: Limit, cost: u32) -> Decision {
        self.check_at(key, limit, cost, self.now_ms())
    }

    pub fn check_at(&self, key: &str, limit: Limit, cost: u32, now_ms: u64) -> Decision {
        let mut state = self.lock();
        state.tick(now_ms);
        let saved = state.buckets.get(key).map(|entry| entry.bucket);
        let (bucket, decision) = take(saved, limit, cost, now_ms);
        match state.buckets.get_mut(key) {
            Some(entry) => *entry = BucketEntry { bucket, limit },
            None => {
                state.make_room_for_bucket(now_ms, self.max_entries);
                state
                    .buckets
                    .insert(key.to_owned(), BucketEntry { bucket, limit });
            }
        }
        decision
    }

    #[cfg(test)]
    pub fn login_check_at(
        &self,
        key: &str,
        settings: &LoginGuardSettings,
        now_ms: u64,
    ) -> super::LoginDecision {
        self.login_status_at(key, settings, now_ms).decision
    }

    pub fn login_status(&self, key: &str, settings: &LoginGuardSettings) -> LoginStatus {
        self.login_status_at(key, settings, self.now_ms())
    }

    pub fn login_status_at(
        &self,
        key: &str,
        settings: &LoginGuardSettings,
        now_ms: u64,
    ) -> LoginStatus {
        let mut state = self.lock();
        state.tick(now_ms);
        let Some(record) = state.logins.get(key) else {
            return LoginStatus::of(0, None, settings);
        };
        let lock_left = record.locked_until_ms.saturating_sub(now_ms);
        let failures = if now_ms < record.window_ends_ms {
            record.failures
        } else {
            0
        };
        LoginStatus::of(failures, Some(lock_left), settings)
    }

    pub fn login_failed(&self, key: &str, settings: &LoginGuardSettings) {
        self.login_failed_at(key, settings, self.now_ms());
    }

    pub fn login_failed_at(&self, key: &str, settings: &LoginGuardSettings, now_ms: u64) {
        let mut state = self.lock();
        state.tick(now_ms);
        let mut record = match state.logins.get(key) {
            Some(record) => *record,
            None => {
                state.make_room_for_login(now_ms, self.max_entries);
                LoginRecord {
                    failures: 0,
                    window_ends_ms: 0,
                    locked_until_ms: 0,
                    touched_ms: now_ms,
                }
            }
        };
        // Failures while locked are not counted: the caller refused them unchecked.
        if now_ms < record.locked_until_ms {
            return;
        }
        if now_ms >= record.window_ends_ms {
            record.failures = 0;
            record.window_ends_ms = now_ms.saturating_add(millis(settings.window));
        }
        record.failures = record.failures.saturating_add(1);
        record.touched_ms = now_ms;
        if settings.lock_after > 0 && record.failures >= settings.lock_after {
            record.locked_until_ms = now_ms.saturating_add(millis(settings.lock_for));
            record.failures = 0;
            record.window_ends_ms = now_ms;
        }
        state.logins.insert(key.to_owned(), record);
    }

    /// Forgets the key's failures and lock (a successful sign-in).
    pub fn forget_login(&self, key: &str) {
        self.lock().logins.remove(key);
    }

    /// Forgets everything about the key.
    pub fn reset(&self, key: &str) {
        let mut state = self.lock();
        state.buckets.remove(key);
        state.logins.remove(key);
    }

    /// Entries held (buckets, login records), for tests of the bounds.
    #[cfg(test)]
    fn sizes(&self) -> (usize, usize) {
        let state = self.lock();
        (state.buckets.len(), state.logins.len())
    }
}

impl State {
    /// Counts a call and sweeps now and then, so idle keys do not pile up.
    fn tick(&mut self, now_ms: u64) {
        self.calls = self.calls.wrapping_add(1);
        if self.calls.is_multiple_of(SWEEP_EVERY) {
            self.sweep(now_ms);
        }
    }

    /// Drops what no longer changes any decision: full buckets (a missing bucket is full) and
    /// login records whose window and lock are over.
    fn sweep(&mut self, now_ms: u64) {
        self.buckets
            .retain(|_, entry| !entry.bucket.is_full_at(entry.limit, now_ms));
        self.logins.retain(|_, record| !record.is_stale(now_ms));
    }

    fn make_room_for_bucket(&mut self, now_ms: u64, max: usize) {
        if self.buckets.len() < max {
            return;
        }
        self.sweep(now_ms);
        if self.buckets.len() >= max {
            // Still full of live buckets: forget the least recently used tenth. A forgotten
            // bucket is full again, a small gift to its client, but memory stays bounded.
            let cutoff = oldest_tenth(self.buckets.values().map(|e| e.bucket.at_ms));
            self.buckets.retain(|_, entry| entry.bucket.at_ms > cutoff);
        }
    }

    fn make_room_for_login(&mut self, now_ms: u64, max: usize) {
        if self.logins.len() < max {
            return;
        }
        self.sweep(now_ms);
        if self.logins.len() >= max {
            let cutoff = oldest_tenth(self.logins.values().map(|r| r.touched_ms));
            self.logins.retain(|_, record| record.touched_ms > cutoff);
        }
    }
}

/// The time at or before which the oldest tenth (at least one) of the entries were last used.
fn oldest_tenth(times: impl Iterator<Item = u64>) -> u64 {
    let mut times: Vec<u64> = times.collect();
    if times.is_empty() {
        return 0;
    }
    let index = (times.len() / 10).max(1) - 1;
    *times.select_nth_unstable(index).1
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{MemoryStore, SWEEP_EVERY};
    use crate::ratelimit::{Decision, Limit, LoginDecision, LoginGuardSettings};

    fn guard() -> LoginGuardSettings {
        LoginGuardSettings {
            window: Duration::from_secs(60),
            slow_after: 2,
            lock_after: 4,
            lock_for: Duration::from_secs(30),
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(150),
        }
    }

    #[test]
    fn buckets_are_per_key_and_refill_with_the_clock() {
        let store = MemoryStore::new();
        let limit = Limit::new(2, 1.0);
        assert!(store.check_at("a", limit, 2, 0).is_allowed());
        assert!(!store.check_at("a", limit, 1, 0).is_allowed());
        assert!(store.check_at("b", limit, 1, 0).is_allowed());
        assert_eq!(
            store.check_at("a", limit, 1, 1000),
            Decision::Allowed { remaining: 0 }
        );
    }

    #[test]
    fn login_guard_goes_from_allowed_to_delayed_to_locked_and_success_clears() {
        let store = MemoryStore::new();
        let s = guard();
        let key = "login:account:x";
        assert_eq!(store.login_check_at(key, &s, 0), LoginDecision::Allowed);
        store.login_failed_at(key, &s, 0);
        assert_eq!(store.login_check_at(key, &s, 0), LoginDecision::Allowed);
        store.login_failed_at(key, &s, 1);
        assert_eq!(
            store.login_check_at(key, &s, 1),
            LoginDecision::Delay(Duration::from_millis(100))
        );
        store.login_failed_at(key, &s, 2);
        assert_eq!(
            store.login_check_at(key, &s, 2),
            LoginDecision::Delay(Duration::from_millis(150)) // 200 capped
        );
        store.login_failed_at(key, &s, 3_000);
        assert_eq!(
            store.login_check_at(key, &s, 3_000),
            LoginDecision::Locked {
                retry_after: Duration::from_secs(30)
            }
        );
        // Failures during the lock neither extend it nor count afterwards.
        store.login_failed_at(key, &s, 10_000);
        assert_eq!(
            store.login_check_at(key, &s, 10_500),
            LoginDecision::Locked {
                retry_after: Duration::from_secs(23) // 22.5 s left, rounded up
            }
        );
        assert_eq!(
            store.login_check_at(key, &s, 33_000),
            LoginDecision::Allowed
        );

        store.login_failed_at(key, &s, 34_000);
        store.login_failed_at(key, &s, 34_000);
        assert!(matches!(
            store.login_check_at(key, &s, 34_000),
            LoginDecision::Delay(_)
        ));
        store.forget_login(key);
        assert_eq!(
            store.login_check_at(key, &s, 34_000),
            LoginDecision::Allowed
        );
    }

    #[test]
    fn failures_expire_with_their_window() {
        let store = MemoryStore::new();
        let s = guard();
        store.login_failed_at("k", &s, 0);
        store.login_failed_at("k", &s, 59_000);
        assert!(matches!(
            store.login_check_at("k", &s, 59_999),
            LoginDecision::Delay(_)
        ));
        assert_eq!(
            store.login_check_at("k", &s, 60_000),
            LoginDecision::Allowed
        );
        // The next failure opens a new window and counts from one.
        store.login_failed_at("k", &s, 61_000);
        assert_eq!(
            store.login_check_at("k", &s, 61_000),
            LoginDecision::Allowed
        );
    }

    #[test]
    fn sweeps_forget_full_buckets_and_stale_records() {
        let store = MemoryStore::new();
        let limit = Limit::new(10, 10.0);
        let s = guard();
        for i in 0..100 {
            store.check_at(&format!("bucket{i}"), limit, 5, 0);
            store.login_failed_at(&format!("login{i}"), &s, 0);
        }
        assert_eq!(store.sizes(), (100, 100));
        // Calls at a time when every bucket is full and every window over trigger a sweep.
        for _ in 0..SWEEP_EVERY {
            store.login_check_at("nobody", &s, 120_000);
        }
        assert_eq!(store.sizes(), (0, 0));
    }

    #[test]
    fn a_flood_of_live_keys_stays_under_the_cap() {
        let store = MemoryStore::with_max_entries(50);
        let limit = Limit::new(10, 0.001); // stays far from full: nothing is sweepable
        let s = guard();
        for i in 0..1000u64 {
            store.check_at(&format!("bucket{i}"), limit, 5, i);
            store.login_failed_at(&format!("login{i}"), &s, i);
            let (buckets, logins) = store.sizes();
            assert!(
                buckets <= 50 && logins <= 50,
                "{buckets} buckets, {logins} logins"
            );
        }
        // The most recent keys are the ones kept; the oldest were forgotten (full again).
        assert_eq!(
            store.check_at("bucket999", limit, 5, 1000),
            Decision::Allowed { remaining: 0 }
        );
        assert_eq!(
            store.check_at("bucket0", limit, 5, 1000),
            Decision::Allowed { remaining: 5 }
        );
    }
}
