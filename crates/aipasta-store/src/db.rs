//! The database handle: a native SQLite or PostgreSQL pool behind one type.
//!
//! sqlx's `Any` driver was tried and rejected: it cannot decode SQLite booleans nor PostgreSQL's
//! `NUMERIC`/`NAME`, so every query would need casts. Native pools plus [`crate::Query`], which
//! binds the same values on either, keep one query path with full types.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The name shown in `/api/health` and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL (expected sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    #[error("could not create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("migration {version} ({name}) has changed since it was applied; refusing to continue")]
    ChangedMigration { version: i64, name: String },
    #[error(
        "the database was migrated by a newer AI Pasta (schema version {found}, this build knows {known})"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("the compiled-in seed catalog is invalid: {0}")]
    Seed(String),
    #[error("the database did not answer in time")]
    Timeout,
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

impl DbError {
    /// True when the error is a unique-constraint violation (a duplicate email, slug, ...).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }

    /// True when the database refused the statement itself (a constraint it breaks, a value it
    /// cannot store) rather than failing to run it: the same statement can never succeed, so
    /// retrying it is pointless. Lost connections, timeouts, deadlocks and a server shutting
    /// down are not rejections.
    pub fn is_rejection(&self) -> bool {
        match self {
            DbError::Sqlx(sqlx::Error::Encode(_)) => true,
            DbError::Sqlx(sqlx::Error::Database(e)) => {
                !matches!(e.kind(), sqlx::error::ErrorKind::Other)
                    // PostgreSQL: data exceptions (22…, such as a byte sequence its encoding
                    // refuses) and integrity violations (23…).
                    || e.code().is_some_and(|code| code.starts_with("22") || code.starts_with("23"))
            }
            _ => false,
        }
    }

    /// True when the database could not be reached or cannot take writes right now (down,
    /// unreachable, out of connections, out of disk space, shutting down): the same request
    /// may well succeed later, so clients are told to retry rather than shown a fault.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Timeout => true,
            DbError::Sqlx(error) => match error {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(e) => e.code().is_some_and(|code| {
                    // SQLite's primary result codes (extended ones keep them in the low byte):
                    // BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14.
                    // PostgreSQL's classes: 08 connection exception, 53 insufficient resources
                    // (53100: disk full), 57P0x the server is shutting down or starting, 55000
                    // a database that does not allow connections now.
                    match code.parse::<u32>() {
                        Ok(sqlite) => matches!(sqlite & 0xff, 5 | 6 | 8 | 10 | 13 | 14),
                        Err(_) => {
                            code.starts_with("08")
                                || code.starts_with("53")
                                || code.starts_with("57P0")
                                || code == "55000"
                        }
                    }
                }),
                _ => false,
            },
            _ => false,
        }
    }

    /// True when a foreign key refused the statement: it names a row that does not exist.
    pub fn is_foreign_key_violation(&self) -> bool {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) => e.is_foreign_key_violation(),
            _ => false,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A cloneable handle to the database pool.
#[derive(Clone, Debug)]
pub struct Db {
    pub(crate) pool: Pool,
    /// Bumped by every store function that changes what a request's caller is (an account's
    /// role, status, limits, profile, password, or an API key's revocation), so caches of
    /// callers in this process can tell a cached row from a stale one.
    account_changes: Arc<AtomicU64>,
    /// The catalog's listing and search index (see `catalog::index`).
    catalog_index: Arc<crate::catalog::IndexCache>,
}

