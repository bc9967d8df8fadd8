//! The application state every handler reads: one cheap-to-clone handle.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use aipasta_store::Db;

use crate::auth::AuthSettings;
use aipasta_engine::sync::SyncSources;
use aipasta_engine::{Engine, EngineSettings};

use crate::ratelimit::{RateLimitSettings, RateLimiter};
use crate::services::background_sync::{BackgroundSyncs, RetryBackoff};

/// Settings the web layer needs, already validated by the binary's configuration.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Shown on the contact page when set.
    pub contact_email: Option<String>,
    /// Where model lists are synced from.
    pub sync: SyncSources,
    /// How a failing background sync (at start-up, after an endpoint is added) tries again.
    pub sync_retry: RetryBackoff,
    /// How often every provider is synced while the server runs (`None`: only at start).
    pub sync_interval: Option<Duration>,
    /// Accounts: secret, cookies, admins, lifetimes.
    pub auth: AuthSettings,
    /// Rate limits and the sign-in lockout.
    pub limits: RateLimitSettings,
    /// Providers, timeouts and retries of the generation engine.
    pub engine: EngineSettings,
    /// The HTTP server's own limits and the `/metrics` token.
    pub server: ServerSettings,
}

/// How the HTTP server treats its connections, and who may read `/metrics`.
#[derive(Clone)]
pub struct ServerSettings {
    /// How long a client may take to send a request's headers (`AIPASTA_HEADER_TIMEOUT`); also
    /// how long a kept-alive connection may wait idle for its next request.
    pub header_timeout: Duration,
    /// The bearer token `/metrics` asks for (`AIPASTA_METRICS_TOKEN`); open to all when unset.
    pub metrics_token: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`AIPASTA_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl ServerSettings {
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
}

impl Default for ServerSettings {
    fn default() -> ServerSettings {
        ServerSettings {
            header_timeout: ServerSettings::DEFAULT_HEADER_TIMEOUT,
            metrics_token: None,
            trusted_proxies: Vec::new(),
        }
    }
}

impl fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSettings")
            .field("header_timeout", &self.header_timeout)
            .field("trusted_proxies", &self.trusted_proxies)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// Shared state: the database, settings and process facts.
#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    pub db: Db,
    pub config: WebConfig,
    pub started_at: Instant,
    /// The one outbound HTTP client: pooled connections, shared by every provider call.
    pub http: reqwest::Client,
    /// Token buckets and lockouts, in memory or in Redis.
    pub limiter: RateLimiter,
    /// The home page's catalog data, refreshed every few seconds.
    pub home_cache: moka::future::Cache<(), Arc<crate::pages::HomeData>>,
    /// What everyone used since a day (recommendations' "popular"), kept a few minutes: it
    /// changes slowly and costs a read of every account's rollups.
    pub popularity: moka::future::Cache<i64, Arc<Vec<aipasta_store::recommendations::Popular>>>,
    /// The listed models of each category (recommendations' candidates), kept half a minute:
    /// reading them whole is a good part of the dashboard's time, and they seldom change.
    pub category_models: moka::future::Cache<String, Arc<Vec<aipasta_store::catalog::ModelRow>>>,
    /// Runs and records every generation.
    pub engine: Arc<Engine>,
    /// Accounts behind recently seen bearer tokens and API keys.
    pub callers: crate::auth::callers::CallerCache,
    /// Model syncs running beside the server (start-up, endpoints being added).
    pub background_syncs: BackgroundSyncs,
    /// The address `serve` listens on, once it does (see `site`).
    pub listening_on: OnceLock<SocketAddr>,
}

impl AppState {
    /// State with in-memory rate limits.
    pub fn new(db: Db, config: WebConfig) -> AppState {
        AppState::with_limiter(db, config, RateLimiter::in_memory())
    }

    pub fn with_limiter(db: Db, config: WebConfig, limiter: RateLimiter) -> AppState {
        crate::observability::install_recorder();
        let http = outbound_client();
        let engine = Engine::launch(
            db.clone(),
            http.clone(),
            config.engine.clone(),
            aipasta_core::secret_box::SecretBox::for_provider_keys(config.auth.secret()),
        );
        AppState(Arc::new(App {
            db,
            config,
            started_at: Instant::now(),
            http,
            limiter,
            home_cache: moka::future::Cache::builder()
                .max_capacity(1)
                .time_to_live(crate::pages::HOME_TTL)
                .build(),
            popularity: moka::future::Cache::builder()
                .max_capacity(4)
                .time_to_live(crate::dashboard::POPULARITY_TTL)
                .build(),
            category_models: moka::future::Cache::builder()
                .max_capacity(256)
                .time_to_live(crate::dashboard::CATEGORY_MODELS_TTL)
                .build(),
            engine,
            callers: Default::default(),
            background_syncs: BackgroundSyncs::default(),
            listening_on: OnceLock::new(),
        }))
    }
}

impl AppState {
    /// After a change to the catalog on this instance: the engine reads model rows again, and
    /// the dashboard's recommendations forget the models and popularity they keep.
    pub fn catalog_changed(&self) {
        self.engine.changed(aipasta_engine::Change::Catalog);
        self.category_models.invalidate_all();
        self.popularity.invalidate_all();
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

/// The outbound client. Per-request timeouts are set by each caller; these bound the rest.
pub fn outbound_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("AIPasta/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(10))
        .pool_idle_timeout(std::time::Duration::from_secs(90))
        .tcp_nodelay(true)
        .build()
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "could not configure the HTTP client; using defaults");
            reqwest::Client::new()
        })
}
