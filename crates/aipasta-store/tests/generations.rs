//! `write_batch`, the recorder's one way into the database, on every backend this run covers:
//! batches of every size (cut into statements of several rows), a generation's start and end in
//! one batch or in two, the counters its end moves (per day, account and model), text a
//! database cannot take as is, and a row naming an account or a model that is gone.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly

use aipasta_store::accounts::find_user_by_id;
use aipasta_store::catalog::seed_if_empty;
use aipasta_store::generations::{
    Finished, GenerationRow, GenerationWrite, MissingReferences, find_generation,
    missing_references, tokens_used_since, write_batch,
};
use aipasta_store::testing::{TestDatabase, backends, create_account};
use aipasta_store::{Backend, Db, Query};

const DAY_MS: i64 = 86_400_000;

/// A rollup row (`usage_days` of one source, or `usage_model_days`): day, account, model,
/// generations, errors, prompt and completion tokens, cost, total duration.
type DailyRow = (i64, String, String, i64, i64, i64, i64, i64, i64);

async fn account(db: &Db) -> String {
    create_account(db, "ada@example.com", "user").await.id
}

async fn any_model(db: &Db) -> String {
    seed_if_empty(db).await.unwrap();
    Query::new("SELECT id FROM models ORDER BY id LIMIT 1")
        .fetch_scalar(db)
        .await
        .unwrap()
}

/// Asserts every row reads back exactly as written.
async fn assert_stored(db: &Db, rows: &[GenerationRow], what: &str) {
    for row in rows {
        assert_eq!(
            find_generation(db, &row.id).await.unwrap().as_ref(),
            Some(row),
            "{what}: {}",
            row.id
        );
    }
}

/// A generation as the engine writes it when it starts.
fn pending(n: usize, user_id: &str, model_id: &str) -> GenerationRow {
    let created_at = 20_000 * DAY_MS + n as i64;
    GenerationRow {
        id: format!("gen-{n:04}"),
        user_id: Some(user_id.into()),
        model_id: Some(model_id.into()),
        session_id: n.is_multiple_of(3).then(|| format!("session-{}", n % 7)),
        source: "api".into(),
        mode: ["chat", "text", "code"][n % 3].into(),
        prompt: format!("prompt {n} with 'quotes', \"doubles\" and ünïcödé"),
        system_prompt: n.is_multiple_of(2).then(|| "Be brief.".into()),
        messages: format!(r#"[{{"role":"user","content":"message {n}"}}]"#),
        parameters: r#"{"temperature":0.5}"#.into(),
        output_content: String::new(),
        finish_reason: None,
        prompt_tokens: 0,
        completion_tokens: 0,
        total_tokens: 0,
        duration_ms: None,
        time_to_first_token_ms: None,
        cost_nanos: 0,
        provider: Some("openrouter".into()),
        model_version: None,
        provider_generation_id: None,
        ip_address: Some("203.0.113.7".into()),
        user_agent: Some("tests/1.0".into()),
        status: "pending".into(),
        error_code: None,
        error_message: None,
        error_details: None,
        visibility: "private".into(),
        created_at,
        updated_at: created_at,
    }
}

/// The same generation as the engine writes it when it ends.
fn ended(mut row: GenerationRow, n: usize) -> GenerationRow {
    row.output_content = format!("answer {n}");
    row.finish_reason = Some("stop".into());
    row.prompt_tokens = 10 + n as i64;
    row.completion_tokens = 5;
    row.total_tokens = row.prompt_tokens + 5;
    row.duration_ms = Some(100);
    row.time_to_first_token_ms = Some(40);
    row.cost_nanos = 1_000 * n as i64;
    row.model_version = Some("v1".into());
    row.status = if n % 10 == 9 { "error" } else { "success" }.into();
    row.error_code = (n % 10 == 9).then(|| "upstream_error".into());
    row.updated_at += 100;
    row
}

fn write(row: &GenerationRow, finished: bool) -> GenerationWrite {
    GenerationWrite {
        row: row.clone(),
        finished: finished.then(Finished::default),
    }
}

#[tokio::test]
async fn batches_of_every_size_record_every_row_and_count_it_once() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        let user_id = account(&db).await;
        let model_id = any_model(&db).await;

        // 150 generations: each starts in one batch; the first 100 end in the same batch as
        // they start (two writes of one id in one statement's rows), the rest in a later one.
        let starts: Vec<GenerationRow> =
            (0..150).map(|n| pending(n, &user_id, &model_id)).collect();
        let ends: Vec<GenerationRow> = starts
            .iter()
            .enumerate()
            .map(|(n, row)| ended(row.clone(), n))
            .collect();
        let mut first: Vec<GenerationWrite> = starts.iter().map(|r| write(r, false)).collect();
        first.extend(ends[..100].iter().map(|r| write(r, true)));
        write_batch(&db, &first).await.unwrap();
        let what = format!("{backend:?}: a started generation is stored pending");
        assert_stored(&db, &starts[100..], &what).await;
        let second: Vec<GenerationWrite> = ends[100..].iter().map(|r| write(r, true)).collect();
        write_batch(&db, &second).await.unwrap();

        let what = format!("{backend:?}: every column is the last write");
        assert_stored(&db, &ends, &what).await;
        let rows: i64 = Query::new("SELECT COUNT(*) FROM generations")
            .fetch_scalar(&db)
            .await
            .unwrap();
        assert_eq!(rows, 150, "{backend:?}");

        // Counters move once per ended generation.
        let tokens: i64 = ends
            .iter()
            .map(|r| r.prompt_tokens + r.completion_tokens)
            .sum();
        let cost: i64 = ends.iter().map(|r| r.cost_nanos).sum();
        let user = find_user_by_id(&db, &user_id).await.unwrap().unwrap();
        assert_eq!(user.total_generations, 150, "{backend:?}");
        assert_eq!(user.tokens_used, tokens, "{backend:?}");
        assert_eq!(user.total_cost_nanos, cost, "{backend:?}");
        assert_eq!(
            tokens_used_since(&db, &user_id, 20_000).await.unwrap(),
            tokens,
            "{backend:?}: the daily rollup holds every token"
        );
        let errors: i64 = Query::new("SELECT CAST(SUM(errors) AS BIGINT) FROM usage_days")
            .fetch_scalar(&db)
            .await
            .unwrap();
        assert_eq!(errors, 15, "{backend:?}: one error in ten");
        let model_generations: i64 =
            Query::new("SELECT generation_count FROM models WHERE id = $1")
                .bind(&model_id)
                .fetch_scalar(&db)
                .await
                .unwrap();
        assert_eq!(model_generations, 150, "{backend:?}");
    }
}

