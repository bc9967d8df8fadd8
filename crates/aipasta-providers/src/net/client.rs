//! The outbound client for user- and admin-entered URLs.
//!
//! Under the strict policy three checks stand between a URL and a private network:
//! 1. the resolver refuses names that point inside (`localhost`, metadata names) and any name
//!    with a forbidden address among its answers, and hands the connector only the addresses it
//!    checked, so a name that rebinds between a check and the connection gains nothing;
//! 2. every redirect hop is checked with [`check_url`](super::check_url) before it is followed, and hops are
//!    limited;
//! 3. every new connection's remote address is checked before the request is written (hyper
//!    connects to literal IP addresses without asking the resolver, so a literal forbidden
//!    address that was never given to [`check_url`](super::check_url) is caught here, after the TCP handshake and
//!    before any byte of the request). Proxies are off: a proxy would connect in our place.
//!
//! Callers still run [`check_url`](super::check_url) when a URL is entered and before it is used: it gives the
//! clearest message and refuses a literal forbidden address before anything connects.

use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::client::legacy::connect::{Connection, HttpInfo};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;

use super::policy::{SsrfError, UrlPolicy, check_host_name, check_parsed_url, forbidden_reason};

type BoxError = Box<dyn StdError + Send + Sync>;

/// Redirects followed at most per request.
pub const MAX_REDIRECTS: usize = 5;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
const USER_AGENT: &str = concat!("AIPasta/", env!("CARGO_PKG_VERSION"));

/// The outbound client for URLs entered through the UI or the API. With
/// `policy.allow_private == false` it resolves names itself and refuses forbidden addresses
/// (see the module documentation); with `allow_private == true` it is an ordinary client. Both
/// re-check every redirect hop with [`check_url`](super::check_url) under `policy` (so neither follows a redirect
/// to a URL carrying credentials), follow at most [`MAX_REDIRECTS`], and use `TCP_NODELAY`, a
/// 10 s connect timeout, a 90 s idle-pool timeout and the user agent `AIPasta/<version>`.
/// Per-request timeouts are the caller's.
///
/// Errors only when the TLS backend cannot be set up; there is no unguarded fallback.
pub fn guarded_client(policy: UrlPolicy) -> Result<reqwest::Client, SsrfError> {
    let builder = if policy.allow_private {
        base_builder(policy)
    } else {
        strict_builder(Arc::new(Guard::default()))
    };
    builder
        .build()
        .map_err(|e| SsrfError::Client(e.to_string()))
}

/// The [`SsrfError`] behind a failed request, if the guard refused it: for messages to people
/// (`reqwest::Error`'s own text names only the URL).
pub fn ssrf_cause(error: &reqwest::Error) -> Option<&SsrfError> {
    let mut source: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(cause) = source {
        if let Some(ssrf) = cause.downcast_ref::<SsrfError>() {
            return Some(ssrf);
        }
        source = cause.source();
    }
    None
}

fn base_builder(policy: UrlPolicy) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .tcp_nodelay(true)
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .redirect(redirect_policy(policy))
}

fn strict_builder(guard: Arc<Guard>) -> reqwest::ClientBuilder {
    base_builder(UrlPolicy::STRICT)
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver {
            guard: Arc::clone(&guard),
        }))
        .connector_layer(ConnectGuardLayer { guard })
}

fn redirect_policy(policy: UrlPolicy) -> redirect::Policy {
    redirect::Policy::custom(move |attempt| {
        // `previous` holds every URL requested so far, the first one included.
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(SsrfError::TooManyRedirects {
                limit: MAX_REDIRECTS,
            });
        }
        match check_parsed_url(attempt.url(), &policy) {
            Ok(()) => attempt.follow(),
            Err(refused) => attempt.error(refused),
        }
    })
}

/// The strict policy's address checks, shared by the resolver and the connect guard.
#[derive(Debug, Default)]
struct Guard {
    /// Tests only: one loopback listener treated as public, so the checks around it can be
    /// exercised offline. Always `None` in production.
    #[cfg(test)]
    public_for_tests: Option<SocketAddr>,
}

