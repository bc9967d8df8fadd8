//! The history in headless Chromium: a text run made in the playground is found again by a
//! word of its prompt, opened, and opened again in the playground with its prompt in the box;
//! the history fits a 390 px phone without sideways scrolling; once the list is empty there is
//! nothing to delete; no console errors. Skipped unless `AIPASTA_BROWSER_TESTS=1` (CI sets it).

use aipasta_mock::{MockConfig, MockServer, OPENROUTER_CHAT_PATH, Script};
use serde_json::json;

use crate::browser_playground::{MODEL, config, sign_up_as};
use crate::helpers::spawn_app_with;
use crate::webdriver::Browser;

const PROMPT: &str = "Describe a lighthouse keeper's breakfast";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_run_is_found_opened_and_reopened_from_the_history() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let mock = MockServer::start(MockConfig::default()).await;
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config(&mock), true).await;
    sign_up_as(
        &browser,
        &app,
        "Hester",
        "hester@example.com",
        "pasta al dente 42",
    )
    .await;

    // A text run in the playground.
    browser
        .goto(&app.url(&format!("/models/{MODEL}/playground?mode=text")))
        .await;
    browser
        .wait_for(
            "return document.querySelector('[data-slider-for]')?.hidden === false",
            5,
        )
        .await;
    mock.push_script(
        OPENROUTER_CHAT_PATH,
        Script::text("Porridge, **strong tea** and a view of the sea."),
    );
    browser
        .type_text(&browser.find("#pg-prompt").await, PROMPT)
        .await;
    browser.click(&browser.find("#pg-send").await).await;
    browser
        .wait_for(
            "return !!document.querySelector('.pg-turn-assistant .pg-stats')",
            15,
        )
        .await;
    app.state.engine.flush().await;

    // Search the history for a word of it, and open it.
    browser.goto(&app.url("/dashboard/history")).await;
    browser
        .type_text(&browser.find("#hist-q").await, "breakfast")
        .await;
    browser
        .click(&browser.find(".hist-filters button[type=submit]").await)
        .await;
    browser
        .wait_for(
            "return location.search.includes('q=breakfast') \
               && document.querySelectorAll('tr[data-generation]').length === 1",
            10,
        )
        .await;
    let excerpt = browser
        .eval("return document.querySelector('.hist-prompt a').textContent")
        .await;
    assert_eq!(excerpt, json!(PROMPT));
    browser.click(&browser.find(".hist-prompt a").await).await;
    browser
        .wait_for(
            "return location.pathname.startsWith('/dashboard/history/') \
               && document.querySelector('#hist-output strong')?.textContent === 'strong tea'",
            10,
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.getElementById('hist-prompt').textContent")
            .await,
        json!(PROMPT)
    );

    // The copy button shows only where script can act on it, and names what it copies.
    assert_eq!(
        browser
            .eval(
                "const b = document.querySelector('button[data-copy]'); \
                 return [b.hidden, getComputedStyle(b).display !== 'none', \
                   document.getElementById(b.dataset.copy).textContent.includes('strong tea')]"
            )
            .await,
        json!([false, true, true])
    );

    // Open it in the playground: the prompt is back in the box.
    browser
        .click(&browser.find("[data-open-playground]").await)
        .await;
    browser
        .wait_for(
            &format!(
                "return location.pathname === '/models/{MODEL}/playground' \
                   && document.getElementById('pg-prompt')?.value === {}",
                json!(PROMPT)
            ),
            10,
        )
        .await;

    // A phone: the page itself never scrolls sideways; the table scrolls in its own box.
    browser.set_window_size(390, 844).await;
    for path in ["/dashboard/history", "/dashboard/history?q=breakfast"] {
        browser.goto(&app.url(path)).await;
        browser
            .wait_for("return document.readyState === 'complete'", 5)
            .await;
        let widths = browser
            .eval(
                "return [document.documentElement.scrollWidth, window.innerWidth, \
                  document.querySelector('.hist-wrap').scrollWidth, \
                  document.querySelector('.hist-wrap').clientWidth]",
            )
            .await;
        let page_width = widths[0].as_i64().unwrap();
        assert!(
            page_width <= 390,
            "{path}: the page scrolls sideways at 390 px: {widths}"
        );
        assert!(
            widths[2].as_i64().unwrap() >= widths[3].as_i64().unwrap(),
            "{widths}"
        );
    }
    browser.click(&browser.find(".hist-prompt a").await).await;
    browser
        .wait_for("return !!document.getElementById('hist-output')", 10)
        .await;
    let width = browser
        .eval("return document.documentElement.scrollWidth")
        .await;
    assert!(
        width.as_i64().unwrap() <= 390,
        "the generation's page at 390 px: {width}"
    );

    // Delete it from the list: the list is empty, with nothing left to delete.
    browser.goto(&app.url("/dashboard/history")).await;
    browser
        .click(
            &browser
                .find("tr[data-generation] input[type=checkbox]")
                .await,
        )
        .await;
    browser
        .click(&browser.find("[data-delete-selected]").await)
        .await;
    browser
        .wait_for(
            "return document.querySelector('[data-history-notice]')?.textContent.includes('Deleted 1 generation')",
            10,
        )
        .await;
    let empty = browser
        .eval(
            "return [!!document.querySelector('[data-delete-selected]'), \
              document.querySelector('[data-history-empty]')?.dataset.historyEmpty, \
              document.documentElement.scrollWidth]",
        )
        .await;
    assert_eq!(empty[0], json!(false), "no Delete selected button: {empty}");
    assert_eq!(empty[1], json!("none"), "the empty state: {empty}");
    assert!(empty[2].as_i64().unwrap() <= 390);

    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
}
