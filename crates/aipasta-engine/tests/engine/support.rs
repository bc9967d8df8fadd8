//! One engine on a fresh database, an OpenAI-compatible endpoint (`local`) pointing at a
//! [`MockServer`], models seeded for it, and an account to generate as.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aipasta_core::catalog::{Capabilities, ModelFacts, Pricing};
use aipasta_core::money::Price;
use aipasta_core::secret_box::SecretBox;
use aipasta_engine::Engine;
use aipasta_engine::prepare::{GenerateInput, Unsupported};
use aipasta_engine::{
    EngineSettings, EnvEndpoint, GenerateCommand, GenerationError, Live, Outcome, ProviderSettings,
    Source,
};
use aipasta_mock::{MockConfig, MockServer};
use aipasta_providers::generate::{ApiKey, Timeouts};
use aipasta_store::accounts::UserRow;
use aipasta_store::generations::GenerationRow;
use aipasta_store::testing::{TestDatabase, create_account};
use aipasta_store::{Backend, Db, Query};
use serde_json::json;

/// The environment-configured OpenAI-compatible endpoint the mock stands behind.
pub const ENDPOINT: &str = "local";
pub const ENDPOINT_KEY: &str = "sk-local-test";
/// The chat model most tests call, and the one it falls back to when told to.
pub const CHAT: &str = "local/chat-a";
pub const FALLBACK: &str = "local/chat-b";
/// $1 per million prompt tokens and $2 per million completion tokens, in nano-dollars per token.
pub const PROMPT_NANOS_PER_TOKEN: i64 = 1_000;
pub const COMPLETION_NANOS_PER_TOKEN: i64 = 2_000;
/// The chat models' context and answer limits.
pub const CONTEXT: i64 = 8_192;
pub const MAX_ANSWER: i64 = 1_024;
/// Parameters the chat models list (anything else is unsupported).
pub const SUPPORTED: [&str; 4] = ["temperature", "top_p", "max_tokens", "stop"];

/// Waits no test should reach: a generation that takes longer than this is stuck.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Settings with short timeouts and backoffs, so retries and timeouts cost milliseconds.
pub fn settings(mock: &MockServer) -> EngineSettings {
    EngineSettings {
        providers: ProviderSettings {
            openai_compatible: vec![EnvEndpoint {
                name: ENDPOINT.into(),
                // A trailing slash, as operators write it: the engine trims it.
                base_url: format!("{}/", mock.openai_base_url()),
                api_key: Some(ApiKey::new(ENDPOINT_KEY)),
            }],
            ..ProviderSettings::default()
        },
        timeouts: Timeouts {
            first_token: Duration::from_secs(2),
            between_tokens: Duration::from_secs(2),
            total: Duration::from_secs(8),
        },
        max_attempts: 3,
        base_backoff: Duration::from_millis(5),
        max_retry_wait: Duration::from_secs(1),
        shutdown_timeout: Duration::from_secs(2),
        spill_file: None,
    }
}

pub fn secret_box() -> SecretBox {
    SecretBox::for_provider_keys(b"an engine test server secret, 32+ bytes long")
}

pub struct Harness {
    pub mock: MockServer,
    pub engine: Arc<Engine>,
    pub db: Db,
    pub user: UserRow,
    pub backend: Backend,
    // Last: the database outlives the engine's pool.
    _database: TestDatabase,
}

