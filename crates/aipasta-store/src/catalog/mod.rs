//! The model catalog in the database: categories, models, sync from providers, listing and
//! search.

mod categories;
mod index;
mod listing;
mod seed;
mod sync;

pub use categories::{CategoryRow, categories, seed_categories};
pub(crate) use index::IndexCache;
pub use listing::{
    COUNT_UP_TO, ModelPage, ModelQuery, SortField, SortOrder, count_listed_models, list,
    prepare_index, providers, search, trending,
};
pub use seed::{SEED_JSON, seed_if_empty, seed_models};
pub use sync::{AdminEdit, OVERRIDABLE, SyncOutcome, admin_edit, upsert_provider_models};

use aipasta_core::catalog::{Capabilities, ModelStatus, ParameterRange, Pricing};
use aipasta_core::money::Price;
use std::collections::BTreeMap;

use crate::{Db, DbError, Query};

/// One catalog row, every column the pages and the API read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ModelRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub long_description: Option<String>,
    pub provider: String,
    pub provider_model_id: String,
    pub category_id: Option<String>,
    pub category_slug: Option<String>,
    pub category_name: Option<String>,
    pub price_prompt: Option<String>,
    pub price_completion: Option<String>,
    pub price_image: Option<String>,
    pub price_request: Option<String>,
    pub price_cache_read: Option<String>,
    pub price_cache_write: Option<String>,
    pub price_extra: String,
    pub price_currency: String,
    pub is_free: bool,
    pub cap_text_generation: bool,
    pub cap_chat_completion: bool,
    pub cap_code_generation: bool,
    pub cap_translation: bool,
    pub cap_summarization: bool,
    pub cap_image_generation: bool,
    pub cap_image_analysis: bool,
    pub cap_embedding: bool,
    pub input_modalities: String,
    pub output_modalities: String,
    pub context_length: Option<i64>,
    pub max_tokens: Option<i64>,
    pub default_max_tokens: Option<i64>,
    pub supports_streaming: bool,
    pub supports_system_prompt: bool,
    pub temperature_min: Option<f64>,
    pub temperature_max: Option<f64>,
    pub temperature_default: Option<f64>,
    pub top_p_min: Option<f64>,
    pub top_p_max: Option<f64>,
    pub top_p_default: Option<f64>,
    pub supported_parameters: String,
    pub parameter_ranges: String,
    pub average_latency_ms: Option<i64>,
    /// A percentage (0 to 100): the moving share of generations that succeeded.
    pub success_rate: Option<f64>,
    pub uptime: Option<f64>,
    pub version: Option<String>,
    pub release_date: Option<i64>,
    pub developer: Option<String>,
    pub license: Option<String>,
    pub documentation_url: Option<String>,
    pub source_code_url: Option<String>,
    pub paper_url: Option<String>,
    pub hugging_face_id: Option<String>,
    pub downloads: Option<i64>,
    pub generation_count: i64,
    /// JSON array of model ids (or slugs) tried in order when this one is unavailable.
    pub fallback_model_ids: String,
    pub status: String,
    pub is_active: bool,
    pub is_featured: bool,
    pub admin_overrides: String,
    pub synced_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of [`ModelRow`], for `SELECT {MODEL_COLUMNS} FROM models m LEFT JOIN categories c ...`.
pub(crate) const MODEL_COLUMNS: &str = "m.id, m.slug, m.name, m.display_name, m.description, \
m.long_description, m.provider, m.provider_model_id, m.category_id, c.slug AS category_slug, \
c.name AS category_name, m.price_prompt, m.price_completion, m.price_image, m.price_request, \
m.price_cache_read, m.price_cache_write, m.price_extra, m.price_currency, m.is_free, \
m.cap_text_generation, m.cap_chat_completion, m.cap_code_generation, m.cap_translation, \
m.cap_summarization, m.cap_image_generation, m.cap_image_analysis, m.cap_embedding, \
m.input_modalities, m.output_modalities, m.context_length, m.max_tokens, m.default_max_tokens, \
m.supports_streaming, m.supports_system_prompt, m.temperature_min, m.temperature_max, \
m.temperature_default, m.top_p_min, m.top_p_max, m.top_p_default, m.supported_parameters, \
m.parameter_ranges, m.average_latency_ms, m.success_rate, m.uptime, m.version, m.release_date, \
m.developer, m.license, m.documentation_url, m.source_code_url, m.paper_url, m.hugging_face_id, \
m.downloads, m.generation_count, m.fallback_model_ids, m.status, m.is_active, m.is_featured, m.admin_overrides, \
m.synced_at, m.created_at, m.updated_at";

