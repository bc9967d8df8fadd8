//! Nothing a client saw is lost: answers wait for their rows, a database that cannot be
//! written (a full disk, a server gone) is reported and refuses new generations, a shutdown
//! keeps to its time limit and saves what it could not write, and the next start writes it.

use std::time::{Duration, Instant};

use aipasta_mock::{DEFAULT_TEXT, MockConfig, MockServer, OPENROUTER_CHAT_PATH, Script};
use aipasta_store::generations::spill;
use aipasta_store::testing::{backends, cap_sqlite_size, set_sqlite_read_only};
use aipasta_store::{Backend, Db, Query};
use aipasta_web::WebConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, TestUser, mock_provider_config, serve_app, spawn_app_with};

/// A seeded OpenRouter model the mock answers for.
const MODEL: &str = "ai21/jamba-large-1.7";

async fn start(
    backend: Backend,
    config: impl FnOnce(&mut WebConfig),
) -> (MockServer, TestApp, TestUser) {
    let mock = MockServer::start(MockConfig::default()).await;
    let mut settings = mock_provider_config(&mock);
    config(&mut settings);
    let app = spawn_app_with(backend, settings, true).await;
    let user = app.sign_up("Durable Tester", "durable@example.com").await;
    (mock, app, user)
}

/// Starts a whole generation in the background; answers its status and JSON.
fn generate_in_background(
    app: &TestApp,
    user: &TestUser,
    prompt: &str,
) -> tokio::task::JoinHandle<(StatusCode, Value)> {
    let request = app
        .as_user(user, Method::POST, &format!("/api/models/{MODEL}/generate"))
        .json(&json!({ "prompt": prompt }));
    tokio::spawn(async move {
        let response = Reply::read(request).await;
        (response.status, response.json())
    })
}

/// Starts a streamed generation in the background; answers the whole event stream's text.
fn stream_in_background(
    app: &TestApp,
    user: &TestUser,
    prompt: &str,
) -> tokio::task::JoinHandle<String> {
    let request = app
        .as_user(user, Method::POST, &format!("/api/models/{MODEL}/generate"))
        .json(&json!({ "prompt": prompt, "stream": true }));
    tokio::spawn(async move {
        let response = Reply::read(request).await;
        assert_eq!(response.status, StatusCode::OK);
        response.text()
    })
}

/// `(event name, data)` of each server-sent event in `body`.
fn events(body: &str) -> Vec<(String, Value)> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event:"))?.trim();
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            Some((
                name.to_owned(),
                serde_json::from_str(&data).unwrap_or(Value::Null),
            ))
        })
        .collect()
}

