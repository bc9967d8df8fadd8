//! Hostile "images" in headless Chromium: an upstream answering HTML, SVG with script, or
//! JavaScript as a second image gets no script run anywhere — not in the playground that asked
//! for it, not at the image's own URL, not loaded as a script by a page of ours, not on the
//! run's page — and a row stored before images were checked, holding HTML, is not served as
//! HTML. A real image is still shown, and viewable at its URL under the sandbox policy.
//! Skipped unless `AIPASTA_BROWSER_TESTS=1` (CI sets it).

use aipasta_engine::EnvEndpoint;
use aipasta_mock::{MockConfig, MockImage, MockServer, OPENAI_IMAGES_PATH, Script};
use aipasta_providers::generate::ApiKey;
use aipasta_store::Query;
use serde_json::json;

use crate::browser_playground::{CTRL_ENTER, config, sign_up};
use crate::helpers::{TestApp, spawn_app_with};
use crate::images::add_image_models;
use crate::webdriver::Browser;

const MODEL: &str = "local/pixel-painter";

/// Asks the playground for an image; answers the generation's id once the answer has ended.
async fn generate(browser: &Browser, app: &TestApp) -> String {
    browser
        .goto(&app.url(&format!("/models/{MODEL}/playground?mode=image")))
        .await;
    let prompt = browser.find("#pg-prompt").await;
    browser.type_text(&prompt, "a bowl of pasta").await;
    browser.type_text(&prompt, CTRL_ENTER).await;
    browser
        .wait_for(
            "const a = document.querySelector('.pg-turn-assistant'); \
             return !!a && !a.querySelector('.pg-typing') \
               && (!!a.querySelector('.pg-error') || !!a.querySelector('.pg-image img'))",
            15,
        )
        .await;
    browser
        .eval("return document.querySelector('.pg-turn-assistant').dataset.generation")
        .await
        .as_str()
        .expect("the answer names its generation")
        .to_owned()
}

/// Nothing any hostile payload does happened: checked from a page of ours (same origin as
/// every asset URL), where the payload's `localStorage` mark would be.
async fn assert_no_script_ran(browser: &Browser, app: &TestApp, case: &str) {
    browser.goto(&app.url("/about")).await;
    let marks = browser
        .eval(
            "return [localStorage.getItem('aipasta-xss'), typeof window.__aipastaXss, \
             document.title.includes('XSS')]",
        )
        .await;
    assert_eq!(
        marks,
        json!([null, "undefined", false]),
        "{case}: a script ran"
    );
}

/// Opens `url` in the top window and checks that it is not a document that could run
/// anything: not HTML, not SVG, its title untouched.
async fn visit_directly(browser: &Browser, url: &str, case: &str) {
    browser.goto(url).await;
    // Give an inline script or an `onload` the time to run, were it allowed to.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let seen = browser
        .eval("return [document.contentType, document.title, typeof window.__aipastaXss]")
        .await;
    let kind = seen[0].as_str().unwrap_or_default().to_owned();
    assert!(
        kind == "application/json" || kind.starts_with("image/"),
        "{case}: {url} opened as {kind}"
    );
    assert!(
        !seen[1].as_str().unwrap_or_default().contains("XSS"),
        "{case}: {seen}"
    );
    assert_eq!(seen[2], json!("undefined"), "{case}");
}

