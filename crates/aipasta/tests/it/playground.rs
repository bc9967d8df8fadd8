//! The playground on both databases: the pages without JavaScript (a form that posts and shows
//! the answer rendered on the server, inert whatever the model wrote), a provider without a key,
//! presets, conversations reopened from the list, and page weight.

use std::time::{Duration, Instant};

use aipasta_mock::{HOSTILE_HTML, MockConfig, MockServer, OPENROUTER_CHAT_PATH, Script};
use aipasta_store::Backend;
use aipasta_store::testing::backends;
use aipasta_web::WebConfig;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    BrowserSession, Reply, TestApp, TestUser, browser_client, csrf_from, mock_provider_config,
    spawn_app_with,
};

/// A seeded OpenRouter model that takes max_tokens, stop, temperature and top_p.
pub(crate) const MODEL: &str = "ai21/jamba-large-1.7";

pub(crate) fn config(mock: &MockServer, key: bool) -> WebConfig {
    let mut config = mock_provider_config(mock);
    if !key {
        config.engine.providers.openrouter_api_key = None;
    }
    config.engine.max_attempts = 1;
    config
}

pub(crate) async fn start(backend: Backend, key: bool) -> (MockServer, TestApp, TestUser) {
    let mock = MockServer::start(MockConfig::default()).await;
    let app = spawn_app_with(backend, config(&mock, key), true).await;
    let user = app.sign_up("Player", "player@example.com").await;
    (mock, app, user)
}

/// A browser-like client signed in as `user` with a session cookie.
pub(crate) async fn signed_in(app: &TestApp, user: &TestUser) -> reqwest::Client {
    let browser = BrowserSession::new(app);
    let response = browser.sign_in(user, Some("/playground")).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    browser.client
}

pub(crate) async fn page(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
) -> (StatusCode, String) {
    let response = Reply::read(client.get(app.url(path))).await;
    (response.status, response.text())
}

