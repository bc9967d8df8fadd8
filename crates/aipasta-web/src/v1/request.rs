//! What every `/v1` request shares: the JSON body (with OpenAI-shaped rejections), the
//! sampling fields of chat and completions, and OpenAI's finish reasons.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use aipasta_engine::Outcome;
use aipasta_engine::prepare::ParameterInput;

use super::error::{INVALID_REQUEST, OpenAiError};

/// A JSON body parsed whatever its `Content-Type` says, refused in OpenAI's shape.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = OpenAiError;

    async fn from_request(request: Request, state: &S) -> Result<Body<T>, OpenAiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                OpenAiError::new(
                    status,
                    INVALID_REQUEST,
                    if status == StatusCode::PAYLOAD_TOO_LARGE {
                        "request_too_large"
                    } else {
                        "invalid_body"
                    },
                    rejection.body_text(),
                )
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(OpenAiError::new(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                "invalid_json",
                "The request body is empty. Send a JSON object (Content-Type: application/json).",
            ));
        }
        serde_json::from_slice(&bytes).map(Body).map_err(|error| {
            OpenAiError::new(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                "invalid_json",
                format!("We could not parse the JSON body of your request: {error}."),
            )
        })
    }
}

/// A field the request must carry. Request types read required fields as `Option` (absent
/// is not a parse error) and the handler asks for each by name, so a missing one is refused
/// with its `param` (OpenAI's `missing_required_parameter`), in the order the handler checks.
pub fn required<T>(value: Option<T>, name: &str) -> Result<T, OpenAiError> {
    value.ok_or_else(|| {
        OpenAiError::invalid(
            name,
            "missing_required_parameter",
            format!("You must provide `{name}`."),
        )
    })
}

/// The sampling fields chat and legacy completions share: the table's sampling parameters by
/// their providers' names (OpenRouter's `top_k` and `repetition_penalty` among them), the
/// length limit, the seed and the stop sequences.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(as = V1Sampling)]
pub struct Sampling {
    /// Everything `prepare` reads, by the same rules as the plan's API.
    #[serde(flatten)]
    #[schema(schema_with = crate::apidocs::v1_sampling_schema)]
    pub parameters: ParameterInput,
    /// Chat's newer name for `max_tokens`; it wins when both are sent.
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    /// How many choices: AI Pasta answers one, so only 1 is taken.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1)]
    pub n: Option<u32>,
    /// Server-Sent Events instead of one answer.
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[schema(as = V1StreamOptions)]
pub struct StreamOptions {
    /// Ends the stream with a chunk holding `usage` and no choices.
    #[serde(default)]
    pub include_usage: Option<bool>,
}

impl Sampling {
    pub fn parameters(&self) -> ParameterInput {
        ParameterInput {
            max_tokens: self.max_completion_tokens.or(self.parameters.max_tokens),
            ..self.parameters.clone()
        }
    }

    pub fn stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    pub fn include_usage(&self) -> bool {
        self.stream_options
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }

    /// Refuses `n` above 1.
    pub fn check_n(&self) -> Result<(), OpenAiError> {
        match self.n {
            None | Some(1) => Ok(()),
            Some(n) => Err(OpenAiError::invalid(
                "n",
                "unsupported_value",
                format!("AI Pasta answers one choice per request; `n` must be 1, not {n}."),
            )),
        }
    }
}

/// The chat finish reason OpenAI's clients know (`stop`, `length`, `content_filter`,
/// `tool_calls`), from what the provider said.
pub fn chat_finish_reason(outcome: &Outcome) -> &'static str {
    match outcome
        .finish_reason
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("length" | "max_tokens" | "max_length" | "model_length" | "max_output_tokens") => {
            "length"
        }
        Some("content_filter" | "safety" | "recitation") => "content_filter",
        Some("tool_calls" | "function_call" | "tool_use") => "tool_calls",
        _ => "stop",
    }
}

/// The legacy completion's finish reason (`stop`, `length`, `content_filter`).
pub fn text_finish_reason(outcome: &Outcome) -> &'static str {
    match chat_finish_reason(outcome) {
        "tool_calls" => "stop",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_reads_openai_fields_and_ignores_the_rest() {
        let sampling: Sampling = serde_json::from_value(serde_json::json!({
            "temperature": 0.2, "max_tokens": 10, "max_completion_tokens": 20, "stop": "END",
            "top_k": 5, "logit_bias": {"1": 2}, "stream_options": {"include_usage": true}
        }))
        .unwrap();
        let p = sampling.parameters();
        assert_eq!(p.max_tokens, Some(20));
        assert_eq!(p.stop, vec!["END".to_owned()]);
        assert_eq!(p.sampling.get("top_k"), Some(5.0));
        assert_eq!(p.sampling.get("temperature"), Some(0.2));
        assert!(sampling.include_usage());
        let none: Sampling = serde_json::from_value(serde_json::json!({"stop": null})).unwrap();
        assert!(none.parameters.stop.is_empty());
        assert!(!none.stream());
    }

    #[test]
    fn finish_reasons_are_openais() {
        let mut outcome = Outcome::interrupted(String::new());
        for (given, chat) in [
            (None, "stop"),
            (Some("eos"), "stop"),
            (Some("MAX_TOKENS"), "length"),
            (Some("tool_calls"), "tool_calls"),
        ] {
            outcome.finish_reason = given.map(str::to_owned);
            assert_eq!(chat_finish_reason(&outcome), chat);
        }
        assert_eq!(text_finish_reason(&outcome), "stop");
    }
}
