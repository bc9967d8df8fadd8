//! An account's usage and spend, read from the daily rollups written with the generations
//! themselves (`usage_model_days`: day × model; `usage_days`: day × model × source), never
//! by scanning generations. Deleting history does not change them: usage is never refunded.

use crate::{Backend, Db, DbError, Query};

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageDay {
    /// Days since the Unix epoch, UTC.
    pub day: i64,
    /// The model's id, the provider's or the source's name.
    pub key: String,
    /// What to show for the key: the model's name, or the key itself.
    pub label: String,
    pub figures: UsageFigures,
}

/// `usage_model_days u` (day × model, summed over sources), read along its primary key
/// `(user_id, day, model_id)`: an account's days are one range of it. With statistics, SQLite
/// otherwise may prefer `usage_model_days_user_model_idx` for a grouping by model (sorting
/// nothing, then reading every rollup row the account ever had). The table has no rowid, so
/// `NOT INDEXED` is its primary key.
fn account_model_days(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "usage_model_days u NOT INDEXED",
        Backend::Postgres => "usage_model_days u",
    }
}

/// `usage_days u` (day × model × source), read along its primary key's index, for the split
/// by source.
fn account_source_days(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "usage_days u INDEXED BY sqlite_autoindex_usage_days_1",
        Backend::Postgres => "usage_days u",
    }
}

const SUMS: &str = "CAST(COALESCE(SUM(u.generations), 0) AS BIGINT) AS generations, \
     CAST(COALESCE(SUM(u.errors), 0) AS BIGINT) AS errors, \
     CAST(COALESCE(SUM(u.prompt_tokens), 0) AS BIGINT) AS prompt_tokens, \
     CAST(COALESCE(SUM(u.completion_tokens), 0) AS BIGINT) AS completion_tokens, \
     CAST(COALESCE(SUM(u.cost_nanos), 0) AS BIGINT) AS cost_nanos, \
     CAST(COALESCE(SUM(u.total_duration_ms), 0) AS BIGINT) AS total_duration_ms";

