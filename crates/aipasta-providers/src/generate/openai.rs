//! OpenAI's wire format, spoken by OpenRouter, the Hugging Face router and OpenAI-compatible
//! servers: chat and text completions (whole or streamed), embeddings and images.

use base64::Engine as _;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::ProviderKind;
use crate::generate::call::{self, Answer, Call, Decoder, Events};
use crate::generate::errors;
use crate::generate::sse::SseEvent;
use crate::generate::{
    Completion, EventStream, GeneratedImage, GenerationRequest, Parameters, ProviderError,
    ProviderErrorKind, StreamEvent, Timeouts, Upstream, Usage, json as lenient,
};

/// OpenRouter's header naming the generation (the same id as the body's `id`).
const GENERATION_ID_HEADER: &str = "x-generation-id";

/// The text endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextEndpoint {
    /// `/chat/completions` with `messages`.
    Chat,
    /// `/completions` with `prompt`.
    Completion,
}

impl TextEndpoint {
    fn path(self) -> &'static str {
        match self {
            TextEndpoint::Chat => "chat/completions",
            TextEndpoint::Completion => "completions",
        }
    }
}

/// `{base}/{path}` with exactly one slash between.
pub(crate) fn url(base: &str, path: &str) -> String {
    format!("{}/{path}", base.trim().trim_end_matches('/'))
}

/// The JSON body of a chat or text completion request: the model, the input, and only the
/// parameters that are set.
pub(crate) fn text_body(
    endpoint: TextEndpoint,
    request: &GenerationRequest,
    stream: bool,
) -> Value {
    let mut body = Map::new();
    body.insert("model".to_owned(), json!(request.model));
    match endpoint {
        TextEndpoint::Chat => {
            body.insert("messages".to_owned(), json!(request.messages));
        }
        TextEndpoint::Completion => {
            body.insert("prompt".to_owned(), json!(request.prompt));
        }
    }
    sampling(&request.parameters, &mut body);
    if stream {
        body.insert("stream".to_owned(), json!(true));
        body.insert("stream_options".to_owned(), json!({"include_usage": true}));
    }
    Value::Object(body)
}

/// Every sampling parameter by its own name (OpenRouter and OpenAI-compatible servers share
/// the names), then the length limit, seed and stop sequences.
fn sampling(parameters: &Parameters, body: &mut Map<String, Value>) {
    for (param, value) in parameters.sampling.iter() {
        body.insert(param.name.to_owned(), param.json(value));
    }
    let mut set = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            body.insert(name.to_owned(), value);
        }
    };
    set("max_tokens", parameters.max_tokens.map(|v| json!(v)));
    set("seed", parameters.seed.map(|v| json!(v)));
    if !parameters.stop.is_empty() {
        set("stop", Some(json!(parameters.stop)));
    }
}

fn new_call<'a>(
    client: &'a reqwest::Client,
    upstream: &'a Upstream,
    request: &'a GenerationRequest,
    path: &str,
    body: Value,
    accept: &'static str,
    timeouts: Timeouts,
) -> Call<'a> {
    Call {
        client,
        upstream,
        model: &request.model,
        url: url(&upstream.base_url, path),
        body,
        accept,
        timeouts,
        attribution: upstream.kind == ProviderKind::OpenRouter,
    }
}

/// A whole chat or text completion.
pub(crate) async fn complete_text(
    client: &reqwest::Client,
    upstream: &Upstream,
    request: &GenerationRequest,
    timeouts: Timeouts,
    endpoint: TextEndpoint,
) -> Result<Completion, ProviderError> {
    let body = text_body(endpoint, request, false);
    let answer = new_call(
        client,
        upstream,
        request,
        endpoint.path(),
        body,
        "application/json",
        timeouts,
    )
    .send()
    .await?;
    let (headers, body) = answer.body(upstream).await?;
    parse_text_completion(upstream, &request.model, endpoint, &headers, &body)
}

/// A streamed chat or text completion. A server that ignores `stream: true` and answers with
/// one JSON document is read as a whole answer and handed out as one stream.
pub(crate) async fn stream_text(
    client: &reqwest::Client,
    upstream: &Upstream,
    request: &GenerationRequest,
    timeouts: Timeouts,
    endpoint: TextEndpoint,
) -> Result<EventStream, ProviderError> {
    let body = text_body(endpoint, request, true);
    let answer: Answer = new_call(
        client,
        upstream,
        request,
        endpoint.path(),
        body,
        "text/event-stream",
        timeouts,
    )
    .send()
    .await?;
    if answer.content_type() == "application/json" {
        let (headers, body) = answer.body(upstream).await?;
        let completion =
            parse_text_completion(upstream, &request.model, endpoint, &headers, &body)?;
        return Ok(call::ready_stream(whole_as_events(completion)));
    }
    let generation_id = call::header_text(answer.response.headers(), GENERATION_ID_HEADER);
    let decoder = ChunkDecoder::new(upstream.clone(), endpoint, generation_id);
    Ok(call::event_stream(answer, upstream, decoder))
}

