//! Runs found again, on both databases: the picker and a model's page list the account's recent
//! runs of every mode outside conversations (mode, model, prompt excerpt, time, status); a run's
//! page shows its input and output rendered on the server and runs it again with the same input
//! and parameters; `?run=` fills the form to change it first; another account's run is a 404.

use aipasta_mock::{HfTask, OPENROUTER_CHAT_PATH, Script, hf_inference_path};
use aipasta_store::testing::backends;

use reqwest::StatusCode;
use serde_json::json;

use crate::playground::{MODEL, output_of, page, post_form, post_form_to, signed_in, start};
use crate::playground_modes::add_hf_model;

/// The section of a page holding its "Recent runs" list.
fn runs_of(html: &str) -> &str {
    let Some(start) = html.find(r#"id="pg-runs-title""#) else {
        return "";
    };
    let rest = &html[start..];
    &rest[..rest.find("</section>").expect("end of the runs")]
}

/// The run links of a list, in order.
fn run_links(list: &str) -> Vec<String> {
    list.split(r#"<a href="/playground/runs/"#)
        .skip(1)
        .map(|rest| format!("/playground/runs/{}", rest.split('"').next().unwrap()))
        .collect()
}

/// The hidden fields of the "Run again" form, and where it posts.
fn run_again_form(html: &str) -> (String, Vec<(String, String)>) {
    let at = html.find("Run again</button>").expect("a Run again button");
    let start = html[..at].rfind("<form").unwrap();
    let form = &html[start..at];
    let action = form
        .split(r#"action=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let fields = form
        .split(r#"<input type="hidden" name=""#)
        .skip(1)
        .map(|rest| {
            let name = rest.split('"').next().unwrap().to_owned();
            let value = rest
                .split(r#"value=""#)
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap();
            (name, html_unescape(value))
        })
        .collect();
    (action, fields)
}

fn html_unescape(text: &str) -> String {
    text.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn recent_runs_of_every_mode_are_listed_opened_and_run_again() {
    for backend in backends() {
        let (mock, app, ada) = start(backend, true).await;
        add_hf_model(
            &app,
            &mock,
            "mock/painter",
            "Painter",
            "cap_image_generation",
            HfTask::TextToImage,
        )
        .await;
        let client = signed_in(&app, &ada).await;
        let (_, html) = page(
            &client,
            &app,
            &format!("/models/{MODEL}/playground?mode=text"),
        )
        .await;
        assert!(runs_of(&html).is_empty(), "{backend:?}: no runs yet");

        // A text run (on a chat model: its prompt goes as a message), an image run, a failed
        // code run and a chat turn (listed with the conversations, not here).
        mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::text("A **haiku** about pasta."),
        );
        let (status, _) = post_form(
            &client,
            &app,
            &html,
            &[
                ("mode", "text"),
                ("prompt", "Write a haiku about pasta"),
                ("temperature", "0.3"),
                ("maxTokens", "200"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (_, painter) = page(&client, &app, "/models/mock/painter/playground").await;
        let (status, _) = post_form_to(
            &client,
            &app,
            "mock/painter",
            &painter,
            &[
                ("mode", "image"),
                ("prompt", "A bowl of pasta"),
                ("width", "512"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        mock.push_script(OPENROUTER_CHAT_PATH, Script::status(503));
        post_form(
            &client,
            &app,
            &html,
            &[("mode", "code"), ("prompt", "A function that boils water")],
        )
        .await;
        mock.push_script(OPENROUTER_CHAT_PATH, Script::text("Hello!"));
        post_form(
            &client,
            &app,
            &html,
            &[("mode", "chat"), ("prompt", "A chat message")],
        )
        .await;
        app.state.engine.flush().await;

        // The picker lists every model's runs, newest first, each with mode, model, prompt,
        // time and status.
        let (_, picker) = page(&client, &app, "/playground").await;
        let list = runs_of(&picker);
        let links = run_links(list);
        assert_eq!(links.len(), 3, "{backend:?}: {list}");
        for (text, what) in [
            ("Code</span> A function that boils water", "code run"),
            ("Image</span> A bowl of pasta", "image run"),
            ("Text</span> Write a haiku about pasta", "text run"),
            ("Painter", "model"),
            ("Jamba Large 1.7", "model"),
            ("pg-status-bad\">Failed", "failed status"),
            ("pg-status-ok\">Done", "done status"),
        ] {
            assert!(list.contains(text), "{what}: {list}");
        }
        assert!(
            !list.contains("A chat message"),
            "conversations are listed apart"
        );
        assert!(
            list.find("boils water").unwrap() < list.find("A bowl of pasta").unwrap()
                && list.find("A bowl of pasta").unwrap() < list.find("haiku").unwrap(),
            "newest first"
        );
        assert!(list.contains("<time>20"), "a time: {list}");

        // A model's page lists that model's runs only.
        let (_, model_page) = page(&client, &app, "/models/mock/painter/playground").await;
        let own = run_links(runs_of(&model_page));
        assert_eq!(own.len(), 1);
        assert!(runs_of(&model_page).contains("A bowl of pasta"));

        // The text run's page: input, parameters and output, rendered on the server.
        let text_run = links[2].clone();
        let (status, run_page) = page(&client, &app, &text_run).await;
        assert_eq!(status, StatusCode::OK, "{run_page}");
        assert!(run_page.contains("Text run"));
        assert!(run_page.contains("Write a haiku about pasta"), "the input");
        assert!(
            run_page.contains("A <strong>haiku</strong> about pasta."),
            "the output"
        );
        assert!(
            run_page.contains("<dt>Temperature</dt><dd class=\"mono\">0.3</dd>"),
            "the parameters: {run_page}"
        );
        assert!(run_page.contains("tokens in"), "the usage line");
        let (_, image_page) = page(&client, &app, &links[1]).await;
        assert!(image_page.contains("/image?index=0"), "the image is shown");
        let (_, failed_page) = page(&client, &app, &links[0]).await;
        assert!(
            failed_page.contains(r#"class="pg-error""#),
            "the error is shown"
        );

        // Run again: the same prompt and parameters reach the provider, the answer is shown.
        let (action, fields) = run_again_form(&run_page);
        assert_eq!(action, format!("/models/{MODEL}/playground"));
        let posted: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(name, _)| name != "csrf_token")
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        mock.push_script(OPENROUTER_CHAT_PATH, Script::text("Another haiku."));
        let (status, again) = post_form(&client, &app, &run_page, &posted).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert!(output_of(&again).contains("Another haiku."));
        let sent = mock
            .requests(OPENROUTER_CHAT_PATH)
            .last()
            .unwrap()
            .json()
            .unwrap();
        let messages = sent["messages"].as_array().unwrap();
        assert_eq!(
            messages.last().unwrap()["content"],
            json!("Write a haiku about pasta"),
            "{sent}"
        );
        assert_eq!(sent["temperature"], json!(0.3));
        assert_eq!(sent["max_tokens"], json!(200));

        // The image run again: its size is posted too.
        let (_, fields) = run_again_form(&image_page);
        assert!(
            fields.contains(&("width".to_owned(), "512".to_owned())),
            "{fields:?}"
        );
        assert!(fields.contains(&("mode".to_owned(), "image".to_owned())));
        let before = mock.requests(&hf_inference_path("mock/painter")).len();
        let posted: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(name, _)| name != "csrf_token")
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let (status, _) = post_form_to(&client, &app, "mock/painter", &image_page, &posted).await;
        assert_eq!(status, StatusCode::OK);
        let sent = mock.requests(&hf_inference_path("mock/painter"));
        assert_eq!(sent.len(), before + 1);
        let sent = sent.last().unwrap().json().unwrap();
        assert_eq!(sent["inputs"], json!("A bowl of pasta"));
        assert_eq!(sent["parameters"]["width"], json!(512));

        // "Change and run" fills the form with the run.
        let id = text_run.rsplit('/').next().unwrap();
        let (_, filled) = page(
            &client,
            &app,
            &format!("/models/{MODEL}/playground?run={id}"),
        )
        .await;
        assert!(
            filled.contains(">Write a haiku about pasta</textarea>"),
            "the prompt"
        );
        assert!(
            filled.contains(r#"data-mode="text" aria-current="page""#),
            "the run's mode"
        );
        assert!(
            filled.contains(r#"name="temperature" class="pg-value" type="number" min="0" max="2" step="any" value="0.3""#),
            "the run's temperature"
        );

        // Another account sees neither the run nor the list.
        let eve = app.sign_up("Eve", "eve@example.com").await;
        let eve_client = signed_in(&app, &eve).await;
        let (status, _) = page(&eve_client, &app, &text_run).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another account's run");
        let (status, _) = page(&eve_client, &app, "/playground/runs/not-a-run").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, eve_picker) = page(&eve_client, &app, "/playground").await;
        assert!(runs_of(&eve_picker).is_empty());
        let (_, eve_filled) = page(
            &eve_client,
            &app,
            &format!("/models/{MODEL}/playground?run={id}"),
        )
        .await;
        assert!(
            !eve_filled.contains("Write a haiku"),
            "nor fill a form with it"
        );
        // Signed out, the run's page asks to sign in.
        let anonymous = crate::helpers::BrowserSession::new(&app);
        let response = anonymous.get(&text_run).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER);
    }
}
