//! Which URLs and addresses an outbound request may reach: [`check_url`] for a URL as entered,
//! [`is_forbidden_ip`] for an address (literal or resolved).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Longer URLs are refused before parsing (nobody types a 2 KiB endpoint).
pub const MAX_URL_LEN: usize = 2048;

/// How far a URL may reach. URLs entered through the UI or the API use the strict default; the
/// operator's own environment settings are trusted and use `allow_private: true`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Private, loopback and link-local addresses (and names such as `localhost`) are allowed
    /// only when an admin allows them for this endpoint.
    pub allow_private: bool,
}

impl UrlPolicy {
    /// Public addresses only: the policy for URLs entered through the UI or the API.
    pub const STRICT: UrlPolicy = UrlPolicy {
        allow_private: false,
    };
    /// Any address: the operator's own settings, or an endpoint an admin allowed.
    pub const ALLOW_PRIVATE: UrlPolicy = UrlPolicy {
        allow_private: true,
    };
}

const ADMIN_CAN_ALLOW: &str = "an admin can allow private addresses for this endpoint";

/// Why a URL or a connection was refused, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsrfError {
    #[error("this is not a valid URL: {0}")]
    InvalidUrl(String),
    #[error("this URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("only http:// and https:// URLs are allowed, not {0} URLs")]
    UnsupportedScheme(String),
    #[error("URLs cannot carry a user name or password; put the API key in the key field instead")]
    Credentials,
    #[error("this URL has no host")]
    MissingHost,
    #[error("the address {ip} is {reason}; {ADMIN_CAN_ALLOW}")]
    ForbiddenAddress { ip: IpAddr, reason: String },
    #[error("the host {host} is {reason}; {ADMIN_CAN_ALLOW}")]
    ForbiddenHost { host: String, reason: &'static str },
    #[error("the host {host} resolves to {ip}, {reason}; {ADMIN_CAN_ALLOW}")]
    ResolvesToForbidden {
        host: String,
        ip: IpAddr,
        reason: String,
    },
    #[error("could not look up the host {host}: {message}")]
    Resolve { host: String, message: String },
    #[error("the host {host} has no addresses")]
    NoAddresses { host: String },
    #[error("the server redirected more than {limit} times")]
    TooManyRedirects { limit: usize },
    #[error("the connection's remote address could not be checked, so it was closed")]
    UnknownPeer,
    #[error("could not set up the outbound HTTP client: {0}")]
    Client(String),
}

/// Parses `url` as a browser would (WHATWG) and refuses what may not be fetched under `policy`:
/// schemes other than http and https, user names and passwords, and, unless
/// `policy.allow_private`, hosts that are forbidden addresses in any spelling the parser accepts
/// (`2130706433`, `0x7f.1`, `127.1`, `[::ffff:7f00:1]`, ...), `localhost` and `*.localhost`,
/// private-use names (`*.internal`, `*.local`, `*.home.arpa`) and cloud metadata names.
///
/// A name that passes may still resolve to a private address: the guarded client checks the
/// addresses it resolves and connects to.
pub fn check_url(url: &str, policy: &UrlPolicy) -> Result<Url, SsrfError> {
    let url = url.trim();
    if url.len() > MAX_URL_LEN {
        return Err(SsrfError::TooLong);
    }
    let parsed = Url::parse(url).map_err(|e| SsrfError::InvalidUrl(e.to_string()))?;
    check_parsed_url(&parsed, policy)?;
    Ok(parsed)
}

/// [`check_url`] on a URL already parsed (each redirect hop).
pub(crate) fn check_parsed_url(url: &Url, policy: &UrlPolicy) -> Result<(), SsrfError> {
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(SsrfError::UnsupportedScheme(other.to_owned())),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SsrfError::Credentials);
    }
    let host = url.host().ok_or(SsrfError::MissingHost)?;
    if policy.allow_private {
        return Ok(());
    }
    match host {
        Host::Ipv4(ip) => check_ip(IpAddr::V4(ip)),
        Host::Ipv6(ip) => check_ip(IpAddr::V6(ip)),
        Host::Domain(name) => check_host_name(name),
    }
}

