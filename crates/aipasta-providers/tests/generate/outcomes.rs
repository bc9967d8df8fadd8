//! Every scripted way a call ends, through the OpenRouter and OpenAI-compatible adapters:
//! refusals by status, cuts, error events, stalls against each time limit, malformed answers,
//! a missing `[DONE]`, and no server at all.

use std::time::{Duration, Instant};

use aipasta_mock::{OPENAI_CHAT_PATH, OPENROUTER_CHAT_PATH, Outcome, Script};
use aipasta_providers::generate::{
    ProviderErrorKind, StreamEvent, Timeouts, Upstream, complete, stream,
};

use crate::support::*;

#[tokio::test]
async fn every_status_becomes_its_kind_whole_or_streamed() {
    use ProviderErrorKind::*;
    let server = mock().await;
    let upstream = openrouter(&server);
    let request = chat("openai/gpt-4o");
    for (status, kind) in [
        (400, BadRequest),
        (401, Unauthorized),
        (402, PaymentRequired),
        (403, Forbidden),
        (404, ModelNotFound),
        (408, Timeout),
        (422, BadRequest),
        (429, RateLimited),
        (500, ServerError),
        (502, Unavailable),
        (503, Unavailable),
        (504, Unavailable),
    ] {
        server.push_script(OPENROUTER_CHAT_PATH, Script::status(status));
        let whole = complete(&client(), &upstream, &request, quick())
            .await
            .unwrap_err();
        server.push_script(OPENROUTER_CHAT_PATH, Script::status(status));
        let streamed = stream(&client(), &upstream, &request, quick())
            .await
            .unwrap_err();
        for error in [&whole, &streamed] {
            assert_eq!(error.kind, kind, "{status}: {}", error.message);
            assert_eq!(error.status, Some(status));
            assert!(error.message.starts_with("OpenRouter"), "{}", error.message);
            assert!(
                error.message.contains(&format!("({status})")),
                "{}",
                error.message
            );
            assert_no_key(error);
        }
    }
}

#[tokio::test]
async fn the_credits_message_tells_what_to_do() {
    let server = mock().await;
    server.push_script(OPENROUTER_CHAT_PATH, Script::status(402));
    let error = complete(&client(), &openrouter(&server), &chat("m"), quick())
        .await
        .unwrap_err();
    assert!(
        error
            .message
            .starts_with("OpenRouter refused the request: "),
        "{}",
        error.message
    );
    assert!(
        error
            .message
            .ends_with("(402). Add credits at openrouter.ai or use another key."),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn rate_limits_carry_retry_after_and_the_next_try_succeeds() {
    let server = mock().await;
    server.push_script(
        OPENAI_CHAT_PATH,
        Script::outcome_only(Outcome::Status {
            status: 429,
            retry_after: Some(7),
            estimated_time: None,
        }),
    );
    let upstream = openai(&server);
    let error = stream(&client(), &upstream, &chat("m"), quick())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ProviderErrorKind::RateLimited);
    assert!(error.kind.is_retryable());
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
    assert!(
        error.message.contains("Try again in 7 s"),
        "{}",
        error.message
    );
    let events = collect(
        stream(&client(), &upstream, &chat("m"), quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(finish_reason(&events).as_deref(), Some("stop"));
}

#[tokio::test]
async fn a_cut_stream_keeps_what_came_before() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().outcome(Outcome::CutAfter(3)),
    );
    let events = collect(
        stream(&client(), &openrouter(&server), &chat("m"), quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text(&events), "The mock model");
    let error = final_error(&events);
    assert_eq!(error.kind, ProviderErrorKind::StreamCut);
    assert_no_key(error);
}

#[tokio::test]
async fn a_cut_whole_answer_is_a_cut_answer_never_retried() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().outcome(Outcome::CutAfter(3)),
    );
    let error = complete(&client(), &openrouter(&server), &chat("m"), quick())
        .await
        .unwrap_err();
    // The connection broke after the `200`: the provider may have charged for the answer, so
    // asking again could charge twice.
    assert_eq!(error.kind, ProviderErrorKind::StreamCut, "{error:?}");
    assert!(!error.kind.is_retryable());
    assert!(
        error
            .message
            .starts_with("The connection to OpenRouter broke before the answer was complete"),
        "{}",
        error.message
    );
    assert_no_key(&error);
}

