//! Turning what a client asked for into what a provider is sent, or a clear refusal: the
//! task from the model's capabilities and the request's shape, parameters checked against the
//! model's supported list and ranges, and the input bounded.

use std::cell::LazyCell;

use serde::Deserialize;

use aipasta_core::params::{SamplingValues, sampling_param};
use aipasta_providers::generate::{ChatMessage, GenerationRequest, Parameters, Role, Task};
use aipasta_store::catalog::ModelRow;

use crate::cost::estimate_tokens;
use crate::error::GenerationError;

/// The system prompt code mode uses when the person gives none.
pub const CODE_SYSTEM_PROMPT: &str = "You are an expert programmer. Answer with correct, \
idiomatic, complete code in fenced Markdown code blocks tagged with their language, and keep \
explanations short.";

/// What the playground, the API and the `/v1` gateway ask for, in the plan's shape.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateInput {
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub messages: Option<Vec<ChatMessage>>,
    #[serde(default, alias = "system_prompt", alias = "system")]
    pub system_prompt: Option<String>,
    #[serde(default)]
    pub parameters: ParameterInput,
    #[serde(default)]
    pub mode: Option<Mode>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default, alias = "session_id")]
    pub session_id: Option<String>,
}

/// The parameters as clients send them: the plan's camelCase or the providers' snake_case.
/// The sampling parameters are read by the table (`aipasta_core::params::SAMPLING`); unknown
/// names are ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParameterInput {
    pub sampling: SamplingValues,
    pub max_tokens: Option<u32>,
    pub seed: Option<i64>,
    pub stop: Vec<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub target_language: Option<String>,
}

impl<'de> Deserialize<'de> for ParameterInput {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ParameterInput, D::Error> {
        d.deserialize_map(ParameterVisitor)
    }
}

struct ParameterVisitor;

impl<'de> serde::de::Visitor<'de> for ParameterVisitor {
    type Value = ParameterInput;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object of parameters")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<ParameterInput, A::Error> {
        let mut out = ParameterInput::default();
        while let Some(key) = map.next_key::<String>()? {
            if let Some(param) = sampling_param(&key) {
                // Whole numbers and ranges are checked against the model later, with a
                // message that names the parameter.
                out.sampling.set(param, map.next_value::<Option<f64>>()?);
                continue;
            }
            match key.as_str() {
                "maxTokens" | "max_tokens" | "maxNewTokens" | "max_new_tokens" => {
                    out.max_tokens = map.next_value()?;
                }
                "seed" => out.seed = map.next_value()?,
                "stop" => out.stop = map.next_value::<OneOrMany>()?.into_vec(),
                "width" => out.width = map.next_value()?,
                "height" => out.height = map.next_value()?,
                "targetLanguage" | "target_language" | "tgtLang" | "tgt_lang" => {
                    out.target_language = map.next_value()?;
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// `"stop": "x"`, `"stop": ["x", "y"]` or `"stop": null`.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
    Nothing(()),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
            OneOrMany::Nothing(()) => Vec::new(),
        }
    }
}

/// The playground's modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Chat,
    Text,
    Code,
    Image,
    Summarize,
    Translate,
    Embed,
}

impl Mode {
    pub const ALL: [Mode; 7] = [
        Mode::Chat,
        Mode::Text,
        Mode::Code,
        Mode::Image,
        Mode::Summarize,
        Mode::Translate,
        Mode::Embed,
    ];

    /// The name clients send and history records.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Chat => "chat",
            Mode::Text => "text",
            Mode::Code => "code",
            Mode::Image => "image",
            Mode::Summarize => "summarize",
            Mode::Translate => "translate",
            Mode::Embed => "embed",
        }
    }

    /// The mode a generation ran in: the one asked for, or the one its task implies.
    pub fn of(asked: Option<Mode>, task: Task) -> Mode {
        asked.unwrap_or(match task {
            Task::Chat => Mode::Chat,
            Task::TextCompletion => Mode::Text,
            Task::ImageGeneration => Mode::Image,
            Task::Summarization => Mode::Summarize,
            Task::Translation => Mode::Translate,
            Task::Embedding => Mode::Embed,
        })
    }
}

/// What to do with a parameter the model does not support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    /// Refuse the request, naming the parameter (the playground and the plan's API).
    Refuse,
    /// Leave it out (OpenAI clients send parameters every model may not know).
    Drop,
}