impl Guard {
    /// Every answer of the lookup must be allowed; the connector gets exactly these.
    fn check_resolved(&self, host: &str, addrs: Vec<SocketAddr>) -> Result<Addrs, SsrfError> {
        if addrs.is_empty() {
            return Err(SsrfError::NoAddresses {
                host: host.to_owned(),
            });
        }
        for addr in &addrs {
            if let Some(reason) = forbidden_reason(addr.ip()) {
                return Err(SsrfError::ResolvesToForbidden {
                    host: host.to_owned(),
                    ip: addr.ip(),
                    reason,
                });
            }
        }
        Ok(Box::new(addrs.into_iter()))
    }

    fn check_peer(&self, peer: SocketAddr) -> Result<(), SsrfError> {
        #[cfg(test)]
        if self.public_for_tests == Some(peer) {
            return Ok(());
        }
        match forbidden_reason(peer.ip()) {
            Some(reason) => Err(SsrfError::ForbiddenAddress {
                ip: peer.ip(),
                reason,
            }),
            None => Ok(()),
        }
    }
}

/// Resolves with the system resolver and refuses any forbidden answer.
struct GuardedResolver {
    guard: Arc<Guard>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = Arc::clone(&self.guard);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            check_host_name(&host)?;
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| SsrfError::Resolve {
                    host: host.clone(),
                    message: e.to_string(),
                })?
                .collect();
            Ok(guard.check_resolved(&host, addrs)?)
        })
    }
}

/// Wraps reqwest's connector: a new connection whose remote address is forbidden is dropped
/// before it is used.
#[derive(Clone)]
struct ConnectGuardLayer {
    guard: Arc<Guard>,
}

impl<S> tower::Layer<S> for ConnectGuardLayer {
    type Service = ConnectGuard<S>;

    fn layer(&self, inner: S) -> ConnectGuard<S> {
        ConnectGuard {
            inner,
            guard: Arc::clone(&self.guard),
        }
    }
}

#[derive(Clone)]
struct ConnectGuard<S> {
    inner: S,
    guard: Arc<Guard>,
}

