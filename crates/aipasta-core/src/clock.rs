//! Time as the database stores it: milliseconds since the Unix epoch, UTC.
//!
//! One integer representation keeps timestamps identical on SQLite and PostgreSQL and makes
//! range queries on indexed columns cheap on both.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The current time in milliseconds since the Unix epoch.
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_is_after_2025() {
        assert!(super::now_ms() > 1_735_689_600_000);
    }
}