/// A whole answer as the events a stream of it would have given.
pub(crate) fn whole_as_events(completion: Completion) -> Vec<Result<StreamEvent, ProviderError>> {
    let mut events = Vec::new();
    if completion.provider_generation_id.is_some() || completion.model_version.is_some() {
        events.push(Ok(StreamEvent::Meta {
            provider_generation_id: completion.provider_generation_id,
            model_version: completion.model_version,
        }));
    }
    if !completion.content.is_empty() {
        events.push(Ok(StreamEvent::Delta(completion.content)));
    }
    if let Some(usage) = completion.usage {
        events.push(Ok(StreamEvent::Usage(usage)));
    }
    events.push(Ok(StreamEvent::Finished {
        finish_reason: completion.finish_reason,
    }));
    events
}

/// Reads a JSON object answer; an `error` object inside a success answer is that error.
pub(crate) fn answer_object(
    upstream: &Upstream,
    model: &str,
    body: &[u8],
) -> Result<Map<String, Value>, ProviderError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| errors::malformed(upstream, &format!("not JSON ({e})"), body))?;
    let Value::Object(object) = value else {
        return Err(errors::malformed(
            upstream,
            &format!("expected a JSON object, got {}", lenient::kind(&value)),
            body,
        ));
    };
    if object.get("error").is_some_and(|e| !e.is_null()) {
        return Err(error_in_success(upstream, model, &object));
    }
    Ok(object)
}

/// An `{"error": ...}` that came with a success status: its `code` (when it is an HTTP
/// status) says which kind.
pub(crate) fn error_in_success(
    upstream: &Upstream,
    model: &str,
    object: &Map<String, Value>,
) -> ProviderError {
    let code = object
        .get("error")
        .and_then(|e| e.get("code"))
        .and_then(lenient_status);
    match code {
        Some(code) => {
            let body = Value::Object(object.clone()).to_string();
            errors::status_error(upstream, model, code, &HeaderMap::new(), body.as_bytes())
        }
        None => {
            let said = errors::json_error_message(object);
            let mut error = errors::in_answer(upstream, said.as_deref());
            error.kind = ProviderErrorKind::ServerError;
            error
        }
    }
}

fn lenient_status(code: &Value) -> Option<u16> {
    let code = match code {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    u16::try_from(code).ok().filter(|c| (400..600).contains(c))
}

/// The top-level fields of a whole chat or text completion that are read, each as its JSON
/// text: the rest of the answer is skipped without being built, and the cost comes from the
/// usage's own text. (Reading the whole answer as a `Value`, then scanning it again for the
/// cost, was about 3% of a gateway call.)
#[derive(Deserialize)]
struct CompletionParts<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    model: Option<&'a RawValue>,
    #[serde(borrow)]
    choices: Option<&'a RawValue>,
    #[serde(borrow)]
    usage: Option<&'a RawValue>,
    /// Only whether there is one: an answer with an error is read by [`answer_object`].
    #[serde(borrow)]
    error: Option<&'a RawValue>,
}

/// A non-streamed chat or text completion answer.
pub(crate) fn parse_text_completion(
    upstream: &Upstream,
    model: &str,
    endpoint: TextEndpoint,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Completion, ProviderError> {
    if let Ok(parts) = serde_json::from_slice::<CompletionParts<'_>>(body)
        && parts.error.is_none()
    {
        return completion_from_parts(upstream, endpoint, headers, body, parts);
    }
    // Not a JSON object, an error inside, or a key given twice: the general reading says
    // which, or gives the object with one value per key, read again as parts.
    let object = answer_object(upstream, model, body)?;
    let text = Value::Object(object).to_string();
    let parts = serde_json::from_str::<CompletionParts<'_>>(&text)
        .map_err(|e| errors::malformed(upstream, &format!("not readable ({e})"), body))?;
    completion_from_parts(upstream, endpoint, headers, body, parts)
}

fn completion_from_parts(
    upstream: &Upstream,
    endpoint: TextEndpoint,
    headers: &HeaderMap,
    body: &[u8],
    parts: CompletionParts<'_>,
) -> Result<Completion, ProviderError> {
    let choices: Vec<Value> = parts
        .choices
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .unwrap_or_default();
    let choice = first_choice(&choices)
        .ok_or_else(|| errors::malformed(upstream, "the answer has no `choices`", body))?;
    let content = match endpoint {
        TextEndpoint::Chat => choice
            .get("message")
            .and_then(|m| lenient::content(m.get("content")))
            .or_else(|| lenient::content(choice.get("text"))),
        TextEndpoint::Completion => lenient::content(choice.get("text")).or_else(|| {
            choice
                .get("message")
                .and_then(|m| lenient::content(m.get("content")))
        }),
    }
    .unwrap_or_default();
    let finish_reason = lenient::text(choice, "finish_reason");
    if finish_reason.as_deref() == Some("error") {
        let said = choice
            .get("error")
            .and_then(Value::as_object)
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str);
        let mut error = errors::in_answer(upstream, said);
        error.kind = ProviderErrorKind::ServerError;
        return Err(error);
    }
    Ok(Completion {
        content,
        finish_reason,
        usage: parts.usage.and_then(lenient::raw_usage),
        provider_generation_id: lenient::raw_text(parts.id)
            .or_else(|| call::header_text(headers, GENERATION_ID_HEADER)),
        model_version: lenient::raw_text(parts.model),
        ..Completion::default()
    })
}

