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
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::Service;

/// The header reverse proxies append the address they were reached from to.
const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Serves `app` on `listener` until `shutdown` completes, then waits for the connections'
/// requests in flight (a connection between requests closes at once).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    proxies: TrustedProxies,
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
            hyper::service::service_fn(request_handler(app.clone(), remote, proxies.clone())),
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
/// `ConnectInfo` (the client behind it, when `remote` is a trusted proxy).
fn request_handler(
    app: Router,
    remote: SocketAddr,
    proxies: TrustedProxies,
) -> impl Fn(hyper::Request<Incoming>) -> <Router as Service<axum::extract::Request>>::Future + Clone
{
    move |request: hyper::Request<Incoming>| {
        let client = proxies.client_of(remote, request.headers());
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(client));
        // A router is always ready; a clone per request is a reference count.
        app.clone().call(request)
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed (`AIPASTA_TRUSTED_PROXIES`).
#[derive(Clone, Default)]
pub(crate) struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    pub(crate) fn new(proxies: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(proxies.into())
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Who a request from `remote` comes from. From a trusted proxy, it is the last address of
    /// `X-Forwarded-For` that is not itself a trusted proxy: each proxy appends the address it
    /// was reached from, so everything left of that address may be made up by the client. A
    /// header that does not parse is not believed at all.
    fn client_of(&self, remote: SocketAddr, headers: &HeaderMap) -> SocketAddr {
        if self.0.is_empty() || !self.trusts(remote.ip()) {
            return remote;
        }
        let mut hops = Vec::new();
        for value in headers.get_all(X_FORWARDED_FOR) {
            let Ok(value) = value.to_str() else {
                return remote;
            };
            for hop in value.split(',') {
                match hop.trim().parse::<IpAddr>() {
                    Ok(ip) => hops.push(ip),
                    Err(_) => return remote,
                }
            }
        }
        let client = hops
            .iter()
            .rev()
            .find(|ip| !self.trusts(**ip))
            .or(hops.first())
            .copied();
        client.map_or(remote, |ip| {
            SocketAddr::new(ip.to_canonical(), remote.port())
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn client(proxies: &[&str], remote: &str, forwarded: &[&str]) -> String {
        let proxies = TrustedProxies::new(proxies.iter().map(|p| p.parse().unwrap()).collect());
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append(X_FORWARDED_FOR, value.parse().unwrap());
        }
        let remote: SocketAddr = remote.parse().unwrap();
        proxies.client_of(remote, &headers).ip().to_string()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        // No proxies configured, or a peer that is not one: the header is ignored.
        assert_eq!(client(&[], "127.0.0.1:9", &["203.0.113.5"]), "127.0.0.1");
        assert_eq!(
            client(&["10.0.0.0/8"], "127.0.0.1:9", &["203.0.113.5"]),
            "127.0.0.1"
        );
        // From a proxy: the client it names.
        assert_eq!(
            client(&["127.0.0.1/32"], "127.0.0.1:9", &["203.0.113.5"]),
            "203.0.113.5"
        );
        // A client's own made-up entries sit to the left of what the proxy appended.
        assert_eq!(
            client(&["127.0.0.1/32"], "127.0.0.1:9", &["6.6.6.6, 203.0.113.5"]),
            "203.0.113.5"
        );
        // Through two proxies, one header or two.
        assert_eq!(
            client(
                &["127.0.0.1/32", "10.0.0.0/8"],
                "127.0.0.1:9",
                &["198.51.100.7, 10.1.2.3"]
            ),
            "198.51.100.7"
        );
        assert_eq!(
            client(
                &["127.0.0.1/32", "10.0.0.0/8"],
                "127.0.0.1:9",
                &["198.51.100.7", "10.1.2.3"]
            ),
            "198.51.100.7"
        );
        // No header, or one that does not parse: the proxy itself.
        assert_eq!(client(&["127.0.0.1/32"], "127.0.0.1:9", &[]), "127.0.0.1");
        assert_eq!(
            client(&["127.0.0.1/32"], "127.0.0.1:9", &["unknown"]),
            "127.0.0.1"
        );
        // IPv4 seen through an IPv6 socket.
        assert_eq!(
            client(
                &["127.0.0.1/32"],
                "[::ffff:127.0.0.1]:9",
                &["::ffff:203.0.113.9"]
            ),
            "203.0.113.9"
        );
    }
}
