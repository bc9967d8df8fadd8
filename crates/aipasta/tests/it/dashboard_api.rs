//! The dashboard's JSON API on both databases: history (filters, search, sorts, cursor and
//! numbered pages, validation naming the field), deletion (one, several, never another
//! account's, never refunding usage), the streamed export in three formats with hostile cell
//! contents, usage stats against sums made by hand, favorites and their order, and who may
//! call what (another account's ids are 404; a `read` key reads but does not delete).

use aipasta_mock::{OPENROUTER_CHAT_PATH, Script};
use aipasta_store::testing::backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};
use crate::playground::{MODEL, start};

/// Another seeded OpenRouter model.
const OTHER_MODEL: &str = "amazon/nova-micro-v1";

const PROMPTS: [&str; 5] = [
    "Write a haiku about a lighthouse",
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "Explain quantum tunnelling simply",
    "Name a zebra, please",
    "Describe the borrow checker",
];

/// Five generations of Ada's (the second on another model, the fourth as code), oldest first.
async fn five_runs(mock: &aipasta_mock::MockServer, app: &TestApp, user: &TestUser) -> Vec<String> {
    let mut ids = Vec::new();
    for (index, prompt) in PROMPTS.iter().enumerate() {
        mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::text(format!("Answer {index}: @SUM(A1) and more")),
        );
        let model = if index == 1 { OTHER_MODEL } else { MODEL };
        let mut body = json!({"prompt": prompt});
        if index == 3 {
            body["mode"] = json!("code");
        }
        let reply = app
            .user(user)
            .post(&format!("/api/models/{model}/generate"), body)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        ids.push(reply.json()["data"]["id"].as_str().unwrap().to_owned());
        // Distinct creation times, so the order is the order of the runs.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    ids
}