/// The largest input accepted, in characters, whatever the model's context.
pub const MAX_INPUT_CHARS: usize = 1_000_000;
/// The most messages in one conversation.
pub const MAX_MESSAGES: usize = 2_000;
/// The most stop sequences (OpenAI's limit).
pub const MAX_STOP_SEQUENCES: usize = 4;

/// Checks `input` against `model` and builds the provider request.
pub fn prepare(
    model: &ModelRow,
    input: &GenerateInput,
    unsupported: Unsupported,
) -> Result<GenerationRequest, GenerationError> {
    let task = choose_task(model, input)?;
    let system_prompt = match (input.mode, input.system_prompt.as_deref()) {
        (_, Some(s)) if !s.trim().is_empty() => Some(s.to_owned()),
        (Some(Mode::Code), _) => Some(CODE_SYSTEM_PROMPT.to_owned()),
        _ => None,
    };
    let mut messages = Vec::new();
    let mut prompt = String::new();
    if task == Task::Chat {
        if let Some(system) = system_prompt {
            messages.push(ChatMessage {
                role: Role::System,
                content: system,
            });
        }
        match (&input.messages, &input.prompt) {
            (Some(list), _) if !list.is_empty() => messages.extend(list.iter().cloned()),
            (_, Some(text)) => messages.push(ChatMessage {
                role: Role::User,
                content: text.clone(),
            }),
            _ => return Err(missing_input()),
        }
        if messages.len() > MAX_MESSAGES {
            return Err(GenerationError::TooManyMessages {
                limit: MAX_MESSAGES,
            });
        }
        if !messages
            .iter()
            .any(|m| m.role != Role::System && !m.content.trim().is_empty())
        {
            return Err(missing_input());
        }
    } else {
        prompt = match (&input.prompt, &input.messages) {
            (Some(text), _) => text.clone(),
            (None, Some(list)) => list
                .iter()
                .filter(|m| m.role == Role::User)
                .map(|m| m.content.as_str())
                .collect::<Vec<_>>()
                .join("\n\n"),
            (None, None) => String::new(),
        };
        if let (Some(system), Task::TextCompletion) = (system_prompt, task) {
            prompt = format!("{system}\n\n{prompt}");
        }
        if prompt.trim().is_empty() {
            return Err(missing_input());
        }
    }
    check_input_size(model, &messages, &prompt)?;
    let parameters = check_parameters(model, &input.parameters, unsupported)?;
    Ok(GenerationRequest {
        task,
        model: model.provider_model_id.clone(),
        messages,
        prompt,
        parameters,
    })
}

fn missing_input() -> GenerationError {
    GenerationError::MissingInput
}

fn out_of_range(param: &'static str, message: String) -> GenerationError {
    GenerationError::ParameterOutOfRange { param, message }
}

fn choose_task(model: &ModelRow, input: &GenerateInput) -> Result<Task, GenerationError> {
    let caps = model.capabilities();
    let can_chat = caps.chat_completion;
    let wanted = match input.mode {
        Some(Mode::Image) => Some((
            Task::ImageGeneration,
            caps.image_generation,
            "generate images",
        )),
        Some(Mode::Summarize) => Some((Task::Summarization, caps.summarization, "summarise")),
        Some(Mode::Translate) => Some((Task::Translation, caps.translation, "translate")),
        Some(Mode::Embed) => Some((Task::Embedding, caps.embedding, "compute embeddings")),
        Some(Mode::Text) if caps.text_generation && !can_chat => {
            Some((Task::TextCompletion, true, "complete text"))
        }
        Some(Mode::Chat | Mode::Code | Mode::Text) => {
            Some((Task::Chat, can_chat || caps.text_generation, "chat"))
        }
        None => None,
    };
    if let Some((task, able, verb)) = wanted {
        if !able {
            return Err(GenerationError::UnsupportedMode {
                model: model.display_name.clone(),
                verb: Some(verb),
            });
        }
        // A text-only model still answers a conversation, flattened into its prompt.
        if task == Task::Chat && !can_chat {
            return Ok(Task::TextCompletion);
        }
        return Ok(task);
    }
    let has_messages = input.messages.as_ref().is_some_and(|m| !m.is_empty());
    Ok(if can_chat {
        Task::Chat
    } else if caps.text_generation {
        Task::TextCompletion
    } else if caps.image_generation {
        Task::ImageGeneration
    } else if caps.summarization {
        Task::Summarization
    } else if caps.translation {
        Task::Translation
    } else if caps.embedding && !has_messages {
        Task::Embedding
    } else {
        return Err(GenerationError::UnsupportedMode {
            model: model.display_name.clone(),
            verb: None,
        });
    })
}

