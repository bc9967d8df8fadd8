//! Generation: sending a prompt to an upstream and reading its answer, whole or streamed.
//!
//! The engine (in `aipasta-web`) decides *what* to ask ([`GenerationRequest`]) and *whom*
//! ([`Upstream`]); this module knows *how* each provider kind wants it on the wire and turns
//! every answer, good or bad, into the same types: [`Completion`], [`StreamEvent`] and
//! [`ProviderError`]. It never retries: retrying before the first token is the engine's call.

mod types;

pub use types::{
    ApiKey, Attribution, ChatMessage, Completion, EventStream, GeneratedImage, GenerationRequest,
    Parameters, ProviderError, ProviderErrorKind, Role, StreamEvent, Task, Timeouts, Upstream,
    Usage,
};
