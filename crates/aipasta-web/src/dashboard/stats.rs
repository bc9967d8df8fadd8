//! An account's usage and spend over a range, by day, week or month, split by model, provider
//! or source: computed once from the daily rollups and served as is by `GET /api/users/stats`
//! and drawn by `/dashboard` and `/dashboard/usage`, so the page and the API show the same
//! numbers.

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use aipasta_store::accounts::UserRow;
use aipasta_store::generations::{UsageDay, UsageFigures, UsageSplit, usage_by_day, usage_total};

use super::alerts::{UsageAlert, alert_for, thresholds};
use super::filters::{BadFilter, present};
use crate::error::ApiError;
use crate::generations::usd;
use crate::state::AppState;

const SECONDS_PER_DAY: i64 = 86_400;
/// The most buckets one report holds (a bit over a year of days).
const MAX_BUCKETS: usize = 400;
/// The default range: the last 30 days, today included.
const DEFAULT_DAYS: i64 = 30;

/// How days are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = UsageGrouping)]
pub enum Grouping {
    #[default]
    Day,
    /// Weeks from Monday (ISO 8601).
    Week,
    Month,
}

impl Grouping {
    pub const ALL: [Grouping; 3] = [Grouping::Day, Grouping::Week, Grouping::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Day => "day",
            Grouping::Week => "week",
            Grouping::Month => "month",
        }
    }

    /// The first day of the bucket `day` falls in.
    fn bucket_start(self, day: i64) -> i64 {
        match self {
            Grouping::Day => day,
            // Day 0 (1970-01-01) was a Thursday: Monday is three days on in the cycle.
            Grouping::Week => day - (day + 3).rem_euclid(7),
            Grouping::Month => {
                let date = date_of(day);
                day - i64::from(date.day()) + 1
            }
        }
    }

    /// The first day of the bucket after the one starting on `start`.
    fn next_start(self, start: i64) -> i64 {
        match self {
            Grouping::Day => start + 1,
            Grouping::Week => start + 7,
            Grouping::Month => {
                let date = date_of(start);
                let days = i64::from(date.month().length(date.year()));
                start + days
            }
        }
    }
}

/// The date of a day number (days since the epoch).
pub fn date_of(day: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(day * SECONDS_PER_DAY)
        .map(|t| t.date())
        .unwrap_or(Date::MIN)
}

/// `YYYY-MM-DD` of a day number.
pub fn iso_day(day: i64) -> String {
    date_of(day)
        .format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// Today's day number (UTC).
pub fn today() -> i64 {
    OffsetDateTime::now_utc()
        .unix_timestamp()
        .div_euclid(SECONDS_PER_DAY)
}

/// The query string of a usage report.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct StatsParams {
    /// The first day (`YYYY-MM-DD`, UTC); default 29 days before `to`.
    from: Option<String>,
    /// The last day, included (`YYYY-MM-DD`, UTC); default today.
    to: Option<String>,
    /// `day` (default), `week` or `month`.
    group_by: Option<String>,
    /// `model` (default), `provider` or `source`.
    by: Option<String>,
}

/// A report's range and grouping, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsRequest {
    pub from_day: i64,
    /// Included.
    pub to_day: i64,
    pub group_by: Grouping,
    pub by: UsageSplit,
}

fn day_number(field: &'static str, text: &str) -> Result<i64, BadFilter> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]"))
        .map(|date| date.midnight().assume_utc().unix_timestamp() / SECONDS_PER_DAY)
        .map_err(|_| BadFilter {
            field,
            message: format!("{field} must be a day, YYYY-MM-DD."),
        })
}

impl StatsParams {
    pub fn read(&self) -> Result<StatsRequest, BadFilter> {
        let to_day = match present(&self.to) {
            Some(text) => day_number("to", text)?,
            None => today(),
        };
        let from_day = match present(&self.from) {
            Some(text) => day_number("from", text)?,
            None => to_day - (DEFAULT_DAYS - 1),
        };
        if from_day > to_day {
            return Err(BadFilter {
                field: "from",
                message: "from must be on or before to.".into(),
            });
        }
        let group_by = match present(&self.group_by) {
            None => Grouping::Day,
            Some(text) => Grouping::ALL
                .into_iter()
                .find(|g| g.as_str() == text)
                .ok_or_else(|| BadFilter {
                    field: "groupBy",
                    message: "groupBy must be day, week or month.".into(),
                })?,
        };
        let by = match present(&self.by) {
            None => UsageSplit::Model,
            Some(text) => UsageSplit::parse(text).ok_or_else(|| BadFilter {
                field: "by",
                message: "by must be model, provider or source.".into(),
            })?,
        };
        let request = StatsRequest {
            from_day,
            to_day,
            group_by,
            by,
        };
        if request.bucket_starts().len() > MAX_BUCKETS {
            return Err(BadFilter {
                field: "from",
                message: format!(
                    "The range holds more than {MAX_BUCKETS} {}s; choose a shorter range or a \
                     longer groupBy.",
                    group_by.as_str()
                ),
            });
        }
        Ok(request)
    }
}

