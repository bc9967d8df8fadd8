//! `spawn_app`: the whole application on `127.0.0.1:0` with a fresh database, stopped on drop.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use aipasta_store::testing::TestDatabase;
pub use aipasta_store::testing::backends;
use aipasta_store::{Backend, Db};
use aipasta_web::{AppState, WebConfig};

pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub db: Db,
    _database: TestDatabase,
    _shutdown: oneshot::Sender<()>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub async fn get_json(&self, path: &str) -> (reqwest::StatusCode, serde_json::Value) {
        let response = self.get(path).await;
        let status = response.status();
        let body = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("JSON from {path}: {e}"));
        (status, body)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }
}

/// Starts the app on `backend` with default settings and an empty catalog (categories only).
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, WebConfig::default(), false).await
}

/// Starts the app with the compiled-in seed catalog, as a fresh install has.
pub async fn spawn_seeded_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, WebConfig::default(), true).await
}

pub async fn spawn_app_with(backend: Backend, config: WebConfig, seed: bool) -> TestApp {
    let (database, db) = TestDatabase::migrated(backend).await;
    if seed {
        aipasta_store::catalog::seed_if_empty(&db)
            .await
            .expect("seed the catalog");
    } else {
        aipasta_store::catalog::seed_categories(&db)
            .await
            .expect("seed categories");
    }
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let state = AppState::new(db.clone(), config);
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let signal = async {
            let _ = stopped.await;
        };
        if let Err(error) = aipasta_web::serve(listener, state, signal).await {
            eprintln!("test server stopped: {error}");
        }
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));
    TestApp {
        address,
        client,
        db,
        _database: database,
        _shutdown: shutdown,
    }
}
