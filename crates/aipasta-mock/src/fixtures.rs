//! Small hand-written model lists in the providers' real formats (invented models, invented
//! numbers), compiled in so tests and demos need no files at run time.

/// `GET https://openrouter.ai/api/v1/models` shape: eight models covering a priced chat model,
/// a `:free` model, `openrouter/auto` with `"-1"` prices, a long-decimal price, an image-output
/// model, a vision model with null `max_completion_tokens` and an absent prompt price, a code
/// model and an embedding model.
pub const OPENROUTER_MODELS_SMALL: &str = include_str!("../fixtures/openrouter-models-small.json");

/// `GET https://huggingface.co/api/models` shape (a bare JSON array): one model per pipeline tag
/// the catalog knows, plus a base (non-conversational) model, a coder and a speech model whose
/// pipeline tag the catalog does not import.
pub const HF_HUB_MODELS_SMALL: &str = include_str!("../fixtures/hf-hub-models-small.json");

/// OpenAI's `GET /v1/models` shape as Ollama answers it (plus one namespaced id as the Hugging
/// Face router and vLLM answer them).
pub const OPENAI_MODELS_SMALL: &str = include_str!("../fixtures/openai-models-small.json");
