//! Bucket keys for the usual subjects, normalised so a client cannot escape a limit by spelling
//! (an email's case, the low bits of an IPv6 address) and so no email is stored in the clear.

use std::fmt::Write as _;
use std::net::IpAddr;

use sha2::{Digest, Sha256};

/// Scopes used by the sign-in, sign-up and API limits; one bucket family each.
pub const SIGN_IN: &str = "signin";
pub const SIGN_UP: &str = "signup";
/// Sign-up attempts, created or refused (`SIGN_UP` counts created accounts only).
pub const SIGN_UP_ATTEMPT: &str = "signup-attempt";
pub const API: &str = "api";
/// The login guard's failure counts (shared by sign-in and sign-up attempts).
pub const LOGIN: &str = "login";

/// `<scope>:ip:<address>`. IPv6 clients are keyed by their /64, which one subscriber usually
/// holds whole; an IPv4-mapped IPv6 address counts as the IPv4 one.
pub fn ip(scope: &str, ip: IpAddr) -> String {
    format!("{scope}:ip:{}", address(ip))
}

fn address(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
    }
}

/// `<scope>:account:<hash>` for an email as typed: trimmed and lower-cased, then hashed so keys
/// are short and Redis never holds the address itself.
pub fn account(scope: &str, email: &str) -> String {
    format!("{scope}:account:{}", email_hash(email))
}

/// `<scope>:pair:<hash>:<address>`: one account (as [`account`]) from one address (as [`ip`]).
pub fn pair(scope: &str, email: &str, ip: IpAddr) -> String {
    format!("{scope}:pair:{}:{}", email_hash(email), address(ip))
}

fn email_hash(email: &str) -> String {
    let normalised = email.trim().to_lowercase();
    let digest = Sha256::digest(normalised.as_bytes());
    let mut hash = String::with_capacity(32);
    // 128 bits are plenty to keep accounts apart.
    for byte in &digest[..16] {
        let _ = write!(hash, "{byte:02x}");
    }
    hash
}

/// `<scope>:user:<id>` for a signed-in user (ids are already canonical).
pub fn user(scope: &str, user_id: &str) -> String {
    format!("{scope}:user:{user_id}")
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::{account, ip, pair, user};

    fn addr(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv4_keys_are_the_address() {
        assert_eq!(ip("api", addr("203.0.113.7")), "api:ip:203.0.113.7");
        assert_eq!(ip("api", addr("::ffff:203.0.113.7")), "api:ip:203.0.113.7");
    }

    #[test]
    fn ipv6_keys_cover_the_slash_64() {
        let a = ip("signin", addr("2001:db8:1:2:aaaa::1"));
        assert_eq!(a, "signin:ip:2001:db8:1:2::/64");
        assert_eq!(a, ip("signin", addr("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        assert_ne!(a, ip("signin", addr("2001:db8:1:3::1")));
    }

    #[test]
    fn account_keys_ignore_case_and_spaces_and_hide_the_email() {
        let a = account("login", "Alice@Example.com ");
        assert_eq!(a, account("login", "alice@example.com"));
        assert_ne!(a, account("login", "bob@example.com"));
        assert!(a.starts_with("login:account:") && !a.contains("alice"));
        assert_eq!(a.len(), "login:account:".len() + 32);
    }

    #[test]
    fn pair_keys_are_one_account_from_one_address() {
        let a = pair("signin", "Alice@Example.com", addr("203.0.113.7"));
        assert_eq!(
            a,
            pair("signin", "alice@example.com", addr("::ffff:203.0.113.7"))
        );
        assert!(
            a.starts_with("signin:pair:") && a.ends_with(":203.0.113.7"),
            "{a}"
        );
        assert!(!a.contains("alice"));
        assert_ne!(a, pair("signin", "alice@example.com", addr("203.0.113.8")));
        assert_ne!(a, pair("signin", "bob@example.com", addr("203.0.113.7")));
        assert_eq!(
            pair("signin", "a@b.co", addr("2001:db8:1:2::1")),
            pair("signin", "a@b.co", addr("2001:db8:1:2:ffff::9"))
        );
    }

    #[test]
    fn user_keys_are_the_id() {
        assert_eq!(user("api", "0190-ab"), "api:user:0190-ab");
    }
}
