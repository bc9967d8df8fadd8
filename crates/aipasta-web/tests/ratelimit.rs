#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Rate limiting on every backend: memory always, Redis at `AIPASTA_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`; required when `CI` or that variable is set, skipped otherwise).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use aipasta_web::ratelimit::{
    Decision, Limit, LoginDecision, LoginGuardSettings, RateLimitSettings, RateLimiter,
    SignInDecision, SignInKeys,
};
use redis::ConnectionAddr;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

fn redis_url() -> String {
    std::env::var("AIPASTA_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_REDIS_URL.to_string())
}

/// CI runs Redis; a developer who set the URL wants it used. Either way, no silent skipping.
fn redis_required() -> bool {
    let set = |name| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    set("CI") || set("AIPASTA_TEST_REDIS_URL")
}

async fn redis_limiter() -> Option<RateLimiter> {
    match RateLimiter::redis(&redis_url()).await {
        Ok(limiter) => Some(limiter),
        Err(error) if redis_required() => {
            panic!("Redis is required here (CI or AIPASTA_TEST_REDIS_URL is set): {error}")
        }
        Err(error) => {
            eprintln!("SKIPPED redis: {error}");
            None
        }
    }
}

/// Every backend to run a behaviour on.
async fn limiters() -> Vec<RateLimiter> {
    let mut limiters = vec![RateLimiter::in_memory()];
    limiters.extend(redis_limiter().await);
    limiters
}

/// A key no other test (or earlier run) uses.
fn unique(name: &str) -> String {
    format!("test-{}:{name}", uuid::Uuid::new_v4().simple())
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn guard(lock_for: Duration) -> LoginGuardSettings {
    LoginGuardSettings {
        window: Duration::from_secs(60),
        slow_after: 2,
        lock_after: 4,
        lock_for,
        first_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(150),
    }
}

#[tokio::test]
async fn a_bucket_allows_its_capacity_then_refuses_with_retry_after() {
    for limiter in limiters().await {
        let backend = limiter.backend_name();
        let key = unique("capacity");
        let limit = Limit::per_minute(3); // one token every 20 s
        for remaining in [2, 1, 0] {
            assert_eq!(
                limiter.check(&key, limit, 1).await,
                Decision::Allowed { remaining },
                "{backend}"
            );
        }
        assert_eq!(
            limiter.check(&key, limit, 1).await,
            Decision::Limited {
                retry_after: secs(20)
            },
            "{backend}"
        );
        // A cost the bucket can never hold is refused, not allowed.
        assert!(
            !limiter.check(&key, limit, 4).await.is_allowed(),
            "{backend}"
        );
        limiter.reset(&key).await;
    }
}

#[tokio::test]
async fn costs_and_keys_are_counted_separately() {
    for limiter in limiters().await {
        let backend = limiter.backend_name();
        let (a, b) = (unique("a"), unique("b"));
        let limit = Limit::per_hour(10);
        assert_eq!(
            limiter.check(&a, limit, 7).await,
            Decision::Allowed { remaining: 3 },
            "{backend}"
        );
        assert!(!limiter.check(&a, limit, 4).await.is_allowed(), "{backend}");
        // The refusal took nothing: the 3 left are still there.
        assert_eq!(
            limiter.check(&a, limit, 3).await,
            Decision::Allowed { remaining: 0 },
            "{backend}"
        );
        assert_eq!(
            limiter.check(&b, limit, 1).await,
            Decision::Allowed { remaining: 9 },
            "{backend}"
        );
        limiter.reset(&a).await;
        limiter.reset(&b).await;
    }
}

#[tokio::test]
async fn tokens_refill_after_waiting() {
    for limiter in limiters().await {
        let backend = limiter.backend_name();
        let key = unique("refill");
        let limit = Limit::new(2, 20.0); // a token every 50 ms
        assert!(
            limiter.check(&key, limit, 2).await.is_allowed(),
            "{backend}"
        );
        let refused = limiter.check(&key, limit, 1).await;
        assert_eq!(
            refused.retry_after(),
            Some(secs(1)),
            "{backend}: rounded up"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(
            limiter.check(&key, limit, 2).await.is_allowed(),
            "{backend}"
        );
        limiter.reset(&key).await;
    }
}

#[tokio::test]
async fn reset_forgets_the_bucket() {
    for limiter in limiters().await {
        let key = unique("reset");
        let limit = Limit::per_hour(1);
        assert!(limiter.check(&key, limit, 1).await.is_allowed());
        assert!(!limiter.check(&key, limit, 1).await.is_allowed());
        limiter.reset(&key).await;
        assert!(
            limiter.check(&key, limit, 1).await.is_allowed(),
            "{}",
            limiter.backend_name()
        );
        limiter.reset(&key).await;
    }
}

#[tokio::test]
async fn the_login_guard_slows_then_locks_and_the_lock_expires() {
    for limiter in limiters().await {
        let backend = limiter.backend_name();
        let key = unique("login");
        let settings = guard(Duration::from_millis(300));
        let check = || limiter.login_check(&key, &settings);

        assert_eq!(check().await, LoginDecision::Allowed, "{backend}");
        limiter.login_failed(&key, &settings).await;
        assert_eq!(check().await, LoginDecision::Allowed, "{backend}");
        limiter.login_failed(&key, &settings).await;
        assert_eq!(
            check().await,
            LoginDecision::Delay(Duration::from_millis(100)),
            "{backend}"
        );
        limiter.login_failed(&key, &settings).await;
        assert_eq!(
            check().await,
            LoginDecision::Delay(Duration::from_millis(150)),
            "{backend}: capped"
        );
        limiter.login_failed(&key, &settings).await;
        assert_eq!(
            check().await,
            LoginDecision::Locked {
                retry_after: secs(1)
            },
            "{backend}: 300 ms rounds up"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        // The lock replaced the count: the key starts afresh.
        assert_eq!(check().await, LoginDecision::Allowed, "{backend}");
        limiter.login_failed(&key, &settings).await;
        assert_eq!(check().await, LoginDecision::Allowed, "{backend}");
        limiter.reset(&key).await;
    }
}

#[tokio::test]
async fn a_success_clears_the_failures_and_keys_are_independent() {
    for limiter in limiters().await {
        let backend = limiter.backend_name();
        let (account, ip) = (unique("account"), unique("ip"));
        let settings = guard(Duration::from_secs(60));
        for _ in 0..3 {
            limiter.login_failed(&account, &settings).await;
            limiter.login_failed(&ip, &settings).await;
        }
        assert!(
            matches!(
                limiter.login_check(&account, &settings).await,
                LoginDecision::Delay(_)
            ),
            "{backend}"
        );
        limiter.login_succeeded(&account).await;
        assert_eq!(
            limiter.login_check(&account, &settings).await,
            LoginDecision::Allowed,
            "{backend}"
        );
        assert!(
            matches!(
                limiter.login_check(&ip, &settings).await,
                LoginDecision::Delay(_)
            ),
            "{backend}: the IP's failures stay"
        );
        limiter.reset(&ip).await;
        limiter.reset(&account).await;
    }
}

#[tokio::test]
async fn failures_are_forgotten_when_their_window_ends() {
    for limiter in limiters().await {
        let backend = limiter.backend_name();
        let key = unique("window");
        let settings = LoginGuardSettings {
            window: Duration::from_millis(300),
            ..guard(Duration::from_secs(60))
        };
        limiter.login_failed(&key, &settings).await;
        limiter.login_failed(&key, &settings).await;
        assert!(
            matches!(
                limiter.login_check(&key, &settings).await,
                LoginDecision::Delay(_)
            ),
            "{backend}"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            limiter.login_check(&key, &settings).await,
            LoginDecision::Allowed,
            "{backend}"
        );
        limiter.reset(&key).await;
    }
}

/// Sign-in limits small enough to reach in a test: an address locks after 4 failures on an
/// account (or across accounts); the account's bucket holds 3 attempts; the account slows
/// after 4 failures from anywhere.
fn sign_in_limits() -> RateLimitSettings {
    RateLimitSettings {
        signin_per_ip: Limit::per_hour(1000),
        signin_per_account: Limit::per_hour(3),
        login_guard: guard(Duration::from_secs(60)),
        account_throttle: LoginGuardSettings {
            slow_after: 4,
            // Ignored: the account as a whole never locks.
            lock_after: 5,
            ..guard(Duration::from_secs(60))
        },
        ..RateLimitSettings::default()
    }
}

/// Addresses no other test or earlier run uses (a Redis keeps counts for a while): each `n`
/// its own /64, the unit the limits key IPv6 clients by, under a random /48.
fn addresses() -> impl Fn(u16) -> std::net::IpAddr {
    let [a, b, ..] = uuid::Uuid::new_v4().into_bytes();
    let site = u16::from_be_bytes([a, b]);
    move |n| std::net::IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, site, n, 0, 0, 0, 1))
}

fn proceeds(decision: SignInDecision) -> bool {
    matches!(decision, SignInDecision::Proceed { .. })
}

#[tokio::test]
async fn guessing_locks_the_guessing_address_and_never_the_owner() {
    for limiter in limiters().await {
        let backend = limiter.backend_name();
        let limits = sign_in_limits();
        let address = addresses();
        let email = format!("{}@example.com", unique("owner"));
        let guesser = SignInKeys::new(&email, address(1));
        let owner = SignInKeys::new(&email, address(2));

        // The guesser goes on long after the lock, as a guesser would.
        for _ in 0..20 {
            if proceeds(limiter.sign_in_check(&guesser, &limits).await) {
                limiter.sign_in_failed(&guesser, &limits).await;
            }
        }
        assert!(
            matches!(
                limiter.sign_in_check(&guesser, &limits).await,
                SignInDecision::Locked { .. }
            ),
            "{backend}: the guessing address is locked"
        );
        // The owner, from an address with no failures, is at worst slowed; again and again,
        // as the guesser keeps trying.
        for round in 0..5 {
            match limiter.sign_in_check(&owner, &limits).await {
                SignInDecision::Proceed { wait } => assert!(
                    wait <= limits.account_throttle.max_delay,
                    "{backend}: round {round} waits {wait:?}"
                ),
                refused => panic!("{backend}: the owner was refused in round {round}: {refused:?}"),
            }
            limiter.sign_in_check(&guesser, &limits).await;
        }
        // A right password clears the owner's address only; the guesser stays locked.
        limiter.sign_in_succeeded(&owner).await;
        assert!(matches!(
            limiter.sign_in_check(&guesser, &limits).await,
            SignInDecision::Locked { .. }
        ));
        for keys in [&guesser, &owner] {
            for key in [&keys.address, &keys.account, &keys.pair] {
                limiter.reset(key).await;
            }
        }
    }
}

#[tokio::test]
async fn the_account_bucket_refuses_only_addresses_that_failed_on_the_account() {
    for limiter in limiters().await {
        let backend = limiter.backend_name();
        let limits = sign_in_limits();
        let address = addresses();
        let email = format!("{}@example.com", unique("bucket"));
        // Three addresses fail once each: each now answers for the account's rate.
        let failed: Vec<SignInKeys> = (10..13)
            .map(|n| SignInKeys::new(&email, address(n)))
            .collect();
        for keys in &failed {
            assert!(
                proceeds(limiter.sign_in_check(keys, &limits).await),
                "{backend}"
            );
            limiter.sign_in_failed(keys, &limits).await;
        }
        // Their next attempts share the account's bucket of three, then are turned away.
        let mut refused = 0;
        for keys in failed.iter().cycle().take(6) {
            if let SignInDecision::TooFast { retry_after } =
                limiter.sign_in_check(keys, &limits).await
            {
                assert!(retry_after >= Duration::from_secs(1), "{backend}");
                refused += 1;
            }
        }
        assert_eq!(refused, 3, "{backend}: the bucket held three");
        // A fresh address is not refused on the account's behalf.
        let fresh = SignInKeys::new(&email, address(20));
        assert!(
            proceeds(limiter.sign_in_check(&fresh, &limits).await),
            "{backend}"
        );
        for keys in failed.iter().chain([&fresh]) {
            for key in [&keys.address, &keys.account, &keys.pair] {
                limiter.reset(key).await;
            }
        }
    }
}

#[tokio::test]
async fn failures_from_many_addresses_slow_the_account_but_never_lock_it() {
    for limiter in limiters().await {
        let backend = limiter.backend_name();
        let limits = sign_in_limits();
        let address = addresses();
        let email = format!("{}@example.com", unique("spread"));
        // Twelve addresses, one failure each: no address is slowed, the account is.
        let spread: Vec<SignInKeys> = (30..42)
            .map(|n| SignInKeys::new(&email, address(n)))
            .collect();
        for keys in &spread {
            limiter.sign_in_failed(keys, &limits).await;
        }
        let fresh = SignInKeys::new(&email, address(50));
        assert_eq!(
            limiter.sign_in_check(&fresh, &limits).await,
            SignInDecision::Proceed {
                wait: limits.account_throttle.max_delay
            },
            "{backend}: slowed to the cap, not locked (lock_after is ignored)"
        );
        for keys in spread.iter().chain([&fresh]) {
            for key in [&keys.address, &keys.account, &keys.pair] {
                limiter.reset(key).await;
            }
        }
    }
}

#[tokio::test]
async fn two_redis_instances_share_one_bucket_and_one_lock() {
    let Some(first) = redis_limiter().await else {
        return;
    };
    let second = RateLimiter::redis(&redis_url()).await.unwrap();
    let key = unique("shared");
    let limit = Limit::per_hour(4);
    assert!(first.check(&key, limit, 2).await.is_allowed());
    assert_eq!(
        second.check(&key, limit, 2).await,
        Decision::Allowed { remaining: 0 }
    );
    assert!(!first.check(&key, limit, 1).await.is_allowed());
    assert!(!second.check(&key, limit, 1).await.is_allowed());

    let settings = guard(Duration::from_secs(60));
    for limiter in [&first, &second, &first, &second] {
        limiter.login_failed(&key, &settings).await;
    }
    assert!(matches!(
        second.login_check(&key, &settings).await,
        LoginDecision::Locked { .. }
    ));
    first.login_succeeded(&key).await;
    assert_eq!(
        second.login_check(&key, &settings).await,
        LoginDecision::Allowed
    );
    first.reset(&key).await;
}

#[tokio::test]
async fn redis_keys_are_prefixed_expire_when_idle_and_are_removed_by_reset() {
    let Some(limiter) = redis_limiter().await else {
        return;
    };
    let client = redis::Client::open(redis_url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let key = unique("ttl");
    let pttl = |name: String| {
        let mut raw = raw.clone();
        async move {
            redis::cmd("PTTL")
                .arg(name)
                .query_async::<i64>(&mut raw)
                .await
                .unwrap()
        }
    };

    // 2 of 10 tokens at 1 per second: full again in 2 s, then the key is useless.
    limiter.check(&key, Limit::new(10, 1.0), 2).await;
    let ttl = pttl(format!("aipasta:rl:bucket:{key}")).await;
    assert!((1..=3_000).contains(&ttl), "bucket TTL {ttl} ms");

    let settings = guard(Duration::from_secs(30));
    limiter.login_failed(&key, &settings).await;
    let ttl = pttl(format!("aipasta:rl:fail:{key}")).await;
    assert!((1..=60_000).contains(&ttl), "failure counter TTL {ttl} ms");
    for _ in 0..3 {
        limiter.login_failed(&key, &settings).await;
    }
    let ttl = pttl(format!("aipasta:rl:lock:{key}")).await;
    assert!((1..=30_000).contains(&ttl), "lock TTL {ttl} ms");

    limiter.reset(&key).await;
    let left: Vec<String> = redis::cmd("KEYS")
        .arg(format!("aipasta:rl:*{key}"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A TCP proxy to Redis that can be switched off, so a test can take Redis away from one
/// limiter without touching the server other tests use.
struct Proxy {
    url: String,
    task: JoinHandle<()>,
    frozen: watch::Sender<bool>,
}

impl Proxy {
    async fn start(redis_url: &str) -> Proxy {
        let info = redis::Client::open(redis_url)
            .unwrap()
            .get_connection_info()
            .clone();
        let ConnectionAddr::Tcp(host, port) = &info.addr else {
            panic!("the outage tests need a plain TCP Redis URL");
        };
        let target = tokio::net::lookup_host((host.as_str(), *port))
            .await
            .unwrap()
            .next()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let local = listener.local_addr().unwrap();
        let (frozen, _) = watch::channel(false);
        let task = tokio::spawn(Proxy::accept(listener, target, frozen.subscribe()));
        let credentials = match (&info.redis.username, &info.redis.password) {
            (user, Some(password)) => format!("{}:{password}@", user.as_deref().unwrap_or("")),
            _ => String::new(),
        };
        let url = format!("redis://{credentials}{local}/{}", info.redis.db);
        Proxy { url, task, frozen }
    }

    async fn accept(listener: TcpListener, target: SocketAddr, frozen: watch::Receiver<bool>) {
        // Connections live in the set, so stopping this task closes them all.
        let mut connections = JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            let mut frozen = frozen.clone();
            connections.spawn(async move {
                let Ok(mut outbound) = TcpStream::connect(target).await else {
                    return;
                };
                tokio::select! {
                    _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                    // The guard `wait_for` returns is not `Send`; drop it inside.
                    _ = async { drop(frozen.wait_for(|frozen| *frozen).await) } => {
                        // A black hole: the sockets stay open and nothing ever answers.
                        std::future::pending::<()>().await;
                    }
                }
            });
        }
    }

    /// Keeps every connection open but stops forwarding: Redis hangs instead of failing.
    fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Forwards new connections again (the frozen ones stay silent until dropped).
    fn thaw(&self) {
        self.frozen.send_replace(false);
    }

    /// Closes the port and every connection through it.
    async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Checks a limiter whose Redis is gone: calls cost next to nothing once the first has found
/// Redis gone (20 of them take well under a second, where a 250 ms timeout each would take
/// five), limits still apply from this instance's memory, and the login guard still slows and
/// locks.
async fn assert_degrades_gracefully(
    limiter: &RateLimiter,
    key: &str,
    settings: &LoginGuardSettings,
) {
    let limit = Limit::per_hour(1);
    // The first call finds Redis gone (within its 250 ms timeout) and opens the breaker.
    let first = Instant::now();
    assert!(
        limiter.check(key, limit, 1).await.is_allowed(),
        "memory's bucket is full"
    );
    assert!(
        first.elapsed() < Duration::from_secs(1),
        "{:?}",
        first.elapsed()
    );
    let started = Instant::now();
    for attempt in 0..20 {
        let decision = limiter.check(key, limit, 1).await;
        assert!(!decision.is_allowed(), "attempt {attempt}: still limited");
        assert_eq!(decision.retry_after(), Some(Duration::from_secs(3600)));
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "20 checks took {took:?}");
    let other = format!("{key}:other");
    assert!(
        limiter.check(&other, limit, 1).await.is_allowed(),
        "keys stay apart"
    );

    let started = Instant::now();
    assert!(matches!(
        limiter.login_check(key, settings).await,
        LoginDecision::Delay(_)
    ));
    limiter.login_failed(key, settings).await;
    limiter.login_failed(key, settings).await;
    assert!(matches!(
        limiter.login_check(key, settings).await,
        LoginDecision::Locked { .. }
    ));
    limiter.login_succeeded(key).await;
    assert_eq!(
        limiter.login_check(key, settings).await,
        LoginDecision::Allowed
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "the login calls took {took:?}"
    );
}

/// A limiter through a fresh proxy, with a bucket emptied and two failures counted while
/// Redis was still reachable.
async fn limiter_behind_proxy(key: &str, settings: &LoginGuardSettings) -> (Proxy, RateLimiter) {
    let proxy = Proxy::start(&redis_url()).await;
    let limiter = RateLimiter::redis(&proxy.url).await.unwrap();
    let limit = Limit::per_hour(1);
    assert!(limiter.check(key, limit, 1).await.is_allowed());
    assert!(!limiter.check(key, limit, 1).await.is_allowed());
    // Failures seen while Redis is up also count for the fallback.
    limiter.login_failed(key, settings).await;
    limiter.login_failed(key, settings).await;
    (proxy, limiter)
}

/// Removes what a test left in Redis, through a limiter that can still reach it.
async fn clean_up(key: &str) {
    RateLimiter::redis(&redis_url())
        .await
        .unwrap()
        .reset(key)
        .await;
}

#[tokio::test]
async fn a_redis_at_a_closed_port_costs_nothing_and_limits_still_apply() {
    if redis_limiter().await.is_none() {
        return;
    }
    let key = unique("outage");
    let settings = guard(Duration::from_secs(60));
    let (proxy, limiter) = limiter_behind_proxy(&key, &settings).await;
    proxy.stop().await; // Redis's address is now a closed port.
    assert_degrades_gracefully(&limiter, &key, &settings).await;
    clean_up(&key).await;
}

#[tokio::test]
async fn a_redis_that_stops_answering_costs_nothing_and_limits_still_apply() {
    if redis_limiter().await.is_none() {
        return;
    }
    let key = unique("hang");
    let settings = guard(Duration::from_secs(60));
    let (proxy, limiter) = limiter_behind_proxy(&key, &settings).await;
    proxy.freeze();
    assert_degrades_gracefully(&limiter, &key, &settings).await;
    proxy.stop().await;
    clean_up(&key).await;
}

#[tokio::test]
async fn a_redis_that_comes_back_is_used_again() {
    if redis_limiter().await.is_none() {
        return;
    }
    let key = unique("back");
    let settings = guard(Duration::from_secs(60));
    // Redis's bucket for `key` is empty.
    let (proxy, limiter) = limiter_behind_proxy(&key, &settings).await;
    proxy.freeze();
    let limit = Limit::per_hour(1);
    // Memory's is full: one more gets through while Redis is away.
    assert!(limiter.check(&key, limit, 1).await.is_allowed());
    let outage = format!("{key}:outage");
    assert!(limiter.check(&outage, limit, 1).await.is_allowed());
    proxy.thaw();
    // The probe finds Redis within seconds: Redis's empty bucket refuses again, and a key only
    // memory had seen is full again.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if limiter.check(&outage, limit, 1).await.is_allowed() {
            break;
        }
        assert!(Instant::now() < deadline, "Redis was not used again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!limiter.check(&key, limit, 1).await.is_allowed());
    proxy.stop().await;
    clean_up(&key).await;
    clean_up(&outage).await;
}

#[tokio::test]
async fn a_redis_url_at_a_closed_port_is_refused_at_startup_quickly() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // dropped: nothing listens there now
    let started = Instant::now();
    let error = RateLimiter::redis(&format!("redis://:hunter2@127.0.0.1:{port}"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(error.contains("could not reach Redis"), "{error}");
    assert!(!error.contains("hunter2"), "the password leaked: {error}");

    let error = RateLimiter::redis("not a url")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("invalid Redis URL"), "{error}");
}

#[tokio::test]
async fn from_url_picks_the_backend() {
    let memory = RateLimiter::from_url(None).await.unwrap();
    assert_eq!(memory.backend_name(), "memory");
    if redis_limiter().await.is_some() {
        let url = redis_url();
        let redis = RateLimiter::from_url(Some(&url)).await.unwrap();
        assert_eq!(redis.backend_name(), "redis");
    }
}
