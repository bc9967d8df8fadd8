//! One generation's life: candidates (the model, then its fallbacks), retries only before the
//! first token, streamed and whole answers, timeouts and cancel, and the row each ends with.

use std::time::Duration;

use aipasta_engine::cost::estimate_tokens;
use aipasta_engine::{GenerationError, Live, LiveEvent};
use aipasta_mock::{DEFAULT_TEXT, OPENAI_CHAT_PATH, Outcome, Script, UsagePlacement};
use aipasta_providers::generate::ProviderErrorKind;
use aipasta_store::generations::GenerationRow;
use aipasta_store::testing::backends;
use serde_json::Value;

use crate::support::{
    CHAT, COMPLETION_NANOS_PER_TOKEN, ENDPOINT, ENDPOINT_KEY, FALLBACK, Harness, PATIENCE,
    PROMPT_NANOS_PER_TOKEN, chat_model, prompt, wait,
};

/// The mock counts one prompt token per word of the input, one completion token per delta
/// (a word of [`DEFAULT_TEXT`] each).
const PROMPT: &str = "hello there friend";
const PROMPT_TOKENS: i64 = 3;
fn answer_tokens() -> i64 {
    DEFAULT_TEXT.split_whitespace().count() as i64
}

fn details(row: &GenerationRow) -> Value {
    serde_json::from_str(row.error_details.as_deref().unwrap_or("null")).unwrap()
}

/// Everything a subscriber is sent, from its first snapshot until the outcome.
async fn follow(live: &Live) -> String {
    let mut subscription = live.subscribe();
    let mut text = subscription.content;
    loop {
        tokio::select! {
            event = subscription.events.recv() => match event {
                Ok(LiveEvent::Delta { start, text: delta }) => {
                    assert_eq!(start, text.len(), "each delta starts where the text ends");
                    text.push_str(&delta);
                }
                Ok(LiveEvent::Usage(_)) => {}
                Err(error) => panic!("the subscription broke: {error}"),
            },
            changed = subscription.outcome.changed() => {
                changed.unwrap();
                if subscription.outcome.borrow().is_some() {
                    break;
                }
            }
        }
    }
    // Deltas are sent before the outcome; any still queued belong to the text.
    while let Ok(event) = subscription.events.try_recv() {
        if let LiveEvent::Delta { text: delta, .. } = event {
            text.push_str(&delta);
        }
    }
    text
}

/// Waits until the generation has shown some text (its first token is in).
async fn first_token(live: &Live) {
    tokio::time::timeout(PATIENCE, async {
        while live.content().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("a first token in time");
}

#[tokio::test]
async fn a_streamed_answer_is_broadcast_and_recorded_with_usage_and_cost() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        let live = h
            .start_generation(CHAT, &prompt(PROMPT, true))
            .await
            .unwrap();
        assert!(
            live.start_recorded().await,
            "{backend:?}: its start is durable"
        );
        let streamed = follow(&live).await;
        let outcome = wait(&live).await;
        assert_eq!(streamed, DEFAULT_TEXT, "{backend:?}");
        assert_eq!(outcome.status, "success");
        assert_eq!(outcome.error, None);
        assert_eq!(outcome.content, DEFAULT_TEXT);
        assert_eq!(outcome.finish_reason.as_deref(), Some("stop"));
        assert_eq!(outcome.usage.prompt_tokens, PROMPT_TOKENS as u64);
        assert_eq!(outcome.usage.completion_tokens, answer_tokens() as u64);
        assert!(!outcome.usage_estimated);
        let cost =
            PROMPT_TOKENS * PROMPT_NANOS_PER_TOKEN + answer_tokens() * COMPLETION_NANOS_PER_TOKEN;
        assert_eq!(outcome.cost_nanos, cost);
        assert_eq!(outcome.answered_by, None);
        assert!(outcome.time_to_first_token_ms.is_some());

        let row = h.row(&live.id).await;
        assert_eq!(row.status, "success", "{backend:?}");
        assert_eq!(row.output_content, DEFAULT_TEXT);
        assert_eq!(row.prompt, "");
        assert!(row.messages.contains(PROMPT), "{}", row.messages);
        assert_eq!(row.prompt_tokens, PROMPT_TOKENS);
        assert_eq!(row.completion_tokens, answer_tokens());
        assert_eq!(row.total_tokens, PROMPT_TOKENS + answer_tokens());
        assert_eq!(row.cost_nanos, cost);
        assert_eq!(row.finish_reason.as_deref(), Some("stop"));
        assert_eq!(row.provider.as_deref(), Some(ENDPOINT));
        // The mock echoes the model it was asked for.
        assert_eq!(row.model_version.as_deref(), Some("chat-a"));
        assert_eq!(row.source, "api");
        assert_eq!(row.user_agent.as_deref(), Some("engine-tests"));
        assert_eq!(row.ip_address.as_deref(), Some("203.0.113.7"));
        assert_eq!(row.error_code, None);
        assert_eq!(details(&row)["usageEstimated"], false);

        let sent = h.mock.requests(OPENAI_CHAT_PATH);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].header("authorization"),
            Some(format!("Bearer {ENDPOINT_KEY}").as_str())
        );
        let body = sent[0].json().unwrap();
        assert_eq!(body["model"], "chat-a");
        assert_eq!(body["stream"], true);
    }
}

