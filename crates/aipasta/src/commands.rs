//! The commands `aipasta` runs.

use std::time::Instant;

use anyhow::Context;
use serde_json::json;
use tokio::net::TcpListener;

use aipasta_core::VERSION;
use aipasta_store::{Db, redact_url};
use aipasta_web::{AppState, ServerSettings, WebConfig};

use aipasta_engine::sync::{EndpointSource, SyncEvent, SyncSources, SyncTarget, sync_models};
use aipasta_engine::{EngineSettings, EnvEndpoint, ProviderSettings};
use aipasta_web::auth::AuthSettings;
use aipasta_web::ratelimit::{RateLimitSettings, RateLimiter};
use aipasta_web::services::sync_for_server;

use crate::cli::{AdminCommand, CatalogCommand, Cli, Command, ModelsCommand, Settings};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.chosen_command() {
        Command::Serve => serve(&cli.settings).await,
        Command::Migrate => migrate(&cli.settings).await,
        Command::Config => {
            println!(
                "{}",
                serde_json::to_string_pretty(&effective_config(&cli.settings))?
            );
            Ok(())
        }
        Command::Models(ModelsCommand::Sync { provider }) => {
            models_sync(&cli.settings, provider).await
        }
        Command::Catalog(CatalogCommand::BuildSeed { from, out }) => build_seed(from, out),
        Command::Admin(AdminCommand::Create {
            email,
            password,
            name,
        }) => admin_create(&cli.settings, email, password, name.as_deref()).await,
    }
}