fn check_input_size(
    model: &ModelRow,
    messages: &[ChatMessage],
    prompt: &str,
) -> Result<(), GenerationError> {
    let chars: usize = prompt.chars().count()
        + messages
            .iter()
            .map(|m| m.content.chars().count())
            .sum::<usize>();
    if chars > MAX_INPUT_CHARS {
        return Err(GenerationError::InputTooLarge {
            chars,
            limit: MAX_INPUT_CHARS,
        });
    }
    if let Some(context) = model.context_length.filter(|c| *c > 0) {
        let estimated: u64 = estimate_tokens(prompt)
            + messages
                .iter()
                .map(|m| estimate_tokens(&m.content))
                .sum::<u64>();
        if estimated > context as u64 {
            return Err(GenerationError::ContextExceeded {
                model: model.display_name.clone(),
                estimated,
                context,
            });
        }
    }
    Ok(())
}

fn check_parameters(
    model: &ModelRow,
    input: &ParameterInput,
    unsupported: Unsupported,
) -> Result<Parameters, GenerationError> {
    // Read from the row's JSON only when the request sets a parameter (most set none).
    let supported = LazyCell::new(|| model.supported_parameters());
    let ranges = LazyCell::new(|| model.parameter_ranges());
    // An empty list means the provider did not say: anything standard goes.
    let supports = |name: &str| supported.is_empty() || supported.iter().any(|p| p == name);
    let mut out = Parameters::default();

    for (param, value) in input.sampling.iter() {
        if !supports(param.name) {
            match unsupported {
                Unsupported::Drop => continue,
                Unsupported::Refuse => return Err(not_supported(model, param.name)),
            }
        }
        let (min, max) = ranges
            .get(param.name)
            .map_or((param.min, param.max), |r| (r.min, r.max));
        let value = param
            .check(value, min, max)
            .map_err(|message| out_of_range(param.name, message))?;
        out.sampling.set(param, Some(value));
    }

    if let Some(max_tokens) = input.max_tokens {
        // Every model takes a length limit, listed or not.
        let limit = model.max_tokens.filter(|m| *m > 0);
        if max_tokens == 0 || limit.is_some_and(|limit| i64::from(max_tokens) > limit) {
            return Err(out_of_range(
                "max_tokens",
                format!(
                    "`max_tokens` must be between 1 and {}; it was {max_tokens}.",
                    limit.map_or_else(|| "the model's limit".to_owned(), |l| l.to_string())
                ),
            ));
        }
        out.max_tokens = Some(max_tokens);
    }
    if input.seed.is_some() {
        if supports("seed") {
            out.seed = input.seed;
        } else if unsupported == Unsupported::Refuse {
            return Err(not_supported(model, "seed"));
        }
    }
    if !input.stop.is_empty() {
        if input.stop.len() > MAX_STOP_SEQUENCES || input.stop.iter().any(String::is_empty) {
            return Err(out_of_range(
                "stop",
                format!("`stop` takes 1 to {MAX_STOP_SEQUENCES} non-empty sequences."),
            ));
        }
        if supports("stop") {
            out.stop = input.stop.clone();
        } else if unsupported == Unsupported::Refuse {
            return Err(not_supported(model, "stop"));
        }
    }
    for (name, value) in [("width", input.width), ("height", input.height)] {
        if let Some(v) = value
            && !(64..=4096).contains(&v)
        {
            return Err(out_of_range(
                name,
                format!("`{name}` must be between 64 and 4096 pixels; it was {v}."),
            ));
        }
    }
    out.width = input.width;
    out.height = input.height;
    out.target_language = input
        .target_language
        .clone()
        .filter(|l| !l.trim().is_empty());
    Ok(out)
}

fn not_supported(model: &ModelRow, name: &'static str) -> GenerationError {
    GenerationError::UnsupportedParameter {
        param: name,
        model: model.display_name.clone(),
    }
}
