//! This site's own absolute address, for the few places that must give one: OAuth redirect
//! URIs, the `url` form of `/v1/images/generations`, and the examples of the API docs and the
//! playground's code panel.
//!
//! It is `AIPASTA_PUBLIC_URL` when that is set. Without it, the request's `Host` header is never
//! trusted as it comes (a hostile `Host` would send sign-ins and image links elsewhere, or
//! poison a cache): it is used only when it names this server on a loopback name with the port
//! it listens on (`localhost:3000`, `127.0.0.1:3000`, `[::1]:3000`) or the exact address it
//! listens on; any other `Host` gets the address it listens on, e.g. `http://127.0.0.1:3000`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;
use axum::http::header::HOST;

use crate::state::AppState;

/// The site's address without a trailing slash, e.g. `https://pasta.example.com`.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.auth.public_url {
        return url.trim().trim_end_matches('/').to_owned();
    }
    let Some(listening) = state.listening_on.get().copied() else {
        return "http://localhost".to_owned();
    };
    let host = headers
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| names_this_server(host, listening));
    match host {
        Some(host) => format!("http://{}", host.to_ascii_lowercase()),
        None => format!("http://{}", reachable(listening)),
    }
}

/// Whether `host` (a `Host` header) names the server listening on `listening`.
fn names_this_server(host: &str, listening: SocketAddr) -> bool {
    let plain = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !plain {
        return false;
    }
    let Ok(named) = format!("http://{host}/").parse::<axum::http::Uri>() else {
        return false;
    };
    let (Some(name), Some(port)) = (named.host(), named.port_u16()) else {
        return false;
    };
    if port != listening.port() {
        return false;
    }
    let name = name.trim_start_matches('[').trim_end_matches(']');
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match name.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip == listening.ip(),
        Err(_) => false,
    }
}

/// The listening address as a client can reach it: an unspecified one (`0.0.0.0`, `::`) is
/// reached on the loopback address.
fn reachable(listening: SocketAddr) -> SocketAddr {
    match listening.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), listening.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), listening.port())
        }
        _ => listening,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hosts_naming_this_server_are_taken() {
        let listening: SocketAddr = "0.0.0.0:3000".parse().unwrap_or_else(|_| unreachable!());
        for host in [
            "localhost:3000",
            "LOCALHOST:3000",
            "127.0.0.1:3000",
            "[::1]:3000",
        ] {
            assert!(names_this_server(host, listening), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:3000",
            "localhost",
            "localhost:3001",
            "127.0.0.1:3000@evil.example",
            "127.0.0.1:3000/evil",
            "10.0.0.8:3000",
            "localhost.evil.example:3000",
            "",
        ] {
            assert!(!names_this_server(host, listening), "{host}");
        }
        let specific: SocketAddr = "10.0.0.8:3000".parse().unwrap_or_else(|_| unreachable!());
        assert!(names_this_server("10.0.0.8:3000", specific));
        assert_eq!(reachable(listening).to_string(), "127.0.0.1:3000");
        assert_eq!(reachable(specific), specific);
        let any6: SocketAddr = "[::]:8080".parse().unwrap_or_else(|_| unreachable!());
        assert_eq!(reachable(any6).to_string(), "[::1]:8080");
    }
}
