//! Helpers: posting JSON, reading a body to its end (or its failure), parsing SSE.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

/// One SSE event: a comment line or a `data:` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Comment(String),
    Data(String),
}

pub async fn post(url: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A chat request with one user message of `prompt`.
pub fn chat(model: &str, prompt: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": stream,
    })
}

/// Reads the body to its end. `Err` carries what arrived before the body failed.
pub async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, Vec<u8>> {
    let mut received = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), response.chunk()).await {
            Ok(Ok(Some(bytes))) => received.extend_from_slice(&bytes),
            Ok(Ok(None)) => return Ok(received),
            Ok(Err(_)) => return Err(received),
            Err(_) => panic!("the body neither ended nor failed in 10 s"),
        }
    }
}

/// The events of an SSE body, in order.
pub fn parse_sse(body: &[u8]) -> Vec<Event> {
    let text = std::str::from_utf8(body).unwrap();
    text.split("\n\n")
        .filter(|block| !block.is_empty())
        .map(|block| {
            if let Some(comment) = block.strip_prefix(':') {
                Event::Comment(comment.trim().to_owned())
            } else if let Some(data) = block.strip_prefix("data: ") {
                Event::Data(data.to_owned())
            } else {
                panic!("not an SSE event: {block:?}")
            }
        })
        .collect()
}

/// The `data:` payloads, in order.
pub fn data(events: &[Event]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Data(data) => Some(data.as_str()),
            Event::Comment(_) => None,
        })
        .collect()
}

/// The JSON `data:` payloads (everything but `[DONE]`), parsed.
pub fn chunks(events: &[Event]) -> Vec<Value> {
    data(events)
        .into_iter()
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str(data).unwrap())
        .collect()
}

/// The chat deltas' text, concatenated.
pub fn chat_content(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .collect()
}

/// A provider fixture from the shared planning repository, when it is there.
pub fn shared_fixture(relative: &str) -> Option<String> {
    let path = PathBuf::from("/work/shared/fixtures").join(relative);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!(
                "skipped: {} is not available, so the shape is not compared with the provider's own",
                path.display()
            );
            None
        }
    }
}

/// Checks a PNG with an independent decoder; returns its size.
pub fn decode_png(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert!(pixels[..frame.buffer_size()].iter().any(|&byte| byte != 0));
    (frame.width, frame.height)
}
