//! The mock OAuth provider driven like a browser and an app would: OIDC and GitHub flows, and
//! every refusal a real provider makes. One test binary, one module per dialect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod github;
mod oidc;
mod support;
