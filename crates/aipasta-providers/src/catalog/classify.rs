//! Heuristics every provider parser shares: who made a model, whether it is a code or an
//! embedding model, and tidy tag lists.

/// Developers whose usual spelling is not the id prefix title-cased.
const DEVELOPER_NAMES: &[(&str, &str)] = &[
    ("ai21", "AI21"),
    ("allenai", "Ai2"),
    ("amazon", "Amazon"),
    ("anthropic", "Anthropic"),
    ("arcee-ai", "Arcee AI"),
    ("bytedance-seed", "ByteDance Seed"),
    ("cohere", "Cohere"),
    ("deepseek", "DeepSeek"),
    ("google", "Google"),
    ("ibm-granite", "IBM"),
    ("meta-llama", "Meta"),
    ("microsoft", "Microsoft"),
    ("minimax", "MiniMax"),
    ("mistralai", "Mistral AI"),
    ("moonshotai", "Moonshot AI"),
    ("nousresearch", "Nous Research"),
    ("nvidia", "NVIDIA"),
    ("openai", "OpenAI"),
    ("openrouter", "OpenRouter"),
    ("qwen", "Qwen"),
    ("x-ai", "xAI"),
    ("z-ai", "Z.ai"),
];

/// The lower-case developer slug of a namespaced id: `anthropic` for `anthropic/claude-x` and
/// for OpenRouter's `~anthropic/claude-latest` aliases; `None` when the id has no namespace.
pub(crate) fn developer_slug(id: &str) -> Option<String> {
    let (prefix, _) = id.split_once('/')?;
    let prefix = prefix.trim_start_matches('~').trim().to_lowercase();
    (!prefix.is_empty()).then_some(prefix)
}

/// The developer's usual name for an id prefix: the table above, else the words title-cased
/// (`arcee-ai` → `Arcee Ai` is the price of not knowing better).
pub(crate) fn developer_display_name(slug: &str) -> String {
    if let Some((_, name)) = DEVELOPER_NAMES.iter().find(|(known, _)| *known == slug) {
        return (*name).to_owned();
    }
    slug.split(['-', '_'])
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lower-case runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
}

/// Word parts that mark a model tuned for code (`qwen3-coder`, `codestral`, `gpt-5-codex`).
const CODE_WORD_PARTS: &[&str] = &[
    "coder",
    "codestral",
    "devstral",
    "codex",
    "codellama",
    "codegemma",
];

/// A code-specialised model, judged by its id and name: `coder`, `codestral`, `devstral`,
/// `codex`, or `code` as a whole word (`openrouter/pareto-code`). `decoder`/`encoder` are not.
pub(crate) fn is_code_model(id: &str, name: &str) -> bool {
    words(id).chain(words(name)).any(|word| {
        word == "code"
            || (CODE_WORD_PARTS.iter().any(|part| word.contains(part))
                && !word.contains("decoder")
                && !word.contains("encoder"))
    })
}

/// An embedding model, judged by its id and name.
pub(crate) fn mentions_embeddings(id: &str, name: &str) -> bool {
    id.to_lowercase().contains("embed") || name.to_lowercase().contains("embed")
}

/// Tags lower-cased, sorted and without duplicates.
pub(crate) fn tidy_tags(tags: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut tags: Vec<String> = tags
        .into_iter()
        .map(|tag| tag.trim().to_lowercase())
        .filter(|tag| !tag.is_empty())
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn developers_get_their_usual_names() {
        assert_eq!(developer_display_name("meta-llama"), "Meta");
        assert_eq!(developer_display_name("x-ai"), "xAI");
        assert_eq!(developer_display_name("mistralai"), "Mistral AI");
        assert_eq!(developer_display_name("thedrummer"), "Thedrummer");
        assert_eq!(developer_display_name("nex-agi"), "Nex Agi");
        assert_eq!(
            developer_slug("~Anthropic/claude-latest").as_deref(),
            Some("anthropic")
        );
        assert_eq!(developer_slug("llama3.2:3b"), None);
    }

    #[test]
    fn code_models_are_recognised_by_word() {
        assert!(is_code_model("qwen/qwen3-coder", "Qwen: Qwen3 Coder"));
        assert!(is_code_model(
            "openrouter/pareto-code",
            "Pareto Code Router"
        ));
        assert!(is_code_model("mistralai/codestral-2508", ""));
        assert!(is_code_model("openai/gpt-5-codex", ""));
        assert!(!is_code_model("google/t5-encoder-decoder", "T5 Decoder"));
        assert!(!is_code_model(
            "anthropic/claude-opus-4",
            "Anthropic: Claude Opus 4"
        ));
    }

    #[test]
    fn tags_are_tidied() {
        let tags = tidy_tags(["Vision".to_owned(), "tools".to_owned(), "vision".to_owned()]);
        assert_eq!(tags, ["tools", "vision"]);
    }
}
