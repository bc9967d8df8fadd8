//! The generation engine end to end: the plan's generate endpoints against the mock provider,
//! on both databases — answers, streams, recording, retries, fallbacks, faults, cancel,
//! reattach, limits and refusals before any upstream call.

use std::time::Duration;

use aipasta_mock::{
    DEFAULT_TEXT, MockConfig, MockServer, OPENROUTER_CHAT_PATH, Outcome, Script, UsagePlacement,
};
use aipasta_store::testing::backends;
use aipasta_store::{Backend, Query};
use aipasta_web::WebConfig;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, mock_provider_config, spawn_app_with};

/// A seeded OpenRouter model: $2/M in, $8/M out; takes max_tokens, stop, temperature, top_p.
const MODEL: &str = "ai21/jamba-large-1.7";
/// Another seeded OpenRouter model, for fallbacks.
const OTHER_MODEL: &str = "amazon/nova-micro-v1";

fn engine_config(mock: &MockServer) -> WebConfig {
    mock_provider_config(mock)
}

async fn start(backend: Backend) -> (MockServer, TestApp, TestUser) {
    let mock = MockServer::start(MockConfig::default()).await;
    let app = spawn_app_with(backend, engine_config(&mock), true).await;
    let user = app.sign_up("Gen Tester", "gen@example.com").await;
    (mock, app, user)
}

async fn generate(app: &TestApp, user: &TestUser, body: Value) -> (StatusCode, Value) {
    let reply = app
        .user(user)
        .post(&format!("/api/models/{MODEL}/generate"), body)
        .await;
    (reply.status, reply.json())
}

/// Server-sent events of a finished response body, as (event, data).
fn parse_sse(body: &str) -> Vec<(String, Value)> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|block| {
            let mut event = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event = Some(name.trim().to_owned());
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim_start());
                }
            }
            Some((event?, serde_json::from_str(&data).unwrap_or(Value::Null)))
        })
        .collect()
}

fn streamed_text(events: &[(String, Value)]) -> String {
    events
        .iter()
        .filter(|(name, _)| name == "delta")
        .map(|(_, data)| data["content"].as_str().unwrap().to_owned())
        .collect()
}

async fn stream(app: &TestApp, user: &TestUser, body: Value) -> Vec<(String, Value)> {
    let mut body = body;
    body["stream"] = json!(true);
    let response = app
        .user(user)
        .post(&format!("/api/models/{MODEL}/generate"), body)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        response
            .header("content-type")
            .starts_with("text/event-stream")
    );
    parse_sse(&response.text())
}

#[derive(Debug, sqlx::FromRow)]
struct StoredRow {
    status: String,
    output_content: String,
    prompt_tokens: i64,
    completion_tokens: i64,
    cost_nanos: i64,
    error_code: Option<String>,
    source: String,
    finish_reason: Option<String>,
    time_to_first_token_ms: Option<i64>,
}

