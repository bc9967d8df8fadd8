//! The schema migrations, on every backend this run covers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly

use aipasta_store::testing::{TestDatabase, backends};
use aipasta_store::{Backend, Db, MIGRATIONS, Query};

const TABLES: &[&str] = &[
    "users",
    "user_identities",
    "categories",
    "models",
    "model_tags",
    "generations",
    "generation_assets",
    "shares",
    "auth_sessions",
    "request_log_sessions",
    "request_log_entries",
    "system_settings",
    "favorites",
    "parameter_presets",
    "api_keys",
    "moderation_rules",
    "moderation_flags",
    "audit_log",
    "usage_days",
    "usage_model_days",
    "provider_endpoints",
    "user_provider_keys",
];

/// The indexes the product plan lists (by our names), plus the ones later features rely on.
const INDEXES: &[&str] = &[
    "users_email_key",
    "users_role_idx",
    "users_status_idx",
    "users_created_at_idx",
    "models_name_idx",
    "models_provider_idx",
    "models_category_idx",
    "models_created_at_idx",
    // Migrations 4 and 5 dropped the status, activity and sort-column indexes: listing and
    // search read the in-memory index (catalog/index.rs).
    "models_updated_at_idx",
    "models_provider_model_key",
    "model_tags_tag_idx",
    "categories_slug_key",
    "categories_name_key",
    "categories_is_active_idx",
    "categories_sort_order_idx",
    // Migration 10 replaced (user_id, created_at) with one index per history sort order.
    "generations_user_time_idx",
    "generations_user_cost_idx",
    "generations_user_tokens_idx",
    "generations_user_duration_idx",
    "generations_user_model_time_idx",
    "generations_model_created_idx",
    // Migration 12 replaced (session_id) with (user_id, session_id, created_at, id).
    "generations_user_session_idx",
    "generations_status_idx",
    "generations_created_at_idx",
    "shares_share_id_key",
    "request_log_sessions_session_key",
    "request_log_sessions_user_idx",
    "request_log_sessions_ip_idx",
    "request_log_sessions_expires_idx",
    "system_settings_category_idx",
    "api_keys_hash_key",
    "usage_days_model_idx",
    "usage_days_day_idx",
    // Migration 13 moved (user_id, model_id) to the rollup by model.
    "usage_model_days_user_model_idx",
    "favorites_user_position_idx",
    "provider_endpoints_name_key",
];

async fn names(db: &Db, kind: &str) -> Vec<String> {
    let sql = match (db.backend(), kind) {
        (Backend::Sqlite, "table") => "SELECT name FROM sqlite_master WHERE type = 'table'",
        (Backend::Sqlite, _) => "SELECT name FROM sqlite_master WHERE type = 'index'",
        (Backend::Postgres, "table") => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public'"
        }
        (Backend::Postgres, _) => {
            "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = 'public'"
        }
    };
    let rows: Vec<(String,)> = Query::new(sql)
        .fetch_all(db)
        .await
        .expect("list schema objects");
    rows.into_iter().map(|(name,)| name).collect()
}

#[tokio::test]
async fn migrations_create_the_whole_schema_and_reapply_as_no_ops() {
    for backend in backends() {
        let test_db = TestDatabase::create(backend).await;
        let db = test_db.connect().await;
        assert_eq!(db.schema_version().await.expect("version"), 0);

        let first = db.migrate().await.expect("first migration run");
        let all: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(
            first.applied, all,
            "{backend:?}: every migration applied once"
        );

        let tables = names(&db, "table").await;
        for table in TABLES {
            assert!(
                tables.iter().any(|t| t == table),
                "{backend:?}: table {table} missing"
            );
        }
        let indexes = names(&db, "index").await;
        for index in INDEXES {
            assert!(
                indexes.iter().any(|i| i == index),
                "{backend:?}: index {index} missing"
            );
        }

        let second = db.migrate().await.expect("second migration run");
        assert!(
            second.applied.is_empty(),
            "{backend:?}: nothing to re-apply"
        );
        assert_eq!(second.current, first.current);
        assert_eq!(names(&db, "table").await.len(), tables.len());
        assert_eq!(names(&db, "index").await.len(), indexes.len());
    }
}

#[tokio::test]
async fn portable_types_round_trip_and_constraints_hold() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        Query::new(
            "INSERT INTO users (id, email, name, public_profile, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind("u1")
        .bind("a@example.com")
        .bind("Ada")
        .bind(true)
        .bind(1_700_000_000_000_i64)
        .bind(1_700_000_000_000_i64)
        .execute(&db)
        .await
        .expect("insert user");
        let (public_profile, notify_push, created_at, role, image): (
            bool,
            bool,
            i64,
            String,
            Option<String>,
        ) = Query::new("SELECT public_profile, notify_push, created_at, role, image FROM users")
            .fetch_one(&db)
            .await
            .expect("read user");
        assert!(public_profile, "{backend:?}");
        assert!(!notify_push, "{backend:?}");
        assert_eq!(created_at, 1_700_000_000_000);
        assert_eq!(role, "user");
        assert_eq!(image, None);

        let typed_null =
            Query::new("UPDATE users SET last_login_at = $1, image = $2 WHERE id = $3")
                .bind(None::<i64>)
                .bind(Some("https://example.com/a.png"))
                .bind("u1")
                .execute(&db)
                .await
                .expect("typed NULLs bind on every backend");
        assert_eq!(typed_null, 1);

        let duplicate = Query::new(
            "INSERT INTO users (id, email, name, created_at, updated_at) VALUES ('u2', 'a@example.com', 'B', 0, 0)",
        )
        .execute(&db)
        .await;
        assert!(
            duplicate.is_err_and(|e| e.is_unique_violation()),
            "{backend:?}: emails are unique"
        );

        let bad_role = Query::new(
            "INSERT INTO users (id, email, name, role, created_at, updated_at) VALUES ('u3', 'c@example.com', 'C', 'root', 0, 0)",
        )
        .execute(&db)
        .await;
        assert!(bad_role.is_err(), "{backend:?}: role is checked");

        let orphan = Query::new(
            "INSERT INTO favorites (user_id, model_id, created_at) VALUES ('nobody', 'nothing', 0)",
        )
        .execute(&db)
        .await;
        assert!(orphan.is_err(), "{backend:?}: foreign keys are enforced");
    }
}

