//! Generations refused before anything runs: the model (unknown, deactivated, deprecated,
//! under maintenance) and the monthly allowance. A refusal is a typed error with its stable
//! code and field, and leaves no row and no upstream request behind.

use aipasta_engine::{Field, GenerationError};
use aipasta_mock::OPENAI_CHAT_PATH;
use aipasta_store::testing::backends;

use crate::support::{CHAT, Harness, prompt};

fn refusal(
    result: Result<std::sync::Arc<aipasta_engine::Live>, GenerationError>,
) -> GenerationError {
    match result {
        Ok(live) => panic!("generation {} started; a refusal was expected", live.id),
        Err(error) => error,
    }
}

#[tokio::test]
async fn models_that_cannot_run_are_refused_by_kind() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        let input = prompt("hello", true);

        let error = refusal(h.start_generation("local/no-such-model", &input).await);
        assert_eq!(
            error,
            GenerationError::ModelNotFound {
                model: "local/no-such-model".into()
            },
            "{backend:?}"
        );
        assert_eq!(
            (error.code(), error.param()),
            ("model_not_found", Some("model"))
        );
        assert_eq!(error.field(), Some(Field::Model));

        let model = || "Test chat-a".to_owned();
        for (status, refused, code) in [
            (
                "maintenance",
                GenerationError::ModelMaintenance { model: model() },
                "model_maintenance",
            ),
            (
                "deprecated",
                GenerationError::ModelUnavailable { model: model() },
                "model_unavailable",
            ),
        ] {
            h.edit_model(
                "UPDATE models SET status = $1 WHERE slug = $2",
                status,
                CHAT,
            )
            .await;
            let error = refusal(h.start_generation(CHAT, &input).await);
            assert_eq!(error, refused, "{backend:?}: {status}");
            assert_eq!((error.code(), error.param()), (code, Some("model")));
        }

        h.edit_model(
            "UPDATE models SET status = $1 WHERE slug = $2",
            "active",
            CHAT,
        )
        .await;
        h.edit_model(
            "UPDATE models SET is_active = $1 WHERE slug = $2",
            false,
            CHAT,
        )
        .await;
        let error = refusal(h.start_generation(CHAT, &input).await);
        assert_eq!(
            error,
            GenerationError::ModelUnavailable {
                model: "Test chat-a".into()
            }
        );

        h.edit_model(
            "UPDATE models SET is_active = $1 WHERE slug = $2",
            true,
            CHAT,
        )
        .await;
        let live = h.start_generation(CHAT, &input).await;
        assert!(live.is_ok(), "{backend:?}: active again: {:?}", live.err());
        crate::support::wait(&live.unwrap()).await;

        assert_eq!(
            h.mock.request_count(OPENAI_CHAT_PATH),
            1,
            "{backend:?}: only the last ran"
        );
        assert_eq!(h.stored_generations().await, 1);
    }
}

#[tokio::test]
async fn the_monthly_limit_counts_what_generations_used_before_the_database_has_it() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        // 3 prompt words and 9 answer words: 12 tokens.
        let (outcome, _) = h.run(CHAT, &prompt("hello there friend", false)).await;
        let used = (outcome.usage.prompt_tokens + outcome.usage.completion_tokens) as i64;
        assert_eq!(used, 12, "{backend:?}");

        let mut user = h.user.clone();
        user.monthly_token_limit = Some(used);
        let error = refusal(
            h.start_as(
                &user,
                CHAT,
                &prompt("more", true),
                aipasta_engine::prepare::Unsupported::Refuse,
            )
            .await,
        );
        assert_eq!(
            error,
            GenerationError::MonthlyLimitReached { used, limit: used },
            "{backend:?}"
        );
        assert_eq!(
            (error.code(), error.param()),
            ("monthly_limit_reached", None)
        );
        assert!(
            error.message().contains("12 of your 12 tokens"),
            "{}",
            error.message()
        );

        user.monthly_token_limit = Some(used + 1);
        let live = h
            .start_as(
                &user,
                CHAT,
                &prompt("more", true),
                aipasta_engine::prepare::Unsupported::Refuse,
            )
            .await;
        assert!(
            live.is_ok(),
            "{backend:?}: one token left is enough to start"
        );
        crate::support::wait(&live.unwrap()).await;
        assert_eq!(h.stored_generations().await, 2);
    }
}
