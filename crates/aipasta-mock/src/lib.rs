//! Mock upstream servers that speak the providers' real wire formats, for tests, benchmarks and
//! demos: [`MockServer`] serves the model catalogs (OpenRouter, Hugging Face Hub,
//! OpenAI-compatible `/v1/models`), [`MockOAuth`] the sign-in providers (OIDC and GitHub).

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
    DEFAULT_TEXT, HF_INFERENCE_MODELS_PREFIX, HF_ROUTER_CHAT_PATH, HOSTILE_HTML, HfTask,
    OPENAI_CHAT_PATH, OPENAI_COMPLETIONS_PATH, OPENAI_EMBEDDINGS_PATH, OPENAI_IMAGES_PATH,
    OPENROUTER_CHAT_PATH, OPENROUTER_COMPLETIONS_PATH, Outcome, Script, UsagePlacement,
    hf_inference_path,
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
