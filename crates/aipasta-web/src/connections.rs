//! The accept loop: each connection served by hyper's HTTP/1.1 server with a bounded header
//! read, finishing its requests in flight on shutdown.
//!
//! `axum::serve` takes no settings and gives hyper no timer, so hyper's header-read timeout
//! never runs: a client sending half a request line held its connection (and a file
//! descriptor) for as long as it liked. Here the header timeout runs from the moment hyper waits
//! for a request head, which is also while a kept-alive connection waits for its next request:
//! one limit bounds both a slow header and an idle connection.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::Service;

/// Serves `app` on `listener` until `shutdown` completes, then waits for the connections'
/// requests in flight (a connection between requests closes at once).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    // Dropped when the shutdown signal comes: every connection task sees it.
    let (stop, stopping) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    // Each task holds a clone; `closed()` completes when the last one is gone.
    let (open, open_connections) = watch::channel(());
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = accept(&listener) => accepted,
            () = &mut shutdown => break,
        };
        // Without TCP_NODELAY, small writes (streamed tokens) can wait ~40 ms for a delayed ACK.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let connection = http.serve_connection(
            TokioIo::new(tcp),
            hyper::service::service_fn(request_handler(app.clone(), remote)),
        );
        let mut stopping = stopping.clone();
        let open_connections = open_connections.clone();
        tokio::spawn(async move {
            let mut connection = pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_end(result),
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    log_end(connection.await);
                }
            }
            drop(open_connections);
        });
    }
    drop(listener);
    drop(stop);
    drop(open_connections);
    open.closed().await;
    Ok(())
}

/// The app as a hyper service for one connection from `remote`, which handlers read as axum's
/// `ConnectInfo`.
fn request_handler(
    app: Router,
    remote: SocketAddr,
) -> impl Fn(hyper::Request<Incoming>) -> <Router as Service<axum::extract::Request>>::Future + Clone
{
    move |request: hyper::Request<Incoming>| {
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(remote));
        // A router is always ready; a clone per request is a reference count.
        app.clone().call(request)
    }
}

/// The next connection. Errors that concern one connection are skipped; others (too many open
/// files) pause accepting for a second rather than spin.
async fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                ) => {}
            Err(error) => {
                tracing::error!(%error, "could not accept a connection; pausing for a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        // A slow or idle client timed out, or a client went away: routine.
        tracing::debug!(%error, "connection ended");
    }
}