/// The chat playground of [`MODEL`] as `client` sees it, and the new conversation's session id
/// its form carries.
pub(crate) async fn chat_page(client: &reqwest::Client, app: &TestApp) -> (String, String) {
    let (_, html) = page(
        client,
        app,
        &format!("/models/{MODEL}/playground?mode=chat"),
    )
    .await;
    let session = html
        .split(r#"name="session" value=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a session id in the form")
        .to_owned();
    (html, session)
}

/// The HTML of the conversation/answer area.
pub(crate) fn output_of(html: &str) -> &str {
    let start = html.find(r#"id="output""#).expect("output area");
    let rest = &html[start..];
    let end = rest.find("</section>").expect("end of output");
    &rest[..end]
}

/// Every tag in `html`, e.g. `<img src="x">`.
fn tags(html: &str) -> Vec<&str> {
    html.split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or(""))
        .collect()
}

/// `html` without the values of `data-raw` attributes (the escaped source text the script
/// sends back in the next turn: an attribute value, never markup).
fn without_raw(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find(r#"data-raw=""#) {
        out.push_str(&rest[..start]);
        let value = &rest[start + 10..];
        let end = value.find('"').expect("closed attribute");
        assert!(!value[..end].contains('<'), "raw text is escaped");
        rest = &value[end + 1..];
    }
    out.push_str(rest);
    out
}

fn assert_inert(area: &str) {
    let lower = without_raw(area).to_lowercase();
    assert!(!lower.contains("<script"), "a script tag: {area}");
    for tag in tags(&lower) {
        for bad in [
            "onerror",
            "onload",
            "onmouseover",
            "javascript:",
            "data:text",
        ] {
            assert!(!tag.contains(bad), "{bad} in a tag: <{tag}>");
        }
        for element in ["iframe", "object", "embed", "svg", "form", "input", "style"] {
            assert!(
                !tag.starts_with(element) && !tag.starts_with(&format!("/{element}")),
                "<{tag}> survived"
            );
        }
    }
}

pub(crate) async fn post_form(
    client: &reqwest::Client,
    app: &TestApp,
    html: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    post_form_to(client, app, MODEL, html, fields).await
}

pub(crate) async fn post_form_to(
    client: &reqwest::Client,
    app: &TestApp,
    model: &str,
    html: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let csrf = csrf_from(html);
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    let response = Reply::read(
        client
            .post(app.url(&format!("/models/{model}/playground")))
            .form(&form),
    )
    .await;
    (response.status, response.text())
}

#[tokio::test]
async fn the_form_runs_a_model_without_javascript_and_renders_output_inert() {
    for backend in backends() {
        let (mock, app, user) = start(backend, true).await;
        let anonymous = browser_client();
        let (status, html) = page(&anonymous, &app, &format!("/models/{MODEL}/playground")).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(html.contains("Sign in to run models"), "{backend:?}");
        assert!(html.contains(r#"id="pg-send" type="submit" disabled"#));
        // Only what the model supports: temperature and top_p, max tokens, stop; no top_k.
        assert!(html.contains(r#"name="temperature""#));
        assert!(html.contains(r#"name="topP""#));
        assert!(html.contains(r#"name="maxTokens""#));
        assert!(html.contains(r#"name="stop""#));
        assert!(!html.contains(r#"name="topK""#));
        assert!(html.contains("/api/ai/generate") && html.contains("/v1/chat/completions"));

        let client = signed_in(&app, &user).await;
        let (status, html) = page(
            &client,
            &app,
            &format!("/models/{MODEL}/playground?mode=text"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains("Sign in to run models"));
        assert!(
            html.contains(r#"id="pg-send" type="submit">"#),
            "Send enabled"
        );

        mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::text("**Bold** answer with `code`."),
        );
        let (status, answered) = post_form(
            &client,
            &app,
            &html,
            &[
                ("mode", "text"),
                ("prompt", "Say something"),
                ("temperature", "0.3"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {answered}");
        let area = output_of(&answered);
        assert!(area.contains("<strong>Bold</strong>"), "{area}");
        assert!(area.contains("<code>code</code>"));
        assert!(area.contains("tokens in"), "the usage line: {area}");
        assert!(area.contains("first token"));
        let sent = mock
            .requests(OPENROUTER_CHAT_PATH)
            .last()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(
            sent["temperature"],
            json!(0.3),
            "the parameter reached the provider"
        );

        mock.push_script(OPENROUTER_CHAT_PATH, Script::text(HOSTILE_HTML));
        let (status, hostile) = post_form(
            &client,
            &app,
            &html,
            &[("mode", "text"), ("prompt", "Be evil")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let area = output_of(&hostile);
        assert!(area.contains("Here is your answer"), "{area}");
        assert_inert(area);

        // An upstream failure shows inline with a Retry button.
        mock.push_script(OPENROUTER_CHAT_PATH, Script::status(503));
        let (_, failed) = post_form(
            &client,
            &app,
            &html,
            &[("mode", "text"), ("prompt", "Again")],
        )
        .await;
        let area = output_of(&failed);
        assert!(area.contains(r#"class="pg-error""#), "{area}");
        assert!(area.contains("Retry"));
        assert!(
            failed.contains(">Again</textarea>"),
            "the prompt is kept for the retry"
        );

        // No CSRF token, no generation.
        // Built by hand: the missing token is what is tested.
        let forged = Reply::read(
            client
                .post(app.url(&format!("/models/{MODEL}/playground")))
                .form(&[("prompt", "x")]),
        )
        .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn a_provider_without_a_key_is_named_and_send_is_disabled() {
    for backend in backends() {
        let (_mock, app, user) = start(backend, false).await;
        let client = signed_in(&app, &user).await;
        let (status, html) = page(&client, &app, &format!("/models/{MODEL}/playground")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("pg-unavailable"), "{backend:?}");
        assert!(
            html.contains("no OpenRouter API key is configured"),
            "{html}"
        );
        assert!(html.contains(r#"href="/dashboard/settings""#));
        assert!(html.contains(r#"id="pg-send" type="submit" disabled"#));
        let (status, _) = post_form(&client, &app, &html, &[("prompt", "hi")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn the_picker_searches_and_lists_recent_models_first() {
    for backend in backends() {
        let (_mock, app, user) = start(backend, true).await;
        let client = signed_in(&app, &user).await;
        let (status, html) = page(&client, &app, "/playground?q=jamba").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(&format!("/models/{MODEL}/playground")),
            "{backend:?}"
        );
        assert!(
            html.contains("/ 1M") || html.contains("1M"),
            "prices per million"
        );

        let (status, _) = generate(&app, &user, json!({"model": MODEL, "prompt": "hi"})).await;
        assert_eq!(status, StatusCode::OK);
        app.state.engine.flush().await;
        let (_, html) = page(&client, &app, "/playground").await;
        let recent = html.find("Recently used").expect("recent section");
        let first = html.find(&format!("/models/{MODEL}/playground")).unwrap();
        assert!(first > recent, "the recent model is listed in its section");
        let (_, model_page) = page(&client, &app, &format!("/models/{MODEL}")).await;
        assert!(
            model_page.contains(&format!("href=\"/models/{MODEL}/playground\"")),
            "Open in playground"
        );
    }
}

pub(crate) async fn generate(app: &TestApp, user: &TestUser, body: Value) -> (StatusCode, Value) {
    let reply = app.user(user).post("/api/ai/generate", body).await;
    (reply.status, reply.json())
}

#[tokio::test]
async fn presets_are_created_listed_renamed_deleted_and_private() {
    for backend in backends() {
        let (_mock, app, ada) = start(backend, true).await;
        let eve = app.sign_up("Eve", "eve@example.com").await;
        let create = async |user: &TestUser, body: Value| {
            app.user(user).post("/api/users/presets", body).await
        };
        let response = create(
            &ada,
            json!({"name": "Focused", "parameters": {"temperature": 0.2, "topP": 0.9}, "systemPrompt": "Be brief."}),
        )
        .await;
        assert_eq!(response.status, StatusCode::CREATED, "{backend:?}");
        let created = response.json();
        let id = created["data"]["id"].as_str().unwrap().to_owned();
        assert_eq!(created["data"]["parameters"]["temperature"], json!(0.2));

        for (body, what) in [
            (json!({"name": ""}), "empty name"),
            (
                json!({"name": "x", "parameters": {"warmth": 1}}),
                "unknown parameter",
            ),
            (
                json!({"name": "x", "parameters": {"temperature": "hot"}}),
                "bad value",
            ),
            (json!({"name": "x", "parameters": [1]}), "not an object"),
        ] {
            let response = create(&ada, body).await;
            assert_eq!(response.status, StatusCode::BAD_REQUEST, "{what}");
            let body = response.json();
            assert!(!body["error"]["message"].as_str().unwrap().is_empty());
        }
        let duplicate = create(&ada, json!({"name": "Focused"})).await;
        assert_eq!(duplicate.status, StatusCode::CONFLICT);

        let (_, list) = list_presets(&app, &ada).await;
        assert_eq!(list["data"].as_array().unwrap().len(), 1);
        let (_, theirs) = list_presets(&app, &eve).await;
        assert_eq!(theirs["data"].as_array().unwrap().len(), 0, "private");

        let path = format!("/api/users/presets/{id}");
        let renamed = app.user(&ada).put(&path, json!({"name": "Sharp"})).await;
        assert_eq!(renamed.status, StatusCode::OK);
        let renamed = renamed.json();
        assert_eq!(renamed["data"]["name"], "Sharp");
        assert_eq!(renamed["data"]["parameters"]["topP"], json!(0.9), "kept");

        for method in [Method::PUT, Method::DELETE] {
            let response = app
                .user(&eve)
                .send(method.clone(), &path, Some(json!({"name": "Mine now"})))
                .await;
            assert_eq!(
                response.status,
                StatusCode::NOT_FOUND,
                "{method} by another account"
            );
        }
        let deleted = app.user(&ada).delete(&path).await;
        assert_eq!(deleted.status, StatusCode::OK);
        let again = app.user(&ada).delete(&path).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);

        // The page offers built-in presets and the account's own.
        create(
            &ada,
            json!({"name": "Mine", "parameters": {"temperature": 0.5}}),
        )
        .await;
        let client = signed_in(&app, &ada).await;
        let (_, html) = page(&client, &app, &format!("/models/{MODEL}/playground")).await;
        for name in ["Precise", "Balanced", "Creative", "Mine"] {
            assert!(html.contains(&format!(">{name}</option>")), "{name}");
        }
    }
}

async fn list_presets(app: &TestApp, user: &TestUser) -> (StatusCode, Value) {
    let reply = app.user(user).get("/api/users/presets").await;
    (reply.status, reply.json())
}

#[tokio::test]
async fn a_two_turn_conversation_reopens_from_the_list_rendered_on_the_server() {
    for backend in backends() {
        let (mock, app, user) = start(backend, true).await;
        let client = signed_in(&app, &user).await;
        let (html, session) = chat_page(&client, &app).await;
        mock.push_script(OPENROUTER_CHAT_PATH, Script::text("First *answer*."));
        let (status, first) = post_form(
            &client,
            &app,
            &html,
            &[
                ("mode", "chat"),
                ("session", &session),
                ("prompt", "First question"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        app.state.engine.flush().await;
        mock.push_script(OPENROUTER_CHAT_PATH, Script::text("Second **answer**."));
        let (status, _) = post_form(
            &client,
            &app,
            &first,
            &[
                ("mode", "chat"),
                ("session", &session),
                ("prompt", "Second question"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        app.state.engine.flush().await;
        let sent = mock
            .requests(OPENROUTER_CHAT_PATH)
            .last()
            .unwrap()
            .json()
            .unwrap();
        let messages = sent["messages"].as_array().unwrap();
        assert_eq!(
            messages.len(),
            3,
            "the second turn carries the first: {sent}"
        );
        assert_eq!(messages[1]["content"], "First *answer*.");

        let (_, list) = page(&client, &app, "/playground").await;
        let link = format!("/playground?session={session}");
        assert!(list.contains(&link), "the conversation is listed");
        assert!(list.contains("First question"));
        let reopened = Reply::read(client.get(app.url(&link))).await;
        assert_eq!(reopened.status, StatusCode::SEE_OTHER);
        let location = reopened.header("location").to_owned();
        let (_, html) = page(&client, &app, &location).await;
        let area = output_of(&html);
        for text in [
            "First question",
            "First <em>answer</em>.",
            "Second question",
            "Second <strong>answer</strong>.",
        ] {
            assert!(area.contains(text), "{text} in {area}");
        }
        // Another account cannot open it.
        let eve = app.sign_up("Eve", "eve@example.com").await;
        let eve_client = signed_in(&app, &eve).await;
        let (_, theirs) = page(&eve_client, &app, &location).await;
        assert!(!output_of(&theirs).contains("First question"));
    }
}

#[tokio::test]
async fn a_500_message_conversation_opens_fast_and_the_page_stays_light() {
    for backend in backends() {
        let (_mock, app, user) = start(backend, true).await;
        let session = "0193c0de-0000-7000-8000-000000000500";
        let messages: Vec<Value> = (0..499)
            .map(|i| {
                let role = if i % 2 == 0 { "user" } else { "assistant" };
                json!({"role": role, "content": format!("Message number {i} with *a little* markdown.")})
            })
            .collect();
        let (status, body) = generate(
            &app,
            &user,
            json!({"model": MODEL, "messages": messages, "sessionId": session, "mode": "chat"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        app.state.engine.flush().await;
        let client = signed_in(&app, &user).await;
        let started = Instant::now();
        let (status, html) = page(
            &client,
            &app,
            &format!("/models/{MODEL}/playground?mode=chat&session={session}"),
        )
        .await;
        let took = started.elapsed();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            html.matches(r#"<li class="pg-turn "#).count(),
            500,
            "{backend:?}"
        );
        assert!(took < Duration::from_secs(3), "{took:?}");
        assert!(html.len() < 400_000, "{} bytes", html.len());

        // Page weight: HTML, CSS and JavaScript of an empty playground, as sent compressed
        // (this client does not decompress, so the bytes counted are the bytes sent).
        let (_, empty) = page(&client, &app, &format!("/models/{MODEL}/playground")).await;
        let gzipped = |url: String| {
            let client = client.clone();
            async move {
                // Built by hand: the accepted encoding is what is measured.
                let response =
                    Reply::read(client.get(url.clone()).header("accept-encoding", "gzip")).await;
                assert_eq!(response.status, StatusCode::OK, "{url}");
                let encoding = response
                    .headers
                    .get("content-encoding")
                    .map(|v| v.to_str().unwrap().to_owned());
                assert!(!response.body.is_empty(), "{url}");
                (encoding, response.body.len())
            }
        };
        let (encoding, mut compressed) =
            gzipped(app.url(&format!("/models/{MODEL}/playground"))).await;
        assert_eq!(encoding.as_deref(), Some("gzip"));
        let mut uncompressed = empty.len();
        for asset in ["app.css", "app.js", "playground.js"] {
            let marker = format!("/{asset}\"");
            let end = empty
                .find(&marker)
                .unwrap_or_else(|| panic!("{asset} linked"));
            let start = empty[..end].rfind("\"/static/").unwrap() + 1;
            let url = &empty[start..end + asset.len() + 1];
            let (encoding, size) = gzipped(app.url(url)).await;
            assert_eq!(encoding.as_deref(), Some("gzip"), "{url}");
            compressed += size;
            uncompressed += Reply::read(client.get(app.url(url))).await.body.len();
        }
        assert!(
            compressed < 100_000,
            "the playground weighs {compressed} bytes compressed (goal: under 100 KB)"
        );
        assert!(
            uncompressed < 300_000,
            "the playground weighs {uncompressed} bytes uncompressed"
        );
    }
}

#[tokio::test]
async fn image_mode_shows_each_image_with_a_download_link() {
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let config = config(&mock, true);
        let app = spawn_app_with(backend, config, false).await;
        let user = app.sign_up("Painter", "painter@example.com").await;
        aipasta_store::Query::new(
            "INSERT INTO models (id, slug, name, display_name, provider, provider_model_id, \
             cap_image_generation, created_at, updated_at) \
             VALUES ($1, 'mock/painter', 'Painter', 'Painter', 'huggingface', 'mock/painter', TRUE, 1, 1)",
        )
        .bind(aipasta_core::id::new_id())
        .execute(&app.db)
        .await
        .unwrap();
        app.db.note_catalog_change();
        mock.set_hf_task("mock/painter", aipasta_mock::HfTask::TextToImage);
        let client = signed_in(&app, &user).await;
        let (status, html) = page(&client, &app, "/models/mock/painter/playground").await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(html.contains(r#"data-mode="image""#), "the image tab");
        let (status, answered) = post_form_to(
            &client,
            &app,
            "mock/painter",
            &html,
            &[("mode", "image"), ("prompt", "a bowl of pasta")],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answered}");
        let area = output_of(&answered);
        let src = area
            .split(r#"<img src=""#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("an image in {area}"))
            .to_owned();
        assert!(src.ends_with("/image?index=0"), "{src}");
        assert!(area.contains("download>Download image 1</a>"), "{area}");
        let image = Reply::read(client.get(app.url(&src))).await;
        assert_eq!(image.status, StatusCode::OK);
        assert_eq!(image.header("content-type"), "image/png");
    }
}