/// U+0000 from a client or a model must not fail the batch: the recorder retries a failed batch
/// forever, so one such row would stall every generation queued behind it.
#[tokio::test]
async fn text_with_nul_characters_is_recorded() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        let user_id = account(&db).await;
        let model_id = any_model(&db).await;
        let mut row = ended(pending(1, &user_id, &model_id), 1);
        row.prompt = "before\0after".into();
        row.output_content = "\0".into();
        row.error_message = Some("nul \0 inside".into());
        let neighbour = ended(pending(2, &user_id, &model_id), 2);

        write_batch(&db, &[write(&row, true), write(&neighbour, true)])
            .await
            .unwrap();

        let stored = find_generation(&db, &row.id).await.unwrap().unwrap();
        let expected = |text: &str| match backend {
            // PostgreSQL's text cannot hold U+0000; the replacement character stands in.
            Backend::Postgres => text.replace('\0', "\u{fffd}"),
            Backend::Sqlite => text.to_owned(),
        };
        assert_eq!(stored.prompt, expected("before\0after"), "{backend:?}");
        assert_eq!(stored.output_content, expected("\0"), "{backend:?}");
        assert_eq!(
            stored.error_message.as_deref(),
            Some(expected("nul \0 inside").as_str()),
            "{backend:?}"
        );
        let what = format!("{backend:?}: the rest of the batch is written too");
        assert_stored(&db, &[neighbour], &what).await;
    }
}

/// A batch of long inputs is written in several statements (PostgreSQL's are cut at about 4 MB
/// of text); every row arrives whole whatever the cut.
#[tokio::test]
async fn a_batch_of_long_prompts_is_written_whole() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        let user_id = account(&db).await;
        let model_id = any_model(&db).await;
        let rows: Vec<GenerationRow> = (0..5)
            .map(|n| {
                let mut row = ended(pending(n, &user_id, &model_id), n);
                row.prompt = format!("{n}").repeat(1_500_000);
                row
            })
            .collect();
        let writes: Vec<GenerationWrite> = rows.iter().map(|r| write(r, true)).collect();
        write_batch(&db, &writes).await.unwrap();
        assert_stored(&db, &rows, &format!("{backend:?}: arrives whole")).await;
    }
}

