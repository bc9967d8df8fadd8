//! Favorite models, in the order their owner chose (`position`, from 0). A new favorite goes
//! last; a removed one leaves a gap that the next reorder closes.

use aipasta_core::clock::now_ms;

use crate::{Db, DbError, Query};

/// One favorite with what a list shows of its model.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FavoriteRow {
    pub model_id: String,
    pub slug: String,
    pub name: String,
    pub position: i64,
    pub created_at: i64,
}

/// `user_id`'s favorites, in their order.
pub async fn list_favorites(db: &Db, user_id: &str) -> Result<Vec<FavoriteRow>, DbError> {
    Query::new(
        "SELECT f.model_id, m.slug, m.display_name AS name, f.position, f.created_at \
         FROM favorites f JOIN models m ON m.id = f.model_id \
         WHERE f.user_id = $1 ORDER BY f.position, f.created_at, f.model_id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// The ids of `user_id`'s favorite models, in their order.
pub async fn favorite_model_ids(db: &Db, user_id: &str) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> = Query::new(
        "SELECT model_id FROM favorites WHERE user_id = $1 \
         ORDER BY position, created_at, model_id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|row| row.0).collect())
}

/// Makes `model_id` a favorite of `user_id`, last in the order. False when it already was.
pub async fn add_favorite(db: &Db, user_id: &str, model_id: &str) -> Result<bool, DbError> {
    let added = Query::new(
        "INSERT INTO favorites (user_id, model_id, created_at, position) \
         SELECT $1, $2, $3, COALESCE(MAX(position) + 1, 0) FROM favorites WHERE user_id = $1 \
         ON CONFLICT (user_id, model_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(model_id)
    .bind(now_ms())
    .execute(db)
    .await?;
    Ok(added > 0)
}

/// Removes `model_id` from `user_id`'s favorites. False when it was not one.
pub async fn remove_favorite(db: &Db, user_id: &str, model_id: &str) -> Result<bool, DbError> {
    let removed = Query::new("DELETE FROM favorites WHERE user_id = $1 AND model_id = $2")
        .bind(user_id)
        .bind(model_id)
        .execute(db)
        .await?;
    Ok(removed > 0)
}

/// Puts `ordered` (model ids) first, in that order, and the other favorites after them in
/// their present order. Ids that are not favorites are ignored. Answers the new order.
pub async fn reorder_favorites(
    db: &Db,
    user_id: &str,
    ordered: &[String],
) -> Result<Vec<String>, DbError> {
    let mut tx = db.begin().await?;
    let rows: Vec<(String,)> = Query::new(
        "SELECT model_id FROM favorites WHERE user_id = $1 \
         ORDER BY position, created_at, model_id",
    )
    .bind(user_id)
    .fetch_all(&mut tx)
    .await?;
    let present: Vec<String> = rows.into_iter().map(|row| row.0).collect();
    let mut order: Vec<String> = Vec::with_capacity(present.len());
    for id in ordered.iter().chain(present.iter()) {
        if present.contains(id) && !order.contains(id) {
            order.push(id.clone());
        }
    }
    for (position, id) in order.iter().enumerate() {
        Query::new("UPDATE favorites SET position = $1 WHERE user_id = $2 AND model_id = $3")
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(user_id)
            .bind(id.as_str())
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(order)
}
