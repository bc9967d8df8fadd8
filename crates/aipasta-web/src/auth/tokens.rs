//! Secrets the server hands out: session and CSRF tokens, personal API keys, and short-lived
//! JWT bearer tokens (HS256, written here on `hmac`/`sha2` rather than pulling a JWT crate with
//! RSA and elliptic-curve code we would never use).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// `bytes` random bytes, URL-safe base64. From `rand`'s thread-local generator (ChaCha,
/// seeded and periodically reseeded by the operating system): a CSPRNG without a system call
/// per token, which every cookie-less page view asks for (its CSRF token).
pub fn random_token(bytes: usize) -> String {
    use rand::RngCore;
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// The lower-case hex SHA-256 of `text`: how tokens and keys are stored.
pub fn sha256_hex(text: &str) -> String {
    // Written out rather than `format!` per byte: this runs on every bearer request.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// A key derived from the server secret for one purpose, so no two uses share a key.
pub fn derive_key(secret: &[u8], purpose: &str) -> Vec<u8> {
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable_hmac());
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn unreachable_hmac() -> HmacSha256 {
    // HMAC accepts keys of any length; this only satisfies the type.
    panic!("HMAC rejected a key")
}

/// The prefix every personal API key starts with.
pub const API_KEY_PREFIX: &str = "ap_";

/// A new personal API key: (the full key shown once, its public prefix, its stored hash).
pub fn new_api_key() -> (String, String, String) {
    let key = format!("{API_KEY_PREFIX}{}", random_token(30));
    let prefix: String = key.chars().take(API_KEY_PREFIX.len() + 8).collect();
    let hash = sha256_hex(&key);
    (key, prefix, hash)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub role: String,
    /// Expiry and issue time, seconds since the epoch.
    pub exp: i64,
    pub iat: i64,
}

const JWT_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Signs `claims` as an HS256 JWT.
pub fn sign_jwt(claims: &Claims, key: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(JWT_HEADER);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// The claims of a JWT we signed with `key` that has not expired at `now` (seconds).
pub fn verify_jwt(token: &str, key: &[u8], now: i64) -> Option<Claims> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header_json: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    // Only the algorithm we issue: never "none", never an asymmetric one.
    if header_json["alg"] != "HS256" {
        return None;
    }
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).ok()?;
    mac.update(format!("{header}.{payload}").as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).ok()?)
        .ok()?;
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (claims.exp > now).then_some(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_is_the_lowercase_digest() {
        // FIPS 180-2's example.
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "u1".into(),
            role: "user".into(),
            exp,
            iat: 0,
        }
    }

    #[test]
    fn jwts_verify_only_when_signed_by_us_and_fresh() {
        let key = derive_key(b"server secret", "jwt");
        let token = sign_jwt(&claims(1_000), &key);
        assert_eq!(verify_jwt(&token, &key, 999), Some(claims(1_000)));
        assert_eq!(verify_jwt(&token, &key, 1_000), None, "expired");
        let other = derive_key(b"another secret", "jwt");
        assert_eq!(verify_jwt(&token, &other, 0), None, "wrong key");

        let mut parts: Vec<&str> = token.split('.').collect();
        let forged =
            URL_SAFE_NO_PAD.encode(r#"{"sub":"admin","role":"admin","exp":9999999999,"iat":0}"#);
        parts[1] = &forged;
        assert_eq!(
            verify_jwt(&parts.join("."), &key, 0),
            None,
            "tampered payload"
        );
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"u1","role":"admin","exp":9999999999,"iat":0}"#)
        );
        assert_eq!(verify_jwt(&none_alg, &key, 0), None, "alg none");
    }

    #[test]
    fn api_keys_are_random_prefixed_and_hashed() {
        let (key, prefix, hash) = new_api_key();
        assert!(key.starts_with("ap_") && key.len() > 40, "{key}");
        assert!(key.starts_with(&prefix));
        assert_eq!(hash, sha256_hex(&key));
        assert_ne!(new_api_key().0, key);
        assert_ne!(derive_key(b"s", "jwt"), derive_key(b"s", "csrf"));
    }
}