#[tokio::test]
async fn an_error_event_mid_stream() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().outcome(Outcome::ErrorAfter(2)),
    );
    let events = collect(
        stream(&client(), &openrouter(&server), &chat("m"), quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(deltas(&events), 2);
    let error = final_error(&events);
    assert_eq!(error.kind, ProviderErrorKind::StreamError);
    assert!(
        error.message.contains("Provider returned error"),
        "{}",
        error.message
    );

    server.push_script(
        OPENAI_CHAT_PATH,
        Script::default().outcome(Outcome::ErrorAfter(1)),
    );
    let events = collect(
        stream(&client(), &openai(&server), &chat("m"), quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(deltas(&events), 1);
    let error = final_error(&events);
    assert_eq!(error.kind, ProviderErrorKind::StreamError);
    assert!(
        error.message.contains("The server had an error"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn an_error_body_with_a_success_status() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().outcome(Outcome::ErrorAfter(0)),
    );
    let error = complete(&client(), &openrouter(&server), &chat("m"), quick())
        .await
        .unwrap_err();
    // OpenRouter's body names the status: 502.
    assert_eq!(error.kind, ProviderErrorKind::Unavailable);
    assert!(
        error.message.contains("Provider returned error"),
        "{}",
        error.message
    );

    server.push_script(
        OPENAI_CHAT_PATH,
        Script::default().outcome(Outcome::ErrorAfter(0)),
    );
    let error = complete(&client(), &openai(&server), &chat("m"), quick())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ProviderErrorKind::ServerError);
}

#[tokio::test]
async fn a_stall_after_the_first_tokens_hits_the_between_token_limit() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().outcome(Outcome::StallAfter(2)),
    );
    let limits = quick();
    let mut events = stream(&client(), &openrouter(&server), &chat("m"), limits)
        .await
        .unwrap();
    let mut received = Vec::new();
    let mut last_delta = Instant::now();
    let error = loop {
        match events.next().await.unwrap() {
            Ok(StreamEvent::Delta(text)) => {
                received.push(text);
                last_delta = Instant::now();
            }
            Ok(_) => {}
            Err(error) => break error,
        }
    };
    let waited = last_delta.elapsed();
    assert_eq!(received.concat(), "The mock");
    assert_eq!(error.kind, ProviderErrorKind::Timeout);
    assert!(
        error.message.contains("between-token limit"),
        "{}",
        error.message
    );
    assert!(waited >= limits.between_tokens, "{waited:?}");
    assert!(waited < limits.between_tokens * 5, "{waited:?}");
    assert!(events.next().await.is_none(), "an error ends the stream");
}

#[tokio::test]
async fn keep_alives_are_life_but_not_a_first_token() {
    let server = mock().await;
    // Comments every ~100 ms for 1.5 s: enough life for a 300 ms between-token limit, but
    // no token within a 500 ms first-token limit.
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default()
            .keep_alives(15)
            .first_token_delay(Duration::from_millis(1500)),
    );
    let limits = Timeouts {
        first_token: Duration::from_millis(500),
        between_tokens: Duration::from_millis(300),
        total: Duration::from_secs(20),
    };
    let started = Instant::now();
    let events = collect(
        stream(&client(), &openrouter(&server), &chat("m"), limits)
            .await
            .unwrap(),
    )
    .await;
    let error = final_error(&events);
    assert_eq!(error.kind, ProviderErrorKind::Timeout);
    assert!(
        error.message.contains("first-token limit"),
        "{}",
        error.message
    );
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(deltas(&events), 0);
}

#[tokio::test]
async fn a_slow_first_token_with_keep_alives_within_the_limit_is_fine() {
    let server = mock().await;
    // 800 ms of comments before the first token: longer than the between-token limit, which
    // only applies after the first token.
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default()
            .keep_alives(4)
            .first_token_delay(Duration::from_millis(800)),
    );
    let limits = Timeouts {
        first_token: Duration::from_secs(5),
        between_tokens: Duration::from_millis(300),
        total: Duration::from_secs(20),
    };
    let events = collect(
        stream(&client(), &openrouter(&server), &chat("m"), limits)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(finish_reason(&events).as_deref(), Some("stop"));
}

