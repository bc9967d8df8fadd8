//! An account's usage and spend, read from the daily rollups (`usage_days`: day × model ×
//! source, written with the generations themselves), never by scanning generations. Deleting
//! history does not change them: usage is never refunded.

use crate::{Db, DbError, Query};

/// What usage is split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UsageSplit {
    #[default]
    Model,
    Provider,
    Source,
}

impl UsageSplit {
    pub const ALL: [UsageSplit; 3] = [UsageSplit::Model, UsageSplit::Provider, UsageSplit::Source];

    pub fn as_str(self) -> &'static str {
        match self {
            UsageSplit::Model => "model",
            UsageSplit::Provider => "provider",
            UsageSplit::Source => "source",
        }
    }

    pub fn parse(text: &str) -> Option<UsageSplit> {
        UsageSplit::ALL
            .into_iter()
            .find(|split| split.as_str() == text)
    }

    /// The key and the label of a row (a deleted model keeps its id as its label).
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            UsageSplit::Model => ("u.model_id", "COALESCE(m.display_name, u.model_id)"),
            UsageSplit::Provider => (
                "COALESCE(m.provider, 'unknown')",
                "COALESCE(m.provider, 'unknown')",
            ),
            UsageSplit::Source => ("u.source", "u.source"),
        }
    }
}

/// The figures one rollup row (or a sum of them) holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct UsageFigures {
    pub generations: i64,
    pub errors: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_nanos: i64,
    pub total_duration_ms: i64,
}

impl UsageFigures {
    pub fn tokens(&self) -> i64 {
        self.prompt_tokens + self.completion_tokens
    }

    pub fn add(&mut self, other: &UsageFigures) {
        self.generations += other.generations;
        self.errors += other.errors;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.cost_nanos += other.cost_nanos;
        self.total_duration_ms += other.total_duration_ms;
    }
}

/// One day's usage of one model, provider or source.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UsageDay {
    /// Days since the Unix epoch, UTC.
    pub day: i64,
    /// The model's id, the provider's or the source's name.
    pub key: String,
    /// What to show for the key: the model's name, or the key itself.
    pub label: String,
    #[sqlx(flatten)]
    pub figures: UsageFigures,
}

const SUMS: &str = "CAST(COALESCE(SUM(u.generations), 0) AS BIGINT) AS generations, \
     CAST(COALESCE(SUM(u.errors), 0) AS BIGINT) AS errors, \
     CAST(COALESCE(SUM(u.prompt_tokens), 0) AS BIGINT) AS prompt_tokens, \
     CAST(COALESCE(SUM(u.completion_tokens), 0) AS BIGINT) AS completion_tokens, \
     CAST(COALESCE(SUM(u.cost_nanos), 0) AS BIGINT) AS cost_nanos, \
     CAST(COALESCE(SUM(u.total_duration_ms), 0) AS BIGINT) AS total_duration_ms";

/// `user_id`'s usage on each day in `[from_day, to_day)`, split by `split`, ordered by day.
/// Days without use have no rows.
pub async fn usage_by_day(
    db: &Db,
    user_id: &str,
    from_day: i64,
    to_day: i64,
    split: UsageSplit,
) -> Result<Vec<UsageDay>, DbError> {
    let (key, label) = split.columns();
    Query::new(format!(
        "SELECT u.day, {key} AS key, {label} AS label, {SUMS} \
         FROM usage_days u LEFT JOIN models m ON m.id = u.model_id \
         WHERE u.user_id = $1 AND u.day >= $2 AND u.day < $3 \
         GROUP BY u.day, {key}, {label} ORDER BY u.day, {key}"
    ))
    .bind(user_id)
    .bind(from_day)
    .bind(to_day)
    .fetch_all(db)
    .await
}

/// `user_id`'s usage in `[from_day, to_day)`, summed.
pub async fn usage_total(
    db: &Db,
    user_id: &str,
    from_day: i64,
    to_day: i64,
) -> Result<UsageFigures, DbError> {
    Query::new(format!(
        "SELECT {SUMS} FROM usage_days u WHERE u.user_id = $1 AND u.day >= $2 AND u.day < $3"
    ))
    .bind(user_id)
    .bind(from_day)
    .bind(to_day)
    .fetch_one(db)
    .await
}

/// A model an account used, with how much, most used first.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ModelUse {
    pub model_id: String,
    /// `None` when the model was deleted since.
    pub slug: Option<String>,
    pub name: Option<String>,
    pub generations: i64,
    pub cost_nanos: i64,
    /// The last day it was used (days since the epoch).
    pub last_day: i64,
}

/// The models `user_id` used since `from_day`, most generations first (at most `limit`).
pub async fn models_used(
    db: &Db,
    user_id: &str,
    from_day: i64,
    limit: i64,
) -> Result<Vec<ModelUse>, DbError> {
    Query::new(
        "SELECT u.model_id, m.slug, m.display_name AS name, \
         CAST(SUM(u.generations) AS BIGINT) AS generations, \
         CAST(SUM(u.cost_nanos) AS BIGINT) AS cost_nanos, MAX(u.day) AS last_day \
         FROM usage_days u LEFT JOIN models m ON m.id = u.model_id \
         WHERE u.user_id = $1 AND u.day >= $2 \
         GROUP BY u.model_id, m.slug, m.display_name \
         ORDER BY generations DESC, u.model_id LIMIT $3",
    )
    .bind(user_id)
    .bind(from_day)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// How many different models `user_id` has ever used.
pub async fn count_models_used(db: &Db, user_id: &str) -> Result<i64, DbError> {
    Query::new("SELECT COUNT(DISTINCT model_id) FROM usage_days WHERE user_id = $1")
        .bind(user_id)
        .fetch_scalar(db)
        .await
}
