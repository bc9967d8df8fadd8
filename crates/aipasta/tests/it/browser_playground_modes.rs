//! The playground in headless Chromium, as a person meets it: Stop, Regenerate and "Edit last
//! message" shown exactly when they can act, Rename and Delete only for one's own presets, a
//! parameter out of range caught before sending, the focus back in the message box; answers
//! rendered as Markdown while they stream (never model text as HTML), tables styled and
//! scrolling inside the answer, in the dark theme and at 390 px too; summarise, translate and
//! embed modes; image settings. Skipped unless `AIPASTA_BROWSER_TESTS=1` (CI sets it).

use std::time::Duration;

use aipasta_mock::{
    HOSTILE_HTML, HfTask, MockConfig, MockServer, OPENROUTER_CHAT_PATH, Script, hf_inference_path,
};

use serde_json::json;

use crate::browser_playground::{CTRL_ENTER, MODEL, config, sign_up};
use crate::helpers::{TestApp, spawn_app_with};
use crate::playground_modes::add_hf_model;
use crate::webdriver::Browser;

/// Which of Stop, Regenerate and "Edit last message" a person can see, in that order.
const SHOWN: &str = "const shown = (id) => { const e = document.getElementById(id); \
     return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'; }; ";

async fn buttons(browser: &Browser) -> serde_json::Value {
    browser
        .eval(&format!(
            "{SHOWN} return [shown('pg-stop'), shown('pg-regenerate'), shown('pg-edit')];"
        ))
        .await
}

