//! The Redis backend: buckets and failure counts shared by every instance, updated atomically
//! by Lua scripts on Redis's clock. Every call is bounded by a short timeout. The first call
//! Redis fails opens a circuit breaker: from then on every call is answered from this
//! instance's memory at once (limits still apply, per instance), while one background probe
//! checks whether Redis is back (after 0.5 s, then at doubling intervals of up to 5 s) and, when
//! it is, closes the breaker with a fresh connection.

use std::fmt::Display;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncConnectionConfig, Client, RedisResult, Script};

use super::bucket::{Decision, MAX_WAIT_MS, retry_after_from_ms};
use super::login::{LoginGuardSettings, LoginStatus, millis};
use super::memory::MemoryStore;
use super::{Limit, RateLimitError};

/// Every key we write starts with this, so the limiter can share a Redis with other data.
pub(crate) const PREFIX: &str = "aipasta:rl:";

/// The longest a request waits on Redis before the limiter gives up, opens the breaker and
/// answers from memory. Short: a slow limiter must not become a slow site. Only the calls in
/// flight when Redis fails pay it; the breaker spares the rest.
const OP_TIMEOUT: Duration = Duration::from_millis(250);
/// While the breaker is open: the first wait before asking Redis again, doubled after each
/// failed probe up to the longest.
const PROBE_FIRST_WAIT: Duration = Duration::from_millis(500);
const PROBE_LONGEST_WAIT: Duration = Duration::from_secs(5);
/// How long a probe may take to connect, PING and set up a fresh connection.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Per connection attempt (startup and reconnects).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// A command without an answer marks the connection dead, so the manager reconnects.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Startup's whole budget: the probe, its PING and the manager's connection.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(3);
/// Reconnect attempts per burst, and the cap on the pause between them (the pauses start at
/// 1 s and double, plus jitter). Kept small so a Redis that comes back is used again within
/// seconds; the first command after a burst gives up starts a new one.
const RECONNECT_RETRIES: usize = 3;
const RECONNECT_MAX_DELAY_MS: u64 = 2_000;
/// At most one warning per this many ms while Redis is failing: an outage must not flood logs.
const WARN_EVERY_MS: u64 = 60_000;

static BUCKET: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("bucket.lua")));
static LOGIN_FAILED: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("login_failed.lua")));

fn bucket_key(key: &str) -> String {
    format!("{PREFIX}bucket:{key}")
}

fn failures_key(key: &str) -> String {
    format!("{PREFIX}fail:{key}")
}

fn lock_key(key: &str) -> String {
    format!("{PREFIX}lock:{key}")
}

pub(crate) struct RedisStore {
    /// The connection and the breaker, shared with the probe that replaces the connection.
    link: Arc<Link>,
    /// This instance's own limits, used while the breaker is open. Failed sign-ins are
    /// mirrored here even while Redis is up, so that during an outage this instance still
    /// slows and locks brute force using what it saw itself.
    fallback: MemoryStore,
    warnings: Throttle,
}

/// The way to Redis, and whether it is considered down.
struct Link {
    client: Client,
    /// Cheap to clone; reconnects by itself after a dropped connection. Replaced by a fresh one
    /// when Redis comes back, since one that hangs (a network partition) is never dropped.
    conn: RwLock<ConnectionManager>,
    /// Open while Redis is down: calls skip it and use `fallback`.
    open: AtomicBool,
    /// A probe is watching for Redis's return.
    probing: AtomicBool,
}

