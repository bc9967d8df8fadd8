//! Catalog integration tests: parsing the small fixtures and the real captures, and fetching
//! from `aipasta-mock`. One test binary, one module per subject.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fetch;
mod huggingface;
mod openai_compatible;
mod openrouter;
mod real_captures;
mod support;
