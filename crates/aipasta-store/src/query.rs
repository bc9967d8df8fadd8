//! One query path for both backends: a SQL string with `$1, $2, ...` placeholders and a list of
//! typed values, run on whichever pool (or transaction) the [`Db`] holds.

use std::borrow::Cow;

use futures_util::{StreamExt, TryStreamExt};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, Executor, FromRow, Postgres, Sqlite};

use crate::db::{Db, DbError, Pool};

/// A value bound to a placeholder. `None` inside keeps the SQL type of a NULL, which PostgreSQL
/// needs to accept it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! value_from {
    ($variant:ident: $($ty:ty => $conv:expr),+ $(,)?) => {$(
        impl From<$ty> for Value {
            fn from(v: $ty) -> Value {
                let conv: fn($ty) -> _ = $conv;
                Value::$variant(Some(conv(v)))
            }
        }
        impl From<Option<$ty>> for Value {
            fn from(v: Option<$ty>) -> Value {
                let conv: fn($ty) -> _ = $conv;
                Value::$variant(v.map(conv))
            }
        }
    )+};
}
value_from!(Int: i64 => |v| v, i32 => i64::from, u32 => i64::from);
value_from!(Float: f64 => |v| v);
value_from!(Bool: bool => |v| v);
value_from!(Text: String => |v| v, &str => str::to_owned, &String => String::clone);
value_from!(Bytes: Vec<u8> => |v| v);

/// A row type both backends can decode (derive `sqlx::FromRow` on a struct of portable types).
pub trait DbRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> DbRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// An open transaction on either backend.
pub struct Tx {
    inner: TxInner,
}

enum TxInner {
    Sqlite(SqliteTx),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// A SQLite transaction run by hand (`BEGIN IMMEDIATE` … `COMMIT`) on a pooled connection that
/// is closed, not returned to the pool, unless the transaction committed. sqlx's own
/// transactions count their depth per connection and roll back on drop; when SQLite has
/// already rolled back by itself (a full disk: `SQLITE_FULL`), that rollback fails, the count
/// stays at one, and every later `BEGIN` on the connection fails for good ("non-zero
/// transaction depth"). A closed connection takes its transaction with it; the pool opens a
/// fresh one (a file open: well under a millisecond).
struct SqliteTx {
    connection: PoolConnection<Sqlite>,
    open: bool,
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if self.open {
            self.connection.close_on_drop();
        }
    }
}