/// The server secret: `AIPASTA_SECRET_KEY`, else `<data-dir>/secret.key`, generated on first
/// start (readable by the owner only).
fn load_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &settings.secret_key {
        anyhow::ensure!(
            secret.expose().len() >= 32,
            "AIPASTA_SECRET_KEY must be at least 32 characters (try: openssl rand -hex 32)"
        );
        return Ok(secret.expose().as_bytes().to_vec());
    }
    let path = settings.data_dir.join("secret.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        anyhow::ensure!(
            existing.len() >= 32,
            "{} is too short; delete it to make a new one",
            path.display()
        );
        return Ok(existing.into_bytes());
    }
    aipasta_store::create_private_dir(&settings.data_dir)
        .with_context(|| format!("could not create {}", settings.data_dir.display()))?;
    let secret = aipasta_web::auth::tokens::random_token(48);
    write_private(&path, &secret).with_context(|| format!("could not write {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new server secret");
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

fn auth_settings(settings: &Settings, secret: Vec<u8>) -> AuthSettings {
    use aipasta_web::auth::oauth::{OAuthProvider, ProviderKind};
    let mut oauth = Vec::new();
    let mut add = |key: &str,
                   label: &str,
                   id: &Option<String>,
                   secret: &Option<crate::cli::Secret>,
                   kind: ProviderKind| {
        if let (Some(id), Some(secret)) = (id, secret) {
            oauth.push(OAuthProvider {
                key: key.to_owned(),
                label: label.to_owned(),
                client_id: id.clone(),
                client_secret: secret.expose().to_owned(),
                kind,
            });
        }
    };
    add(
        "github",
        "GitHub",
        &settings.github_client_id,
        &settings.github_client_secret,
        ProviderKind::GitHub {
            web_url: settings.github_url.clone(),
            api_url: settings.github_api_url.clone(),
        },
    );
    add(
        "google",
        "Google",
        &settings.google_client_id,
        &settings.google_client_secret,
        ProviderKind::Oidc {
            issuer: settings.google_issuer.clone(),
        },
    );
    if let Some(issuer) = &settings.oidc_issuer {
        add(
            "oidc",
            &settings.oidc_name,
            &settings.oidc_client_id,
            &settings.oidc_client_secret,
            ProviderKind::Oidc {
                issuer: issuer.clone(),
            },
        );
    }
    let mut auth = AuthSettings::with_secret(&secret);
    auth.secure_cookies = settings.secure_cookies;
    auth.admin_emails = settings.admin_email_list();
    auth.public_url = settings.public_url.clone();
    auth.oauth = oauth;
    auth
}

/// `aipasta admin create`: creates the account, or promotes and re-passwords an existing one.
async fn admin_create(
    settings: &Settings,
    email: &str,
    password: &str,
    name: Option<&str>,
) -> anyhow::Result<()> {
    use aipasta_core::account::{Email, check_password, parse_name};
    use aipasta_store::accounts;
    let email = Email::parse(email)?;
    check_password(password)?;
    let db = open_database(settings).await?;
    db.migrate().await.context("migration failed")?;
    let hash = aipasta_web::auth::password::hash(password.to_owned())
        .await
        .map_err(|e| anyhow::anyhow!("could not hash the password: {e}"))?;
    match accounts::find_user_by_email(&db, email.as_str()).await? {
        Some(user) => {
            accounts::set_password_hash(&db, &user.id, &hash).await?;
            accounts::set_role(&db, &user.id, "admin").await?;
            accounts::set_status(&db, &user.id, "active").await?;
            println!("{} is now an admin (password updated).", email);
        }
        None => {
            let default_name = email
                .as_str()
                .split('@')
                .next()
                .unwrap_or("Admin")
                .to_owned();
            let new = accounts::NewUser {
                email: email.as_str().to_owned(),
                name: parse_name(name.unwrap_or(&default_name))?,
                password_hash: Some(hash),
                role: "admin".into(),
                email_verified: true,
                image: None,
                identity: ("credentials".into(), email.as_str().to_owned()),
            };
            accounts::create_user(&db, &new).await?;
            println!("Created the admin account {email}.");
        }
    }
    db.close().await;
    Ok(())
}

fn sync_sources(settings: &Settings) -> SyncSources {
    SyncSources {
        openrouter_base_url: settings.openrouter_base_url.clone(),
        openrouter_api_key: settings.openrouter_key(),
        huggingface_hub_url: settings.huggingface_hub_url.clone(),
        huggingface_router_url: settings.huggingface_router_url.clone(),
        huggingface_api_key: settings.huggingface_key(),
        huggingface_per_task_limit: settings.huggingface_sync_limit,
        openai_compatible: settings
            .openai_compatible_url
            .iter()
            .filter(|url| !url.trim().is_empty())
            .map(|url| EndpointSource {
                name: settings.openai_compatible_name.trim().to_lowercase(),
                base_url: url.trim().to_owned(),
                api_key: settings
                    .openai_compatible_api_key
                    .as_ref()
                    .map(|k| k.expose().to_owned()),
            })
            .collect(),
    }
}

/// The generation engine's providers, time limits and retries.
fn engine_settings(settings: &Settings) -> EngineSettings {
    use aipasta_providers::generate::{ApiKey, Attribution, Timeouts};
    use std::time::Duration;
    let openai_compatible = settings
        .openai_compatible_url
        .iter()
        .filter(|url| !url.trim().is_empty())
        .map(|url| EnvEndpoint {
            name: settings.openai_compatible_name.trim().to_lowercase(),
            base_url: url.trim().to_owned(),
            api_key: settings
                .openai_compatible_api_key
                .as_ref()
                .map(|k| ApiKey::new(k.expose())),
        })
        .collect();
    EngineSettings {
        providers: ProviderSettings {
            openrouter_base_url: settings.openrouter_base_url.clone(),
            openrouter_api_key: settings.openrouter_key().map(ApiKey::new),
            huggingface_router_url: settings.huggingface_router_url.clone(),
            huggingface_inference_url: settings.huggingface_inference_url.clone(),
            huggingface_api_key: settings.huggingface_key().map(ApiKey::new),
            openai_compatible,
            // OpenRouter's attribution names the site; without a public address there is none
            // to give, and no made-up one is sent.
            attribution: settings.public_url.clone().map(|referer| Attribution {
                referer,
                title: "AI Pasta".into(),
            }),
        },
        timeouts: Timeouts {
            first_token: Duration::from_secs(settings.first_token_timeout.max(1)),
            between_tokens: Duration::from_secs(settings.token_timeout.max(1)),
            total: Duration::from_secs(settings.generation_timeout.max(1)),
        },
        max_attempts: settings.generation_attempts,
        shutdown_timeout: Duration::from_secs(settings.shutdown_timeout),
        spill_file: Some(
            settings
                .data_dir
                .join(aipasta_store::generations::spill::FILE_NAME),
        ),
        ..EngineSettings::default()
    }
}

/// `aipasta models sync`: fetch, save, and say what changed; fails when any provider failed.
async fn models_sync(settings: &Settings, provider: &str) -> anyhow::Result<()> {
    let target = SyncTarget::parse(provider).with_context(|| {
        format!(
            "unknown provider {provider:?}: use openrouter, huggingface, all, or the name of an \
             OpenAI-compatible endpoint (the environment's, `{}`, or one an admin added)",
            settings.openai_compatible_name.trim().to_lowercase()
        )
    })?;
    // Opens the API keys admins stored for their endpoints and the built-ins.
    let keys = aipasta_core::secret_box::SecretBox::for_provider_keys(&load_secret(settings)?);
    let db = open_database(settings).await?;
    db.migrate().await.context("migration failed")?;
    aipasta_store::catalog::seed_if_empty(&db)
        .await
        .context("seeding failed")?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    let progress = |event: SyncEvent| match event {
        SyncEvent::Fetching { provider } => {
            bar.set_message(format!("{provider}: fetching the model list…"));
        }
        SyncEvent::Saving { provider, models } => {
            bar.set_message(format!("{provider}: saving {models} models…"));
        }
        // Results go to stdout whether or not a terminal shows the spinner.
        SyncEvent::Done(report) => bar.suspend(|| match &report.result {
            Ok(o) => println!(
                "{}: {} models fetched — {} new, {} updated, {} deprecated, {} back",
                report.provider, report.fetched, o.inserted, o.updated, o.deprecated, o.restored
            ),
            Err(error) => println!("{}: failed, catalog unchanged — {error}", report.provider),
        }),
    };
    let client = aipasta_web::outbound_client();
    let reports = sync_models(
        &db,
        &client,
        &sync_sources(settings),
        &keys,
        target,
        &progress,
    )
    .await;
    bar.finish_and_clear();
    db.close().await;
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| r.result.is_err())
        .map(|r| r.provider.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("the sync failed for {}", failed.join(", "))
    }
}

