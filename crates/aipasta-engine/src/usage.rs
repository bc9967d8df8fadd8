//! The monthly token limit, checked before every call without a database query on the hot
//! path: each account's tokens this month are read from the daily rollups at most once a
//! minute and advanced in memory as generations end.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use moka::future::Cache;
use time::OffsetDateTime;

use aipasta_store::Db;
use aipasta_store::accounts::{UserRow, monthly_token_limit_default};
use aipasta_store::generations::tokens_used_since;

use crate::error::GenerationError;

/// How long a figure read from the database is trusted before it is read again (other
/// instances add to the same rollups).
const REFRESH: Duration = Duration::from_secs(60);
/// The most accounts whose figures are kept; the least recently used go first.
const MAX_ACCOUNTS: u64 = 100_000;

/// One account's tokens this month: read from the rollups, then advanced in memory.
struct Month {
    first_day: i64,
    tokens: AtomicI64,
}

pub struct UsageMeter {
    months: Cache<String, Arc<Month>>,
    /// The platform's default monthly limit (one entry).
    default_limit: Cache<(), i64>,
}

impl Default for UsageMeter {
    fn default() -> UsageMeter {
        UsageMeter {
            months: Cache::builder()
                .max_capacity(MAX_ACCOUNTS)
                .time_to_live(REFRESH)
                .build(),
            default_limit: Cache::builder()
                .max_capacity(1)
                .time_to_live(REFRESH)
                .build(),
        }
    }
}

/// An account's allowance this month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub used: i64,
    pub limit: i64,
}

impl Allowance {
    pub fn exhausted(self) -> bool {
        self.used >= self.limit
    }
}

/// Days since the epoch of the first day of this UTC month.
pub fn first_day_of_month(now: OffsetDateTime) -> i64 {
    let first = now.date().replace_day(1).unwrap_or(now.date());
    first
        .midnight()
        .assume_utc()
        .unix_timestamp()
        .div_euclid(86_400)
}

impl UsageMeter {
    /// `user`'s tokens this month against their limit. Concurrent first calls for one account
    /// share one database read.
    pub async fn allowance(&self, db: &Db, user: &UserRow) -> Result<Allowance, GenerationError> {
        let limit = match user.monthly_token_limit {
            Some(limit) => limit,
            None => self
                .default_limit
                .try_get_with((), monthly_token_limit_default(db))
                .await
                .map_err(|error| GenerationError::from_db(&error))?,
        };
        let first_day = first_day_of_month(OffsetDateTime::now_utc());
        if let Some(month) = self.months.get(&user.id).await
            && month.first_day != first_day
        {
            // A new month began since the figure was read.
            self.months.invalidate(&user.id).await;
        }
        let month = self
            .months
            .try_get_with_by_ref(&user.id, async {
                let tokens = tokens_used_since(db, &user.id, first_day).await?;
                Ok::<_, aipasta_store::DbError>(Arc::new(Month {
                    first_day,
                    tokens: AtomicI64::new(tokens),
                }))
            })
            .await
            .map_err(|error| GenerationError::from_db(&error))?;
        Ok(Allowance {
            used: month.tokens.load(Ordering::Relaxed),
            limit,
        })
    }

    /// Counts tokens a generation just used (before the database has them).
    pub async fn add(&self, user_id: &str, tokens: i64) {
        if let Some(month) = self.months.get(user_id).await {
            month.tokens.fetch_add(tokens, Ordering::Relaxed);
        }
    }

    /// Forgets the cached figures, so limits are read again (after an admin changes the
    /// default limit).
    pub fn forget(&self) {
        self.months.invalidate_all();
        self.default_limit.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::first_day_of_month;
    use time::macros::datetime;

    #[test]
    fn the_month_starts_on_its_first_day_in_utc() {
        // 2026-11-01 is 20,758 days after 1970-01-01.
        assert_eq!(first_day_of_month(datetime!(2026-11-24 13:00 UTC)), 20_758);
        assert_eq!(first_day_of_month(datetime!(2026-11-01 00:00 UTC)), 20_758);
        assert_eq!(first_day_of_month(datetime!(1970-01-31 23:59 UTC)), 0);
    }
}
