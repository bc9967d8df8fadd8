//! What recommendations are made of, read from everyone's favorites and usage: models that
//! people with the same favorites also favorite, and models popular in a set of categories.
//! The web crate adds models similar in capability and cheaper than a person's own, from the
//! catalog, and words each reason.

use crate::catalog::{MODEL_COLUMNS, MODEL_FROM, ModelRow};
use crate::{Db, DbError, Query};

/// A model favorited by people who share a favorite with the account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SharedTaste {
    pub model_id: String,
    /// How many other people favorite it along with one of the account's favorites.
    pub people: i64,
    /// One of the account's favorites those people share (the most shared).
    pub via_model_id: String,
}

/// Models that people who favorite one of `user_id`'s favorites also favorite, most such
/// people first; never one of the account's own favorites.
pub async fn shared_taste(db: &Db, user_id: &str, limit: i64) -> Result<Vec<SharedTaste>, DbError> {
    Query::new(
        "SELECT theirs.model_id, CAST(COUNT(DISTINCT theirs.user_id) AS BIGINT) AS people, \
         MIN(mine.model_id) AS via_model_id \
         FROM favorites mine \
         JOIN favorites alike ON alike.model_id = mine.model_id AND alike.user_id <> mine.user_id \
         JOIN favorites theirs ON theirs.user_id = alike.user_id \
         WHERE mine.user_id = $1 \
           AND theirs.model_id NOT IN (SELECT model_id FROM favorites WHERE user_id = $1) \
         GROUP BY theirs.model_id ORDER BY people DESC, theirs.model_id LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A model's use by everyone since a day.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Popular {
    pub model_id: String,
    pub category_id: Option<String>,
    /// How many people used it.
    pub people: i64,
    pub generations: i64,
}

/// The most used listed models since `since_day` among `category_ids` (every category when
/// empty), by how many people used them.
pub async fn popular_models(
    db: &Db,
    category_ids: &[String],
    since_day: i64,
    limit: i64,
) -> Result<Vec<Popular>, DbError> {
    let in_categories = if category_ids.is_empty() {
        String::new()
    } else {
        let placeholders: Vec<String> = (0..category_ids.len())
            .map(|i| format!("${}", i + 3))
            .collect();
        format!(" AND m.category_id IN ({})", placeholders.join(", "))
    };
    let mut query = Query::new(format!(
        "SELECT u.model_id, m.category_id, CAST(COUNT(DISTINCT u.user_id) AS BIGINT) AS people, \
         CAST(SUM(u.generations) AS BIGINT) AS generations \
         FROM usage_days u JOIN models m ON m.id = u.model_id \
         WHERE u.day >= $1 AND m.is_active = TRUE AND m.status <> 'deprecated'{in_categories} \
         GROUP BY u.model_id, m.category_id \
         ORDER BY people DESC, generations DESC, u.model_id LIMIT $2"
    ))
    .bind(since_day)
    .bind(limit);
    for id in category_ids {
        query = query.bind(id.as_str());
    }
    query.fetch_all(db).await
}

/// The listed models of `category_ids` (active, not deprecated), for comparing capability and
/// price.
pub async fn models_in_categories(
    db: &Db,
    category_ids: &[String],
) -> Result<Vec<ModelRow>, DbError> {
    if category_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..category_ids.len())
        .map(|i| format!("${}", i + 1))
        .collect();
    let mut query = Query::new(format!(
        "SELECT {MODEL_COLUMNS} FROM {MODEL_FROM} \
         WHERE m.category_id IN ({}) AND m.is_active = TRUE AND m.status <> 'deprecated'",
        placeholders.join(", ")
    ));
    for id in category_ids {
        query = query.bind(id.as_str());
    }
    query.fetch_all(db).await
}

/// Models by id (any state), in no particular order.
pub async fn models_by_id(db: &Db, ids: &[String]) -> Result<Vec<ModelRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 1)).collect();
    let mut query = Query::new(format!(
        "SELECT {MODEL_COLUMNS} FROM {MODEL_FROM} WHERE m.id IN ({})",
        placeholders.join(", ")
    ));
    for id in ids {
        query = query.bind(id.as_str());
    }
    query.fetch_all(db).await
}
