//! `aipasta models sync` end to end: the real binary against the mock provider, on every
//! backend. Uses the captured OpenRouter list from `../shared/fixtures` when present.

use aipasta_mock::{Fault, MockConfig, MockServer, OPENROUTER_MODELS_PATH, fixtures};
use aipasta_store::testing::TestDatabase;
use aipasta_store::{Backend, Db, Query};
use serde_json::Value;

use crate::helpers::backends;

const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/openrouter-models.json"
);

/// The captured OpenRouter list, or our small one (saying so) when `../shared` is absent.
fn openrouter_list() -> Vec<u8> {
    match std::fs::read(CAPTURE) {
        Ok(bytes) => bytes,
        Err(_) => {
            eprintln!(
                "SKIPPED the captured list: ../shared/fixtures not found; using the small fixture"
            );
            fixtures::OPENROUTER_MODELS_SMALL.as_bytes().to_vec()
        }
    }
}

struct Sync {
    mock: MockServer,
    database: TestDatabase,
    db: Db,
    work_dir: tempfile::TempDir,
}

impl Sync {
    async fn new(backend: Backend, openrouter: Vec<u8>) -> Sync {
        let mock = MockServer::start(MockConfig {
            openrouter_models: openrouter.into(),
            ..MockConfig::default()
        })
        .await;
        let (database, db) = TestDatabase::migrated(backend).await;
        Sync {
            mock,
            database,
            db,
            work_dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs `aipasta models sync --provider <provider>`; answers (success, stdout + stderr).
    async fn run(&self, provider: &str) -> (bool, String) {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aipasta"))
            .current_dir(self.work_dir.path())
            .args([
                "models",
                "sync",
                "--provider",
                provider,
                "--database-url",
                &self.database.url,
            ])
            .env(
                "AIPASTA_OPENROUTER_BASE_URL",
                self.mock.openrouter_base_url(),
            )
            .env("AIPASTA_HUGGINGFACE_HUB_URL", self.mock.url())
            .env("AIPASTA_LOG", "warn")
            .env_remove("AIPASTA_OPENROUTER_API_KEY")
            .env_remove("OPENROUTER_API_KEY")
            .env_remove("AIPASTA_HUGGINGFACE_API_KEY")
            .env_remove("HUGGINGFACE_API_KEY")
            .output()
            .await
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    }

    async fn count(&self, sql: &'static str) -> i64 {
        Query::new(sql).fetch_scalar(&self.db).await.unwrap()
    }
}

#[tokio::test]
async fn sync_imports_every_model_exactly_and_deprecates_what_disappears() {
    let list = openrouter_list();
    let parsed: Value = serde_json::from_slice(&list).unwrap();
    let upstream = parsed["data"].as_array().unwrap().clone();
    for backend in backends() {
        let sync = Sync::new(backend, list.clone()).await;
        let (ok, output) = sync.run("openrouter").await;
        assert!(ok, "{backend:?}: {output}");
        assert!(
            output.contains("openrouter:") && output.contains("models fetched"),
            "{output}"
        );
        assert_eq!(sync.mock.request_count(OPENROUTER_MODELS_PATH), 1);
        let query = &sync.mock.requests(OPENROUTER_MODELS_PATH)[0];
        assert_eq!(query.query_param("output_modalities"), Some("all"));

        let listed = sync
            .count("SELECT COUNT(*) FROM models WHERE provider = 'openrouter' AND status <> 'deprecated'")
            .await;
        assert_eq!(
            listed,
            upstream.len() as i64,
            "{backend:?}: every upstream model is in the catalog"
        );

        // Prices are kept exactly as the provider wrote them; "-1" is unknown, never negative.
        for model in &upstream {
            let id = model["id"].as_str().unwrap();
            let stored: (Option<String>, Option<String>) = Query::new(
                "SELECT price_prompt, price_completion FROM models WHERE provider_model_id = $1",
            )
            .bind(id)
            .fetch_one(&sync.db)
            .await
            .unwrap();
            let expect = |key: &str| match model["pricing"][key].as_str() {
                Some("-1") => None,
                Some(text) => Some(aipasta_core::money::Price::parse(text).unwrap().to_string()),
                None => Some("0".to_owned()),
            };
            assert_eq!(
                stored,
                (expect("prompt"), expect("completion")),
                "{backend:?}: {id}"
            );
        }
        let negative = sync
            .count("SELECT COUNT(*) FROM models WHERE price_prompt LIKE '-%'")
            .await;
        assert_eq!(negative, 0);

        // The provider's description replaces the one the seed wrote from facts.
        let described = &upstream[0];
        let description: String =
            Query::new("SELECT description FROM models WHERE provider_model_id = $1")
                .bind(described["id"].as_str().unwrap())
                .fetch_scalar(&sync.db)
                .await
                .unwrap();
        assert_eq!(
            Some(description.as_str()),
            described["description"].as_str()
        );

        // One model disappears upstream: it is deprecated, not deleted.
        let gone = upstream[1]["id"].as_str().unwrap().to_owned();
        let remaining: Vec<Value> = upstream
            .iter()
            .filter(|m| m["id"] != gone.as_str())
            .cloned()
            .collect();
        sync.mock.set_openrouter_models(
            serde_json::to_vec(&serde_json::json!({ "data": remaining })).unwrap(),
        );
        let (ok, output) = sync.run("openrouter").await;
        assert!(ok, "{output}");
        assert!(output.contains("1 deprecated"), "{output}");
        let status: String = Query::new("SELECT status FROM models WHERE provider_model_id = $1")
            .bind(&gone)
            .fetch_scalar(&sync.db)
            .await
            .unwrap();
        assert_eq!(status, "deprecated", "{backend:?}");
    }
}

#[tokio::test]
async fn a_failing_sync_reports_clearly_and_changes_nothing() {
    for backend in backends() {
        let sync = Sync::new(
            backend,
            fixtures::OPENROUTER_MODELS_SMALL.as_bytes().to_vec(),
        )
        .await;
        let (ok, _) = sync.run("openrouter").await;
        assert!(ok);
        let snapshot = "SELECT CAST(SUM(updated_at) AS BIGINT) FROM models";
        let before = sync.count(snapshot).await;
        let deprecated_before = sync
            .count("SELECT COUNT(*) FROM models WHERE status = 'deprecated'")
            .await;

        for (fault, expected) in [(Fault::Status(500), "500"), (Fault::MalformedJson, "JSON")] {
            sync.mock.set_models_fault(Some(fault));
            let (ok, output) = sync.run("openrouter").await;
            assert!(!ok, "{backend:?}: a failed sync exits with an error");
            assert!(
                output.contains(expected) && output.contains("catalog unchanged"),
                "{output}"
            );
            assert_eq!(
                sync.count(snapshot).await,
                before,
                "{backend:?}: nothing changed"
            );
            assert_eq!(
                sync.count("SELECT COUNT(*) FROM models WHERE status = 'deprecated'")
                    .await,
                deprecated_before
            );
        }
    }
}

#[tokio::test]
async fn hugging_face_hub_models_join_the_catalog() {
    let sync = Sync::new(
        Backend::Sqlite,
        fixtures::OPENROUTER_MODELS_SMALL.as_bytes().to_vec(),
    )
    .await;
    let (ok, output) = sync.run("huggingface").await;
    assert!(ok, "{output}");
    let hf = sync
        .count("SELECT COUNT(*) FROM models WHERE provider = 'huggingface'")
        .await;
    assert!(hf > 0, "{output}");
    let categories: Vec<(String,)> = Query::new(
        "SELECT DISTINCT c.slug FROM models m JOIN categories c ON c.id = m.category_id WHERE m.provider = 'huggingface'",
    )
    .fetch_all(&sync.db)
    .await
    .unwrap();
    assert!(
        categories.len() >= 3,
        "several pipeline tags map to categories: {categories:?}"
    );
    let slug: String = Query::new("SELECT slug FROM models WHERE provider = 'huggingface' LIMIT 1")
        .fetch_scalar(&sync.db)
        .await
        .unwrap();
    assert!(slug.starts_with("hf/"), "{slug}");
}

#[tokio::test]
async fn admins_sync_and_edit_the_catalog_through_the_api() {
    let mock = MockServer::start(MockConfig::default()).await;
    let mut config = aipasta_web::WebConfig::default();
    config.sync.openrouter_base_url = mock.openrouter_base_url();
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, config, false).await;
    let admin = app.sign_up("Admin", "admin@example.com").await;
    aipasta_store::accounts::set_role(&app.db, &admin.id, "admin")
        .await
        .unwrap();
    let user = app.sign_up("User", "user@example.com").await;

    let sync = serde_json::json!({ "provider": "openrouter" });
    let refused = app
        .user(&user)
        .post("/api/admin/models/sync", sync.clone())
        .await;
    assert_eq!(refused.status, reqwest::StatusCode::FORBIDDEN);
    let synced = app
        .user(&admin)
        .post("/api/admin/models/sync", sync.clone())
        .await;
    assert_eq!(synced.status, reqwest::StatusCode::OK);
    let body = synced.json();
    assert!(body["data"][0]["inserted"].as_i64().unwrap() > 0, "{body}");

    let (_, list) = app.get_json("/api/models?limit=1").await;
    let id = list["data"][0]["id"].as_str().unwrap().to_owned();
    let edited = app
        .user(&admin)
        .put(
            &format!("/api/admin/models/{}", id.replace('/', "%2F")),
            serde_json::json!({ "displayName": "House Pick", "featured": true }),
        )
        .await;
    assert_eq!(edited.status, reqwest::StatusCode::OK);
    let again = app
        .user(&admin)
        .post("/api/admin/models/sync", sync.clone())
        .await;
    assert_eq!(again.status, reqwest::StatusCode::OK);
    let (_, model) = app.get_json(&format!("/api/models/{id}")).await;
    assert_eq!(
        model["data"]["displayName"], "House Pick",
        "the hand edit survives the sync"
    );

    mock.set_models_fault(Some(Fault::Status(502)));
    let failed = app.user(&admin).post("/api/admin/models/sync", sync).await;
    assert_eq!(failed.status, reqwest::StatusCode::BAD_GATEWAY);
    let body = failed.json();
    assert_eq!(body["data"][0]["changed"], false);
    assert!(body["data"][0]["error"].as_str().unwrap().contains("502"));
}
