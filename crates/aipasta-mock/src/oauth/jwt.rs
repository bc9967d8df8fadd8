//! HS256 JWTs for the OIDC `id_token`. OIDC Core §10.1 lets a provider sign with the client
//! secret for confidential clients, which spares the mock any key pair (and `/jwks` stays empty).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// `header.claims.signature`, each part unpadded base64url, signed HMAC-SHA256 with `secret`.
pub(crate) fn sign_hs256(claims: &Value, secret: &str) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(signing_input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC takes keys of any length; this arm cannot run.
        Err(_) => Vec::new(),
    };
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_rfc_7515_layout() {
        let token = sign_hs256(&json!({"sub": "1"}), "secret");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(parts[0]).ok(),
            Some(br#"{"alg":"HS256","typ":"JWT"}"#.to_vec())
        );
        // Signature length of HMAC-SHA256: 32 bytes.
        assert_eq!(
            URL_SAFE_NO_PAD.decode(parts[2]).map(|s| s.len()).ok(),
            Some(32)
        );
    }
}