fn check_ip(ip: IpAddr) -> Result<(), SsrfError> {
    match forbidden_reason(ip) {
        Some(reason) => Err(SsrfError::ForbiddenAddress { ip, reason }),
        None => Ok(()),
    }
}

/// Names of cloud metadata services (their addresses are link-local or shared and refused too).
const METADATA_HOSTS: &[&str] = &[
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.com",
    "metadata.packet.net",
    "metadata.platformequinix.com",
];

/// Refuses names that by definition point inside: `localhost`, private-use suffixes and the
/// metadata services. Case and trailing dots do not matter.
pub(crate) fn check_host_name(name: &str) -> Result<(), SsrfError> {
    let normalised = name.trim_end_matches('.').to_ascii_lowercase();
    let reason = if normalised.is_empty() {
        Some("empty")
    } else if normalised == "localhost"
        || normalised.ends_with(".localhost")
        || normalised == "localhost.localdomain"
    {
        Some("a name for this server itself")
    } else if METADATA_HOSTS.contains(&normalised.as_str()) {
        Some("a cloud metadata service")
    } else if [".internal", ".local", ".home.arpa", ".localdomain"]
        .iter()
        .any(|suffix| normalised.ends_with(suffix))
    {
        Some("a private-use name (.internal, .local, .home.arpa and .localdomain stay inside)")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(SsrfError::ForbiddenHost {
            host: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// True for every address an outbound request to a user- or admin-entered URL must not reach
/// without an admin's say-so: loopback, unspecified, private, link-local (cloud metadata), shared
/// (CGNAT), `0.0.0.0/8`, `192.0.0.0/24`, documentation, benchmarking, multicast, broadcast and
/// reserved IPv4; IPv6 outside global unicast (`2000::/3`: loopback, unspecified, unique-local,
/// link-local, site-local, multicast, ...), documentation, benchmarking, Teredo and deprecated
/// IPv4-compatible addresses; and IPv4-mapped, IPv4-translated, NAT64 (`64:ff9b::/96`) and 6to4
/// (`2002::/16`) addresses whose embedded IPv4 address is forbidden.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    forbidden_reason(ip).is_some()
}

/// Why `ip` is forbidden, for the error message; `None` for a public address.
pub(crate) fn forbidden_reason(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V4(ip) => v4_reason(ip).map(str::to_owned),
        IpAddr::V6(ip) => v6_reason(ip),
    }
}

const PRIVATE: &str = "a private network address";

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let reason = match ip.octets() {
        [0, 0, 0, 0] => "the unspecified address, which reaches this server",
        [0, ..] => "a \"this network\" address (0.0.0.0/8)",
        [127, ..] => "a loopback address (this server itself)",
        [10, ..] | [172, 16..=31, ..] | [192, 168, ..] => PRIVATE,
        [169, 254, ..] => "a link-local address (where cloud metadata services answer)",
        [100, 64..=127, ..] => {
            "a shared address (100.64.0.0/10: carrier-grade NAT, internal services)"
        }
        [192, 0, 0, _] => "an IETF protocol address (192.0.0.0/24)",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "a documentation address",
        [198, 18..=19, ..] => "a benchmarking address (198.18.0.0/15)",
        [192, 88, 99, _] => "a deprecated 6to4 relay address",
        [224..=239, ..] => "a multicast address",
        [255, 255, 255, 255] => "the broadcast address",
        [240..=255, ..] => "a reserved address (240.0.0.0/4)",
        _ => return None,
    };
    Some(reason)
}

/// The IPv4 address carried inside an IPv6 address of a form that reaches it: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and
/// 6to4 (`2002:aabb:ccdd::/48`).
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0xffff, 0, _, _] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<String> {
    if ip.is_unspecified() {
        return Some("the unspecified address, which reaches this server".to_owned());
    }
    if ip.is_loopback() {
        return Some("a loopback address (this server itself)".to_owned());
    }
    if let Some(v4) = embedded_ipv4(ip) {
        return v4_reason(v4).map(|reason| format!("an IPv6 form of {v4}, {reason}"));
    }
    let s = ip.segments();
    let reason = match s {
        // ::/96 holds the deprecated IPv4-compatible addresses (::a.b.c.d); nothing public.
        [0, 0, 0, 0, 0, 0, _, _] => "a deprecated IPv4-compatible address",
        [0x64, 0xff9b, 1, ..] => "a local-use NAT64 address (64:ff9b:1::/48)",
        [0x2001, 0, ..] => "a Teredo tunnel address (2001::/32)",
        [0x2001, 0xdb8, ..] => "a documentation address (2001:db8::/32)",
        [0x2001, 2, 0, ..] => "a benchmarking address (2001:2::/48)",
        [0x2001, 0x10..=0x2f, ..] => "an ORCHID address (2001:10::/28, 2001:20::/28)",
        [0x3fff, 0..=0x0fff, ..] => "a documentation address (3fff::/20)",
        [first, ..] if first & 0xfe00 == 0xfc00 => {
            "a unique local address (fc00::/7, a private IPv6 network)"
        }
        [first, ..] if first & 0xffc0 == 0xfe80 => "a link-local address (fe80::/10)",
        [first, ..] if first & 0xffc0 == 0xfec0 => "a site-local address (fec0::/10)",
        [first, ..] if first & 0xff00 == 0xff00 => "a multicast address",
        // Everything else outside global unicast 2000::/3 is unassigned or special-purpose.
        [first, ..] if first & 0xe000 != 0x2000 => "not a global unicast address (2000::/3)",
        _ => return None,
    };
    Some(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(text: &str) -> IpAddr {
        IpAddr::V4(text.parse().unwrap_or(Ipv4Addr::UNSPECIFIED))
    }

    fn v6(text: &str) -> IpAddr {
        IpAddr::V6(text.parse().unwrap_or(Ipv6Addr::UNSPECIFIED))
    }

    #[test]
    fn forbidden_ipv4_ranges_and_their_edges() {
        for ip in [
            "0.0.0.0",
            "0.255.255.255",
            "10.0.0.0",
            "10.255.255.255",
            "100.64.0.0",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.0",
            "172.31.255.255",
            "192.0.0.170",
            "192.0.2.1",
            "192.168.0.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(is_forbidden_ip(v4(ip)), "{ip} should be forbidden");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.255",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert!(!is_forbidden_ip(v4(ip)), "{ip} should be allowed");
        }
    }

    #[test]
    fn forbidden_ipv6_ranges_and_embedded_ipv4() {
        for ip in [
            "::",
            "::1",
            "::127.0.0.1",
            "::8.8.8.8",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::ffff:0:127.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2001::1",
            "2001:db8::1",
            "2001:2::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "100::1",
            "1234::1",
            "4000::1",
        ] {
            assert!(is_forbidden_ip(v6(ip)), "{ip} should be forbidden");
        }
        for ip in [
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2a00:1450:4001::200e",
        ] {
            assert!(!is_forbidden_ip(v6(ip)), "{ip} should be allowed");
        }
    }

    #[test]
    fn embedded_addresses_are_named_in_the_reason() {
        let reason = forbidden_reason(v6("::ffff:127.0.0.1")).unwrap_or_default();
        assert_eq!(
            reason,
            "an IPv6 form of 127.0.0.1, a loopback address (this server itself)"
        );
    }

    #[test]
    fn host_names_that_point_inside() {
        for name in [
            "localhost",
            "LOCALHOST",
            "localhost.",
            "api.localhost",
            "metadata.google.internal",
            "metadata.google.internal.",
            "metadata",
            "instance-data",
            "printer.local",
            "router.home.arpa",
            "db.corp.internal",
        ] {
            assert!(check_host_name(name).is_err(), "{name} should be refused");
        }
        for name in [
            "openrouter.ai",
            "api.openai.com",
            "localhost.example.com",
            "internal.example.com",
            "metadata.example.com",
        ] {
            assert!(check_host_name(name).is_ok(), "{name} should be allowed");
        }
    }
}
