//! Hugging Face's inference API for the tasks that are not chat: `POST
//! {inference_url}/models/{model}` with `{"inputs", "parameters"}`. Text generation speaks
//! TGI's format (streamed as SSE without `[DONE]`); text-to-image answers with the image's
//! bytes; summarisation, translation and feature extraction answer with JSON.

use serde_json::{Map, Value, json};

use crate::generate::call::{self, Call, Decoder, Events};
use crate::generate::errors;
use crate::generate::openai::{self, answer_object, floats, sniff_image};
use crate::generate::sse::SseEvent;
use crate::generate::{
    Completion, EventStream, GeneratedImage, GenerationRequest, ProviderError, ProviderErrorKind,
    StreamEvent, Timeouts, Upstream, Usage, json as lenient,
};

/// Hugging Face's public inference API, used when an upstream has no `inference_url`.
pub const DEFAULT_HF_INFERENCE_URL: &str = "https://router.huggingface.co/hf-inference";

/// The inference tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HfTask {
    TextGeneration,
    TextToImage,
    Summarization,
    Translation,
    FeatureExtraction,
}

/// `{inference_url}/models/{model}`, the model id's segments percent-encoded (its `/` kept).
pub(crate) fn model_url(upstream: &Upstream, model: &str) -> String {
    let base = upstream
        .inference_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(DEFAULT_HF_INFERENCE_URL);
    let path = model
        .trim()
        .split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/");
    openai::url(base, &format!("models/{path}"))
}

fn encode_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The JSON body for a task.
pub(crate) fn body(task: HfTask, request: &GenerationRequest, stream: bool) -> Value {
    let p = &request.parameters;
    let mut parameters = Map::new();
    let mut set = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            parameters.insert(name.to_owned(), value);
        }
    };
    let mut body = Map::new();
    body.insert("inputs".to_owned(), json!(request.prompt));
    match task {
        HfTask::TextGeneration => {
            set("max_new_tokens", p.max_tokens.map(|v| json!(v)));
            for (param, value) in p.sampling.iter().filter(|(param, _)| param.tgi) {
                set(param.name, Some(param.json(value)));
            }
            set("seed", p.seed.map(|v| json!(v)));
            if !p.stop.is_empty() {
                set("stop", Some(json!(p.stop)));
            }
            set("return_full_text", Some(json!(false)));
            // For `finish_reason` and `generated_tokens`.
            set("details", Some(json!(true)));
            body.insert("parameters".to_owned(), Value::Object(parameters));
            body.insert("stream".to_owned(), json!(stream));
        }
        HfTask::TextToImage => {
            set("width", p.width.map(|v| json!(v)));
            set("height", p.height.map(|v| json!(v)));
            set("seed", p.seed.map(|v| json!(v)));
            body.insert("parameters".to_owned(), Value::Object(parameters));
        }
        HfTask::Summarization => {
            body.insert("parameters".to_owned(), Value::Object(parameters));
        }
        HfTask::Translation => {
            let target = p
                .target_language
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty());
            set("tgt_lang", target.map(|t| json!(t)));
            body.insert("parameters".to_owned(), Value::Object(parameters));
        }
        HfTask::FeatureExtraction => {}
    }
    Value::Object(body)
}

fn new_call<'a>(
    client: &'a reqwest::Client,
    upstream: &'a Upstream,
    request: &'a GenerationRequest,
    task: HfTask,
    stream: bool,
    timeouts: Timeouts,
) -> Call<'a> {
    Call {
        client,
        upstream,
        model: &request.model,
        url: model_url(upstream, &request.model),
        body: body(task, request, stream),
        accept: match (task, stream) {
            (_, true) => "text/event-stream",
            (HfTask::TextToImage, false) => "image/*, application/json;q=0.5",
            _ => "application/json",
        },
        timeouts,
        attribution: false,
    }
}

/// A whole answer for any inference task.
pub(crate) async fn complete(
    client: &reqwest::Client,
    upstream: &Upstream,
    request: &GenerationRequest,
    timeouts: Timeouts,
    task: HfTask,
) -> Result<Completion, ProviderError> {
    let answer = new_call(client, upstream, request, task, false, timeouts)
        .send()
        .await?;
    let content_type = answer.content_type();
    let (_, body) = answer.body(upstream).await?;
    let model = request.model.as_str();
    match task {
        HfTask::TextGeneration => parse_generated_text(upstream, model, &body),
        HfTask::TextToImage => parse_image(upstream, model, &content_type, body),
        HfTask::Summarization => parse_text_field(upstream, model, &body, "summary_text"),
        HfTask::Translation => parse_text_field(upstream, model, &body, "translation_text"),
        HfTask::FeatureExtraction => parse_features(upstream, model, &body),
    }
}

