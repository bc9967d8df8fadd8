//! Mock upstream servers that speak the providers' real wire formats, for tests, benchmarks and
//! demos. Today it serves the model catalogs (OpenRouter, Hugging Face Hub, OpenAI-compatible
//! `/v1/models`); the generation engine and accounts work add chat completions and OAuth.

mod catalog;
mod fault;
pub mod fixtures;
mod record;
mod server;
mod state;

pub use fault::Fault;
pub use record::RecordedRequest;
pub use server::{
    HF_HUB_MODELS_PATH, MockConfig, MockServer, OPENAI_MODELS_PATH, OPENROUTER_MODELS_PATH,
};
