//! The monthly token limit, checked before every call without a database query on the hot
//! path: each account's tokens this month are read from the daily rollups at most once a
//! minute and advanced in memory as generations end.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aipasta_store::accounts::{UserRow, monthly_token_limit_default};
use aipasta_store::generations::tokens_used_since;
use aipasta_store::{Db, DbError};
use time::OffsetDateTime;

/// How long a figure read from the database is trusted before it is read again (other
/// instances add to the same rollups).
const REFRESH: Duration = Duration::from_secs(60);

struct Month {
    first_day: i64,
    tokens: i64,
    read_at: Instant,
}

#[derive(Default)]
pub struct UsageMeter {
    months: Mutex<HashMap<String, Month>>,
    default_limit: Mutex<Option<(i64, Instant)>>,
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
    pub async fn allowance(&self, db: &Db, user: &UserRow) -> Result<Allowance, DbError> {
        let limit = match user.monthly_token_limit {
            Some(limit) => limit,
            None => self.default_limit(db).await?,
        };
        let first_day = first_day_of_month(OffsetDateTime::now_utc());
        let cached = {
            let months = self.months.lock().unwrap_or_else(|e| e.into_inner());
            months
                .get(&user.id)
                .filter(|m| m.first_day == first_day && m.read_at.elapsed() < REFRESH)
                .map(|m| m.tokens)
        };
        let used = match cached {
            Some(tokens) => tokens,
            None => {
                let tokens = tokens_used_since(db, &user.id, first_day).await?;
                self.months
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(
                        user.id.clone(),
                        Month {
                            first_day,
                            tokens,
                            read_at: Instant::now(),
                        },
                    );
                tokens
            }
        };
        Ok(Allowance { used, limit })
    }

    /// Counts tokens a generation just used (before the database has them).
    pub fn add(&self, user_id: &str, tokens: i64) {
        if let Some(month) = self
            .months
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(user_id)
        {
            month.tokens += tokens;
        }
    }

    /// Forgets cached figures (after an admin changes limits, and in tests).
    pub fn forget(&self) {
        self.months
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        *self.default_limit.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    async fn default_limit(&self, db: &Db) -> Result<i64, DbError> {
        let cached = *self.default_limit.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((limit, at)) = cached
            && at.elapsed() < REFRESH
        {
            return Ok(limit);
        }
        let limit = monthly_token_limit_default(db).await?;
        *self.default_limit.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((limit, Instant::now()));
        Ok(limit)
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
