//! Encryption at rest for secrets the server must read back (provider API keys stored by admins
//! and users), with a key derived from the server secret.
//!
//! - The key is HMAC-SHA256(server secret, purpose): each purpose gets its own key, and changing
//!   the server secret makes every sealed value unreadable (the caller asks for the keys again).
//! - Each value is sealed with XChaCha20-Poly1305 under a fresh random 24-byte nonce (random
//!   nonces of that size never realistically repeat) and the format version as associated data.
//! - The sealed text is `v1.` followed by base64url (no padding) of `nonce || ciphertext || tag`.
//!
//! Only [`key_hint`] output may be shown back to people.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

/// The purpose label of the key that seals provider API keys.
pub const PROVIDER_KEYS_PURPOSE: &str = "aipasta/provider-keys/v1";

/// What every sealed value starts with; also authenticated with it.
const VERSION_PREFIX: &str = "v1.";
const ASSOCIATED_DATA: &[u8] = b"aipasta secret box v1";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Why a sealed value could not be opened. Neither message reveals anything about the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretBoxError {
    #[error("the stored secret is not in a format this server can read")]
    Format,
    #[error(
        "the stored secret could not be decrypted: it was sealed with a different server secret \
         (AIPASTA_SECRET_KEY or secret.key changed) or it was altered; enter the key again"
    )]
    Decrypt,
}

/// Seals and opens secrets with a key derived from the server secret for one purpose.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    purpose: String,
}

impl SecretBox {
    /// A box whose key is HMAC-SHA256(`server_secret`, `purpose`). The server secret is the bytes
    /// of `AIPASTA_SECRET_KEY` (or `<data-dir>/secret.key`); the binary requires at least 32.
    pub fn new(server_secret: &[u8], purpose: &str) -> SecretBox {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(server_secret) {
            Ok(mac) => mac,
            // HMAC takes keys of any length; the error type exists for other MACs.
            Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
        };
        mac.update(purpose.as_bytes());
        let mut key_bytes: [u8; 32] = mac.finalize().into_bytes().into();
        let cipher = XChaCha20Poly1305::new(&Key::from(key_bytes));
        key_bytes.zeroize();
        SecretBox {
            cipher,
            purpose: purpose.to_owned(),
        }
    }

    /// The box for provider API keys ([`PROVIDER_KEYS_PURPOSE`]).
    pub fn for_provider_keys(server_secret: &[u8]) -> SecretBox {
        SecretBox::new(server_secret, PROVIDER_KEYS_PURPOSE)
    }

    /// Encrypts `plaintext` under a fresh random nonce: `v1.<base64url(nonce || ciphertext)>`.
    /// Sealing the same text twice gives two different outputs.
    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        // The OS generator failing is unrecoverable, and a predictable nonce must never be used.
        if let Err(error) = getrandom::fill(&mut nonce) {
            panic!("the operating system's random generator failed: {error}");
        }
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: ASSOCIATED_DATA,
        };
        let ciphertext = match self.cipher.encrypt(&XNonce::from(nonce), payload) {
            Ok(ciphertext) => ciphertext,
            // Only messages of 256 GiB and more are refused.
            Err(_) => unreachable!("XChaCha20-Poly1305 refused a message"),
        };
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        format!("{VERSION_PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed))
    }

    /// Decrypts what [`SecretBox::seal`] produced with the same server secret and purpose.
    pub fn open(&self, sealed: &str) -> Result<String, SecretBoxError> {
        let encoded = sealed
            .strip_prefix(VERSION_PREFIX)
            .ok_or(SecretBoxError::Format)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| SecretBoxError::Format)?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretBoxError::Format);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| SecretBoxError::Format)?;
        let payload = Payload {
            msg: ciphertext,
            aad: ASSOCIATED_DATA,
        };
        let plaintext = self
            .cipher
            .decrypt(&nonce, payload)
            .map_err(|_| SecretBoxError::Decrypt)?;
        // Authentic bytes that are not UTF-8 cannot come from `seal`.
        String::from_utf8(plaintext).map_err(|_| SecretBoxError::Format)
    }

    /// The purpose label the key was derived for.
    pub fn purpose(&self) -> &str {
        &self.purpose
    }
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretBox")
            .field("purpose", &self.purpose)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

/// Well-known key prefixes that identify a provider rather than being secret, longest first.
const PUBLIC_KEY_PREFIXES: &[&str] = &[
    "sk-proj-", "sk-ant-", "sk-or-", "nvapi-", "pplx-", "gsk_", "xai-", "hf_", "r8_", "sk-",
];

