//! Provider adapters: how AI Pasta talks to OpenRouter, Hugging Face and OpenAI-compatible
//! servers: the provider kinds, the model catalog (parsing and fetching model lists) and
//! generation (requests, answers and streams in each provider's wire format).

use std::fmt;

pub mod catalog;
pub mod generate;
pub mod net;
pub mod redact;

/// The kinds of upstream AI Pasta can route a model to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    OpenRouter,
    HuggingFace,
    /// Ollama, vLLM, llama.cpp, LM Studio or any other server speaking OpenAI's API.
    OpenAiCompatible,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 3] = [
        ProviderKind::OpenRouter,
        ProviderKind::HuggingFace,
        ProviderKind::OpenAiCompatible,
    ];

    /// The name stored in `models.provider` for the built-in providers.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenRouter => "openrouter",
            ProviderKind::HuggingFace => "huggingface",
            ProviderKind::OpenAiCompatible => "openai-compatible",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ProviderKind;

    #[test]
    fn provider_names_are_distinct() {
        let names: std::collections::HashSet<_> =
            ProviderKind::ALL.iter().map(|k| k.to_string()).collect();
        assert_eq!(names.len(), ProviderKind::ALL.len(), "{names:?}");
    }
}
