//! `write_batch`, the recorder's one way into the database, on every backend this run covers:
//! batches of every size (cut into statements of several rows), a generation's start and end in
//! one batch or in two, the counters its end moves, text a database cannot take as is, and a
//! row naming an account or a model that is gone.

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
        let errors: i64 = Query::new("SELECT CAST(SUM(errors) AS BIGINT) FROM usage_daily")
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
