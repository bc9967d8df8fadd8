//! The application state every handler reads: one cheap-to-clone handle.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use aipasta_store::Db;

/// Settings the web layer needs, already validated by the binary's configuration.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Shown on the contact page when set.
    pub contact_email: Option<String>,
}

/// Shared state: the database, settings and process facts.
#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    pub db: Db,
    pub config: WebConfig,
    pub started_at: Instant,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig) -> AppState {
        crate::observability::install_recorder();
        AppState(Arc::new(App {
            db,
            config,
            started_at: Instant::now(),
        }))
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}