/// `aipasta catalog build-seed`: the compiled-in catalog, from a captured OpenRouter list.
fn build_seed(from: &std::path::Path, out: &std::path::Path) -> anyhow::Result<()> {
    let body = std::fs::read(from).with_context(|| format!("could not read {}", from.display()))?;
    let mut models = aipasta_providers::catalog::parse_openrouter_models(&body)?;
    aipasta_providers::catalog::strip_descriptions(&mut models);
    models.sort_by(|a, b| a.slug.cmp(&b.slug));
    // One model per line: compact in the binary, readable in a diff.
    let lines = models
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<_>, _>>()?;
    let json = format!("[\n{}\n]\n", lines.join(",\n"));
    std::fs::write(out, json).with_context(|| format!("could not write {}", out.display()))?;
    println!("Wrote {} models to {}.", models.len(), out.display());
    Ok(())
}

/// Opens the configured database: the URL when given, else SQLite in the data directory.
async fn open_database(settings: &Settings) -> anyhow::Result<Db> {
    let db = match &settings.database_url {
        Some(url) => Db::connect(url.expose())
            .await
            .with_context(|| format!("could not connect to {}", redact_url(url.expose())))?,
        None => Db::open_sqlite_in(&settings.data_dir)
            .await
            .with_context(|| {
                format!(
                    "could not open the SQLite database in {}",
                    settings.data_dir.display()
                )
            })?,
    };
    Ok(db)
}

async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    let report = db.migrate().await.context("migration failed")?;
    if report.applied.is_empty() {
        println!(
            "The database is up to date (schema version {}).",
            report.current
        );
    } else {
        println!(
            "Applied migrations {:?}; schema version is now {}.",
            report.applied, report.current
        );
    }
    db.close().await;
    Ok(())
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let started = Instant::now();
    let db = open_database(settings).await?;
    db.migrate().await.context("migration failed")?;
    let listener = TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("could not listen on {}", settings.bind))?;
    let address = listener.local_addr()?;
    let seeded = aipasta_store::catalog::seed_if_empty(&db)
        .await
        .context("seeding failed")?;
    if seeded > 0 {
        tracing::info!(models = seeded, "seeded the model catalog");
    }
    let limiter = match &settings.redis_url {
        Some(url) => RateLimiter::redis(url.expose())
            .await
            .map_err(|e| anyhow::anyhow!("could not connect to Redis for rate limits: {e}"))?,
        None => RateLimiter::in_memory(),
    };
    let config = WebConfig {
        contact_email: settings.contact_email.clone(),
        sync: sync_sources(settings),
        sync_retry: Default::default(),
        auth: auth_settings(settings, load_secret(settings)?),
        limits: RateLimitSettings {
            api_per_account: settings
                .api_rate_limit
                .unwrap_or(RateLimitSettings::default().api_per_account),
            ..RateLimitSettings::default()
        },
        engine: engine_settings(settings),
        server: ServerSettings {
            header_timeout: std::time::Duration::from_secs(settings.header_timeout),
            trusted_proxies: settings.trusted_proxies.clone(),
            metrics_token: settings
                .metrics_token
                .as_ref()
                .map(|t| t.expose().trim().to_owned())
                .filter(|t| !t.is_empty()),
        },
    };
    if aipasta_store::accounts::count_admins(&db).await? == 0 && config.auth.admin_emails.is_empty()
    {
        tracing::warn!(
            "no admin account exists yet: create one with `aipasta admin create --email you@example.com --password '<a long password>'`, or list admins in AIPASTA_ADMIN_EMAILS"
        );
    }
    let state = AppState::with_limiter(db.clone(), config, limiter);
    tokio::spawn(expire_sessions(state.clone()));
    // The catalog's listing index is built on first use; build it now, so the first visitor of
    // a large catalog does not wait for it.
    let warm = db.clone();
    tokio::spawn(async move {
        if let Err(error) = aipasta_store::catalog::prepare_index(&warm).await {
            tracing::warn!(%error, "building the catalog index failed; the first listing retries");
        }
    });
    if let Some(every) = settings.model_sync_interval.0 {
        tokio::spawn(periodic_sync(state.clone(), every));
    }
    let shutdown = shutdown_signal();
    tracing::info!(
        version = VERSION,
        database = db.backend().as_str(),
        startup_ms = started.elapsed().as_millis() as u64,
        "AI Pasta is listening on http://{address}"
    );
    aipasta_web::serve(listener, state, shutdown).await?;
    tracing::info!("shutting down: requests finished, closing the database");
    db.close().await;
    Ok(())
}