async fn stored(app: &TestApp, id: &str) -> StoredRow {
    app.state.engine.flush().await;
    Query::new(
        "SELECT status, output_content, prompt_tokens, completion_tokens, cost_nanos, error_code, \
         source, finish_reason, time_to_first_token_ms FROM generations WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_generation_is_answered_recorded_and_counted() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        let (status, body) = generate(
            &app,
            &user,
            json!({"prompt": "Say something short", "parameters": {"temperature": 0.5, "maxTokens": 64}}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        let data = &body["data"];
        assert_eq!(data["content"], DEFAULT_TEXT);
        // The mock counts input words (3) and one token per streamed word (9).
        assert_eq!(data["usage"]["promptTokens"], 3);
        assert_eq!(data["usage"]["completionTokens"], 9);
        // 3 × $0.000002 + 9 × $0.000008 = $0.000078 = 78,000 nano-dollars.
        assert_eq!(data["costNanos"], 78_000);
        assert!(data["duration"].as_i64().unwrap() >= 0);

        // What was sent upstream: the model, the message and only the parameters given.
        let sent = mock.requests(OPENROUTER_CHAT_PATH);
        assert_eq!(sent.len(), 1);
        let request = sent[0].json().unwrap();
        assert_eq!(request["model"], MODEL);
        assert_eq!(request["messages"][0]["content"], "Say something short");
        assert_eq!(request["temperature"], 0.5);
        assert_eq!(request["max_tokens"], 64);
        assert!(request.get("top_p").is_none());
        assert_eq!(
            sent[0].header("authorization"),
            Some("Bearer sk-or-v1-test")
        );

        let id = data["id"].as_str().unwrap();
        let row = stored(&app, id).await;
        assert_eq!(row.status, "success");
        assert_eq!(row.output_content, DEFAULT_TEXT);
        assert_eq!((row.prompt_tokens, row.completion_tokens), (3, 9));
        assert_eq!(row.cost_nanos, 78_000);
        assert_eq!(row.source, "playground");
        assert_eq!(row.finish_reason.as_deref(), Some("stop"));

        // Counters: the account, the daily rollup and the model.
        let (generations, tokens, cost): (i64, i64, i64) = Query::new(
            "SELECT total_generations, tokens_used, total_cost_nanos FROM users WHERE id = $1",
        )
        .bind(&user.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!((generations, tokens, cost), (1, 12, 78_000));
        let (daily, daily_tokens): (i64, i64) = Query::new(
            "SELECT generations, prompt_tokens + completion_tokens FROM usage_days WHERE user_id = $1",
        )
        .bind(&user.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!((daily, daily_tokens), (1, 12));
        let (count, rate): (i64, Option<f64>) =
            Query::new("SELECT generation_count, success_rate FROM models WHERE slug = $1")
                .bind(MODEL)
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert_eq!((count, rate), (1, Some(100.0)), "a percentage");

        // The record through the API, in the plan's shape.
        let body = app
            .user(&user)
            .get(&format!("/api/generations/{id}"))
            .await
            .json();
        assert_eq!(body["data"]["output"]["content"], DEFAULT_TEXT);
        assert_eq!(body["data"]["status"], "success");
        assert_eq!(body["data"]["input"]["parameters"]["maxTokens"], 64);
    }
}

#[tokio::test]
async fn a_stream_sends_start_deltas_usage_and_done() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::default()
                .keep_alives(2)
                .usage(UsagePlacement::SeparateChunk)
                .cost("0.00042"),
        );
        let events = stream(&app, &user, json!({"prompt": "Stream please"})).await;
        let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.first(), Some(&"start"), "{names:?}");
        assert_eq!(names.last(), Some(&"done"), "{names:?}");
        assert!(names.contains(&"usage"), "{names:?}");
        assert!(names.iter().filter(|n| **n == "delta").count() >= 5);
        assert_eq!(streamed_text(&events), DEFAULT_TEXT);
        let done = &events.last().unwrap().1;
        // The provider's own cost wins over the listed prices.
        assert_eq!(done["costNanos"], 420_000);
        assert!(done["timeToFirstToken"].as_i64().is_some());
        let id = events[0].1["id"].as_str().unwrap();
        let row = stored(&app, id).await;
        assert_eq!(row.status, "success");
        assert_eq!(row.cost_nanos, 420_000);
        assert!(row.time_to_first_token_ms.is_some());
        let request = mock.requests(OPENROUTER_CHAT_PATH)[0].json().unwrap();
        assert_eq!(request["stream"], true);
    }
}

#[tokio::test]
async fn busy_upstreams_are_retried_before_the_first_token() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::outcome_only(Outcome::Status {
                status: 429,
                retry_after: Some(1),
                estimated_time: None,
            }),
        );
        mock.push_script(OPENROUTER_CHAT_PATH, Script::status(503));
        let started = std::time::Instant::now();
        let (status, body) = generate(&app, &user, json!({"prompt": "retry me"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["content"], DEFAULT_TEXT);
        assert_eq!(mock.request_count(OPENROUTER_CHAT_PATH), 3);
        // Retry-After: 1 was honoured.
        assert!(started.elapsed() >= Duration::from_secs(1));
    }
}

