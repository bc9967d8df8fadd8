//! Embedded schema migrations, applied in order at start-up and by `aipasta migrate`.
//!
//! Each migration is plain SQL that both backends accept. Applied migrations are recorded with a
//! checksum in `aipasta_migrations`; running again applies only what is new, and a migration
//! edited after it was applied stops start-up instead of leaving the schema half-known.

use sha2::{Digest, Sha256};

use crate::query::{On, Query, Tx, execute_script};
use crate::{Backend, Db, DbError};
use aipasta_core::clock::now_ms;

/// One schema change, as SQL for each backend (the same text where the dialects agree).
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Migration {
    /// A migration whose SQL both backends accept.
    const fn portable(version: i64, name: &'static str, sql: &'static str) -> Migration {
        Migration {
            version,
            name,
            sqlite: sql,
            postgres: sql,
        }
    }

    pub fn sql(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

/// Every migration this build knows, oldest first. Never edit one that has shipped: add another.
pub const MIGRATIONS: &[Migration] = &[
    Migration::portable(
        1,
        "initial schema",
        include_str!("../migrations/0001_initial.sql"),
    ),
    // Full-text search is the one place the dialects differ: FTS5 against a tsvector.
    Migration {
        version: 2,
        name: "model search",
        sqlite: include_str!("../migrations/0002_model_search.sqlite.sql"),
        postgres: include_str!("../migrations/0002_model_search.postgres.sql"),
    },
    Migration::portable(
        3,
        "provider endpoints and keys",
        include_str!("../migrations/0003_providers.sql"),
    ),
    // Sort-order and search-key indexes; SQLite's full-text index gains prefix indexes.
    Migration {
        version: 4,
        name: "catalog at scale",
        sqlite: include_str!("../migrations/0004_catalog_at_scale.sqlite.sql"),
        postgres: include_str!("../migrations/0004_catalog_at_scale.postgres.sql"),
    },
    // Listing and search answered in memory (catalog/index.rs): the SQL search structures go.
    Migration {
        version: 5,
        name: "catalog index in memory",
        sqlite: concat!(
            include_str!("../migrations/0005_catalog_index_in_memory.sqlite.sql"),
            include_str!("../migrations/0005_catalog_index_in_memory.sql"),
        ),
        postgres: concat!(
            include_str!("../migrations/0005_catalog_index_in_memory.postgres.sql"),
            include_str!("../migrations/0005_catalog_index_in_memory.sql"),
        ),
    },
    // JWTs issued before a password change or a sign-out stop working.
    Migration::portable(
        6,
        "tokens valid after",
        include_str!("../migrations/0006_tokens_valid_after.sql"),
    ),
    // The success rate is stored as the percentage the plan and the API give.
    Migration::portable(
        8,
        "success rate as a percentage",
        include_str!("../migrations/0008_success_rate_percent.sql"),
    ),
    // The playground's recent runs, from a partial index of playground rows only.
    Migration::portable(
        9,
        "playground runs",
        include_str!("../migrations/0009_playground_runs.sql"),
    ),
    // The dashboard: history's sort orders and full-text search (FTS5 against a tsvector),
    // the generation's mode, usage by source, favorites' order, usage alert thresholds.
    Migration {
        version: 10,
        name: "history and usage",
        sqlite: concat!(
            include_str!("../migrations/0010_history.sqlite.sql"),
            include_str!("../migrations/0010_history.sql"),
        ),
        postgres: concat!(
            include_str!("../migrations/0010_history.postgres.sql"),
            include_str!("../migrations/0010_history.sql"),
        ),
    },
    // History at a million generations an account: search newest first (SQLite's FTS5 keyed
    // newest first and by account, PostgreSQL's vector stored), models used by index.
    Migration {
        version: 11,
        name: "history at scale",
        sqlite: concat!(
            include_str!("../migrations/0011_history_at_scale.sqlite.sql"),
            include_str!("../migrations/0011_history_at_scale.sql"),
        ),
        postgres: concat!(
            include_str!("../migrations/0011_history_at_scale.postgres.sql"),
            include_str!("../migrations/0011_history_at_scale.sql"),
        ),
    },
    // PostgreSQL reads an account's usage rollups from an index alone; conversations are
    // indexed by account, session and time.
    Migration {
        version: 12,
        name: "usage and conversations at scale",
        sqlite: concat!(
            include_str!("../migrations/0012_usage_and_conversations.sqlite.sql"),
            include_str!("../migrations/0012_usage_and_conversations.sql"),
        ),
        postgres: concat!(
            include_str!("../migrations/0012_usage_and_conversations.postgres.sql"),
            include_str!("../migrations/0012_usage_and_conversations.sql"),
        ),
    },
    // Usage by day and model, without the source: a year of stats reads a fifth of the rows.
    Migration {
        version: 13,
        name: "usage by model",
        sqlite: concat!(
            include_str!("../migrations/0013_usage_by_model.sqlite.sql"),
            include_str!("../migrations/0013_usage_by_model.sql"),
        ),
        postgres: concat!(
            include_str!("../migrations/0013_usage_by_model.postgres.sql"),
            include_str!("../migrations/0013_usage_by_model.sql"),
        ),
    },
];

/// What a migration run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions applied by this run, in order.
    pub applied: Vec<i64>,
    /// The schema version after the run.
    pub current: i64,
}

/// An arbitrary constant that names AI Pasta's migration lock among PostgreSQL advisory locks.
const PG_MIGRATION_LOCK: i64 = 0x41_49_50_41_53_54_41;

impl Db {
    /// Applies every migration not yet applied, all in one transaction. Safe to call on every
    /// start and from several instances at once (PostgreSQL runs wait on an advisory lock).
    pub async fn migrate(&self) -> Result<MigrationReport, DbError> {
        let mut tx = self.begin().await?;
        if self.backend() == Backend::Postgres {
            // Released when the transaction ends, however it ends.
            Query::new("SELECT pg_advisory_xact_lock($1)")
                .bind(PG_MIGRATION_LOCK)
                .execute(&mut tx)
                .await?;
        }
        let report = apply_pending(&mut tx, self.backend()).await?;
        tx.commit().await?;
        for version in &report.applied {
            let name = MIGRATIONS
                .iter()
                .find(|m| m.version == *version)
                .map_or("", |m| m.name);
            tracing::info!(version, name, "applied migration");
        }
        Ok(report)
    }

    /// The highest applied migration version, or 0 on an empty database.
    pub async fn schema_version(&self) -> Result<i64, DbError> {
        let mut tx = self.begin().await?;
        ensure_ledger(&mut tx).await?;
        let version = current_version(&mut tx).await?;
        tx.commit().await?;
        Ok(version)
    }
}

async fn ensure_ledger(tx: &mut Tx) -> Result<(), DbError> {
    execute_script(
        On::Tx(tx),
        "CREATE TABLE IF NOT EXISTS aipasta_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .await
}

async fn current_version(tx: &mut Tx) -> Result<i64, DbError> {
    Query::new("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM aipasta_migrations")
        .fetch_scalar(tx)
        .await
}

fn checksum(sql: &str) -> String {
    let digest = Sha256::digest(sql.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

async fn apply_pending(tx: &mut Tx, backend: Backend) -> Result<MigrationReport, DbError> {
    ensure_ledger(tx).await?;
    let recorded: Vec<(i64, String)> =
        Query::new("SELECT version, checksum FROM aipasta_migrations ORDER BY version")
            .fetch_all(&mut *tx)
            .await?;
    for (version, recorded_checksum) in &recorded {
        match MIGRATIONS.iter().find(|m| m.version == *version) {
            Some(known) if checksum(known.sql(backend)) != *recorded_checksum => {
                return Err(DbError::ChangedMigration {
                    version: *version,
                    name: known.name.to_string(),
                });
            }
            Some(_) => {}
            None => {
                return Err(DbError::NewerSchema {
                    found: *version,
                    known: MIGRATIONS.last().map_or(0, |m| m.version),
                });
            }
        }
    }

    let mut applied = Vec::new();
    for migration in MIGRATIONS {
        if recorded
            .iter()
            .any(|(version, _)| *version == migration.version)
        {
            continue;
        }
        execute_script(On::Tx(tx), migration.sql(backend)).await?;
        Query::new(
            "INSERT INTO aipasta_migrations (version, name, checksum, applied_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(checksum(migration.sql(backend)))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        applied.push(migration.version);
    }
    let current = current_version(tx).await?;
    Ok(MigrationReport { applied, current })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_in_strictly_increasing_order() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
        assert_eq!(versions.first(), Some(&1));
    }

    #[test]
    fn checksum_is_stable_hex() {
        assert_eq!(
            checksum("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
