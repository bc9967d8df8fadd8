//! PKCE (RFC 7636) with the only method the mock accepts, S256:
//! `code_challenge = BASE64URL(SHA256(code_verifier))`, no padding.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// The challenge a verifier answers.
pub(crate) fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`. A well-formed verifier is checked
/// strictly so clients that send a short or padded one fail here, as at real providers.
pub(crate) fn is_well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte))
}

/// Whether `verifier` is well formed and hashes to `challenge`.
pub(crate) fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    is_well_formed(verifier) && s256_challenge(verifier) == challenge
}

/// An S256 challenge is a SHA-256 in unpadded base64url: exactly 43 characters.
pub(crate) fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_matches() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(s256_challenge(verifier), challenge);
        assert!(verifier_matches(verifier, challenge));
        assert!(is_s256_challenge(challenge));
        assert!(!verifier_matches("too-short", challenge));
        assert!(!verifier_matches(&"a".repeat(43), challenge));
    }
}
