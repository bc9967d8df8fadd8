//! `recent_runs` on every backend this run covers: an account's own playground runs outside
//! conversations, newest first, of every model or of one, with a prompt excerpt also for runs
//! whose prompt went as a message.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly

use aipasta_store::catalog::seed_if_empty;
use aipasta_store::generations::{
    Finished, GenerationRow, GenerationWrite, RUN_EXCERPT_CHARS, recent_runs, write_batch,
};
use aipasta_store::testing::{TestDatabase, backends, create_account};
use aipasta_store::{Db, Query};

async fn two_models(db: &Db) -> (String, String, String) {
    seed_if_empty(db).await.unwrap();
    let rows: Vec<(String, String)> =
        Query::new("SELECT id, display_name FROM models ORDER BY id LIMIT 2")
            .fetch_all(db)
            .await
            .unwrap();
    (rows[0].0.clone(), rows[1].0.clone(), rows[0].1.clone())
}

struct Run<'a> {
    n: i64,
    user: &'a str,
    model: &'a str,
    source: &'a str,
    session: Option<&'a str>,
    prompt: &'a str,
    messages: &'a str,
    mode: &'a str,
    status: &'a str,
}

fn row(run: &Run<'_>) -> GenerationWrite {
    let created_at = 1_700_000_000_000 + run.n * 1_000;
    GenerationWrite {
        row: GenerationRow {
            id: format!("run-{:03}", run.n),
            user_id: Some(run.user.to_owned()),
            model_id: Some(run.model.to_owned()),
            session_id: run.session.map(str::to_owned),
            source: run.source.to_owned(),
            prompt: run.prompt.to_owned(),
            messages: run.messages.to_owned(),
            parameters: format!(r#"{{"temperature":0.3,"mode":"{}"}}"#, run.mode),
            output_content: "an answer".into(),
            status: run.status.to_owned(),
            visibility: "private".into(),
            created_at,
            updated_at: created_at,
            ..GenerationRow::default()
        },
        finished: (run.status != "pending").then(Finished::default),
    }
}

#[tokio::test]
async fn recent_runs_are_the_accounts_own_playground_runs_outside_conversations() {
    for backend in backends() {
        let (_database, db) = TestDatabase::migrated(backend).await;
        let ada = create_account(&db, "ada@example.com", "user").await.id;
        let eve = create_account(&db, "eve@example.com", "user").await.id;
        let (first_model, second_model, first_name) = two_models(&db).await;
        let long = format!("{} and then some", "é".repeat(RUN_EXCERPT_CHARS as usize));
        let base = Run {
            n: 0,
            user: &ada,
            model: &first_model,
            source: "playground",
            session: None,
            prompt: "Write a haiku",
            messages: "[]",
            mode: "text",
            status: "success",
        };
        let runs = [
            Run { n: 1, ..base },
            // Text on a chat model: the prompt went as a message and `prompt` is empty.
            Run {
                n: 2,
                prompt: "",
                messages: r#"[{"role":"system","content":"Be brief."},{"role":"user","content":"Sent as a message"}]"#,
                ..base
            },
            Run {
                n: 3,
                model: &second_model,
                mode: "image",
                prompt: "A bowl of pasta",
                ..base
            },
            // Not runs of this list: a conversation's turn, an API call, another account's.
            Run {
                n: 4,
                session: Some("0193c0de-0000-7000-8000-000000000001"),
                prompt: "A chat turn",
                ..base
            },
            Run {
                n: 5,
                source: "api",
                prompt: "An API call",
                ..base
            },
            Run {
                n: 6,
                user: &eve,
                prompt: "Eve's run",
                ..base
            },
            Run {
                n: 7,
                prompt: &long,
                status: "error",
                mode: "summarize",
                ..base
            },
            Run {
                n: 8,
                prompt: "Still going",
                status: "pending",
                ..base
            },
        ];
        let writes: Vec<GenerationWrite> = runs.iter().map(row).collect();
        write_batch(&db, &writes).await.unwrap();

        let all = recent_runs(&db, &ada, None, 10).await.unwrap();
        let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            ["run-008", "run-007", "run-003", "run-002", "run-001"],
            "{backend:?}: newest first, only Ada's playground runs outside conversations"
        );
        let by_id = |id: &str| all.iter().find(|r| r.id == id).unwrap();
        assert_eq!(by_id("run-001").prompt_excerpt, "Write a haiku");
        assert_eq!(
            by_id("run-001").model_name.as_deref(),
            Some(first_name.as_str())
        );
        assert!(by_id("run-001").model_slug.is_some());
        assert_eq!(by_id("run-002").prompt_excerpt, "Sent as a message");
        assert_eq!(
            by_id("run-007").prompt_excerpt,
            "é".repeat(RUN_EXCERPT_CHARS as usize),
            "cut by characters, not bytes"
        );
        assert_eq!(by_id("run-007").status, "error");
        assert!(
            by_id("run-007")
                .parameters
                .contains(r#""mode":"summarize""#)
        );
        assert_eq!(by_id("run-008").status, "pending");

        let two = recent_runs(&db, &ada, None, 2).await.unwrap();
        assert_eq!(two.len(), 2, "limited");
        let of_second = recent_runs(&db, &ada, Some(&second_model), 10)
            .await
            .unwrap();
        assert_eq!(
            of_second.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["run-003"],
            "one model's runs"
        );
        let of_eve = recent_runs(&db, &eve, None, 10).await.unwrap();
        assert_eq!(of_eve.len(), 1);
        assert!(
            recent_runs(&db, "nobody", None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
