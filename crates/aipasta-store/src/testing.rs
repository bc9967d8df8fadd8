//! Fresh databases for tests: a temporary SQLite file always, and a throw-away PostgreSQL
//! database when `AIPASTA_TEST_DATABASE_URL` names a server. Each is removed when dropped.

use std::path::PathBuf;

use sqlx::{Connection, Executor, PgConnection};

use crate::db::sqlite_url;
use crate::{Backend, Db};

/// The environment variable that turns on the PostgreSQL half of every storage test.
pub const TEST_DATABASE_URL_VAR: &str = "AIPASTA_TEST_DATABASE_URL";

/// The backends the current test run covers: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if postgres_server_url().is_some() {
        backends.push(Backend::Postgres);
    } else {
        eprintln!(
            "note: {TEST_DATABASE_URL_VAR} is not set; this test runs on SQLite only (CI sets it)"
        );
    }
    backends
}

fn postgres_server_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    /// Where a SQLite test database lives; the directory is deleted on drop.
    pub sqlite_dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<PgCleanup>,
}

struct PgCleanup {
    server_url: String,
    database: String,
}

impl TestDatabase {
    /// Creates an empty database on `backend` (not yet migrated).
    pub async fn create(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
                let url = sqlite_url(&dir.path().join("aipasta.db"));
                TestDatabase {
                    url,
                    backend,
                    sqlite_dir: Some(dir),
                    pg_cleanup: None,
                }
            }
            Backend::Postgres => {
                let server_url = postgres_server_url()
                    .unwrap_or_else(|| panic!("{TEST_DATABASE_URL_VAR} is not set"));
                let database = format!("aipasta_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(&server_url)
                    .await
                    .unwrap_or_else(|e| panic!("connect to {TEST_DATABASE_URL_VAR}: {e}"));
                admin
                    .execute(format!("CREATE DATABASE {database}").as_str())
                    .await
                    .unwrap_or_else(|e| panic!("create test database: {e}"));
                let _ = admin.close().await;
                TestDatabase {
                    url: replace_database(&server_url, &database),
                    backend,
                    sqlite_dir: None,
                    pg_cleanup: Some(PgCleanup {
                        server_url,
                        database,
                    }),
                }
            }
        }
    }

    /// Creates a database on `backend` and applies every migration.
    pub async fn migrated(backend: Backend) -> (TestDatabase, Db) {
        let test_db = TestDatabase::create(backend).await;
        let db = test_db.connect().await;
        db.migrate()
            .await
            .unwrap_or_else(|e| panic!("migrate {}: {e}", backend.as_str()));
        (test_db, db)
    }

    pub async fn connect(&self) -> Db {
        Db::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connect to test database: {e}"))
    }

    /// PostgreSQL only: makes the database refuse connections and ends those open (as a server
    /// that went down), or lets them in again.
    pub async fn set_postgres_reachable(&self, reachable: bool) {
        let cleanup = self
            .pg_cleanup
            .as_ref()
            .unwrap_or_else(|| panic!("set_postgres_reachable is for PostgreSQL"));
        let mut admin = PgConnection::connect(&cleanup.server_url)
            .await
            .unwrap_or_else(|e| panic!("connect to {TEST_DATABASE_URL_VAR}: {e}"));
        admin
            .execute(
                format!(
                    "ALTER DATABASE {} ALLOW_CONNECTIONS {reachable}",
                    cleanup.database
                )
                .as_str(),
            )
            .await
            .unwrap_or_else(|e| panic!("allow connections: {e}"));
        if !reachable {
            admin
                .execute(
                    format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
                        cleanup.database
                    )
                    .as_str(),
                )
                .await
                .unwrap_or_else(|e| panic!("end connections: {e}"));
        }
        let _ = admin.close().await;
    }

    /// The data directory a SQLite test app should use (holds `aipasta.db`).
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.sqlite_dir.as_ref().map(|d| d.path().to_path_buf())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(cleanup) = self.pg_cleanup.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived thread
        // with its own runtime removes the database.
        let handle = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&cleanup.server_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", cleanup.database);
                    if let Err(e) = admin.execute(sql.as_str()).await {
                        eprintln!("warning: could not drop {}: {e}", cleanup.database);
                    }
                    let _ = admin.close().await;
                }
            });
        });
        let _ = handle.join();
    }
}

/// SQLite only: caps the database at its current size plus `extra_pages` pages on every pooled
/// connection (`None` lifts the cap), so writes that grow it fail with `SQLITE_FULL`, as on a
/// full disk.
pub async fn cap_sqlite_size(db: &Db, extra_pages: Option<i64>) {
    let pages: i64 = crate::Query::new("PRAGMA page_count")
        .fetch_scalar(db)
        .await
        .unwrap_or_else(|e| panic!("page_count: {e}"));
    let cap = extra_pages.map_or(i64::from(u32::MAX), |extra| pages + extra);
    on_every_sqlite_connection(db, &format!("PRAGMA max_page_count = {cap}")).await;
}

/// SQLite only: makes every pooled connection refuse writes (`SQLITE_READONLY`), or take them
/// again, as a database that cannot be written.
pub async fn set_sqlite_read_only(db: &Db, read_only: bool) {
    on_every_sqlite_connection(db, &format!("PRAGMA query_only = {read_only}")).await;
}

/// Runs `pragma` on every connection the pool may hand out (the pool is filled to its maximum
/// first, so none is missed).
async fn on_every_sqlite_connection(db: &Db, pragma: &str) {
    let crate::db::Pool::Sqlite(pool) = &db.pool else {
        panic!("{pragma} is for SQLite");
    };
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(
            pool.acquire()
                .await
                .unwrap_or_else(|e| panic!("acquire: {e}")),
        );
    }
    for connection in &mut held {
        connection
            .execute(pragma)
            .await
            .unwrap_or_else(|e| panic!("{pragma}: {e}"));
    }
}

/// `postgres://u@h:5432/postgres?x=y` with its database name replaced (benchmarks make their
/// own databases on a server too).
/// Drops database `name` on the server `server_url` names, saying so on stderr when it cannot
/// (a benchmark's throw-away database; tests' own drop themselves when they end).
pub async fn drop_postgres_database(server_url: &str, name: &str) {
    match crate::Db::connect(server_url).await {
        Ok(admin) => {
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            if let Err(e) = crate::Query::new(sql).execute(&admin).await {
                eprintln!("warning: could not drop {name}: {e}");
            }
            admin.close().await;
        }
        Err(e) => eprintln!("warning: could not drop {name}: {e}"),
    }
}

pub fn replace_database(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{database}?{query}"),
        None => format!("{root}/{database}"),
    }
}

/// An active, verified account with `email` and `role` (`user`, `moderator` or `admin`),
/// signed up with a password-less credentials identity.
pub async fn create_account(db: &Db, email: &str, role: &str) -> crate::accounts::UserRow {
    crate::accounts::create_user(
        db,
        &crate::accounts::NewUser {
            email: email.into(),
            name: "Ada".into(),
            password_hash: None,
            role: role.into(),
            email_verified: true,
            image: None,
            identity: ("credentials".into(), email.into()),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("create the account {email}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "t3"), "postgres://h/t3");
    }
}
