//! The catalog a fresh install starts with, compiled into the binary: facts derived from a
//! captured OpenRouter model list by `aipasta catalog build-seed` (no provider descriptions;
//! each model gets one written from its facts until a sync brings the provider's own).

use aipasta_core::catalog::ModelFacts;

use super::{seed_categories, upsert_provider_models};
use crate::{Db, DbError, Query};

/// The seed file, as kept in the repository.
pub const SEED_JSON: &str = include_str!("../../seed/catalog.json");

/// Developers whose newest model is featured on a fresh install's home page.
const FEATURED_DEVELOPERS: &[&str] = &[
    "anthropic",
    "openai",
    "google",
    "meta-llama",
    "mistralai",
    "deepseek",
    "qwen",
    "x-ai",
];

/// Parses the compiled-in seed.
pub fn seed_models() -> Result<Vec<ModelFacts>, serde_json::Error> {
    serde_json::from_str(SEED_JSON)
}

/// Seeds the categories (always, idempotently) and, when the catalog has no models at all, the
/// compiled-in models; answers how many models were seeded.
pub async fn seed_if_empty(db: &Db) -> Result<usize, DbError> {
    seed_categories(db).await?;
    let existing: i64 = Query::new("SELECT COUNT(*) FROM models")
        .fetch_scalar(db)
        .await?;
    if existing > 0 {
        return Ok(0);
    }
    let models = seed_models().map_err(|e| DbError::Seed(e.to_string()))?;
    let mut seeded = 0;
    let mut providers: Vec<&str> = models.iter().map(|m| m.provider.as_str()).collect();
    providers.sort_unstable();
    providers.dedup();
    for provider in providers {
        seeded += upsert_provider_models(db, provider, &models, false)
            .await?
            .inserted;
    }
    feature_newest(db).await?;
    Ok(seeded)
}

/// Features the newest chat model of each well-known developer.
async fn feature_newest(db: &Db) -> Result<(), DbError> {
    for developer in FEATURED_DEVELOPERS {
        let prefix = format!("{developer}/%");
        let newest: Option<(String,)> = Query::new(
            "SELECT id FROM models WHERE provider_model_id LIKE $1 AND is_free = FALSE \
             AND cap_chat_completion = TRUE AND status = 'active' \
             ORDER BY release_date DESC, slug LIMIT 1",
        )
        .bind(prefix)
        .fetch_optional(db)
        .await?;
        if let Some((id,)) = newest {
            Query::new("UPDATE models SET is_featured = TRUE WHERE id = $1")
                .bind(id)
                .execute(db)
                .await?;
            db.note_catalog_change();
        }
    }
    Ok(())
}