impl Harness {
    /// The engine with [`settings`], the two chat models (no fallbacks yet) and one account.
    pub async fn start(backend: Backend) -> Harness {
        Harness::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut EngineSettings)) -> Harness {
        let mock = MockServer::start(MockConfig::default()).await;
        let (database, db) = TestDatabase::migrated(backend).await;
        let mut settings = settings(&mock);
        adjust(&mut settings);
        let engine = Engine::launch(db.clone(), reqwest::Client::new(), settings, secret_box());
        let user = create_account(&db, "ada@example.com", "user").await;
        let harness = Harness {
            mock,
            engine,
            db,
            user,
            backend,
            _database: database,
        };
        harness.add_model(chat_model(ENDPOINT, "chat-a")).await;
        harness.add_model(chat_model(ENDPOINT, "chat-b")).await;
        harness
    }

    /// Seeds a model row (by its provider's sync, as a real catalog gets them); answers its slug.
    pub async fn add_model(&self, facts: ModelFacts) -> String {
        let slug = facts.slug.clone();
        let provider = facts.provider.clone();
        aipasta_store::catalog::upsert_provider_models(&self.db, &provider, &[facts], false)
            .await
            .unwrap();
        slug
    }

    /// Runs raw SQL on the catalog, then says so to the engine (as an admin's edit would).
    pub async fn edit_model(
        &self,
        sql: &'static str,
        value: impl Into<aipasta_store::Value>,
        slug: &str,
    ) {
        Query::new(sql)
            .bind(value.into())
            .bind(slug)
            .execute(&self.db)
            .await
            .unwrap();
        self.db.note_catalog_change();
        self.engine.changed(aipasta_engine::Change::Catalog);
    }

    pub async fn set_fallbacks(&self, slug: &str, fallbacks: &[&str]) {
        self.edit_model(
            "UPDATE models SET fallback_model_ids = $1 WHERE slug = $2",
            json!(fallbacks).to_string(),
            slug,
        )
        .await;
    }

    /// Starts a generation as the harness's account, refusing unsupported parameters.
    pub async fn start_generation(
        &self,
        model: &str,
        input: &GenerateInput,
    ) -> Result<Arc<Live>, GenerationError> {
        self.start_as(&self.user, model, input, Unsupported::Refuse)
            .await
    }

    pub async fn start_as(
        &self,
        user: &UserRow,
        model: &str,
        input: &GenerateInput,
        unsupported: Unsupported,
    ) -> Result<Arc<Live>, GenerationError> {
        self.engine
            .start(GenerateCommand {
                user,
                model,
                input,
                source: Source::Api,
                unsupported,
                ip_address: Some("203.0.113.7"),
                user_agent: Some("engine-tests"),
            })
            .await
    }

    /// Starts a generation, waits for how it ended and reads its row back through the engine.
    pub async fn run(&self, model: &str, input: &GenerateInput) -> (Arc<Outcome>, GenerationRow) {
        let live = self
            .start_generation(model, input)
            .await
            .unwrap_or_else(|error| panic!("{:?}: refused: {error}", self.backend));
        let outcome = wait(&live).await;
        let row = self.row(&live.id).await;
        (outcome, row)
    }

    /// The generation's row, as its owner reads it.
    pub async fn row(&self, id: &str) -> GenerationRow {
        self.engine
            .generation(id, &self.user.id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{:?}: no row for {id}", self.backend))
    }

    /// How many generations are in the database (refusals must add none).
    pub async fn stored_generations(&self) -> i64 {
        self.engine.flush().await;
        Query::new("SELECT COUNT(*) FROM generations")
            .fetch_scalar(&self.db)
            .await
            .unwrap()
    }
}

pub async fn wait(live: &Live) -> Arc<Outcome> {
    tokio::time::timeout(PATIENCE, live.wait())
        .await
        .expect("the generation ended in time")
}

/// A prompt, streamed or asked for whole.
pub fn prompt(text: &str, stream: bool) -> GenerateInput {
    GenerateInput {
        prompt: Some(text.into()),
        stream,
        ..GenerateInput::default()
    }
}

/// A chat model on `provider`, priced at $1/M in and $2/M out, taking [`SUPPORTED`].
pub fn chat_model(provider: &str, id: &str) -> ModelFacts {
    ModelFacts {
        provider: provider.into(),
        provider_model_id: id.into(),
        slug: format!("{provider}/{id}"),
        name: format!("Test {id}"),
        description: None,
        category: "text-generation".into(),
        tags: Vec::new(),
        pricing: Pricing {
            prompt: Some(Price::parse("0.000001").unwrap()),
            completion: Some(Price::parse("0.000002").unwrap()),
            ..Pricing::default()
        },
        capabilities: Capabilities {
            chat_completion: true,
            text_generation: true,
            ..Capabilities::default()
        },
        input_modalities: vec!["text".into()],
        output_modalities: vec!["text".into()],
        context_length: Some(CONTEXT),
        max_output_tokens: Some(MAX_ANSWER),
        supported_parameters: SUPPORTED.iter().map(|p| (*p).to_owned()).collect(),
        parameter_defaults: BTreeMap::new(),
        developer: None,
        hugging_face_id: None,
        license: None,
        released_at: None,
        downloads: None,
    }
}

/// An image model on `provider` (free, so no price muddles what is checked).
pub fn image_model(provider: &str, id: &str) -> ModelFacts {
    ModelFacts {
        pricing: Pricing::default(),
        capabilities: Capabilities {
            image_generation: true,
            ..Capabilities::default()
        },
        output_modalities: vec!["image".into()],
        supported_parameters: Vec::new(),
        ..chat_model(provider, id)
    }
}