impl StatsRequest {
    /// The first day of each bucket in the range (the first bucket may start before `from`).
    fn bucket_starts(&self) -> Vec<i64> {
        let mut starts = Vec::new();
        let mut start = self.group_by.bucket_start(self.from_day);
        while start <= self.to_day && starts.len() <= MAX_BUCKETS {
            starts.push(start);
            start = self.group_by.next_start(start);
        }
        starts
    }
}

/// Usage figures as the API gives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageNumbers {
    pub generations: i64,
    /// Generations that failed (errors, timeouts, interruptions).
    pub errors: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    /// USD.
    pub cost: Option<f64>,
    /// The exact cost in nano-dollars.
    pub cost_nanos: i64,
    /// The mean duration of a generation, in milliseconds.
    pub average_duration_ms: Option<i64>,
}

impl From<&UsageFigures> for UsageNumbers {
    fn from(f: &UsageFigures) -> UsageNumbers {
        UsageNumbers {
            generations: f.generations,
            errors: f.errors,
            prompt_tokens: f.prompt_tokens,
            completion_tokens: f.completion_tokens,
            total_tokens: f.tokens(),
            cost: usd(f.cost_nanos),
            cost_nanos: f.cost_nanos,
            average_duration_ms: (f.generations > 0).then(|| f.total_duration_ms / f.generations),
        }
    }
}

/// One model's, provider's or source's share.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsagePart {
    /// The model's id, the provider's or the source's name.
    pub key: String,
    /// What to call it: the model's name (its id once deleted), or the key.
    pub label: String,
    #[serde(flatten)]
    pub figures: UsageNumbers,
}

/// One day, week or month.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageBucket {
    /// Its first day, `YYYY-MM-DD` (the first bucket may start before `from`; only days in
    /// the range are counted).
    pub start: String,
    pub totals: UsageNumbers,
    /// Each model, provider or source used in it, most spent first.
    pub parts: Vec<UsagePart>,
}

/// This month's tokens against the monthly limit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonthAllowance {
    /// The monthly token limit that applies.
    pub limit: i64,
    /// Tokens used since the first of the month (UTC).
    pub used: i64,
    pub remaining: i64,
    /// Percent of the limit used (over 100 when over the limit).
    pub percent_used: f64,
    /// The day the count starts again, `YYYY-MM-DD`.
    pub resets_on: String,
    /// Days left in this month, today included.
    pub days_left: i64,
    /// This month's spend, USD.
    pub cost: Option<f64>,
    pub cost_nanos: i64,
    pub generations: i64,
    /// The highest of your alert thresholds this month's use has passed, if any.
    #[schema(required = true)]
    pub alert: Option<UsageAlert>,
}

/// `GET /api/users/stats`'s `data`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageStats {
    /// The first day, `YYYY-MM-DD`.
    pub from: String,
    /// The last day, included.
    pub to: String,
    pub group_by: Grouping,
    /// `model`, `provider` or `source`.
    pub by: String,
    pub totals: UsageNumbers,
    /// Every bucket of the range, empty ones included, oldest first.
    pub series: Vec<UsageBucket>,
    /// The whole range per model, provider or source, most spent first.
    pub breakdown: Vec<UsagePart>,
    pub month: MonthAllowance,
}

/// Sums `days` into parts keyed by their key, most spent (then most used) first.
fn parts_of<'a>(days: impl Iterator<Item = &'a UsageDay>) -> Vec<UsagePart> {
    let mut sums: Vec<(String, String, UsageFigures)> = Vec::new();
    for day in days {
        match sums.iter_mut().find(|(key, _, _)| *key == day.key) {
            Some((_, _, figures)) => figures.add(&day.figures),
            None => sums.push((day.key.clone(), day.label.clone(), day.figures)),
        }
    }
    sums.sort_by(|a, b| {
        (b.2.cost_nanos, b.2.generations, &a.1).cmp(&(a.2.cost_nanos, a.2.generations, &b.1))
    });
    sums.into_iter()
        .map(|(key, label, figures)| UsagePart {
            key,
            label,
            figures: UsageNumbers::from(&figures),
        })
        .collect()
}