#[tokio::test]
async fn a_whole_answer_is_recorded_and_estimated_when_the_provider_gives_no_usage() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        let (outcome, row) = h.run(CHAT, &prompt(PROMPT, false)).await;
        assert_eq!(
            outcome.status, "success",
            "{backend:?}: {:?}",
            outcome.error
        );
        assert_eq!(row.status, "success");
        assert_eq!(row.output_content, DEFAULT_TEXT);
        assert_eq!(
            (row.prompt_tokens, row.completion_tokens),
            (PROMPT_TOKENS, answer_tokens())
        );
        assert_ne!(
            h.mock.requests(OPENAI_CHAT_PATH)[0].json().unwrap()["stream"],
            true,
            "asked for the whole answer"
        );

        h.mock.push_script(
            OPENAI_CHAT_PATH,
            Script::default().usage(UsagePlacement::Omitted),
        );
        let (outcome, row) = h.run(CHAT, &prompt(PROMPT, false)).await;
        assert_eq!(outcome.status, "success", "{backend:?}");
        assert!(outcome.usage_estimated);
        // About four characters a token, for the prompt and for the answer.
        let (prompt_tokens, completion_tokens) = (
            estimate_tokens(PROMPT) as i64,
            estimate_tokens(DEFAULT_TEXT) as i64,
        );
        assert_eq!(
            (row.prompt_tokens, row.completion_tokens),
            (prompt_tokens, completion_tokens)
        );
        assert_eq!(
            row.cost_nanos,
            prompt_tokens * PROMPT_NANOS_PER_TOKEN + completion_tokens * COMPLETION_NANOS_PER_TOKEN
        );
        assert_eq!(details(&row)["usageEstimated"], true);
    }
}

#[tokio::test]
async fn passing_failures_before_the_first_token_are_retried_within_one_generation() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        h.mock.push_script(OPENAI_CHAT_PATH, Script::status(503));
        h.mock.push_script(OPENAI_CHAT_PATH, Script::status(429));
        for stream in [true, false] {
            let (outcome, row) = h.run(CHAT, &prompt(PROMPT, stream)).await;
            assert_eq!(
                outcome.status, "success",
                "{backend:?} stream {stream}: {:?}",
                outcome.error
            );
            assert_eq!(row.output_content, DEFAULT_TEXT);
            // Only the call that answered costs anything.
            assert_eq!(row.prompt_tokens, PROMPT_TOKENS);
        }
        // 503, 429, answer; then one answer at once.
        assert_eq!(h.mock.request_count(OPENAI_CHAT_PATH), 4, "{backend:?}");
        assert_eq!(
            h.stored_generations().await,
            2,
            "one row per generation, not per attempt"
        );
    }
}

