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

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }
}

/// Starts the app on `backend` with default settings.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, WebConfig::default()).await
}

pub async fn spawn_app_with(backend: Backend, config: WebConfig) -> TestApp {
    let (database, db) = TestDatabase::migrated(backend).await;
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