#[tokio::test]
async fn refusals_from_the_provider_are_not_retried_and_are_recorded() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        mock.push_script(OPENROUTER_CHAT_PATH, Script::status(402));
        let (status, body) = generate(&app, &user, json!({"prompt": "no credits"})).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["code"], "upstream_payment_required");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("credits"),
            "{body}"
        );
        assert_eq!(mock.request_count(OPENROUTER_CHAT_PATH), 1);
        let row = stored(&app, body["data"]["id"].as_str().unwrap()).await;
        assert_eq!(row.status, "error");
        assert_eq!(row.error_code.as_deref(), Some("upstream_payment_required"));
        assert_eq!(row.cost_nanos, 0);
    }
}

#[tokio::test]
async fn stream_faults_end_with_an_error_and_keep_what_was_produced() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        for (outcome, code, status) in [
            (Outcome::CutAfter(3), "stream_cut", "error"),
            (Outcome::ErrorAfter(3), "stream_error", "error"),
            (Outcome::StallAfter(3), "upstream_timeout", "timeout"),
        ] {
            // Paced, so the first tokens surely arrive before the fault: a fault before any
            // token is retried, which another test covers.
            mock.push_script(
                OPENROUTER_CHAT_PATH,
                Script::outcome_only(outcome.clone()).chunk_delay(Duration::from_millis(40)),
            );
            let requests_before = mock.request_count(OPENROUTER_CHAT_PATH);
            let events = stream(&app, &user, json!({"prompt": "fail midway"})).await;
            let (last, data) = events.last().unwrap();
            assert_eq!(last, "error", "{outcome:?}: {events:?}");
            assert_eq!(data["code"], code, "{outcome:?}");
            assert_eq!(data["status"], status, "{outcome:?}");
            let partial = streamed_text(&events);
            assert!(
                // A cut can swallow the bytes that arrived with it, so up to three words.
                DEFAULT_TEXT.starts_with(&partial)
                    && (1..=3).contains(&partial.split_whitespace().count()),
                "{outcome:?}: {partial:?}"
            );
            let row = stored(&app, events[0].1["id"].as_str().unwrap()).await;
            assert_eq!(row.status, status);
            assert_eq!(row.output_content, partial, "{outcome:?}");
            assert_eq!(row.error_code.as_deref(), Some(code));
            // After the first token nothing is retried.
            assert_eq!(
                mock.request_count(OPENROUTER_CHAT_PATH),
                requests_before + 1
            );
        }
    }
}

#[tokio::test]
async fn a_fallback_model_answers_when_the_first_is_down() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        Query::new("UPDATE models SET fallback_model_ids = $1 WHERE slug = $2")
            .bind(json!([OTHER_MODEL]).to_string())
            .bind(MODEL)
            .execute(&app.db)
            .await
            .unwrap();
        app.db.note_catalog_change();
        app.state.engine.changed(aipasta_engine::Change::Catalog);
        for _ in 0..3 {
            mock.push_script(OPENROUTER_CHAT_PATH, Script::status(502));
        }
        let (status, body) = generate(&app, &user, json!({"prompt": "anyone there?"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["answeredBy"], OTHER_MODEL);
        let sent = mock.requests(OPENROUTER_CHAT_PATH);
        assert_eq!(sent.len(), 4);
        assert_eq!(sent[3].json().unwrap()["model"], OTHER_MODEL);
    }
}