/// How long a SQLite writer waits for the lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a free connection before failing clearly.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl Db {
    /// Connects to `url` (`sqlite://...` or `postgres://...`).
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        let pool = if url.starts_with("sqlite:") {
            // WAL lets readers run beside the one writer; the busy timeout makes a second writer
            // wait instead of failing with SQLITE_BUSY.
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            create_private_sqlite_file(url, options.get_filename());
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(&password_parameters_for_sqlx(url))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await?;
            Pool::Postgres(pool)
        } else {
            return Err(DbError::UnsupportedUrl(redact_url(url)));
        };
        Ok(Db {
            pool,
            account_changes: Arc::default(),
            catalog_index: Arc::default(),
        })
    }

    /// Opens (creating when missing) the SQLite file `<data_dir>/aipasta.db`.
    pub async fn open_sqlite_in(data_dir: &Path) -> Result<Db, DbError> {
        create_private_dir(data_dir).map_err(|source| DbError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        Db::connect(&sqlite_url(&data_dir.join("aipasta.db"))).await
    }

    /// Changes once an account or API key changes through this handle (or a clone of it).
    /// Another process's changes are not seen: caches keyed on this also expire by time.
    pub fn accounts_version(&self) -> u64 {
        self.account_changes.load(Ordering::Acquire)
    }

    pub(crate) fn note_account_change(&self) {
        self.account_changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Says the catalog (models, their tags, categories) changed, so listing and search rebuild
    /// their index before the next query. Every store function that writes the catalog calls
    /// it; code that writes those tables itself (a test's raw SQL) must call it too.
    pub fn note_catalog_change(&self) {
        self.catalog_index.note_change();
    }

    pub(crate) fn catalog_index_cache(&self) -> &crate::catalog::IndexCache {
        &self.catalog_index
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// A round trip to the database, bounded in time so a health check never hangs.
    pub async fn ping(&self) -> Result<(), DbError> {
        let check = crate::Query::new("SELECT 1").execute(self);
        match tokio::time::timeout(Duration::from_secs(2), check).await {
            Ok(result) => result.map(|_| ()),
            Err(_elapsed) => Err(DbError::Timeout),
        }
    }

    /// Closes every connection; later queries fail. Used at shutdown (and by tests).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// Creates `dir`, and any missing parent, readable by the owner only (0700 on Unix): it holds
/// the database and the server secret. An existing directory is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Creates the SQLite file of `url`, empty and readable by the owner only (0600 on Unix),
/// before SQLite would create it readable by all; SQLite gives its `-wal` and `-shm` files the
/// same mode. An existing file, and an in-memory database, are left alone. A file that cannot
/// be created here cannot be by SQLite either, which then says why.
fn create_private_sqlite_file(url: &str, file: &Path) {
    if url.contains(":memory:") || url.contains("mode=memory") || file.exists() {
        return;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    if let Err(error) = options.open(file) {
        tracing::debug!(%error, file = %file.display(), "could not create the SQLite file");
    }
}

/// `url` with its password query parameters in the form sqlx reads without logging them: sqlx
/// knows only `password`, in lower case, and logs any other parameter's value when it ignores
/// it. So `Password=` (any case) becomes `password=`, and other `…password=` parameters (such
/// as libpq's `sslpassword`, which sqlx does not support) are left out, with a warning that
/// names them only.
fn password_parameters_for_sqlx(url: &str) -> String {
    let Some((address, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let lower = name.to_ascii_lowercase();
        if lower == "password" {
            kept.push(format!("password={value}"));
        } else if lower.ends_with("password") {
            tracing::warn!(
                parameter = name,
                "ignoring an unsupported connection parameter"
            );
        } else {
            kept.push(pair.to_owned());
        }
    }
    if kept.is_empty() {
        address.to_owned()
    } else {
        format!("{address}?{}", kept.join("&"))
    }
}

/// The sqlx URL of a SQLite file.
pub fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// A database (or Redis) URL fit for logs and `aipasta config`: passwords are replaced by
/// `***`, whether given as `user:password@` or as a query parameter whose name ends in
/// `password`, in any case and place (`?password=`, `&Password=`, `&sslpassword=`). When in
/// doubt (a malformed URL) more is hidden, never less.
pub fn redact_url(url: &str) -> String {
    redact_password_parameters(&redact_userinfo(url))
}

/// `scheme://user:***@rest`: everything between the first `:` after the scheme and the last
/// `@` is hidden, so a password holding `@`, `/` or `?` is hidden whole.
fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            match url[scheme_end + 3..at].split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The query's password parameters' values hidden.
fn redact_password_parameters(url: &str) -> String {
    let Some((address, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _value)) if name.to_ascii_lowercase().ends_with("password") => {
                format!("{name}=***")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{address}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/aipasta"),
            "postgres://app:***@db:5432/aipasta"
        );
        assert_eq!(
            redact_url("postgres://app@db/aipasta"),
            "postgres://app@db/aipasta"
        );
        assert_eq!(
            redact_url("sqlite://data/aipasta.db"),
            "sqlite://data/aipasta.db"
        );
    }

    #[test]
    fn password_parameters_reach_sqlx_in_the_one_form_it_reads() {
        use super::password_parameters_for_sqlx as for_sqlx;
        assert_eq!(
            for_sqlx("postgres://db/x?sslmode=disable&PassWord=a%40b&sslpassword=c"),
            "postgres://db/x?sslmode=disable&password=a%40b"
        );
        assert_eq!(for_sqlx("postgres://db/x?sslpassword=c"), "postgres://db/x");
        assert_eq!(for_sqlx("postgres://u:p@db/x"), "postgres://u:p@db/x");
    }

    #[test]
    fn passwords_in_the_query_are_redacted_in_any_case_and_place() {
        for (url, shown) in [
            (
                "postgres://app@db/aipasta?password=s3cret",
                "postgres://app@db/aipasta?password=***",
            ),
            (
                "postgres://app@db/aipasta?sslmode=disable&password=s3cret&application_name=x",
                "postgres://app@db/aipasta?sslmode=disable&password=***&application_name=x",
            ),
            (
                "postgres://db/aipasta?user=app&PASSWORD=s3cret",
                "postgres://db/aipasta?user=app&PASSWORD=***",
            ),
            (
                "postgres://app:one@db/aipasta?Password=two",
                "postgres://app:***@db/aipasta?Password=***",
            ),
            (
                "postgres://app@db/aipasta?sslpassword=s3cret&passwords=kept",
                "postgres://app@db/aipasta?sslpassword=***&passwords=kept",
            ),
            // Malformed: hidden whole all the same.
            (
                "postgres://app:pa?ss@db/aipasta",
                "postgres://app:***@db/aipasta",
            ),
            (
                "postgres://db/aipasta?password=a@b",
                "postgres://db/aipasta?password=***",
            ),
        ] {
            assert_eq!(redact_url(url), shown);
        }
    }
}
