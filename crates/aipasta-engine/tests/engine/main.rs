//! The engine on its own, without HTTP: a real [`aipasta_engine::Engine`] on a fresh database
//! (every backend the run covers) calling the mock provider through an OpenAI-compatible
//! endpoint, so each test sees exactly what the engine did: its outcome, its row, the
//! requests that reached the provider.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly

mod caches;
mod prepare;
mod reads;
mod refusals;
mod resolution;
mod state_machine;
mod support;
