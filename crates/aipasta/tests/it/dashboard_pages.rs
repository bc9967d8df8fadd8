//! The dashboard's pages on both databases: the overview's figures are the API's
//! (`/api/users/stats`), the usage page's tables and its CSV carry the report's numbers (labels
//! defused against formula injection), a bad parameter is a 400 naming its field; favorites are
//! starred and unstarred through the forms every model card, model page and the playground's
//! picker carry, ordered with move up/down, and the order is the API's and the profile's;
//! the toggle never sends the browser off-site, and no form works without its CSRF token.

use aipasta_core::money::{Nanos, human_usd};
use aipasta_store::testing::backends;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{BrowserSession, TestApp, TestUser, csrf_from, spawn_seeded_app};
use crate::playground::{MODEL, generate, start};

/// Two other seeded models.
const NOVA: &str = "amazon/nova-micro-v1";
const AION: &str = "aion-labs/aion-1.0";

fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn dollars(nanos: i64) -> String {
    format!("${}", human_usd(Nanos(nanos).usd()))
}

fn int(value: &Value) -> i64 {
    value
        .as_i64()
        .unwrap_or_else(|| panic!("a number: {value}"))
}

/// The value a page shows for `data-stat="{name}"`.
fn stat(html: &str, name: &str) -> String {
    let marker = format!(r#"data-stat="{name}">"#);
    let rest = &html[html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} stat in {html}"))
        + marker.len()..];
    rest[..rest.find('<').unwrap()].to_owned()
}