#[tokio::test]
async fn retries_stop_at_max_attempts_and_at_a_retry_after_beyond_the_longest_wait() {
    for backend in backends() {
        let h = Harness::start_with(backend, |s| s.max_attempts = 2).await;
        for _ in 0..3 {
            h.mock.push_script(OPENAI_CHAT_PATH, Script::status(503));
        }
        let (outcome, row) = h.run(CHAT, &prompt(PROMPT, true)).await;
        assert_eq!(h.mock.request_count(OPENAI_CHAT_PATH), 2, "{backend:?}");
        assert_eq!(h.mock.queued_scripts(OPENAI_CHAT_PATH), 1);
        assert_eq!(outcome.status, "error");
        assert!(
            matches!(
                outcome.error,
                Some(GenerationError::Upstream {
                    kind: ProviderErrorKind::Unavailable,
                    status: Some(503),
                    ..
                })
            ),
            "{:?}",
            outcome.error
        );
        assert_eq!(row.status, "error");
        assert_eq!(row.error_code.as_deref(), Some("upstream_unavailable"));
        assert_eq!(details(&row)["upstreamStatus"], 503);
        // Nothing was produced, nothing is charged.
        assert_eq!((row.total_tokens, row.cost_nanos), (0, 0));
        h.mock.clear_scripts(OPENAI_CHAT_PATH);

        // The provider asks for 5 s; the engine waits at most 1 s, so it gives up at once.
        h.mock.push_script(
            OPENAI_CHAT_PATH,
            Script::outcome_only(Outcome::Status {
                status: 429,
                retry_after: Some(5),
                estimated_time: None,
            }),
        );
        let before = h.mock.request_count(OPENAI_CHAT_PATH);
        let (outcome, row) = h.run(CHAT, &prompt(PROMPT, true)).await;
        assert_eq!(
            h.mock.request_count(OPENAI_CHAT_PATH),
            before + 1,
            "{backend:?}"
        );
        assert_eq!(row.error_code.as_deref(), Some("upstream_rate_limited"));
        assert!(
            outcome.duration_ms < 1_000,
            "it did not wait: {} ms",
            outcome.duration_ms
        );
    }
}

#[tokio::test]
async fn after_the_first_token_nothing_is_retried_and_the_partial_text_is_kept() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        for (script, code) in [
            (Outcome::CutAfter(3), "stream_cut"),
            (Outcome::ErrorAfter(3), "stream_error"),
        ] {
            h.mock
                .push_script(OPENAI_CHAT_PATH, Script::outcome_only(script.clone()));
            // Would answer in full, were the generation retried.
            h.mock.push_script(OPENAI_CHAT_PATH, Script::default());
            let (outcome, row) = h.run(CHAT, &prompt(PROMPT, true)).await;
            assert_eq!(
                h.mock.queued_scripts(OPENAI_CHAT_PATH),
                1,
                "{backend:?} {script:?}: not retried"
            );
            h.mock.clear_scripts(OPENAI_CHAT_PATH);
            assert_eq!(outcome.status, "error", "{backend:?} {script:?}");
            assert_eq!(
                outcome.error.as_ref().map(GenerationError::code),
                Some(code)
            );
            assert!(
                !outcome.content.is_empty()
                    && outcome.content.len() < DEFAULT_TEXT.len()
                    && DEFAULT_TEXT.starts_with(&outcome.content),
                "{script:?}: {:?}",
                outcome.content
            );
            assert_eq!(row.status, "error");
            assert_eq!(row.error_code.as_deref(), Some(code));
            assert_eq!(row.output_content, outcome.content);
            // What was shown is counted (estimated: the provider never sent its usage).
            assert_eq!(
                row.completion_tokens,
                estimate_tokens(&outcome.content) as i64
            );
            assert!(row.cost_nanos > 0);
        }
    }
}

