//! The catalog's and the playground's pages when a database read fails, on both databases. Each
//! test breaks one read for real (its table renamed away, or one row the read returns made
//! unreadable) and checks what the page says: a side section shows a notice in place of its
//! list, and a page whose main content cannot be read is the HTML error page with 503. None of
//! them shows an empty section as if there were nothing to list.

use aipasta_store::testing::backends;
use aipasta_store::{Backend, Query};

use reqwest::{Method, StatusCode};

use crate::helpers::{TestApp, TestUser, spawn_seeded_app};

/// A seeded model with related models in its category, and sampling parameters (presets).
const MODEL: &str = "ai21/jamba-large-1.7";
/// Any well-formed conversation or run id: the read fails before it could find anything.
const SOME_ID: &str = "0193c0de-0000-7000-8000-000000000000";

/// Renames `table` away, so that every read of it fails as it would on a broken database.
async fn hide_table(app: &TestApp, table: &str) {
    Query::new(format!("ALTER TABLE {table} RENAME TO {table}_hidden"))
        .execute(&app.db)
        .await
        .unwrap_or_else(|e| panic!("hide {table}: {e}"));
}

/// The notice a section shows in place of its list.
fn notice(text: &str) -> String {
    format!(r#"<p class="notice notice-warn" role="note">{text}</p>"#)
}

async fn page_as(app: &TestApp, user: &TestUser, path: &str) -> (StatusCode, String) {
    let response = app.as_user(user, Method::GET, path).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn page(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = app.get(path).await;
    (response.status(), response.text().await.unwrap())
}

/// The HTML error page, as a 503: the page cannot be shown right now.
async fn assert_unavailable(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/html"),
        "{what}: {content_type}"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("Something went wrong"), "{what}: {html}");
}

#[tokio::test]
async fn a_model_page_whose_tags_cannot_be_read_says_so() {
    for backend in backends() {
        let app = spawn_seeded_app(backend).await;
        hide_table(&app, "model_tags").await;

        let (status, html) = page(&app, &format!("/models/{MODEL}")).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend:?}: the model is still shown"
        );
        assert!(html.contains("Jamba Large 1.7"), "{backend:?}");
        assert!(
            html.contains(&notice(
                "This model's tags could not be loaded right now. Reload the page to try again."
            )),
            "{backend:?}: {html}"
        );
        assert!(
            html.contains("Related models"),
            "{backend:?}: the rest stays"
        );
    }
}

/// Makes one row of `models` fail to decode when read, leaving every other row readable: text
/// that is not UTF-8 on SQLite, a null name on PostgreSQL (whose text is always UTF-8).
async fn make_model_unreadable(app: &TestApp, backend: Backend, id: &str) {
    let unreadable = match backend {
        Backend::Sqlite => "UPDATE models SET display_name = CAST(X'FF' AS TEXT) WHERE id = $1",
        Backend::Postgres => {
            Query::new("ALTER TABLE models ALTER COLUMN display_name DROP NOT NULL")
                .execute(&app.db)
                .await
                .unwrap();
            "UPDATE models SET display_name = NULL WHERE id = $1"
        }
    };
    Query::new(unreadable)
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_model_page_whose_related_models_cannot_be_read_says_so() {
    for backend in backends() {
        let app = spawn_seeded_app(backend).await;
        let model = aipasta_store::catalog::find_model(&app.db, MODEL)
            .await
            .unwrap()
            .expect("the seeded model");
        let related = aipasta_store::catalog::related_models(&app.db, &model, 4)
            .await
            .unwrap();
        assert!(
            !related.is_empty(),
            "{backend:?}: the model has related ones"
        );
        make_model_unreadable(&app, backend, &related[0].id).await;

        let (status, html) = page(&app, &format!("/models/{MODEL}")).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend:?}: the model is still shown"
        );
        assert!(html.contains("Jamba Large 1.7"), "{backend:?}");
        assert!(
            html.contains(&notice(
                "Related models could not be loaded right now. Reload the page to try again."
            )),
            "{backend:?}: {html}"
        );
    }
}

#[tokio::test]
async fn catalog_pages_whose_categories_cannot_be_read_are_a_503_or_say_so() {
    for backend in backends() {
        let app = spawn_seeded_app(backend).await;
        // The listing's index is built while the categories can still be read.
        assert_eq!(page(&app, "/models").await.0, StatusCode::OK);
        hide_table(&app, "categories").await;

        // A category or a model's page cannot be told apart without the categories.
        assert_unavailable(app.get(&format!("/models/{MODEL}")).await, "model page").await;

        // A refused listing reads them for its filters: the page still explains the refusal,
        // and says the category list is missing rather than offering only "All categories".
        let (status, html) = page(&app, "/models?sort=vibes").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}");
        assert!(
            html.contains("`sort` must be one of"),
            "{backend:?}: {html}"
        );
        assert!(
            html.contains(&notice(
                "The list of categories could not be loaded right now. Reload the page to try again."
            )),
            "{backend:?}: {html}"
        );
        assert!(
            html.contains(r#"<option value="openrouter">OpenRouter</option>"#),
            "{backend:?}: the providers are still offered"
        );
    }
}

#[tokio::test]
async fn a_listing_whose_providers_cannot_be_read_says_so() {
    for backend in backends() {
        let app = spawn_seeded_app(backend).await;
        // The provider list comes from the listing's index: rebuilt on the next query, over a
        // table that is gone.
        hide_table(&app, "models").await;
        app.db.note_catalog_change();

        let (status, html) = page(&app, "/models?sort=vibes").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}");
        assert!(
            html.contains(&notice(
                "The list of providers could not be loaded right now. Reload the page to try again."
            )),
            "{backend:?}: {html}"
        );
        assert!(
            !html.contains("The list of categories"),
            "{backend:?}: the categories were read"
        );
    }
}

