//! OpenAI's wire format as OpenRouter, OpenAI-compatible servers and the Hugging Face router
//! speak it: `chat.completion` and `text_completion` answers, their stream chunks, embeddings
//! and images.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;

use super::errors;
use super::media;
use super::script::{MockImage, UsagePlacement};
use super::stream::StreamFormat;
use super::timeline::{Timeline, write_json};
use super::{Call, Dialect};

/// Which OpenAI-style text API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextApi {
    Chat,
    Completion,
}

#[derive(Serialize)]
struct Envelope<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    /// `None`: absent; `Some(None)`: `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    system_fingerprint: Option<Option<&'static str>>,
    choices: Vec<Choice<'a>>,
    /// `None`: absent; `Some(None)`: `null` (OpenAI's chunks when usage comes at the end).
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Option<Usage>>,
    /// OpenRouter's mid-stream error.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Choice<'a> {
    Message {
        index: u32,
        message: Message<'a>,
        logprobs: Option<()>,
        finish_reason: &'a str,
    },
    Delta {
        index: u32,
        delta: Delta<'a>,
        logprobs: Option<()>,
        finish_reason: Option<&'a str>,
    },
    Text {
        text: &'a str,
        index: u32,
        logprobs: Option<()>,
        finish_reason: Option<&'a str>,
    },
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
    refusal: Option<()>,
}

#[derive(Serialize)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
}

/// `usage`, with OpenRouter's `cost` when scripted.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Usage {
    pub(crate) prompt_tokens: usize,
    pub(crate) completion_tokens: usize,
    pub(crate) total_tokens: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cost: Option<f64>,
}

impl Usage {
    pub(crate) fn new(call: &Call<'_>, completion_tokens: usize) -> Usage {
        Usage {
            prompt_tokens: call.prompt_tokens,
            completion_tokens,
            total_tokens: call.prompt_tokens + completion_tokens,
            cost: match call.dialect {
                Dialect::OpenRouter => call.cost,
                Dialect::OpenAi | Dialect::HuggingFace => None,
            },
        }
    }
}

fn fingerprint(dialect: Dialect, chunk: bool) -> Option<Option<&'static str>> {
    match dialect {
        // Nullable on the answer, a string when present on a chunk: OpenRouter's spec.
        Dialect::OpenRouter if chunk => None,
        Dialect::OpenRouter => Some(None),
        Dialect::OpenAi => Some(Some("fp_mock")),
        Dialect::HuggingFace => Some(Some("3.0.1-sha-mock")),
    }
}

fn envelope<'a>(call: &'a Call<'a>, object: &'static str, chunk: bool) -> Envelope<'a> {
    Envelope {
        id: &call.id,
        object,
        created: call.created,
        model: call.model,
        system_fingerprint: fingerprint(call.dialect, chunk),
        choices: Vec::new(),
        usage: None,
        error: None,
    }
}

/// A whole non-stream answer.
pub(crate) fn answer_body(
    api: TextApi,
    call: &Call<'_>,
    text: &str,
    completion_tokens: usize,
    usage: UsagePlacement,
) -> Vec<u8> {
    let (object, choice) = match api {
        TextApi::Chat => (
            "chat.completion",
            Choice::Message {
                index: 0,
                message: Message {
                    role: "assistant",
                    content: text,
                    refusal: None,
                },
                logprobs: None,
                finish_reason: call.finish_reason,
            },
        ),
        TextApi::Completion => (
            "text_completion",
            Choice::Text {
                text,
                index: 0,
                logprobs: None,
                finish_reason: Some(call.finish_reason),
            },
        ),
    };
    let mut body = envelope(call, object, false);
    body.choices.push(choice);
    if usage != UsagePlacement::Omitted {
        body.usage = Some(Some(Usage::new(call, completion_tokens)));
    }
    let mut out = Vec::with_capacity(512 + text.len());
    write_json(&mut out, &body);
    out
}

/// The stream chunks of one answer.
pub(crate) struct OpenAiStream<'a> {
    api: TextApi,
    call: &'a Call<'a>,
    usage: UsagePlacement,
    /// OpenAI with `include_usage`: every other chunk says `"usage": null`.
    null_usage: bool,
}

impl<'a> OpenAiStream<'a> {
    /// OpenAI-style routes honour `stream_options.include_usage` (usage in a chunk of its own
    /// unless the script omits it); OpenRouter always places usage as scripted.
    pub(crate) fn new(
        api: TextApi,
        call: &'a Call<'a>,
        scripted: UsagePlacement,
        include_usage: bool,
    ) -> OpenAiStream<'a> {
        let asks = include_usage && call.dialect != Dialect::OpenRouter;
        let usage = match scripted {
            UsagePlacement::Omitted => UsagePlacement::Omitted,
            _ if asks => UsagePlacement::SeparateChunk,
            other => other,
        };
        OpenAiStream {
            api,
            call,
            usage,
            null_usage: asks,
        }
    }

    fn object(&self) -> &'static str {
        match self.api {
            TextApi::Chat => "chat.completion.chunk",
            TextApi::Completion => "text_completion",
        }
    }

    fn chunk(&self, role: bool, content: Option<&'a str>, finish: Option<&'a str>) -> Envelope<'a> {
        let mut chunk = envelope(self.call, self.object(), true);
        chunk.choices.push(match self.api {
            TextApi::Chat => Choice::Delta {
                index: 0,
                delta: Delta {
                    role: role.then_some("assistant"),
                    content,
                },
                logprobs: None,
                finish_reason: finish,
            },
            TextApi::Completion => Choice::Text {
                text: content.unwrap_or(""),
                index: 0,
                logprobs: None,
                finish_reason: finish,
            },
        });
        if self.null_usage {
            chunk.usage = Some(None);
        }
        chunk
    }
}

