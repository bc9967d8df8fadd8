//! Serving a mock's router in the background until its handle is dropped, shared by every mock
//! so they all start and stop the same way.

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves `app` on `listener` on a spawned task until `stopping` turns `true` (the handle's
/// `Drop` flips it).
pub(crate) fn serve_until_stopped(
    listener: TcpListener,
    app: Router,
    mut stopping: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let stopped = async move {
            // An error means the sender is gone, which also means stop.
            let _ = stopping.wait_for(|stop| *stop).await;
        };
        // Serving only ends on shutdown or a listener failure; neither needs reporting.
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await;
    });
}
