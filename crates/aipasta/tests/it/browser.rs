//! Browser tests of the foundation: the layout in headless Chromium.

use crate::browser_playground::sign_up_as;
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
    sign_up_as(
        &browser,
        &app,
        "Grace",
        "grace@example.com",
        "compilers are friends",
    )
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
    let works = app.bearer(&key).get("/api/users/profile").await;
    assert_eq!(works.status, reqwest::StatusCode::OK);
    browser
        .click(&browser.find(r#"tr[data-key="notebook"] button"#).await)
        .await;
    browser
        .wait_for("return location.search.includes('done=key-revoked')", 10)
        .await;
    let refused = app.bearer(&key).get("/api/users/profile").await;
    assert_eq!(refused.status, reqwest::StatusCode::UNAUTHORIZED);

    browser
        .click(&browser.find(".account-nav button[type=submit]").await)
        .await;
    browser
        .wait_for("return location.pathname === '/auth/signin'", 10)
        .await;
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// The elements wider than the viewport, for the failure message.
const OVERFLOWING: &str = r#"
    const width = document.documentElement.clientWidth;
    return [...document.querySelectorAll('body *')]
      .filter(e => e.getBoundingClientRect().right > width + 0.5)
      .filter(e => !e.closest('.table-wrap, pre, .pg-modes'))
      .slice(0, 8)
      .map(e => `${e.tagName.toLowerCase()}.${e.className} → ${Math.round(e.getBoundingClientRect().right)}px`);
"#;

/// What a person on a 390-pixel phone meets: no page is wider than the screen; the header is
/// one row whose menu opens (a `<details>`, so without JavaScript too) and whose links show only
/// when it is open; "Skip to content" moves the focus to the content without loading anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_390_pixel_phone_pages_fit_the_header_is_one_row_and_skip_links_stay_put() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_seeded_app(aipasta_store::Backend::Sqlite).await;
    let (longest,): (String,) = aipasta_store::Query::new(
        "SELECT slug FROM models WHERE status <> 'deprecated' ORDER BY LENGTH(slug) DESC, slug LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();

    // Signed in through the form, so Settings has its content.
    sign_up_as(
        &browser,
        &app,
        "Phone",
        "phone@example.com",
        "small screens matter",
    )
    .await;

    browser.set_window_size(390, 844).await;
    let pages = [
        "/".to_owned(),
        "/models".to_owned(),
        "/models/anthropic/claude-opus-4".to_owned(),
        format!("/models/{longest}"),
        "/about".to_owned(),
        "/contact".to_owned(),
        "/docs/api".to_owned(),
        "/auth/signin".to_owned(),
        "/dashboard/settings".to_owned(),
        "/playground".to_owned(),
    ];
    for page in &pages {
        browser.goto(&app.url(page)).await;
        let width = browser.eval("return window.innerWidth").await;
        assert!(width.as_u64().is_some_and(|w| w <= 400), "{page}: {width}");
        let overflow = browser
            .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            .await;
        let culprits = browser.eval(OVERFLOWING).await;
        assert_eq!(overflow, 0, "{page} is wider than the screen: {culprits}");
    }

    // Skip to content: the focus moves to <main>, and the page is not loaded again.
    for page in &pages {
        browser.goto(&app.url(page)).await;
        browser.eval("window.__samePage = true").await;
        browser
            .eval("document.querySelector('.skip-link').focus()")
            .await;
        browser.click(&browser.find(".skip-link").await).await;
        browser
            .wait_for(
                "return document.activeElement === document.querySelector('main')",
                5,
            )
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            browser.eval("return window.__samePage === true").await,
            true,
            "{page}: the skip link loaded the page again"
        );
    }

    for page in &pages {
        browser.goto(&app.url(page)).await;
        // The header: one row, brand and menu button side by side; the links hidden.
        let row = browser
            .eval(
                "const bar = document.querySelector('.site-header').getBoundingClientRect();
                 const brand = document.querySelector('.brand').getBoundingClientRect();
                 const button = document.querySelector('.site-menu > summary')?.getBoundingClientRect();
                 return !!button && bar.height <= 72
                   && Math.abs(brand.top + brand.height / 2 - (button.top + button.height / 2)) < 8
                   && button.right <= document.documentElement.clientWidth;",
            )
            .await;
        assert_eq!(
            row, true,
            "{page}: the header is not one row with a menu button"
        );
        let menu_tag = browser
            .eval("return document.querySelector('[data-site-menu]').tagName")
            .await;
        assert_eq!(menu_tag, "DETAILS", "the menu opens without JavaScript");
        let visible_links = "return [...document.querySelectorAll('.site-nav a, .account-nav a, .account-nav button')]
             .filter(a => a.checkVisibility()).length";
        assert_eq!(
            browser.eval(visible_links).await,
            0,
            "{page}: links shown while closed"
        );

        // Open: every link shows, inside the screen; closed again: hidden.
        let button = browser.find(".site-menu > summary").await;
        browser.click(&button).await;
        let shown = browser
            .eval(
                "const links = [...document.querySelectorAll('.site-nav a, .account-nav a, .account-nav button')];
                 const width = document.documentElement.clientWidth;
                 return links.length >= 7 && links.every(a => a.checkVisibility()
                   && a.getBoundingClientRect().right <= width && a.getBoundingClientRect().left >= 0);",
            )
            .await;
        assert_eq!(
            shown, true,
            "{page}: the open menu shows every link on screen"
        );
        browser.click(&button).await;
        assert_eq!(browser.eval(visible_links).await, 0, "{page}: closed again");
    }

    // With JavaScript, Escape and a click elsewhere close the menu too.
    browser.goto(&app.url("/models")).await;
    let button = browser.find(".site-menu > summary").await;
    browser.click(&button).await;
    browser
        .eval("document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))")
        .await;
    assert_eq!(
        browser
            .eval("return document.querySelector('[data-site-menu]').open")
            .await,
        false
    );
    browser.click(&button).await;
    browser.click(&browser.find(".site-footer").await).await;
    assert_eq!(
        browser
            .eval("return document.querySelector('[data-site-menu]').open")
            .await,
        false
    );

    // On a wide screen the bar holds everything: no menu button, the links in view.
    browser.set_window_size(1280, 900).await;
    browser.goto(&app.url("/models")).await;
    let wide = browser
        .eval(
            "return !document.querySelector('.site-menu > summary').checkVisibility()
               && [...document.querySelectorAll('.site-nav a')].every(a => a.checkVisibility())
               && document.querySelector('.site-header').getBoundingClientRect().height <= 72",
        )
        .await;
    assert_eq!(
        wide, true,
        "the desktop header is one bar without a menu button"
    );

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
    sign_up_as(
        &browser,
        &app,
        "Grace",
        "grace@example.com",
        "compilers are friends",
    )
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
