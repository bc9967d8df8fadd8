//! The playground in headless Chromium against the mock provider: a streamed answer with its
//! usage line, Stop keeping the partial answer, regenerate, hostile output rendered inert, image
//! mode, and a phone-sized screen. Skipped unless `AIPASTA_BROWSER_TESTS=1` (CI sets it).

use std::time::Duration;

use aipasta_mock::{HOSTILE_HTML, MockConfig, MockServer, OPENROUTER_CHAT_PATH, Script};
use aipasta_web::WebConfig;

use serde_json::json;

use crate::helpers::{TestApp, mock_provider_config, spawn_app_with};
use crate::webdriver::Browser;

pub(crate) const MODEL: &str = "ai21/jamba-large-1.7";

pub(crate) fn config(mock: &MockServer) -> WebConfig {
    let mut config = mock_provider_config(mock);
    config.engine.timeouts.first_token = Duration::from_secs(5);
    config.engine.timeouts.between_tokens = Duration::from_secs(5);
    config.engine.timeouts.total = Duration::from_secs(60);
    config.engine.max_attempts = 1;
    config
}

pub(crate) async fn sign_up(browser: &Browser, app: &TestApp) {
    sign_up_as(
        browser,
        app,
        "Tess",
        "tess@example.com",
        "pasta al dente 42",
    )
    .await;
}

/// Signs up through the form in `browser` and waits for the settings page it lands on.
pub(crate) async fn sign_up_as(
    browser: &Browser,
    app: &TestApp,
    name: &str,
    email: &str,
    password: &str,
) {
    browser.goto(&app.url("/auth/signup")).await;
    browser.type_text(&browser.find("#name").await, name).await;
    browser
        .type_text(&browser.find("#email").await, email)
        .await;
    browser
        .type_text(&browser.find("#password").await, password)
        .await;
    browser
        .click(&browser.find("button[type=submit].button-primary").await)
        .await;
    browser
        .wait_for("return location.pathname === '/dashboard/settings'", 10)
        .await;
}

