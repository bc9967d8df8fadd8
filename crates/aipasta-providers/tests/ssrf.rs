//! The SSRF guard from the outside: hostile URLs refused in every spelling the URL parser
//! accepts, ordinary public URLs accepted, and the guarded client refusing a real listener on
//! 127.0.0.1 unless private addresses are allowed. Runs offline (redirect hops between a
//! "public" test listener and a forbidden one are covered by the unit tests in `net::client`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aipasta_providers::net::{SsrfError, UrlPolicy, check_url, guarded_client, ssrf_cause};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const HOSTILE: &[&str] = &[
    // IPv4 loopback in every spelling WHATWG accepts.
    "http://127.0.0.1/",
    "http://127.0.0.1:11434/v1",
    " http://127.0.0.1/ ",
    "http://127.0.0.1./",
    "http://127.1/",
    "http://127.0.1/",
    "http://2130706433/",
    "http://017700000001/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0x7f.0x0.0x0.0x1/",
    "http://0177.0.0.01/",
    "http://127.000.000.001/",
    "http://%31%32%37.0.0.1/",
    "http://\u{ff11}\u{ff12}\u{ff17}.\u{ff10}.\u{ff10}.\u{ff11}/",
    "https://127.0.0.1:443/",
    // This host, whatever it listens on.
    "http://0/",
    "http://0.0.0.0/",
    "http://0.0.0.0:8080/",
    "http://[::]/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]:8080/",
    // IPv6 forms that carry a forbidden IPv4 address.
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:0:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://[2002:c0a8:0101::]/",
    // Private, link-local, shared and special IPv4.
    "http://10.0.0.5/",
    "http://10.255.255.255:8000/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://3232235777/",
    "http://0300.0250.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0xa9fea9fe/",
    "http://100.64.0.1/",
    "http://100.100.100.200/latest/meta-data/",
    "http://192.0.0.170/",
    "http://198.18.0.1/",
    "http://192.0.2.10/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    // Private and special IPv6.
    "http://[fd00::1]/",
    "http://[fc00::1]:8080/",
    "http://[fe80::1]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    "http://[2001:db8::1]/",
    // Names for this host, private-use names and metadata services.
    "http://localhost/",
    "http://LOCALHOST:8080/",
    "http://localhost./",
    "http://foo.localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/",
    "http://instance-data/latest/",
    "http://db.cluster.internal/",
    "http://printer.local/",
    "http://router.home.arpa/",
    // Credentials in the URL.
    "https://user:pass@api.openai.com/v1",
    "https://user@api.openai.com/v1",
    "https://:secret@api.openai.com/v1",
    "http://api.openai.com@127.0.0.1/",
    // Other schemes, and things that are not URLs.
    "ftp://example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "javascript:alert(1)",
    "data:text/plain,hello",
    "ws://example.com/",
    "127.0.0.1",
    "example.com/v1",
    "",
    "http://",
    "http://[::1/",
    "http://256.256.256.256/",
];

const PUBLIC: &[&str] = &[
    "https://openrouter.ai/api/v1",
    "https://api.openai.com/v1",
    "https://huggingface.co",
    "https://router.huggingface.co/v1/",
    "https://api.together.xyz/v1",
    "http://example.com:8080/v1/",
    "https://example.com/path?query=1#fragment",
    "https://1.1.1.1/",
    "http://8.8.8.8:11434/",
    "https://100.128.0.1/",
    "https://172.32.0.1/",
    "https://[2606:4700:4700::1111]/",
    "http://[::ffff:8.8.8.8]/",
    "https://bücher.example/",
    "https://localhost.example.com/",
    "https://metadata.example.com/",
];

#[test]
fn hostile_urls_are_refused() {
    assert!(HOSTILE.len() >= 40);
    for url in HOSTILE {
        assert!(
            check_url(url, &UrlPolicy::STRICT).is_err(),
            "{url:?} should be refused, got {:?}",
            check_url(url, &UrlPolicy::STRICT).map(|u| u.to_string())
        );
    }
}

#[test]
fn ordinary_public_urls_are_accepted() {
    for url in PUBLIC {
        let checked = check_url(url, &UrlPolicy::STRICT);
        assert!(checked.is_ok(), "{url:?} should be accepted: {checked:?}");
    }
    let parsed = check_url(" https://OpenRouter.AI/api/v1 ", &UrlPolicy::STRICT).unwrap();
    assert_eq!(parsed.as_str(), "https://openrouter.ai/api/v1");
}

