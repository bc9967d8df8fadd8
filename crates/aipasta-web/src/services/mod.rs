//! Work beyond one request that needs the server's state: model syncs in the background.

pub mod background_sync;

use aipasta_engine::Change;
use aipasta_engine::sync::{ProviderReport, SyncTarget, sync_models};

use crate::state::AppState;

/// [`sync_models`] with the server's client, sources and keys, without progress; then tells
/// the engine the catalog changed, so model rows and endpoints are read again.
pub async fn sync_for_server(state: &AppState, target: SyncTarget) -> Vec<ProviderReport> {
    let reports = sync_models(
        &state.db,
        &state.http,
        &state.config.sync,
        state.engine.directory.secret_box(),
        target,
        &|_| {},
    )
    .await;
    state.catalog_changed();
    // A sync records its outcome on the endpoint's row.
    state.engine.changed(Change::Providers);
    reports
}
