//! The playground's recent runs: an account's own generations started from the playground
//! outside a conversation (text, code, image, summarise, translate, embed), newest first.
//! Conversations (generations with a `session_id`) are listed by `sessions.rs` instead.
//!
//! Served by a partial index (migration 9) that holds only such rows, so an account with many
//! API calls and a handful of playground runs reads a handful of index entries, and the gateway's
//! writes (never `source = 'playground'`) do not maintain it.

use super::history::last_message;
use crate::{Backend, Db, DbError, Query};

/// How much of a run's prompt a list shows.
pub const RUN_EXCERPT_CHARS: i64 = 120;

/// One run in a list: enough to name it, not its whole input or output.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RunSummary {
    pub id: String,
    pub model_id: Option<String>,
    /// `None` when the model was deleted since.
    pub model_slug: Option<String>,
    pub model_name: Option<String>,
    /// The recorded parameters (JSON); they name the mode.
    pub parameters: String,
    /// The start of the prompt (or of the last message, when the prompt went as one), at most
    /// [`RUN_EXCERPT_CHARS`] characters.
    pub prompt_excerpt: String,
    pub status: String,
    pub created_at: i64,
}

/// The terms the partial index `generations_playground_runs_idx` is built on, written exactly
/// as the index's `WHERE` so the planners recognise that the index covers the query.
const RUNS_WHERE: &str =
    "WHERE g.user_id = $1 AND g.source = 'playground' AND g.session_id IS NULL";

/// SQLite, without statistics, rates the history indexes on (user_id, created_at, id) as good
/// as the partial one, and would then read every generation of an account with many API
/// calls: it is told which index to read.
fn runs_from(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "FROM generations g INDEXED BY generations_playground_runs_idx",
        Backend::Postgres => "FROM generations g",
    }
}

fn runs_sql(backend: Backend, of_one_model: bool) -> String {
    format!(
        "SELECT g.id, g.model_id, m.slug AS model_slug, m.display_name AS model_name, \
         g.parameters, SUBSTR(CASE WHEN g.prompt <> '' THEN g.prompt \
           ELSE COALESCE({}, '') END, 1, {RUN_EXCERPT_CHARS}) AS prompt_excerpt, \
         g.status, g.created_at {} LEFT JOIN models m ON m.id = g.model_id {RUNS_WHERE}{} \
         ORDER BY g.created_at DESC, g.id DESC LIMIT $2",
        last_message(backend),
        runs_from(backend),
        if of_one_model {
            " AND g.model_id = $3"
        } else {
            ""
        }
    )
}

/// An account's most recent playground runs outside conversations, of every model or of one.
pub async fn recent_runs(
    db: &Db,
    user_id: &str,
    model_id: Option<&str>,
    limit: i64,
) -> Result<Vec<RunSummary>, DbError> {
    let mut query = Query::new(runs_sql(db.backend(), model_id.is_some()))
        .bind(user_id)
        .bind(limit);
    if let Some(model_id) = model_id {
        query = query.bind(model_id);
    }
    query.fetch_all(db).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestDatabase, backends};

    /// The query reads the partial index rather than every generation of the account.
    #[tokio::test]
    async fn recent_runs_read_the_partial_index() {
        for backend in backends() {
            let (_database, db) = TestDatabase::migrated(backend).await;
            for of_one_model in [false, true] {
                let plan: Vec<String> = match backend {
                    Backend::Sqlite => {
                        let mut explain = Query::new(format!(
                            "EXPLAIN QUERY PLAN {}",
                            runs_sql(backend, of_one_model)
                        ))
                        .bind("user")
                        .bind(10_i64);
                        if of_one_model {
                            explain = explain.bind("model");
                        }
                        let rows: Vec<(i64, i64, i64, String)> =
                            explain.fetch_all(&db).await.unwrap();
                        rows.into_iter().map(|row| row.3).collect()
                    }
                    Backend::Postgres => {
                        // An empty table is cheapest to scan whole: ask for the plan that an
                        // account with many rows gets.
                        let mut tx = db.begin().await.unwrap();
                        Query::new("SET LOCAL enable_seqscan = off")
                            .execute(&mut tx)
                            .await
                            .unwrap();
                        let mut explain =
                            Query::new(format!("EXPLAIN {}", runs_sql(backend, of_one_model)))
                                .bind("user")
                                .bind(10_i64);
                        if of_one_model {
                            explain = explain.bind("model");
                        }
                        let rows: Vec<(String,)> = explain.fetch_all(&mut tx).await.unwrap();
                        tx.commit().await.unwrap();
                        rows.into_iter().map(|row| row.0).collect()
                    }
                };
                assert!(
                    plan.iter()
                        .any(|line| line.contains("generations_playground_runs_idx")),
                    "{backend:?}, one model: {of_one_model}: {plan:#?}"
                );
            }
        }
    }
}