impl Link {
    fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    fn conn(&self) -> ConnectionManager {
        self.conn
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A connection manager on `client` once the server has answered a PING. One plain attempt
/// first: a wrong address fails at once, not after the manager's reconnect back-off.
async fn open_connection(client: &Client) -> RedisResult<ConnectionManager> {
    let probe_config = AsyncConnectionConfig::new()
        .set_connection_timeout(CONNECT_TIMEOUT)
        .set_response_timeout(RESPONSE_TIMEOUT);
    let mut probe = client
        .get_multiplexed_async_connection_with_config(&probe_config)
        .await?;
    redis::cmd("PING").query_async::<String>(&mut probe).await?;
    drop(probe);
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(CONNECT_TIMEOUT)
        .set_response_timeout(RESPONSE_TIMEOUT)
        .set_number_of_retries(RECONNECT_RETRIES)
        .set_factor(2)
        .set_max_delay(RECONNECT_MAX_DELAY_MS);
    ConnectionManager::new_with_config(client.clone(), config).await
}

impl RedisStore {
    /// Connects and checks the server answers a PING. The URL is redacted in errors.
    pub async fn connect(url: &str) -> Result<RedisStore, RateLimitError> {
        let shown = aipasta_store::redact_url(url);
        let client = Client::open(url).map_err(|error| RateLimitError::InvalidUrl {
            url: shown.clone(),
            reason: error.to_string(),
        })?;
        let reason = match tokio::time::timeout(STARTUP_TIMEOUT, open_connection(&client)).await {
            Ok(Ok(conn)) => {
                return Ok(RedisStore {
                    link: Arc::new(Link {
                        client,
                        conn: RwLock::new(conn),
                        open: AtomicBool::new(false),
                        probing: AtomicBool::new(false),
                    }),
                    fallback: MemoryStore::new(),
                    warnings: Throttle::new(WARN_EVERY_MS),
                });
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no answer within {} s", STARTUP_TIMEOUT.as_secs()),
        };
        Err(RateLimitError::Unreachable { url: shown, reason })
    }

    /// Runs one Redis call within `OP_TIMEOUT`, unless the breaker is open. `None` means Redis
    /// is down, failed or was too slow: the caller then answers from `fallback`. Why not refuse:
    /// the limiter protects the site, and refusing everyone during a Redis outage would be an
    /// outage of its own; this instance's memory still limits what it sees.
    async fn run<T>(
        &self,
        operation: &str,
        call: impl Future<Output = RedisResult<T>>,
    ) -> Option<T> {
        if self.link.is_open() {
            return None;
        }
        let error: Box<dyn Display> = match tokio::time::timeout(OP_TIMEOUT, call).await {
            Ok(Ok(value)) => return Some(value),
            Ok(Err(error)) => Box::new(error),
            Err(_) => Box::new(format!("no answer within {} ms", OP_TIMEOUT.as_millis())),
        };
        metrics::counter!("aipasta_ratelimit_redis_errors_total").increment(1);
        self.warn(operation, &*error);
        self.open_breaker();
        None
    }

    /// Sends every call to memory until a background probe finds Redis answering again, and
    /// then gives the calls a fresh connection.
    fn open_breaker(&self) {
        self.link.open.store(true, Ordering::Release);
        metrics::gauge!("aipasta_ratelimit_redis_up").set(0.0);
        if self
            .link
            .probing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        let link = self.link.clone();
        tokio::spawn(async move {
            let mut wait = PROBE_FIRST_WAIT;
            let fresh = loop {
                tokio::time::sleep(wait).await;
                if let Ok(Ok(conn)) =
                    tokio::time::timeout(PROBE_TIMEOUT, open_connection(&link.client)).await
                {
                    break conn;
                }
                wait = (wait * 2).min(PROBE_LONGEST_WAIT);
            };
            *link.conn.write().unwrap_or_else(PoisonError::into_inner) = fresh;
            link.open.store(false, Ordering::Release);
            link.probing.store(false, Ordering::Release);
            metrics::gauge!("aipasta_ratelimit_redis_up").set(1.0);
            tracing::info!("rate limiting: Redis answers again; limits are shared again");
        });
    }

    /// Logs a warning unless one was logged in the last minute.
    fn warn(&self, operation: &str, error: &dyn Display) {
        if self.warnings.allow(self.fallback.now_ms()) {
            tracing::warn!(
                %error,
                operation,
                "rate limiting: Redis unavailable; limits are kept in this instance's memory \
                 until it answers again (this warning repeats at most once a minute)"
            );
        }
    }

    pub async fn check(&self, key: &str, limit: Limit, cost: u32) -> Decision {
        let mut conn = self.link.conn();
        let mut call = BUCKET.key(bucket_key(key));
        call.arg(limit.capacity)
            .arg(limit.rate())
            .arg(cost)
            .arg(MAX_WAIT_MS);
        let answer = self
            .run("check", call.invoke_async::<(i64, i64, i64)>(&mut conn))
            .await;
        match answer {
            Some((1, remaining, _)) => Decision::Allowed {
                remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
            },
            Some((_, _, wait_ms)) => Decision::Limited {
                retry_after: retry_after_from_ms(u64::try_from(wait_ms).unwrap_or(0)),
            },
            None => self.fallback.check(key, limit, cost),
        }
    }

    pub async fn login_status(&self, key: &str, settings: &LoginGuardSettings) -> LoginStatus {
        let mut conn = self.link.conn();
        let mut pipe = redis::pipe();
        pipe.cmd("PTTL")
            .arg(lock_key(key))
            .cmd("GET")
            .arg(failures_key(key));
        let answer = self
            .run(
                "login_check",
                pipe.query_async::<(i64, Option<u32>)>(&mut conn),
            )
            .await;
        match answer {
            // -1: a lock without expiry, which we never write; honour it for one `lock_for`.
            Some((-1, failures)) => LoginStatus::of(
                failures.unwrap_or(0),
                Some(millis(settings.lock_for)),
                settings,
            ),
            Some((lock_ms, failures)) => {
                LoginStatus::of(failures.unwrap_or(0), u64::try_from(lock_ms).ok(), settings)
            }
            None => self.fallback.login_status(key, settings),
        }
    }

    pub async fn login_failed(&self, key: &str, settings: &LoginGuardSettings) {
        self.fallback.login_failed(key, settings);
        let mut conn = self.link.conn();
        let mut call = LOGIN_FAILED.key(failures_key(key));
        call.key(lock_key(key))
            .arg(millis(settings.window))
            .arg(settings.lock_after)
            .arg(millis(settings.lock_for));
        self.run("login_failed", call.invoke_async::<i64>(&mut conn))
            .await;
    }

    pub async fn login_succeeded(&self, key: &str) {
        self.fallback.forget_login(key);
        self.delete("login_succeeded", &[failures_key(key), lock_key(key)])
            .await;
    }

    pub async fn reset(&self, key: &str) {
        self.fallback.reset(key);
        let keys = [bucket_key(key), failures_key(key), lock_key(key)];
        self.delete("reset", &keys).await;
    }

    async fn delete(&self, operation: &str, keys: &[String]) {
        let mut conn = self.link.conn();
        let mut cmd = redis::cmd("DEL");
        cmd.arg(keys);
        self.run(operation, cmd.query_async::<i64>(&mut conn)).await;
    }
}

/// Lets one event through per interval, however many threads ask at once.
struct Throttle {
    every_ms: u64,
    /// When the last event was let through, in ms + 1 (0: never).
    last: AtomicU64,
}

impl Throttle {
    fn new(every_ms: u64) -> Throttle {
        Throttle {
            every_ms,
            last: AtomicU64::new(0),
        }
    }

    fn allow(&self, now_ms: u64) -> bool {
        let now = now_ms.saturating_add(1);
        let last = self.last.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= self.every_ms;
        // Only the caller that wins the swap is let through, so a burst yields one event.
        due && self
            .last
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::{Throttle, bucket_key, failures_key, lock_key};

    #[test]
    fn the_throttle_lets_one_through_per_interval() {
        let throttle = Throttle::new(60_000);
        assert!(throttle.allow(0));
        assert!(!throttle.allow(0));
        assert!(!throttle.allow(59_999));
        assert!(throttle.allow(60_000));
        assert!(!throttle.allow(60_001));
    }

    #[test]
    fn every_key_is_prefixed() {
        for key in [bucket_key("k"), failures_key("k"), lock_key("k")] {
            assert!(
                key.starts_with("aipasta:rl:") && key.ends_with(":k"),
                "{key}"
            );
        }
    }
}