/// What may be shown of a key once it is stored: its well-known prefix (such as `sk-or-` or
/// `hf_`), an ellipsis and the last few characters, e.g. `sk-or-…c3f9`. At most 4 characters of
/// the secret part are shown, fewer for short keys (2 under 16 characters, none under 8).
pub fn key_hint(key: &str) -> String {
    let key = key.trim();
    let prefix = PUBLIC_KEY_PREFIXES
        .iter()
        .copied()
        .find(|prefix| key.starts_with(prefix))
        .unwrap_or("");
    let secret: Vec<char> = key[prefix.len()..].chars().collect();
    let shown = match secret.len() {
        16.. => 4,
        8..16 => 2,
        _ => 0,
    };
    let tail: String = secret[secret.len() - shown..].iter().collect();
    format!("{prefix}…{tail}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";

    fn provider_box() -> SecretBox {
        SecretBox::for_provider_keys(SECRET)
    }

    #[test]
    fn round_trip() {
        let sealed_box = provider_box();
        for plaintext in [
            "sk-or-v1-abcdef0123456789",
            "",
            "clé ünïcode 🔑",
            &"x".repeat(5000),
        ] {
            let sealed = sealed_box.seal(plaintext);
            assert!(sealed.starts_with("v1."), "{sealed}");
            assert!(!sealed.contains(plaintext) || plaintext.is_empty());
            assert_eq!(sealed_box.open(&sealed).unwrap(), plaintext);
        }
    }

    #[test]
    fn sealed_text_is_url_safe_ascii() {
        let sealed = provider_box().seal("hf_abcdefghijklmnop");
        assert!(
            sealed
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')),
            "{sealed}"
        );
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let sealed_box = provider_box();
        let first = sealed_box.seal("same key");
        let second = sealed_box.seal("same key");
        assert_ne!(first, second);
        let nonce =
            |sealed: &str| URL_SAFE_NO_PAD.decode(&sealed[3..]).unwrap()[..NONCE_LEN].to_vec();
        assert_ne!(nonce(&first), nonce(&second));
        assert_eq!(sealed_box.open(&first).unwrap(), "same key");
        assert_eq!(sealed_box.open(&second).unwrap(), "same key");
    }

    #[test]
    fn any_altered_byte_is_detected() {
        let sealed_box = provider_box();
        let sealed = sealed_box.seal("sk-or-v1-secret-value");
        let bytes = URL_SAFE_NO_PAD.decode(&sealed[3..]).unwrap();
        for index in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[index] ^= 0x01;
            let text = format!("v1.{}", URL_SAFE_NO_PAD.encode(&altered));
            assert_eq!(
                sealed_box.open(&text),
                Err(SecretBoxError::Decrypt),
                "byte {index}"
            );
        }
        // Cutting the tag short or adding bytes is detected too.
        let truncated = format!("v1.{}", URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() - 1]));
        assert_eq!(sealed_box.open(&truncated), Err(SecretBoxError::Decrypt));
        let mut longer = bytes.clone();
        longer.push(0);
        let longer = format!("v1.{}", URL_SAFE_NO_PAD.encode(&longer));
        assert_eq!(sealed_box.open(&longer), Err(SecretBoxError::Decrypt));
    }

    #[test]
    fn another_secret_or_purpose_cannot_open() {
        let sealed = provider_box().seal("sk-or-v1-secret-value");
        let other_secret = SecretBox::for_provider_keys(b"another server secret of 32 chars!!");
        assert_eq!(other_secret.open(&sealed), Err(SecretBoxError::Decrypt));
        let other_purpose = SecretBox::new(SECRET, "aipasta/something-else/v1");
        assert_eq!(other_purpose.open(&sealed), Err(SecretBoxError::Decrypt));
    }

    #[test]
    fn malformed_input_is_a_format_error() {
        let sealed_box = provider_box();
        let too_short = format!(
            "v1.{}",
            URL_SAFE_NO_PAD.encode([0u8; NONCE_LEN + TAG_LEN - 1])
        );
        for bad in [
            "",
            "v1.",
            "v1",
            "v2.AAAA",
            "sk-or-v1-plaintext-key",
            "v1.not base64!",
            "v1.AAAA====",
            "V1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            too_short.as_str(),
        ] {
            assert_eq!(sealed_box.open(bad), Err(SecretBoxError::Format), "{bad:?}");
        }
        // The shortest well-formed input (an empty message) is authenticated, not trusted.
        let empty = format!("v1.{}", URL_SAFE_NO_PAD.encode([0u8; NONCE_LEN + TAG_LEN]));
        assert_eq!(sealed_box.open(&empty), Err(SecretBoxError::Decrypt));
    }

    #[test]
    fn debug_shows_nothing_secret() {
        let sealed_box = provider_box();
        let shown = format!("{sealed_box:?}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
        assert!(shown.contains(PROVIDER_KEYS_PURPOSE), "{shown}");
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
        assert!(!shown.contains("cipher"), "{shown}");
    }

    #[test]
    fn hints_show_the_prefix_and_at_most_four_secret_characters() {
        let cases = [
            (
                "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123c3f9",
                "sk-or-…c3f9",
            ),
            ("hf_AbCdEfGhIjKlMnOpQrStUvWxYz12", "hf_…Yz12"),
            ("sk-proj-abcdefghijklmnopqrstuvwxyz", "sk-proj-…wxyz"),
            ("sk-ant-api03-abcdefghijklmnopq", "sk-ant-…nopq"),
            ("sk-abcdefghijklmnopqrstu", "sk-…rstu"),
            ("  hf_AbCdEfGhIjKlMnOpQrStUvWxYz12\n", "hf_…Yz12"),
            // No known prefix: nothing but the tail.
            ("0123456789abcdef0123", "…0123"),
            ("a-b_cdefghijklmnopqrs", "…pqrs"),
            // Short keys show less.
            ("abcdefghijklmnop", "…mnop"),
            ("abcdefghijklmno", "…no"),
            ("abcdefgh", "…gh"),
            ("abcdefg", "…"),
            ("hf_short", "hf_…"),
            ("hf_", "hf_…"),
            ("", "…"),
            ("ключ-ключ-ключ-ключ", "…ключ"),
        ];
        for (key, hint) in cases {
            assert_eq!(key_hint(key), hint, "{key:?}");
        }
    }

    #[test]
    fn hints_never_show_more_than_four_secret_characters() {
        for len in 0..40 {
            let key: String = "k".repeat(len);
            let hint = key_hint(&key);
            assert!(hint.chars().filter(|c| *c == 'k').count() <= 4, "{hint}");
            let hint = key_hint(&format!("hf_{key}"));
            assert!(hint.chars().filter(|c| *c == 'k').count() <= 4, "{hint}");
        }
    }
}
