//! [`MockServer`]: the in-process axum server tests start on `127.0.0.1:0`, and the handle
//! they use to script it (bodies, faults) and inspect what it received.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::middleware;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::catalog::CatalogBodies;
use crate::fault::Fault;
use crate::generate::store::{HubTags, Scripts};
use crate::generate::{self, HfTask, Script};
use crate::record::{RecordedRequest, record_request};
use crate::spawn::serve_until_stopped;
use crate::state::Shared;
use crate::{catalog, fixtures};

/// OpenRouter's model list; the OpenRouter base URL is `{url}/api/v1`.
pub const OPENROUTER_MODELS_PATH: &str = "/api/v1/models";
/// The Hugging Face Hub's model search; the Hub URL is `{url}`.
pub const HF_HUB_MODELS_PATH: &str = "/api/models";
/// An OpenAI-compatible server's model list; its base URL is `{url}/v1`.
pub const OPENAI_MODELS_PATH: &str = "/v1/models";

/// What the mock serves when it starts. Every body can be replaced while it runs.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// The whole `GET /api/v1/models` body.
    pub openrouter_models: Bytes,
    /// A JSON array of Hub models; each request gets it filtered by `pipeline_tag`, sorted by
    /// `sort` and cut to `limit`.
    pub hf_hub_models: Bytes,
    /// The whole `GET /v1/models` body.
    pub openai_models: Bytes,
}

impl Default for MockConfig {
    /// The small fixtures in [`crate::fixtures`].
    fn default() -> MockConfig {
        MockConfig {
            openrouter_models: Bytes::from_static(fixtures::OPENROUTER_MODELS_SMALL.as_bytes()),
            hf_hub_models: Bytes::from_static(fixtures::HF_HUB_MODELS_SMALL.as_bytes()),
            openai_models: Bytes::from_static(fixtures::OPENAI_MODELS_SMALL.as_bytes()),
        }
    }
}

/// What the mock server serves: the catalog bodies and the generation scripts.
pub(crate) struct MockData {
    pub(crate) catalog: CatalogBodies,
    pub(crate) generation: Scripts,
}

/// A running mock upstream. Dropping it stops the server and ends any stall in progress
/// (including streams waiting between chunks, which then end abruptly).
pub struct MockServer {
    pub address: SocketAddr,
    shared: Arc<Shared<MockData>>,
    shutdown: watch::Sender<bool>,
}

impl MockServer {
    /// Starts the server on a free loopback port. Panics if no port can be bound: this is test
    /// tooling, and a test cannot go on without its upstream.
    pub async fn start(config: MockConfig) -> MockServer {
        match MockServer::try_start(config).await {
            Ok(server) => server,
            Err(error) => panic!("the mock server could not bind 127.0.0.1:0: {error}"),
        }
    }

    /// Starts the server on a free loopback port.
    pub async fn try_start(config: MockConfig) -> io::Result<MockServer> {
        MockServer::try_start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    /// Starts the server on this address (port 0 picks a free one), e.g. for the
    /// `aipasta-mock` binary.
    pub async fn try_start_on(address: SocketAddr, config: MockConfig) -> io::Result<MockServer> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let (shutdown, stopping) = watch::channel(false);
        let generation = Scripts::new(&config.hf_hub_models);
        let shared = Arc::new(Shared::new(
            MockData {
                catalog: CatalogBodies {
                    openrouter_models: config.openrouter_models,
                    hf_hub_models: config.hf_hub_models,
                    openai_models: config.openai_models,
                },
                generation,
            },
            shutdown.subscribe(),
        ));
        let app = Router::new()
            .merge(catalog::routes())
            .merge(generate::routes())
            .fallback(|| async { (StatusCode::NOT_FOUND, "no such mock route") })
            .layer(middleware::from_fn_with_state(
                shared.clone(),
                record_request,
            ))
            .with_state(shared.clone());
        serve_until_stopped(listener, app, stopping);
        Ok(MockServer {
            address,
            shared,
            shutdown,
        })
    }