/// Ctrl+Enter in the prompt box (WebDriver key codes: Control, Enter, release all).
pub(crate) const CTRL_ENTER: &str = "\u{E009}\u{E007}\u{E000}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playground_streams_stops_regenerates_and_stays_inert() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let mock = MockServer::start(MockConfig::default()).await;
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config(&mock), true).await;
    sign_up(&browser, &app).await;

    // The picker searches as you type.
    browser.goto(&app.url("/playground")).await;
    browser
        .type_text(&browser.find("#pg-search").await, "jamba")
        .await;
    browser
        .wait_for(
            "const l = [...document.querySelectorAll('#pg-models .pg-model a')]; \
             return location.search.includes('q=jamba') && l.length > 0 && l.length < 10 \
               && l.some((a) => a.getAttribute('href') === '/models/ai21/jamba-large-1.7/playground')",
            10,
        )
        .await;
    browser
        .goto(&app.url(&format!("/models/{MODEL}/playground?mode=chat")))
        .await;
    browser
        .wait_for(
            "return document.querySelector('[data-slider-for]')?.hidden === false",
            5,
        )
        .await;

    // Send with Ctrl+Enter; the answer streams in and the usage line follows.
    mock.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("Streaming **works** here.").chunk_delay(Duration::from_millis(30)),
    );
    let prompt = browser.find("#pg-prompt").await;
    browser.type_text(&prompt, "Hello there").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "return document.querySelector('.pg-turn-assistant strong')?.textContent === 'works'",
            10,
        )
        .await;
    browser
        .wait_for(
            "return document.querySelector('.pg-turn-assistant .pg-stats')?.textContent.includes('tokens in')",
            5,
        )
        .await;
    let sent = mock
        .requests(OPENROUTER_CHAT_PATH)
        .last()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(sent["messages"][0]["content"], json!("Hello there"));

    // A slow answer, stopped: the partial text stays, marked stopped.
    mock.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("one two three four five six seven eight nine ten eleven twelve")
            .chunks(12)
            .chunk_delay(Duration::from_millis(400)),
    );
    browser.type_text(&prompt, "Count slowly").await;
    browser.click(&browser.find("#pg-send").await).await;
    browser
        .wait_for(
            "const t = document.querySelectorAll('.pg-turn-assistant'); return t.length === 2 && t[1].textContent.includes('two')",
            10,
        )
        .await;
    browser.click(&browser.find("#pg-stop").await).await;
    browser
        .wait_for(
            "return document.querySelectorAll('.pg-turn-assistant')[1].querySelector('.pg-stats')?.textContent.startsWith('Stopped')",
            10,
        )
        .await;
    let kept = browser
        .eval("return document.querySelectorAll('.pg-turn-assistant')[1].dataset.raw")
        .await;
    let kept = kept.as_str().unwrap();
    assert!(kept.starts_with("one two"), "partial text kept: {kept}");
    assert!(!kept.contains("twelve"), "stopped before the end: {kept}");

    // Regenerate the last answer: the conversation is resent without it.
    mock.push_script(OPENROUTER_CHAT_PATH, Script::text("A fresh answer."));
    browser.click(&browser.find("#pg-regenerate").await).await;
    browser
        .wait_for(
            "const t = document.querySelectorAll('.pg-turn-assistant'); return t.length === 2 && t[1].textContent.includes('A fresh answer.')",
            10,
        )
        .await;
    let sent = mock
        .requests(OPENROUTER_CHAT_PATH)
        .last()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(sent["messages"].as_array().unwrap().len(), 3, "{sent}");

    // A preset sets the parameters; the last message is edited and sent again.
    browser
        .eval(
            "const s = document.getElementById('pg-preset'); s.value = 'builtin:precise'; \
             s.dispatchEvent(new Event('change'));",
        )
        .await;
    mock.push_script(OPENROUTER_CHAT_PATH, Script::text("Edited answer."));
    browser.click(&browser.find("#pg-edit").await).await;
    browser
        .wait_for(
            "return document.getElementById('pg-prompt').value === 'Count slowly'",
            5,
        )
        .await;
    browser
        .eval("document.getElementById('pg-prompt').value = ''")
        .await;
    browser.type_text(&prompt, "Count quickly").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "const t = document.querySelectorAll('.pg-turn-assistant'); return t.length === 2 && t[1].querySelector('.pg-stats') && t[1].textContent.includes('Edited answer.')",
            10,
        )
        .await;
    let sent = mock
        .requests(OPENROUTER_CHAT_PATH)
        .last()
        .unwrap()
        .json()
        .unwrap();
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{sent}");
    assert_eq!(messages[2]["content"], json!("Count quickly"));
    assert_eq!(sent["temperature"], json!(0.2), "the preset: {sent}");
    assert_eq!(sent["top_p"], json!(0.9), "the preset: {sent}");

    // Hostile output renders inert: no script runs, no dangerous element survives.
    mock.push_script(OPENROUTER_CHAT_PATH, Script::text(HOSTILE_HTML));
    browser
        .eval("window.__xss = 0; window.alert = () => { window.__xss += 1; };")
        .await;
    browser.type_text(&prompt, "Be evil").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "const t = document.querySelectorAll('.pg-turn-assistant'); return t.length === 3 && t[2].querySelector('.pg-stats')",
            10,
        )
        .await;
    let dangerous = browser
        .eval(
            "const a = document.querySelectorAll('.pg-turn-assistant')[2]; \
             return a.querySelectorAll('script, iframe, object, embed, svg, form, [onerror], [onload], [onmouseover], a[href^=\"javascript\"], img[src^=\"javascript\"]').length",
        )
        .await;
    assert_eq!(dangerous, json!(0));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        browser.eval("return window.__xss").await,
        json!(0),
        "no script ran"
    );

    // Reloading mid-answer reattaches: the answer continues and finishes.
    mock.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("alpha beta gamma delta epsilon zeta eta theta")
            .chunks(8)
            .chunk_delay(Duration::from_millis(300)),
    );
    browser.type_text(&prompt, "Keep going").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "const t = document.querySelectorAll('.pg-turn-assistant'); return t.length === 4 && t[3].textContent.includes('beta')",
            10,
        )
        .await;
    browser.refresh().await;
    browser
        .wait_for(
            "const t = [...document.querySelectorAll('.pg-turn')]; const a = t[t.length - 1]; \
             return a.dataset.role === 'assistant' && a.querySelector('.pg-stats') && a.dataset.raw.includes('theta')",
            15,
        )
        .await;
    let before = browser
        .eval(
            "const t = [...document.querySelectorAll('.pg-turn')]; return t[t.length - 2].dataset.raw",
        )
        .await;
    assert_eq!(before, json!("Keep going"));

    // A phone-sized screen: no sideways scrolling.
    browser.set_window_size(360, 800).await;
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "horizontal overflow {overflow}"
    );

    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_mode_shows_the_image_with_a_download_link() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let mock = MockServer::start(MockConfig::default()).await;
    let config = config(&mock);
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config, false).await;
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
    sign_up(&browser, &app).await;

    browser
        .goto(&app.url("/models/mock/painter/playground?mode=image"))
        .await;
    let prompt = browser.find("#pg-prompt").await;
    browser.type_text(&prompt, "a bowl of pasta").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    // The picture is really shown (decoded, not a broken image) and can be downloaded.
    browser
        .wait_for(
            "const img = document.querySelector('.pg-image img'); \
             return !!img && img.complete && img.naturalWidth > 0",
            15,
        )
        .await;
    let link = browser
        .eval("const a = document.querySelector('.pg-image a[download]'); return a && a.getAttribute('href')")
        .await;
    assert!(
        link.as_str()
            .is_some_and(|href| href.starts_with("/api/generations/") && href.contains("/image")),
        "download link: {link}"
    );
    let sent = mock.requests(&aipasta_mock::hf_inference_path("mock/painter"));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].json().unwrap()["inputs"], json!("a bowl of pasta"));
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}
