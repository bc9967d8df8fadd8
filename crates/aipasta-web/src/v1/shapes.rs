//! OpenAI's answer shapes as typed structs: whole chat and text completions, and the chunks
//! of their streams. Typed rather than `json!` values because they are written once per
//! answer (and once per streamed piece of text) on the gateway's hot path, where a `Value`
//! costs an allocation per field. Field order follows OpenAI's own answers.

use serde::Serialize;

use aipasta_engine::Outcome;

/// OpenAI's `usage` object.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

impl Usage {
    pub fn of(outcome: &Outcome) -> Usage {
        let usage = &outcome.usage;
        Usage {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            total_tokens: usage
                .total_tokens
                .max(usage.prompt_tokens + usage.completion_tokens),
        }
    }
}

/// A whole answer (`chat.completion` or `text_completion`) or one chunk of a stream.
#[derive(Debug, Serialize)]
pub struct Completion<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created: i64,
    pub model: &'a str,
    pub choices: Vec<Choice<'a>>,
    /// Absent, `null` (stream chunks with `include_usage`, but the last) or the counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<Usage>>,
}

/// A choice: `message` in a whole chat answer, `delta` in a chat chunk, `text` in a legacy
/// completion (whole or chunk). Exactly one of the three is set.
#[derive(Debug, Serialize)]
pub struct Choice<'a> {
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<Delta<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    /// Always `null`: log probabilities are not offered.
    pub logprobs: (),
    pub finish_reason: Option<&'a str>,
}

impl<'a> Choice<'a> {
    pub fn message(content: &'a str, finish_reason: &'a str) -> Choice<'a> {
        Choice {
            message: Some(Message {
                role: "assistant",
                content,
                refusal: (),
            }),
            finish_reason: Some(finish_reason),
            ..Choice::empty()
        }
    }

    pub fn delta(delta: Delta<'a>, finish_reason: Option<&'a str>) -> Choice<'a> {
        Choice {
            delta: Some(delta),
            finish_reason,
            ..Choice::empty()
        }
    }

    pub fn text(text: &'a str, finish_reason: Option<&'a str>) -> Choice<'a> {
        Choice {
            text: Some(text),
            finish_reason,
            ..Choice::empty()
        }
    }

    fn empty() -> Choice<'a> {
        Choice {
            index: 0,
            message: None,
            delta: None,
            text: None,
            logprobs: (),
            finish_reason: None,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Message<'a> {
    pub role: &'static str,
    pub content: &'a str,
    /// Always `null`.
    pub refusal: (),
}

/// What a chat chunk adds; the last chunk's delta is `{}`.
#[derive(Debug, Default, Serialize)]
pub struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<&'a str>,
}