/// The part of `html` from `start` to the next `end`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {html}"));
    let rest = &html[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The cells of the row headed `label` in a table: its `<td>` texts.
fn row_cells(table: &str, label: &str) -> Vec<String> {
    let row = between(table, &format!(r#"<th scope="row">{label}</th>"#), "</tr>");
    row.split("<td class=\"mono\">")
        .skip(1)
        .map(|cell| cell[..cell.find("</td>").unwrap()].to_owned())
        .collect()
}

/// The column headings of a table, after the first.
fn columns(table: &str) -> Vec<String> {
    between(table, "<thead>", "</thead>")
        .split(r#"<th scope="col">"#)
        .skip(2)
        .map(|cell| cell[..cell.find("</th>").unwrap()].to_owned())
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The value of the hidden field `name` in a form.
fn hidden(form: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let rest = &form[form
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {form}"))
        + marker.len()..];
    unescape(&rest[..rest.find('"').unwrap()])
}

/// The star form of the model card `slug` (or of the page when `slug` is `None`).
fn star_form(html: &str, slug: Option<&str>) -> String {
    let from = match slug {
        Some(slug) => html
            .find(&format!(r#"data-model="{slug}""#))
            .unwrap_or_else(|| panic!("no card of {slug}")),
        None => 0,
    };
    between(&html[from..], r#"<form class="star-form""#, "</form>").to_owned()
}

async fn model_id(app: &TestApp, slug: &str) -> String {
    aipasta_store::catalog::find_model(&app.db, slug)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{slug} is seeded"))
        .id
}

#[tokio::test]
async fn the_overview_and_the_usage_page_show_the_apis_numbers() {
    for backend in backends() {
        let (_mock, app, ada) = start(backend, true).await;
        let browser = BrowserSession::signed_in(&app, &ada).await;

        // Before anything is generated, the overview leads to the playground.
        let empty = browser.get("/dashboard").await;
        assert_eq!(empty.status, StatusCode::OK, "{backend:?}");
        let html = empty.text();
        assert!(html.contains("Nothing generated yet") && html.contains(r#"href="/playground""#));
        assert!(html.contains("No favorites yet") && html.contains(r#"href="/models""#));
        assert_eq!(stat(&html, "month-generations"), "0");

        // Two generations through the API with a JWT (source "playground"), one through /v1.
        let mut ids = Vec::new();
        for prompt in ["Say something short", "Tell me about pasta"] {
            let (status, body) =
                generate(&app, &ada, json!({"model": MODEL, "prompt": prompt})).await;
            assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
            ids.push(body["data"]["id"].as_str().unwrap().to_owned());
        }
        let v1 = app
            .user(&ada)
            .post(
                "/v1/chat/completions",
                json!({"model": MODEL, "messages": [{"role": "user", "content": "hello there"}]}),
            )
            .await;
        assert_eq!(v1.status, StatusCode::OK, "{}", v1.text());
        app.state.engine.flush().await;

        // The overview's figures are the API's.
        let stats = app.user(&ada).get("/api/users/stats").await.json()["data"].clone();
        let month = &stats["month"];
        assert_eq!(int(&month["generations"]), 3, "{backend:?}: {stats}");
        assert!(int(&month["costNanos"]) > 0 && int(&month["used"]) > 0);
        let html = browser.page("/dashboard").await;
        assert_eq!(stat(&html, "month-generations"), "3");
        assert_eq!(stat(&html, "month-tokens"), thousands(int(&month["used"])));
        assert_eq!(
            stat(&html, "month-spend"),
            dollars(int(&month["costNanos"]))
        );
        assert_eq!(stat(&html, "total-generations"), "3");
        assert_eq!(
            stat(&html, "total-tokens"),
            thousands(int(&stats["totals"]["totalTokens"]))
        );
        assert_eq!(
            stat(&html, "total-spend"),
            dollars(int(&stats["totals"]["costNanos"]))
        );
        assert_eq!(stat(&html, "models-used"), "1");
        assert_eq!(stat(&html, "favorites"), "0");
        // The gauge: this month's tokens against the limit, with the days left.
        let gauge = between(&html, r#"class="gauge""#, "</svg>");
        let days = int(&month["daysLeft"]);
        let days = if days == 1 {
            "1 day left".to_owned()
        } else {
            format!("{days} days left")
        };
        let label = format!(
            "{} of {} tokens · {days}",
            thousands(int(&month["used"])),
            thousands(int(&month["limit"]))
        );
        assert!(gauge.contains(&label), "{label} in {gauge}");
        assert!(html.contains(month["resetsOn"].as_str().unwrap()));
        // The last 30 days as charts, each with its numbers; the latest generations linked.
        assert!(html.contains("<title id=") && html.contains("Generations per day, last 30 days"));
        let today = stats["series"].as_array().unwrap().last().unwrap()["start"]
            .as_str()
            .unwrap()
            .to_owned();
        let table = between(&html, r#"data-chart-table="home-generations""#, "</table>");
        assert_eq!(row_cells(table, &today).last().unwrap(), "3", "{table}");
        for id in &ids {
            assert!(html.contains(&format!(r#"href="/dashboard/history/{id}""#)));
        }
        assert!(!html.contains("Nothing generated yet"));

        // The usage page by week and source: the tables hold the API's numbers.
        let query = "groupBy=week&by=source";
        let stats = app
            .user(&ada)
            .get(&format!("/api/users/stats?{query}"))
            .await
            .json()["data"]
            .clone();
        let page = browser.get(&format!("/dashboard/usage?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{backend:?}");
        let html = page.text();
        let tokens = between(&html, r#"data-chart-table="usage-tokens""#, "</table>");
        assert_eq!(
            columns(tokens),
            ["Playground", "/v1 (OpenAI-compatible)", "Total"]
        );
        let bucket = stats["series"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| int(&b["totals"]["generations"]) > 0)
            .unwrap();
        let label = format!("Week of {}", bucket["start"].as_str().unwrap());
        let part = |key: &str, field: &str| {
            let part = bucket["parts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["key"] == key)
                .unwrap_or_else(|| panic!("{key} in {bucket}"));
            int(&part[field])
        };
        assert_eq!(
            row_cells(tokens, &label),
            [
                thousands(part("playground", "totalTokens")),
                thousands(part("v1", "totalTokens")),
                thousands(int(&bucket["totals"]["totalTokens"])),
            ]
        );
        let generations = between(&html, r#"data-chart-table="usage-generations""#, "</table>");
        assert_eq!(row_cells(generations, &label), ["2", "1", "3"]);
        let spend = between(&html, r#"data-chart-table="usage-spend""#, "</table>");
        assert_eq!(
            row_cells(spend, &label)[2],
            dollars(int(&bucket["totals"]["costNanos"]))
        );
        let breakdown = between(&html, "data-breakdown", "</table>");
        let playground = between(breakdown, r#"data-key="playground""#, "</tr>");
        assert!(
            playground.contains(">Playground</th><td class=\"mono\">2</td>"),
            "{playground}"
        );
        assert!(html.contains(r#"<option value="week" selected>"#));
        assert!(html.contains(r#"<option value="source" selected>"#));
        // Quick ranges and the CSV of the same report.
        assert!(html.contains("Last 7 days") && html.contains("This year"));
        let (from, to) = (
            stats["from"].as_str().unwrap().to_owned(),
            stats["to"].as_str().unwrap().to_owned(),
        );
        let csv_link = format!("/dashboard/usage.csv?from={from}&to={to}&groupBy=week&by=source");
        assert!(
            unescape(&html).contains(&format!(r#"href="{csv_link}""#)),
            "{csv_link} in {}",
            between(&html, "/dashboard/usage.csv", " download")
        );

        // A bad value shows the form with the message at its field, as a 400.
        let bad = browser.get("/dashboard/usage?groupBy=hour&by=source").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{backend:?}");
        let html = bad.text();
        let field = between(&html, r#"<select id="usage-group""#, "</div>");
        assert!(
            field.contains(r#"aria-invalid="true""#)
                && field.contains("groupBy must be day, week or month."),
            "{field}"
        );
        assert!(!html.contains("data-chart-table"), "no report");
        let bad = browser.get("/dashboard/usage?from=2026-02-31").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.text().contains(r#"id="usage-from-error""#));

        // The CSV: its header, its file name, a row per day and key, and a label that a
        // spreadsheet would run as a formula defused.
        sqlx_rename(&app, MODEL, "=SUM(1,2)").await;
        let csv = browser
            .get(&format!("/dashboard/usage.csv?from={from}&to={to}"))
            .await;
        assert_eq!(csv.status, StatusCode::OK, "{backend:?}");
        assert_eq!(csv.header("content-type"), "text/csv; charset=utf-8");
        assert_eq!(
            csv.header("content-disposition"),
            format!("attachment; filename=\"aipasta-usage-{from}-{to}.csv\"")
        );
        let text = csv.text();
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines[0],
            "start,key,label,generations,errors,prompt_tokens,completion_tokens,total_tokens,cost_usd"
        );
        let model = model_id(&app, MODEL).await;
        let by_day = app
            .user(&ada)
            .get(&format!("/api/users/stats?from={from}&to={to}"))
            .await
            .json()["data"]
            .clone();
        let used: Vec<&Value> = by_day["series"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| int(&b["totals"]["generations"]) > 0)
            .collect();
        assert_eq!(lines.len(), 1 + used.len(), "{text}");
        let bucket = used[0];
        let totals = &bucket["parts"][0];
        let usd = Nanos(int(&totals["costNanos"]))
            .usd()
            .normalize()
            .to_string();
        assert_eq!(
            lines[1],
            format!(
                "{},{model},\"'=SUM(1,2)\",3,0,{},{},{},{usd}",
                bucket["start"].as_str().unwrap(),
                int(&totals["promptTokens"]),
                int(&totals["completionTokens"]),
                int(&totals["totalTokens"]),
            )
        );
        // A bad value on the download is the form's 400 too.
        let bad = browser.get("/dashboard/usage.csv?by=colour").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.text().contains("by must be model, provider or source."));
    }
}

/// Renames a model as an admin's edit would, straight in the database.
async fn sqlx_rename(app: &TestApp, slug: &str, name: &str) {
    aipasta_store::Query::new("UPDATE models SET display_name = $1 WHERE slug = $2")
        .bind(name)
        .bind(slug)
        .execute(&app.db)
        .await
        .unwrap();
    app.db.note_catalog_change();
    app.state.engine.models.clear();
}

async fn favorite_slugs(app: &TestApp, user: &TestUser) -> Vec<String> {
    let body = app.user(user).get("/api/users/favorites").await.json();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["slug"].as_str().unwrap().to_owned())
        .collect()
}

async fn profile_favorites(app: &TestApp, user: &TestUser) -> Value {
    app.user(user).get("/api/users/profile").await.json()["data"]["preferences"]["favoriteModels"]
        .clone()
}

/// The favorites page's models, in order.
fn page_order(html: &str) -> Vec<String> {
    html.split(r#"data-favorite=""#)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn favorites_are_starred_ordered_and_removed_through_the_forms() {
    for backend in backends() {
        let app = spawn_seeded_app(backend).await;
        let ada = app.sign_up("Ada", "ada@example.com").await;
        let browser = BrowserSession::signed_in(&app, &ada).await;
        let (jamba, nova, aion) = (
            model_id(&app, MODEL).await,
            model_id(&app, NOVA).await,
            model_id(&app, AION).await,
        );

        let html = browser.page("/dashboard/favorites").await;
        assert!(html.contains("No favorites yet") && html.contains(r#"href="/models""#));

        // The model page's star: empty, then filled once posted.
        let path = format!("/models/{MODEL}");
        let html = browser.page(&path).await;
        let form = star_form(&html, None);
        assert!(
            form.contains(r#"action="/dashboard/favorites/toggle""#),
            "{form}"
        );
        assert!(form.contains(r#"aria-pressed="false""#) && form.contains("Add to favorites"));
        assert_eq!(hidden(&form, "model"), jamba);
        assert_eq!(hidden(&form, "return_to"), path);
        let csrf = csrf_from(&html);
        let favorite = hidden(&form, "favorite");
        assert_eq!(favorite, "1");
        let posted = browser
            .post_form(
                "/dashboard/favorites/toggle",
                &[
                    ("csrf_token", &csrf),
                    ("model", &jamba),
                    ("favorite", &favorite),
                    ("return_to", &path),
                ],
            )
            .await;
        assert_eq!(posted.status, StatusCode::SEE_OTHER, "{backend:?}");
        assert_eq!(posted.header("location"), path);
        let form = star_form(&browser.page(&path).await, None);
        assert!(
            form.contains(r#"aria-pressed="true""#)
                && form.contains(r#"aria-label="Remove from favorites""#),
            "{form}"
        );

        // Cards on the listing carry the star too; the toggle alone (no `favorite`) flips.
        let listing = browser.page("/models?q=nova").await;
        let form = star_form(&listing, Some(NOVA));
        assert_eq!(hidden(&form, "return_to"), "/models?q=nova");
        for id in [&nova, &aion] {
            let posted = browser
                .post_form(
                    "/dashboard/favorites/toggle",
                    &[
                        ("csrf_token", &csrf),
                        ("model", id),
                        ("return_to", "/models?q=nova"),
                    ],
                )
                .await;
            assert_eq!(posted.header("location"), "/models?q=nova");
        }
        let listing = browser.page("/models?q=nova").await;
        assert!(star_form(&listing, Some(NOVA)).contains(r#"aria-pressed="true""#));
        assert_eq!(favorite_slugs(&app, &ada).await, [MODEL, NOVA, AION]);

        // Move up and down: the page, the API and the profile agree on the order.
        let post = async |path: &str, fields: &[(&str, &str)]| {
            let mut all = vec![("csrf_token", csrf.as_str())];
            all.extend_from_slice(fields);
            browser.post_form(path, &all).await
        };
        let moved = post(
            "/dashboard/favorites/move",
            &[("model", &aion), ("direction", "up")],
        )
        .await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER);
        assert!(moved.header("location").starts_with("/dashboard/favorites"));
        post(
            "/dashboard/favorites/move",
            &[("model", &jamba), ("direction", "down")],
        )
        .await;
        // At the end already: nothing changes.
        let moved = post(
            "/dashboard/favorites/move",
            &[("model", &nova), ("direction", "down")],
        )
        .await;
        let expected = [AION, MODEL, NOVA];
        assert_eq!(favorite_slugs(&app, &ada).await, expected, "{backend:?}");
        assert_eq!(profile_favorites(&app, &ada).await, json!(expected));
        let html = browser.page(moved.header("location")).await;
        assert_eq!(
            page_order(&html),
            [aion.as_str(), jamba.as_str(), nova.as_str()]
        );
        let first = between(&html, r#"data-favorite=""#, "</li>");
        assert!(first.contains(&format!(r#"href="/models/{AION}/playground""#)));
        assert!(first.contains("Move up") && first.contains(" disabled>Move up"));
        assert!(html.contains("Your favorites are in their new order."));

        // The picker lists them first, in that order.
        let picker = browser.page("/playground").await;
        let first_row = between(&picker, r#"<li class="pg-model">"#, "</li>");
        assert!(
            first_row.contains(&format!(r#"href="/models/{AION}/playground""#))
                && first_row.contains(r#"aria-pressed="true""#),
            "{first_row}"
        );
        let favorites = between(&picker, r#"id="pg-favorites""#, "</ul>");
        let order: Vec<usize> = [AION, MODEL, NOVA]
            .iter()
            .map(|slug| {
                favorites
                    .find(&format!("/models/{slug}/playground"))
                    .unwrap()
            })
            .collect();
        assert!(order.is_sorted(), "{favorites}");

        // A model's own playground stars that model, and comes back to itself.
        let here = format!("/models/{NOVA}/playground");
        let form = star_form(&browser.page(&here).await, None);
        assert_eq!(hidden(&form, "model"), nova);
        assert_eq!(hidden(&form, "return_to"), here);
        assert!(form.contains(r#"aria-pressed="true""#), "{form}");
        let here = format!("/models/{MODEL}/playground");
        let form = star_form(&browser.page(&here).await, None);
        assert_eq!(hidden(&form, "model"), jamba);
        // In another mode than the model's first, the star comes back to that mode.
        let here = format!("/models/{MODEL}/playground?mode=code");
        let form = star_form(&browser.page(&here).await, None);
        assert_eq!(hidden(&form, "return_to"), here);

        // Remove, and toggle off.
        let removed = post("/dashboard/favorites/remove", &[("model", &nova)]).await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        post(
            "/dashboard/favorites/toggle",
            &[("model", &jamba), ("return_to", "/dashboard/favorites")],
        )
        .await;
        assert_eq!(favorite_slugs(&app, &ada).await, [AION]);
        assert_eq!(profile_favorites(&app, &ada).await, json!([AION]));
        assert_eq!(
            page_order(&browser.page("/dashboard/favorites").await),
            [aion.as_str()]
        );
        let overview = browser.page("/dashboard").await;
        assert_eq!(stat(&overview, "favorites"), "1");
        assert!(overview.contains(&format!(r#"<a href="/models/{AION}/playground">"#)));

        // Foreign return paths never send the browser off-site.
        for foreign in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "http:evil.example",
        ] {
            let posted = post(
                "/dashboard/favorites/toggle",
                &[("model", &aion), ("favorite", "1"), ("return_to", foreign)],
            )
            .await;
            assert_eq!(posted.status, StatusCode::SEE_OTHER);
            assert_eq!(
                posted.header("location"),
                "/dashboard/favorites",
                "{foreign}"
            );
        }
        assert_eq!(favorite_slugs(&app, &ada).await, [AION]);

        // No form works without its CSRF token.
        for (path, fields) in [
            (
                "/dashboard/favorites/toggle",
                vec![("model", jamba.as_str()), ("return_to", "/models")],
            ),
            (
                "/dashboard/favorites/remove",
                vec![("model", aion.as_str())],
            ),
            (
                "/dashboard/favorites/move",
                vec![("model", aion.as_str()), ("direction", "down")],
            ),
        ] {
            let refused = browser.post_form(path, &fields).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(favorite_slugs(&app, &ada).await, [AION]);

        // An unknown model is the 404 page; someone else's favorites are their own.
        let unknown = post(
            "/dashboard/favorites/toggle",
            &[("model", "nobody/nothing")],
        )
        .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        let eve = app.sign_up("Eve", "eve@example.com").await;
        let eve_browser = BrowserSession::signed_in(&app, &eve).await;
        let listing = eve_browser.page(&format!("/models/{AION}")).await;
        assert!(star_form(&listing, None).contains(r#"aria-pressed="false""#));
        assert!(favorite_slugs(&app, &eve).await.is_empty());

        // Signed out: no star.
        let anonymous = BrowserSession::new(&app);
        let listing = anonymous.page("/models").await;
        assert!(listing.contains("data-model=") && !listing.contains("star-form"));
        assert!(!anonymous.page("/playground").await.contains("star-form"));
        let playground = anonymous.page(&format!("/models/{AION}/playground")).await;
        assert!(playground.contains("pg-head") && !playground.contains("star-form"));
    }
}
