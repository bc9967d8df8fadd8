//! Generation integration tests: every adapter against `aipasta-mock`'s generation routes,
//! what is sent (bodies and headers as the mock recorded them), what is read back (whole and
//! streamed, every usage placement) and every scripted way a call can fail, timeouts included.
//! One test binary, one module per subject.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod echoes;
mod huggingface;
mod openai_compatible;
mod openrouter;
mod outcomes;
mod support;
