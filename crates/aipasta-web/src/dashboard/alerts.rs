//! Usage alerts: when this month's tokens pass one of the account's thresholds (80% and 100%
//! of the monthly limit unless the person chose others in settings), every page shows a
//! banner and the dashboard an entry. The e-mail issue will send the same alerts.

use serde::Serialize;
use utoipa::ToSchema;

use aipasta_store::accounts::UserRow;

use crate::state::AppState;

/// The thresholds a new account has, in percent of the monthly limit.
pub const DEFAULT_ALERTS: [i64; 2] = [80, 100];
/// The most thresholds one account keeps.
pub const MAX_ALERTS: usize = 5;

/// The account's thresholds, ascending (the stored JSON, or the defaults if it is unreadable).
pub fn thresholds(user: &UserRow) -> Vec<i64> {
    serde_json::from_str::<Vec<i64>>(&user.usage_alerts)
        .ok()
        .and_then(|values| check_thresholds(&values).ok())
        .unwrap_or_else(|| DEFAULT_ALERTS.to_vec())
}

/// Thresholds as asked for: whole percentages from 1 to 100, at most [`MAX_ALERTS`]; answers
/// them ascending without repeats. None at all turns alerts off.
pub fn check_thresholds(values: &[i64]) -> Result<Vec<i64>, String> {
    if values.len() > MAX_ALERTS {
        return Err(format!(
            "usageAlerts holds at most {MAX_ALERTS} thresholds."
        ));
    }
    if let Some(bad) = values.iter().find(|v| !(1..=100).contains(*v)) {
        return Err(format!(
            "usageAlerts: {bad} is not a percentage from 1 to 100."
        ));
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    Ok(sorted)
}

/// Reads thresholds typed in a form: numbers separated by commas or spaces, `%` allowed.
pub fn parse_thresholds(text: &str) -> Result<Vec<i64>, String> {
    let mut values = Vec::new();
    for part in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|p| p.trim().trim_end_matches('%'))
        .filter(|p| !p.is_empty())
    {
        values.push(
            part.parse::<i64>()
                .map_err(|_| format!("usageAlerts: {part:?} is not a whole percentage."))?,
        );
    }
    check_thresholds(&values)
}

/// A threshold passed this month.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageAlert {
    /// The highest threshold passed, in percent.
    pub threshold: i64,
    /// This month's use, in percent of the limit (one decimal).
    pub percent: f64,
    pub used: i64,
    pub limit: i64,
    /// The limit is reached: generations are refused until the reset.
    pub reached: bool,
    /// `YYYY-MM-DD`, when the count starts again.
    pub resets_on: String,
}

impl UsageAlert {
    /// What the banner says.
    pub fn message(&self) -> String {
        if self.reached {
            format!(
                "You have used all {} tokens of this month's limit: new generations are refused \
                 until {}.",
                thousands(self.limit),
                self.resets_on
            )
        } else {
            format!(
                "You have used {}% of this month's {} tokens (your alert at {}%). The count \
                 starts again on {}.",
                self.percent,
                thousands(self.limit),
                self.threshold,
                self.resets_on
            )
        }
    }
}

fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The highest of `thresholds` that `used` of `limit` has reached, if any.
pub fn alert_for(thresholds: &[i64], used: i64, limit: i64, resets_on: &str) -> Option<UsageAlert> {
    let percent = if limit > 0 {
        used as f64 * 100.0 / limit as f64
    } else {
        100.0
    };
    let threshold = thresholds
        .iter()
        .copied()
        .filter(|t| percent >= *t as f64)
        .max()?;
    Some(UsageAlert {
        threshold,
        percent: (percent * 10.0).floor() / 10.0,
        used,
        limit,
        reached: used >= limit,
        resets_on: resets_on.to_owned(),
    })
}

/// The alert `user` should see now, from the engine's allowance (the figures generation is
/// refused on, kept in memory for a minute).
pub async fn usage_alert(state: &AppState, user: &UserRow) -> Option<UsageAlert> {
    let thresholds = thresholds(user);
    if thresholds.is_empty() {
        return None;
    }
    let allowance = state.engine.usage.allowance(&state.db, user).await.ok()?;
    let now = time::OffsetDateTime::now_utc();
    let first = aipasta_engine::first_day_of_month(now);
    let date = super::stats::date_of(first);
    let next = first + i64::from(date.month().length(date.year()));
    alert_for(
        &thresholds,
        allowance.used,
        allowance.limit,
        &super::stats::iso_day(next),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_fire_at_their_thresholds() {
        let at = |used| alert_for(&[80, 100], used, 1_000, "2027-01-01");
        assert_eq!(at(799), None);
        let warned = at(800).unwrap();
        assert_eq!((warned.threshold, warned.reached), (80, false));
        assert_eq!(warned.percent, 80.0);
        assert!(
            warned
                .message()
                .contains("80% of this month's 1,000 tokens")
        );
        assert_eq!(at(999).unwrap().threshold, 80);
        let reached = at(1_000).unwrap();
        assert_eq!((reached.threshold, reached.reached), (100, true));
        assert!(reached.message().contains("refused until 2027-01-01"));
        assert_eq!(at(5_000).unwrap().threshold, 100);
        assert_eq!(alert_for(&[], 5_000, 1_000, "x"), None, "alerts off");
        assert_eq!(alert_for(&[50], 500, 1_000, "x").unwrap().threshold, 50);
    }

    #[test]
    fn thresholds_are_checked_and_sorted() {
        assert_eq!(parse_thresholds("100, 50% 75").unwrap(), [50, 75, 100]);
        assert_eq!(parse_thresholds("").unwrap(), Vec::<i64>::new());
        assert_eq!(parse_thresholds("80,80").unwrap(), [80]);
        assert!(parse_thresholds("0").is_err());
        assert!(parse_thresholds("101").is_err());
        assert!(parse_thresholds("eighty").is_err());
        assert!(parse_thresholds("1 2 3 4 5 6").is_err());
    }
}
