//! The catalog API and pages on a fresh install's seeded catalog, on every backend.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Reply, backends, spawn_seeded_app};

fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .map(|models| {
            models
                .iter()
                .filter_map(|m| m["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_api_lists_filters_sorts_and_paginates_the_seeded_catalog() {
    for backend in backends() {
        let app = spawn_seeded_app(backend).await;
        let (status, body) = app.get_json("/api/models").await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert_eq!(body["success"], true);
        assert_eq!(
            body["data"].as_array().map(Vec::len),
            Some(20),
            "the plan's default page size"
        );
        let total = body["pagination"]["total"].as_i64().unwrap();
        assert!(
            total >= 300,
            "{backend:?}: several hundred real models on first start, got {total}"
        );
        assert_eq!(body["pagination"]["current"], 1);
        assert_eq!(
            body["pagination"]["pages"].as_i64(),
            Some((total + 19) / 20)
        );
        assert_eq!(
            body["pagination"]["totalExact"], true,
            "fewer than 1,000 models are counted exactly"
        );

        let first = &body["data"][0];
        for field in [
            "id",
            "name",
            "displayName",
            "description",
            "provider",
            "category",
            "pricing",
            "capabilities",
        ] {
            assert!(!first[field].is_null(), "{field} in {first}");
        }
        assert!(first["pricing"]["input"].is_number() || first["pricing"]["input"].is_null());
        assert_eq!(first["pricing"]["currency"], "USD");

        // Cheapest first, and the free ones are free.
        let (_, cheap) = app.get_json("/api/models?sort=price&limit=5").await;
        assert_eq!(cheap["data"][0]["pricing"]["free"], true, "{cheap}");
        let (_, free) = app.get_json("/api/models?free=true&limit=100").await;
        assert!(
            free["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["pricing"]["free"] == true)
        );
        assert!(free["pagination"]["total"].as_i64().unwrap() > 0);

        // Most expensive first: prices never increase down the page.
        let (_, dear) = app
            .get_json("/api/models?sort=price&order=desc&limit=50")
            .await;
        let inputs: Vec<f64> = dear["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["pricing"]["input"].as_f64())
            .collect();
        assert!(inputs.windows(2).all(|w| w[0] >= w[1]), "{inputs:?}");

        let (_, vision) = app
            .get_json("/api/models?capability=image-analysis&limit=100")
            .await;
        assert!(
            vision["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["capabilities"]["imageAnalysis"] == true)
        );
        let (_, images) = app.get_json("/api/models?category=image-generation").await;
        assert!(images["pagination"]["total"].as_i64().unwrap() >= 1);
        let (_, long) = app
            .get_json("/api/models?min_context=1000000&limit=100")
            .await;
        assert!(
            long["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["contextLength"].as_i64() >= Some(1_000_000))
        );
        let (_, capped) = app.get_json("/api/models?max_price=1&limit=100").await;
        assert!(
            capped["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["pricing"]["input"].as_f64().unwrap_or(0.0) <= 0.001)
        );

        let (_, page2) = app.get_json("/api/models?sort=name&limit=10&page=2").await;
        let (_, page1) = app.get_json("/api/models?sort=name&limit=10&page=1").await;
        assert_eq!(page2["pagination"]["current"], 2);
        let overlap: Vec<String> = ids(&page1)
            .into_iter()
            .filter(|id| ids(&page2).contains(id))
            .collect();
        assert!(overlap.is_empty(), "pages do not overlap: {overlap:?}");
    }
}

#[tokio::test]
async fn bad_listing_parameters_get_a_400_that_names_the_parameter() {
    let app = spawn_seeded_app(aipasta_store::Backend::Sqlite).await;
    for (query, param) in [
        ("sort=vibes", "sort"),
        ("order=sideways", "order"),
        ("capability=telepathy", "capability"),
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("page=0", "page"),
        ("page=9999", "page"),
        ("category=nonsense", "category"),
        ("provider=nobody", "provider"),
        ("max_price=cheap", "max_price"),
        ("min_context=-5", "min_context"),
        ("free=perhaps", "free"),
    ] {
        let (status, body) = app.get_json(&format!("/api/models?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["code"], "invalid_parameter");
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.contains(&format!("`{param}`")),
            "{query}: {message}"
        );
    }
}

#[tokio::test]
async fn details_search_categories_and_trending() {
    for backend in backends() {
        let app = spawn_seeded_app(backend).await;
        let (_, found) = app.get_json("/api/models/search?q=claude%20opus").await;
        let first = found["data"][0]["id"].as_str().unwrap().to_owned();
        assert!(
            first.starts_with("anthropic/claude-opus"),
            "{backend:?}: {first}"
        );
        for q in ["Claude-Opus", "anthropic%2Fclaude", "CLAUDE%20OPUS"] {
            let (_, again) = app.get_json(&format!("/api/models/search?q={q}")).await;
            assert!(
                ids(&again)
                    .iter()
                    .any(|id| id.starts_with("anthropic/claude-opus")),
                "{q}"
            );
        }
        let (_, exact) = app.get_json("/api/models/search?q=openai%2Fgpt-4o").await;
        assert_eq!(
            exact["data"][0]["id"], "openai/gpt-4o",
            "an exact id ranks first"
        );
        let (status, _) = app.get_json("/api/models/search?q=").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // Details by slug (with its slash) and by UUID.
        let (status, model) = app.get_json("/api/models/openai/gpt-4o").await;
        assert_eq!(status, StatusCode::OK);
        let data = &model["data"];
        assert_eq!(data["provider"], "openrouter");
        assert!(
            data["parameters"]["temperature"]["max"].is_number(),
            "{data}"
        );
        assert!(
            data["parameters"]["supported"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
        );
        assert!(data["related"].is_array());
        let uuid = data["uuid"].as_str().unwrap();
        let (status, by_uuid) = app.get_json(&format!("/api/models/{uuid}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(by_uuid["data"]["id"], "openai/gpt-4o");
        let (status, missing) = app.get_json("/api/models/nobody/nothing").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(missing["error"]["code"], "not_found");

        let (_, tree) = app.get_json("/api/models/categories").await;
        let text = tree["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["slug"] == "text-generation")
            .unwrap();
        let children: i64 = text["subcategories"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["modelCount"].as_i64())
            .sum();
        assert!(
            children > 0 && text["modelCount"].as_i64().unwrap() >= children,
            "{text}"
        );

        let (_, trending) = app.get_json("/api/models/trending").await;
        let trending = trending["data"].as_array().unwrap();
        assert!(
            !trending.is_empty() && trending.iter().all(|m| m["isFeatured"] == true),
            "featured while there is no traffic"
        );
    }
}

#[tokio::test]
async fn catalog_pages_render_filters_and_details() {
    let app = spawn_seeded_app(aipasta_store::Backend::Sqlite).await;
    let page = app.get("/models").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert_eq!(html.matches("data-model=").count(), 24, "24 cards");
    assert!(html.len() < 60_000, "/models is {} bytes", html.len());
    assert!(html.contains("rel=\"next\""), "a way to the next page");
    assert!(html.contains(r#"name="q""#) && html.contains(r#"name="capability""#));

    let filtered = app
        .get("/models?q=claude+opus&sort=price")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        filtered.contains("data-model=\"anthropic/claude-opus"),
        "search works without JavaScript"
    );
    assert!(
        filtered.contains(r#"value="claude opus""#),
        "the form keeps the state"
    );

    // Built by hand: the header the page's script adds is what is tested.
    let fragment = Reply::read(
        app.client
            .get(app.url("/models?free=1"))
            .header("x-fragment", "results"),
    )
    .await
    .text();
    assert!(
        !fragment.contains("<html"),
        "the fragment is only the results"
    );
    assert!(fragment.contains("data-model="));

    let bad = app.get("/models?sort=vibes").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let bad_html = bad.text().await.unwrap();
    assert!(
        bad_html.contains("role=\"alert\"") && bad_html.contains("`sort`"),
        "a form error, not a crash"
    );

    let category = app.get("/models/reasoning").await.text().await.unwrap();
    assert!(category.contains("<h1>Reasoning</h1>"));
    assert!(
        category.contains(r#"href="/models/text-generation""#),
        "breadcrumb to the parent"
    );
    let parent = app
        .get("/models/text-generation")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        parent.contains(r#"href="/models/chat""#),
        "links to sub-categories"
    );

    let model = app.get("/models/openai/gpt-4o").await;
    assert_eq!(model.status(), StatusCode::OK);
    let model_html = model.text().await.unwrap();
    for expected in [
        "<h1>GPT-4o</h1>",
        "Pricing",
        "1 million input tokens",
        "Parameters",
        "Specifications",
        "openai/gpt-4o",
    ] {
        assert!(model_html.contains(expected), "model page lacks {expected}");
    }
    assert_eq!(
        app.get("/models/nobody/nothing").await.status(),
        StatusCode::NOT_FOUND
    );

    let home = app.get("/").await.text().await.unwrap();
    assert!(
        home.contains("Featured models") && home.contains("data-model="),
        "the home page shows featured models"
    );
}

#[tokio::test]
async fn past_a_thousand_models_the_api_and_the_page_say_more_than() {
    use aipasta_core::catalog::ModelFacts;
    for backend in backends() {
        let app = spawn_seeded_app(backend).await;
        let extra: Vec<ModelFacts> = (0..700)
            .map(|i| ModelFacts {
                provider: "openrouter".into(),
                provider_model_id: format!("bulk/model-{i:03}"),
                slug: format!("bulk/model-{i:03}"),
                name: format!("Bulk: Model {i:03}"),
                category: "chat".into(),
                ..ModelFacts::default()
            })
            .collect();
        aipasta_store::catalog::upsert_provider_models(&app.db, "openrouter", &extra, false)
            .await
            .unwrap();

        let (status, body) = app.get_json("/api/models?limit=100").await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        let pagination = &body["pagination"];
        assert_eq!(pagination["totalExact"], false, "{pagination}");
        assert_eq!(pagination["total"], 1000, "{pagination}");
        assert!(pagination["pages"].as_i64().unwrap() > 10, "{pagination}");
        // The last page is still found, and counted exactly.
        let (status, last) = app.get_json("/api/models?limit=100&page=11").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            last["pagination"]["totalExact"], true,
            "{}",
            last["pagination"]
        );
        let total = last["pagination"]["total"].as_i64().unwrap();
        assert!(total > 1000 && total <= 1100, "{total}");
        assert_eq!(last["pagination"]["pages"], 11);

        let html = app.get("/models").await.text().await.unwrap();
        assert!(
            html.contains("More than 1,000 models · page 1"),
            "{backend:?}"
        );
        assert!(!html.contains(" of 42"), "no made-up page count");
    }
}

/// Four successful generations make a model's success rate 100%: stored as the percentage the
/// plan gives (`performance.successRate`), answered as such by the API and shown so on its page.
#[tokio::test]
async fn a_model_that_never_failed_has_a_success_rate_of_100_percent() {
    use aipasta_mock::{MockConfig, MockServer, Script};
    const MODEL: &str = "ai21/jamba-large-1.7";
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let app = crate::helpers::spawn_app_with(
            backend,
            crate::helpers::mock_provider_config(&mock),
            true,
        )
        .await;
        let user = app.sign_up("Rate", "rate@example.com").await;
        let generate = async || {
            app.user(&user)
                .post(
                    &format!("/api/models/{MODEL}/generate"),
                    serde_json::json!({ "prompt": "Say hi" }),
                )
                .await
                .status
        };
        for _ in 0..4 {
            assert_eq!(generate().await, StatusCode::OK, "{backend:?}");
        }
        app.state.engine.flush().await;

        let (status, body) = app.get_json(&format!("/api/models/{MODEL}")).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert_eq!(
            body["data"]["performance"]["successRate"].as_f64(),
            Some(100.0),
            "{backend:?}: a percentage, as the plan's model document has it: {}",
            body["data"]["performance"]
        );
        let html = app
            .get(&format!("/models/{MODEL}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("<dt>Success rate</dt><dd>100%</dd>"),
            "{backend:?}: the page says 100%"
        );

        // One failure in five: the moving average moves down, and stays a percentage.
        mock.push_script(aipasta_mock::OPENROUTER_CHAT_PATH, Script::status(400));
        assert!(!generate().await.is_success(), "{backend:?}");
        app.state.engine.flush().await;
        let (_, body) = app.get_json(&format!("/api/models/{MODEL}")).await;
        let rate = body["data"]["performance"]["successRate"].as_f64().unwrap();
        assert!((rate - 95.0).abs() < 1e-9, "{backend:?}: {rate}");
        let html = app
            .get(&format!("/models/{MODEL}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("<dt>Success rate</dt><dd>95%</dd>"),
            "{backend:?}"
        );
    }
}
