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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub role: String,
    /// Expiry, whole seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch to the millisecond (a JWT NumericDate may have a
    /// fraction): a token is compared with the account's `tokens_valid_after` (ms), and a
    /// sign-in in the same second as a sign-out must still give a working token.
    pub iat: f64,
}

impl Claims {
    /// Claims issued at `now_ms` that expire `ttl_secs` later.
    pub fn issued(sub: String, role: String, now_ms: i64, ttl_secs: i64) -> Claims {
        Claims {
            sub,
            role,
            exp: now_ms / 1000 + ttl_secs,
            // Exact: milliseconds since the epoch stay far below 2^53.
            iat: now_ms as f64 / 1000.0,
        }
    }

    /// When the token was issued, in milliseconds since the epoch.
    pub fn issued_at_ms(&self) -> i64 {
        (self.iat * 1000.0).round() as i64
    }
}

/// The one JWT header we issue, `{"alg":"HS256","typ":"JWT"}` in base64url: the only header a
/// token we verify may carry (never "none", never an asymmetric algorithm).
const JWT_HEADER_B64: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// The key JWTs are signed with, derived from the server secret once: HMAC's key schedule is
/// done here, not on each of the bearer requests that verify a token.
#[derive(Clone)]
pub struct JwtKey(HmacSha256);

impl JwtKey {
    pub fn derive(secret: &[u8]) -> JwtKey {
        let key = derive_key(secret, "aipasta jwt v1");
        JwtKey(<HmacSha256 as Mac>::new_from_slice(&key).unwrap_or_else(|_| unreachable_hmac()))
    }
}

/// Signs `claims` as an HS256 JWT.
pub fn sign_jwt(claims: &Claims, key: &JwtKey) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{JWT_HEADER_B64}.{payload}");
    let mut mac = key.0.clone();
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// The claims of a JWT we signed with `key` that has not expired at `now` (seconds).
pub fn verify_jwt(token: &str, key: &JwtKey, now: i64) -> Option<Claims> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, payload) = signing_input.split_once('.')?;
    if header != JWT_HEADER_B64 || payload.contains('.') {
        return None;
    }
    // An HMAC-SHA256 is 32 bytes; a longer signature fails to decode into the buffer.
    let mut given = [0u8; 32];
    let length = URL_SAFE_NO_PAD.decode_slice(signature, &mut given).ok()?;
    let mut mac = key.0.clone();
    mac.update(signing_input.as_bytes());
    mac.verify_slice(&given[..length]).ok()?;
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
            iat: 0.0,
        }
    }

    #[test]
    fn the_issue_time_keeps_its_milliseconds_through_a_token() {
        let key = JwtKey::derive(b"server secret");
        for now_ms in [1_764_633_600_001, 1_764_633_600_999, 4_102_444_799_123] {
            let claims = Claims::issued("u1".into(), "user".into(), now_ms, 3600);
            let token = sign_jwt(&claims, &key);
            let read = verify_jwt(&token, &key, now_ms / 1000).unwrap();
            assert_eq!(read.issued_at_ms(), now_ms);
            assert_eq!(read.exp, now_ms / 1000 + 3600);
        }
        // Tokens from before the milliseconds: whole seconds still read.
        let old: Claims =
            serde_json::from_str(r#"{"sub":"u1","role":"user","exp":2,"iat":1}"#).unwrap();
        assert_eq!(old.issued_at_ms(), 1_000);
    }

    #[test]
    fn jwts_verify_only_when_signed_by_us_and_fresh() {
        let key = JwtKey::derive(b"server secret");
        let token = sign_jwt(&claims(1_000), &key);
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        assert!(token.starts_with(&format!("{header}.")), "{token}");
        assert_eq!(verify_jwt(&token, &key, 999), Some(claims(1_000)));
        assert_eq!(verify_jwt(&token, &key, 1_000), None, "expired");
        let other = JwtKey::derive(b"another secret");
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

        // Correctly signed, yet not a header we issue.
        let payload = token.split('.').nth(1).unwrap_or_default();
        let other_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
        let signed_with = |input: &str| {
            let mut mac = key.0.clone();
            mac.update(input.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        };
        let input = format!("{other_header}.{payload}");
        let unknown_header = format!("{input}.{}", signed_with(&input));
        assert_eq!(verify_jwt(&unknown_header, &key, 0), None, "other header");
        let extra = format!("{token}.x");
        assert_eq!(verify_jwt(&extra, &key, 0), None, "four segments");
        let long_signature = format!("{token}AAAA");
        assert_eq!(verify_jwt(&long_signature, &key, 0), None, "long signature");
        let truncated = &token[..token.len() - 4];
        assert_eq!(verify_jwt(truncated, &key, 0), None, "short signature");
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