/// A row naming an account or a model deleted while its generation ran is rejected for good
/// (the recorder must not retry it forever), and `missing_references` says which one is gone.
#[tokio::test]
async fn a_row_naming_a_deleted_account_or_model_is_a_rejection() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        let user_id = account(&db).await;
        let model_id = any_model(&db).await;
        let intact = ended(pending(1, &user_id, &model_id), 1);
        assert_eq!(
            missing_references(&db, &intact).await.unwrap(),
            MissingReferences::default(),
            "{backend:?}"
        );

        let mut no_model = ended(pending(2, &user_id, &model_id), 2);
        no_model.model_id = Some("a-model-that-was-deleted".into());
        let mut no_account = ended(pending(3, &user_id, &model_id), 3);
        no_account.user_id = Some("an-account-that-was-deleted".into());
        for (row, expected) in [
            (
                &no_model,
                MissingReferences {
                    account: false,
                    model: true,
                },
            ),
            (
                &no_account,
                MissingReferences {
                    account: true,
                    model: false,
                },
            ),
        ] {
            let error = write_batch(&db, &[write(row, true)]).await.unwrap_err();
            assert!(error.is_rejection(), "{backend:?}: {error}");
            assert!(error.is_foreign_key_violation(), "{backend:?}: {error}");
            assert_eq!(
                missing_references(&db, row).await.unwrap(),
                expected,
                "{backend:?}"
            );
        }
        // Nothing of a rejected batch is written, the intact row included.
        let error = write_batch(&db, &[write(&intact, true), write(&no_model, true)])
            .await
            .unwrap_err();
        assert!(error.is_rejection(), "{backend:?}: {error}");
        assert!(
            find_generation(&db, &intact.id).await.unwrap().is_none(),
            "{backend:?}"
        );
        let user = find_user_by_id(&db, &user_id).await.unwrap().unwrap();
        assert_eq!(user.total_generations, 0, "{backend:?}: no counter moved");
    }
}

