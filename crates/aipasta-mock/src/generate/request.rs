//! What the mock reads from a generation request: the model, whether to stream, the input (to
//! count prompt tokens) and the few parameters that change the answer's shape.
//!
//! Prompt tokens are counted as whitespace-separated words of every input text: each message's
//! `content` (a string, or the `text` of each content part), `prompt`, `input` or `inputs`.

use serde::Deserialize;
use serde_json::Value;

/// A generation request body, any route. Fields a route does not use are ignored; unknown
/// fields too, as providers do.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Incoming {
    #[serde(default)]
    pub(crate) model: Option<String>,
    #[serde(default)]
    pub(crate) stream: Option<bool>,
    #[serde(default)]
    pub(crate) stream_options: Option<StreamOptions>,
    #[serde(default)]
    pub(crate) messages: Option<Vec<Message>>,
    /// Completions.
    #[serde(default)]
    pub(crate) prompt: Option<Value>,
    /// Embeddings.
    #[serde(default)]
    pub(crate) input: Option<Value>,
    /// Hugging Face inference.
    #[serde(default)]
    pub(crate) inputs: Option<Value>,
    #[serde(default)]
    pub(crate) parameters: Option<HfParameters>,
    #[serde(default)]
    pub(crate) max_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) max_completion_tokens: Option<u64>,
    /// Images: how many.
    #[serde(default)]
    pub(crate) n: Option<u64>,
    /// Images: `"WIDTHxHEIGHT"` or `"auto"`.
    #[serde(default)]
    pub(crate) size: Option<String>,
    /// Embeddings: vector length.
    #[serde(default)]
    pub(crate) dimensions: Option<u64>,
    /// Embeddings: `"float"` (default) or `"base64"`.
    #[serde(default)]
    pub(crate) encoding_format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamOptions {
    #[serde(default)]
    pub(crate) include_usage: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Message {
    #[serde(default)]
    pub(crate) content: Option<Value>,
}

/// Hugging Face's `parameters` (TGI and the task pipelines).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct HfParameters {
    #[serde(default)]
    pub(crate) max_new_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) details: Option<bool>,
    #[serde(default)]
    pub(crate) return_full_text: Option<bool>,
    #[serde(default)]
    pub(crate) width: Option<u64>,
    #[serde(default)]
    pub(crate) height: Option<u64>,
}

impl Incoming {
    pub(crate) fn parse(body: &[u8]) -> Result<Incoming, serde_json::Error> {
        serde_json::from_slice(body)
    }

    pub(crate) fn wants_stream(&self) -> bool {
        self.stream == Some(true)
    }

    pub(crate) fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|options| options.include_usage)
            == Some(true)
    }

    /// The token limit asked for, by any of its names.
    pub(crate) fn token_limit(&self) -> Option<usize> {
        self.max_completion_tokens
            .or(self.max_tokens)
            .or_else(|| self.parameters.as_ref()?.max_new_tokens)
            .map(|limit| usize::try_from(limit).unwrap_or(usize::MAX))
    }

    /// Whitespace-separated words in every input text of the request.
    pub(crate) fn prompt_tokens(&self) -> usize {
        let messages: usize = self
            .messages
            .iter()
            .flatten()
            .filter_map(|message| message.content.as_ref())
            .map(words_in_content)
            .sum();
        messages
            + [&self.prompt, &self.input, &self.inputs]
                .into_iter()
                .flatten()
                .map(words_in_input)
                .sum::<usize>()
    }
}

/// A message's content: a string, or parts of which the text ones count.
fn words_in_content(content: &Value) -> usize {
    match content {
        Value::String(text) => words(text),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .map(words)
            .sum(),
        _ => 0,
    }
}

/// A prompt or input: a string, a list of strings, or token ids (one token each).
fn words_in_input(input: &Value) -> usize {
    match input {
        Value::String(text) => words(text),
        Value::Number(_) => 1,
        Value::Array(items) => items.iter().map(words_in_input).sum(),
        _ => 0,
    }
}

pub(crate) fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// The input texts, in order: a string is one, a list of strings is each (token-id lists become
/// their ids joined by spaces, so equal inputs still give equal vectors).
pub(crate) fn input_texts(input: Option<&Value>) -> Vec<String> {
    match input {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) if items.iter().all(Value::is_number) && !items.is_empty() => {
            vec![join_numbers(items)]
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => text.clone(),
                Value::Array(ids) => join_numbers(ids),
                other => other.to_string(),
            })
            .collect(),
        Some(other) => vec![other.to_string()],
        None => Vec::new(),
    }
}

fn join_numbers(items: &[Value]) -> String {
    items
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_tokens_count_words_of_every_input() {
        let request = Incoming::parse(
            br#"{"model":"m","messages":[
                {"role":"system","content":"Be brief."},
                {"role":"user","content":[{"type":"text","text":"What is  this?"},{"type":"image_url","image_url":{"url":"x"}}]}
            ]}"#,
        )
        .unwrap();
        assert_eq!(request.prompt_tokens(), 5);
        let request = Incoming::parse(br#"{"prompt":["one two","three"]}"#).unwrap();
        assert_eq!(request.prompt_tokens(), 3);
        let request =
            Incoming::parse(br#"{"inputs":"a b c d","parameters":{"max_new_tokens":2}}"#).unwrap();
        assert_eq!(request.prompt_tokens(), 4);
        assert_eq!(request.token_limit(), Some(2));
    }

    #[test]
    fn streaming_and_usage_flags() {
        let request =
            Incoming::parse(br#"{"stream":true,"stream_options":{"include_usage":true}}"#).unwrap();
        assert!(request.wants_stream() && request.include_usage());
        let request = Incoming::parse(br#"{"stream":null}"#).unwrap();
        assert!(!request.wants_stream() && !request.include_usage());
    }
}