impl<'a> StreamFormat for OpenAiStream<'a> {
    fn delta(&mut self, out: &mut Timeline, index: usize, piece: &str, _last: bool) {
        // The chunk borrows `piece` only while it is written.
        let mut chunk = envelope(self.call, self.object(), true);
        chunk.choices.push(match self.api {
            TextApi::Chat => Choice::Delta {
                index: 0,
                delta: Delta {
                    role: (index == 0).then_some("assistant"),
                    content: Some(piece),
                },
                logprobs: None,
                finish_reason: None,
            },
            TextApi::Completion => Choice::Text {
                text: piece,
                index: 0,
                logprobs: None,
                finish_reason: None,
            },
        });
        if self.null_usage {
            chunk.usage = Some(None);
        }
        out.data_json(&chunk);
    }

    fn finish(&mut self, out: &mut Timeline, sent: usize) {
        let usage = Usage::new(self.call, sent);
        let mut last = self.chunk(sent == 0, None, Some(self.call.finish_reason));
        if self.usage == UsagePlacement::FinalChunk {
            last.usage = Some(Some(usage));
        }
        out.data_json(&last);
        if self.usage == UsagePlacement::SeparateChunk {
            let mut alone = envelope(self.call, self.object(), true);
            alone.usage = Some(Some(usage));
            out.data_json(&alone);
        }
    }

    fn error(&mut self, out: &mut Timeline) {
        match self.call.dialect {
            Dialect::OpenRouter => {
                let mut chunk = self.chunk(false, Some(""), Some("error"));
                chunk.error = Some(serde_json::json!({
                    "code": 502,
                    "message": "Provider returned error",
                    "metadata": {"error_type": "provider_unavailable"},
                }));
                out.data_json(&chunk);
            }
            Dialect::OpenAi => out.data_json(&errors::openai_server_error()),
            Dialect::HuggingFace => out.data_json(&errors::hf_generation_error()),
        }
    }

    fn has_done(&self) -> bool {
        true
    }
}

#[derive(Serialize)]
struct EmbeddingList<'a> {
    object: &'static str,
    data: Vec<EmbeddingItem>,
    model: &'a str,
    usage: EmbeddingUsage,
}

#[derive(Serialize)]
struct EmbeddingItem {
    object: &'static str,
    index: usize,
    embedding: EmbeddingValue,
}

#[derive(Serialize)]
#[serde(untagged)]
enum EmbeddingValue {
    Floats(Vec<f32>),
    Base64(String),
}

#[derive(Serialize)]
struct EmbeddingUsage {
    prompt_tokens: usize,
    total_tokens: usize,
}

/// `POST /v1/embeddings`: one vector per input, derived from the input text only.
pub(crate) fn embeddings_body(
    call: &Call<'_>,
    inputs: &[String],
    dimensions: usize,
    base64: bool,
) -> Vec<u8> {
    let data = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let vector = media::embedding(text, dimensions);
            EmbeddingItem {
                object: "embedding",
                index,
                embedding: if base64 {
                    EmbeddingValue::Base64(media::embedding_base64(&vector))
                } else {
                    EmbeddingValue::Floats(vector)
                },
            }
        })
        .collect();
    let body = EmbeddingList {
        object: "list",
        data,
        model: call.model,
        usage: EmbeddingUsage {
            prompt_tokens: call.prompt_tokens,
            total_tokens: call.prompt_tokens,
        },
    };
    let mut out = Vec::new();
    write_json(&mut out, &body);
    out
}

#[derive(Serialize)]
struct ImageList<'a> {
    created: u64,
    data: Vec<ImageItem<'a>>,
}

#[derive(Serialize)]
struct ImageItem<'a> {
    b64_json: Cow<'a, str>,
}

/// `POST /v1/images/generations`: `count` PNGs as `b64_json`.
pub(crate) fn images_body(created: u64, count: usize, png_base64: &str) -> Vec<u8> {
    let body = ImageList {
        created,
        data: (0..count)
            .map(|_| ImageItem {
                b64_json: Cow::Borrowed(png_base64),
            })
            .collect(),
    };
    let mut out = Vec::with_capacity(png_base64.len() * count + 64);
    write_json(&mut out, &body);
    out
}

/// `POST /v1/images/generations` answering scripted images: each as `b64_json`, as a data URL
/// naming the type it claims when it claims one (as OpenRouter sends images).
pub(crate) fn scripted_images_body(created: u64, images: &[MockImage]) -> Vec<u8> {
    let body = ImageList {
        created,
        data: images
            .iter()
            .map(|image| {
                let encoded = BASE64.encode(&image.bytes);
                ImageItem {
                    b64_json: Cow::Owned(match &image.claimed_type {
                        Some(claimed) => format!("data:{claimed};base64,{encoded}"),
                        None => encoded,
                    }),
                }
            })
            .collect(),
    };
    let mut out = Vec::new();
    write_json(&mut out, &body);
    out
}
