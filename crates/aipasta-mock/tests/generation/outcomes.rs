//! How answers end and how long they take: cuts, stalls that end when the server is dropped,
//! malformed events, failed plain answers, delays and keep-alives.

use std::time::{Duration, Instant};

use aipasta_mock::{
    MockConfig, MockServer, OPENAI_CHAT_PATH, OPENROUTER_CHAT_PATH, Outcome, Script,
    hf_inference_path,
};
use serde_json::{Value, json};
use tokio::time::timeout;

use crate::support::{Event, chat, chat_content, chunks, data, parse_sse, post, read_body};

fn openrouter(server: &MockServer) -> String {
    format!("{}/chat/completions", server.openrouter_base_url())
}

#[tokio::test]
async fn a_cut_stream_fails_after_n_chunks_without_finish_or_done() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("a b c d e").outcome(Outcome::CutAfter(3)),
    );
    let response = post(&openrouter(&server), &chat("m", "x", true)).await;
    assert_eq!(response.status(), 200);
    let received = read_body(response)
        .await
        .expect_err("the body must fail, not end cleanly");
    let events = parse_sse(&received);
    assert!(!data(&events).contains(&"[DONE]"));
    let chunks = chunks(&events);
    assert_eq!(chunks.len(), 3);
    assert_eq!(chat_content(&chunks), "a b c");
    assert!(
        chunks
            .iter()
            .all(|chunk| chunk["choices"][0]["finish_reason"].is_null())
    );
}

#[tokio::test]
async fn a_cut_plain_answer_stops_mid_json() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(OPENAI_CHAT_PATH, Script::outcome_only(Outcome::CutAfter(0)));
    let url = format!("{}/chat/completions", server.openai_base_url());
    let response = post(&url, &chat("m", "x", false)).await;
    assert_eq!(response.status(), 200);
    let received = read_body(response).await.expect_err("the body must fail");
    assert!(
        received.starts_with(b"{\"id\":\"chatcmpl-"),
        "{}",
        String::from_utf8_lossy(&received)
    );
    assert!(serde_json::from_slice::<Value>(&received).is_err());
}

#[tokio::test]
async fn malformed_events_and_answers() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("a b c").outcome(Outcome::MalformedAfter(1)),
    );
    let response = post(&openrouter(&server), &chat("m", "x", true)).await;
    let events = parse_sse(&read_body(response).await.unwrap());
    let data = data(&events);
    assert!(serde_json::from_str::<Value>(data[0]).is_ok());
    assert!(
        data[1].starts_with('{'),
        "a data line that starts like JSON"
    );
    assert!(
        serde_json::from_str::<Value>(data[1]).is_err(),
        "but is not JSON: {}",
        data[1]
    );
    // The rest of the stream goes on.
    let rest: Vec<Value> = data[2..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(chat_content(&rest), " b c");
    assert_eq!(*data.last().unwrap(), "[DONE]");

    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::outcome_only(Outcome::MalformedAfter(0)),
    );
    let response = post(&openrouter(&server), &chat("m", "x", false)).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("a clean end");
    assert!(serde_json::from_str::<Value>(&text).is_err());
}

#[tokio::test]
async fn a_failed_plain_answer_is_a_200_with_the_error() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::outcome_only(Outcome::ErrorAfter(0)),
    );
    let response = post(&openrouter(&server), &chat("m", "x", false)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 502);
    assert!(body.get("choices").is_none());
}

#[tokio::test]
async fn a_stalled_stream_ends_when_the_server_is_dropped() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("a b c d").outcome(Outcome::StallAfter(2)),
    );
    let mut response = post(&openrouter(&server), &chat("m", "x", true)).await;
    let mut received = Vec::new();
    while chunks(&parse_sse(&received)).len() < 2 {
        let bytes = timeout(Duration::from_secs(5), response.chunk())
            .await
            .expect("the first chunks come at once")
            .unwrap()
            .expect("the stream does not end before the stall");
        received.extend_from_slice(&bytes);
    }
    assert!(
        timeout(Duration::from_millis(300), response.chunk())
            .await
            .is_err(),
        "nothing more during the stall"
    );
    let dropped = Instant::now();
    drop(server);
    let end = timeout(Duration::from_secs(3), async {
        loop {
            match response.chunk().await {
                Ok(Some(bytes)) => received.extend_from_slice(&bytes),
                Ok(None) => return Ok(()),
                Err(error) => return Err(error),
            }
        }
    })
    .await
    .expect("the stall must end when the server is dropped");
    assert!(end.is_err(), "an abrupt end, not a clean one");
    assert!(dropped.elapsed() < Duration::from_secs(3));
    assert_eq!(chat_content(&chunks(&parse_sse(&received))), "a b");
}