impl<S, Request> tower::Service<Request> for ConnectGuard<S>
where
    S: tower::Service<Request, Error = BoxError>,
    S::Response: Connection + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let connecting = self.inner.call(request);
        let guard = Arc::clone(&self.guard);
        Box::pin(async move {
            let connection = connecting.await?;
            let mut extras = http::Extensions::new();
            connection.connected().get_extras(&mut extras);
            let peer = extras
                .get::<HttpInfo>()
                .map(HttpInfo::remote_addr)
                .ok_or(SsrfError::UnknownPeer)?;
            guard.check_peer(peer)?;
            Ok(connection)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Mutex;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A tiny HTTP/1.1 server on 127.0.0.1 that answers each request with `respond(path, its
    /// own address)` and records connections and request paths.
    struct TestServer {
        addr: SocketAddr,
        paths: Arc<Mutex<Vec<String>>>,
        connections: Arc<Mutex<usize>>,
    }

    async fn serve(
        respond: impl Fn(&str, SocketAddr) -> String + Send + Sync + 'static,
    ) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let paths = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let (seen, count, respond) = (
            Arc::clone(&paths),
            Arc::clone(&connections),
            Arc::new(respond),
        );
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                *count.lock().unwrap() += 1;
                let (seen, respond) = (Arc::clone(&seen), Arc::clone(&respond));
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    let path = head.split(' ').nth(1).unwrap_or("").to_owned();
                    seen.lock().unwrap().push(path.clone());
                    let response = respond(&path, addr);
                    let _ = stream.write_all(response.as_bytes()).await;
                });
            }
        });
        TestServer {
            addr,
            paths,
            connections,
        }
    }

    fn redirect_to(location: &str) -> String {
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    }

    fn ok(body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    /// The strict client, except that `public` (a loopback listener, reached as `public.test`)
    /// counts as a public address; `inside.test` resolves to `inside` without the resolver.
    fn strict_client(public: SocketAddr, inside: Option<SocketAddr>) -> reqwest::Client {
        let guard = Guard {
            public_for_tests: Some(public),
        };
        let mut builder = strict_builder(Arc::new(guard)).resolve("public.test", public);
        if let Some(inside) = inside {
            builder = builder.resolve("inside.test", inside);
        }
        builder.build().unwrap()
    }

    fn refusal(error: &reqwest::Error) -> SsrfError {
        ssrf_cause(error)
            .cloned()
            .unwrap_or_else(|| panic!("not refused by the guard: {error:?}"))
    }

    #[tokio::test]
    async fn redirects_between_allowed_hops_are_followed() {
        let server = serve(|path, addr| match path {
            "/start" => redirect_to(&format!("http://public.test:{}/end", addr.port())),
            _ => ok("arrived"),
        })
        .await;
        let client = strict_client(server.addr, None);
        let url = format!("http://public.test:{}/start", server.addr.port());
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), "arrived");
        assert_eq!(*server.paths.lock().unwrap(), ["/start", "/end"]);
    }

    #[tokio::test]
    async fn a_redirect_to_a_forbidden_hop_is_refused_before_connecting() {
        let target = serve(|_, _| ok("secret")).await;
        let port = target.addr.port();
        for location in [
            format!("http://127.0.0.1:{port}/secret"),
            format!("http://localhost:{port}/secret"),
            format!("http://[::ffff:127.0.0.1]:{port}/secret"),
            format!("http://2130706433:{port}/secret"),
            format!("http://0x7f.1:{port}/secret"),
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "http://metadata.google.internal/computeMetadata/v1/".to_owned(),
            format!("http://user:pass@public.test:{port}/"),
        ] {
            let redirect = redirect_to(&location);
            let redirector = serve(move |_, _| redirect.clone()).await;
            let client = strict_client(redirector.addr, None);
            let url = format!("http://public.test:{}/start", redirector.addr.port());
            let error = client.get(&url).send().await.unwrap_err();
            let refused = refusal(&error);
            assert!(
                matches!(
                    refused,
                    SsrfError::ForbiddenAddress { .. }
                        | SsrfError::ForbiddenHost { .. }
                        | SsrfError::Credentials
                ),
                "{location}: {refused}"
            );
            assert_eq!(*redirector.paths.lock().unwrap(), ["/start"]);
        }
        assert_eq!(*target.connections.lock().unwrap(), 0, "no hop reached it");
    }

    #[tokio::test]
    async fn a_hop_to_a_name_that_resolves_inside_is_cut_before_the_request() {
        let target = serve(|_, _| ok("secret")).await;
        let location = format!("http://inside.test:{}/secret", target.addr.port());
        let redirector = serve(move |_, _| redirect_to(&location)).await;
        let client = strict_client(redirector.addr, Some(target.addr));
        let url = format!("http://public.test:{}/start", redirector.addr.port());
        let error = client.get(&url).send().await.unwrap_err();
        assert!(
            matches!(refusal(&error), SsrfError::ForbiddenAddress { .. }),
            "{error:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            target.paths.lock().unwrap().is_empty(),
            "no request reached the inside listener"
        );
    }

    #[tokio::test]
    async fn endless_redirects_stop_at_the_limit() {
        let server =
            serve(|_, addr| redirect_to(&format!("http://public.test:{}/again", addr.port())))
                .await;
        let client = strict_client(server.addr, None);
        let url = format!("http://public.test:{}/start", server.addr.port());
        let error = client.get(&url).send().await.unwrap_err();
        assert_eq!(
            refusal(&error),
            SsrfError::TooManyRedirects {
                limit: MAX_REDIRECTS
            }
        );
        assert_eq!(server.paths.lock().unwrap().len(), MAX_REDIRECTS + 1);
    }

    #[tokio::test]
    async fn the_resolver_refuses_inside_names_and_checks_every_answer() {
        let resolver = GuardedResolver {
            guard: Arc::new(Guard::default()),
        };
        for host in ["localhost", "api.localhost", "metadata.google.internal"] {
            let name: Name = host.parse().unwrap();
            let error = match resolver.resolve(name).await {
                Ok(_) => panic!("{host} resolved"),
                Err(error) => error,
            };
            assert!(
                error.downcast_ref::<SsrfError>().is_some(),
                "{host}: {error}"
            );
        }
        let guard = Guard::default();
        let public = SocketAddr::from(([93, 184, 216, 34], 0));
        let inside = SocketAddr::from(([10, 0, 0, 5], 0));
        assert!(guard.check_resolved("a.example", vec![public]).is_ok());
        let refused = guard
            .check_resolved("rebind.example", vec![public, inside])
            .err()
            .unwrap();
        assert_eq!(
            refused.to_string(),
            "the host rebind.example resolves to 10.0.0.5, a private network address; an admin \
             can allow private addresses for this endpoint"
        );
        assert!(matches!(
            guard.check_resolved("empty.example", Vec::new()),
            Err(SsrfError::NoAddresses { .. })
        ));
    }
}
