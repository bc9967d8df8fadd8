//! The playground's modes without JavaScript, on both databases: summarisation, translation and
//! embedding models get modes of their own (a summary, a translation into the language asked
//! for, a vector with its size, first values and the whole of it to download), image models
//! show image settings instead of sampling ones, and a value out of range is refused with a
//! 422 naming the field, next to the field, before anything reaches the provider.

use aipasta_mock::{HfTask, MockServer, OPENROUTER_CHAT_PATH, Script, hf_inference_path};
use aipasta_store::Backend;
use aipasta_store::testing::backends;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app_with};
use crate::playground::{MODEL, config, output_of, page, post_form_to, signed_in, start};

/// Adds a Hugging Face model with one capability (a `cap_*` column), served by the mock's
/// inference API as `task`.
pub(crate) async fn add_hf_model(
    app: &TestApp,
    mock: &MockServer,
    slug: &str,
    name: &str,
    capability: &str,
    task: HfTask,
) {
    aipasta_store::Query::new(format!(
        "INSERT INTO models (id, slug, name, display_name, provider, provider_model_id, \
         {capability}, created_at, updated_at) \
         VALUES ($1, $2, $3, $3, 'huggingface', $2, TRUE, 1, 1)"
    ))
    .bind(aipasta_core::id::new_id())
    .bind(slug)
    .bind(name)
    .execute(&app.db)
    .await
    .unwrap();
    app.db.note_catalog_change();
    mock.set_hf_task(slug, task);
}

async fn start_with_task_models(backend: Backend) -> (MockServer, TestApp, TestUser) {
    let mock = MockServer::start(aipasta_mock::MockConfig::default()).await;
    let app = spawn_app_with(backend, config(&mock, true), false).await;
    let user = app.sign_up("Reader", "reader@example.com").await;
    for (slug, name, capability, task) in [
        (
            "mock/summarizer",
            "Summarizer",
            "cap_summarization",
            HfTask::Summarization,
        ),
        (
            "mock/translator",
            "Translator",
            "cap_translation",
            HfTask::Translation,
        ),
        (
            "mock/embedder",
            "Embedder",
            "cap_embedding",
            HfTask::FeatureExtraction,
        ),
        (
            "mock/painter",
            "Painter",
            "cap_image_generation",
            HfTask::TextToImage,
        ),
    ] {
        add_hf_model(&app, &mock, slug, name, capability, task).await;
    }
    (mock, app, user)
}

fn last_request(mock: &MockServer, model: &str) -> Value {
    mock.requests(&hf_inference_path(model))
        .last()
        .unwrap_or_else(|| panic!("{model} was called"))
        .json()
        .unwrap()
}

