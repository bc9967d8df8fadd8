//! Browser tests of the foundation: the layout in headless Chromium.

use crate::helpers::spawn_app;
use crate::webdriver::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn theme_switch_persists_across_reloads_without_console_errors() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;
    browser.goto(&app.url("/")).await;
    // The console check below must be able to fail: prove it sees an error first.
    browser.eval("console.error('console self-check')").await;
    let seen = browser.console_errors().await;
    assert!(
        seen.iter().any(|m| m.contains("console self-check")),
        "the browser log does not report console errors: {seen:?}"
    );
    let initial = browser
        .eval("return document.documentElement.dataset.theme")
        .await;
    assert_eq!(initial, "system");

    let dark = browser
        .find(r#"button[data-theme-choice][value="dark"]"#)
        .await;
    browser.click(&dark).await;
    let switched = browser
        .eval("return document.documentElement.dataset.theme")
        .await;
    assert_eq!(
        switched, "dark",
        "the switch applies at once, without a reload"
    );
    let pressed = browser
        .eval(
            r#"return document.querySelector('button[value="dark"]').getAttribute('aria-pressed')"#,
        )
        .await;
    assert_eq!(pressed, "true");
    let background = browser
        .eval("return getComputedStyle(document.body).backgroundColor")
        .await;
    assert_eq!(background, "rgb(18, 18, 18)", "dark tokens are in effect");

    browser.refresh().await;
    let kept = browser
        .eval("return document.documentElement.dataset.theme")
        .await;
    assert_eq!(kept, "dark", "the choice survives a reload");

    browser.goto(&app.url("/about")).await;
    let elsewhere = browser
        .eval("return document.documentElement.dataset.theme")
        .await;
    assert_eq!(elsewhere, "dark", "and holds on other pages");

    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_layout_fits_a_360_pixel_screen() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;
    browser.goto(&app.url("/")).await;
    browser.set_window_size(360, 740).await;
    browser.refresh().await;
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        .await;
    assert_eq!(overflow, 0, "no horizontal scrolling at 360 px");
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}
