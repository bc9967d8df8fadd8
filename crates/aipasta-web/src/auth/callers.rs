//! Bearer callers (JWT subjects and API keys) kept for a few seconds, so an API client's
//! requests do not each read the account's row: on PostgreSQL that read is a round trip, which
//! was most of the gateway's added latency.
//!
//! A cached caller is used only while the store's [`Db::accounts_version`] is the one it was
//! read under: every change to an account or a key through this process (suspension, role,
//! limits, password, revocation, deletion) bumps it, so such a change takes effect on the next
//! request. Changes made by another process (a second instance, `aipasta admin create`) are
//! seen once the entry is [`TTL`] old. Session cookies are not cached: browsers are not the hot
//! path, and a session's sliding expiry needs its row anyway.

use std::time::Duration;

#[cfg(doc)]
use aipasta_store::Db;

use super::identity::Caller;

/// How long another process's change to an account can go unseen.
pub const TTL: Duration = Duration::from_secs(5);
/// The most credentials kept, whatever callers do; the least recently used go first.
const CAPACITY: u64 = 10_000;

/// What a bearer credential resolved to.
#[derive(Clone)]
struct Entry {
    caller: Caller,
    version: u64,
    /// An API key's own expiry (ms since the epoch): a cached key must not outlive it.
    expires_at: Option<i64>,
}

pub struct CallerCache {
    entries: moka::sync::Cache<String, Entry>,
}

impl Default for CallerCache {
    fn default() -> CallerCache {
        CallerCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TTL)
                .build(),
        }
    }
}

impl CallerCache {
    /// The cached caller for `key`, unless the accounts changed since it was read (`version`
    /// is [`Db::accounts_version`] now), it is older than [`TTL`] or it expired at `now_ms`.
    pub fn get(&self, key: &str, version: u64, now_ms: i64) -> Option<Caller> {
        let entry = self.entries.get(key)?;
        let fresh = entry.version == version && entry.expires_at.is_none_or(|at| at > now_ms);
        fresh.then_some(entry.caller)
    }

    /// Keeps `caller` for `key`; `version` is [`Db::accounts_version`] read *before* the rows
    /// were, so a change that raced with the read makes the entry stale at once.
    pub fn put(&self, key: String, caller: Caller, version: u64, expires_at: Option<i64>) {
        self.entries.insert(
            key,
            Entry {
                caller,
                version,
                expires_at,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use aipasta_core::account::Role;
    use aipasta_store::accounts::UserRow;

    use super::*;
    use crate::auth::identity::Credential;

    fn caller(name: &str) -> Caller {
        let user = UserRow {
            id: "u1".into(),
            email: "ada@example.com".into(),
            name: name.into(),
            image: None,
            role: "user".into(),
            email_verified_at: None,
            password_hash: None,
            theme: "system".into(),
            language: "en".into(),
            notify_email: false,
            notify_push: false,
            notify_new_models: false,
            notify_updates: false,
            default_model_id: None,
            total_generations: 0,
            tokens_used: 0,
            total_cost_nanos: 0,
            last_generation_at: None,
            monthly_token_limit: None,
            subscription: "free".into(),
            bio: None,
            website: None,
            github: None,
            twitter: None,
            public_profile: false,
            status: "active".into(),
            created_at: 0,
            updated_at: 0,
            last_login_at: None,
            tokens_valid_after: 0,
            usage_alerts: "[80,100]".into(),
        };
        Caller {
            user: Arc::new(user),
            role: Role::User,
            credential: Credential::Bearer,
        }
    }

    #[test]
    fn an_entry_serves_only_under_the_version_it_was_read_at() {
        let cache = CallerCache::default();
        cache.put("jwt:u1".into(), caller("Ada"), 7, None);
        assert_eq!(cache.get("jwt:u1", 7, 0).unwrap().user.name, "Ada");
        assert!(cache.get("jwt:u1", 8, 0).is_none(), "an account changed");
        assert!(cache.get("jwt:u2", 7, 0).is_none());
    }

    #[test]
    fn a_key_is_not_served_past_its_expiry() {
        let cache = CallerCache::default();
        cache.put("key:h".into(), caller("Ada"), 1, Some(1_000));
        assert!(cache.get("key:h", 1, 999).is_some());
        assert!(cache.get("key:h", 1, 1_000).is_none());
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let cache = CallerCache::default();
        for i in 0..CAPACITY + 500 {
            cache.put(format!("jwt:{i}"), caller("Ada"), 1, None);
        }
        cache.entries.run_pending_tasks();
        assert!(cache.entries.entry_count() <= CAPACITY);
        cache.put("jwt:new".into(), caller("Ada"), 1, None);
        assert!(cache.get("jwt:new", 1, 0).is_some());
    }
}
