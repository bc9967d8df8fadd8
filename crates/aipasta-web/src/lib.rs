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
mod chrome;
mod connections;
pub mod engine;
mod error;
mod generations;
mod markdown;
mod middleware;
mod observability;
mod pages;
mod playground;
pub mod ratelimit;
pub mod services;
mod site;
mod state;
mod v1;

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

/// Serves `state` on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(address) = listener.local_addr() {
        let _ = state.listening_on.set(address);
        warn_without_public_url(&state, address);
    }
    match engine::Engine::recover(&state.db).await {
        Ok(0) => {}
        Ok(count) => tracing::warn!(
            count,
            "generations left running by a stopped server are now marked interrupted"
        ),
        Err(error) => tracing::error!(%error, "could not mark interrupted generations"),
    }
    let engine = state.engine.clone();
    let draining = engine.clone();
    let shutdown = async move {
        shutdown.await;
        // Running generations get a grace period, then end as interrupted (their text kept)
        // so that the streams attached to them close and the server can stop.
        tokio::spawn(async move { draining.shutdown(SHUTDOWN_GRACE).await });
    };
    let header_timeout = state.config.server.header_timeout;
    let served = connections::serve(listener, router(state), header_timeout, shutdown).await;
    // Generations nobody was attached to, and every queued write.
    engine.shutdown(SHUTDOWN_GRACE).await;
    served
}

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

/// How long running generations may go on after a shutdown signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);
