//! The playground's modes: which a model offers (from its capabilities, as the engine's
//! `prepare::choose_task` decides what it can run), and what each calls its input, takes and
//! shows. The form value of a mode is the API's `mode`.

use aipasta_store::catalog::ModelRow;

use aipasta_engine::prepare::Mode;

/// Every mode, in tab order.
const ALL: [Mode; 7] = [
    Mode::Chat,
    Mode::Text,
    Mode::Code,
    Mode::Image,
    Mode::Summarize,
    Mode::Translate,
    Mode::Embed,
];

/// The API's name of `mode` (the form value and the recorded `mode` parameter).
pub fn value(mode: Mode) -> &'static str {
    match mode {
        Mode::Chat => "chat",
        Mode::Text => "text",
        Mode::Code => "code",
        Mode::Image => "image",
        Mode::Summarize => "summarize",
        Mode::Translate => "translate",
        Mode::Embed => "embed",
    }
}

pub fn parse(text: &str) -> Option<Mode> {
    ALL.into_iter().find(|mode| value(*mode) == text)
}

pub fn label(mode: Mode) -> &'static str {
    match mode {
        Mode::Chat => "Chat",
        Mode::Text => "Text",
        Mode::Code => "Code",
        Mode::Image => "Image",
        Mode::Summarize => "Summarise",
        Mode::Translate => "Translate",
        Mode::Embed => "Embed",
    }
}

/// The modes `model` offers, in tab order.
pub fn offered(model: &ModelRow) -> Vec<Mode> {
    let caps = model.capabilities();
    ALL.into_iter()
        .filter(|mode| match mode {
            Mode::Chat => caps.chat_completion,
            Mode::Text => caps.text_generation || caps.chat_completion,
            Mode::Code => caps.code_generation || caps.chat_completion,
            Mode::Image => caps.image_generation,
            Mode::Summarize => caps.summarization,
            Mode::Translate => caps.translation,
            Mode::Embed => caps.embedding,
        })
        .collect()
}

/// The mode asked for when `model` offers it, else its first (chat when it offers none, so
/// the page still explains what it cannot do).
pub fn choose(offered: &[Mode], asked: Option<&str>) -> Mode {
    asked
        .and_then(parse)
        .filter(|mode| offered.contains(mode))
        .or_else(|| offered.first().copied())
        .unwrap_or(Mode::Chat)
}

/// The label of the input box.
pub fn input_label(mode: Mode) -> &'static str {
    match mode {
        Mode::Chat => "Message",
        Mode::Image => "Describe the image",
        Mode::Summarize => "Text to summarise",
        Mode::Translate => "Text to translate",
        Mode::Embed => "Text to embed",
        Mode::Text | Mode::Code => "Prompt",
    }
}

pub fn placeholder(mode: Mode) -> &'static str {
    match mode {
        Mode::Chat => "Ask anything",
        Mode::Code => "Describe the code you need",
        Mode::Image => "A bowl of pasta on a sunny terrace",
        Mode::Summarize => "Paste an article, a report or notes",
        Mode::Translate => "Write or paste the text in the model's source language",
        Mode::Embed => "A sentence or a passage; the answer is its vector",
        Mode::Text => "Write the beginning; the model continues",
    }
}

/// Chat, text and code sample from a language model: they take a system prompt (when the model
/// does) and the sampling presets.
pub fn samples(mode: Mode) -> bool {
    matches!(mode, Mode::Chat | Mode::Text | Mode::Code)
}

/// Whether the script streams this mode through `/api/ai/stream`. A vector has no text to
/// stream and the stream's summary does not carry it: embedding posts the form and the server
/// shows the vector.
pub fn streams(mode: Mode) -> bool {
    mode != Mode::Embed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_reads_back_from_its_value() {
        for mode in ALL {
            assert_eq!(parse(value(mode)), Some(mode));
        }
        assert_eq!(parse("summarise"), None, "the API spells it summarize");
        assert_eq!(choose(&[Mode::Embed], Some("chat")), Mode::Embed);
        assert_eq!(choose(&[Mode::Chat, Mode::Text], Some("text")), Mode::Text);
    }
}
