//! The dashboard in headless Chromium: a model starred from its card on `/models` comes first
//! in the playground's picker; the usage chart is an accessible SVG whose bars say what the
//! table under it says; the dashboard pages fit a 390-pixel phone; no console errors. Skipped
//! unless `AIPASTA_BROWSER_TESTS=1` (CI sets it).

use aipasta_mock::{MockConfig, MockServer};
use serde_json::json;

use crate::browser_playground::{MODEL, config, sign_up_as};
use crate::helpers::spawn_app_with;
use crate::webdriver::Browser;

const NOVA: &str = "amazon/nova-micro-v1";

/// Elements wider than the screen, outside the wrappers that scroll on purpose (wide tables,
/// the dashboard's sidebar folded into a row).
const OVERFLOWING: &str = r#"
    const width = document.documentElement.clientWidth;
    return [...document.querySelectorAll('body *')]
      .filter(e => e.getBoundingClientRect().right > width + 0.5)
      .filter(e => !e.closest('.table-wrap, .dashboard-nav'))
      .slice(0, 8)
      .map(e => `${e.tagName.toLowerCase()}.${e.className} → ${Math.round(e.getBoundingClientRect().right)}px`);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starred_model_comes_first_and_the_usage_chart_reads_like_its_table() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let mock = MockServer::start(MockConfig::default()).await;
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config(&mock), true).await;
    let (email, password) = ("dash@example.com", "charts and stars");
    sign_up_as(&browser, &app, "Dash", email, password).await;

    // Star a model from its card on the catalog's listing.
    browser.goto(&app.url("/models?q=nova-micro")).await;
    let star = format!(r#"[data-model="{NOVA}"] [data-favorite-star]"#);
    assert_eq!(
        browser
            .eval(&format!(
                "return document.querySelector('{star}').getAttribute('aria-pressed')"
            ))
            .await,
        "false"
    );
    browser.click(&browser.find(&star).await).await;
    browser
        .wait_for(
            &format!(
                "const b = document.querySelector('{star}'); \
                 return location.pathname === '/models' && location.search.includes('nova-micro') \
                   && b && b.getAttribute('aria-pressed') === 'true' \
                   && b.getAttribute('aria-label') === 'Remove from favorites'"
            ),
            10,
        )
        .await;

    // The playground's picker lists it first.
    browser.goto(&app.url("/playground")).await;
    let first = browser
        .eval("return document.querySelector('.pg-model a').getAttribute('href')")
        .await;
    assert_eq!(first, json!(format!("/models/{NOVA}/playground")));
    assert_eq!(
        browser
            .eval("return document.querySelector('.pg-model [data-favorite-star]').getAttribute('aria-pressed')")
            .await,
        "true"
    );

    // A generation, through the API as the same account.
    let signin = app
        .anonymous()
        .post(
            "/api/auth/signin",
            json!({ "email": email, "password": password }),
        )
        .await;
    let token = signin.json()["token"].as_str().unwrap().to_owned();
    let generated = app
        .bearer(&token)
        .post(
            "/api/ai/generate",
            json!({"model": MODEL, "prompt": "A chart, please"}),
        )
        .await;
    assert_eq!(
        generated.status,
        reqwest::StatusCode::OK,
        "{}",
        generated.text()
    );
    app.state.engine.flush().await;

    // The usage chart: an SVG image with a title, a bar for the day, and the table under it
    // holding the number the bar's tooltip says.
    browser.goto(&app.url("/dashboard/usage")).await;
    let chart = browser
        .eval(
            r#"const svg = document.querySelector('#usage-tokens svg[role="img"]');
               const bars = [...svg.querySelectorAll('.chart-bars rect')];
               const tip = bars.length ? bars[bars.length - 1].querySelector('title').textContent : '';
               const rows = [...document.querySelectorAll('[data-chart-table="usage-tokens"] tbody tr')];
               const cells = [...rows[rows.length - 1].querySelectorAll('td')].map((td) => td.textContent);
               return {
                 title: svg.querySelector('title').textContent,
                 labelled: svg.getAttribute('aria-labelledby'),
                 bars: bars.length,
                 value: tip.split(': ').pop(),
                 series: tip.split(' · ').pop().split(': ')[0],
                 cells,
                 column: document.querySelectorAll('[data-chart-table="usage-tokens"] thead th')[1].textContent,
               };"#,
        )
        .await;
    assert_eq!(chart["title"], "Tokens per day by model", "{chart}");
    assert!(
        chart["labelled"].as_str().unwrap().contains("-t"),
        "{chart}"
    );
    assert_eq!(chart["bars"], 1, "{chart}");
    let value = chart["value"].as_str().unwrap();
    assert!(value.parse::<u64>().is_ok_and(|v| v > 0), "{chart}");
    assert_eq!(chart["cells"], json!([value, value]), "{chart}");
    assert_eq!(chart["series"], chart["column"], "{chart}");

    // Every dashboard page fits a 390-pixel phone.
    browser.set_window_size(390, 844).await;
    for page in [
        "/dashboard",
        "/dashboard/usage",
        "/dashboard/usage?groupBy=week&by=source",
        "/dashboard/favorites",
        "/playground",
        "/models",
        // Last: its 400 is a console entry of its own.
        "/dashboard/usage?groupBy=hour",
    ] {
        if page.ends_with("hour") {
            let errors = browser.console_errors().await;
            assert!(errors.is_empty(), "console errors: {errors:?}");
        }
        browser.goto(&app.url(page)).await;
        let width = browser.eval("return window.innerWidth").await;
        assert!(width.as_u64().is_some_and(|w| w <= 400), "{page}: {width}");
        let overflow = browser
            .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            .await;
        let culprits = browser.eval(OVERFLOWING).await;
        assert_eq!(overflow, 0, "{page} is wider than the screen: {culprits}");
        assert_eq!(culprits, json!([]), "{page}");
    }
    let errors = browser.console_errors().await;
    assert!(
        errors.iter().all(|e| e.contains("400 (Bad Request)")),
        "console errors: {errors:?}"
    );
}