/// Streamed text generation (TGI's SSE).
pub(crate) async fn stream_text_generation(
    client: &reqwest::Client,
    upstream: &Upstream,
    request: &GenerationRequest,
    timeouts: Timeouts,
) -> Result<EventStream, ProviderError> {
    let answer = new_call(
        client,
        upstream,
        request,
        HfTask::TextGeneration,
        true,
        timeouts,
    )
    .send()
    .await?;
    if answer.content_type() == "application/json" {
        // A pipeline that cannot stream answers whole.
        let (_, body) = answer.body(upstream).await?;
        let completion = parse_generated_text(upstream, &request.model, &body)?;
        return Ok(call::ready_stream(openai::whole_as_events(completion)));
    }
    Ok(call::event_stream(
        answer,
        upstream,
        TgiDecoder::new(upstream.clone()),
    ))
}

/// Reads a JSON answer that is an object or a list whose first item is the object.
fn first_object(
    upstream: &Upstream,
    model: &str,
    body: &[u8],
) -> Result<Map<String, Value>, ProviderError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| errors::malformed(upstream, &format!("not JSON ({e})"), body))?;
    match value {
        Value::Object(_) => answer_object(upstream, model, body),
        Value::Array(items) => match items.into_iter().next() {
            Some(Value::Object(object)) => Ok(object),
            Some(other) => Err(errors::malformed(
                upstream,
                &format!(
                    "expected a list of objects, got a list of {}",
                    lenient::kind(&other)
                ),
                body,
            )),
            None => Err(errors::malformed(
                upstream,
                "the answer is an empty list",
                body,
            )),
        },
        other => Err(errors::malformed(
            upstream,
            &format!(
                "expected a JSON object or list, got {}",
                lenient::kind(&other)
            ),
            body,
        )),
    }
}

/// `[{"generated_text", "details"?}]` or `{"generated_text"}`.
pub(crate) fn parse_generated_text(
    upstream: &Upstream,
    model: &str,
    body: &[u8],
) -> Result<Completion, ProviderError> {
    let object = first_object(upstream, model, body)?;
    let Some(text) = object.get("generated_text").and_then(Value::as_str) else {
        return Err(errors::malformed(
            upstream,
            "the answer has no `generated_text`",
            body,
        ));
    };
    let details = object.get("details").and_then(Value::as_object);
    Ok(Completion {
        content: text.to_owned(),
        finish_reason: details.and_then(|d| lenient::text(d, "finish_reason")),
        usage: details.and_then(details_usage),
        ..Completion::default()
    })
}

/// TGI's `details` as usage: `generated_tokens`, and the prompt's `input_length` where TGI
/// reports it (stream details); a plain answer's prompt count is unknown and left at 0.
fn details_usage(details: &Map<String, Value>) -> Option<Usage> {
    let generated = lenient::count(details.get("generated_tokens"))?;
    let prompt = lenient::count(details.get("input_length")).unwrap_or(0);
    Some(Usage {
        prompt_tokens: prompt,
        completion_tokens: generated,
        total_tokens: prompt + generated,
        cost: None,
    })
}

/// `[{"summary_text"}]`, `[{"translation_text"}]` (or the object alone).
pub(crate) fn parse_text_field(
    upstream: &Upstream,
    model: &str,
    body: &[u8],
    field: &str,
) -> Result<Completion, ProviderError> {
    let object = first_object(upstream, model, body)?;
    let Some(text) = object.get(field).and_then(Value::as_str) else {
        return Err(errors::malformed(
            upstream,
            &format!("the answer has no `{field}`"),
            body,
        ));
    };
    Ok(Completion {
        content: text.trim().to_owned(),
        finish_reason: Some("stop".to_owned()),
        ..Completion::default()
    })
}

