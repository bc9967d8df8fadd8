//! The server's own background work, started by [`crate::serve`] (so the binary and the tests
//! run the same) under the engine's supervisor, which logs how each ends and stops them with
//! the server: session expiry, the periodic model sync, and the catalog index warm-up.

use std::time::Duration;

use aipasta_engine::Stop;
use aipasta_engine::sync::SyncTarget;

use crate::services::sync_for_server;
use crate::state::AppState;

/// How often expired sign-in sessions are removed.
const SESSION_EXPIRY_EVERY: Duration = Duration::from_secs(3600);

/// Starts the server's workers beside the engine's.
pub fn start(state: &AppState) {
    let workers = &state.engine.workers;
    workers.spawn(
        "session expiry",
        Stop::WithServer,
        expire_sessions(state.clone()),
    );
    if let Some(every) = state.config.sync_interval {
        workers.spawn(
            "periodic model sync",
            Stop::WithServer,
            periodic_sync(state.clone(), every),
        );
    }
    // The catalog's listing index is built on first use; build it now, so the first visitor
    // of a large catalog does not wait for it.
    let db = state.db.clone();
    workers.spawn("catalog index warm-up", Stop::WithServer, async move {
        if let Err(error) = aipasta_store::catalog::prepare_index(&db).await {
            tracing::warn!(%error, "building the catalog index failed; the first listing retries");
        }
    });
}

/// Removes expired sign-in sessions every hour, the first time at start.
async fn expire_sessions(state: AppState) {
    let mut ticks = tokio::time::interval(SESSION_EXPIRY_EVERY);
    loop {
        ticks.tick().await;
        if let Err(error) = aipasta_store::accounts::delete_expired_sessions(&state.db).await {
            tracing::warn!(%error, "could not remove expired sessions");
        }
    }
}

/// Syncs every provider every `every`, the first time one period after start.
async fn periodic_sync(state: AppState, every: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        sync_for_server(&state, SyncTarget::All).await;
    }
}
