//! Client authentication at the token endpoint (RFC 6749 §2.3.1): `client_secret_basic` (HTTP
//! Basic) or `client_secret_post` (form fields), never both at once.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::config::MockClient;
use super::params::{Params, form_decode};
use super::state::OAuthState;

/// Why a request's client credentials could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CredentialsError {
    /// No client id anywhere.
    Missing,
    /// Basic and form credentials both sent, or naming different clients.
    TwoMethods,
    /// An `Authorization: Basic` header that is not base64 of `id:secret`.
    MalformedBasic,
}

/// The client a token request claims to be, and how it proved it.
pub(crate) struct Credentials {
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<String>,
    /// Whether they came in an `Authorization: Basic` header (the 401 must then carry
    /// `WWW-Authenticate`).
    pub(crate) basic: bool,
}

pub(crate) fn read_credentials(
    headers: &HeaderMap,
    form: &Params,
) -> Result<Credentials, CredentialsError> {
    let basic = match headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    {
        Some(value) => match value.split_once(' ') {
            Some((scheme, encoded)) if scheme.eq_ignore_ascii_case("basic") => {
                Some(decode_basic(encoded.trim()).ok_or(CredentialsError::MalformedBasic)?)
            }
            _ => None,
        },
        None => None,
    };
    match basic {
        Some((client_id, client_secret)) => {
            if form.get("client_secret").is_some()
                || form.get("client_id").is_some_and(|id| id != client_id)
            {
                return Err(CredentialsError::TwoMethods);
            }
            Ok(Credentials {
                client_id,
                client_secret: Some(client_secret),
                basic: true,
            })
        }
        None => Ok(Credentials {
            client_id: form
                .get("client_id")
                .ok_or(CredentialsError::Missing)?
                .to_owned(),
            client_secret: form.get("client_secret").map(str::to_owned),
            basic: false,
        }),
    }
}

/// The registered client these credentials prove, if any.
pub(crate) fn authenticate<'a>(
    state: &'a OAuthState,
    credentials: &Credentials,
) -> Option<&'a MockClient> {
    let client = state.client(&credentials.client_id)?;
    let secret = credentials.client_secret.as_deref()?;
    // RFC 6749 wants Basic credentials form-encoded first; many clients skip that, and real
    // providers accept both, so a secret matches as sent or decoded.
    let matches = secret == client.client_secret
        || (credentials.basic && form_decode(secret) == client.client_secret);
    matches.then_some(client)
}

fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id), secret.to_owned()))
}