pub(crate) const MODEL_FROM: &str = "models m LEFT JOIN categories c ON c.id = m.category_id";

fn price(text: &Option<String>) -> Option<Price> {
    text.as_deref().and_then(|t| Price::parse(t).ok())
}

fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl ModelRow {
    pub fn pricing(&self) -> Pricing {
        Pricing {
            prompt: price(&self.price_prompt),
            completion: price(&self.price_completion),
            image: price(&self.price_image),
            request: price(&self.price_request),
            cache_read: price(&self.price_cache_read),
            cache_write: price(&self.price_cache_write),
            extra: serde_json::from_str(&self.price_extra).unwrap_or_default(),
        }
    }

    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            text_generation: self.cap_text_generation,
            chat_completion: self.cap_chat_completion,
            code_generation: self.cap_code_generation,
            translation: self.cap_translation,
            summarization: self.cap_summarization,
            image_generation: self.cap_image_generation,
            image_analysis: self.cap_image_analysis,
            embedding: self.cap_embedding,
        }
    }

    pub fn status(&self) -> ModelStatus {
        ModelStatus::parse(&self.status).unwrap_or_default()
    }

    pub fn supported_parameters(&self) -> Vec<String> {
        json_list(&self.supported_parameters)
    }

    pub fn input_modalities(&self) -> Vec<String> {
        json_list(&self.input_modalities)
    }

    pub fn output_modalities(&self) -> Vec<String> {
        json_list(&self.output_modalities)
    }

    /// Every numeric parameter's range, temperature and top-p included.
    pub fn parameter_ranges(&self) -> BTreeMap<String, ParameterRange> {
        let mut ranges: BTreeMap<String, ParameterRange> =
            serde_json::from_str(&self.parameter_ranges).unwrap_or_default();
        if let (Some(min), Some(max), Some(default)) = (
            self.temperature_min,
            self.temperature_max,
            self.temperature_default,
        ) {
            ranges.insert("temperature".into(), ParameterRange { min, max, default });
        }
        if let (Some(min), Some(max), Some(default)) =
            (self.top_p_min, self.top_p_max, self.top_p_default)
        {
            ranges.insert("top_p".into(), ParameterRange { min, max, default });
        }
        ranges
    }

    pub fn fallback_model_ids(&self) -> Vec<String> {
        json_list(&self.fallback_model_ids)
    }

    pub fn admin_overrides(&self) -> Vec<String> {
        json_list(&self.admin_overrides)
    }
}

/// Tags of one model, sorted.
pub async fn model_tags(db: &Db, model_id: &str) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> =
        Query::new("SELECT tag FROM model_tags WHERE model_id = $1 ORDER BY tag")
            .bind(model_id)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(|(tag,)| tag).collect())
}

/// A model by its UUID or its slug (deprecated ones included: history links to them).
pub async fn find_model(db: &Db, id_or_slug: &str) -> Result<Option<ModelRow>, DbError> {
    let sql = format!("SELECT {MODEL_COLUMNS} FROM {MODEL_FROM} WHERE m.id = $1 OR m.slug = $1");
    Query::new(sql).bind(id_or_slug).fetch_optional(db).await
}

/// Models in the same category, most popular first, for "related models".
pub async fn related_models(
    db: &Db,
    model: &ModelRow,
    limit: i64,
) -> Result<Vec<ModelRow>, DbError> {
    let sql = format!(
        "SELECT {MODEL_COLUMNS} FROM {MODEL_FROM} \
         WHERE m.category_id = $1 AND m.id <> $2 AND m.is_active = TRUE AND m.status <> 'deprecated' \
         ORDER BY (m.developer = $3) DESC, m.generation_count DESC, m.release_date DESC LIMIT $4"
    );
    Query::new(sql)
        .bind(model.category_id.clone())
        .bind(&model.id)
        .bind(model.developer.clone())
        .bind(limit)
        .fetch_all(db)
        .await
}
