//! Browser tests of the foundation: the layout in headless Chromium.

use crate::helpers::{spawn_app, spawn_seeded_app};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_filter_and_open_a_model_page() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_seeded_app(aipasta_store::Backend::Sqlite).await;
    browser.goto(&app.url("/models")).await;
    let cards = browser
        .eval("return document.querySelectorAll('[data-model]').length")
        .await;
    assert_eq!(cards, 24);

    // Typing filters the grid in place, without a page load, and the URL follows.
    browser.eval("window.__samePage = true").await;
    let search = browser.find("#q").await;
    browser.type_text(&search, "claude opus").await;
    browser
        .wait_for(
            "return [...document.querySelectorAll('[data-model]')].length > 0 && \
             [...document.querySelectorAll('[data-model]')].every(c => c.dataset.model.includes('claude-opus'))",
            10,
        )
        .await;
    assert_eq!(
        browser.eval("return window.__samePage === true").await,
        true,
        "no full reload"
    );
    let url = browser.eval("return location.search").await;
    assert!(
        url.as_str().is_some_and(|u| u.contains("q=claude+opus")),
        "{url}"
    );

    // A filter narrows further: free-only leaves no paid Claude Opus.
    let free = browser.find("#free").await;
    browser.click(&free).await;
    browser
        .wait_for("return document.querySelector('.results-summary')?.textContent.includes('No models match')", 10)
        .await;
    browser.click(&free).await;
    browser
        .wait_for(
            "return document.querySelectorAll('[data-model]').length > 0",
            10,
        )
        .await;

    // Open the first result.
    let first = browser.find("[data-model] h3 a").await;
    browser.click(&first).await;
    browser
        .wait_for(
            "return location.pathname.startsWith('/models/anthropic/claude-opus')",
            10,
        )
        .await;
    let heading = browser
        .eval("return document.querySelector('h1').textContent")
        .await;
    assert!(
        heading
            .as_str()
            .is_some_and(|h| h.starts_with("Claude Opus")),
        "{heading}"
    );
    let has_pricing = browser
        .eval("return document.querySelector('#pricing-title') !== null")
        .await;
    assert_eq!(has_pricing, true);

    // Load more appends the next page to the grid.
    browser.goto(&app.url("/models?sort=name")).await;
    let more = browser.find("[data-load-more]").await;
    browser.click(&more).await;
    browser
        .wait_for(
            "return document.querySelectorAll('[data-model]').length === 48",
            10,
        )
        .await;

    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_sign_in_theme_and_api_keys_in_the_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;

    // Sign up.
    browser.goto(&app.url("/auth/signup")).await;
    browser
        .type_text(&browser.find("#name").await, "Grace")
        .await;
    browser
        .type_text(&browser.find("#email").await, "grace@example.com")
        .await;
    browser
        .type_text(&browser.find("#password").await, "compilers are friends")
        .await;
    browser
        .click(&browser.find("button[type=submit].button-primary").await)
        .await;
    browser
        .wait_for("return location.pathname === '/dashboard/settings'", 10)
        .await;
    browser
        .wait_for(
            "return document.querySelector('.account-link')?.textContent === 'Grace'",
            5,
        )
        .await;

    // Sign out, then back in.
    browser
        .click(&browser.find(".account-nav button[type=submit]").await)
        .await;
    browser
        .wait_for("return location.pathname === '/auth/signin'", 10)
        .await;
    browser
        .type_text(&browser.find("#email").await, "grace@example.com")
        .await;
    browser
        .type_text(&browser.find("#password").await, "compilers are friends")
        .await;
    browser
        .click(
            &browser
                .find("form button[type=submit].button-primary")
                .await,
        )
        .await;
    browser
        .wait_for("return location.pathname === '/dashboard/settings'", 10)
        .await;

    // Change the theme preference: it is saved with the account and applied.
    let dark = browser.find(r#"#theme option[value="dark"]"#).await;
    browser.click(&dark).await;
    browser
        .click(
            &browser
                .find(r#"form[action="/dashboard/settings/preferences"] button"#)
                .await,
        )
        .await;
    browser
        .wait_for("return location.search.includes('done=preferences')", 10)
        .await;
    assert_eq!(
        browser
            .eval("return document.documentElement.dataset.theme")
            .await,
        "dark"
    );
    let saved = aipasta_store::accounts::find_user_by_email(&app.db, "grace@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.theme, "dark");

    // Create an API key: shown once, listed by its prefix; then revoke it.
    browser
        .type_text(&browser.find("#key-name").await, "notebook")
        .await;
    browser
        .click(
            &browser
                .find(r#"form[action="/dashboard/settings/api-keys"] button"#)
                .await,
        )
        .await;
    let key = browser
        .wait_for(
            "return document.querySelector('[data-new-key]')?.textContent",
            10,
        )
        .await;
    let key = key.as_str().unwrap_or_default().trim().to_owned();
    assert!(key.starts_with("ap_"), "{key}");
    let works = app
        .client
        .get(app.url("/api/users/profile"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(works.status(), reqwest::StatusCode::OK);
    browser
        .click(&browser.find(r#"tr[data-key="notebook"] button"#).await)
        .await;
    browser
        .wait_for("return location.search.includes('done=key-revoked')", 10)
        .await;
    let refused = app
        .client
        .get(app.url("/api/users/profile"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);

    browser
        .click(&browser.find(".account-nav button[type=submit]").await)
        .await;
    browser
        .wait_for("return location.pathname === '/auth/signin'", 10)
        .await;
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// Whether `css`'s element is on screen and unobstructed once the page is scrolled to it
/// vertically only (a horizontal scroll would be the hidden table the layout must avoid):
/// `"ok"`, or what is wrong.
const ON_SCREEN: &str = r#"
    const [css, label] = arguments;
    const element = document.querySelector(css);
    if (!element) return `${label}: missing`;
    const box = element.getBoundingClientRect();
    window.scrollTo(0, window.scrollY + box.top - window.innerHeight / 2);
    const r = element.getBoundingClientRect();
    const width = document.documentElement.clientWidth;
    if (r.width === 0 || r.height === 0) return `${label}: not displayed`;
    if (r.left < 0 || r.right > width || r.top < 0 || r.bottom > window.innerHeight)
        return `${label}: at ${r.left}..${r.right} x ${r.top}..${r.bottom}, outside ${width} x ${window.innerHeight}`;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!(hit === element || element.contains(hit)))
        return `${label}: hidden behind ${hit ? hit.outerHTML.slice(0, 80) : 'nothing'}`;
    return 'ok';
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_key_column_and_its_revoke_button_show_on_desktop_and_phone() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;
    browser.goto(&app.url("/auth/signup")).await;
    browser
        .type_text(&browser.find("#name").await, "Grace")
        .await;
    browser
        .type_text(&browser.find("#email").await, "grace@example.com")
        .await;
    browser
        .type_text(&browser.find("#password").await, "compilers are friends")
        .await;
    browser
        .click(&browser.find("button[type=submit].button-primary").await)
        .await;
    browser
        .wait_for("return location.pathname === '/dashboard/settings'", 10)
        .await;
    // A key that fills every column: a long name, both scopes, an expiry.
    browser
        .type_text(
            &browser.find("#key-name").await,
            "the nightly evaluation notebook on the shared server",
        )
        .await;
    browser.click(&browser.find("#scope_generate").await).await;
    browser
        .type_text(&browser.find("#expires").await, "30")
        .await;
    browser
        .click(
            &browser
                .find(r#"form[action="/dashboard/settings/api-keys"] button"#)
                .await,
        )
        .await;
    browser
        .wait_for(
            "return document.querySelector('[data-new-key]') !== null",
            10,
        )
        .await;
    browser.goto(&app.url("/dashboard/settings")).await;

    let revoke = r#"tr[data-key] button"#;
    for (width, height) in [(1280, 900), (390, 844)] {
        browser.set_window_size(width, height).await;
        browser.refresh().await;
        let driver = &browser;
        let check = |css: &str, label: String| {
            let script = format!(
                "return (function() {{ {ON_SCREEN} }}).apply(null, {});",
                serde_json::json!([css, label])
            );
            async move { driver.eval(&script).await }
        };
        assert_eq!(
            check(revoke, format!("Revoke at {width} px")).await,
            "ok",
            "the Revoke button at {width} px"
        );
        let overflow = browser
            .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            .await;
        assert_eq!(overflow, 0, "no horizontal page scroll at {width} px");
        if width >= 1280 {
            for column in 1..=7 {
                let css = format!(".key-table thead th:nth-child({column})");
                assert_eq!(
                    check(&css, format!("column {column} at {width} px")).await,
                    "ok",
                    "every column's heading shows at {width} px"
                );
            }
        }
    }
    // Usable at the phone width: the button revokes.
    browser.click(&browser.find(revoke).await).await;
    browser
        .wait_for("return location.search.includes('done=key-revoked')", 10)
        .await;
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}
