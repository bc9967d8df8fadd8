//! The Hugging Face inference API (`POST /hf-inference/models/{model}`): the task comes from
//! the model's `pipeline_tag`. Text generation speaks TGI (`[{"generated_text"}]`, or token
//! events whose last one carries the whole text and `details`, with no `[DONE]`); the other
//! tasks answer their pipeline's JSON, or image bytes. As in TGI, `details` is only filled in
//! when the request's `parameters.details` is `true` (otherwise `null` in the final event and
//! absent from a plain answer).

use serde::Serialize;

use super::errors;
use super::media;
use super::stream::StreamFormat;
use super::timeline::{Timeline, write_json};

/// What a Hugging Face model does, from its Hub `pipeline_tag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HfTask {
    /// `text-generation` (and `text2text-generation`): TGI's shapes.
    TextGeneration,
    /// `text-to-image`: the image bytes.
    TextToImage,
    /// `summarization`: `[{"summary_text"}]`.
    Summarization,
    /// `translation`: `[{"translation_text"}]`.
    Translation,
    /// `feature-extraction` (and `sentence-similarity`): a vector per input.
    FeatureExtraction,
}

impl HfTask {
    /// The task a Hub `pipeline_tag` names, if the mock serves it.
    pub fn from_pipeline_tag(tag: &str) -> Option<HfTask> {
        match tag {
            "text-generation" | "text2text-generation" => Some(HfTask::TextGeneration),
            "text-to-image" => Some(HfTask::TextToImage),
            "summarization" => Some(HfTask::Summarization),
            "translation" => Some(HfTask::Translation),
            "feature-extraction" | "sentence-similarity" => Some(HfTask::FeatureExtraction),
            _ => None,
        }
    }

    /// The Hub's `pipeline_tag` for the task.
    pub fn pipeline_tag(self) -> &'static str {
        match self {
            HfTask::TextGeneration => "text-generation",
            HfTask::TextToImage => "text-to-image",
            HfTask::Summarization => "summarization",
            HfTask::Translation => "translation",
            HfTask::FeatureExtraction => "feature-extraction",
        }
    }
}

/// TGI's name for an OpenAI-style finish reason.
pub(crate) fn tgi_finish_reason(finish_reason: &str) -> &'static str {
    match finish_reason {
        "length" => "length",
        _ => "eos_token",
    }
}

#[derive(Serialize)]
struct Generated<'a> {
    generated_text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Details>,
}

#[derive(Serialize)]
struct Details {
    finish_reason: &'static str,
    generated_tokens: usize,
    seed: Option<u64>,
    /// Streams only: the prompt's length in tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    input_length: Option<usize>,
}

/// Non-stream text generation: `[{"generated_text"}]`, with `details` when asked.
pub(crate) fn generated_body(
    generated_text: &str,
    finish_reason: &'static str,
    generated_tokens: usize,
    details: bool,
) -> Vec<u8> {
    let body = [Generated {
        generated_text,
        details: details.then_some(Details {
            finish_reason,
            generated_tokens,
            seed: None,
            input_length: None,
        }),
    }];
    let mut out = Vec::with_capacity(generated_text.len() + 128);
    write_json(&mut out, &body);
    out
}

#[derive(Serialize)]
struct TokenEvent<'a> {
    index: usize,
    token: Token<'a>,
    generated_text: Option<&'a str>,
    details: Option<Details>,
}

#[derive(Serialize)]
struct Token<'a> {
    id: u32,
    text: &'a str,
    logprob: f32,
    special: bool,
}

/// TGI's token events.
pub(crate) struct TgiStream<'a> {
    /// The whole answer, in the final event (with the prompt first when `return_full_text`).
    pub(crate) generated_text: &'a str,
    pub(crate) finish_reason: &'static str,
    /// The request asked for `details`.
    pub(crate) details: bool,
    pub(crate) prompt_tokens: usize,
}

impl TgiStream<'_> {
    fn details(&self, generated_tokens: usize) -> Option<Details> {
        self.details.then_some(Details {
            finish_reason: self.finish_reason,
            generated_tokens,
            seed: None,
            input_length: Some(self.prompt_tokens),
        })
    }
}

impl StreamFormat for TgiStream<'_> {
    fn delta(&mut self, out: &mut Timeline, index: usize, piece: &str, last: bool) {
        out.data_json(&TokenEvent {
            index: index + 1,
            token: Token {
                id: token_id(piece),
                text: piece,
                logprob: -0.25,
                special: false,
            },
            generated_text: last.then_some(self.generated_text),
            details: if last { self.details(index + 1) } else { None },
        });
    }

    fn finish(&mut self, out: &mut Timeline, sent: usize) {
        // With deltas, the last one was final; with none, the end-of-sequence token is.
        if sent == 0 {
            out.data_json(&TokenEvent {
                index: 1,
                token: Token {
                    id: 2,
                    text: "",
                    logprob: 0.0,
                    special: true,
                },
                generated_text: Some(self.generated_text),
                details: self.details(0),
            });
        }
    }

    fn error(&mut self, out: &mut Timeline) {
        out.data_json(&errors::hf_generation_error());
    }

    fn has_done(&self) -> bool {
        false
    }
}

/// A stable token id for a piece of text.
fn token_id(piece: &str) -> u32 {
    u32::try_from(media::fnv1a(piece.as_bytes()) % 32_000).unwrap_or(0) + 3
}

#[derive(Serialize)]
struct Summary<'a> {
    summary_text: &'a str,
}

#[derive(Serialize)]
struct Translation<'a> {
    translation_text: &'a str,
}

pub(crate) fn summarization_body(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 24);
    write_json(&mut out, &[Summary { summary_text: text }]);
    out
}

pub(crate) fn translation_body(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 28);
    write_json(
        &mut out,
        &[Translation {
            translation_text: text,
        }],
    );
    out
}

/// Feature extraction: one vector for a string input, a list of vectors for a list.
pub(crate) fn features_body(inputs: &[String], single: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let vectors: Vec<Vec<f32>> = inputs
        .iter()
        .map(|text| media::embedding(text, media::DEFAULT_DIMENSIONS))
        .collect();
    match (single, vectors.first()) {
        (true, Some(vector)) => write_json(&mut out, vector),
        _ => write_json(&mut out, &vectors),
    }
    out
}
