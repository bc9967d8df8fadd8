//! Markdown that would be costly to parse (issue 21: 40 KB of nested `- ` took 6 s, 400 KB of
//! nested `> ` minutes, on the async threads) is shown as escaped plain text with a note, in
//! the render endpoint and on every page that shows an answer or a prompt; ordinary markdown
//! is still formatted; the endpoint refuses more than 1 MiB.

use aipasta_mock::{OPENROUTER_CHAT_PATH, Script};
use aipasta_store::testing::backends;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::playground::{MODEL, chat_page, output_of, page, post_form, signed_in, start};

/// 40 KB of nested quotes: seconds of parsing before the bounds.
fn nested_quotes() -> String {
    format!("{}deep answer", "> ".repeat(20_000))
}

/// 40 KB of nested list items.
fn nested_items() -> String {
    format!("{}deep prompt", "- ".repeat(20_000))
}

/// Nested quotes in two words (the mock counts words as tokens, and an account's monthly
/// allowance is 10,000).
fn nested_quotes_in_few_words(text: &str) -> String {
    format!("{}{text}", ">".repeat(40_000))
}

fn assert_plain(html: &str, text: &str) {
    assert!(
        html.contains("Shown as plain text: nested too deeply to format."),
        "a note says why: {}",
        &html[..html.len().min(2000)]
    );
    assert!(html.contains(r#"<pre class="md-plain">"#));
    assert!(html.contains(text), "the text itself is shown");
    assert!(
        !html.contains("<blockquote>") && !html.contains("<ul>"),
        "nothing of it was parsed"
    );
}

#[tokio::test]
async fn the_render_endpoint_shows_costly_markdown_as_plain_text_and_refuses_over_a_mebibyte() {
    let (_mock, app, user) = start(aipasta_store::Backend::Sqlite, true).await;
    let render = |markdown: String| {
        app.call(
            &user,
            Method::POST,
            "/api/playground/render",
            Some(json!({ "markdown": markdown })),
        )
    };
    for hostile in [
        nested_quotes(),
        nested_items(),
        format!("{}x", ">".repeat(40_000)),
    ] {
        let (status, body) = render(hostile).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let html = body["html"].as_str().unwrap();
        assert!(
            html.contains(r#"<pre class="md-plain">"#),
            "{}",
            &html[..200]
        );
        assert!(html.contains("&gt;") || html.contains("- -"));
    }
    // A table whose one-character rows the parser would pad to the header's 200 columns.
    let padded = format!(
        "{}|\n{}|\n{}",
        "| a ".repeat(200),
        "|---".repeat(200),
        "|\n".repeat(1000)
    );
    let (_, body) = render(padded).await;
    assert!(
        body["html"]
            .as_str()
            .unwrap()
            .contains("a table too wide to format"),
        "{body}"
    );

    // Ordinary markdown, code included, is formatted as before.
    let (status, body) = render(
        "Some **bold**, a [link](https://example.com) and\n\n```rust\nfn main() {}\n```\n\n> a quote\n> > nested twice\n".into(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let html = body["html"].as_str().unwrap();
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(html.contains(r#"<span class="tok-k">fn</span>"#), "{html}");
    assert_eq!(html.matches("<blockquote>").count(), 2, "{html}");

    let (status, body) = render("a".repeat(1024 * 1024 + 1)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "markdown_too_long");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`markdown`"),
        "{body}"
    );
    let (status, _) = render("a".repeat(1024 * 1024)).await;
    assert_eq!(status, StatusCode::OK, "exactly 1 MiB is rendered");
}

/// A hostile answer to a hostile prompt, in a conversation: plain text when answered, when the
/// conversation is reopened, and in the run's own page.
#[tokio::test]
async fn costly_answers_and_prompts_are_shown_as_plain_text_on_every_page() {
    for backend in backends() {
        let (mock, app, user) = start(backend, true).await;
        let client = signed_in(&app, &user).await;
        let (html, session) = chat_page(&client, &app).await;
        mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::text(nested_quotes_in_few_words("deep answer")),
        );
        let prompt = nested_quotes_in_few_words("deep prompt");
        let (status, answered) = post_form(
            &client,
            &app,
            &html,
            &[("mode", "chat"), ("session", &session), ("prompt", &prompt)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        let area = output_of(&answered);
        assert_plain(area, "deep answer");
        assert_plain(area, "deep prompt");

        app.state.engine.flush().await;
        let (_, reopened) = page(
            &client,
            &app,
            &format!("/models/{MODEL}/playground?mode=chat&session={session}"),
        )
        .await;
        let area = output_of(&reopened);
        assert_plain(area, "deep answer");
        assert_plain(area, "deep prompt");

        // A text run (outside conversations) opens on its own page.
        mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::text(nested_quotes_in_few_words("deep answer")),
        );
        let (status, ran) = post_form(
            &client,
            &app,
            &html,
            &[("mode", "text"), ("prompt", "Something deep")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_plain(output_of(&ran), "deep answer");
        app.state.engine.flush().await;
        let (_, list) = page(
            &client,
            &app,
            &format!("/models/{MODEL}/playground?mode=text"),
        )
        .await;
        let run = list
            .split(r#"<a href="/playground/runs/"#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the run is listed");
        let (status, run_page) = page(&client, &app, &format!("/playground/runs/{run}")).await;
        assert_eq!(status, StatusCode::OK);
        let output = run_page
            .split(r#"id="pg-run-answer">"#)
            .nth(1)
            .and_then(|rest| rest.split("</section>").next())
            .expect("the run's output");
        assert_plain(output, "deep answer");
    }
}
