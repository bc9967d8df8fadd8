//! OpenAI's answer shapes as typed structs: whole chat and text completions, and the chunks
//! of their streams. Typed rather than `json!` values because they are written once per
//! answer (and once per streamed piece of text) on the gateway's hot path, where a `Value`
//! costs an allocation per field. Field order follows OpenAI's own answers.

use serde::Serialize;
use utoipa::ToSchema;

use aipasta_engine::Outcome;

/// OpenAI's `usage` object.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = V1Usage)]
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

/// A whole answer (`chat.completion` or `text_completion`) or one chunk of a stream
/// (`chat.completion.chunk`, or `text_completion` again).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = V1Completion)]
pub struct Completion<'a> {
    /// `chatcmpl-` or `cmpl-` and the generation's id.
    pub id: &'a str,
    /// `chat.completion`, `chat.completion.chunk` or `text_completion`.
    pub object: &'static str,
    /// Unix seconds.
    pub created: i64,
    pub model: &'a str,
    /// One choice; the usage chunk of a stream has none.
    pub choices: Vec<Choice<'a>>,
    /// Absent, `null` (stream chunks with `include_usage`, but the last) or the counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Usage>)]
    pub usage: Option<Option<Usage>>,
}

/// A choice: `message` in a whole chat answer, `delta` in a chat chunk, `text` in a legacy
/// completion (whole or chunk). Exactly one of the three is set.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = V1Choice)]
pub struct Choice<'a> {
    /// Always 0.
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<Delta<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    /// Always `null`: log probabilities are not offered.
    #[schema(value_type = Option<String>)]
    pub logprobs: (),
    /// `stop`, `length`, `content_filter` or `tool_calls` (chat); `null` in a chunk that
    /// does not end the answer.
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

/// A whole chat answer's message.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = V1AnswerMessage)]
pub struct Message<'a> {
    /// Always `assistant`.
    pub role: &'static str,
    pub content: &'a str,
    /// Always `null`.
    #[schema(value_type = Option<String>)]
    pub refusal: (),
}

/// What a chat chunk adds: the first carries `role: assistant` and empty `content`; the
/// last chunk's delta is `{}`.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = V1Delta)]
pub struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<&'a str>,
}
