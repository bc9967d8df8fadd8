//! Model rows for generations, kept in memory for a few seconds: every call needs its model,
//! and the catalog changes rarely, so the hot path skips the database.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use aipasta_store::Db;
use aipasta_store::catalog::{ModelRow, find_model};

use crate::error::GenerationError;

/// How long a row is reused. Short, so an admin's change made on another instance (a model
/// deactivated, a price corrected) reaches generations within seconds; this instance's own
/// changes drop the cache at once ([`crate::Change::Catalog`]).
const TTL: Duration = Duration::from_secs(5);
/// The most rows (or remembered misses) kept, whatever clients ask for.
const MAX_ENTRIES: u64 = 10_000;

pub struct ModelCache {
    /// A looked-up row, or the fact that there is none (remembered too, briefly).
    entries: Cache<String, Option<Arc<ModelRow>>>,
}

impl Default for ModelCache {
    fn default() -> ModelCache {
        ModelCache {
            entries: Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(TTL)
                .build(),
        }
    }
}

impl ModelCache {
    /// The model with this id or slug (`None`: no such model). Requests for the same model
    /// arriving together share one database read.
    pub async fn get(
        &self,
        db: &Db,
        id_or_slug: &str,
    ) -> Result<Option<Arc<ModelRow>>, GenerationError> {
        if let Some(row) = self.entries.get(id_or_slug).await {
            return Ok(row);
        }
        self.entries
            .try_get_with_by_ref(id_or_slug, async {
                find_model(db, id_or_slug)
                    .await
                    .map(|row| row.map(Arc::new))
            })
            .await
            .map_err(|error| GenerationError::from_db(&error))
    }

    /// Drops every cached row (after the catalog changed, and in tests).
    pub fn clear(&self) {
        self.entries.invalidate_all();
    }
}