#[tokio::test]
async fn a_plain_request_stalled_at_zero_gets_nothing_until_the_drop() {
    let server = MockServer::start(MockConfig::default()).await;
    let path = hf_inference_path("acme-labs/Orca-Chat-7B");
    server.push_script(&path, Script::outcome_only(Outcome::StallAfter(0)));
    let url = format!(
        "{}/models/acme-labs/Orca-Chat-7B",
        server.hf_inference_url()
    );
    let request = tokio::spawn(async move {
        let response = reqwest::Client::new()
            .post(url)
            .json(&json!({"inputs": "x"}))
            .send()
            .await;
        match response {
            Ok(response) => response.bytes().await.map(|_| ()),
            Err(error) => Err(error),
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!request.is_finished(), "no answer during the stall");
    assert_eq!(server.request_count(&path), 1, "recorded while it waits");
    drop(server);
    let outcome = timeout(Duration::from_secs(3), request)
        .await
        .expect("the stall must end when the server is dropped")
        .unwrap();
    assert!(outcome.is_err(), "no answer, the connection just goes");
}

#[tokio::test]
async fn a_slow_stream_keeps_its_rhythm_and_sends_keep_alives_while_waiting() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("a b c d")
            .first_token_delay(Duration::from_millis(300))
            .chunk_delay(Duration::from_millis(60))
            .keep_alives(2),
    );
    let started = Instant::now();
    let mut response = post(&openrouter(&server), &chat("m", "x", true)).await;
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "headers go out at once"
    );
    // (when the event arrived, the event)
    let mut arrivals: Vec<(Duration, Event)> = Vec::new();
    let mut pending = Vec::new();
    while let Some(bytes) = response.chunk().await.unwrap() {
        pending.extend_from_slice(&bytes);
        if let Some(end) = pending.windows(2).rposition(|w| w == b"\n\n") {
            let complete: Vec<u8> = pending.drain(..end + 2).collect();
            for event in parse_sse(&complete) {
                arrivals.push((started.elapsed(), event));
            }
        }
    }
    let first_data = arrivals
        .iter()
        .position(|(_, e)| matches!(e, Event::Data(_)))
        .unwrap();
    assert_eq!(first_data, 2, "two keep-alives first");
    assert!(
        arrivals[0].0 < Duration::from_millis(250),
        "the first keep-alive comes early"
    );
    assert!(arrivals[first_data].0 >= Duration::from_millis(300));
    let last_delta = arrivals[first_data + 3].0;
    assert!(
        last_delta - arrivals[first_data].0 >= Duration::from_millis(180),
        "three chunk delays of 60 ms"
    );
}

#[tokio::test]
async fn a_plain_answer_waits_for_the_whole_generation() {
    let server = MockServer::start(MockConfig::default()).await;
    server.push_script(
        OPENAI_CHAT_PATH,
        Script::text("a b c")
            .first_token_delay(Duration::from_millis(100))
            .chunk_delay(Duration::from_millis(50)),
    );
    let url = format!("{}/chat/completions", server.openai_base_url());
    let started = Instant::now();
    let body: Value = post(&url, &chat("m", "x", false))
        .await
        .json()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(body["choices"][0]["message"]["content"], "a b c");
}

#[tokio::test]
async fn many_concurrent_streams() {
    let server = MockServer::start(MockConfig::default()).await;
    let url = openrouter(&server);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let events = parse_sse(
                    &read_body(post(&url, &chat("m", "x", true)).await)
                        .await
                        .unwrap(),
                );
                chunks(&events).len()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(
            task.await.unwrap(),
            aipasta_mock::DEFAULT_TEXT.split_whitespace().count() + 1
        );
    }
    assert_eq!(server.request_count(OPENROUTER_CHAT_PATH), 50);
}