fn ids_of(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {body}"))
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn get(app: &TestApp, user: &TestUser, path: &str) -> (StatusCode, Value) {
    app.call(user, Method::GET, path, None).await
}

async fn read_key(app: &TestApp, user: &TestUser) -> String {
    let (status, body) = app
        .call(
            user,
            Method::POST,
            "/api/users/api-keys",
            Some(json!({"name": "reader", "scopes": ["read"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn history_lists_filters_searches_and_pages_only_your_own_generations() {
    for backend in backends() {
        let (mock, app, ada) = start(backend, true).await;
        let eve = app.sign_up("Eve", "eve@example.com").await;
        let ids = five_runs(&mock, &app, &ada).await;
        let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

        let (status, body) = get(&app, &ada, "/api/users/history").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(ids_of(&body), newest_first, "{backend:?}");
        let first = &body["data"][4];
        assert_eq!(first["prompt"], PROMPTS[0]);
        assert_eq!(first["output"], "Answer 0: @SUM(A1) and more");
        assert_eq!(first["model"], MODEL);
        assert!(first["modelName"].as_str().is_some_and(|n| !n.is_empty()));
        // Signed in (not with an API key): the plan's API counts as the playground.
        assert_eq!(first["source"], "playground");
        assert_eq!(first["mode"], "chat");
        assert_eq!(first["status"], "success");
        assert!(first["createdAt"].as_i64().is_some());
        assert!(first["usage"]["totalTokens"].as_i64().unwrap() > 0);
        assert!(first["cost"].is_number() || first["cost"].is_null());
        assert_eq!(body["pagination"]["hasMore"], false);
        assert!(body["pagination"].get("nextCursor").is_none());

        // Filters and search.
        let (_, by_model) = get(
            &app,
            &ada,
            &format!("/api/users/history?model={OTHER_MODEL}"),
        )
        .await;
        assert_eq!(ids_of(&by_model), [ids[1].clone()]);
        let (_, code) = get(&app, &ada, "/api/users/history?mode=code").await;
        assert_eq!(ids_of(&code), [ids[3].clone()]);
        let (_, found) = get(&app, &ada, "/api/users/history?q=LIGHTHO*").await;
        assert_eq!(
            ids_of(&found),
            [ids[0].clone()],
            "{backend:?}: a start with its *, any case"
        );
        let (_, whole) = get(&app, &ada, "/api/users/history?q=LIGHTHO").await;
        assert!(
            ids_of(&whole).is_empty(),
            "{backend:?}: without a *, words match whole"
        );
        let (_, found) = get(&app, &ada, "/api/users/history?q=zebra%20please").await;
        assert_eq!(ids_of(&found), [ids[3].clone()]);
        let (_, playground) = get(&app, &ada, "/api/users/history?source=playground").await;
        assert_eq!(ids_of(&playground).len(), 5);
        let (_, nothing) = get(&app, &ada, "/api/users/history?source=v1").await;
        assert!(ids_of(&nothing).is_empty());
        let (_, today) = get(
            &app,
            &ada,
            "/api/users/history?from=2000-01-01&to=2999-12-31",
        )
        .await;
        assert_eq!(ids_of(&today).len(), 5);
        let (_, oldest) = get(&app, &ada, "/api/users/history?order=asc&limit=1").await;
        assert_eq!(ids_of(&oldest), [ids[0].clone()]);

        // Cursor pages, then numbered pages, agree.
        let mut seen = Vec::new();
        let mut path = "/api/users/history?limit=2".to_owned();
        loop {
            let (status, page) = get(&app, &ada, &path).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            seen.extend(ids_of(&page));
            match page["pagination"]["nextCursor"].as_str() {
                Some(cursor) => path = format!("/api/users/history?limit=2&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen, newest_first, "{backend:?}");
        let (_, second) = get(&app, &ada, "/api/users/history?limit=2&page=2").await;
        assert_eq!(ids_of(&second), newest_first[2..4]);
        assert_eq!(second["pagination"]["current"], 2);

        // Bad values are refused naming the field.
        for (query, param) in [
            ("sort=color", "sort"),
            ("order=sideways", "order"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("mode=poem", "mode"),
            ("source=fax", "source"),
            ("status=fine", "status"),
            ("model=no/such-model", "model"),
            ("from=yesterday", "from"),
            ("from=2026-02-02&to=2026-01-01", "to"),
            ("cursor=not-a-cursor", "cursor"),
            ("page=0", "page"),
            ("group=session", "group"),
        ] {
            let (status, body) = get(&app, &ada, &format!("/api/users/history?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
            assert_eq!(body["success"], false);
            assert_eq!(body["error"]["param"], param, "{query}: {body}");
        }
        // A cursor of one order does not continue another.
        let (_, page) = get(&app, &ada, "/api/users/history?limit=1&sort=cost").await;
        let cursor = page["pagination"]["nextCursor"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, body) = get(&app, &ada, &format!("/api/users/history?cursor={cursor}")).await;
        assert_eq!(
            (status, &body["error"]["param"]),
            (StatusCode::BAD_REQUEST, &json!("cursor"))
        );

        // One generation, whole; never another account's.
        let (status, one) = get(&app, &ada, &format!("/api/users/history/{}", ids[2])).await;
        assert_eq!(status, StatusCode::OK, "{one}");
        // A chat model's prompt goes as the conversation's one message.
        assert_eq!(one["data"]["input"]["messages"][0]["content"], PROMPTS[2]);
        assert_eq!(one["data"]["mode"], "chat");
        let (status, _) = get(&app, &eve, &format!("/api/users/history/{}", ids[2])).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, theirs) = get(&app, &eve, "/api/users/history").await;
        assert!(ids_of(&theirs).is_empty(), "{backend:?}");
        let (_, theirs) = get(&app, &eve, "/api/users/history?q=lighthouse").await;
        assert!(ids_of(&theirs).is_empty());

        // A read-only key reads history, stats and favorites, and deletes nothing.
        let key = read_key(&app, &ada).await;
        for path in [
            "/api/users/history",
            "/api/users/stats",
            "/api/users/favorites",
        ] {
            let reply = app.bearer(&key).get(path).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
        }
        let reply = app
            .bearer(&key)
            .delete(&format!("/api/users/history/{}", ids[0]))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    }
}

#[tokio::test]
async fn history_lists_a_conversation_once_when_asked() {
    for backend in backends() {
        let (mock, app, ada) = start(backend, true).await;
        let eve = app.sign_up("Eve", "eve@example.com").await;
        let run = async |user: &TestUser, prompt: &str, session: Option<&str>| {
            mock.push_script(
                OPENROUTER_CHAT_PATH,
                Script::text(format!("About {prompt}")),
            );
            let mut body = json!({"prompt": prompt});
            if let Some(session) = session {
                body["sessionId"] = json!(session);
            }
            let reply = app
                .user(user)
                .post(&format!("/api/models/{MODEL}/generate"), body)
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            reply.json()["data"]["id"].as_str().unwrap().to_owned()
        };
        let single = run(&ada, "a single question", None).await;
        let first_turn = run(&ada, "the first turn", Some("trip-1")).await;
        let second_turn = run(&ada, "the second turn", Some("trip-1")).await;
        // Eve's later turn in a conversation of the same id hides nothing of Ada's.
        run(&eve, "someone else", Some("trip-1")).await;

        let (_, every) = get(&app, &ada, "/api/users/history").await;
        assert_eq!(
            ids_of(&every),
            [second_turn.clone(), first_turn.clone(), single.clone()],
            "{backend:?}: every turn by default"
        );
        let (_, grouped) = get(&app, &ada, "/api/users/history?group=conversation").await;
        assert_eq!(
            ids_of(&grouped),
            [second_turn.clone(), single.clone()],
            "{backend:?}"
        );
        let (_, turns) = get(&app, &ada, "/api/users/history?group=turn&order=asc").await;
        assert_eq!(ids_of(&turns), [single, first_turn.clone(), second_turn]);
        // A search lists every turn it finds.
        let (_, found) = get(&app, &ada, "/api/users/history?group=conversation&q=first").await;
        assert_eq!(
            ids_of(&found),
            std::slice::from_ref(&first_turn),
            "{backend:?}"
        );
        // The export reads the same choice (every turn unless asked).
        for (query, expected) in [("", 3), ("&group=conversation", 2)] {
            let reply = app
                .user(&ada)
                .get(&format!("/api/users/history/export?format=json{query}"))
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
            let items: Vec<Value> = serde_json::from_slice(&reply.body).unwrap();
            assert_eq!(items.len(), expected, "{backend:?} {query}");
            assert_eq!(
                items.iter().any(|item| item["id"] == json!(first_turn)),
                query.is_empty(),
                "{backend:?} {query}"
            );
        }
    }
}

#[tokio::test]
async fn deleting_history_removes_only_your_rows_and_refunds_nothing() {
    for backend in backends() {
        let (mock, app, ada) = start(backend, true).await;
        let eve = app.sign_up("Eve", "eve@example.com").await;
        let ids = five_runs(&mock, &app, &ada).await;
        mock.push_script(OPENROUTER_CHAT_PATH, Script::text("Eve's answer"));
        let eve_run = app
            .user(&eve)
            .post(
                &format!("/api/models/{MODEL}/generate"),
                json!({"prompt": "mine"}),
            )
            .await
            .json()["data"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, before) = get(&app, &ada, "/api/users/stats").await;

        let (status, body) = app
            .call(
                &ada,
                Method::DELETE,
                &format!("/api/users/history/{}", ids[0]),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["deleted"], json!([ids[0]]));
        let (status, _) = app
            .call(
                &ada,
                Method::DELETE,
                &format!("/api/users/history/{}", ids[0]),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "gone already");
        let (status, _) = app
            .call(
                &eve,
                Method::DELETE,
                &format!("/api/users/history/{}", ids[1]),
                None,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{backend:?}: not Eve's to delete"
        );

        let (status, body) = app
            .call(
                &ada,
                Method::POST,
                "/api/users/history/delete",
                Some(json!({"ids": [ids[1], ids[2], eve_run, "no-such-id"]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["deleted"], json!([ids[1], ids[2]]));
        assert_eq!(body["data"]["notFound"], json!([eve_run, "no-such-id"]));
        for bad in [json!({"ids": []}), json!({"ids": vec!["x"; 1001]})] {
            let (status, body) = app
                .call(&ada, Method::POST, "/api/users/history/delete", Some(bad))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(body["error"]["param"], "ids");
        }

        let (_, left) = get(&app, &ada, "/api/users/history").await;
        assert_eq!(
            ids_of(&left),
            [ids[4].clone(), ids[3].clone()],
            "{backend:?}"
        );
        let (_, eve_left) = get(&app, &eve, "/api/users/history").await;
        assert_eq!(ids_of(&eve_left), [eve_run], "Eve's run stays");
        let (_, after) = get(&app, &ada, "/api/users/stats").await;
        assert_eq!(
            after["data"]["totals"], before["data"]["totals"],
            "{backend:?}: deleting history refunds nothing"
        );
        assert_eq!(
            after["data"]["month"]["used"],
            before["data"]["month"]["used"]
        );
    }
}

#[tokio::test]
async fn stats_are_the_sums_of_the_generations() {
    for backend in backends() {
        let (mock, app, ada) = start(backend, true).await;
        let ids = five_runs(&mock, &app, &ada).await;
        // Sums by hand from each stored generation.
        let (mut tokens, mut cost, mut by_model) = (0, 0, std::collections::BTreeMap::new());
        for id in &ids {
            let (_, one) = get(&app, &ada, &format!("/api/users/history/{id}")).await;
            let usage = &one["data"]["output"]["usage"];
            tokens += usage["totalTokens"].as_i64().unwrap();
            let nanos = one["data"]["metadata"]["costNanos"].as_i64().unwrap();
            cost += nanos;
            *by_model
                .entry(one["data"]["modelId"].as_str().unwrap().to_owned())
                .or_insert(0) += 1;
        }
        assert!(tokens > 0);

        let (status, stats) = get(&app, &ada, "/api/users/stats").await;
        assert_eq!(status, StatusCode::OK, "{stats}");
        let data = &stats["data"];
        assert_eq!(data["totals"]["generations"], 5, "{backend:?}: {data}");
        assert_eq!(data["totals"]["totalTokens"], tokens);
        assert_eq!(data["totals"]["costNanos"], cost);
        assert_eq!(
            data["series"].as_array().unwrap().len(),
            30,
            "the last 30 days"
        );
        assert_eq!(data["groupBy"], "day");
        let last = data["series"].as_array().unwrap().last().unwrap();
        assert_eq!(last["totals"]["generations"], 5, "all of them today");
        let parts: std::collections::BTreeMap<String, i64> = data["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["key"].as_str().unwrap().to_owned(),
                    p["generations"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(parts, by_model, "{backend:?}");
        assert_eq!(data["month"]["used"], tokens);
        assert!(data["month"]["limit"].as_i64().unwrap() > 0);
        assert_eq!(
            data["month"]["remaining"].as_i64().unwrap(),
            (data["month"]["limit"].as_i64().unwrap() - tokens).max(0)
        );

        let (_, by_source) = get(&app, &ada, "/api/users/stats?groupBy=month&by=source").await;
        let breakdown = by_source["data"]["breakdown"].as_array().unwrap();
        assert_eq!(breakdown.len(), 1);
        assert_eq!(breakdown[0]["key"], "playground");
        assert_eq!(breakdown[0]["generations"], 5);
        let months = by_source["data"]["series"].as_array().unwrap();
        assert!(
            (1..=2).contains(&months.len()),
            "30 days span one or two months"
        );
        let summed: i64 = months
            .iter()
            .map(|m| m["totals"]["generations"].as_i64().unwrap())
            .sum();
        assert_eq!(summed, 5);
        let (_, by_provider) = get(&app, &ada, "/api/users/stats?by=provider").await;
        assert_eq!(by_provider["data"]["breakdown"][0]["key"], "openrouter");

        for (query, param) in [
            ("groupBy=hour", "groupBy"),
            ("by=colour", "by"),
            ("from=2026-13-01", "from"),
            ("from=2026-02-01&to=2026-01-01", "from"),
            ("from=2000-01-01&to=2026-01-01", "from"),
        ] {
            let (status, body) = get(&app, &ada, &format!("/api/users/stats?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
            assert_eq!(body["error"]["param"], param, "{query}");
        }
    }
}

#[tokio::test]
async fn history_exports_stream_json_csv_and_markdown_with_the_filters() {
    for backend in backends() {
        let (mock, app, ada) = start(backend, true).await;
        let eve = app.sign_up("Eve", "eve@example.com").await;
        let ids = five_runs(&mock, &app, &ada).await;

        let reply = app
            .user(&ada)
            .get("/api/users/history/export?format=json")
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert!(reply.header("content-type").starts_with("application/json"));
        assert!(
            reply
                .header("content-disposition")
                .starts_with("attachment; filename=\"aipasta-history-")
                && reply.header("content-disposition").ends_with(".json\""),
            "{}",
            reply.header("content-disposition")
        );
        let items: Vec<Value> = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(items.len(), 5, "{backend:?}");
        assert_eq!(items[0]["id"], ids[4], "newest first");
        assert_eq!(items[4]["prompt"], PROMPTS[0], "whole prompts");
        assert_eq!(items[4]["output"], "Answer 0: @SUM(A1) and more");

        let reply = app
            .user(&ada)
            .get("/api/users/history/export?format=csv&order=asc")
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.header("content-type").starts_with("text/csv"));
        let csv = reply.text();
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(lines[0].starts_with("id,created_at,model,mode,source,status"));
        assert_eq!(lines.len(), 6, "{csv}");
        assert!(lines[1].starts_with(&ids[0]));
        // The formula prompt and the formula output come out defused and quoted.
        assert!(
            lines[2].contains(r#""'=HYPERLINK(""http://evil.example"",""click"")""#),
            "{}",
            lines[2]
        );
        assert!(!csv.contains(",=HYPERLINK"), "{csv}");
        assert!(
            lines[1].contains("Answer 0: @SUM(A1) and more"),
            "mid-cell @ is harmless"
        );

        let reply = app
            .user(&ada)
            .get("/api/users/history/export?format=md&q=quantum")
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let markdown = reply.text();
        assert!(markdown.starts_with("# AI Pasta history"));
        assert!(markdown.contains(PROMPTS[2]), "{markdown}");
        assert!(
            !markdown.contains(PROMPTS[0]),
            "the search applies to exports"
        );
        assert!(reply.header("content-disposition").ends_with(".md\""));

        let reply = app
            .user(&ada)
            .get("/api/users/history/export?format=xml")
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.json()["error"]["param"], "format");
        let reply = app.user(&eve).get("/api/users/history/export").await;
        let theirs: Vec<Value> = serde_json::from_slice(&reply.body).unwrap();
        assert!(theirs.is_empty(), "{backend:?}: Eve exports none of Ada's");
    }
}

#[tokio::test]
async fn favorites_are_added_ordered_removed_and_reflected_in_the_profile() {
    for backend in backends() {
        let (_mock, app, ada) = start(backend, true).await;
        let favorite = |method: Method, model: &str| {
            let path = format!("/api/models/{model}/favorite");
            let app = &app;
            let ada = &ada;
            async move { app.call(ada, method, &path, None).await }
        };
        let (status, body) = favorite(Method::POST, MODEL).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(body["data"]["favorite"], true);
        let (status, body) = favorite(Method::POST, OTHER_MODEL).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, again) = favorite(Method::POST, MODEL).await;
        assert_eq!(
            again["data"]["favorites"].as_array().unwrap().len(),
            2,
            "no duplicate"
        );

        let slugs = |body: &Value| -> Vec<String> {
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["slug"].as_str().unwrap().to_owned())
                .collect()
        };
        let (_, list) = get(&app, &ada, "/api/users/favorites").await;
        assert_eq!(slugs(&list), [MODEL, OTHER_MODEL]);
        let (status, ordered) = app
            .call(
                &ada,
                Method::PUT,
                "/api/users/favorites/order",
                Some(json!({"models": [OTHER_MODEL]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{ordered}");
        assert_eq!(slugs(&ordered), [OTHER_MODEL, MODEL]);
        let (_, profile) = get(&app, &ada, "/api/users/profile").await;
        assert_eq!(
            profile["data"]["preferences"]["favoriteModels"],
            json!([OTHER_MODEL, MODEL]),
            "{backend:?}: the profile follows the order"
        );

        let (status, body) = favorite(Method::DELETE, OTHER_MODEL).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["favorite"], false);
        let (_, list) = get(&app, &ada, "/api/users/favorites").await;
        assert_eq!(slugs(&list), [MODEL]);
        let (status, _) = favorite(Method::POST, "no/such-model").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app
            .call(
                &ada,
                Method::DELETE,
                &format!("/api/models/{MODEL}/unknown-action"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

async fn favorite(app: &TestApp, user: &TestUser, model: &str) {
    let path = format!("/api/models/{model}/favorite");
    let (status, body) = app.call(user, Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A listed model's facts, read straight from the table, to choose recommendations by hand.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Facts {
    id: String,
    slug: String,
    display_name: String,
    category_id: Option<String>,
    price_prompt: Option<String>,
    price_completion: Option<String>,
    context_length: Option<i64>,
    cap_chat_completion: bool,
    cap_code_generation: bool,
    cap_image_analysis: bool,
    cap_image_generation: bool,
    cap_embedding: bool,
}

impl Facts {
    fn price(&self) -> Option<f64> {
        Some(
            self.price_prompt.as_deref()?.parse::<f64>().ok()?
                + self.price_completion.as_deref()?.parse::<f64>().ok()?,
        )
    }

    fn covers(&self, other: &Facts) -> bool {
        (!other.cap_chat_completion || self.cap_chat_completion)
            && (!other.cap_code_generation || self.cap_code_generation)
            && (!other.cap_image_analysis || self.cap_image_analysis)
            && (!other.cap_image_generation || self.cap_image_generation)
            && (!other.cap_embedding || self.cap_embedding)
            && self.context_length.unwrap_or(0) >= other.context_length.unwrap_or(0)
    }
}

#[tokio::test]
async fn recommendations_come_from_prices_shared_favorites_and_popularity() {
    for backend in backends() {
        let (_mock, app, ada) = start(backend, true).await;
        let listed: Vec<Facts> = aipasta_store::Query::new(
            "SELECT id, slug, display_name, category_id, price_prompt, price_completion, \
             context_length, cap_chat_completion, cap_code_generation, cap_image_analysis, \
             cap_image_generation, cap_embedding FROM models \
             WHERE is_active = TRUE AND status <> 'deprecated' ORDER BY slug",
        )
        .fetch_all(&app.db)
        .await
        .unwrap();
        let anchor = listed.iter().find(|m| m.slug == MODEL).unwrap().clone();
        let same_category: Vec<&Facts> = listed
            .iter()
            .filter(|m| m.category_id == anchor.category_id && m.id != anchor.id)
            .collect();
        // By hand: the dearest model still cheaper than the anchor that does all it does.
        let cheaper = same_category
            .iter()
            .filter(|m| m.covers(&anchor))
            .filter(|m| m.price().is_some_and(|p| p < anchor.price().unwrap()))
            .max_by(|a, b| {
                a.price()
                    .partial_cmp(&b.price())
                    .unwrap()
                    .then_with(|| b.slug.cmp(&a.slug))
            })
            .copied()
            .expect("the seeded catalog has a cheaper alternative");
        // Shared favorites and popular models, none of them the cheaper one.
        let others: Vec<&Facts> = same_category
            .iter()
            .filter(|m| {
                m.id != cheaper.id && m.price().is_some_and(|p| p > anchor.price().unwrap())
            })
            .copied()
            .collect();
        let (liked, also_liked, popular) = (others[0], others[1], others[2]);

        favorite(&app, &ada, MODEL).await;
        let mut people = Vec::new();
        for (index, name) in ["Bob", "Cy", "Dee"].iter().enumerate() {
            let user = app
                .sign_up(name, &format!("{}@example.com", name.to_lowercase()))
                .await;
            if index < 2 {
                favorite(&app, &user, MODEL).await;
                favorite(&app, &user, &liked.slug).await;
            }
            if index == 1 {
                favorite(&app, &user, &also_liked.slug).await;
            }
            people.push(user);
        }
        // Three people used the popular model this month, one used the liked one.
        let today = aipasta_core::clock::now_ms() / 86_400_000;
        for (user, model) in people
            .iter()
            .map(|u| (u, popular))
            .chain(std::iter::once((&people[0], liked)))
        {
            aipasta_store::Query::new(
                "INSERT INTO usage_days (user_id, day, model_id, source, generations) \
                 VALUES ($1, $2, $3, 'api', 4)",
            )
            .bind(user.id.as_str())
            .bind(today)
            .bind(model.id.as_str())
            .execute(&app.db)
            .await
            .unwrap();
        }

        let (status, body) = get(&app, &ada, "/api/users/recommendations").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let found: Vec<(String, String, String)> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["slug"].as_str().unwrap().to_owned(),
                    r["kind"].as_str().unwrap().to_owned(),
                    r["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let reason_of = |slug: &str| {
            found
                .iter()
                .find(|(s, _, _)| s == slug)
                .unwrap_or_else(|| panic!("{backend:?}: {slug} is not recommended: {found:#?}"))
                .clone()
        };
        let (_, kind, reason) = reason_of(&cheaper.slug);
        assert_eq!(kind, "cheaper-alternative");
        assert!(
            reason.starts_with(&format!("Cheaper than {}", anchor.display_name)),
            "{reason}"
        );
        let (_, kind, reason) = reason_of(&liked.slug);
        assert_eq!(kind, "shared-taste");
        assert_eq!(
            reason,
            format!(
                "Favorited by 2 people who also favorite {}",
                anchor.display_name
            )
        );
        let (_, kind, reason) = reason_of(&also_liked.slug);
        assert_eq!(
            (kind.as_str(), reason.starts_with("Favorited by 1 person ")),
            ("shared-taste", true)
        );
        let (_, kind, reason) = reason_of(&popular.slug);
        assert_eq!(kind, "popular-in-category");
        assert!(reason.ends_with("used by 3 people this month"), "{reason}");
        assert!(
            found.iter().all(|(slug, _, _)| slug != MODEL),
            "a favorite is never recommended"
        );
        assert!(found.len() <= 6);
        // The dashboard and the favorites page show the same, with their reasons.
        let pages = crate::helpers::BrowserSession::signed_in(&app, &ada).await;
        for path in ["/dashboard", "/dashboard/favorites"] {
            let html = pages.page(path).await;
            for (slug, kind, _) in &found {
                assert!(
                    html.contains(&format!(r#"data-recommended="{slug}" data-kind="{kind}""#)),
                    "{backend:?} {path}: {slug}"
                );
            }
            assert!(html.contains(&format!("Cheaper than {}", anchor.display_name)));
        }

        // Someone new: what everyone uses, most people first.
        let eve = app.sign_up("Eve", "eve@example.com").await;
        let (_, body) = get(&app, &eve, "/api/users/recommendations").await;
        assert_eq!(
            body["data"][0]["slug"],
            popular.slug.as_str(),
            "{backend:?}: {body}"
        );
        assert_eq!(body["data"][0]["kind"], "popular-overall");

        // A model taken out of the catalog on this instance leaves the recommendations at
        // once, although their candidates are kept half a minute.
        aipasta_store::Query::new("UPDATE models SET is_active = FALSE WHERE id = $1")
            .bind(cheaper.id.as_str())
            .execute(&app.db)
            .await
            .unwrap();
        app.state.catalog_changed();
        let (_, body) = get(&app, &ada, "/api/users/recommendations").await;
        assert!(
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["slug"] != cheaper.slug.as_str()),
            "{backend:?}: {body}"
        );
    }
}

#[tokio::test]
async fn usage_alerts_show_at_their_thresholds_on_every_page_and_in_the_stats() {
    for backend in backends() {
        let (_mock, app, ada) = start(backend, true).await;
        let page = crate::helpers::BrowserSession::signed_in(&app, &ada).await;
        let banner = |html: &str| {
            html.split("data-usage-alert=\"")
                .nth(1)
                .map(|rest| rest.split('"').next().unwrap().to_owned())
        };
        assert_eq!(
            banner(&page.page("/models").await),
            None,
            "no use, no banner"
        );

        // One generation uses 10 tokens: 83.3% of a 12-token limit.
        aipasta_store::accounts::set_usage_limits(&app.db, &ada.id, Some(12), "free")
            .await
            .unwrap();
        app.state.engine.usage.forget();
        let reply = app
            .user(&ada)
            .post(
                &format!("/api/models/{MODEL}/generate"),
                json!({"prompt": "one"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let (_, stats) = get(&app, &ada, "/api/users/stats").await;
        let used = stats["data"]["month"]["used"].as_i64().unwrap();
        assert_eq!(used, 10, "{backend:?}: {stats}");
        assert_eq!(stats["data"]["month"]["alert"]["threshold"], 80);
        assert_eq!(stats["data"]["month"]["alert"]["reached"], false);
        for path in ["/models", "/dashboard/settings", "/about", "/dashboard"] {
            let html = page.page(path).await;
            assert_eq!(banner(&html).as_deref(), Some("80"), "{backend:?}: {path}");
            assert!(html.contains("83.3% of this month"), "{path}");
        }
        // The dashboard has the entry as well as the banner.
        assert!(
            page.page("/dashboard")
                .await
                .contains(r#"data-dashboard-alert="80""#),
            "{backend:?}"
        );

        // The person's own thresholds: an invalid one is refused, then 90 alone is not passed.
        let (status, body) = app
            .call(
                &ada,
                Method::PUT,
                "/api/users/settings",
                Some(json!({"usageAlerts": [0, 50]})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = app
            .call(
                &ada,
                Method::PUT,
                "/api/users/settings",
                Some(json!({"usageAlerts": [90]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, settings) = get(&app, &ada, "/api/users/settings").await;
        assert_eq!(settings["data"]["usageAlerts"], json!([90]));
        assert_eq!(
            banner(&page.page("/models").await),
            None,
            "{backend:?}: 85.7% < 90%"
        );
        let (_, stats) = get(&app, &ada, "/api/users/stats").await;
        assert!(stats["data"]["month"]["alert"].is_null());

        // At the limit, the banner says generations are refused.
        aipasta_store::accounts::set_usage_limits(&app.db, &ada.id, Some(10), "free")
            .await
            .unwrap();
        app.state.engine.usage.forget();
        let html = page.page("/models").await;
        assert_eq!(banner(&html).as_deref(), Some("90"), "{backend:?}");
        assert!(html.contains("new generations are refused until"), "{html}");

        // The settings form takes thresholds as text and refuses nonsense, naming it.
        let settings_page = page.page("/dashboard/settings").await;
        let csrf = crate::helpers::csrf_from(&settings_page);
        let reply = page
            .post_form(
                "/dashboard/settings/preferences",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("theme", "system"),
                    ("language", "en"),
                    ("usage_alerts", "eighty"),
                ],
            )
            .await;
        assert!(reply.text().contains("usageAlerts"), "{}", reply.text());
        let reply = page
            .post_form(
                "/dashboard/settings/preferences",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("theme", "system"),
                    ("language", "en"),
                    ("usage_alerts", "100, 50%"),
                ],
            )
            .await;
        assert!(
            reply.status.is_success() || reply.status.is_redirection(),
            "{}",
            reply.status
        );
        let (_, settings) = get(&app, &ada, "/api/users/settings").await;
        assert_eq!(settings["data"]["usageAlerts"], json!([50, 100]));
    }
}