/// Loads `src` with `<script src>` from a page of ours, as a hostile page of our origin
/// would (`script-src 'self'` allows it): answers whether it loaded.
async fn load_as_script(browser: &Browser, app: &TestApp, src: &str) -> String {
    browser.goto(&app.url("/about")).await;
    browser
        .eval(&format!(
            "window.__loaded = ''; const s = document.createElement('script'); \
             s.onload = () => {{ window.__loaded = 'loaded'; }}; \
             s.onerror = () => {{ window.__loaded = 'refused'; }}; \
             s.src = {}; document.head.append(s);",
            json!(src)
        ))
        .await;
    browser
        .wait_for("return window.__loaded", 5)
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_images_run_no_script_anywhere() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let mock = MockServer::start(MockConfig::default()).await;
    let mut config = config(&mock);
    config.engine.providers.openai_compatible = vec![EnvEndpoint {
        name: "local".into(),
        base_url: mock.openai_base_url(),
        api_key: Some(ApiKey::new("sk-local")),
    }];
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config, false).await;
    add_image_models(&app, &mock).await;
    sign_up(&browser, &app).await;

    // A real image is shown, and opens at its own URL despite the sandbox policy.
    mock.push_script(OPENAI_IMAGES_PATH, Script::images([MockImage::png()]));
    let id = generate(&browser, &app).await;
    browser
        .wait_for(
            "const img = document.querySelector('.pg-image img'); \
             return !!img && img.complete && img.naturalWidth > 0",
            10,
        )
        .await;
    let real = app.url(&format!("/api/generations/{id}/image?index=0"));
    visit_directly(&browser, &real, "a real PNG").await;
    let width = browser
        .eval("const img = document.querySelector('img'); return img ? img.naturalWidth : 0")
        .await;
    assert_eq!(width, json!(64), "the PNG is displayed at its URL");

    for (case, images) in [
        ("HTML", vec![MockImage::html()]),
        ("SVG with a script element", vec![MockImage::svg_script()]),
        ("SVG with onload", vec![MockImage::svg_onload()]),
        (
            "JavaScript as the second image",
            vec![MockImage::png(), MockImage::javascript()],
        ),
        // The whole attack: the site's `script-src 'self'` blocks the inline scripts, but not
        // a script of our origin, which the second "image" would be.
        (
            "HTML loading the JavaScript of the second image",
            vec![MockImage::html(), MockImage::javascript()],
        ),
        (
            "SVG loading the JavaScript of the second image",
            vec![MockImage::svg_script(), MockImage::javascript()],
        ),
    ] {
        mock.push_script(OPENAI_IMAGES_PATH, Script::images(images));
        let id = generate(&browser, &app).await;
        // The playground says why, with no image, broken or not.
        let shown = browser
            .eval(
                "const a = document.querySelector('.pg-turn-assistant'); \
                 return [a.querySelector('.pg-error')?.textContent ?? '', \
                         a.querySelectorAll('.pg-image, img').length]",
            )
            .await;
        let message = shown[0].as_str().unwrap();
        assert!(
            message.contains("is not a PNG, JPEG, WebP or GIF") && message.contains("kept"),
            "{case}: {shown}"
        );
        assert_eq!(shown[1], json!(0), "{case}: no image element");
        assert_no_script_ran(&browser, &app, case).await;

        for index in 0..2 {
            let url = app.url(&format!("/api/generations/{id}/image?index={index}"));
            visit_directly(&browser, &url, case).await;
            assert_eq!(
                load_as_script(
                    &browser,
                    &app,
                    &format!("/api/generations/{id}/image?index={index}")
                )
                .await,
                "refused",
                "{case}: image {index} loaded as a script"
            );
        }
        browser
            .goto(&app.url(&format!("/playground/runs/{id}")))
            .await;
        let images = browser
            .eval("return document.querySelectorAll('main img').length")
            .await;
        assert_eq!(images, json!(0), "{case}: the run's page shows no image");
        assert_no_script_ran(&browser, &app, case).await;
    }

    // A row stored before images were checked, holding HTML: its page shows a refused image
    // and its URL answers JSON, not the HTML.
    mock.push_script(OPENAI_IMAGES_PATH, Script::images([MockImage::png()]));
    let id = generate(&browser, &app).await;
    app.state.engine.flush().await;
    Query::new(
        "UPDATE generation_assets SET bytes = $1, mime_type = 'text/html' WHERE generation_id = $2",
    )
    .bind(MockImage::html().bytes)
    .bind(id.as_str())
    .execute(&app.db)
    .await
    .unwrap();
    browser
        .goto(&app.url(&format!("/playground/runs/{id}")))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The browser keeps the real image it was shown (immutable): ask past its cache.
    let path = format!("/api/generations/{id}/image?index=0&fresh=1");
    visit_directly(&browser, &app.url(&path), "an old row holding HTML").await;
    assert_eq!(
        browser.eval("return document.contentType").await,
        json!("application/json")
    );
    assert_eq!(
        load_as_script(&browser, &app, &format!("{path}&as=script")).await,
        "refused"
    );
    assert_no_script_ran(&browser, &app, "an old row holding HTML").await;
}