/// Feature extraction: a list of numbers (one vector), a list of lists (one vector each), or
/// deeper nesting (token-level vectors: every innermost list is one vector, in order).
pub(crate) fn parse_features(
    upstream: &Upstream,
    model: &str,
    body: &[u8],
) -> Result<Completion, ProviderError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| errors::malformed(upstream, &format!("not JSON ({e})"), body))?;
    if let Value::Object(_) = value {
        // An error object, or a shape we do not know.
        answer_object(upstream, model, body)?;
        return Err(errors::malformed(
            upstream,
            "expected a list of numbers, got an object",
            body,
        ));
    }
    let mut vectors = Vec::new();
    if !collect_vectors(&value, &mut vectors, 0) || vectors.is_empty() {
        return Err(errors::malformed(
            upstream,
            "expected a list of numbers or a list of such lists",
            body,
        ));
    }
    Ok(Completion {
        embeddings: vectors,
        ..Completion::default()
    })
}

fn collect_vectors(value: &Value, out: &mut Vec<Vec<f32>>, depth: usize) -> bool {
    let Value::Array(items) = value else {
        return false;
    };
    if depth > 4 {
        return false;
    }
    if items.first().is_some_and(Value::is_number) || items.is_empty() {
        return match floats(items) {
            Some(vector) if !vector.is_empty() => {
                out.push(vector);
                true
            }
            Some(_) => true,
            None => false,
        };
    }
    items
        .iter()
        .all(|item| collect_vectors(item, out, depth + 1))
}

