//! A conversation read whole, on every backend this run covers: one account's turns of one
//! session, oldest first, each with the message it asked (its prompt, or its last message) and
//! its answer; other sessions and other accounts' rows are left out.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly

use aipasta_store::catalog::seed_if_empty;
use aipasta_store::generations::{
    Finished, GenerationRow, GenerationWrite, session_generations, write_batch,
};
use aipasta_store::testing::{TestDatabase, backends, create_account};
use aipasta_store::{Db, Query};

fn turn(
    id: &str,
    user: &str,
    model: &str,
    session: &str,
    messages: &[&str],
    created_at: i64,
) -> GenerationRow {
    let messages: Vec<serde_json::Value> = messages
        .iter()
        .enumerate()
        .map(|(i, content)| {
            let role = if i % 2 == 0 { "user" } else { "assistant" };
            serde_json::json!({ "role": role, "content": content })
        })
        .collect();
    GenerationRow {
        id: id.into(),
        user_id: Some(user.into()),
        model_id: Some(model.into()),
        session_id: Some(session.into()),
        source: "playground".into(),
        mode: "chat".into(),
        system_prompt: Some("Be brief.".into()),
        messages: serde_json::Value::Array(messages).to_string(),
        parameters: "{}".into(),
        output_content: format!("Answer of {id}"),
        status: "success".into(),
        visibility: "private".into(),
        created_at,
        updated_at: created_at,
        ..GenerationRow::default()
    }
}

async fn write(db: &Db, rows: Vec<GenerationRow>) {
    let writes: Vec<GenerationWrite> = rows
        .into_iter()
        .map(|row| GenerationWrite {
            row,
            finished: Some(Finished::default()),
        })
        .collect();
    write_batch(db, &writes).await.unwrap();
}

#[tokio::test]
async fn a_conversation_reads_as_its_turns_oldest_first() {
    for backend in backends() {
        let (_database, db) = TestDatabase::migrated(backend).await;
        seed_if_empty(&db).await.unwrap();
        let model: String = Query::new("SELECT id FROM models ORDER BY id LIMIT 1")
            .fetch_scalar(&db)
            .await
            .unwrap();
        let ada = create_account(&db, "ada@example.com", "user").await.id;
        let eve = create_account(&db, "eve@example.com", "user").await.id;
        // Written newest first and in two batches: the order comes from the times.
        write(
            &db,
            vec![
                turn(
                    "turn-3",
                    &ada,
                    &model,
                    "s1",
                    &[
                        "Hello",
                        "Answer of turn-1",
                        "More?",
                        "Answer of turn-2",
                        "Last one",
                    ],
                    3_000,
                ),
                turn("other-session", &ada, &model, "s2", &["Elsewhere"], 2_500),
                turn("eve-turn", &eve, &model, "s1", &["Eve in s1"], 2_000),
            ],
        )
        .await;
        let mut first = turn("turn-1", &ada, &model, "s1", &["Hello"], 1_000);
        first.status = "error".into();
        first.error_message = Some("It broke.".into());
        let mut second = turn(
            "turn-2",
            &ada,
            &model,
            "s1",
            &["Hello", "Answer of turn-1", "More?"],
            2_000,
        );
        // A turn that went as a prompt, not as messages.
        second.messages = "[]".into();
        second.prompt = "More?".into();
        write(&db, vec![second, first]).await;

        let turns = session_generations(&db, &ada, "s1", 100).await.unwrap();
        let seen: Vec<(&str, &str, &str)> = turns
            .iter()
            .map(|t| (t.id.as_str(), t.asked.as_str(), t.output_content.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("turn-1", "Hello", "Answer of turn-1"),
                ("turn-2", "More?", "Answer of turn-2"),
                ("turn-3", "Last one", "Answer of turn-3"),
            ],
            "{backend:?}"
        );
        assert_eq!(turns[0].status, "error");
        assert_eq!(turns[0].error_message.as_deref(), Some("It broke."));
        assert_eq!(turns[1].model_id.as_deref(), Some(model.as_str()));
        assert_eq!(turns[2].created_at, 3_000);

        // The limit keeps the oldest; another account and an unknown session see nothing.
        let two = session_generations(&db, &ada, "s1", 2).await.unwrap();
        assert_eq!(
            two.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
            ["turn-1", "turn-2"]
        );
        let eves = session_generations(&db, &eve, "s1", 100).await.unwrap();
        assert_eq!(
            eves.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
            ["eve-turn"]
        );
        assert!(
            session_generations(&db, &eve, "s2", 100)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            session_generations(&db, &ada, "nope", 100)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