/// Waits until the buttons are as expected.
async fn wait_for_buttons(browser: &Browser, stop: bool, regenerate: bool, edit: bool, what: &str) {
    let script = format!(
        "{SHOWN} return shown('pg-stop') === {stop} && shown('pg-regenerate') === {regenerate} \
         && shown('pg-edit') === {edit};"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while browser.eval(&script).await != json!(true) {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: Stop, Regenerate, Edit shown as {}, expected [{stop}, {regenerate}, {edit}]",
            buttons(browser).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A mock, the app, an account signed in in `browser`, and the chat playground open with its
/// script running (the sliders it reveals are shown).
async fn signed_in_chat(browser: &Browser) -> (MockServer, TestApp) {
    let mock = MockServer::start(MockConfig::default()).await;
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config(&mock), true).await;
    sign_up(browser, &app).await;
    browser
        .goto(&app.url(&format!("/models/{MODEL}/playground?mode=chat")))
        .await;
    browser
        .wait_for(
            "return document.querySelector('[data-slider-for]')?.hidden === false",
            5,
        )
        .await;
    (mock, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_show_only_when_they_can_act_and_bad_values_stay_in_the_form() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (mock, _app) = signed_in_chat(&browser).await;
    wait_for_buttons(&browser, false, false, false, "before sending").await;

    // While an answer streams: Stop only; the focus is back in the message box.
    mock.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("one two three four five six seven eight")
            .chunks(8)
            .chunk_delay(Duration::from_millis(250)),
    );
    let prompt = browser.find("#pg-prompt").await;
    browser.type_text(&prompt, "Count").await;
    browser.click(&browser.find("#pg-send").await).await;
    browser
        .wait_for(
            "return document.querySelector('.pg-turn-assistant')?.dataset.raw?.includes('one')",
            10,
        )
        .await;
    wait_for_buttons(&browser, true, false, false, "while streaming").await;
    assert_eq!(
        browser
            .eval("return document.activeElement && document.activeElement.id")
            .await,
        json!("pg-prompt"),
        "the focus returns to the message box after sending"
    );

    // After the answer: Regenerate and Edit.
    browser
        .wait_for(
            "return !!document.querySelector('.pg-turn-assistant .pg-stats')",
            10,
        )
        .await;
    wait_for_buttons(&browser, false, true, true, "after an answer").await;

    // After an error: Edit (the error's Retry regenerates).
    mock.push_script(OPENROUTER_CHAT_PATH, Script::status(503));
    browser.type_text(&prompt, "Fail now").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "const t = [...document.querySelectorAll('.pg-turn')]; return t.length === 4 && !!t[3].querySelector('.pg-error')",
            10,
        )
        .await;
    wait_for_buttons(&browser, false, false, true, "after an error").await;
    browser.click(&browser.find("#pg-edit").await).await;
    browser
        .wait_for(
            "return document.getElementById('pg-prompt').value === 'Fail now' && document.querySelectorAll('.pg-turn').length === 2",
            5,
        )
        .await;
    wait_for_buttons(&browser, false, true, true, "after editing").await;

    // A value out of range stays in the form: its message beside it, nothing sent.
    let sent_before = mock.requests(OPENROUTER_CHAT_PATH).len();
    let temperature = browser.find("#param-temperature").await;
    browser
        .eval("document.getElementById('param-temperature').value = ''")
        .await;
    browser.type_text(&temperature, "5").await;
    browser.click(&browser.find("#pg-send").await).await;
    browser
        .wait_for(
            "const e = document.getElementById('param-temperature-error'); \
             return e && !e.hidden && e.getClientRects().length > 0 \
               && e.textContent === 'Temperature must be between 0 and 2.'",
            5,
        )
        .await;
    assert_eq!(
        browser.eval("return document.activeElement.id").await,
        json!("param-temperature"),
        "the field to fix has the focus"
    );
    assert_eq!(
        browser
            .eval(
                "return document.getElementById('param-temperature').getAttribute('aria-invalid')"
            )
            .await,
        json!("true")
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        mock.requests(OPENROUTER_CHAT_PATH).len(),
        sent_before,
        "nothing was sent"
    );
    browser
        .eval("document.getElementById('param-temperature').value = ''")
        .await;
    browser.type_text(&temperature, "0.5").await;
    mock.push_script(OPENROUTER_CHAT_PATH, Script::text("Fixed."));
    browser.click(&browser.find("#pg-send").await).await;
    browser
        .wait_for(
            "const t = document.querySelectorAll('.pg-turn-assistant'); return t.length === 2 && t[1].textContent.includes('Fixed.')",
            10,
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.getElementById('param-temperature-error').hidden")
            .await,
        json!(true),
        "the message goes once the value is fixed"
    );
    let sent = mock
        .requests(OPENROUTER_CHAT_PATH)
        .last()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(sent["temperature"], json!(0.5));

    // Presets: built-in ones have no Rename or Delete; the account's own have both.
    let preset_buttons = "const shown = (id) => { const e = document.getElementById(id); \
         return !!e && e.getClientRects().length > 0; }; \
         return [shown('pg-preset-save'), shown('pg-preset-rename'), shown('pg-preset-delete')];";
    let choose = |value: &str| {
        format!(
            "const s = document.getElementById('pg-preset'); s.value = '{value}'; \
             s.dispatchEvent(new Event('change'));"
        )
    };
    browser.eval(&choose("builtin:creative")).await;
    assert_eq!(
        browser.eval(preset_buttons).await,
        json!([true, false, false]),
        "a built-in preset"
    );
    browser.eval(&choose("")).await;
    assert_eq!(
        browser.eval(preset_buttons).await,
        json!([true, false, false])
    );
    let created = browser
        .eval(
            "const token = document.querySelector('meta[name=\"csrf-token\"]').content; \
             const xhr = new XMLHttpRequest(); xhr.open('POST', '/api/users/presets', false); \
             xhr.setRequestHeader('Content-Type', 'application/json'); \
             xhr.setRequestHeader('X-CSRF-Token', token); \
             xhr.send(JSON.stringify({name: 'Mine', parameters: {temperature: 0.4}})); \
             return JSON.parse(xhr.responseText).data.id;",
        )
        .await;
    let own = created.as_str().expect("a preset id").to_owned();
    browser.refresh().await;
    browser
        .wait_for(
            "return document.querySelector('[data-slider-for]')?.hidden === false",
            5,
        )
        .await;
    browser.eval(&choose(&own)).await;
    assert_eq!(
        browser.eval(preset_buttons).await,
        json!([true, true, true]),
        "the account's own preset"
    );

    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_render_while_streaming_and_tables_fit_in_both_themes_at_390_px() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (mock, app) = signed_in_chat(&browser).await;

    // Markdown rendered while the answer streams, well before it ends (a short answer too:
    // under 400 characters, which once waited for the end).
    let answer = format!(
        "Intro with **bold** words.\n\n| Name | Value | Notes |\n|---|---|---|\n| alpha | 1 | first |\n| beta | 2 | second |\n\nThen {}",
        "more words ".repeat(10)
    );
    assert!(answer.len() < 400);
    mock.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text(answer)
            .chunks(40)
            .chunk_delay(Duration::from_millis(120)),
    );
    let prompt = browser.find("#pg-prompt").await;
    browser.type_text(&prompt, "Make a table").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "const a = document.querySelector('.pg-turn-assistant'); \
             return !!a && !!a.querySelector('strong') && !a.querySelector('.pg-stats') \
               && !document.getElementById('pg-stop').hidden",
            8,
        )
        .await;
    browser
        .wait_for(
            "const a = document.querySelector('.pg-turn-assistant'); \
             return !!a.querySelector('table') && !a.querySelector('.pg-stats')",
            8,
        )
        .await;
    browser
        .wait_for(
            "return !!document.querySelector('.pg-turn-assistant .pg-stats')",
            15,
        )
        .await;

    // Tables are styled: borders, padding, a header row.
    let look = "const th = document.querySelector('.pg-turn-assistant th'); const s = getComputedStyle(th); \
         const t = getComputedStyle(th.closest('table')); \
         return [s.borderTopWidth, s.borderTopStyle, parseFloat(s.paddingLeft) > 0, \
           s.backgroundColor !== 'rgba(0, 0, 0, 0)', t.overflowX, s.borderTopColor];";
    let light = browser.eval(look).await;
    assert_eq!(light[0], json!("1px"), "{light}");
    assert_eq!(light[1], json!("solid"));
    assert_eq!(light[2], json!(true), "padding");
    assert_eq!(light[3], json!(true), "a header background");
    assert_eq!(light[4], json!("auto"), "scrolls inside the answer");

    // The dark theme: the table's borders and header follow it.
    browser
        .click(
            &browser
                .find(r#"button[data-theme-choice][value="dark"]"#)
                .await,
        )
        .await;
    let dark = browser.eval(look).await;
    assert_eq!(dark[5], json!("rgb(51, 51, 54)"), "dark borders: {dark}");
    assert_ne!(dark[5], light[5]);
    assert_eq!(dark[3], json!(true), "a header background");

    // Hostile output while it streams: never markup, no script ever runs.
    browser
        .eval("window.__xss = 0; window.alert = () => { window.__xss += 1; };")
        .await;
    mock.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text(HOSTILE_HTML)
            .chunks(12)
            .chunk_delay(Duration::from_millis(150)),
    );
    browser.type_text(&prompt, "Be evil").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    let dangerous = "const a = document.querySelectorAll('.pg-turn-assistant')[1]; \
         return a ? a.querySelectorAll('script, iframe, object, embed, svg, form, [onerror], [onload], [onmouseover], [style], a[href^=\"javascript\"], a[href^=\"data\"], img[src^=\"javascript\"]').length : 0";
    for _ in 0..12 {
        assert_eq!(browser.eval(dangerous).await, json!(0), "mid-stream");
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    browser
        .wait_for(
            "const t = document.querySelectorAll('.pg-turn-assistant'); return t.length === 2 && t[1].querySelector('.pg-stats')",
            10,
        )
        .await;
    assert_eq!(browser.eval(dangerous).await, json!(0));
    assert_eq!(browser.eval("return window.__xss").await, json!(0));

    // A wide table on a 390 px screen (dark) scrolls inside the answer; the page does not.
    let columns = (1..=12).map(|i| format!("Column{i}")).collect::<Vec<_>>();
    let wide = format!(
        "| {} |\n|{}\n| {} |\n",
        columns.join(" | "),
        "---|".repeat(12),
        columns
            .iter()
            .map(|c| format!("{c}value"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    mock.push_script(OPENROUTER_CHAT_PATH, Script::text(wide));
    browser.type_text(&prompt, "A wide table").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "const t = document.querySelectorAll('.pg-turn-assistant'); return t.length === 3 && t[2].querySelector('table') && t[2].querySelector('.pg-stats')",
            10,
        )
        .await;
    browser.set_window_size(390, 844).await;
    let fits = "const d = document.documentElement; const tables = document.querySelectorAll('.pg-turn-assistant table'); \
         const wide = tables[tables.length - 1]; \
         return [d.scrollWidth - d.clientWidth, wide.scrollWidth > wide.clientWidth];";
    let fit = browser.eval(fits).await;
    assert_eq!(fit[0], json!(0), "no sideways scrolling of the page: {fit}");
    assert_eq!(fit[1], json!(true), "the table scrolls inside: {fit}");

    // The run lists and a run's page fit too (a text run, streamed by the script).
    browser
        .goto(&app.url(&format!("/models/{MODEL}/playground?mode=text")))
        .await;
    mock.push_script(OPENROUTER_CHAT_PATH, Script::text("A text answer."));
    let prompt = browser.find("#pg-prompt").await;
    browser
        .type_text(
            &prompt,
            "A rather long prompt to see how the list wraps its excerpt",
        )
        .await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "return !!document.querySelector('.pg-turn-assistant .pg-stats')",
            10,
        )
        .await;
    app.state.engine.flush().await;
    browser.goto(&app.url("/playground")).await;
    let link = browser
        .eval("return document.querySelector('.pg-run-list a')?.getAttribute('href')")
        .await;
    let link = link.as_str().expect("a recent run").to_owned();
    let page_overflow =
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth";
    assert_eq!(browser.eval(page_overflow).await, json!(0), "the picker");
    browser.goto(&app.url(&link)).await;
    assert_eq!(
        browser
            .eval("return document.getElementById('pg-run-prompt').textContent")
            .await,
        json!("A rather long prompt to see how the list wraps its excerpt")
    );
    assert_eq!(browser.eval(page_overflow).await, json!(0), "a run's page");
    assert_eq!(
        browser
            .eval("return document.documentElement.dataset.theme")
            .await,
        json!("dark")
    );

    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summarise_translate_embed_and_image_modes_work_with_the_script() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let mock = MockServer::start(MockConfig::default()).await;
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config(&mock), false).await;
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
    sign_up(&browser, &app).await;

    // Summarise, streamed through the script.
    browser
        .goto(&app.url("/models/mock/summarizer/playground"))
        .await;
    mock.push_script(
        &hf_inference_path("mock/summarizer"),
        Script::text("A **short** summary."),
    );
    let prompt = browser.find("#pg-prompt").await;
    browser
        .type_text(&prompt, "A long article about pasta and its history.")
        .await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "const a = document.querySelector('.pg-turn-assistant'); \
             return a && a.querySelector('strong')?.textContent === 'short' && a.querySelector('.pg-stats')",
            10,
        )
        .await;
    let sent = mock.requests(&hf_inference_path("mock/summarizer"));
    assert_eq!(
        sent.last().unwrap().json().unwrap()["inputs"],
        json!("A long article about pasta and its history.")
    );

    // Translate, into the language asked for.
    browser
        .goto(&app.url("/models/mock/translator/playground"))
        .await;
    mock.push_script(
        &hf_inference_path("mock/translator"),
        Script::text("Bonjour"),
    );
    browser
        .type_text(&browser.find("#param-targetLanguage").await, "fr")
        .await;
    let prompt = browser.find("#pg-prompt").await;
    browser.type_text(&prompt, "Hello").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "const a = document.querySelector('.pg-turn-assistant'); return a && a.textContent.includes('Bonjour') && a.querySelector('.pg-stats')",
            10,
        )
        .await;
    let sent = mock.requests(&hf_inference_path("mock/translator"));
    assert_eq!(
        sent.last().unwrap().json().unwrap()["parameters"]["tgt_lang"],
        json!("fr")
    );

    // Embed: the form posts and the server shows the vector; the focus is back in the box.
    browser
        .goto(&app.url("/models/mock/embedder/playground"))
        .await;
    let prompt = browser.find("#pg-prompt").await;
    browser.type_text(&prompt, "embed me").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "return document.querySelector('.pg-vector-size')?.textContent === '8 dimensions'",
            10,
        )
        .await;
    let vector = browser
        .eval(
            "const a = [...document.querySelectorAll('.pg-vector a[download]')][0]; \
             return [a.getAttribute('href').startsWith('data:application/json'), \
               JSON.parse(document.querySelector('.pg-vector pre code').textContent).length, \
               !!document.querySelector('.pg-vector pre .pg-copy'), document.activeElement.id]",
        )
        .await;
    assert_eq!(vector, json!([true, 8, true, "pg-prompt"]));

    // Image: size settings instead of sampling ones, checked before sending.
    browser
        .goto(&app.url("/models/mock/painter/playground"))
        .await;
    let shown = browser
        .eval(
            "return ['param-width', 'param-height', 'param-temperature', 'param-maxTokens'] \
             .map((id) => !!document.getElementById(id))",
        )
        .await;
    assert_eq!(shown, json!([true, true, false, false]));
    let width = browser.find("#param-width").await;
    browser.type_text(&width, "5000").await;
    let prompt = browser.find("#pg-prompt").await;
    browser.type_text(&prompt, "pasta").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "return document.getElementById('param-width-error').textContent === 'Width must be between 64 and 4096.'",
            5,
        )
        .await;
    assert!(
        mock.requests(&hf_inference_path("mock/painter")).is_empty(),
        "nothing sent"
    );
    browser
        .eval("document.getElementById('param-width').value = ''")
        .await;
    // The mock draws at most 256 pixels a side.
    browser.type_text(&width, "200").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "const img = document.querySelector('.pg-image img'); return !!img && img.complete && img.naturalWidth === 200",
            15,
        )
        .await;
    let sent = mock.requests(&hf_inference_path("mock/painter"));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].json().unwrap()["parameters"]["width"], json!(200));

    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}