/// The stored `(status, output)` of a generation, read straight from the database (no flush:
/// what a crash would leave).
async fn row(db: &Db, id: &str) -> Option<(String, String)> {
    Query::new("SELECT status, output_content FROM generations WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
        .unwrap()
}

/// Holds the database's write lock (SQLite) or the generations table (PostgreSQL) until
/// dropped: writes wait meanwhile, reads go on.
async fn block_generation_writes(db: &Db) -> aipasta_store::Tx {
    let mut tx = db.begin().await.unwrap();
    if db.backend() == Backend::Postgres {
        Query::new("LOCK TABLE generations IN EXCLUSIVE MODE")
            .execute(&mut tx)
            .await
            .unwrap();
    }
    tx
}

#[tokio::test]
async fn an_answer_and_a_streams_id_wait_until_their_rows_are_committed() {
    for backend in backends() {
        let (_mock, app, user) = start(backend, |_| {}).await;
        let lock = block_generation_writes(&app.db).await;
        let whole = generate_in_background(&app, &user, "a whole answer");
        let streamed = stream_in_background(&app, &user, "a streamed answer");
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert!(
            !whole.is_finished(),
            "{backend:?}: the answer was sent before its row could be written"
        );
        assert!(
            !streamed.is_finished(),
            "{backend:?}: the stream ended before its rows could be written"
        );
        drop(lock);

        let (status, body) = tokio::time::timeout(Duration::from_secs(15), whole)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        let id = body["data"]["id"].as_str().unwrap();
        assert_eq!(
            row(&app.db, id).await,
            Some(("success".to_owned(), DEFAULT_TEXT.to_owned())),
            "{backend:?}: the answer's row is committed before the answer"
        );

        let body = tokio::time::timeout(Duration::from_secs(15), streamed)
            .await
            .unwrap()
            .unwrap();
        let events = events(&body);
        assert_eq!(
            events.first().map(|e| e.0.as_str()),
            Some("start"),
            "{body}"
        );
        assert_eq!(events.last().map(|e| e.0.as_str()), Some("done"), "{body}");
        let id = events[0].1["id"].as_str().unwrap();
        assert_eq!(
            row(&app.db, id).await,
            Some(("success".to_owned(), DEFAULT_TEXT.to_owned())),
            "{backend:?}: `done` is sent after the final row is committed"
        );
    }
}

#[tokio::test]
async fn a_streams_id_is_shown_only_once_its_starting_row_is_stored() {
    for backend in backends() {
        let (mock, app, user) = start(backend, |_| {}).await;
        mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::default().chunk_delay(Duration::from_millis(300)),
        );
        let mut response = app
            .as_user(
                &user,
                Method::POST,
                &format!("/api/models/{MODEL}/generate"),
            )
            .json(&json!({ "prompt": "slowly", "stream": true }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut received = String::new();
        while !received.contains("event: start") && !received.contains("event:start") {
            let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
                .await
                .expect("the start event within 5 s")
                .unwrap()
                .expect("the stream ended before its start event");
            received.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        let id = events(&received)[0].1["id"].as_str().unwrap().to_owned();
        assert_eq!(
            row(&app.db, &id).await.map(|(status, _)| status),
            Some("pending".to_owned()),
            "{backend:?}: the id was shown before its row was stored"
        );
    }
}

#[tokio::test]
async fn a_full_disk_is_reported_refuses_new_generations_and_recovers_within_a_second() {
    let (mock, app, user) = start(Backend::Sqlite, |_| {}).await;
    // An answer larger than any free space left in the file.
    let long_answer = "pasta ".repeat(40_000);
    mock.push_script(OPENROUTER_CHAT_PATH, Script::text(long_answer.clone()));
    cap_sqlite_size(&app.db, Some(0)).await;
    let held = generate_in_background(&app, &user, "fill the disk");

    let degraded = {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let response = app.get("/api/health").await;
            if response.status() == StatusCode::SERVICE_UNAVAILABLE {
                break response.json::<Value>().await.unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "/api/health still says ok while generations cannot be written"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert_eq!(degraded["data"]["status"], "degraded", "{degraded}");
    assert_eq!(degraded["error"]["code"], "writes_failing", "{degraded}");
    let reason = degraded["error"]["message"].as_str().unwrap();
    assert!(reason.contains("full"), "the reason is given: {reason}");

    // New generations are refused up front, not answered and held.
    let refused = app
        .user(&user)
        .post(
            &format!("/api/models/{MODEL}/generate"),
            json!({ "prompt": "and another" }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers.contains_key("retry-after"));
    let refusal = refused.json();
    assert_eq!(refusal["error"]["code"], "storage_unavailable", "{refusal}");
    assert!(!held.is_finished(), "the first answer is held, not sent");

    cap_sqlite_size(&app.db, None).await;
    let space_back = Instant::now();
    let (status, body) = tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .expect("the held answer is sent once space returns")
        .unwrap();
    let recovered_in = space_back.elapsed();
    eprintln!("writes recovered {recovered_in:?} after space returned");
    assert!(
        recovered_in < Duration::from_secs(3),
        "recovery took {recovered_in:?}"
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["data"]["id"].as_str().unwrap();
    assert_eq!(
        row(&app.db, id).await,
        Some(("success".to_owned(), long_answer))
    );
    assert_eq!(app.get("/api/health").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_shutdown_with_the_database_down_keeps_its_time_and_the_next_start_writes_everything() {
    for backend in backends() {
        let spill_dir = tempfile::tempdir().unwrap();
        let spill_file = spill_dir.path().join(spill::FILE_NAME);
        let configure = |config: &mut WebConfig| {
            config.engine.shutdown_timeout = Duration::from_secs(3);
            config.engine.spill_file = Some(spill_file.clone());
        };
        let (mock, app, user) = start(backend, configure).await;
        // Four generations under way (their upstream answers in a moment), then the database
        // goes away before they end.
        for _ in 0..4 {
            mock.push_script(
                OPENROUTER_CHAT_PATH,
                Script::default().first_token_delay(Duration::from_millis(800)),
            );
        }
        let wholes: Vec<_> = (0..3)
            .map(|i| generate_in_background(&app, &user, &format!("whole {i}")))
            .collect();
        let streamed = stream_in_background(&app, &user, "streamed");
        tokio::time::sleep(Duration::from_millis(400)).await;
        match backend {
            Backend::Sqlite => set_sqlite_read_only(&app.db, true).await,
            Backend::Postgres => app.database.set_postgres_reachable(false).await,
        }
        tokio::time::sleep(Duration::from_millis(800)).await;

        let stopping = Instant::now();
        let config = app.state.config.clone();
        let (served, database) = tokio::time::timeout(Duration::from_secs(15), app.stop())
            .await
            .unwrap_or_else(|_| {
                panic!("{backend:?}: the shutdown does not end with the database down")
            });
        served.unwrap();
        let took = stopping.elapsed();
        assert!(
            took < Duration::from_secs(6),
            "{backend:?}: the shutdown took {took:?} with a 3 s limit"
        );

        // What was answered, was answered only once it was safe in the spill file.
        let mut answered = Vec::new();
        for whole in wholes {
            let (status, body) = whole.await.unwrap();
            assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
            answered.push(body["data"]["id"].as_str().unwrap().to_owned());
        }
        let streamed = events(&streamed.await.unwrap());
        assert_eq!(
            streamed.last().map(|e| e.0.as_str()),
            Some("done"),
            "{backend:?}: {streamed:?}"
        );
        answered.push(streamed[0].1["id"].as_str().unwrap().to_owned());
        let spilled = std::fs::read_to_string(&spill_file).unwrap();
        assert!(spilled.lines().count() >= 4, "{backend:?}: {spilled}");

        // Restart with the database back.
        if backend == Backend::Postgres {
            database.set_postgres_reachable(true).await;
        }
        let db = database.connect().await;
        let restarted = serve_app(database, db, config).await;
        assert_eq!(restarted.get("/api/health").await.status(), StatusCode::OK);
        for id in &answered {
            assert_eq!(
                row(&restarted.db, id).await,
                Some(("success".to_owned(), DEFAULT_TEXT.to_owned())),
                "{backend:?}: the answered generation {id} is stored after the restart"
            );
        }
        assert!(
            !spill_file.exists(),
            "{backend:?}: the spill file was replayed and removed"
        );
        let counted: i64 = Query::new("SELECT total_generations FROM users WHERE id = $1")
            .bind(&user.id)
            .fetch_scalar(&restarted.db)
            .await
            .unwrap();
        assert_eq!(counted, 4, "{backend:?}: each generation is counted once");
        drop(mock);
    }
}

#[tokio::test]
async fn requests_that_need_an_unreachable_database_answer_503_with_retry_after() {
    for backend in backends() {
        let (_mock, app, user) = start(backend, |_| {}).await;
        let key = app
            .call(
                &user,
                Method::POST,
                "/api/users/api-keys",
                Some(json!({"name": "k", "scopes": ["read", "generate"]})),
            )
            .await
            .1["data"]["key"]
            .as_str()
            .unwrap()
            .to_owned();
        app.db.close().await;
        let response = app.user(&user).get("/api/users/profile").await;
        assert_eq!(
            response.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{backend:?}"
        );
        assert_eq!(response.header("retry-after"), "5");
        let body = response.json();
        assert_eq!(body["error"]["code"], "database_unavailable", "{body}");

        let response = app
            .bearer(&key)
            .get("/v1/models/ai21/jamba-large-1.7")
            .await;
        assert_eq!(
            response.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{backend:?}"
        );
        assert!(response.headers.contains_key("retry-after"));
        let body = response.json();
        assert!(body["error"]["type"].is_string(), "OpenAI's shape: {body}");
    }
}
