//! Model rows for generations, kept in memory for a few seconds: every call needs its model,
//! and the catalog changes rarely, so the hot path skips the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aipasta_store::catalog::{ModelRow, find_model};
use aipasta_store::{Db, DbError};

/// How long a row is reused. Short, so an admin's change (a model deactivated, a price
/// corrected) reaches generations within seconds.
const TTL: Duration = Duration::from_secs(5);
/// Beyond this many entries the cache starts over, bounding memory whatever clients ask for.
const MAX_ENTRIES: usize = 10_000;

/// A looked-up row (or the fact that there is none) and when it was read.
type Entry = (Instant, Option<Arc<ModelRow>>);

#[derive(Default)]
pub struct ModelCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl ModelCache {
    /// The model with this id or slug (`None`: no such model; remembered too, briefly).
    pub async fn get(&self, db: &Db, id_or_slug: &str) -> Result<Option<Arc<ModelRow>>, DbError> {
        if let Some((at, row)) = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id_or_slug)
            && at.elapsed() < TTL
        {
            return Ok(row.clone());
        }
        let row = find_model(db, id_or_slug).await?.map(Arc::new);
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(id_or_slug.to_owned(), (Instant::now(), row.clone()));
        Ok(row)
    }

    /// Drops every cached row (after an admin edits the catalog, and in tests).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
