//! The history pages on both databases, through HTTP with a signed-in browser session: the
//! list shows only the caller's generations; every filter in the query string narrows it;
//! search finds a run by a word of its prompt; a bad filter answers the form with the field's
//! message (400); the next-page links walk every row once; the delete form deletes exactly the
//! ticked rows (and refuses a form without its CSRF token); a generation's page shows its whole
//! input, output and conversation, inert whatever the model wrote; other accounts' ids are 404.

use std::collections::HashSet;

use aipasta_mock::{OPENROUTER_CHAT_PATH, Script};
use aipasta_store::Query;
use aipasta_store::generations::{
    Finished, GenerationRow, GenerationWrite, find_generation, list_user_generations, write_batch,
};
use aipasta_store::testing::backends;
use reqwest::StatusCode;

use crate::helpers::{Reply, TestApp, csrf_from};
use crate::playground::{MODEL, chat_page, page, post_form, signed_in, start};

const DAY_MS: i64 = 86_400_000;
/// 2024-03-01T00:00:00Z.
const MARCH_1: i64 = 1_709_251_200_000;
/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];
const HOSTILE: &str = "Look: <script>alert(1)</script> and <img src=x onerror=alert(1)> done.";

/// The generations a list page shows, in order.
fn rows(html: &str) -> Vec<String> {
    html.split(r#"<tr data-generation=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// Whether `html` holds `text` as escaped text (named or numbered entities).
fn holds_escaped(html: &str, text: &str) -> bool {
    let named = text.replace('<', "&lt;").replace('>', "&gt;");
    let numbered = text.replace('<', "&#60;").replace('>', "&#62;");
    html.contains(&named) || html.contains(&numbered)
}

/// The address of the link labelled `label`, if the page has one.
fn link_to(html: &str, label: &str) -> Option<String> {
    let at = html.find(&format!(">{label}</a>"))?;
    let start = html[..at].rfind("href=\"")? + 6;
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

/// Every tag of `html`, lower-cased.
fn tags(html: &str) -> Vec<String> {
    html.to_lowercase()
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or("").to_owned())
        .collect()
}

/// The ids of `rows` that pass `keep`, newest first (the list's default order).
fn expected(rows: &[GenerationRow], keep: impl Fn(&GenerationRow) -> bool) -> Vec<String> {
    let mut kept: Vec<&GenerationRow> = rows.iter().filter(|row| keep(row)).collect();
    kept.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    kept.into_iter().map(|row| row.id.clone()).collect()
}

/// 30 generations of `user` over three days of March 2024 (modes, sources, statuses and two
/// models in turn), written as the recorder writes them; their ids start with `prefix`.
async fn insert_rows(
    app: &TestApp,
    user: &str,
    prefix: &str,
    models: &[String; 2],
) -> Vec<GenerationRow> {
    let mut rows = Vec::new();
    for n in 0..30_i64 {
        let index = usize::try_from(n).unwrap();
        let created_at = MARCH_1 + (n / 10) * DAY_MS + n * 60_000;
        let failed = n % 5 == 4;
        rows.push(GenerationRow {
            id: format!("{prefix}-0000-7000-8000-{n:012}"),
            user_id: Some(user.to_owned()),
            model_id: Some(models[index % 2].clone()),
            source: ["api", "v1"][index % 2].into(),
            mode: ["text", "code", "image"][index % 3].into(),
            prompt: format!(
                "Inserted prompt number {n} about {}",
                ["quokkas", "walruses"][index % 2]
            ),
            messages: "[]".into(),
            parameters: "{}".into(),
            output_content: format!("Inserted answer {n}"),
            prompt_tokens: n * 3,
            completion_tokens: n * 7,
            total_tokens: n * 10,
            cost_nanos: n * 1_000,
            duration_ms: Some(100 + n * 10),
            status: if failed { "error" } else { "success" }.into(),
            error_code: failed.then(|| "upstream_error".to_owned()),
            error_message: failed.then(|| "The provider failed.".to_owned()),
            visibility: "private".into(),
            created_at,
            updated_at: created_at,
            ..GenerationRow::default()
        });
    }
    write(app, &rows, true).await;
    rows
}

async fn write(app: &TestApp, rows: &[GenerationRow], ended: bool) {
    let writes: Vec<GenerationWrite> = rows
        .iter()
        .map(|row| GenerationWrite {
            row: row.clone(),
            finished: ended.then(Finished::default),
        })
        .collect();
    write_batch(&app.db, &writes).await.unwrap();
}

async fn exists(app: &TestApp, id: &str) -> bool {
    find_generation(&app.db, id).await.unwrap().is_some()
}

#[tokio::test]
async fn history_lists_filters_pages_deletes_and_opens_generations() {
    for backend in backends() {
        let (mock, app, ada) = start(backend, true).await;
        let client = signed_in(&app, &ada).await;

        // Nothing yet: the empty state leads to the playground, and there is nothing to delete.
        let (status, empty) = page(&client, &app, "/dashboard/history").await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {empty}");
        assert!(empty.contains("No generations yet"), "{empty}");
        assert!(empty.contains(r#"href="/playground""#));
        assert!(!empty.contains("Delete selected"));
        assert!(
            empty.contains(r#"href="/dashboard/history" aria-current="page""#),
            "the sidebar marks History"
        );

        // Real runs through the playground's form: a text run, a hostile answer, and a
        // two-turn conversation.
        let (_, form) = page(
            &client,
            &app,
            &format!("/models/{MODEL}/playground?mode=text"),
        )
        .await;
        mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::text("A **haiku** about lighthouses."),
        );
        let (status, _) = post_form(
            &client,
            &app,
            &form,
            &[
                ("mode", "text"),
                ("prompt", "Write a haiku about lighthouses"),
                ("temperature", "0.3"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        mock.push_script(OPENROUTER_CHAT_PATH, Script::text(HOSTILE));
        post_form(
            &client,
            &app,
            &form,
            &[
                ("mode", "text"),
                ("prompt", "Echo <script>alert(2)</script> back"),
            ],
        )
        .await;
        let (chat, session) = chat_page(&client, &app).await;
        mock.push_script(OPENROUTER_CHAT_PATH, Script::text("Zebras have *stripes*."));
        let (_, chat) = post_form(
            &client,
            &app,
            &chat,
            &[
                ("mode", "chat"),
                ("session", &session),
                ("prompt", "First question about zebras"),
            ],
        )
        .await;
        app.state.engine.flush().await;
        mock.push_script(OPENROUTER_CHAT_PATH, Script::text("They **run** fast."));
        post_form(
            &client,
            &app,
            &chat,
            &[
                ("mode", "chat"),
                ("session", &session),
                ("prompt", "Second question about speed"),
            ],
        )
        .await;
        app.state.engine.flush().await;
        let runs = list_user_generations(&app.db, &ada.id, 10, 0)
            .await
            .unwrap();
        assert_eq!(runs.len(), 4, "{backend:?}");
        let by_output = |text: &str| {
            runs.iter()
                .find(|row| row.output_content.contains(text))
                .unwrap_or_else(|| panic!("a run answering {text}"))
                .clone()
        };
        let haiku = by_output("haiku");
        let hostile = by_output("alert(1)");
        let first_turn = by_output("stripes");
        let second_turn = by_output("run** fast");

        // Thirty more, written as the recorder writes them, and another account's three.
        let model = aipasta_store::catalog::find_model(&app.db, MODEL)
            .await
            .unwrap()
            .unwrap();
        let (other_id, other_slug): (String, String) = Query::new(
            "SELECT id, slug FROM models WHERE id <> $1 AND is_active = TRUE ORDER BY slug LIMIT 1",
        )
        .bind(model.id.as_str())
        .fetch_one(&app.db)
        .await
        .unwrap();
        let models = [model.id.clone(), other_id.clone()];
        let inserted = insert_rows(&app, &ada.id, "0190a000", &models).await;
        let eve = app.sign_up("Eve", "eve@example.com").await;
        let mut eves = insert_rows(&app, &eve.id, "0190e000", &models).await;
        eves.truncate(3);
        for row in &mut eves {
            row.prompt = "Eve's own quokkas".into();
        }
        write(&app, &eves, true).await;
        // An image run with its picture.
        let mut picture = inserted[2].clone();
        picture.id = "0190b000-0000-7000-8000-000000000001".into();
        picture.prompt = "A bowl of pasta".into();
        picture.status = "success".into();
        picture.error_code = None;
        picture.error_message = None;
        write_batch(
            &app.db,
            &[GenerationWrite {
                row: picture.clone(),
                finished: Some(Finished {
                    images: vec![("image/png".into(), PNG.to_vec())],
                }),
            }],
        )
        .await
        .unwrap();
        let mut turns = inserted.clone();
        turns.extend(runs.iter().cloned());
        turns.push(picture.clone());
        // What the list shows by default: a conversation once, as its latest turn.
        let all: Vec<GenerationRow> = turns
            .iter()
            .filter(|row| row.id != first_turn.id)
            .cloned()
            .collect();

        // Only the caller's rows, newest first.
        let (status, html) = page(&client, &app, "/dashboard/history?limit=100").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert_eq!(rows(&html), expected(&all, |_| true), "{backend:?}");
        assert!(html.contains("a conversation as its latest turn"), "{html}");
        assert!(html.contains(r#"<option value="conversation" selected>"#));
        // Every turn when asked, and the choice is kept by the form.
        let (status, every) = page(&client, &app, "/dashboard/history?limit=100&group=turn").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(rows(&every), expected(&turns, |_| true), "{backend:?}");
        assert!(
            every.contains(r#"<option value="turn" selected>"#),
            "{every}"
        );
        let (status, bad) = page(&client, &app, "/dashboard/history?group=session").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(bad.contains(r#"id="hist-group-error""#), "{bad}");
        assert!(!html.contains("0190e000"), "another account's rows");
        assert!(!html.contains("Eve&#39;s own") && !html.contains("Eve's own"));
        assert!(html.contains("Delete selected"));
        assert!(html.contains(&format!(r#"href="/dashboard/history/{}""#, haiku.id)));
        assert!(
            html.contains(&format!(r#"href="/models/{MODEL}""#)),
            "model links"
        );
        assert!(
            html.contains("Conversation"),
            "conversation rows are marked"
        );
        assert!(html.contains("upstream_error"), "errors show their code");
        assert!(html.contains("$0.000029"), "costs as money: {backend:?}");
        // The hostile prompt is text in the table.
        assert!(holds_escaped(&html, "Echo <script>alert(2)</script> back"));
        assert!(!html.contains("<script>alert(2)"));

        // Each filter narrows the table.
        let day = |row: &GenerationRow| (row.created_at - MARCH_1).div_euclid(DAY_MS);
        let other_slug_query = format!("model={other_slug}");
        #[allow(clippy::type_complexity)] // a query and the rows it keeps
        let filters: Vec<(&str, Box<dyn Fn(&GenerationRow) -> bool + '_>)> = vec![
            ("mode=code", Box::new(|r| r.mode == "code")),
            ("mode=chat", Box::new(|r| r.mode == "chat")),
            ("source=v1", Box::new(|r| r.source == "v1")),
            ("source=playground", Box::new(|r| r.source == "playground")),
            ("status=error", Box::new(|r| r.status == "error")),
            (
                other_slug_query.as_str(),
                Box::new(|r| r.model_id.as_deref() == Some(other_id.as_str())),
            ),
            ("from=2024-03-02&to=2024-03-02", Box::new(|r| day(r) == 1)),
            ("q=quokkas", Box::new(|r| r.prompt.contains("quokkas"))),
            (
                "mode=image&source=api&status=success",
                Box::new(|r| r.mode == "image" && r.source == "api" && r.status == "success"),
            ),
        ];
        for (query, keep) in &filters {
            let (status, html) = page(
                &client,
                &app,
                &format!("/dashboard/history?limit=100&{query}"),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{query}: {html}");
            let want = expected(&all, keep);
            assert!(!want.is_empty(), "{query} keeps something");
            assert!(want.len() < all.len(), "{query} drops something");
            assert_eq!(rows(&html), want, "{backend:?}: {query}");
        }
        // The form shows the filters back.
        let (_, html) = page(&client, &app, "/dashboard/history?mode=code&q=quokkas").await;
        assert!(html.contains(r#"<option value="code" selected>"#), "{html}");
        assert!(html.contains(r#"value="quokkas""#));
        assert!(
            html.contains(&format!(r#"<option value="{MODEL}""#)),
            "the model filter offers the models used"
        );

        // A word of a run's prompt finds it (the text run's prompt went as a message).
        let (_, found) = page(&client, &app, "/dashboard/history?q=lighthouses").await;
        assert_eq!(rows(&found), vec![haiku.id.clone()], "{backend:?}");
        let (_, found) = page(&client, &app, "/dashboard/history?q=zebras").await;
        assert_eq!(rows(&found), vec![first_turn.id.clone()]);

        // A key sent twice is read as the form would send it, the last value winning.
        let (status, twice) = page(
            &client,
            &app,
            "/dashboard/history?mode=text&mode=code&limit=100",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(rows(&twice), expected(&all, |r| r.mode == "code"));

        // Nothing matches: say so, with a way back.
        let (status, none) = page(&client, &app, "/dashboard/history?q=xylophones").await;
        assert_eq!(status, StatusCode::OK);
        assert!(none.contains("Nothing matches these filters"), "{none}");
        assert_eq!(
            link_to(&none, "Clear filters").as_deref(),
            Some("/dashboard/history")
        );
        assert!(!none.contains("Delete selected"));

        // A bad value: the form again, the message beside its field, 400.
        let (status, bad) = page(&client, &app, "/dashboard/history?sort=color&q=kept").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(bad.contains(r#"id="hist-sort-error""#), "{bad}");
        assert!(bad.contains("sort must be time, cost, tokens or duration"));
        assert!(bad.contains(r#"aria-describedby="hist-sort-error""#));
        assert!(bad.contains(r#"value="kept""#), "the other values stay");
        assert!(rows(&bad).is_empty());
        let (status, bad) = page(&client, &app, "/dashboard/history?from=yesterday").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(bad.contains(r#"id="hist-from-error""#), "{bad}");

        // Next-page links walk every row once, in order, keeping the filters.
        for order in [
            "sort=cost&order=asc",
            "sort=time",
            "sort=duration&order=desc",
        ] {
            let mut href = format!("/dashboard/history?limit=7&{order}");
            let mut seen = Vec::new();
            let mut pages = 0;
            loop {
                let (status, html) = page(&client, &app, &href).await;
                assert_eq!(status, StatusCode::OK, "{href}: {html}");
                let ids = rows(&html);
                assert!(ids.len() <= 7);
                seen.extend(ids);
                if pages > 0 {
                    assert!(
                        link_to(&html, "Back to the first page").is_some(),
                        "a later page leads back to the first"
                    );
                }
                pages += 1;
                match link_to(&html, "Next page") {
                    Some(next) => {
                        assert!(next.contains("cursor="), "{next}");
                        assert!(next.contains("limit=7"), "the filters are kept: {next}");
                        href = next;
                    }
                    None => break,
                }
                assert!(pages < 20, "the pages end");
            }
            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(unique.len(), seen.len(), "{order}: no row twice");
            assert_eq!(seen.len(), all.len(), "{order}: every row");
            assert_eq!(pages, all.len().div_ceil(7), "{order}");
        }
        let (_, second) = page(&client, &app, "/dashboard/history?limit=7&page=2").await;
        assert_eq!(rows(&second), expected(&all, |_| true)[7..14].to_vec());

        // Past the last row, and a cursor this server never gave.
        let (status, past) = page(&client, &app, "/dashboard/history?page=99&mode=code").await;
        assert_eq!(status, StatusCode::OK);
        assert!(past.contains("No more generations here"), "{past}");
        assert_eq!(
            link_to(&past, "Back to the first page").as_deref(),
            Some("/dashboard/history?mode=code")
        );
        let (status, stale) = page(&client, &app, "/dashboard/history?cursor=bm9wZQ").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            stale.contains("cursor is not one this server gave"),
            "{stale}"
        );

        // Delete the ticked rows: exactly those, the filters kept on the way back.
        let (_, list) = page(&client, &app, "/dashboard/history?mode=code&limit=100").await;
        let csrf = csrf_from(&list);
        let delete_form = &list[list.find(r#"action="/dashboard/history/delete""#).unwrap()..];
        let return_to = delete_form
            .split(r#"name="return_to" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(unescape);
        assert_eq!(
            return_to.as_deref(),
            Some("/dashboard/history?mode=code&limit=100")
        );
        let (first, second) = (inserted[1].id.clone(), inserted[4].id.clone());
        let reply = Reply::read(client.post(app.url("/dashboard/history/delete")).form(&[
            ("csrf_token", csrf.as_str()),
            (
                "return_to",
                "/dashboard/history?mode=code&limit=100&deleted=9",
            ),
            ("ids", first.as_str()),
            ("ids", second.as_str()),
            ("ids", eves[0].id.as_str()),
        ]))
        .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
        let location = reply.header("location").to_owned();
        assert_eq!(
            location,
            "/dashboard/history?mode=code&limit=100&deleted=2&missing=1"
        );
        let (_, after) = page(&client, &app, &location).await;
        assert!(after.contains("Deleted 2 generations."), "{after}");
        assert!(!exists(&app, &first).await && !exists(&app, &second).await);
        assert!(
            exists(&app, &eves[0].id).await,
            "another account's row stays"
        );
        assert_eq!(
            rows(&after),
            expected(&all, |r| r.mode == "code"
                && r.id != first
                && r.id != second)
        );
        assert!(exists(&app, &inserted[7].id).await, "unticked rows stay");

        // Without the form's token, or with another one, nothing is deleted.
        let victim = inserted[0].id.clone();
        for token in [None, Some("not-the-token-0123456789abcdefghijklmnop")] {
            let mut fields = vec![("ids", victim.as_str())];
            if let Some(token) = token {
                fields.push(("csrf_token", token));
            }
            let reply = Reply::read(
                client
                    .post(app.url("/dashboard/history/delete"))
                    .form(&fields),
            )
            .await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{token:?}");
        }
        assert!(exists(&app, &victim).await);

        // Nothing ticked; a way back out of the history; a running generation is kept.
        let mut running = inserted[0].clone();
        running.id = "0190a000-0000-7000-8000-999999999999".into();
        running.status = "pending".into();
        running.error_code = None;
        running.created_at = aipasta_core::clock::now_ms();
        running.updated_at = running.created_at;
        write(&app, std::slice::from_ref(&running), false).await;
        let reply = Reply::read(client.post(app.url("/dashboard/history/delete")).form(&[
            ("csrf_token", csrf.as_str()),
            ("return_to", "https://evil.example/dashboard/history"),
        ]))
        .await;
        assert_eq!(
            reply.header("location"),
            "/dashboard/history?notice=none-selected"
        );
        let (_, after) = page(&client, &app, reply.header("location")).await;
        assert!(after.contains("Nothing was selected"), "{after}");
        let reply = Reply::read(client.post(app.url("/dashboard/history/delete")).form(&[
            ("csrf_token", csrf.as_str()),
            ("return_to", "/dashboard/history"),
            ("ids", running.id.as_str()),
            ("ids", victim.as_str()),
        ]))
        .await;
        let (_, after) = page(&client, &app, reply.header("location")).await;
        assert!(
            after.contains("Deleted 1 generation. 1 is still running and was kept"),
            "{after}"
        );
        assert!(exists(&app, &running.id).await && !exists(&app, &victim).await);

        // A generation's page: the whole input, parameters, rendered output and usage.
        let (status, detail) =
            page(&client, &app, &format!("/dashboard/history/{}", haiku.id)).await;
        assert_eq!(status, StatusCode::OK, "{detail}");
        assert!(
            detail.contains("Write a haiku about lighthouses"),
            "{detail}"
        );
        assert!(detail.contains("A <strong>haiku</strong> about lighthouses."));
        assert!(
            detail.contains("A **haiku** about lighthouses."),
            "the raw text"
        );
        assert!(detail.contains("<dt>Temperature</dt><dd class=\"mono\">0.3</dd>"));
        assert!(detail.contains("Prompt tokens") && detail.contains("Time to first token"));
        assert_eq!(
            link_to(&detail, "Open in playground"),
            Some(format!("/models/{MODEL}/playground?run={}", haiku.id))
        );
        assert_eq!(
            link_to(&detail, "Download JSON"),
            Some(format!("/api/users/history/{}", haiku.id))
        );
        // The playground opens it with the same prompt and parameters.
        let (_, reopened) = page(
            &client,
            &app,
            &format!("/models/{MODEL}/playground?run={}", haiku.id),
        )
        .await;
        assert!(reopened.contains("Write a haiku about lighthouses</textarea>"));
        assert!(reopened.contains(r#"value="0.3""#));

        // The JSON download and the picture answer this browser's session.
        let json =
            Reply::read(client.get(app.url(&format!("/api/users/history/{}", haiku.id)))).await;
        assert_eq!(json.status, StatusCode::OK);
        assert_eq!(json.json()["data"]["id"], haiku.id.as_str());
        let (_, pictured) =
            page(&client, &app, &format!("/dashboard/history/{}", picture.id)).await;
        let src = format!("/api/generations/{}/image?index=0", picture.id);
        assert!(
            pictured.contains(&format!(r#"<img src="{src}""#)),
            "{pictured}"
        );
        assert!(pictured.contains("A bowl of pasta"));
        let image = Reply::read(client.get(app.url(&src))).await;
        assert_eq!(image.status, StatusCode::OK);
        assert_eq!(image.body, PNG);

        // A conversation's turn shows the whole conversation, this turn marked.
        let (_, turn) = page(
            &client,
            &app,
            &format!("/dashboard/history/{}", second_turn.id),
        )
        .await;
        let texts = [
            "First question about zebras",
            "Zebras have <em>stripes</em>.",
            "Second question about speed",
            "They <strong>run</strong> fast.",
        ];
        let mut at = 0;
        for text in texts {
            let found = turn[at..]
                .find(text)
                .unwrap_or_else(|| panic!("{backend:?}: {text} after the earlier turns: {turn}"));
            at += found;
        }
        assert!(turn.contains(r#"aria-current="true""#));
        assert!(turn.contains(&format!(r#"href="/dashboard/history/{}""#, first_turn.id)));
        assert_eq!(
            link_to(&turn, "Open in playground"),
            Some(format!("/playground?session={session}"))
        );

        // Model output is inert on the page: escaped text, no live tag.
        let (_, inert) = page(&client, &app, &format!("/dashboard/history/{}", hostile.id)).await;
        assert!(
            holds_escaped(&inert, "<script>alert(1)</script>"),
            "{inert}"
        );
        assert!(holds_escaped(&inert, "<img src=x onerror=alert(1)>"));
        assert!(!inert.contains("<script>alert"));
        for tag in tags(&inert) {
            assert!(!tag.contains("onerror"), "a live handler: <{tag}>");
            assert!(!tag.starts_with("img src=x"), "a live image: <{tag}>");
        }

        // Other accounts' ids and unknown ones are the 404 page.
        for id in [eves[1].id.as_str(), "0190a000-0000-7000-8000-000000009999"] {
            let (status, html) = page(&client, &app, &format!("/dashboard/history/{id}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
            assert!(html.contains("<html"), "the site's page");
            let reply = Reply::read(
                client
                    .post(app.url(&format!("/dashboard/history/{id}/delete")))
                    .form(&[("csrf_token", csrf.as_str())]),
            )
            .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND);
        }
        assert!(exists(&app, &eves[1].id).await);

        // Delete from a generation's page; a running one says to stop it first.
        let reply = Reply::read(
            client
                .post(app.url(&format!("/dashboard/history/{}/delete", running.id)))
                .form(&[("csrf_token", csrf.as_str())]),
        )
        .await;
        let location = reply.header("location").to_owned();
        assert_eq!(
            location,
            format!("/dashboard/history/{}?notice=running", running.id)
        );
        let (_, kept) = page(&client, &app, &location).await;
        assert!(kept.contains("still running: stop it first"), "{kept}");
        let reply = Reply::read(
            client
                .post(app.url(&format!("/dashboard/history/{}/delete", haiku.id)))
                .form(&[("csrf_token", csrf.as_str())]),
        )
        .await;
        assert_eq!(reply.header("location"), "/dashboard/history?deleted=1");
        assert!(!exists(&app, &haiku.id).await);
    }
}
