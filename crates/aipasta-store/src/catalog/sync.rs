//! Bringing provider facts into the catalog: upsert by (provider, provider model id), keep what
//! admins set by hand, deprecate what disappeared upstream, never delete.

use std::collections::{BTreeMap, HashMap, HashSet};

use aipasta_core::catalog::{
    ModelFacts, ModelStatus, describe, display_name, normalize_for_search, parameter_ranges,
};
use aipasta_core::clock::now_ms;
use aipasta_core::id::new_id;
use aipasta_core::money::Price;

use super::categories::refresh_counts;
use crate::{Db, DbError, Query, Tx, Value};

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    pub inserted: usize,
    pub updated: usize,
    /// Listed before, absent upstream now: marked `deprecated`.
    pub deprecated: usize,
    /// Deprecated before, back upstream now: active again.
    pub restored: usize,
}

/// Fields an admin can set by hand; a sync never overwrites them afterwards.
pub const OVERRIDABLE: [&str; 6] = [
    "displayName",
    "description",
    "category",
    "tags",
    "status",
    "featured",
];

/// An admin's hand edit of a model; each field set is recorded as an override.
#[derive(Debug, Clone, Default)]
pub struct AdminEdit {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub category_slug: Option<String>,
    pub tags: Option<Vec<String>>,
    pub status: Option<ModelStatus>,
    pub featured: Option<bool>,
}

