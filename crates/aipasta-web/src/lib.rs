//! AI Pasta's HTTP server: pages, the JSON API under `/api`, and (later) the `/v1` gateway.
//!
//! [`router`] builds the whole application from an [`AppState`]; [`serve`] runs it on a listener
//! until a shutdown signal. The binary and the integration tests start the app the same way.

mod account;
mod admin;
mod api;
mod apidocs;
pub mod assets;
pub mod auth;
mod catalog;
mod charts;
mod chrome;
mod connections;
mod dashboard;
mod error;
mod generations;
pub mod markdown;
mod middleware;
mod observability;
mod pages;
mod playground;
pub mod ratelimit;
pub mod services;
mod site;
mod state;
mod v1;
mod workers;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

pub use error::{ApiError, ApiResult};
pub use state::{AppState, ServerSettings, WebConfig, outbound_client};

/// Every route with its access rule (see `auth::access`).
pub fn routes() -> auth::Routes {
    use auth::Access::Public;
    pages::routes()
        .merge(catalog::pages::routes())
        .merge(api::routes())
        .merge(auth::api::routes())
        .merge(auth::pages::routes())
        .merge(auth::oauth::routes())
        .merge(account::routes())
        .merge(dashboard::routes())
        .merge(generations::api::routes())
        .merge(playground::routes())
        .merge(v1::routes())
        .merge(apidocs::routes())
        .merge(admin::routes())
        .merge(observability::routes())
        .merge(auth::Routes::new().get("/static/{hash}/{name}", Public, assets::serve))
}

/// The whole application: routes and the middleware every response passes through.
pub fn router(state: AppState) -> Router {
    let (routes, _rules) = routes().into_parts();
    let routes = routes.fallback(pages::not_found);
    middleware::wrap(routes, state)
}

/// Serves `state` on `listener` until `shutdown` completes, then finishes the requests in flight
/// within the engine's shutdown timeout. Before serving, generations a previous process could
/// not write (its spill file) are written, and rows it left running are marked interrupted.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(address) = listener.local_addr() {
        let _ = state.listening_on.set(address);
        warn_without_public_url(&state, address);
    }
    if let Some(file) = &state.config.engine.spill_file {
        let replayed = aipasta_store::generations::spill::replay(&state.db, file)
            .await
            .map_err(|error| {
                std::io::Error::other(format!(
                    "could not write the generations saved at the last shutdown ({}): {error}",
                    file.display()
                ))
            })?;
        if replayed != Default::default() {
            tracing::warn!(
                written = replayed.written,
                already_stored = replayed.already_stored,
                lost = replayed.lost,
                "wrote the generations the last shutdown saved to the spill file"
            );
        }
    }
    match aipasta_engine::Engine::recover(&state.db).await {
        Ok(0) => {}
        Ok(count) => tracing::warn!(
            count,
            "generations left running by a stopped server are now marked interrupted"
        ),
        Err(error) => tracing::error!(%error, "could not mark interrupted generations"),
    }
    // The catalog catches up with the providers beside the server, never before it.
    services::background_sync::sync_at_start(&state);
    workers::start(&state);
    let background = state.clone();
    let engine = state.engine.clone();
    let timeout = state.config.engine.shutdown_timeout;
    let (deadline_set, mut deadline) = tokio::sync::watch::channel(None);
    let draining = engine.clone();
    let shutdown = async move {
        shutdown.await;
        let at = tokio::time::Instant::now() + timeout;
        deadline_set.send_replace(Some(at));
        // Running generations get a grace period, then end as interrupted (their text kept)
        // so that the streams attached to them close and the server can stop.
        tokio::spawn(async move { draining.shutdown(at).await });
    };
    let header_timeout = state.config.server.header_timeout;
    let proxies = connections::TrustedProxies::new(state.config.server.trusted_proxies.clone());
    let served = connections::serve(listener, router(state), header_timeout, proxies, shutdown);
    // Connections still open at the deadline (a client that never reads) do not hold the
    // process: a supervisor's SIGKILL would lose what the shutdown is writing.
    let out_of_time = {
        let mut deadline = deadline.clone();
        async move {
            let Ok(at) = deadline.wait_for(Option::is_some).await.map(|at| *at) else {
                return std::future::pending().await;
            };
            tokio::time::sleep_until(
                at.unwrap_or_else(tokio::time::Instant::now) + HTTP_AFTER_DEADLINE,
            )
            .await;
        }
    };
    let served = tokio::select! {
        served = served => served,
        () = out_of_time => {
            tracing::warn!("connections still open at the shutdown deadline were closed");
            Ok(())
        }
    };
    background.background_syncs.stop_all();
    // Generations nobody was attached to, and every queued write.
    let at = deadline
        .borrow_and_update()
        .unwrap_or_else(|| tokio::time::Instant::now() + timeout);
    engine.shutdown(at).await;
    engine.workers.stop_all();
    served
}

/// How long past the shutdown deadline open connections get to receive the answers that
/// became durable (written or spilled) at the deadline.
const HTTP_AFTER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// Without `AIPASTA_PUBLIC_URL`, absolute URLs use this server's own address (see `site`):
/// right on one machine, wrong behind a proxy or for OAuth from elsewhere. Say so at start.
fn warn_without_public_url(state: &AppState, address: std::net::SocketAddr) {
    if state.config.auth.public_url.is_some() {
        return;
    }
    if !state.config.auth.oauth.is_empty() || !address.ip().is_loopback() {
        tracing::warn!(
            %address,
            "AIPASTA_PUBLIC_URL is not set: OAuth callbacks, image links and API examples use \
             http://{address}; set it to the address people use (e.g. https://pasta.example.com)"
        );
    }
}