/// The choice with index 0 (or the first one).
fn first_choice(choices: &[Value]) -> Option<&Map<String, Value>> {
    choices
        .iter()
        .filter_map(Value::as_object)
        .find(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
        .or_else(|| choices.iter().find_map(Value::as_object))
}

/// Reads OpenAI-style stream chunks.
///
/// Usage is remembered and handed out once, just before `Finished`. The answer finishes at
/// `[DONE]`, at the end of the body after a `finish_reason`, or as soon as a `finish_reason`
/// and the usage have both arrived (whichever placement the provider uses). An end without
/// a finish reason or `[DONE]` is a cut.
pub(crate) struct ChunkDecoder {
    upstream: Upstream,
    endpoint: TextEndpoint,
    header_id: Option<String>,
    id: Option<String>,
    model: Option<String>,
    meta_sent: (Option<String>, Option<String>),
    finish_reason: Option<String>,
    usage: Option<Usage>,
    done_marker: bool,
}

impl ChunkDecoder {
    pub fn new(
        upstream: Upstream,
        endpoint: TextEndpoint,
        header_id: Option<String>,
    ) -> ChunkDecoder {
        ChunkDecoder {
            upstream,
            endpoint,
            header_id,
            id: None,
            model: None,
            meta_sent: (None, None),
            finish_reason: None,
            usage: None,
            done_marker: false,
        }
    }

    fn error(&self, said: Option<&str>, out: &mut Events) -> bool {
        out.push_back(Err(errors::in_answer(&self.upstream, said)));
        true
    }

    fn note_meta(&mut self, chunk: &Map<String, Value>, out: &mut Events) {
        if self.id.is_none() {
            self.id = lenient::text(chunk, "id").or_else(|| self.header_id.clone());
        }
        if self.model.is_none() {
            self.model = lenient::text(chunk, "model");
        }
        let now = (self.id.clone(), self.model.clone());
        if now != self.meta_sent && (now.0.is_some() || now.1.is_some()) {
            out.push_back(Ok(StreamEvent::Meta {
                provider_generation_id: now.0.clone(),
                model_version: now.1.clone(),
            }));
            self.meta_sent = now;
        }
    }
}

impl Decoder for ChunkDecoder {
    fn event(&mut self, event: &SseEvent, out: &mut Events) -> bool {
        let data = event.data.trim();
        if event.event.as_deref() == Some("error") {
            let said = serde_json::from_str::<Value>(data)
                .ok()
                .and_then(|v| v.as_object().and_then(errors::json_error_message))
                .unwrap_or_else(|| data.to_owned());
            return self.error(Some(&said), out);
        }
        if data.is_empty() {
            return false;
        }
        if data == "[DONE]" {
            self.done_marker = true;
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
        if chunk.get("error").is_some_and(|e| !e.is_null()) {
            let said = errors::json_error_message(&chunk);
            return self.error(said.as_deref(), out);
        }
        self.note_meta(&chunk, out);
        if let Some(usage) = lenient::usage(chunk.get("usage"), data.as_bytes()) {
            self.usage = Some(usage);
        }
        let choices = chunk.get("choices").and_then(Value::as_array);
        if let Some(choice) = choices.and_then(|choices| first_choice(choices)) {
            let delta = choice.get("delta");
            let text = match self.endpoint {
                TextEndpoint::Chat => delta
                    .and_then(|d| lenient::content(d.get("content")))
                    .or_else(|| lenient::content(choice.get("text"))),
                TextEndpoint::Completion => lenient::content(choice.get("text"))
                    .or_else(|| delta.and_then(|d| lenient::content(d.get("content")))),
            };
            if let Some(text) = text.filter(|t| !t.is_empty()) {
                out.push_back(Ok(StreamEvent::Delta(text)));
            }
            if let Some(reason) = lenient::text(choice, "finish_reason") {
                if reason == "error" {
                    let said = choice
                        .get("error")
                        .and_then(Value::as_object)
                        .and_then(|e| e.get("message"))
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    return self.error(said.as_deref(), out);
                }
                self.finish_reason = Some(reason);
            }
        }
        if self.finish_reason.is_some() && self.usage.is_some() {
            self.end(out);
            return true;
        }
        false
    }

    fn end(&mut self, out: &mut Events) {
        if self.finish_reason.is_none() && !self.done_marker {
            out.push_back(Err(ProviderError::new(
                ProviderErrorKind::StreamCut,
                format!(
                    "{} closed the stream before the answer was finished; the answer is \
                     incomplete.",
                    errors::display_name(&self.upstream)
                ),
            )));
            return;
        }
        if let Some(usage) = self.usage.take() {
            out.push_back(Ok(StreamEvent::Usage(usage)));
        }
        out.push_back(Ok(StreamEvent::Finished {
            finish_reason: self.finish_reason.clone(),
        }));
    }

    fn finish_seen(&self) -> bool {
        self.finish_reason.is_some()
    }
}

// ---- embeddings ----

/// Vectors for the prompt: `POST {base}/embeddings`.
pub(crate) async fn complete_embeddings(
    client: &reqwest::Client,
    upstream: &Upstream,
    request: &GenerationRequest,
    timeouts: Timeouts,
) -> Result<Completion, ProviderError> {
    let body = json!({"model": request.model, "input": request.prompt});
    let answer = new_call(
        client,
        upstream,
        request,
        "embeddings",
        body,
        "application/json",
        timeouts,
    )
    .send()
    .await?;
    let (_, body) = answer.body(upstream).await?;
    parse_embeddings(upstream, &request.model, &body)
}

/// `{"data": [{"embedding": [...] or base64, "index"}], "model", "usage"}`.
pub(crate) fn parse_embeddings(
    upstream: &Upstream,
    model: &str,
    body: &[u8],
) -> Result<Completion, ProviderError> {
    let object = answer_object(upstream, model, body)?;
    let Some(items) = object.get("data").and_then(Value::as_array) else {
        return Err(errors::malformed(
            upstream,
            "the answer has no `data` list",
            body,
        ));
    };
    let mut indexed: Vec<(u64, Vec<f32>)> = Vec::new();
    for (position, item) in items.iter().enumerate() {
        let index = item
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(position as u64);
        let vector = match item.get("embedding") {
            Some(Value::Array(numbers)) => floats(numbers),
            Some(Value::String(encoded)) => base64_floats(encoded),
            _ => None,
        };
        let Some(vector) = vector else {
            return Err(errors::malformed(
                upstream,
                "an embedding is neither a list of numbers nor base64",
                body,
            ));
        };
        indexed.push((index, vector));
    }
    indexed.sort_by_key(|(index, _)| *index);
    Ok(Completion {
        usage: lenient::usage(object.get("usage"), body),
        provider_generation_id: lenient::text(&object, "id"),
        model_version: lenient::text(&object, "model"),
        embeddings: indexed.into_iter().map(|(_, v)| v).collect(),
        ..Completion::default()
    })
}

/// A list of JSON numbers as `f32`s; `None` if any is not a number.
pub(crate) fn floats(numbers: &[Value]) -> Option<Vec<f32>> {
    numbers
        .iter()
        .map(|n| n.as_f64().map(|f| f as f32))
        .collect()
}

/// OpenAI's `encoding_format: base64`: little-endian `f32`s.
fn base64_floats(encoded: &str) -> Option<Vec<f32>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    if bytes.len() % 4 != 0 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

// ---- images ----

/// Images from the prompt: OpenAI's `POST {base}/images/generations` (asking for `b64_json`),
/// or OpenRouter's `POST {base}/images`.
pub(crate) async fn complete_images(
    client: &reqwest::Client,
    upstream: &Upstream,
    request: &GenerationRequest,
    timeouts: Timeouts,
) -> Result<Completion, ProviderError> {
    let parameters = &request.parameters;
    let mut body = Map::new();
    body.insert("model".to_owned(), json!(request.model));
    body.insert("prompt".to_owned(), json!(request.prompt));
    if let (Some(width), Some(height)) = (parameters.width, parameters.height) {
        body.insert("size".to_owned(), json!(format!("{width}x{height}")));
    }
    let path = if upstream.kind == ProviderKind::OpenRouter {
        if let Some(seed) = parameters.seed {
            body.insert("seed".to_owned(), json!(seed));
        }
        "images"
    } else {
        body.insert("n".to_owned(), json!(1));
        body.insert("response_format".to_owned(), json!("b64_json"));
        "images/generations"
    };
    let answer = new_call(
        client,
        upstream,
        request,
        path,
        Value::Object(body),
        "application/json",
        timeouts,
    )
    .send()
    .await?;
    let (_, body) = answer.body(upstream).await?;
    parse_images(upstream, &request.model, &body)
}

/// `{"data": [{"b64_json", "media_type"?}], "output_format"?, "usage"?}`.
pub(crate) fn parse_images(
    upstream: &Upstream,
    model: &str,
    body: &[u8],
) -> Result<Completion, ProviderError> {
    let object = answer_object(upstream, model, body)?;
    let Some(items) = object.get("data").and_then(Value::as_array) else {
        return Err(errors::malformed(
            upstream,
            "the answer has no `data` list",
            body,
        ));
    };
    let output_format = lenient::text(&object, "output_format");
    let mut images = Vec::new();
    let mut revised_prompt = None;
    for item in items.iter().filter_map(Value::as_object) {
        let Some(encoded) = lenient::text(item, "b64_json") else {
            if item.get("url").is_some() {
                return Err(errors::malformed(
                    upstream,
                    "the image came as a URL, not as data (AI Pasta asks for `b64_json` and \
                     does not fetch links from answers)",
                    body,
                ));
            }
            continue;
        };
        let (declared, encoded) = split_data_url(&encoded);
        let clean: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(clean.as_bytes())
            .map_err(|_| {
                errors::malformed(upstream, "an image's `b64_json` is not base64", body)
            })?;
        let mime_type = lenient::text(item, "media_type")
            .or(declared)
            .or_else(|| output_format.as_deref().map(format_mime))
            .or_else(|| sniff_image(&bytes).map(str::to_owned))
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        if revised_prompt.is_none() {
            revised_prompt = lenient::text(item, "revised_prompt");
        }
        images.push(GeneratedImage { mime_type, bytes });
    }
    if images.is_empty() {
        return Err(errors::malformed(
            upstream,
            "the answer holds no image",
            body,
        ));
    }
    Ok(Completion {
        content: revised_prompt.unwrap_or_default(),
        usage: lenient::usage(object.get("usage"), body),
        provider_generation_id: lenient::text(&object, "id"),
        model_version: lenient::text(&object, "model"),
        images,
        ..Completion::default()
    })
}

/// `data:image/png;base64,AAAA` → (`image/png`, `AAAA`); anything else is returned as is.
fn split_data_url(text: &str) -> (Option<String>, &str) {
    if let Some(rest) = text.strip_prefix("data:")
        && let Some((header, data)) = rest.split_once(',')
    {
        let mime = header.split(';').next().unwrap_or("").trim();
        return ((!mime.is_empty()).then(|| mime.to_owned()), data);
    }
    (None, text)
}

fn format_mime(format: &str) -> String {
    match format.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => "image/jpeg".to_owned(),
        "svg" => "image/svg+xml".to_owned(),
        other => format!("image/{other}"),
    }
}

/// The image type from its first bytes (the raster formats AI Pasta keeps; the engine refuses
/// anything else before it is stored).
pub(crate) fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    aipasta_core::media::ImageFormat::sniff(bytes).map(aipasta_core::media::ImageFormat::mime_type)
}