/// The value of `attribute` on the first tag holding `marker`.
fn attribute<'a>(html: &'a str, marker: &str, attribute: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let tag_start = html[..at].rfind('<').unwrap();
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>').unwrap()];
    tag.split(&format!(" {attribute}=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("{attribute} in {tag}"))
}

/// `%2C`, `%5B`, `%5D` and the like back to their characters.
fn percent_decode(text: &str) -> String {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn summarisation_translation_and_embedding_models_have_modes_of_their_own() {
    for backend in backends() {
        let (mock, app, user) = start_with_task_models(backend).await;
        let client = signed_in(&app, &user).await;

        // Summarise: its own tab and box, no sampling parameters, the summary rendered.
        let (status, html) = page(&client, &app, "/models/mock/summarizer/playground").await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(html.contains(r#"data-mode="summarize""#), "the tab");
        assert!(html.contains(">Text to summarise</label>"));
        assert!(!html.contains(r#"name="temperature""#));
        assert!(!html.contains("pg-system"), "no system prompt");
        mock.push_script(
            &hf_inference_path("mock/summarizer"),
            Script::text("Pasta is *good*."),
        );
        let article = "Pasta is a staple food. It is made from durum wheat. People like it.";
        let (status, answered) = post_form_to(
            &client,
            &app,
            "mock/summarizer",
            &html,
            &[("mode", "summarize"), ("prompt", article)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answered}");
        let area = output_of(&answered);
        assert!(area.contains("Pasta is <em>good</em>."), "{area}");
        assert!(!area.contains("cannot"), "{area}");
        assert_eq!(
            last_request(&mock, "mock/summarizer")["inputs"],
            json!(article)
        );

        // Translate: the target language reaches the provider as `tgt_lang`.
        let (_, html) = page(&client, &app, "/models/mock/translator/playground").await;
        assert!(html.contains(r#"data-mode="translate""#));
        assert!(html.contains(r#"name="targetLanguage""#), "{html}");
        mock.push_script(
            &hf_inference_path("mock/translator"),
            Script::text("Bonjour le monde"),
        );
        let (status, answered) = post_form_to(
            &client,
            &app,
            "mock/translator",
            &html,
            &[
                ("mode", "translate"),
                ("prompt", "Hello world"),
                ("targetLanguage", "fra_Latn"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answered}");
        assert!(output_of(&answered).contains("Bonjour le monde"));
        let sent = last_request(&mock, "mock/translator");
        assert_eq!(sent["inputs"], json!("Hello world"));
        assert_eq!(sent["parameters"]["tgt_lang"], json!("fra_Latn"), "{sent}");

        // Embed: the size, the first values, and the whole vector to download.
        let (_, html) = page(&client, &app, "/models/mock/embedder/playground").await;
        assert!(html.contains(r#"data-mode="embed""#));
        assert!(html.contains("data-whole"), "the script posts the form");
        let (status, answered) = post_form_to(
            &client,
            &app,
            "mock/embedder",
            &html,
            &[("mode", "embed"), ("prompt", "a sentence to embed")],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answered}");
        let area = output_of(&answered);
        assert!(area.contains("8 dimensions"), "{area}");
        let href = attribute(area, "Download the vector", "href");
        let json_text = percent_decode(
            href.strip_prefix("data:application/json;charset=utf-8,")
                .unwrap_or_else(|| panic!("a JSON data link: {href}")),
        );
        let vector: Vec<f64> = serde_json::from_str(&json_text).unwrap();
        assert_eq!(vector.len(), 8);
        assert!(vector.iter().any(|v| *v != 0.0), "{vector:?}");
        assert!(
            area.contains(&format!("{:.4}", vector[0])),
            "the first value is shown: {area}"
        );
        assert!(area.contains(&json_text), "the whole vector, to copy");
        assert_eq!(
            last_request(&mock, "mock/embedder")["inputs"],
            json!("a sentence to embed")
        );
    }
}

#[tokio::test]
async fn image_models_show_image_settings_and_out_of_range_values_are_refused() {
    for backend in backends() {
        let (mock, app, user) = start_with_task_models(backend).await;
        let client = signed_in(&app, &user).await;
        let (_, html) = page(&client, &app, "/models/mock/painter/playground").await;
        for field in ["width", "height", "seed"] {
            assert!(html.contains(&format!(r#"name="{field}""#)), "{field}");
        }
        assert!(html.contains(r#"min="64" max="4096""#), "bounded sizes");
        for field in ["temperature", "topP", "maxTokens", "stop"] {
            assert!(
                !html.contains(&format!(r#"name="{field}""#)),
                "{field} is not an image setting"
            );
        }
        let (status, answered) = post_form_to(
            &client,
            &app,
            "mock/painter",
            &html,
            &[
                ("mode", "image"),
                ("prompt", "pasta"),
                ("width", "512"),
                ("height", "256"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {answered}");
        let sent = last_request(&mock, "mock/painter");
        assert_eq!(sent["parameters"]["width"], json!(512), "{sent}");
        assert_eq!(sent["parameters"]["height"], json!(256));
        assert!(
            answered.contains(r#"id="pg-prompt" name="prompt" rows="5" required"#)
                && answered.contains(" autofocus>"),
            "the message box has the focus after a post"
        );

        let calls = mock.requests(&hf_inference_path("mock/painter")).len();
        let (status, refused) = post_form_to(
            &client,
            &app,
            "mock/painter",
            &html,
            &[("mode", "image"), ("prompt", "pasta"), ("width", "9000")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        let message = "Width must be between 64 and 4096; it was 9000.";
        assert!(
            refused.contains(&format!(
                r#"<small id="param-width-error" class="pg-field-error">{message}</small>"#
            )),
            "next to the field: {refused}"
        );
        assert!(refused.contains(r#"aria-invalid="true""#));
        assert!(refused.contains(r#"value="9000""#), "the value is kept");
        assert_eq!(
            mock.requests(&hf_inference_path("mock/painter")).len(),
            calls,
            "nothing was sent"
        );
    }
}

#[tokio::test]
async fn a_sampling_value_out_of_range_is_refused_before_the_provider() {
    for backend in backends() {
        let (mock, app, user) = start(backend, true).await;
        let client = signed_in(&app, &user).await;
        let (_, html) = page(
            &client,
            &app,
            &format!("/models/{MODEL}/playground?mode=text"),
        )
        .await;
        for (field, value, message) in [
            (
                "temperature",
                "5",
                "Temperature must be between 0 and 2; it was 5.",
            ),
            ("temperature", "warm", "Temperature must be a number"),
            ("topP", "1.5", "Top P must be between 0 and 1; it was 1.5."),
            ("maxTokens", "0", "Max tokens must be "),
            (
                "maxTokens",
                "2.5",
                "Max tokens must be a whole number; it was 2.5.",
            ),
        ] {
            let (status, refused) = post_form_to(
                &client,
                &app,
                MODEL,
                &html,
                &[("mode", "text"), ("prompt", "hi"), (field, value)],
            )
            .await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend:?} {field}={value}"
            );
            let error = refused
                .split(&format!(
                    r#"id="param-{field}-error" class="pg-field-error">"#
                ))
                .nth(1)
                .and_then(|rest| rest.split("</small>").next())
                .unwrap_or_else(|| panic!("{field}'s message in {refused}"));
            assert!(error.starts_with(message), "{error}");
        }
        assert!(
            mock.requests(OPENROUTER_CHAT_PATH).is_empty(),
            "no refused value reached the provider"
        );
        assert!(
            html.contains(r#"name="temperature""#) && html.contains(r#"step="any""#),
            "any value in range is taken"
        );
    }
}