/// The counters a batch moves, with two accounts, two models and two days in one batch: each
/// daily rollup, each account's totals and each model's count and moving averages come out as
/// summed by hand, with and without an image (stored in the same transaction) in the batch.
#[tokio::test]
async fn a_batch_moves_each_rollup_account_and_model_by_its_own_generations() {
    for backend in backends() {
        for with_image in [false, true] {
            let what = format!("{backend:?}, with an image: {with_image}");
            let (_guard, db) = TestDatabase::migrated(backend).await;
            seed_if_empty(&db).await.unwrap();
            let ada = create_account(&db, "ada@example.com", "user").await.id;
            let bob = create_account(&db, "bob@example.com", "user").await.id;
            let models: Vec<(String,)> = Query::new("SELECT id FROM models ORDER BY id LIMIT 2")
                .fetch_all(&db)
                .await
                .unwrap();
            let (m1, m2) = (models[0].0.clone(), models[1].0.clone());
            // A known past for the moving averages of m1; m2 has none yet.
            Query::new(
                "UPDATE models SET average_latency_ms = 1000, success_rate = 100.0, \
                 generation_count = 7 WHERE id = $1",
            )
            .bind(&m1)
            .execute(&db)
            .await
            .unwrap();
            Query::new(
                "UPDATE models SET average_latency_ms = NULL, success_rate = NULL, \
                 generation_count = 0 WHERE id = $1",
            )
            .bind(&m2)
            .execute(&db)
            .await
            .unwrap();

            // (account, model, day offset, status, duration, prompt, completion, cost)
            let plan = [
                (&ada, &m1, 0, "success", 200, 10, 20, 1_000),
                (&ada, &m1, 0, "success", 400, 1, 2, 3),
                (&ada, &m1, 1, "error", 50, 5, 0, 0),
                (&ada, &m2, 0, "cancelled", 70, 3, 4, 5),
                (&bob, &m1, 0, "timeout", 900, 6, 0, 7),
                (&bob, &m2, 1, "success", 300, 8, 9, 11),
            ];
            let mut writes = Vec::new();
            let mut rows = Vec::new();
            for (n, (user, model, day, status, duration, prompt, completion, cost)) in
                plan.iter().enumerate()
            {
                let mut row = ended(pending(n, user, model), n);
                row.created_at = (20_000 + day) * DAY_MS + n as i64;
                row.updated_at = row.created_at + 500;
                row.status = (*status).into();
                row.duration_ms = Some(*duration);
                row.prompt_tokens = *prompt;
                row.completion_tokens = *completion;
                row.total_tokens = prompt + completion;
                row.cost_nanos = *cost;
                // Ada's second run of m1 on day 0 comes through /v1: a rollup row of its own
                // by source, summed with the first by model.
                if n == 1 {
                    row.source = "v1".into();
                }
                let images = if with_image && n == 5 {
                    vec![("image/png".to_owned(), vec![1, 2, 3])]
                } else {
                    Vec::new()
                };
                writes.push(write(&pending(n, user, model), false));
                writes.push(GenerationWrite {
                    row: row.clone(),
                    finished: Some(Finished { images }),
                });
                rows.push(row);
            }
            write_batch(&db, &writes).await.unwrap();
            assert_stored(&db, &rows, &what).await;

            let rollup = |table: &'static str| {
                let db = db.clone();
                async move {
                    let mut rows: Vec<DailyRow> = Query::new(format!(
                        "SELECT day, user_id, model_id, generations, errors, prompt_tokens, \
                         completion_tokens, cost_nanos, total_duration_ms FROM {table}"
                    ))
                    .fetch_all(&db)
                    .await
                    .unwrap();
                    rows.sort();
                    rows
                }
            };
            let mut by_model = vec![
                (20_000, ada.clone(), m1.clone(), 2, 0, 11, 22, 1_003, 600),
                (20_001, ada.clone(), m1.clone(), 1, 1, 5, 0, 0, 50),
                (20_000, ada.clone(), m2.clone(), 1, 0, 3, 4, 5, 70),
                (20_000, bob.clone(), m1.clone(), 1, 1, 6, 0, 7, 900),
                (20_001, bob.clone(), m2.clone(), 1, 0, 8, 9, 11, 300),
            ];
            by_model.sort();
            assert_eq!(
                rollup("usage_model_days").await,
                by_model,
                "{what}: daily rollups by model"
            );
            let mut by_source = vec![
                (20_000, ada.clone(), m1.clone(), 1, 0, 10, 20, 1_000, 200),
                (20_000, ada.clone(), m1.clone(), 1, 0, 1, 2, 3, 400),
                (20_001, ada.clone(), m1.clone(), 1, 1, 5, 0, 0, 50),
                (20_000, ada.clone(), m2.clone(), 1, 0, 3, 4, 5, 70),
                (20_000, bob.clone(), m1.clone(), 1, 1, 6, 0, 7, 900),
                (20_001, bob.clone(), m2.clone(), 1, 0, 8, 9, 11, 300),
            ];
            by_source.sort();
            assert_eq!(
                rollup("usage_days").await,
                by_source,
                "{what}: daily rollups by model and source"
            );

            let ada_row = find_user_by_id(&db, &ada).await.unwrap().unwrap();
            assert_eq!(
                (
                    ada_row.total_generations,
                    ada_row.tokens_used,
                    ada_row.total_cost_nanos,
                    ada_row.last_generation_at
                ),
                (4, 45, 1_008, Some(rows[2].updated_at)),
                "{what}: Ada's totals"
            );
            let bob_row = find_user_by_id(&db, &bob).await.unwrap().unwrap();
            assert_eq!(
                (
                    bob_row.total_generations,
                    bob_row.tokens_used,
                    bob_row.total_cost_nanos,
                    bob_row.last_generation_at
                ),
                (2, 23, 18, Some(rows[5].updated_at)),
                "{what}: Bob's totals"
            );

            let traffic = |id: &str| {
                Query::new(
                    "SELECT generation_count, average_latency_ms, success_rate FROM models \
                     WHERE id = $1",
                )
                .bind(id)
                .fetch_one::<(i64, Option<i64>, Option<f64>)>(&db)
            };
            // m1: 7 before, 4 now; 2 successes (mean 300 ms) among 4 judged generations.
            let (count, latency, rate) = traffic(&m1).await.unwrap();
            assert_eq!(count, 11, "{what}");
            let keep2 = 0.95_f64.powi(2);
            let keep4 = 0.95_f64.powi(4);
            assert_eq!(
                latency,
                Some((1000.0 * keep2 + 300.0 * (1.0 - keep2)).round() as i64),
                "{what}: m1's latency"
            );
            let rate = rate.unwrap();
            // Percentages: 100 before, 50 in this batch.
            let expected_rate = 100.0 * keep4 + 50.0 * (1.0 - keep4);
            assert!(
                (rate - expected_rate).abs() < 1e-9,
                "{what}: m1's rate {rate}"
            );
            // m2: no past; one cancelled (says nothing of the rate) and one success of 300 ms.
            assert_eq!(
                traffic(&m2).await.unwrap(),
                (2, Some(300), Some(100.0)),
                "{what}: m2"
            );
        }
    }
}