    /// The server's root, e.g. `http://127.0.0.1:41234` (the Hugging Face Hub URL).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The OpenRouter API base URL: `{url}/api/v1`.
    pub fn openrouter_base_url(&self) -> String {
        format!("{}/api/v1", self.url())
    }

    /// The OpenAI-compatible base URL: `{url}/v1`.
    pub fn openai_base_url(&self) -> String {
        format!("{}/v1", self.url())
    }

    /// The Hugging Face router's OpenAI-compatible base URL: `{url}/hf/v1`.
    pub fn hf_router_base_url(&self) -> String {
        format!("{}/hf/v1", self.url())
    }

    /// The Hugging Face inference API base: `{url}/hf-inference`; a model's URL is
    /// `{hf_inference_url}/models/{model}`.
    pub fn hf_inference_url(&self) -> String {
        format!("{}/hf-inference", self.url())
    }

    /// Replaces the OpenRouter models body (e.g. with a model removed or changed).
    pub fn set_openrouter_models(&self, body: impl Into<Bytes>) {
        self.shared.lock().data.catalog.openrouter_models = body.into();
    }

    /// Replaces the Hub models array (and with it each model's inference task).
    pub fn set_hf_hub_models(&self, body: impl Into<Bytes>) {
        let body = body.into();
        // Parsed here, once, outside the lock, not on every inference request.
        let tags = HubTags::parse(&body);
        let mut inner = self.shared.lock();
        inner.data.generation.set_hub_tags(tags);
        inner.data.catalog.hf_hub_models = body;
    }

    /// Replaces the OpenAI-compatible models body.
    pub fn set_openai_models(&self, body: impl Into<Bytes>) {
        self.shared.lock().data.catalog.openai_models = body.into();
    }

    /// Queues a script for the next request on `path` (e.g. [`generate::OPENROUTER_CHAT_PATH`],
    /// or [`generate::hf_inference_path`]); each request takes the oldest, so a test can play
    /// "429, then an answer".
    pub fn push_script(&self, path: &str, script: Script) {
        self.shared.lock().data.generation.push(path, script);
    }

    /// The script for `path` when its queue is empty.
    pub fn set_default_script(&self, path: &str, script: Script) {
        self.shared.lock().data.generation.set_default(path, script);
    }

    /// Forgets the queued scripts and the default of `path`.
    pub fn clear_scripts(&self, path: &str) {
        self.shared.lock().data.generation.clear(path);
    }

    /// The script for every path that has neither a queued script nor a default (initially
    /// [`Script::default`]).
    pub fn set_fallback_script(&self, script: Script) {
        self.shared.lock().data.generation.set_fallback(script);
    }

    /// How many scripts are still queued for `path`.
    pub fn queued_scripts(&self, path: &str) -> usize {
        self.shared.lock().data.generation.queued(path)
    }

    /// Makes the inference API treat `model` as this task, whatever the Hub list says.
    pub fn set_hf_task(&self, model: &str, task: HfTask) {
        self.shared.lock().data.generation.set_task(model, task);
    }

    /// Scripts (or with `None` clears) a fault on one route, by path (e.g.
    /// [`OPENROUTER_MODELS_PATH`]). It stays until cleared.
    pub fn set_fault(&self, path: &str, fault: Option<Fault>) {
        self.shared.set_fault(path, fault);
    }

    /// Scripts (or clears) the same fault on all three model-list routes.
    pub fn set_models_fault(&self, fault: Option<Fault>) {
        for path in [
            OPENROUTER_MODELS_PATH,
            HF_HUB_MODELS_PATH,
            OPENAI_MODELS_PATH,
        ] {
            self.set_fault(path, fault.clone());
        }
    }

    /// How many requests arrived for this path (any method, any query).
    pub fn request_count(&self, path: &str) -> usize {
        self.shared.request_count(path)
    }

    /// The requests that arrived for this path, oldest first (of the last 1000 requests).
    pub fn requests(&self, path: &str) -> Vec<RecordedRequest> {
        self.shared.requests(path)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}