/// A seeded app, a signed-up account, and the listing's index built (so that breaking a table
/// the catalog does not list from leaves the model lists working).
async fn signed_up(backend: Backend) -> (TestApp, TestUser) {
    let app = spawn_seeded_app(backend).await;
    let user = app.sign_up("Reader", "reader@example.com").await;
    assert_eq!(page_as(&app, &user, "/playground").await.0, StatusCode::OK);
    (app, user)
}

#[tokio::test]
async fn the_picker_says_which_of_the_account_s_lists_cannot_be_read() {
    for backend in backends() {
        let (app, user) = signed_up(backend).await;
        hide_table(&app, "generations").await;

        let (status, html) = page_as(&app, &user, "/playground").await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend:?}: the models are still listed"
        );
        let models = &html[html.find(r#"id="pg-models""#).expect("the model list")..];
        assert!(models.contains(r#"/playground">"#), "{backend:?}: {models}");
        for text in [
            "Your recently used models could not be loaded right now. Reload the page to try again.",
            "Recent runs could not be loaded right now. Reload the page to try again.",
            "Your conversations could not be loaded right now. Reload the page to try again.",
        ] {
            assert!(html.contains(&notice(text)), "{backend:?}: {text}\n{html}");
        }

        // Reopening a conversation that cannot be read is no picker passing for it.
        let response = app
            .as_user(
                &user,
                Method::GET,
                &format!("/playground?session={SOME_ID}"),
            )
            .send()
            .await
            .unwrap();
        assert_unavailable(response, "reopened conversation").await;
    }
}

#[tokio::test]
async fn a_model_s_playground_says_its_runs_and_conversations_cannot_be_read() {
    for backend in backends() {
        let (app, user) = signed_up(backend).await;
        hide_table(&app, "generations").await;

        let (status, html) = page_as(
            &app,
            &user,
            &format!("/models/{MODEL}/playground?mode=text"),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend:?}: the form is still shown"
        );
        assert!(html.contains(r#"id="pg-form""#), "{backend:?}");
        for text in [
            "Recent runs could not be loaded right now. Reload the page to try again.",
            "Your conversations could not be loaded right now. Reload the page to try again.",
        ] {
            assert!(html.contains(&notice(text)), "{backend:?}: {text}\n{html}");
        }

        // A new chat has nothing to read; a named conversation or run that cannot be read is a
        // 503, not an empty form passing for it.
        let fresh = format!("/models/{MODEL}/playground?mode=chat");
        assert_eq!(page_as(&app, &user, &fresh).await.0, StatusCode::OK);
        for path in [
            format!("/models/{MODEL}/playground?mode=chat&session={SOME_ID}"),
            format!("/models/{MODEL}/playground?run={SOME_ID}"),
        ] {
            let response = app.as_user(&user, Method::GET, &path).send().await.unwrap();
            assert_unavailable(response, &path).await;
        }
    }
}

#[tokio::test]
async fn a_message_to_a_conversation_that_cannot_be_read_is_not_sent_and_kept() {
    for backend in backends() {
        let (app, user) = signed_up(backend).await;
        hide_table(&app, "generations").await;

        let response = app
            .as_user(&user, Method::POST, &format!("/models/{MODEL}/playground"))
            .form(&[
                ("mode", "chat"),
                ("session", SOME_ID),
                ("prompt", "And what about the sauce?"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{backend:?}"
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains(
                "This conversation could not be loaded right now, so nothing was sent. Try again in a moment."
            ),
            "{backend:?}: {html}"
        );
        assert!(
            html.contains(">And what about the sauce?</textarea>"),
            "{backend:?}: the message is kept to send again"
        );
    }
}

#[tokio::test]
async fn saved_presets_that_cannot_be_read_leave_the_built_in_ones_and_a_notice() {
    for backend in backends() {
        let (app, user) = signed_up(backend).await;
        hide_table(&app, "parameter_presets").await;

        let (status, html) = page_as(
            &app,
            &user,
            &format!("/models/{MODEL}/playground?mode=chat"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(
            html.contains(r#"<p class="notice notice-warn small" role="note">Your saved presets could not be loaded right now. Reload the page to try again.</p>"#),
            "{backend:?}: {html}"
        );
        assert!(
            html.contains(r#"value="builtin:balanced""#),
            "{backend:?}: the built-in presets still work"
        );
    }
}

#[tokio::test]
async fn a_run_whose_model_cannot_be_read_is_a_503_not_a_page_without_run_again() {
    use aipasta_mock::{MockConfig, MockServer};
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let app = crate::helpers::spawn_app_with(
            backend,
            crate::helpers::mock_provider_config(&mock),
            true,
        )
        .await;
        let user = app.sign_up("Reader", "reader@example.com").await;
        let (status, answer) = app
            .call(
                &user,
                Method::POST,
                "/api/ai/generate",
                Some(serde_json::json!({"model": MODEL, "prompt": "Hi"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {answer}");
        let run = format!(
            "/playground/runs/{}",
            answer["data"]["id"].as_str().unwrap()
        );
        let (status, html) = page_as(&app, &user, &run).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(html.contains("Run again"), "{backend:?}: {html}");

        let model = aipasta_store::catalog::find_model(&app.db, MODEL)
            .await
            .unwrap()
            .expect("the seeded model");
        make_model_unreadable(&app, backend, &model.id).await;
        let response = app.as_user(&user, Method::GET, &run).send().await.unwrap();
        assert_unavailable(response, "a run whose model cannot be read").await;
    }
}
