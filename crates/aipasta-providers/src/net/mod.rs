//! Outbound networking for URLs people enter: the SSRF guard.
//!
//! URLs entered through the UI or the API (an admin's OpenAI-compatible endpoint, a user-supplied
//! URL) must not reach private networks unless an admin allows it; URLs the operator sets in the
//! environment are trusted. The caller picks the [`UrlPolicy`]: check the URL with [`check_url`]
//! when it is entered and before it is used, and send with a [`guarded_client`] of the same
//! policy, which re-checks resolved addresses, connections and redirect hops.

mod client;
mod policy;

pub use client::{MAX_REDIRECTS, guarded_client, ssrf_cause};
pub use policy::{MAX_URL_LEN, SsrfError, UrlPolicy, check_url, is_forbidden_ip};