/// This month's use against the limit that applies to `user`.
pub async fn month_allowance(state: &AppState, user: &UserRow) -> Result<MonthAllowance, ApiError> {
    let allowance = state.engine.usage.allowance(&state.db, user).await?;
    let now = OffsetDateTime::now_utc();
    let first = aipasta_engine::first_day_of_month(now);
    let next_month = Grouping::Month.next_start(first);
    let month = usage_total(&state.db, &user.id, first, next_month).await?;
    let used = month.tokens();
    let limit = allowance.limit;
    let resets_on = iso_day(next_month);
    Ok(MonthAllowance {
        alert: alert_for(&thresholds(user), used, limit, &resets_on),
        limit,
        used,
        remaining: (limit - used).max(0),
        percent_used: if limit > 0 {
            (used as f64 * 1000.0 / limit as f64).round() / 10.0
        } else {
            100.0
        },
        resets_on,
        days_left: next_month - today(),
        cost: usd(month.cost_nanos),
        cost_nanos: month.cost_nanos,
        generations: month.generations,
    })
}

/// The report `request` asks for, of `user`'s usage.
pub async fn usage_stats(
    state: &AppState,
    user: &UserRow,
    request: StatsRequest,
) -> Result<UsageStats, ApiError> {
    let (days, month) = tokio::join!(
        usage_by_day(
            &state.db,
            &user.id,
            request.from_day,
            request.to_day + 1,
            request.by,
        ),
        month_allowance(state, user),
    );
    let (days, month) = (days?, month?);
    let starts = request.bucket_starts();
    let mut series = Vec::with_capacity(starts.len());
    let mut totals = UsageFigures::default();
    // `days` is in order of day: each bucket takes the next run of it.
    let mut rest = &days[..];
    for (index, start) in starts.iter().enumerate() {
        let end = starts
            .get(index + 1)
            .copied()
            .unwrap_or_else(|| request.group_by.next_start(*start));
        rest = &rest[rest.partition_point(|d| d.day < *start)..];
        let (inside, after) = rest.split_at(rest.partition_point(|d| d.day < end));
        rest = after;
        let mut bucket = UsageFigures::default();
        for day in inside {
            bucket.add(&day.figures);
        }
        totals.add(&bucket);
        series.push(UsageBucket {
            start: iso_day(*start),
            totals: UsageNumbers::from(&bucket),
            parts: parts_of(inside.iter()),
        });
    }
    Ok(UsageStats {
        from: iso_day(request.from_day),
        to: iso_day(request.to_day),
        group_by: request.group_by,
        by: request.by.as_str().to_owned(),
        totals: UsageNumbers::from(&totals),
        series,
        breakdown: parts_of(days.iter()),
        month,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> i64 {
        day_number("from", text).unwrap()
    }

    #[test]
    fn buckets_start_on_days_mondays_and_firsts() {
        // 2026-12-09 is a Wednesday.
        assert_eq!(
            iso_day(Grouping::Week.bucket_start(day("2026-12-09"))),
            "2026-12-07"
        );
        assert_eq!(
            iso_day(Grouping::Week.bucket_start(day("2026-12-07"))),
            "2026-12-07"
        );
        assert_eq!(
            iso_day(Grouping::Week.bucket_start(day("2026-12-06"))),
            "2026-11-30"
        );
        assert_eq!(
            iso_day(Grouping::Month.bucket_start(day("2026-02-28"))),
            "2026-02-01"
        );
        assert_eq!(
            iso_day(Grouping::Month.next_start(day("2024-02-01"))),
            "2024-03-01"
        );
        assert_eq!(
            iso_day(Grouping::Month.next_start(day("2026-12-01"))),
            "2027-01-01"
        );
        let request = StatsRequest {
            from_day: day("2026-01-15"),
            to_day: day("2026-03-02"),
            group_by: Grouping::Month,
            by: UsageSplit::Model,
        };
        let starts: Vec<String> = request.bucket_starts().into_iter().map(iso_day).collect();
        assert_eq!(starts, ["2026-01-01", "2026-02-01", "2026-03-01"]);
    }

    #[test]
    fn params_are_checked_naming_their_field() {
        let params = |from: &str, to: &str, group: &str, by: &str| StatsParams {
            from: Some(from.into()),
            to: Some(to.into()),
            group_by: Some(group.into()),
            by: Some(by.into()),
        };
        assert!(
            params("2026-01-01", "2026-12-31", "day", "model")
                .read()
                .is_ok()
        );
        assert_eq!(
            params("2026-13-01", "", "", "").read().unwrap_err().field,
            "from"
        );
        assert_eq!(
            params("", "2026-12-01", "hour", "")
                .read()
                .unwrap_err()
                .field,
            "groupBy"
        );
        assert_eq!(params("", "", "", "color").read().unwrap_err().field, "by");
        assert_eq!(
            params("2026-12-02", "2026-12-01", "", "")
                .read()
                .unwrap_err()
                .field,
            "from"
        );
        assert_eq!(
            params("2020-01-01", "2026-12-01", "day", "")
                .read()
                .unwrap_err()
                .field,
            "from"
        );
        assert!(
            params("2020-01-01", "2026-12-01", "month", "")
                .read()
                .is_ok()
        );
    }
}
