//! Mock upstream servers that speak the providers' real wire formats, for tests, benchmarks and
//! demos: [`MockServer`] serves the model catalogs (OpenRouter, Hugging Face Hub,
//! OpenAI-compatible `/v1/models`) and the generation APIs, [`MockOAuth`] the sign-in providers
//! (OIDC and GitHub).
//!
//! # Generation
//!
//! | route | speaks |
//! |---|---|
//! | [`OPENROUTER_CHAT_PATH`], [`OPENROUTER_COMPLETIONS_PATH`] | OpenRouter (base URL `{url}/api/v1`): `gen-…` ids (also in `X-Generation-Id`), `usage.cost`, `: OPENROUTER PROCESSING` keep-alives, mid-stream errors as a chunk with `error` and `finish_reason: "error"` |
//! | [`OPENAI_CHAT_PATH`], [`OPENAI_COMPLETIONS_PATH`], [`OPENAI_EMBEDDINGS_PATH`], [`OPENAI_IMAGES_PATH`] | OpenAI-compatible servers (base URL `{url}/v1`): `stream_options.include_usage`, OpenAI error objects, images as `b64_json` PNGs |
//! | [`HF_ROUTER_CHAT_PATH`] | the Hugging Face router's OpenAI-compatible chat (base URL `{url}/hf/v1`), with Hugging Face's flat `{"error": "…"}` errors |
//! | [`hf_inference_path`]`(model)` | the Hugging Face inference API (`{url}/hf-inference/models/{model}`): the task is the model's `pipeline_tag` in the Hub list ([`HfTask`], overridable with [`MockServer::set_hf_task`]; unknown models generate text): TGI text generation (no `[DONE]`), PNG bytes, `[{"summary_text"}]`, `[{"translation_text"}]`, feature vectors; `{model}/v1/chat/completions` is TGI's OpenAI-compatible chat |
//!
//! Every request plays a [`Script`] (text, chunking, delays, keep-alives, usage placement,
//! cost, and an [`Outcome`]: complete, no `[DONE]`, a status before any byte, a cut, a
//! mid-stream error, a stall, a malformed event; for image routes, the images themselves:
//! [`Script::images`] with [`MockImage`]s, real JPEG/WebP/GIF or hostile HTML, SVG and
//! JavaScript "images" claiming any type). Scripts are queued per path
//! ([`MockServer::push_script`], one per request, oldest first), with a per-path default
//! ([`MockServer::set_default_script`]) and a server-wide fallback
//! ([`MockServer::set_fallback_script`]). A [`Fault`] set on a generation path plays before
//! the script.
//!
//! Counts are deterministic: `completion_tokens` is the number of deltas sent
//! ([`Script::deltas`], one per word by default); `prompt_tokens` is the number of
//! whitespace-separated words in the request's input (message texts, `prompt`, `input`,
//! `inputs`); a `max_tokens` (`max_completion_tokens`, `parameters.max_new_tokens`) below the
//! number of deltas cuts the answer there with `finish_reason: "length"`. `model` echoes the
//! request's. Every request body is recorded ([`RecordedRequest::body`],
//! [`RecordedRequest::json`]). Waits and stalls end when the server is dropped.
//!
//! The `aipasta-mock` binary serves all of this on a fixed address for demos and benchmarks.

mod catalog;
mod fault;
pub mod fixtures;
mod generate;
mod oauth;
mod record;
mod server;
mod spawn;
mod state;

pub use fault::Fault;
pub use generate::{
    DEFAULT_TEXT, HF_INFERENCE_MODELS_PREFIX, HF_ROUTER_CHAT_PATH, HOSTILE_HTML,
    HOSTILE_IMAGE_SCRIPT, HfTask, MockImage, OPENAI_CHAT_PATH, OPENAI_COMPLETIONS_PATH,
    OPENAI_EMBEDDINGS_PATH, OPENAI_IMAGES_PATH, OPENROUTER_CHAT_PATH, OPENROUTER_COMPLETIONS_PATH,
    Outcome, Script, UsagePlacement, hf_inference_path,
};
pub use oauth::{
    GITHUB_AUTHORIZE_PATH, GITHUB_EMAILS_PATH, GITHUB_TOKEN_PATH, GITHUB_USER_PATH, MockClient,
    MockOAuth, MockOAuthConfig, MockUser, OIDC_AUTHORIZE_PATH, OIDC_DISCOVERY_PATH, OIDC_JWKS_PATH,
    OIDC_TOKEN_PATH, OIDC_USERINFO_PATH,
};
pub use record::RecordedRequest;
pub use server::{
    HF_HUB_MODELS_PATH, MockConfig, MockServer, OPENAI_MODELS_PATH, OPENROUTER_MODELS_PATH,
};