/// Removes expired sign-in sessions every hour.
async fn expire_sessions(state: AppState) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        ticks.tick().await;
        if let Err(error) = aipasta_store::accounts::delete_expired_sessions(&state.db).await {
            tracing::warn!(%error, "could not remove expired sessions");
        }
    }
}

/// Syncs every provider every `every`, the first time one period after start.
async fn periodic_sync(state: AppState, every: std::time::Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        sync_for_server(&state, SyncTarget::All).await;
    }
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed here, before the server says it
/// is listening, so a signal sent as soon as it does ends it gracefully instead of killing it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, name: &'static str| {
            signal(kind)
                .inspect_err(|error| tracing::warn!(%error, "could not listen for {name}"))
                .ok()
        };
        let mut interrupt = listen(SignalKind::interrupt(), "Ctrl-C");
        let mut terminate = listen(SignalKind::terminate(), "SIGTERM");
        async move {
            let received = async |signal: &mut Option<tokio::signal::unix::Signal>| match signal {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            };
            tokio::select! {
                _ = received(&mut interrupt) => tracing::info!("received Ctrl-C"),
                _ = received(&mut terminate) => tracing::info!("received SIGTERM"),
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "could not listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("received Ctrl-C");
    }
}

/// The configuration as the program sees it, safe to print.
fn effective_config(settings: &Settings) -> serde_json::Value {
    let database = match &settings.database_url {
        Some(url) => redact_url(url.expose()),
        None => format!(
            "sqlite://{}",
            settings.data_dir.join("aipasta.db").display()
        ),
    };
    json!({
        "version": VERSION,
        "bind": settings.bind.to_string(),
        "data_dir": settings.data_dir.display().to_string(),
        "database_url": database,
        "log_format": format!("{:?}", settings.log_format).to_lowercase(),
        "contact_email": settings.contact_email,
        "openrouter_base_url": settings.openrouter_base_url,
        "openrouter_api_key": if settings.openrouter_key().is_some() { "set" } else { "not set" },
        "huggingface_hub_url": settings.huggingface_hub_url,
        "huggingface_router_url": settings.huggingface_router_url,
        "huggingface_api_key": if settings.huggingface_key().is_some() { "set" } else { "not set" },
        "model_sync_interval": settings.model_sync_interval.0.map(|d| format!("{}s", d.as_secs())),
        "secret_key": if settings.secret_key.is_some() { "set" } else { "generated in the data directory" },
        "admin_emails": settings.admin_email_list(),
        "secure_cookies": settings.secure_cookies,
        "public_url": settings.public_url,
        "header_timeout_seconds": settings.header_timeout,
        "trusted_proxies": settings.trusted_proxies.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "metrics_token": if settings.metrics_token.is_some() { "set" } else { "not set" },
        "sign_in_providers": auth_settings(settings, Vec::new()).oauth.iter().map(|p| p.key.clone()).collect::<Vec<_>>(),
        "redis_url": settings.redis_url.as_ref().map(|u| redact_url(u.expose())),
    })
}