#[tokio::test]
async fn a_fallback_answers_when_the_model_is_down() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        h.set_fallbacks(CHAT, &[FALLBACK]).await;
        for _ in 0..3 {
            h.mock.push_script(OPENAI_CHAT_PATH, Script::status(502));
        }
        let (outcome, row) = h.run(CHAT, &prompt(PROMPT, true)).await;
        assert_eq!(
            outcome.status, "success",
            "{backend:?}: {:?}",
            outcome.error
        );
        assert_eq!(outcome.answered_by.as_deref(), Some(FALLBACK));
        let models: Vec<Value> = h
            .mock
            .requests(OPENAI_CHAT_PATH)
            .iter()
            .map(|r| r.json().unwrap()["model"].clone())
            .collect();
        assert_eq!(
            models,
            ["chat-a", "chat-a", "chat-a", "chat-b"],
            "{backend:?}"
        );
        assert_eq!(row.output_content, DEFAULT_TEXT);
        assert_eq!(row.model_version.as_deref(), Some("chat-b"));
        assert_eq!(details(&row)["answeredBy"], FALLBACK);
    }
}

#[tokio::test]
async fn when_every_candidate_fails_no_fallback_is_said_to_have_answered() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        h.set_fallbacks(CHAT, &[FALLBACK]).await;
        for _ in 0..6 {
            h.mock.push_script(OPENAI_CHAT_PATH, Script::status(502));
        }
        let (outcome, row) = h.run(CHAT, &prompt(PROMPT, true)).await;
        // Three attempts on each model.
        assert_eq!(h.mock.request_count(OPENAI_CHAT_PATH), 6, "{backend:?}");
        assert_eq!(outcome.status, "error");
        assert_eq!(row.error_code.as_deref(), Some("upstream_unavailable"));
        assert_eq!(outcome.answered_by, None, "{backend:?}: nobody answered");
        assert_eq!(details(&row)["answeredBy"], Value::Null);
        // The error is the last model's.
        assert_eq!(row.model_version.as_deref(), Some("chat-b"));

        // A fallback that produced text before it broke off did answer, in part.
        for _ in 0..3 {
            h.mock.push_script(OPENAI_CHAT_PATH, Script::status(502));
        }
        h.mock
            .push_script(OPENAI_CHAT_PATH, Script::outcome_only(Outcome::CutAfter(3)));
        let (outcome, row) = h.run(CHAT, &prompt(PROMPT, true)).await;
        assert_eq!(row.error_code.as_deref(), Some("stream_cut"), "{backend:?}");
        assert!(!outcome.content.is_empty());
        assert_eq!(
            outcome.answered_by.as_deref(),
            Some(FALLBACK),
            "{backend:?}"
        );
        assert_eq!(details(&row)["answeredBy"], FALLBACK);
    }
}

#[tokio::test]
async fn a_refused_key_falls_back_at_once_and_unavailable_fallbacks_are_skipped() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        let third = h.add_model(chat_model(ENDPOINT, "chat-c")).await;
        h.edit_model(
            "UPDATE models SET status = $1 WHERE slug = $2",
            "maintenance",
            FALLBACK,
        )
        .await;
        h.set_fallbacks(CHAT, &[FALLBACK, &third]).await;
        h.mock.push_script(OPENAI_CHAT_PATH, Script::status(401));
        let (outcome, _) = h.run(CHAT, &prompt(PROMPT, false)).await;
        assert_eq!(
            outcome.status, "success",
            "{backend:?}: {:?}",
            outcome.error
        );
        assert_eq!(outcome.answered_by.as_deref(), Some(third.as_str()));
        let models: Vec<Value> = h
            .mock
            .requests(OPENAI_CHAT_PATH)
            .iter()
            .map(|r| r.json().unwrap()["model"].clone())
            .collect();
        // A 401 is not retried, and the fallback under maintenance is never called.
        assert_eq!(models, ["chat-a", "chat-c"], "{backend:?}");
    }
}

