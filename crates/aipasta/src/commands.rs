//! The commands `aipasta` runs.

use std::time::Instant;

use anyhow::Context;
use serde_json::json;
use tokio::net::TcpListener;

use aipasta_core::VERSION;
use aipasta_store::{Db, redact_url};
use aipasta_web::{AppState, WebConfig};

use crate::cli::{Cli, Command, Settings};

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
    }
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
    let config = WebConfig {
        contact_email: settings.contact_email.clone(),
    };
    let state = AppState::new(db.clone(), config);
    tracing::info!(
        version = VERSION,
        database = db.backend().as_str(),
        startup_ms = started.elapsed().as_millis() as u64,
        "AI Pasta is listening on http://{address}"
    );
    aipasta_web::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("shutting down: requests finished, closing the database");
    db.close().await;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "could not listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "could not listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("received Ctrl-C"),
        () = terminate => tracing::info!("received SIGTERM"),
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
    })
}
