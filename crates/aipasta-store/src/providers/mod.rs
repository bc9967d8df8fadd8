//! Provider endpoints and API keys entered through the UI or the API: an admin's
//! OpenAI-compatible endpoints (and the admin-stored keys of the built-in providers), and each
//! user's own keys for the built-in providers.
//!
//! Keys arrive already sealed ([`SealedKey`]: the output of `aipasta_core::secret_box` and its
//! hint); the store never sees a key in the clear and never returns one in a list.

mod endpoints;
mod user_keys;

use std::fmt;

pub use endpoints::{
    ENDPOINT_KINDS, EndpointError, NewProviderEndpoint, OPENAI_COMPATIBLE, ProviderEndpointRow,
    ProviderEndpointUpdate, create_endpoint, delete_endpoint, find_endpoint, find_endpoint_by_name,
    is_valid_endpoint_name, list_endpoints, update_endpoint,
};
pub use user_keys::{
    USER_KEY_PROVIDERS, UserKeyHint, UserProviderKeyRow, delete_user_key, find_user_key,
    list_user_keys, set_user_key,
};

/// A key as stored: sealed text (`SecretBox::seal`) and the hint that may be shown back
/// (`secret_box::key_hint`). They are written and cleared together.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedKey {
    pub sealed: String,
    pub hint: String,
}

impl fmt::Debug for SealedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedKey")
            .field("sealed", &"[SEALED]")
            .field("hint", &self.hint)
            .finish()
    }
}