/// Migration 8: success rates stored as fractions (0 to 1) become the percentages the plan and
/// the API give; a model without one keeps none.
#[tokio::test]
async fn success_rates_stored_as_fractions_become_percentages() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        aipasta_store::catalog::seed_if_empty(&db).await.unwrap();
        let models: Vec<(String,)> = Query::new("SELECT id FROM models ORDER BY id LIMIT 3")
            .fetch_all(&db)
            .await
            .unwrap();
        // As a database before migration 8 held them.
        for ((id,), rate) in models.iter().zip([Some(1.0), Some(0.755), None]) {
            Query::new("UPDATE models SET success_rate = $1 WHERE id = $2")
                .bind(rate)
                .bind(id)
                .execute(&db)
                .await
                .unwrap();
        }
        Query::new("DELETE FROM aipasta_migrations WHERE version = 8")
            .execute(&db)
            .await
            .unwrap();

        let report = db.migrate().await.unwrap();
        assert_eq!(report.applied, vec![8], "{backend:?}");
        for ((id,), expected) in models.iter().zip([Some(100.0), Some(75.5), None]) {
            let rate: Option<f64> = Query::new("SELECT success_rate FROM models WHERE id = $1")
                .bind(id)
                .fetch_scalar(&db)
                .await
                .unwrap();
            match (rate, expected) {
                (Some(rate), Some(expected)) => {
                    assert!((rate - expected).abs() < 1e-9, "{backend:?}: {rate}")
                }
                (rate, expected) => assert_eq!(rate, expected, "{backend:?}"),
            }
        }
    }
}

/// Migration 13: the rollups by day and model are filled from those by source, summed.
#[tokio::test]
async fn usage_by_model_is_filled_from_the_rollups_by_source() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        let ada = aipasta_store::testing::create_account(&db, "ada@example.com", "user")
            .await
            .id;
        // As a database before migration 13 held them.
        for sql in [
            "DROP TABLE usage_model_days",
            "CREATE INDEX usage_days_user_model_idx ON usage_days (user_id, model_id)",
            "DELETE FROM aipasta_migrations WHERE version = 13",
        ] {
            Query::new(sql).execute(&db).await.unwrap();
        }
        // (day, model, source, generations, errors, prompt, completion, cost, duration)
        let rows = [
            (20_000, "m1", "playground", 2, 1, 10, 20, 300, 400),
            (20_000, "m1", "v1", 3, 0, 1, 2, 3, 4),
            (20_000, "m2", "v1", 1, 0, 5, 6, 7, 8),
            (20_001, "m1", "api", 4, 2, 9, 10, 11, 12),
        ];
        for (day, model, source, generations, errors, prompt, completion, cost, duration) in rows {
            Query::new(
                "INSERT INTO usage_days (user_id, day, model_id, source, generations, errors, \
                 prompt_tokens, completion_tokens, cost_nanos, total_duration_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(ada.as_str())
            .bind(day as i64)
            .bind(model)
            .bind(source)
            .bind(generations as i64)
            .bind(errors as i64)
            .bind(prompt as i64)
            .bind(completion as i64)
            .bind(cost as i64)
            .bind(duration as i64)
            .execute(&db)
            .await
            .unwrap();
        }

        let report = db.migrate().await.unwrap();
        assert_eq!(report.applied, vec![13], "{backend:?}");
        /// Day, model, generations, errors, prompt and completion tokens, cost, duration.
        type ModelDay = (i64, String, i64, i64, i64, i64, i64, i64);
        let mut sums: Vec<ModelDay> = Query::new(
            "SELECT day, model_id, generations, errors, prompt_tokens, completion_tokens, \
             cost_nanos, total_duration_ms FROM usage_model_days WHERE user_id = $1",
        )
        .bind(ada.as_str())
        .fetch_all(&db)
        .await
        .unwrap();
        sums.sort();
        assert_eq!(
            sums,
            vec![
                (20_000, "m1".to_owned(), 5, 1, 11, 22, 303, 404),
                (20_000, "m2".to_owned(), 1, 0, 5, 6, 7, 8),
                (20_001, "m1".to_owned(), 4, 2, 9, 10, 11, 12),
            ],
            "{backend:?}"
        );
        assert!(
            !names(&db, "index")
                .await
                .contains(&"usage_days_user_model_idx".to_owned()),
            "{backend:?}: the index by model of the rollups by source is gone"
        );
    }
}
