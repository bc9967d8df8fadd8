//! Storage for AI Pasta: one connection pool and one set of SQL statements that run unchanged
//! on SQLite (the embedded default) and PostgreSQL (for several instances).
//!
//! Portability rules every query follows (see ARCHITECTURE.md):
//! - placeholders are `$1, $2, ...` (both backends accept them);
//! - ids are UUIDv7 text, timestamps are `BIGINT` milliseconds since the epoch, money is `BIGINT`
//!   nano-dollars or exact decimal text, booleans are `BOOLEAN`, JSON is `TEXT`;
//! - where the dialects truly differ, one function holds both versions side by side.

pub mod accounts;
pub mod catalog;
mod db;
pub mod favorites;
pub mod generations;
mod migrate;
pub mod presets;
pub mod providers;
mod query;
pub mod recommendations;
#[cfg(feature = "testing")]
pub mod testing;

pub use db::{Backend, Db, DbError, create_private_dir, redact_url};
pub use migrate::{MIGRATIONS, Migration, MigrationReport};
pub use query::{DbRow, On, Query, Tx, Value};
