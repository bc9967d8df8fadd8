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
mod state;
mod v1;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;

pub use error::{ApiError, ApiResult};
pub use state::{AppState, WebConfig, outbound_client};

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
    // Without TCP_NODELAY, small writes (streamed tokens) can wait ~40 ms for a delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    match engine::Engine::recover(&state.db).await {
        Ok(0) => {}
        Ok(count) => tracing::warn!(
            count,
            "generations left running by a stopped server are now marked interrupted"
        ),
        Err(error) => tracing::error!(%error, "could not mark interrupted generations"),
    }
    // The catalog catches up with the providers beside the server, never before it.
    services::background_sync::sync_at_start(&state);
    let background = state.clone();
    let engine = state.engine.clone();
    let draining = engine.clone();
    let shutdown = async move {
        shutdown.await;
        // Running generations get a grace period, then end as interrupted (their text kept)
        // so that the streams attached to them close and the server can stop.
        tokio::spawn(async move { draining.shutdown(SHUTDOWN_GRACE).await });
    };
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    background.background_syncs.stop_all();
    // Generations nobody was attached to, and every queued write.
    engine.shutdown(SHUTDOWN_GRACE).await;
    served
}

/// How long running generations may go on after a shutdown signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);