#[test]
fn an_admin_may_allow_private_addresses_but_not_credentials_or_other_schemes() {
    for url in [
        "http://localhost:11434/v1",
        "http://127.0.0.1:8000/v1",
        "http://10.0.0.5/v1",
        "http://[::1]:8080/",
        "http://ollama.internal:11434/",
        "http://169.254.169.254/",
    ] {
        assert!(
            check_url(url, &UrlPolicy::ALLOW_PRIVATE).is_ok(),
            "{url} is allowed for an admin"
        );
        assert!(check_url(url, &UrlPolicy::STRICT).is_err(), "{url}");
    }
    for url in [
        "http://user:pass@localhost:11434/",
        "file:///etc/passwd",
        "not a url",
    ] {
        assert!(
            check_url(url, &UrlPolicy::ALLOW_PRIVATE).is_err(),
            "{url} is refused even for an admin"
        );
    }
}

#[test]
fn refusals_say_what_is_wrong_and_what_to_do() {
    let message = |url: &str| check_url(url, &UrlPolicy::STRICT).unwrap_err().to_string();
    assert_eq!(
        message("http://10.0.0.5/"),
        "the address 10.0.0.5 is a private network address; an admin can allow private \
         addresses for this endpoint"
    );
    assert_eq!(
        message("http://2130706433/"),
        "the address 127.0.0.1 is a loopback address (this server itself); an admin can allow \
         private addresses for this endpoint"
    );
    assert_eq!(
        message("http://[::ffff:a9fe:a9fe]/"),
        "the address ::ffff:169.254.169.254 is an IPv6 form of 169.254.169.254, a link-local \
         address (where cloud metadata services answer); an admin can allow private addresses \
         for this endpoint"
    );
    assert_eq!(
        message("http://localhost:11434/"),
        "the host localhost is a name for this server itself; an admin can allow private \
         addresses for this endpoint"
    );
    assert_eq!(
        message("https://me:pw@example.com/"),
        "URLs cannot carry a user name or password; put the API key in the key field instead"
    );
    assert_eq!(
        message("file:///etc/passwd"),
        "only http:// and https:// URLs are allowed, not file URLs"
    );
    assert!(matches!(
        check_url(
            &format!("https://example.com/{}", "a".repeat(3000)),
            &UrlPolicy::STRICT
        ),
        Err(SsrfError::TooLong)
    ));
}

/// A listener on 127.0.0.1 that answers 200 and counts connections and requests.
struct Listener {
    addr: SocketAddr,
    connections: Arc<Mutex<usize>>,
    requests: Arc<Mutex<usize>>,
}

async fn listen() -> Listener {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(Mutex::new(0));
    let requests = Arc::new(Mutex::new(0));
    let (accepted, answered) = (Arc::clone(&connections), Arc::clone(&requests));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            *accepted.lock().unwrap() += 1;
            let answered = Arc::clone(&answered);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut chunk = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&chunk[..n]),
                    }
                }
                *answered.lock().unwrap() += 1;
                let body = "hello from inside";
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    Listener {
        addr,
        connections,
        requests,
    }
}

#[tokio::test]
async fn the_strict_client_refuses_a_listener_on_loopback() {
    let inside = listen().await;
    let client = guarded_client(UrlPolicy::STRICT).unwrap();
    let port = inside.addr.port();

    // By name: refused before any lookup or connection.
    let error = client
        .get(format!("http://localhost:{port}/"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(ssrf_cause(&error), Some(SsrfError::ForbiddenHost { .. })),
        "{error:?}"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(*inside.connections.lock().unwrap(), 0, "nothing connected");

    // By literal address (which `check_url` refuses first in real use): hyper connects to a
    // literal without asking the resolver, so the guard closes the connection before a request.
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://2130706433:{port}/"),
    ] {
        let error = client.get(&url).send().await.unwrap_err();
        assert!(
            matches!(ssrf_cause(&error), Some(SsrfError::ForbiddenAddress { .. })),
            "{url}: {error:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(*inside.requests.lock().unwrap(), 0, "no request was sent");
}

#[tokio::test]
async fn with_private_addresses_allowed_the_client_connects() {
    let inside = listen().await;
    let client = guarded_client(UrlPolicy::ALLOW_PRIVATE).unwrap();
    let port = inside.addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
    ] {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.text().await.unwrap(), "hello from inside");
    }
    assert_eq!(*inside.requests.lock().unwrap(), 2);
}
