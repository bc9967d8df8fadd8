//! What the engine caches (model rows, the default monthly limit and each account's usage)
//! is read again at once after [`Engine::changed`]; without the call the cached value stands
//! until it expires (seconds for models, a minute for limits), which these tests run within.
//!
//! [`Engine::changed`]: aipasta_engine::Engine::changed

use aipasta_core::catalog::ModelStatus;
use aipasta_engine::{Change, GenerationError};
use aipasta_store::accounts::{MONTHLY_TOKEN_LIMIT_KEY, set_setting};
use aipasta_store::catalog::{AdminEdit, admin_edit, find_model};
use aipasta_store::testing::backends;

use crate::support::{CHAT, Harness, prompt, wait};

async fn set_status(h: &Harness, status: ModelStatus) {
    let id = find_model(&h.db, CHAT).await.unwrap().unwrap().id;
    let edit = AdminEdit {
        status: Some(status),
        ..AdminEdit::default()
    };
    assert!(admin_edit(&h.db, &id, &edit).await.unwrap());
}

#[tokio::test]
async fn a_model_edit_takes_effect_once_the_catalog_is_said_to_have_changed() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        let input = prompt("hello", false);
        let (outcome, _) = h.run(CHAT, &input).await;
        assert_eq!(outcome.status, "success", "{backend:?}");

        set_status(&h, ModelStatus::Maintenance).await;
        let live = h.start_generation(CHAT, &input).await;
        assert!(
            live.is_ok(),
            "{backend:?}: the cached row still says active"
        );
        wait(&live.unwrap()).await;
        h.engine.changed(Change::Catalog);
        let error = h.start_generation(CHAT, &input).await.err();
        assert_eq!(
            error,
            Some(GenerationError::ModelMaintenance {
                model: "Test chat-a".into()
            }),
            "{backend:?}"
        );

        set_status(&h, ModelStatus::Active).await;
        let error = h.start_generation(CHAT, &input).await.err();
        assert_eq!(
            error.map(|e| e.code()),
            Some("model_maintenance"),
            "{backend:?}: cached"
        );
        h.engine.changed(Change::Catalog);
        let live = h.start_generation(CHAT, &input).await;
        assert!(live.is_ok(), "{backend:?}: {:?}", live.err());
        wait(&live.unwrap()).await;
    }
}

#[tokio::test]
async fn a_new_default_monthly_limit_takes_effect_once_limits_are_said_to_have_changed() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        // 3 prompt words and 9 answer words: 12 tokens each.
        let input = prompt("hello there friend", false);
        let (outcome, _) = h.run(CHAT, &input).await;
        assert_eq!(outcome.status, "success", "{backend:?}");
        assert_eq!(
            h.user.monthly_token_limit, None,
            "the account follows the default"
        );

        set_setting(
            &h.db,
            MONTHLY_TOKEN_LIMIT_KEY,
            "20",
            "number",
            "ai",
            "Tokens an account may use per month unless an admin set its own limit",
            None,
        )
        .await
        .unwrap();
        // The cached default (10,000) still applies: 12 used, so this one starts.
        let (outcome, _) = h.run(CHAT, &input).await;
        assert_eq!(
            outcome.status, "success",
            "{backend:?}: the cached limit applied"
        );

        h.engine.changed(Change::Limits);
        let error = h.start_generation(CHAT, &input).await.err();
        // Usage is read again too, from the rollups the two generations' rows added to.
        assert_eq!(
            error,
            Some(GenerationError::MonthlyLimitReached {
                used: 24,
                limit: 20
            }),
            "{backend:?}"
        );
    }
}