#[tokio::test]
async fn a_bad_request_does_not_fall_back() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        h.set_fallbacks(CHAT, &[FALLBACK]).await;
        h.mock.push_script(OPENAI_CHAT_PATH, Script::status(400));
        let (outcome, row) = h.run(CHAT, &prompt(PROMPT, true)).await;
        assert_eq!(h.mock.request_count(OPENAI_CHAT_PATH), 1, "{backend:?}");
        assert_eq!(outcome.status, "error");
        assert_eq!(outcome.answered_by, None);
        assert_eq!(row.error_code.as_deref(), Some("upstream_bad_request"));
        assert_eq!(details(&row)["upstreamStatus"], 400);
        assert_eq!(details(&row)["answeredBy"], Value::Null);
    }
}

#[tokio::test]
async fn a_silent_provider_times_out_and_a_stalled_stream_keeps_its_text() {
    for backend in backends() {
        let h = Harness::start_with(backend, |s| {
            s.timeouts.first_token = Duration::from_millis(300);
            s.timeouts.between_tokens = Duration::from_millis(300);
        })
        .await;
        let slow = Script::default().first_token_delay(Duration::from_secs(5));
        for stream in [true, false] {
            h.mock.push_script(OPENAI_CHAT_PATH, slow.clone());
            let (outcome, row) = h.run(CHAT, &prompt(PROMPT, stream)).await;
            assert_eq!(outcome.status, "timeout", "{backend:?} stream {stream}");
            assert_eq!(row.status, "timeout");
            assert_eq!(row.error_code.as_deref(), Some("upstream_timeout"));
            assert_eq!(outcome.content, "");
            assert!(
                (300..2_000).contains(&outcome.duration_ms),
                "it gave up after the first-token limit: {} ms",
                outcome.duration_ms
            );
        }
        // A timeout is not retried.
        assert_eq!(h.mock.request_count(OPENAI_CHAT_PATH), 2, "{backend:?}");

        h.mock.push_script(
            OPENAI_CHAT_PATH,
            Script::outcome_only(Outcome::StallAfter(2)),
        );
        let (outcome, row) = h.run(CHAT, &prompt(PROMPT, true)).await;
        assert_eq!(outcome.status, "timeout", "{backend:?}");
        assert_eq!(row.error_code.as_deref(), Some("upstream_timeout"));
        assert_eq!(row.output_content, outcome.content);
        assert!(
            !outcome.content.is_empty() && DEFAULT_TEXT.starts_with(&outcome.content),
            "{:?}",
            outcome.content
        );
    }
}

#[tokio::test]
async fn cancel_mid_stream_ends_it_as_cancelled_with_the_partial_text() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        h.mock.push_script(
            OPENAI_CHAT_PATH,
            Script::default().chunk_delay(Duration::from_millis(200)),
        );
        let live = h
            .start_generation(CHAT, &prompt(PROMPT, true))
            .await
            .unwrap();
        first_token(&live).await;
        live.cancel();
        let outcome = wait(&live).await;
        assert_eq!(outcome.status, "cancelled", "{backend:?}");
        assert_eq!(outcome.error, None);
        assert!(
            !outcome.content.is_empty()
                && outcome.content.len() < DEFAULT_TEXT.len()
                && DEFAULT_TEXT.starts_with(&outcome.content),
            "{:?}",
            outcome.content
        );
        let row = h.row(&live.id).await;
        assert_eq!(row.status, "cancelled");
        assert_eq!(row.error_code, None);
        assert_eq!(row.output_content, outcome.content);
        assert_eq!(h.mock.request_count(OPENAI_CHAT_PATH), 1);
    }
}
