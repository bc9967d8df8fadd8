//! Model categories: seeded on first start, listed as a tree with model counts.

use aipasta_core::catalog::SEED_CATEGORIES;
use aipasta_core::clock::now_ms;
use aipasta_core::id::new_id;

use crate::{Db, DbError, On, Query};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub color: Option<String>,
    pub parent_id: Option<String>,
    pub model_count: i64,
    pub is_active: bool,
    pub sort_order: i64,
}

/// Inserts the standard categories that are missing; existing ones (and admins' edits to
/// them) are left alone. Parents come before children in `SEED_CATEGORIES`.
pub async fn seed_categories(db: &Db) -> Result<(), DbError> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    for (order, seed) in SEED_CATEGORIES.iter().enumerate() {
        let parent_id: Option<String> = match seed.parent {
            Some(parent) => Query::new("SELECT id FROM categories WHERE slug = $1")
                .bind(parent)
                .fetch_optional::<(String,)>(&mut tx)
                .await?
                .map(|(id,)| id),
            None => None,
        };
        Query::new(
            "INSERT INTO categories (id, name, slug, description, icon, color, parent_id, \
             sort_order, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (slug) DO NOTHING",
        )
        .bind(new_id())
        .bind(seed.name)
        .bind(seed.slug)
        .bind(seed.description)
        .bind(seed.icon)
        .bind(seed.color)
        .bind(parent_id)
        .bind(i64::try_from(order).unwrap_or(0) * 10)
        .bind(now)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    db.note_catalog_change();
    Ok(())
}

/// Every active category in display order (parents and children together; see `parent_id`).
pub async fn categories(db: &Db) -> Result<Vec<CategoryRow>, DbError> {
    Query::new(
        "SELECT id, name, slug, description, icon, color, parent_id, model_count, is_active, \
         sort_order FROM categories WHERE is_active = TRUE ORDER BY sort_order, name",
    )
    .fetch_all(db)
    .await
}

/// Recounts the listed models of every category (a parent's count includes its children's).
pub(crate) async fn refresh_counts(on: On<'_>) -> Result<(), DbError> {
    Query::new(
        "UPDATE categories SET model_count = (\
            SELECT COUNT(*) FROM models m \
            WHERE m.is_active = TRUE AND m.status <> 'deprecated' AND (m.category_id = categories.id \
               OR m.category_id IN (SELECT child.id FROM categories child WHERE child.parent_id = categories.id)))",
    )
    .execute(on)
    .await
    .map(drop)
}