/// Text-to-image: the image's bytes with their content type. A JSON answer is an error (or a
/// shape we do not know).
pub(crate) fn parse_image(
    upstream: &Upstream,
    model: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<Completion, ProviderError> {
    let sniffed = sniff_image(&body);
    let mime_type = if content_type.starts_with("image/") {
        content_type.to_owned()
    } else if let Some(sniffed) = sniffed {
        sniffed.to_owned()
    } else {
        if content_type.contains("json") || body.first() == Some(&b'{') {
            answer_object(upstream, model, &body)?;
        }
        return Err(errors::malformed(
            upstream,
            &format!(
                "expected image bytes, got {}",
                if content_type.is_empty() {
                    "an answer with no content type"
                } else {
                    content_type
                }
            ),
            &body,
        ));
    };
    if body.is_empty() {
        return Err(errors::malformed(upstream, "the image is empty", &body));
    }
    Ok(Completion {
        finish_reason: Some("stop".to_owned()),
        images: vec![GeneratedImage {
            mime_type,
            bytes: body,
        }],
        ..Completion::default()
    })
}

/// Reads TGI's stream events: `{"token": {"text", "special"}, "generated_text", "details"}`.
/// Special tokens are skipped; the event whose `generated_text` is set is the last one (TGI
/// sends no `[DONE]`), and its `details` give the finish reason and generated tokens.
pub(crate) struct TgiDecoder {
    upstream: Upstream,
    finished: Option<(Option<String>, Option<Usage>)>,
}

impl TgiDecoder {
    pub fn new(upstream: Upstream) -> TgiDecoder {
        TgiDecoder {
            upstream,
            finished: None,
        }
    }
}

impl Decoder for TgiDecoder {
    fn event(&mut self, event: &SseEvent, out: &mut Events) -> bool {
        let data = event.data.trim();
        if data.is_empty() {
            return false;
        }
        if data == "[DONE]" {
            // Not TGI's own, but an explicit end all the same.
            self.finished.get_or_insert((None, None));
            self.end(out);
            return true;
        }
        let chunk = match errors::event_object(&self.upstream, data) {
            Ok(chunk) => chunk,
            Err(error) => {
                out.push_back(Err(error));
                return true;
            }
        };
        if event.event.as_deref() == Some("error")
            || chunk.get("error").is_some_and(|e| !e.is_null())
        {
            let said = errors::json_error_message(&chunk).unwrap_or_else(|| data.to_owned());
            out.push_back(Err(errors::in_answer(&self.upstream, Some(&said))));
            return true;
        }
        if let Some(token) = chunk.get("token").and_then(Value::as_object) {
            let special = token
                .get("special")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if let Some(text) = token.get("text").and_then(Value::as_str)
                && !special
                && !text.is_empty()
            {
                out.push_back(Ok(StreamEvent::Delta(text.to_owned())));
            }
        }
        if chunk.get("generated_text").is_some_and(Value::is_string) {
            let details = chunk.get("details").and_then(Value::as_object);
            self.finished = Some((
                details.and_then(|d| lenient::text(d, "finish_reason")),
                details.and_then(details_usage),
            ));
            self.end(out);
            return true;
        }
        false
    }

    fn end(&mut self, out: &mut Events) {
        match self.finished.take() {
            Some((finish_reason, usage)) => {
                if let Some(usage) = usage {
                    out.push_back(Ok(StreamEvent::Usage(usage)));
                }
                out.push_back(Ok(StreamEvent::Finished { finish_reason }));
            }
            None => out.push_back(Err(ProviderError::new(
                ProviderErrorKind::StreamCut,
                format!(
                    "{} closed the stream before the answer was finished; the answer is \
                     incomplete.",
                    errors::display_name(&self.upstream)
                ),
            ))),
        }
    }

    fn finish_seen(&self) -> bool {
        self.finished.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProviderKind;
    use crate::generate::test_support::{decode, text, upstream};
    use crate::generate::{Parameters, Task};
    use aipasta_core::params::SamplingValues;

    fn request(parameters: Parameters) -> GenerationRequest {
        GenerationRequest {
            task: Task::TextCompletion,
            model: "meta-llama/Llama-3.1-8B".to_owned(),
            messages: Vec::new(),
            prompt: "Once upon".to_owned(),
            parameters,
        }
    }

    #[test]
    fn model_urls() {
        let mut up = upstream(ProviderKind::HuggingFace);
        assert_eq!(
            model_url(&up, "meta-llama/Llama-3.1-8B"),
            "http://127.0.0.1:9/hf-inference/models/meta-llama/Llama-3.1-8B"
        );
        assert_eq!(
            model_url(&up, "odd name/x?y"),
            "http://127.0.0.1:9/hf-inference/models/odd%20name/x%3Fy"
        );
        up.inference_url = None;
        assert_eq!(
            model_url(&up, "gpt2"),
            "https://router.huggingface.co/hf-inference/models/gpt2"
        );
    }

    #[test]
    fn text_generation_body_in_tgi_format() {
        let parameters = Parameters {
            sampling: SamplingValues::from([
                ("temperature", 0.7),
                ("top_p", 0.95),
                ("top_k", 50.0),
                ("repetition_penalty", 1.2),
                // Not a TGI parameter: left out.
                ("frequency_penalty", 0.5),
            ]),
            max_tokens: Some(20),
            seed: Some(42),
            stop: vec!["\n\n".to_owned()],
            ..Parameters::default()
        };
        assert_eq!(
            body(HfTask::TextGeneration, &request(parameters), true),
            json!({
                "inputs": "Once upon",
                "parameters": {
                    "max_new_tokens": 20,
                    "temperature": 0.7,
                    "top_p": 0.95,
                    "top_k": 50,
                    "repetition_penalty": 1.2,
                    "seed": 42,
                    "stop": ["\n\n"],
                    "return_full_text": false,
                    "details": true
                },
                "stream": true
            })
        );
        assert_eq!(
            body(
                HfTask::TextGeneration,
                &request(Parameters::default()),
                false
            ),
            json!({
                "inputs": "Once upon",
                "parameters": {"return_full_text": false, "details": true},
                "stream": false
            })
        );
    }

    #[test]
    fn other_task_bodies() {
        let parameters = Parameters {
            width: Some(768),
            height: Some(512),
            target_language: Some(" fr ".to_owned()),
            sampling: SamplingValues::from([("temperature", 1.0)]),
            ..Parameters::default()
        };
        let request = request(parameters);
        assert_eq!(
            body(HfTask::TextToImage, &request, false),
            json!({"inputs": "Once upon", "parameters": {"width": 768, "height": 512}})
        );
        assert_eq!(
            body(HfTask::Translation, &request, false),
            json!({"inputs": "Once upon", "parameters": {"tgt_lang": "fr"}})
        );
        assert_eq!(
            body(HfTask::Summarization, &request, false),
            json!({"inputs": "Once upon", "parameters": {}})
        );
        assert_eq!(
            body(HfTask::FeatureExtraction, &request, false),
            json!({"inputs": "Once upon"})
        );
    }

    #[test]
    fn generated_text_shapes() {
        let up = upstream(ProviderKind::HuggingFace);
        let object = parse_generated_text(&up, "m", br#"{"generated_text":"hi"}"#).unwrap();
        assert_eq!(object.content, "hi");
        for bad in [&b"[]"[..], b"[1]", b"{}", b"nope", b"42"] {
            let error = parse_generated_text(&up, "m", bad).unwrap_err();
            assert_eq!(error.kind, ProviderErrorKind::Malformed, "{bad:?}");
        }
        let error =
            parse_generated_text(&up, "m", br#"{"error":"CUDA out of memory"}"#).unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::ServerError);
        assert!(error.message.contains("CUDA out of memory"));
    }

    #[test]
    fn feature_shapes() {
        let up = upstream(ProviderKind::HuggingFace);
        let one = parse_features(&up, "m", b"[0.5, -1, 2e-1]").unwrap();
        assert_eq!(one.embeddings, vec![vec![0.5, -1.0, 0.2]]);
        let batch = parse_features(&up, "m", b"[[1, 2], [3, 4]]").unwrap();
        assert_eq!(batch.embeddings, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        for bad in [
            &b"[]"[..],
            b"[[]]",
            b"[\"a\"]",
            b"[[1], \"x\"]",
            b"{}",
            b"1",
        ] {
            let error = parse_features(&up, "m", bad).unwrap_err();
            assert_eq!(error.kind, ProviderErrorKind::Malformed, "{bad:?}");
        }
    }

    #[test]
    fn image_answers_that_are_not_images() {
        let up = upstream(ProviderKind::HuggingFace);
        let error = parse_image(
            &up,
            "m",
            "application/json",
            br#"{"error":"Model too busy"}"#.to_vec(),
        )
        .unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::ServerError);
        let error = parse_image(&up, "m", "text/plain", b"hello".to_vec()).unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::Malformed);
        assert!(error.message.contains("text/plain"), "{}", error.message);
        let error = parse_image(&up, "m", "image/png", Vec::new()).unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::Malformed);
    }

    fn tgi_event(text: &str, special: bool, last: Option<&str>) -> String {
        let (generated, details) = match last {
            Some(reason) => (
                json!("the whole text"),
                json!({"finish_reason": reason, "generated_tokens": 3, "seed": null, "input_length": 2}),
            ),
            None => (Value::Null, Value::Null),
        };
        format!(
            "data:{}\n\n",
            json!({
                "index": 1,
                "token": {"id": 1, "text": text, "logprob": -0.1, "special": special},
                "generated_text": generated,
                "details": details
            })
        )
    }

    #[test]
    fn tgi_stream_skips_special_tokens_and_reports_details() {
        let body = tgi_event("Hello", false, None)
            + &tgi_event(" world", false, None)
            + &tgi_event("</s>", true, Some("eos_token"));
        let events = decode(
            TgiDecoder::new(upstream(ProviderKind::HuggingFace)),
            body.as_bytes(),
            5,
        );
        assert_eq!(
            events,
            vec![
                Ok(StreamEvent::Delta("Hello".to_owned())),
                Ok(StreamEvent::Delta(" world".to_owned())),
                Ok(StreamEvent::Usage(Usage {
                    prompt_tokens: 2,
                    completion_tokens: 3,
                    total_tokens: 5,
                    cost: None
                })),
                Ok(StreamEvent::Finished {
                    finish_reason: Some("eos_token".to_owned())
                }),
            ]
        );
    }

    #[test]
    fn tgi_stream_cut_and_errors() {
        let up = upstream(ProviderKind::HuggingFace);
        let body = tgi_event("Hello", false, None);
        let events = decode(TgiDecoder::new(up.clone()), body.as_bytes(), 5);
        assert_eq!(text(&events), "Hello");
        assert_eq!(
            events.last().unwrap().as_ref().unwrap_err().kind,
            ProviderErrorKind::StreamCut
        );

        let body = tgi_event("Hello", false, None)
            + "data: {\"error\":\"Request failed during generation: Server error: CUDA OOM\",\"error_type\":\"generation\"}\n\n";
        let events = decode(TgiDecoder::new(up.clone()), body.as_bytes(), 5);
        let error = events.last().unwrap().as_ref().unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::StreamError);
        assert!(error.message.contains("CUDA OOM"), "{}", error.message);

        let events = decode(TgiDecoder::new(up), b"data: {oops\n\n", 5);
        assert_eq!(
            events.last().unwrap().as_ref().unwrap_err().kind,
            ProviderErrorKind::Malformed
        );
    }
}