#[cfg(test)]
mod tests {
    use aipasta_core::money::Nanos;
    use aipasta_core::params::SamplingValues;
    use reqwest::header::HeaderValue;

    use super::*;
    use crate::generate::test_support::{decode, text, upstream};
    use crate::generate::{ChatMessage, Role, Task};

    fn request(task: Task, parameters: Parameters) -> GenerationRequest {
        GenerationRequest {
            task,
            model: "openai/gpt-4o".to_owned(),
            messages: vec![
                ChatMessage {
                    role: Role::System,
                    content: "Be brief.".to_owned(),
                },
                ChatMessage {
                    role: Role::User,
                    content: "Hi".to_owned(),
                },
            ],
            prompt: "Once upon".to_owned(),
            parameters,
        }
    }

    #[test]
    fn only_set_parameters_are_sent() {
        let body = text_body(
            TextEndpoint::Chat,
            &request(Task::Chat, Parameters::default()),
            false,
        );
        assert_eq!(
            body,
            json!({
                "model": "openai/gpt-4o",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"}
                ]
            })
        );
        let parameters = Parameters {
            sampling: SamplingValues::from([
                ("temperature", 0.5),
                ("top_p", 0.9),
                ("top_k", 40.0),
                ("frequency_penalty", 0.1),
                ("presence_penalty", -0.2),
                ("repetition_penalty", 1.1),
            ]),
            max_tokens: Some(64),
            seed: Some(-7),
            stop: vec!["END".to_owned()],
            width: Some(512),
            height: Some(512),
            target_language: Some("fr".to_owned()),
        };
        let body = text_body(
            TextEndpoint::Completion,
            &request(Task::TextCompletion, parameters),
            true,
        );
        assert_eq!(
            body,
            json!({
                "model": "openai/gpt-4o",
                "prompt": "Once upon",
                "temperature": 0.5,
                "max_tokens": 64,
                "top_p": 0.9,
                "top_k": 40,
                "frequency_penalty": 0.1,
                "presence_penalty": -0.2,
                "repetition_penalty": 1.1,
                "seed": -7,
                "stop": ["END"],
                "stream": true,
                "stream_options": {"include_usage": true}
            })
        );
    }

    #[test]
    fn urls_join_with_one_slash() {
        assert_eq!(
            url("http://h/api/v1/", "chat/completions"),
            "http://h/api/v1/chat/completions"
        );
        assert_eq!(url(" http://h/v1 ", "embeddings"), "http://h/v1/embeddings");
    }

    const CHAT: &str = r#"{"id":"gen-123","model":"openai/gpt-4o-2024-08-06","object":"chat.completion",
        "choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}],
        "usage":{"prompt_tokens":25,"completion_tokens":10,"total_tokens":35,"cost":0.000123}}"#;

    #[test]
    fn a_whole_chat_answer() {
        let up = upstream(ProviderKind::OpenRouter);
        let completion = parse_text_completion(
            &up,
            "m",
            TextEndpoint::Chat,
            &HeaderMap::new(),
            CHAT.as_bytes(),
        )
        .unwrap();
        assert_eq!(completion.content, "Paris.");
        assert_eq!(completion.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            completion.provider_generation_id.as_deref(),
            Some("gen-123")
        );
        assert_eq!(
            completion.model_version.as_deref(),
            Some("openai/gpt-4o-2024-08-06")
        );
        assert_eq!(
            completion.usage,
            Some(Usage {
                prompt_tokens: 25,
                completion_tokens: 10,
                total_tokens: 35,
                cost: Some(Nanos(123_000)),
            })
        );
    }

    #[test]
    fn a_key_given_twice_is_read_as_its_last_value() {
        // The fast reading refuses a repeated key; the general one keeps the last value.
        let body = r#"{"id": "gen-1", "model": "old", "model": "new",
            "choices": [{"index": 0, "message": {"content": "Hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 1}}"#;
        let up = upstream(ProviderKind::OpenRouter);
        let completion = parse_text_completion(
            &up,
            "m",
            TextEndpoint::Chat,
            &HeaderMap::new(),
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(completion.content, "Hi");
        assert_eq!(completion.model_version.as_deref(), Some("new"));
        assert_eq!(completion.provider_generation_id.as_deref(), Some("gen-1"));
        assert_eq!(completion.usage.map(|u| u.total_tokens), Some(3));
    }

    #[test]
    fn the_generation_header_stands_in_for_a_missing_id() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-generation-id",
            HeaderValue::from_static("gen-from-header"),
        );
        let body = br#"{"choices":[{"message":{"content":"x"},"finish_reason":"length"}]}"#;
        let up = upstream(ProviderKind::OpenRouter);
        let completion =
            parse_text_completion(&up, "m", TextEndpoint::Chat, &headers, body).unwrap();
        assert_eq!(
            completion.provider_generation_id.as_deref(),
            Some("gen-from-header")
        );
        assert_eq!(completion.usage, None);
        assert_eq!(completion.model_version, None);
    }

    #[test]
    fn a_whole_text_completion() {
        let body = br#"{"id":"cmpl-1","choices":[{"text":" there was","index":0,"finish_reason":"length"}],"usage":{"prompt_tokens":2,"completion_tokens":3}}"#;
        let up = upstream(ProviderKind::OpenAiCompatible);
        let completion =
            parse_text_completion(&up, "m", TextEndpoint::Completion, &HeaderMap::new(), body)
                .unwrap();
        assert_eq!(completion.content, " there was");
        assert_eq!(completion.usage.map(|u| u.total_tokens), Some(5));
    }

    #[test]
    fn errors_inside_success_answers() {
        let up = upstream(ProviderKind::OpenRouter);
        let body = br#"{"error":{"code":429,"message":"Rate limit exceeded upstream"}}"#;
        let error = parse_text_completion(&up, "m", TextEndpoint::Chat, &HeaderMap::new(), body)
            .unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::RateLimited);
        assert!(
            error.message.contains("Rate limit exceeded upstream"),
            "{}",
            error.message
        );

        let body = br#"{"error":{"message":"boom"}}"#;
        let error = parse_text_completion(&up, "m", TextEndpoint::Chat, &HeaderMap::new(), body)
            .unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::ServerError);
        assert!(error.message.contains("boom"));

        let body = br#"{"choices":[{"message":{"content":""},"finish_reason":"error"}]}"#;
        let error = parse_text_completion(&up, "m", TextEndpoint::Chat, &HeaderMap::new(), body)
            .unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::ServerError);
    }

    #[test]
    fn unreadable_answers_are_malformed() {
        let up = upstream(ProviderKind::OpenRouter);
        for body in [
            &b"<html>oops</html>"[..],
            b"[1,2]",
            br#"{"choices":[]}"#,
            br#"{"id":"x"}"#,
        ] {
            let error =
                parse_text_completion(&up, "m", TextEndpoint::Chat, &HeaderMap::new(), body)
                    .unwrap_err();
            assert_eq!(error.kind, ProviderErrorKind::Malformed, "{body:?}");
        }
    }

    fn chunk(content: &str, finish: Option<&str>, usage: Option<&str>) -> String {
        format!(
            r#"data: {{"id":"gen-9","model":"vendor/m","choices":[{{"index":0,"delta":{{"role":"assistant","content":{}}},"finish_reason":{}}}]{}}}"#,
            json!(content),
            finish.map(|f| json!(f)).unwrap_or(Value::Null),
            usage
                .map(|u| format!(r#","usage":{u}"#))
                .unwrap_or_default(),
        ) + "\n\n"
    }

    const USAGE: &str =
        r#"{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"cost":0.00002}"#;

    fn chat_decoder() -> ChunkDecoder {
        ChunkDecoder::new(upstream(ProviderKind::OpenRouter), TextEndpoint::Chat, None)
    }

    fn expected_usage() -> StreamEvent {
        StreamEvent::Usage(Usage {
            prompt_tokens: 3,
            completion_tokens: 2,
            total_tokens: 5,
            cost: Some(Nanos(20_000)),
        })
    }

    fn finished(reason: &str) -> StreamEvent {
        StreamEvent::Finished {
            finish_reason: Some(reason.to_owned()),
        }
    }

    #[test]
    fn usage_in_the_finishing_chunk() {
        let body = format!(
            ": OPENROUTER PROCESSING\n\n{}{}data: [DONE]\n\n",
            chunk("Hel", None, None),
            chunk("lo", Some("stop"), Some(USAGE))
        );
        for size in [1, 5, body.len()] {
            let events = decode(chat_decoder(), body.as_bytes(), size);
            assert_eq!(
                events,
                vec![
                    Ok(StreamEvent::Meta {
                        provider_generation_id: Some("gen-9".to_owned()),
                        model_version: Some("vendor/m".to_owned()),
                    }),
                    Ok(StreamEvent::Delta("Hel".to_owned())),
                    Ok(StreamEvent::Delta("lo".to_owned())),
                    Ok(expected_usage()),
                    Ok(finished("stop")),
                ]
            );
        }
    }

    #[test]
    fn usage_in_a_separate_chunk_with_no_choices() {
        let body = format!(
            "{}{}data: {{\"id\":\"gen-9\",\"choices\":[],\"usage\":{USAGE}}}\n\ndata: [DONE]\n\n",
            chunk("Hi", None, Some("null")),
            chunk("", Some("length"), Some("null")),
        );
        let events = decode(chat_decoder(), body.as_bytes(), 3);
        assert_eq!(text(&events), "Hi");
        let n = events.len();
        assert_eq!(events[n - 2], Ok(expected_usage()));
        assert_eq!(events[n - 1], Ok(finished("length")));
    }

    #[test]
    fn usage_never_sent_and_done_missing() {
        let body = chunk("Hi", None, None) + &chunk("!", Some("stop"), None);
        let events = decode(chat_decoder(), body.as_bytes(), 4);
        assert_eq!(text(&events), "Hi!");
        assert_eq!(events.last(), Some(&Ok(finished("stop"))));
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Ok(StreamEvent::Usage(_))))
        );
    }

    #[test]
    fn done_without_a_finish_reason_is_a_clean_end() {
        let body = chunk("Hi", None, None) + "data: [DONE]\n\n";
        let events = decode(chat_decoder(), body.as_bytes(), 100);
        assert_eq!(
            events.last(),
            Some(&Ok(StreamEvent::Finished {
                finish_reason: None
            }))
        );
    }

    #[test]
    fn an_end_without_finish_is_a_cut() {
        let body = chunk("Hel", None, None) + &chunk("lo", None, None);
        let events = decode(chat_decoder(), body.as_bytes(), 7);
        assert_eq!(text(&events), "Hello");
        let last = events.last().unwrap().as_ref().unwrap_err();
        assert_eq!(last.kind, ProviderErrorKind::StreamCut);
        assert!(
            last.message.contains("OpenRouter closed the stream"),
            "{}",
            last.message
        );
    }

    #[test]
    fn an_error_object_mid_stream() {
        let body = chunk("Hel", None, None)
            + r#"data: {"id":"gen-9","object":"chat.completion.chunk","error":{"code":502,"message":"Upstream provider died"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}"#
            + "\n\n"
            + &chunk("never", None, None);
        let events = decode(chat_decoder(), body.as_bytes(), 9);
        assert_eq!(text(&events), "Hel");
        let error = events.last().unwrap().as_ref().unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::StreamError);
        assert!(
            error.message.contains("Upstream provider died"),
            "{}",
            error.message
        );
    }

    #[test]
    fn finish_reason_error_alone() {
        let body = chunk("Hel", None, None) + &chunk("", Some("error"), None);
        let events = decode(chat_decoder(), body.as_bytes(), 9);
        let error = events.last().unwrap().as_ref().unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::StreamError);
        assert!(
            error.message.contains("gave no reason"),
            "{}",
            error.message
        );
    }

    #[test]
    fn an_error_event_type() {
        let body = "event: error\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n";
        let events = decode(chat_decoder(), body.as_bytes(), 9);
        let error = events.last().unwrap().as_ref().unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::StreamError);
        assert!(error.message.contains("overloaded"), "{}", error.message);
    }

    #[test]
    fn malformed_events_end_the_stream() {
        let body =
            chunk("Hi", None, None) + "data: {\"choices\": [\n\n" + &chunk("x", Some("stop"), None);
        let events = decode(chat_decoder(), body.as_bytes(), 9);
        assert_eq!(text(&events), "Hi");
        let error = events.last().unwrap().as_ref().unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::Malformed);
        assert!(error.message.contains("not JSON"), "{}", error.message);
        let events = decode(chat_decoder(), b"data: 42\n\n", 9);
        assert_eq!(
            events.last().unwrap().as_ref().unwrap_err().kind,
            ProviderErrorKind::Malformed
        );
    }

    #[test]
    fn text_completion_chunks() {
        let body = "data: {\"id\":\"c\",\"choices\":[{\"text\":\"a\",\"index\":0,\"finish_reason\":null}]}\n\n\
                    data: {\"id\":\"c\",\"choices\":[{\"text\":\"b\",\"index\":0,\"finish_reason\":\"stop\"}]}\n\n\
                    data: [DONE]\n\n";
        let decoder = ChunkDecoder::new(
            upstream(ProviderKind::OpenAiCompatible),
            TextEndpoint::Completion,
            Some("hdr".to_owned()),
        );
        let events = decode(decoder, body.as_bytes(), 2);
        assert_eq!(text(&events), "ab");
        assert_eq!(
            events[0],
            Ok(StreamEvent::Meta {
                provider_generation_id: Some("c".to_owned()),
                model_version: None
            })
        );
        assert_eq!(events.last(), Some(&Ok(finished("stop"))));
    }

    #[test]
    fn whole_answers_as_events() {
        let completion = Completion {
            content: "x".to_owned(),
            finish_reason: Some("stop".to_owned()),
            ..Completion::default()
        };
        assert_eq!(
            whole_as_events(completion),
            vec![Ok(StreamEvent::Delta("x".to_owned())), Ok(finished("stop"))]
        );
    }

    #[test]
    fn embeddings_in_order() {
        let up = upstream(ProviderKind::OpenAiCompatible);
        let floats_b64 = base64::engine::general_purpose::STANDARD.encode(
            [1.5f32, -2.0]
                .iter()
                .flat_map(|f| f.to_le_bytes())
                .collect::<Vec<u8>>(),
        );
        let body = format!(
            r#"{{"object":"list","model":"text-embedding-3-small","data":[
                {{"object":"embedding","index":1,"embedding":"{floats_b64}"}},
                {{"object":"embedding","index":0,"embedding":[0.25,-0.5]}}],
                "usage":{{"prompt_tokens":8,"total_tokens":8}}}}"#
        );
        let completion = parse_embeddings(&up, "m", body.as_bytes()).unwrap();
        assert_eq!(
            completion.embeddings,
            vec![vec![0.25, -0.5], vec![1.5, -2.0]]
        );
        assert_eq!(completion.usage.map(|u| u.prompt_tokens), Some(8));
        assert_eq!(
            completion.model_version.as_deref(),
            Some("text-embedding-3-small")
        );
        let error = parse_embeddings(&up, "m", br#"{"data":[{"embedding":{"x":1}}]}"#).unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::Malformed);
    }

    #[test]
    fn images_from_base64() {
        let up = upstream(ProviderKind::OpenRouter);
        let png = b"\x89PNG\r\n\x1a\nrest-of-png".to_vec();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&png);
        let body = format!(
            r#"{{"created":1,"data":[{{"b64_json":"{encoded}"}},{{"b64_json":"data:image/webp;base64,{encoded}"}},{{"b64_json":"{encoded}","media_type":"image/x-custom"}}],"usage":{{"completion_tokens":4175,"cost":0.04,"prompt_tokens":0,"total_tokens":4175}}}}"#
        );
        let completion = parse_images(&up, "m", body.as_bytes()).unwrap();
        let types: Vec<&str> = completion
            .images
            .iter()
            .map(|i| i.mime_type.as_str())
            .collect();
        assert_eq!(types, vec!["image/png", "image/webp", "image/x-custom"]);
        assert!(completion.images.iter().all(|i| i.bytes == png));
        assert_eq!(
            completion.usage.and_then(|u| u.cost),
            Some(Nanos(40_000_000))
        );

        let with_format = r#"{"data":[{"b64_json":"QUJD"}],"output_format":"jpeg"}"#;
        let completion = parse_images(&up, "m", with_format.as_bytes()).unwrap();
        assert_eq!(completion.images[0].mime_type, "image/jpeg");
        assert_eq!(completion.images[0].bytes, b"ABC");

        let error = parse_images(
            &up,
            "m",
            br#"{"data":[{"url":"https://example.com/a.png"}]}"#,
        )
        .unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::Malformed);
        assert!(error.message.contains("URL"), "{}", error.message);
        let error = parse_images(&up, "m", br#"{"data":[{"b64_json":"!!!"}]}"#).unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::Malformed);
        let error = parse_images(&up, "m", br#"{"data":[]}"#).unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::Malformed);
    }
}