/// `user_id`'s usage on each day in `[from_day, to_day)`, split by `split`, ordered by day
/// (then by key). Days without use have no rows.
///
/// By model or provider, the rollup rows by day and model are read as they are (a GROUP BY
/// that changed nothing took half the time); by source, the database sums the rows by day,
/// model and source. SQLite hands them over as one JSON array text, as the catalog index
/// loads models (`catalog/index.rs`), since a year of a busy account is thousands of rows.
/// Names and providers come from one read of the models involved rather than a join per
/// row, which took as long as the sums themselves (the dashboard benchmark).
pub async fn usage_by_day(
    db: &Db,
    user_id: &str,
    from_day: i64,
    to_day: i64,
    split: UsageSplit,
) -> Result<Vec<UsageDay>, DbError> {
    let sums = match split {
        // One row a day and model already: read as they are.
        UsageSplit::Model | UsageSplit::Provider => format!(
            "SELECT u.day, u.model_id AS key, u.generations, u.errors, u.prompt_tokens, \
             u.completion_tokens, u.cost_nanos, u.total_duration_ms FROM {days} \
             WHERE u.user_id = $1 AND u.day >= $2 AND u.day < $3",
            days = account_model_days(db.backend()),
        ),
        UsageSplit::Source => format!(
            "SELECT u.day, u.source AS key, {SUMS} FROM {days} \
             WHERE u.user_id = $1 AND u.day >= $2 AND u.day < $3 GROUP BY u.day, u.source",
            days = account_source_days(db.backend()),
        ),
    };
    type Row = (i64, String, i64, i64, i64, i64, i64, i64);
    let rows: Vec<Row> = match db.backend() {
        // The sums arrive as one JSON array text: sqlx's SQLite driver spends microseconds
        // on each row and column it hands over.
        Backend::Sqlite => {
            let text: String = Query::new(format!(
                "SELECT json_group_array(json_array(r.day, r.key, r.generations, r.errors, \
                   r.prompt_tokens, r.completion_tokens, r.cost_nanos, r.total_duration_ms)) \
                 FROM ({sums}) r"
            ))
            .bind(user_id)
            .bind(from_day)
            .bind(to_day)
            .fetch_scalar(db)
            .await?;
            serde_json::from_str(&text)
                .map_err(|error| DbError::Sqlx(sqlx::Error::Decode(Box::new(error))))?
        }
        // PostgreSQL hands over binary rows for less than it takes to write them as JSON
        // (which tripled the time of a year's sums).
        Backend::Postgres => {
            Query::new(sums)
                .bind(user_id)
                .bind(from_day)
                .bind(to_day)
                .fetch_all(db)
                .await?
        }
    };
    let sums = rows.into_iter().map(
        |(day, key, generations, errors, prompt, completion, cost, duration)| UsageDay {
            day,
            label: key.clone(),
            key,
            figures: UsageFigures {
                generations,
                errors,
                prompt_tokens: prompt,
                completion_tokens: completion,
                cost_nanos: cost,
                total_duration_ms: duration,
            },
        },
    );
    let mut days: Vec<UsageDay> = match split {
        UsageSplit::Source => sums.collect(),
        UsageSplit::Model | UsageSplit::Provider => {
            let sums: Vec<UsageDay> = sums.collect();
            let mut ids: Vec<&str> = sums.iter().map(|sum| sum.key.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            let models = model_names(db, &ids).await?;
            let sums = sums.into_iter().map(|mut sum| {
                let model = models.get(&sum.key);
                if split == UsageSplit::Provider {
                    // A deleted model's usage counts as an unknown provider's.
                    let provider = model.map_or("unknown", |(_, provider)| provider.as_str());
                    sum.key = provider.to_owned();
                    sum.label = provider.to_owned();
                } else if let Some((name, _)) = model {
                    // A deleted model keeps its id as its label.
                    sum.label = name.clone();
                }
                sum
            });
            if split == UsageSplit::Model {
                sums.collect()
            } else {
                let mut by_provider: std::collections::BTreeMap<(i64, String), UsageDay> =
                    std::collections::BTreeMap::new();
                for sum in sums {
                    by_provider
                        .entry((sum.day, sum.key.clone()))
                        .and_modify(|day| day.figures.add(&sum.figures))
                        .or_insert(sum);
                }
                by_provider.into_values().collect()
            }
        }
    };
    days.sort_unstable_by(|a, b| (a.day, &a.key).cmp(&(b.day, &b.key)));
    Ok(days)
}

/// The display name and provider of each of `ids` that still exists.
async fn model_names(
    db: &Db,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, (String, String)>, DbError> {
    let mut names = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let mut query = Query::new(format!(
            "SELECT id, display_name, provider FROM models WHERE id IN ({})",
            placeholders.join(", ")
        ));
        for id in chunk {
            query = query.bind(*id);
        }
        let rows: Vec<(String, String, String)> = query.fetch_all(db).await?;
        names.extend(
            rows.into_iter()
                .map(|(id, name, provider)| (id, (name, provider))),
        );
    }
    Ok(names)
}

/// `user_id`'s usage in `[from_day, to_day)`, summed.
pub async fn usage_total(
    db: &Db,
    user_id: &str,
    from_day: i64,
    to_day: i64,
) -> Result<UsageFigures, DbError> {
    Query::new(format!(
        "SELECT {SUMS} FROM {days} WHERE u.user_id = $1 AND u.day >= $2 AND u.day < $3",
        days = account_model_days(db.backend()),
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
///
/// The models are looked up once each, after the sums, not once per rollup row.
pub async fn models_used(
    db: &Db,
    user_id: &str,
    from_day: i64,
    limit: i64,
) -> Result<Vec<ModelUse>, DbError> {
    Query::new(format!(
        "SELECT g.model_id, m.slug, m.display_name AS name, g.generations, g.cost_nanos, \
           g.last_day \
         FROM (SELECT u.model_id, CAST(SUM(u.generations) AS BIGINT) AS generations, \
                 CAST(SUM(u.cost_nanos) AS BIGINT) AS cost_nanos, MAX(u.day) AS last_day \
               FROM {days} WHERE u.user_id = $1 AND u.day >= $2 GROUP BY u.model_id) g \
         LEFT JOIN models m ON m.id = g.model_id \
         ORDER BY g.generations DESC, g.model_id LIMIT $3",
        days = account_model_days(db.backend()),
    ))
    .bind(user_id)
    .bind(from_day)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// How many different models `user_id` has ever used.
///
/// A loose index scan along `usage_model_days_user_model_idx`: each step seeks the next
/// model, so the cost is the number of models, not of the account's rollup rows (a busy
/// account has thousands).
pub async fn count_models_used(db: &Db, user_id: &str) -> Result<i64, DbError> {
    Query::new(
        "WITH RECURSIVE used (model_id) AS ( \
           SELECT MIN(model_id) FROM usage_model_days WHERE user_id = $1 \
           UNION ALL \
           SELECT (SELECT MIN(u.model_id) FROM usage_model_days u \
                   WHERE u.user_id = $1 AND u.model_id > used.model_id) \
           FROM used WHERE used.model_id IS NOT NULL) \
         SELECT COUNT(model_id) FROM used",
    )
    .bind(user_id)
    .fetch_scalar(db)
    .await
}