fn price_text(price: Option<Price>) -> Option<String> {
    price.map(|p| p.to_string())
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// The text search matches against (see `normalize_for_search`).
fn search_text(facts: &ModelFacts, display: &str, description: &str, tags: &[String]) -> String {
    let joined = [
        facts.name.as_str(),
        display,
        facts.provider_model_id.as_str(),
        facts.slug.as_str(),
        facts.provider.as_str(),
        facts.developer.as_deref().unwrap_or(""),
        &tags.join(" "),
        description,
    ]
    .join(" ");
    normalize_for_search(&joined)
}

/// Columns a sync always sets from the provider's facts.
fn provider_columns(facts: &ModelFacts, now: i64) -> Vec<(&'static str, Value)> {
    let ranges = parameter_ranges(facts);
    let temperature = ranges.get("temperature");
    let top_p = ranges.get("top_p");
    let others: BTreeMap<_, _> = ranges
        .iter()
        .filter(|(name, _)| *name != "temperature" && *name != "top_p")
        .collect();
    let caps = &facts.capabilities;
    vec![
        ("name", facts.name.clone().into()),
        ("long_description", facts.description.clone().into()),
        ("price_prompt", price_text(facts.pricing.prompt).into()),
        (
            "price_completion",
            price_text(facts.pricing.completion).into(),
        ),
        ("price_image", price_text(facts.pricing.image).into()),
        ("price_request", price_text(facts.pricing.request).into()),
        (
            "price_cache_read",
            price_text(facts.pricing.cache_read).into(),
        ),
        (
            "price_cache_write",
            price_text(facts.pricing.cache_write).into(),
        ),
        ("price_extra", json(&facts.pricing.extra).into()),
        ("is_free", facts.pricing.is_free().into()),
        (
            "price_prompt_per_m_micros",
            facts.pricing.prompt.map(Price::per_million_micros).into(),
        ),
        (
            "price_completion_per_m_micros",
            facts
                .pricing
                .completion
                .map(Price::per_million_micros)
                .into(),
        ),
        ("cap_text_generation", caps.text_generation.into()),
        ("cap_chat_completion", caps.chat_completion.into()),
        ("cap_code_generation", caps.code_generation.into()),
        ("cap_translation", caps.translation.into()),
        ("cap_summarization", caps.summarization.into()),
        ("cap_image_generation", caps.image_generation.into()),
        ("cap_image_analysis", caps.image_analysis.into()),
        ("cap_embedding", caps.embedding.into()),
        ("input_modalities", json(&facts.input_modalities).into()),
        ("output_modalities", json(&facts.output_modalities).into()),
        ("context_length", facts.context_length.into()),
        (
            "max_tokens",
            facts.max_output_tokens.or(facts.context_length).into(),
        ),
        // Supports streaming unless it only makes images or vectors.
        (
            "supports_streaming",
            (caps.text_generation || caps.chat_completion).into(),
        ),
        ("supports_system_prompt", caps.chat_completion.into()),
        ("temperature_min", temperature.map(|r| r.min).into()),
        ("temperature_max", temperature.map(|r| r.max).into()),
        ("temperature_default", temperature.map(|r| r.default).into()),
        ("top_p_min", top_p.map(|r| r.min).into()),
        ("top_p_max", top_p.map(|r| r.max).into()),
        ("top_p_default", top_p.map(|r| r.default).into()),
        (
            "supported_parameters",
            json(&facts.supported_parameters).into(),
        ),
        ("parameter_ranges", json(&others).into()),
        ("release_date", facts.released_at.into()),
        ("developer", facts.developer.clone().into()),
        ("license", facts.license.clone().into()),
        ("hugging_face_id", facts.hugging_face_id.clone().into()),
        ("downloads", facts.downloads.into()),
        ("is_active", true.into()),
        ("synced_at", now.into()),
        ("updated_at", now.into()),
        ("documentation_url", documentation_url(facts).into()),
        (
            "default_max_tokens",
            facts.max_output_tokens.map(|m| m.min(4096)).into(),
        ),
    ]
}

fn documentation_url(facts: &ModelFacts) -> Option<String> {
    match facts.provider.as_str() {
        "openrouter" => Some(format!("https://openrouter.ai/{}", facts.provider_model_id)),
        "huggingface" => Some(format!(
            "https://huggingface.co/{}",
            facts.provider_model_id
        )),
        _ => None,
    }
}

struct Existing {
    id: String,
    status: String,
    overrides: HashSet<String>,
}

/// Upserts `models` for `provider` in one transaction. With `deprecate_missing`, this
/// provider's models absent from the list become `deprecated` (unless an admin set their
/// status). Any error rolls everything back.
pub async fn upsert_provider_models(
    db: &Db,
    provider: &str,
    models: &[ModelFacts],
    deprecate_missing: bool,
) -> Result<SyncOutcome, DbError> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let mut outcome = SyncOutcome::default();

    let existing: Vec<(String, String, String, String)> = Query::new(
        "SELECT id, provider_model_id, status, admin_overrides FROM models WHERE provider = $1",
    )
    .bind(provider)
    .fetch_all(&mut tx)
    .await?;
    let existing: HashMap<String, Existing> = existing
        .into_iter()
        .map(|(id, provider_model_id, status, overrides)| {
            let overrides = serde_json::from_str::<Vec<String>>(&overrides)
                .unwrap_or_default()
                .into_iter()
                .collect();
            (
                provider_model_id,
                Existing {
                    id,
                    status,
                    overrides,
                },
            )
        })
        .collect();
    let categories: HashMap<String, String> = Query::new("SELECT slug, id FROM categories")
        .fetch_all::<(String, String)>(&mut tx)
        .await?
        .into_iter()
        .collect();

    let mut seen = HashSet::new();
    for facts in models.iter().filter(|f| f.provider == provider) {
        if !seen.insert(facts.provider_model_id.as_str()) {
            continue;
        }
        let display = display_name(&facts.name).to_owned();
        let description = facts.description.clone().unwrap_or_else(|| describe(facts));
        let mut tags = facts.tags.clone();
        tags.sort();
        tags.dedup();
        let category_id = categories.get(&facts.category).cloned();
        let mut columns = provider_columns(facts, now);

        match existing.get(&facts.provider_model_id) {
            Some(row) => {
                let kept = |field: &str| row.overrides.contains(field);
                if !kept("displayName") {
                    columns.push(("display_name", display.clone().into()));
                }
                if !kept("description") {
                    columns.push(("description", description.clone().into()));
                }
                if !kept("category") {
                    columns.push(("category_id", category_id.into()));
                }
                if !kept("status") && row.status != ModelStatus::Active.as_str() {
                    if row.status == ModelStatus::Deprecated.as_str() {
                        outcome.restored += 1;
                    }
                    columns.push(("status", ModelStatus::Active.as_str().into()));
                }
                if !kept("tags") {
                    replace_tags(&mut tx, &row.id, &tags).await?;
                }
                // Search covers what is shown, overrides included.
                let shown: (String, String) =
                    Query::new("SELECT display_name, description FROM models WHERE id = $1")
                        .bind(&row.id)
                        .fetch_one(&mut tx)
                        .await?;
                let shown_display = if kept("displayName") {
                    shown.0
                } else {
                    display.clone()
                };
                let shown_description = if kept("description") {
                    shown.1
                } else {
                    description.clone()
                };
                let shown_tags = if kept("tags") {
                    current_tags(&mut tx, &row.id).await?
                } else {
                    tags.clone()
                };
                columns.push((
                    "search_text",
                    search_text(facts, &shown_display, &shown_description, &shown_tags).into(),
                ));
                update_row(&mut tx, &row.id, columns).await?;
                outcome.updated += 1;
            }
            None => {
                let id = new_id();
                columns.extend([
                    ("id", Value::from(id.clone())),
                    ("slug", facts.slug.clone().into()),
                    ("provider", facts.provider.clone().into()),
                    ("provider_model_id", facts.provider_model_id.clone().into()),
                    ("display_name", display.clone().into()),
                    ("description", description.clone().into()),
                    ("category_id", category_id.into()),
                    ("status", ModelStatus::Active.as_str().into()),
                    (
                        "search_text",
                        search_text(facts, &display, &description, &tags).into(),
                    ),
                    ("created_at", now.into()),
                ]);
                insert_row(&mut tx, columns).await?;
                replace_tags(&mut tx, &id, &tags).await?;
                outcome.inserted += 1;
            }
        }
    }

    if deprecate_missing {
        let gone: Vec<&Existing> = existing
            .iter()
            .filter(|(provider_model_id, row)| {
                !seen.contains(provider_model_id.as_str())
                    && row.status != ModelStatus::Deprecated.as_str()
                    && !row.overrides.contains("status")
            })
            .map(|(_, row)| row)
            .collect();
        for row in gone {
            Query::new("UPDATE models SET status = 'deprecated', updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&row.id)
                .execute(&mut tx)
                .await?;
            outcome.deprecated += 1;
        }
    }
    refresh_counts((&mut tx).into()).await?;
    tx.commit().await?;
    db.note_catalog_change();
    if outcome.inserted + outcome.deprecated + outcome.restored > 0 {
        // A first sync multiplies the table's size; without fresh statistics PostgreSQL plans
        // the next sync's lookups and the category counts for an empty table (a sync of 5,000
        // models took a minute instead of seconds).
        Query::new("ANALYZE models").execute(db).await?;
    }
    Ok(outcome)
}

async fn insert_row(tx: &mut Tx, columns: Vec<(&'static str, Value)>) -> Result<(), DbError> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO models ({}) VALUES ({})",
        names.join(", "),
        placeholders.join(", ")
    );
    let query = columns
        .into_iter()
        .fold(Query::new(sql), |query, (_, value)| query.bind(value));
    query.execute(tx).await.map(drop)
}

async fn update_row(
    tx: &mut Tx,
    id: &str,
    columns: Vec<(&'static str, Value)>,
) -> Result<(), DbError> {
    let assignments: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("{name} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE models SET {} WHERE id = ${}",
        assignments.join(", "),
        columns.len() + 1
    );
    let query = columns
        .into_iter()
        .fold(Query::new(sql), |query, (_, value)| query.bind(value));
    query.bind(id).execute(tx).await.map(drop)
}

async fn replace_tags(tx: &mut Tx, model_id: &str, tags: &[String]) -> Result<(), DbError> {
    Query::new("DELETE FROM model_tags WHERE model_id = $1")
        .bind(model_id)
        .execute(&mut *tx)
        .await?;
    for tag in tags {
        Query::new("INSERT INTO model_tags (model_id, tag) VALUES ($1, $2)")
            .bind(model_id)
            .bind(tag)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

async fn current_tags(tx: &mut Tx, model_id: &str) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> =
        Query::new("SELECT tag FROM model_tags WHERE model_id = $1 ORDER BY tag")
            .bind(model_id)
            .fetch_all(tx)
            .await?;
    Ok(rows.into_iter().map(|(tag,)| tag).collect())
}

/// Applies an admin's hand edit and records each field it sets as an override, so later syncs
/// keep it. Answers false when no model has that id.
pub async fn admin_edit(db: &Db, model_id: &str, edit: &AdminEdit) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    let Some((overrides, search_source)): Option<(String, String)> =
        Query::new("SELECT admin_overrides, search_text FROM models WHERE id = $1")
            .bind(model_id)
            .fetch_optional(&mut tx)
            .await?
    else {
        return Ok(false);
    };
    let mut overrides: Vec<String> = serde_json::from_str(&overrides).unwrap_or_default();
    let mut columns: Vec<(&'static str, Value)> = Vec::new();
    let mut extra_search = Vec::new();
    if let Some(name) = &edit.display_name {
        columns.push(("display_name", name.clone().into()));
        extra_search.push(name.clone());
        overrides.push("displayName".into());
    }
    if let Some(description) = &edit.description {
        columns.push(("description", description.clone().into()));
        extra_search.push(description.clone());
        overrides.push("description".into());
    }
    if let Some(slug) = &edit.category_slug {
        let id: Option<(String,)> = Query::new("SELECT id FROM categories WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&mut tx)
            .await?;
        columns.push(("category_id", id.map(|(id,)| id).into()));
        overrides.push("category".into());
    }
    if let Some(status) = edit.status {
        columns.push(("status", status.as_str().into()));
        overrides.push("status".into());
    }
    if let Some(featured) = edit.featured {
        columns.push(("is_featured", featured.into()));
        overrides.push("featured".into());
    }
    if let Some(tags) = &edit.tags {
        replace_tags(&mut tx, model_id, tags).await?;
        extra_search.extend(tags.iter().cloned());
        overrides.push("tags".into());
    }
    overrides.sort();
    overrides.dedup();
    columns.push(("admin_overrides", json(&overrides).into()));
    columns.push(("updated_at", now_ms().into()));
    if !extra_search.is_empty() {
        let text = normalize_for_search(&format!("{search_source} {}", extra_search.join(" ")));
        columns.push(("search_text", text.into()));
    }
    update_row(&mut tx, model_id, columns).await?;
    refresh_counts((&mut tx).into()).await?;
    tx.commit().await?;
    db.note_catalog_change();
    Ok(true)
}
