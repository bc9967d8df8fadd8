//! The foundation's HTTP behaviour: health, error envelopes, pages, headers, assets, metrics.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{BrowserSession, Reply, backends, csrf_from, spawn_app};

const CSP_FORBIDDEN: &[&str] = &["unsafe-inline", "unsafe-eval"];

#[tokio::test]
async fn health_reports_ok_with_version_database_and_uptime() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let response = app.get("/api/health").await;
        assert_eq!(response.status(), StatusCode::OK, "{backend:?}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["success"], true);
        assert_eq!(body["data"]["status"], "ok");
        assert_eq!(body["data"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(body["data"]["database"], backend.as_str());
        assert!(body["data"]["uptime_seconds"].is_u64(), "{body}");
    }
}

#[tokio::test]
async fn health_is_503_with_the_same_shape_when_the_database_is_gone() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.db.close().await;
        let response = app.get("/api/health").await;
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{backend:?}"
        );
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["success"], false);
        assert_eq!(body["data"]["status"], "unavailable");
        assert_eq!(body["data"]["database"], backend.as_str());
        assert_eq!(body["error"]["code"], "database_unavailable");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

#[tokio::test]
async fn unknown_api_routes_and_api_errors_answer_json_envelopes() {
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;
    for path in ["/api", "/api/nope", "/api/nothing/here/either"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .to_owned();
        assert!(
            content_type.starts_with("application/json"),
            "{path}: {content_type}"
        );
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["success"], false, "{path}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(path))
        );
    }

    let wrong_method = app.anonymous().delete("/api/health").await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    let body = wrong_method.json(); // 405 is JSON under /api
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn unknown_pages_get_the_html_404_page() {
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = response.text().await.expect("body");
    assert!(html.contains("Page not found"), "{html}");
    assert!(
        html.contains("<header"),
        "the 404 page uses the site layout"
    );
}

#[tokio::test]
async fn pages_render_in_the_layout_with_navigation_and_theme() {
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;
    for (path, heading) in [
        ("/", "Every AI model, one kitchen."),
        ("/about", "About AI Pasta"),
        ("/contact", "Contact"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let html = response.text().await.expect("body");
        assert!(html.contains(heading), "{path}");
        assert!(
            html.contains(r##"class="skip-link" href="#main""##),
            "{path}: skip link"
        );
        assert!(
            html.contains(r#"<main id="main""#),
            "{path}: skip link target"
        );
        assert!(
            html.contains(r#"data-theme="system""#),
            "{path}: default theme"
        );
        assert!(
            html.contains(&format!(r#"href="{path}" aria-current="page""#)),
            "{path}: nav"
        );
        assert!(!html.contains("<script>"), "{path}: no inline script");
        assert!(
            !html.contains("style=\""),
            "{path}: no inline style (CSP forbids it)"
        );
    }

    // Built by hand: a theme cookie the browser never got from this app.
    let dark = Reply::read(
        app.client
            .get(app.url("/about"))
            .header("cookie", "theme=dark"),
    )
    .await;
    let html = dark.text();
    assert!(
        html.contains(r#"data-theme="dark""#),
        "theme cookie is applied on the server"
    );
    assert!(html.contains(r#"value="dark" data-theme-choice aria-pressed="true""#));
}

#[tokio::test]
async fn the_theme_form_works_without_javascript() {
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;
    let browser = BrowserSession::new(&app);
    let csrf = csrf_from(&browser.page("/about").await);
    let forged = browser
        .post_form(
            "/preferences/theme",
            &[("theme", "light"), ("return_to", "/about")],
        )
        .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "the form needs its CSRF token"
    );
    let response = browser
        .post_form(
            "/preferences/theme",
            &[
                ("theme", "light"),
                ("return_to", "/about"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.header("location"), "/about");
    let cookie = response.headers["set-cookie"].to_str().unwrap_or("");
    assert!(cookie.starts_with("theme=light;"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");

    let open_redirect = browser
        .post_form(
            "/preferences/theme",
            &[
                ("theme", "dark"),
                ("return_to", "//evil.example/"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(open_redirect.header("location"), "/");

    let bad = browser
        .post_form(
            "/preferences/theme",
            &[("theme", "neon"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("That did not work"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;
    for path in [
        "/",
        "/about",
        "/api/health",
        "/api/missing",
        "/missing",
        "/metrics",
    ] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path}: no CSP"));
        for forbidden in CSP_FORBIDDEN {
            assert!(!csp.contains(forbidden), "{path}: CSP allows {forbidden}");
        }
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("object-src 'none'"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert!(headers.contains_key("referrer-policy"), "{path}");
        assert!(headers.contains_key("x-request-id"), "{path}: request id");
    }
}

#[tokio::test]
async fn static_assets_are_hashed_immutable_and_compressed() {
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;
    let html = app.get("/").await.text().await.expect("body");
    let css_url = html
        .split('"')
        .find(|part| part.starts_with("/static/") && part.ends_with("/app.css"))
        .expect("the layout links the stylesheet by hashed URL")
        .to_owned();
    let js_url = html
        .split('"')
        .find(|part| part.starts_with("/static/") && part.ends_with("/app.js"))
        .expect("the layout loads the script by hashed URL")
        .to_owned();

    for url in [&css_url, &js_url] {
        let response = app.get(url).await;
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{url}"
        );
    }
    let css = app.get(&css_url).await;
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/css")
    );

    let stale = app.get("/static/0000000000000000/app.css").await;
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(
        stale.headers()["cache-control"],
        "no-cache",
        "a stale hash is not cached for a year"
    );
    assert_eq!(
        app.get("/static/0000000000000000/nope.css").await.status(),
        StatusCode::NOT_FOUND
    );

    // Built by hand from here: the accepted encodings are what is tested.
    let compressed = Reply::read(
        app.client
            .get(app.url(&css_url))
            .header("accept-encoding", "gzip"),
    )
    .await;
    assert_eq!(compressed.header("content-encoding"), "gzip");

    // A small JSON answer is not worth an encoder's set-up: it goes out as it is.
    let small = Reply::read(
        app.client
            .get(app.url("/api/health"))
            .header("accept-encoding", "gzip, br"),
    )
    .await;
    assert_eq!(small.status, StatusCode::OK);
    assert!(
        small.headers.get("content-encoding").is_none(),
        "{:?}",
        small.headers
    );
    let page = Reply::read(app.client.get(app.url("/")).header("accept-encoding", "br")).await;
    assert_eq!(page.header("content-encoding"), "br", "pages still are");
}

#[tokio::test]
async fn request_ids_are_generated_or_propagated() {
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;
    let generated = app.get("/").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    // Built by hand: the caller's own request id is what is tested.
    let propagated = Reply::read(
        app.client
            .get(app.url("/"))
            .header("x-request-id", "trace-me-123"),
    )
    .await;
    assert_eq!(propagated.header("x-request-id"), "trace-me-123");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_with_a_latency_histogram() {
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;
    for _ in 0..3 {
        app.get("/about").await;
    }
    app.get("/api/nothing-here").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("body");
    let about_count = text
        .lines()
        .find(|line| {
            line.starts_with("aipasta_http_requests_total{")
                && line.contains(r#"route="/about""#)
                && line.contains(r#"status="200""#)
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no /about counter in:\n{text}"));
    // Other tests in this binary share the process-wide recorder, so at least ours are there.
    assert!(about_count >= 3, "{about_count}");
    assert!(text.contains(r#"route="unmatched""#) && text.contains(r#"status="404""#));
    assert!(
        text.contains("aipasta_http_request_duration_seconds_bucket{"),
        "histogram"
    );
}