/// Reads SSE from a live response until an event named `name` arrives.
async fn read_until(response: &mut reqwest::Response, buffer: &mut String, name: &str) -> Value {
    loop {
        if let Some((_, data)) = parse_sse(buffer).into_iter().find(|(n, _)| n == name) {
            return data;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .expect("the stream ended early");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

/// Starts a streamed generation that runs for about a second; answers its id once its first
/// delta has arrived (its `pending` row is written by then) and the response, still streaming.
async fn start_slow_stream(
    mock: &MockServer,
    app: &TestApp,
    user: &TestUser,
) -> (String, reqwest::Response, String) {
    mock.push_script(
        OPENROUTER_CHAT_PATH,
        Script::default().chunk_delay(Duration::from_millis(100)),
    );
    let mut response = app
        .as_user(user, Method::POST, &format!("/api/models/{MODEL}/generate"))
        .json(&json!({"prompt": "take your time", "stream": true}))
        .send()
        .await
        .unwrap();
    let mut buffer = String::new();
    let start = read_until(&mut response, &mut buffer, "start").await;
    read_until(&mut response, &mut buffer, "delta").await;
    (start["id"].as_str().unwrap().to_owned(), response, buffer)
}

/// The writer holds a generation's start back one batch (most end within it, and are then
/// written once), but no longer: a running generation's `pending` row reaches the database on
/// its own, without a flush, within a few batches.
#[tokio::test]
async fn a_running_generation_is_in_the_database_as_pending_without_a_flush() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        let (id, _response, _buffer) = start_slow_stream(&mock, &app, &user).await;
        let status = || async {
            Query::new("SELECT status FROM generations WHERE id = $1")
                .bind(&id)
                .fetch_optional::<(String,)>(&app.db)
                .await
                .unwrap()
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let found = loop {
            if let Some((status,)) = status().await {
                break status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{backend:?}: the running generation's row was not written within 5 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert_eq!(found, "pending", "{backend:?}");
        assert!(
            app.state
                .engine
                .live(&id)
                .is_some_and(|live| live.outcome().is_none()),
            "{backend:?}: the generation should still be running"
        );
    }
}

#[tokio::test]
async fn cancelling_keeps_the_partial_answer() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        let (id, mut response, mut buffer) = start_slow_stream(&mock, &app, &user).await;
        let cancel = format!("/api/generations/{id}/cancel");
        let cancelled = app
            .user(&user)
            .send(Method::POST, &cancel, None)
            .await
            .json();
        assert_eq!(cancelled["data"]["status"], "cancelled", "{cancelled}");
        let done = read_until(&mut response, &mut buffer, "done").await;
        assert_eq!(done["status"], "cancelled");
        let row = stored(&app, &id).await;
        assert_eq!(row.status, "cancelled");
        assert!(!row.output_content.is_empty());
        assert!(row.output_content.len() < DEFAULT_TEXT.len());
        // Once its row is written the generation has left memory; cancelling again says it
        // is over.
        assert!(
            app.state.engine.live(&id).is_none(),
            "a recorded generation stays in memory"
        );
        let again = app.user(&user).send(Method::POST, &cancel, None).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        let again = again.json();
        assert_eq!(again["error"]["code"], "already_finished", "{again}");
    }
}

/// Waits for the recorder; a recorder stuck on a batch it can never write fails the test.
async fn flush_within_seconds(app: &TestApp) {
    tokio::time::timeout(Duration::from_secs(15), app.state.engine.flush())
        .await
        .expect("the recorder is stuck: every generation behind the stuck batch is unrecorded");
}

/// An account erased while its generation runs takes that generation with it, and its final
/// row (which the database refuses: the account is gone) holds back no one else's.
#[tokio::test]
async fn a_generation_whose_account_is_deleted_while_it_runs_holds_back_no_other() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        let other = app.sign_up("Other Tester", "other@example.com").await;
        let (id, mut response, mut buffer) = start_slow_stream(&mock, &app, &user).await;
        assert!(
            aipasta_store::accounts::delete_account(&app.db, &user.id)
                .await
                .unwrap()
        );
        // Its end cannot be stored, so its client is not given it as an answer.
        let failed = read_until(&mut response, &mut buffer, "error").await;
        assert_eq!(failed["code"], "not_recorded", "{backend:?}: {failed}");
        let (status, body) = generate(&app, &other, json!({"prompt": "still there?"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        flush_within_seconds(&app).await;
        let other_row = stored(&app, body["data"]["id"].as_str().unwrap()).await;
        assert_eq!(other_row.status, "success", "{backend:?}");
        let left: i64 = Query::new("SELECT COUNT(*) FROM generations WHERE id = $1")
            .bind(&id)
            .fetch_scalar(&app.db)
            .await
            .unwrap();
        assert_eq!(
            left, 0,
            "{backend:?}: the erased account's generation came back"
        );
    }
}

/// A model deleted while a generation of it runs: the generation is recorded without its model,
/// as the delete would have left it had the row been written first.
#[tokio::test]
async fn a_generation_whose_model_is_deleted_while_it_runs_is_recorded_without_it() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        let (id, mut response, mut buffer) = start_slow_stream(&mock, &app, &user).await;
        Query::new("DELETE FROM models WHERE slug = $1")
            .bind(MODEL)
            .execute(&app.db)
            .await
            .unwrap();
        let done = read_until(&mut response, &mut buffer, "done").await;
        assert_eq!(done["status"], "success", "{done}");

        flush_within_seconds(&app).await;
        let row = stored(&app, &id).await;
        assert_eq!(row.status, "success", "{backend:?}");
        assert_eq!(row.output_content, DEFAULT_TEXT, "{backend:?}");
        let model: Option<String> = Query::new("SELECT model_id FROM generations WHERE id = $1")
            .bind(&id)
            .fetch_scalar(&app.db)
            .await
            .unwrap();
        assert_eq!(model, None, "{backend:?}");
        let counted: i64 = Query::new("SELECT total_generations FROM users WHERE id = $1")
            .bind(&user.id)
            .fetch_scalar(&app.db)
            .await
            .unwrap();
        assert_eq!(counted, 1, "{backend:?}: the account's counters moved");
    }
}

/// A write the database rejects for a reason the recorder cannot mend (here a status its CHECK
/// refuses) is left out; the rest of its batch is written, and the recorder goes on.
#[tokio::test]
async fn a_write_the_database_rejects_is_left_out_and_the_rest_of_its_batch_written() {
    use aipasta_store::generations::{GenerationWrite, find_generation};
    for backend in backends() {
        let (_mock, app, user) = start(backend).await;
        let (status, body) = generate(&app, &user, json!({"prompt": "a row to copy"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        app.state.engine.flush().await;
        let model = find_generation(&app.db, body["data"]["id"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        let mut refused = model.clone();
        refused.id = "refused-by-the-database".into();
        refused.status = "no-such-status".into();
        let mut accepted = model.clone();
        accepted.id = "recorded-beside-it".into();

        let recorder = aipasta_engine::Recorder::start(
            app.db.clone(),
            None,
            |_| {},
            &aipasta_engine::Supervisor::default(),
        );
        let mut durable = Vec::new();
        for row in [refused, accepted] {
            durable.push(
                recorder
                    .record(GenerationWrite {
                        row,
                        finished: Some(Default::default()),
                    })
                    .await,
            );
        }
        tokio::time::timeout(Duration::from_secs(15), recorder.flush())
            .await
            .expect("the recorder is stuck on a write it can never make");
        let stored = |id: &'static str| find_generation(&app.db, id);
        assert!(
            stored("refused-by-the-database").await.unwrap().is_none(),
            "{backend:?}"
        );
        let beside = stored("recorded-beside-it").await.unwrap();
        assert_eq!(
            beside.map(|row| row.status),
            Some(model.status),
            "{backend:?}"
        );
        let [refused, accepted] = <[_; 2]>::try_from(durable).ok().unwrap();
        assert!(
            refused.wait().await.is_err(),
            "{backend:?}: the refused write is not durable"
        );
        assert!(
            accepted.wait().await.is_ok(),
            "{backend:?}: the other one is"
        );
    }
}

#[tokio::test]
async fn a_dropped_connection_does_not_stop_the_generation_and_reattaching_replays_it() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        let (id, response, _) = start_slow_stream(&mock, &app, &user).await;
        drop(response);

        let stream_path = format!("/api/generations/{id}/stream");
        let reattached = app.user(&user).get(&stream_path).await;
        assert_eq!(reattached.status, StatusCode::OK);
        let events = parse_sse(&reattached.text());
        assert_eq!(streamed_text(&events), DEFAULT_TEXT, "{events:?}");
        assert_eq!(events.last().unwrap().0, "done");
        assert_eq!(stored(&app, &id).await.status, "success");

        // After it ended (and once it left memory) the replay comes from the row.
        let replayed = app.user(&user).get(&stream_path).await.text();
        assert_eq!(streamed_text(&parse_sse(&replayed)), DEFAULT_TEXT);

        // Someone else's generation is unknown to them.
        let other = app.sign_up("Other", "other@example.com").await;
        for path in [
            format!("/api/generations/{id}"),
            format!("/api/generations/{id}/stream"),
        ] {
            let response = app.user(&other).get(&path).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        }
    }
}

#[tokio::test]
async fn refusals_happen_before_any_upstream_call() {
    for backend in backends() {
        let (mock, app, user) = start(backend).await;
        let cases = [
            (
                json!({"prompt": "x", "parameters": {"temperature": 3.5}}),
                StatusCode::BAD_REQUEST,
                "parameter_out_of_range",
            ),
            (
                json!({"prompt": "x", "parameters": {"topK": 5}}),
                StatusCode::BAD_REQUEST,
                "unsupported_parameter",
            ),
            (
                json!({"prompt": "x", "parameters": {"maxTokens": 0}}),
                StatusCode::BAD_REQUEST,
                "parameter_out_of_range",
            ),
            (
                json!({"prompt": "   "}),
                StatusCode::BAD_REQUEST,
                "missing_input",
            ),
            (
                json!({"prompt": "x".repeat(1_100_000)}),
                StatusCode::PAYLOAD_TOO_LARGE,
                "prompt_too_long",
            ),
            (
                json!({"prompt": "x", "mode": "image"}),
                StatusCode::BAD_REQUEST,
                "unsupported_mode",
            ),
        ];
        for (body, status, code) in cases {
            let (got, answer) = generate(&app, &user, body).await;
            assert_eq!(got, status, "{backend:?} {code}: {answer}");
            assert_eq!(answer["error"]["code"], code, "{answer}");
        }
        // An unknown model.
        let response = app
            .user(&user)
            .post(
                "/api/models/nobody/nothing/generate",
                json!({"prompt": "x"}),
            )
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND);
        // Anonymous callers.
        let response = app
            .anonymous()
            .post(
                &format!("/api/models/{MODEL}/generate"),
                json!({"prompt": "x"}),
            )
            .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        // The monthly token limit.
        // Through the store, as the admin API does: it tells cached callers their row changed.
        aipasta_store::accounts::set_usage_limits(&app.db, &user.id, Some(10), "free")
            .await
            .unwrap();
        app.state.engine.usage.forget();
        let (status, body) = generate(&app, &user, json!({"prompt": "one"})).await;
        assert_eq!(status, StatusCode::OK, "under the limit: {body}");
        let (status, body) = generate(&app, &user, json!({"prompt": "two"})).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["error"]["code"], "monthly_limit_reached");
        assert_eq!(mock.request_count(OPENROUTER_CHAT_PATH), 1);
    }
}

#[tokio::test]
async fn a_provider_without_a_key_is_named_before_sending() {
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let mut config = engine_config(&mock);
        config.engine.providers.openrouter_api_key = None;
        let app = spawn_app_with(backend, config, true).await;
        let user = app.sign_up("No Key", "nokey@example.com").await;
        let (status, body) = generate(&app, &user, json!({"prompt": "x"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "provider_not_configured");
        assert!(body["error"]["message"].as_str().unwrap().contains("key"));
        assert_eq!(mock.request_count(OPENROUTER_CHAT_PATH), 0);
    }
}

#[tokio::test]
async fn the_unified_endpoints_take_the_model_in_the_body() {
    for backend in backends() {
        let (_mock, app, user) = start(backend).await;
        let body = app
            .user(&user)
            .post(
                "/api/ai/generate",
                json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}),
            )
            .await
            .json();
        assert_eq!(body["data"]["content"], DEFAULT_TEXT, "{body}");
        let text = app
            .user(&user)
            .post("/api/ai/stream", json!({"model": MODEL, "prompt": "hi"}))
            .await
            .text();
        assert_eq!(streamed_text(&parse_sse(&text)), DEFAULT_TEXT);
    }
}

#[tokio::test]
async fn rows_left_pending_by_a_crash_become_interrupted() {
    for backend in backends() {
        let (_mock, app, user) = start(backend).await;
        Query::new(
            "INSERT INTO generations (id, user_id, status, created_at, updated_at) \
             VALUES ('crashed', $1, 'pending', 1, 1)",
        )
        .bind(&user.id)
        .execute(&app.db)
        .await
        .unwrap();
        let fixed = aipasta_engine::Engine::recover(&app.db).await.unwrap();
        assert_eq!(fixed, 1);
        let (status, code): (String, Option<String>) =
            Query::new("SELECT status, error_code FROM generations WHERE id = 'crashed'")
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert_eq!(status, "interrupted");
        assert_eq!(code.as_deref(), Some("interrupted"));
    }
}

/// Adds a Hugging Face model to the catalog.
async fn add_hf_model(app: &TestApp, slug: &str, capability: &str) {
    Query::new(format!(
        "INSERT INTO models (id, slug, name, display_name, provider, provider_model_id, {capability}, \
         created_at, updated_at) VALUES ($1, $2, $2, $2, 'huggingface', $2, TRUE, 1, 1)"
    ))
    .bind(aipasta_core::id::new_id())
    .bind(slug)
    .execute(&app.db)
    .await
    .unwrap();
    app.db.note_catalog_change();
}

#[tokio::test]
async fn hugging_face_images_and_summaries_go_through_the_inference_api() {
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let config = engine_config(&mock);
        let app = spawn_app_with(backend, config, false).await;
        let user = app.sign_up("Hf", "hf@example.com").await;
        add_hf_model(&app, "mock/painter", "cap_image_generation").await;
        add_hf_model(&app, "mock/summariser", "cap_summarization").await;
        mock.set_hf_task("mock/painter", aipasta_mock::HfTask::TextToImage);
        mock.set_hf_task("mock/summariser", aipasta_mock::HfTask::Summarization);

        // An image, asked for as a stream: it comes whole, is stored and served.
        let text = app
            .user(&user)
            .post("/api/ai/stream", json!({"model": "mock/painter", "prompt": "a bowl of pasta", "parameters": {"width": 128, "height": 128}}))
            .await
            .text();
        let events = parse_sse(&text);
        let (last, done) = events.last().unwrap();
        assert_eq!(last, "done", "{events:?}");
        let image_url = done["images"][0].as_str().unwrap().to_owned();
        let image = app.user(&user).get(&image_url).await;
        assert_eq!(image.status, StatusCode::OK);
        assert_eq!(image.header("content-type"), "image/png");
        assert_eq!(&image.body[..8], b"\x89PNG\r\n\x1a\n");
        let sent = mock.requests(&aipasta_mock::hf_inference_path("mock/painter"));
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].json().unwrap()["inputs"], "a bowl of pasta");
        assert_eq!(sent[0].header("authorization"), Some("Bearer hf_test"));
        // Nobody else can fetch it.
        let other = app.sign_up("Other", "other-hf@example.com").await;
        let refused = app.user(&other).get(&image_url).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);

        // A summary, from a model that is still loading at first: its estimated time is
        // waited out, then the call is made again.
        let summariser = aipasta_mock::hf_inference_path("mock/summariser");
        mock.push_script(
            &summariser,
            Script::outcome_only(Outcome::Status {
                status: 503,
                retry_after: None,
                estimated_time: Some(1.0),
            }),
        );
        let started = std::time::Instant::now();
        let body = app
            .user(&user)
            .post("/api/ai/generate", json!({"model": "mock/summariser", "prompt": "A long text about pasta shapes and sauces."}))
            .await
            .json();
        assert_eq!(body["success"], true, "{body}");
        assert_eq!(body["data"]["content"], DEFAULT_TEXT);
        assert_eq!(mock.request_count(&summariser), 2);
        assert!(started.elapsed() >= Duration::from_millis(900));
    }
}