#[tokio::test]
async fn silence_before_any_token_hits_the_first_token_limit() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().outcome(Outcome::StallAfter(0)),
    );
    let limits = Timeouts {
        first_token: Duration::from_millis(400),
        between_tokens: Duration::from_millis(100),
        total: Duration::from_secs(20),
    };
    let events = collect(
        stream(&client(), &openrouter(&server), &chat("m"), limits)
            .await
            .unwrap(),
    )
    .await;
    let error = final_error(&events);
    assert_eq!(error.kind, ProviderErrorKind::Timeout);
    assert!(
        error.message.contains("first-token limit"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn no_headers_at_all_is_a_first_token_timeout_before_the_stream() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().outcome(Outcome::StallAfter(0)),
    );
    let limits = Timeouts {
        first_token: Duration::from_millis(300),
        between_tokens: Duration::from_millis(300),
        total: Duration::from_secs(20),
    };
    let started = Instant::now();
    let error = complete(&client(), &openrouter(&server), &chat("m"), limits)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ProviderErrorKind::Timeout);
    assert!(
        error.message.contains("first-token limit"),
        "{}",
        error.message
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_whole_answer_that_stops_halfway_hits_the_total_limit() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().outcome(Outcome::StallAfter(3)),
    );
    let limits = Timeouts {
        first_token: Duration::from_millis(300),
        between_tokens: Duration::from_millis(300),
        total: Duration::from_millis(800),
    };
    let error = complete(&client(), &openrouter(&server), &chat("m"), limits)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ProviderErrorKind::Timeout);
    assert!(error.message.contains("total limit"), "{}", error.message);
}

#[tokio::test]
async fn a_slow_stream_hits_the_total_limit() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().chunk_delay(Duration::from_millis(150)),
    );
    let limits = Timeouts {
        first_token: Duration::from_secs(5),
        between_tokens: Duration::from_millis(500),
        total: Duration::from_millis(600),
    };
    let started = Instant::now();
    let events = collect(
        stream(&client(), &openrouter(&server), &chat("m"), limits)
            .await
            .unwrap(),
    )
    .await;
    let error = final_error(&events);
    assert_eq!(error.kind, ProviderErrorKind::Timeout);
    assert!(error.message.contains("total limit"), "{}", error.message);
    assert!(deltas(&events) >= 2 && deltas(&events) < 9, "{events:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_malformed_event_ends_the_stream() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().outcome(Outcome::MalformedAfter(2)),
    );
    let events = collect(
        stream(&client(), &openrouter(&server), &chat("m"), quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(deltas(&events), 2);
    let error = final_error(&events);
    assert_eq!(error.kind, ProviderErrorKind::Malformed);
    assert!(error.message.contains("not JSON"), "{}", error.message);
}

#[tokio::test]
async fn a_malformed_whole_answer() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().outcome(Outcome::MalformedAfter(2)),
    );
    let error = complete(&client(), &openrouter(&server), &chat("m"), quick())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ProviderErrorKind::Malformed);
    assert!(
        error.message.starts_with("OpenRouter sent an answer"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_missing_done_after_the_finish_is_a_clean_end() {
    let server = mock().await;
    server.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().outcome(Outcome::NoDone),
    );
    let events = collect(
        stream(&client(), &openrouter(&server), &chat("m"), quick())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(finish_reason(&events).as_deref(), Some("stop"));
    assert_eq!(usage_events(&events).len(), 1);
}

#[tokio::test]
async fn no_server_is_a_network_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let upstream = Upstream {
        base_url: format!("http://{address}/api/v1"),
        ..openrouter(&mock().await)
    };
    let whole = complete(&client(), &upstream, &chat("m"), quick())
        .await
        .unwrap_err();
    let streamed = stream(&client(), &upstream, &chat("m"), quick())
        .await
        .unwrap_err();
    for error in [whole, streamed] {
        assert_eq!(error.kind, ProviderErrorKind::Network, "{error:?}");
        assert!(error.kind.is_retryable());
        assert!(
            error.message.starts_with("Could not reach OpenRouter: "),
            "{}",
            error.message
        );
        // Where the upstream runs is for the log, not for the people who asked.
        for address in ["127.0.0.1", &address.port().to_string()] {
            assert!(!error.message.contains(address), "{}", error.message);
        }
        assert_no_key(&error);
    }
}