impl Db {
    /// Starts a write transaction; dropping it without [`Tx::commit`] rolls back.
    ///
    /// On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), waiting out another
    /// writer under the busy timeout. A deferred transaction that reads first fails outright
    /// (`SQLITE_BUSY`, no waiting) when it comes to write after another connection, such as the
    /// generation recorder, has written in between.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => {
                let mut connection = pool.acquire().await?;
                connection.execute("BEGIN IMMEDIATE").await?;
                TxInner::Sqlite(SqliteTx {
                    connection,
                    open: true,
                })
            }
            Pool::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx { inner })
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), DbError> {
        match self.inner {
            TxInner::Sqlite(mut tx) => {
                tx.connection.execute("COMMIT").await?;
                tx.open = false;
            }
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// The PostgreSQL connection under the transaction, for the few statements that bind what
    /// only PostgreSQL has (arrays); `None` on SQLite.
    pub(crate) fn postgres(&mut self) -> Option<&mut sqlx::PgConnection> {
        match &mut self.inner {
            TxInner::Postgres(tx) => Some(&mut **tx),
            TxInner::Sqlite(_) => None,
        }
    }
}

/// Where a query runs: on the pool, or inside a transaction.
pub enum On<'a> {
    Pool(&'a Db),
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Db> for On<'a> {
    fn from(db: &'a Db) -> On<'a> {
        On::Pool(db)
    }
}

impl<'a> From<&'a mut Tx> for On<'a> {
    fn from(tx: &'a mut Tx) -> On<'a> {
        On::Tx(tx)
    }
}

/// A statement and its bound values.
#[derive(Debug, Clone)]
pub struct Query {
    sql: Cow<'static, str>,
    values: Vec<Value>,
}

fn sqlite_args(values: Vec<Value>) -> Result<SqliteArguments<'static>, DbError> {
    let mut args = SqliteArguments::default();
    for value in values {
        let added = match value {
            Value::Int(v) => args.add(v),
            Value::Float(v) => args.add(v),
            Value::Bool(v) => args.add(v),
            Value::Text(v) => args.add(v),
            Value::Bytes(v) => args.add(v),
        };
        added.map_err(|e| DbError::Sqlx(sqlx::Error::Encode(e)))?;
    }
    Ok(args)
}

fn pg_args(values: Vec<Value>) -> Result<PgArguments, DbError> {
    let mut args = PgArguments::default();
    for value in values {
        let added = match value {
            Value::Int(v) => args.add(v),
            Value::Float(v) => args.add(v),
            Value::Bool(v) => args.add(v),
            Value::Text(Some(text)) if text.contains('\0') => {
                args.add(nul_free(&text).into_owned())
            }
            Value::Text(v) => args.add(v),
            Value::Bytes(v) => args.add(v),
        };
        added.map_err(|e| DbError::Sqlx(sqlx::Error::Encode(e)))?;
    }
    Ok(args)
}

/// `text` with U+FFFD in place of every U+0000, for PostgreSQL, whose text cannot store it and
/// would fail the statement: a client's or a model's text holding one is stored, not answered
/// with a 500 (or, for a generation, left unrecorded). The replacement is the same on every
/// write and every lookup, so text stored this way is still found by the text that stored it.
/// SQLite keeps U+0000.
pub(crate) fn nul_free(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Runs `$body` with `$query` prepared for the backend of `$on` and `$exec` its executor.
macro_rules! dispatch {
    ($on:expr, $sql:expr, $values:expr, |$query:ident, $exec:ident| $body:expr) => {
        match $on {
            On::Pool(db) => match &db.pool {
                Pool::Sqlite(pool) => {
                    let $query = sqlx::query_with($sql, sqlite_args($values)?);
                    let $exec = pool;
                    $body
                }
                Pool::Postgres(pool) => {
                    let $query = sqlx::query_with($sql, pg_args($values)?);
                    let $exec = pool;
                    $body
                }
            },
            On::Tx(tx) => match &mut tx.inner {
                TxInner::Sqlite(tx) => {
                    let $query = sqlx::query_with($sql, sqlite_args($values)?);
                    let $exec = &mut *tx.connection;
                    $body
                }
                TxInner::Postgres(tx) => {
                    let $query = sqlx::query_with($sql, pg_args($values)?);
                    let $exec = &mut **tx;
                    $body
                }
            },
        }
    };
}

impl Query {
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Query {
        Query {
            sql: sql.into(),
            values: Vec::new(),
        }
    }

    /// Binds the next placeholder.
    pub fn bind(mut self, value: impl Into<Value>) -> Query {
        self.values.push(value.into());
        self
    }

    /// Runs the statement; answers the number of rows it changed.
    pub async fn execute<'a>(self, on: impl Into<On<'a>>) -> Result<u64, DbError> {
        let Query { sql, values } = self;
        let affected = dispatch!(on.into(), &sql, values, |query, exec| {
            query.execute(exec).await?.rows_affected()
        });
        Ok(affected)
    }

    /// Every row, decoded as `T`. Rows are decoded as they arrive, so the driver's raw rows
    /// (several kilobytes each on SQLite) never pile up: the catalog index loads 50,000.
    pub async fn fetch_all<'a, T: DbRow>(self, on: impl Into<On<'a>>) -> Result<Vec<T>, DbError> {
        let Query { sql, values } = self;
        let rows = dispatch!(on.into(), &sql, values, |query, exec| {
            query
                .fetch(exec)
                .map(|row| row.and_then(|row| T::from_row(&row)))
                .try_collect::<Vec<T>>()
                .await?
        });
        Ok(rows)
    }

    /// The first row, if any, decoded as `T`.
    pub async fn fetch_optional<'a, T: DbRow>(
        self,
        on: impl Into<On<'a>>,
    ) -> Result<Option<T>, DbError> {
        let Query { sql, values } = self;
        let row = dispatch!(on.into(), &sql, values, |query, exec| {
            match query.fetch_optional(exec).await? {
                Some(row) => Some(T::from_row(&row)?),
                None => None,
            }
        });
        Ok(row)
    }

    /// Exactly one row, decoded as `T`; no row is [`sqlx::Error::RowNotFound`].
    pub async fn fetch_one<'a, T: DbRow>(self, on: impl Into<On<'a>>) -> Result<T, DbError> {
        self.fetch_optional(on)
            .await?
            .ok_or(DbError::Sqlx(sqlx::Error::RowNotFound))
    }

    /// The first column of the first row (`COUNT(*)`, an id, ...).
    pub async fn fetch_scalar<'a, T>(self, on: impl Into<On<'a>>) -> Result<T, DbError>
    where
        (T,): DbRow,
    {
        let (value,) = self.fetch_one::<(T,)>(on).await?;
        Ok(value)
    }
}

/// Runs a script of several statements without parameters (migrations).
pub(crate) async fn execute_script(on: On<'_>, script: &str) -> Result<(), DbError> {
    match on {
        On::Pool(db) => match &db.pool {
            Pool::Sqlite(pool) => sqlx::raw_sql(script).execute(pool).await.map(drop)?,
            Pool::Postgres(pool) => sqlx::raw_sql(script).execute(pool).await.map(drop)?,
        },
        On::Tx(tx) => match &mut tx.inner {
            TxInner::Sqlite(tx) => sqlx::raw_sql(script)
                .execute(&mut *tx.connection)
                .await
                .map(drop)?,
            TxInner::Postgres(tx) => sqlx::raw_sql(script).execute(&mut **tx).await.map(drop)?,
        },
    }
    Ok(())
}
