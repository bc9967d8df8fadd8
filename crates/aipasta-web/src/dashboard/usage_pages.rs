//! `/dashboard/usage`: usage and spend over a chosen range, by day, week or month, split by
//! model, provider or source: three stacked-bar charts (tokens, spend, generations) drawn on the
//! server (`charts.rs`), each followed by a table of the same numbers, the range's breakdown,
//! and `/dashboard/usage.csv`, the same numbers as a download. The report is `stats.rs`'s, the
//! one `GET /api/users/stats` answers, so the page and the API agree. The chart builder here is
//! shared with the dashboard home.

use std::fmt::Write as _;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::Deserialize;
use time::Date;
use time::macros::format_description;

use aipasta_core::money::{Nanos, human_usd};

use super::export::csv_cell;
use super::filters::BadFilter;
use super::stats::{
    Grouping, StatsParams, StatsRequest, UsageNumbers, UsagePart, UsageStats, date_of, iso_day,
    today, usage_stats,
};
use crate::auth::{Access, Caller, Routes};
use crate::charts::{Chart, ChartKind, Series, gauge_svg, legend_html};
use crate::chrome::Chrome;
use crate::error::ApiError;
use crate::pages::render;
use crate::state::AppState;

/// A chart stacks this many keys (the most spent); the rest are summed as "Other".
const STACKED_KEYS: usize = 7;

pub fn routes() -> Routes {
    Routes::new()
        .get("/dashboard/usage", Access::Account, page)
        .get("/dashboard/usage.csv", Access::Account, csv)
}

// ---- numbers as people read them ----

/// `1234567` → `1,234,567`.
pub(super) fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A spend in nano-dollars as dollars: `$0.000078`, `$1.50`.
pub(super) fn dollars(nanos: i64) -> String {
    format!("${}", human_usd(Nanos(nanos).usd()))
}

/// A chart value that counts things: whole numbers grouped, fractions (small axes' ticks) with
/// one decimal.
fn count_label(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        thousands(value.round() as i64)
    } else {
        format!("{value:.1}")
    }
}

/// A chart value in nano-dollars, written as [`dollars`] writes the table's.
fn spend_label(nanos: f64) -> String {
    if (nanos - nanos.round()).abs() < 1e-9 && nanos.abs() < 9e15 {
        dollars(nanos.round() as i64)
    } else {
        let usd = Decimal::from_f64(nanos / 1e9).unwrap_or_default();
        format!("${}", human_usd(usd))
    }
}

/// What a chart or a table column measures.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Measure {
    Tokens,
    Spend,
    Generations,
}

impl Measure {
    fn of(self, numbers: &UsageNumbers) -> i64 {
        match self {
            Measure::Tokens => numbers.total_tokens,
            Measure::Spend => numbers.cost_nanos,
            Measure::Generations => numbers.generations,
        }
    }

    fn text(self, value: i64) -> String {
        match self {
            Measure::Spend => dollars(value),
            Measure::Tokens | Measure::Generations => thousands(value),
        }
    }

    fn axis(self) -> fn(f64) -> String {
        match self {
            Measure::Spend => spend_label,
            Measure::Tokens | Measure::Generations => count_label,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Measure::Tokens => "Tokens",
            Measure::Spend => "Spend",
            Measure::Generations => "Generations",
        }
    }
}

fn split_noun(by: &str) -> &'static str {
    match by {
        "provider" => "provider",
        "source" => "source",
        _ => "model",
    }
}

fn period_noun(group_by: Grouping) -> &'static str {
    match group_by {
        Grouping::Day => "day",
        Grouping::Week => "week",
        Grouping::Month => "month",
    }
}

/// A source's name as people read it.
fn source_label(source: &str) -> String {
    match source {
        "playground" => "Playground".into(),
        "api" => "API".into(),
        "v1" => "/v1 (OpenAI-compatible)".into(),
        "compare" => "Compare".into(),
        "batch" => "Batch".into(),
        other => other.to_owned(),
    }
}

/// What a part is called on the page: a model's name, a provider's or a source's.
fn part_label(by: &str, part: &UsagePart) -> String {
    match by {
        "source" => source_label(&part.label),
        "provider" => crate::catalog::provider_label(&part.label),
        _ => part.label.clone(),
    }
}

fn bucket_date(start: &str) -> Option<Date> {
    Date::parse(start, format_description!("[year]-[month]-[day]")).ok()
}

/// A bucket's short label under a chart: `Mar 5` for a day or a week (its Monday), `Mar 2026`
/// for a month.
fn short_label(start: &str, group_by: Grouping) -> String {
    let Some(date) = bucket_date(start) else {
        return start.to_owned();
    };
    let month: String = date.month().to_string().chars().take(3).collect();
    match group_by {
        Grouping::Month => format!("{month} {}", date.year()),
        Grouping::Day | Grouping::Week => format!("{month} {}", date.day()),
    }
}

/// A bucket's label in a table: the day, the week's Monday, or the month.
fn row_label(start: &str, group_by: Grouping) -> String {
    match group_by {
        Grouping::Day => start.to_owned(),
        Grouping::Week => format!("Week of {start}"),
        Grouping::Month => start.get(..7).unwrap_or(start).to_owned(),
    }
}

// ---- charts with their tables ----

/// One row of a chart's table: a bucket, its value per key, and its total.
pub struct TableRow {
    pub label: String,
    pub cells: Vec<String>,
    pub total: String,
}

/// A chart, its legend, and the same numbers as a table.
pub struct ChartView {
    /// The section's id and heading.
    pub id: &'static str,
    pub heading: String,
    pub svg: String,
    pub legend: String,
    pub period: &'static str,
    pub columns: Vec<String>,
    pub rows: Vec<TableRow>,
}

/// The keys a report's charts stack: the [`STACKED_KEYS`] most spent (the breakdown's order),
/// and whether the others are summed as "Other".
struct Stacks {
    keys: Vec<(String, String)>,
    other: bool,
}

impl Stacks {
    fn of(stats: &UsageStats) -> Stacks {
        let keys = stats
            .breakdown
            .iter()
            .take(STACKED_KEYS)
            .map(|part| (part.key.clone(), part_label(&stats.by, part)))
            .collect();
        Stacks {
            keys,
            other: stats.breakdown.len() > STACKED_KEYS,
        }
    }

    /// A bucket's value per stacked key, then Other's when there is one.
    fn values(&self, parts: &[UsagePart], total: i64, measure: Measure) -> Vec<i64> {
        let mut values: Vec<i64> = self
            .keys
            .iter()
            .map(|(key, _)| {
                parts
                    .iter()
                    .find(|p| p.key == *key)
                    .map_or(0, |p| measure.of(&p.figures))
            })
            .collect();
        if self.other {
            let shown: i64 = values.iter().sum();
            values.push((total - shown).max(0));
        }
        values
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.keys.iter().map(|(_, label)| label.clone()).collect();
        if self.other {
            names.push("Other".into());
        }
        names
    }
}

/// The chart of `measure` over `stats`' series, stacked by key, with its table.
pub(super) fn chart_view(
    stats: &UsageStats,
    measure: Measure,
    id: &'static str,
    heading: String,
) -> ChartView {
    let stacks = Stacks::of(stats);
    let names = stacks.names();
    let rows_values: Vec<(Vec<i64>, i64)> = stats
        .series
        .iter()
        .map(|bucket| {
            let total = measure.of(&bucket.totals);
            (stacks.values(&bucket.parts, total, measure), total)
        })
        .collect();
    let series: Vec<Series> = names
        .iter()
        .enumerate()
        .map(|(k, name)| Series {
            name: name.clone(),
            values: rows_values.iter().map(|(v, _)| v[k] as f64).collect(),
        })
        .collect();
    let labels: Vec<String> = stats
        .series
        .iter()
        .map(|b| short_label(&b.start, stats.group_by))
        .collect();
    let period = period_noun(stats.group_by);
    let description = format!(
        "{} per {period} from {} to {}, stacked by {}. The table below gives the same numbers.",
        measure.noun(),
        stats.from,
        stats.to,
        split_noun(&stats.by),
    );
    let svg = Chart {
        title: &heading,
        description: &description,
        labels: &labels,
        series: &series,
        kind: ChartKind::StackedBars,
        format_value: measure.axis(),
    }
    .to_svg();
    let rows = stats
        .series
        .iter()
        .zip(&rows_values)
        .map(|(bucket, (values, total))| TableRow {
            label: row_label(&bucket.start, stats.group_by),
            cells: values.iter().map(|v| measure.text(*v)).collect(),
            total: measure.text(*total),
        })
        .collect();
    ChartView {
        id,
        legend: legend_html(&series),
        heading,
        svg,
        period: match stats.group_by {
            Grouping::Day => "Day",
            Grouping::Week => "Week",
            Grouping::Month => "Month",
        },
        columns: names,
        rows,
    }
}

/// This month's tokens against the monthly limit, as a gauge.
pub(super) fn month_gauge(stats: &UsageStats) -> String {
    let month = &stats.month;
    let days = if month.days_left == 1 {
        "1 day left".to_owned()
    } else {
        format!("{} days left", month.days_left)
    };
    let label = format!(
        "{} of {} tokens · {days}",
        thousands(month.used),
        thousands(month.limit)
    );
    gauge_svg(
        "Tokens this month",
        month.used as f64,
        Some(month.limit as f64),
        &label,
    )
}

// ---- the page ----

/// The form's values as sent, shown back (a refused value included).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageForm {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
    by: Option<String>,
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct QuickRange {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// One model's, provider's or source's line in the range's breakdown.
pub struct BreakdownRow {
    pub label: String,
    pub key: String,
    pub generations: String,
    pub errors: String,
    pub prompt_tokens: String,
    pub completion_tokens: String,
    pub total_tokens: String,
    pub spend: String,
    pub average_duration: String,
}

pub struct Stat {
    pub label: &'static str,
    pub name: &'static str,
    pub value: String,
}

/// The report below the form.
pub struct Report {
    pub range: String,
    pub split: &'static str,
    pub totals: Vec<Stat>,
    pub charts: Vec<ChartView>,
    pub breakdown: Vec<BreakdownRow>,
    pub totals_row: BreakdownRow,
    pub csv_href: String,
}

#[derive(Template)]
#[template(path = "dashboard_usage.html")]
struct UsagePage {
    chrome: Chrome,
    section: &'static str,
    from: String,
    to: String,
    groupings: Vec<Choice>,
    splits: Vec<Choice>,
    quick: Vec<QuickRange>,
    error: Option<BadFilter>,
    report: Option<Report>,
}

impl UsagePage {
    /// The refusal's message when it names `field`.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// `path?from=..&to=..&groupBy=..&by=..`.
fn report_href(path: &str, from: &str, to: &str, group_by: &str, by: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("from", from),
        ("to", to),
        ("groupBy", group_by),
        ("by", by),
    ])
    .unwrap_or_default();
    format!("{path}?{query}")
}

fn quick_ranges(from: &str, to: &str, group_by: &str, by: &str) -> Vec<QuickRange> {
    let today = today();
    let year_start = format!("{}-01-01", date_of(today).year());
    let ranges = [
        ("Last 7 days", iso_day(today - 6)),
        ("Last 30 days", iso_day(today - 29)),
        ("Last 90 days", iso_day(today - 89)),
        ("This year", year_start),
    ];
    let to_day = iso_day(today);
    ranges
        .into_iter()
        .map(|(label, start)| QuickRange {
            label,
            current: start == from && to_day == to,
            href: report_href("/dashboard/usage", &start, &to_day, group_by, by),
        })
        .collect()
}

/// `value` when it is one of `list`'s, else `default`.
fn known(
    value: &str,
    list: &[(&'static str, &'static str)],
    default: &'static str,
) -> &'static str {
    list.iter()
        .find(|(v, _)| *v == value)
        .map_or(default, |(v, _)| v)
}

fn choices(values: &[(&'static str, &'static str)], current: &str) -> Vec<Choice> {
    values
        .iter()
        .map(|&(value, label)| Choice {
            value,
            label,
            selected: value == current,
        })
        .collect()
}

fn breakdown_row(label: String, key: String, n: &UsageNumbers) -> BreakdownRow {
    BreakdownRow {
        label,
        key,
        generations: thousands(n.generations),
        errors: thousands(n.errors),
        prompt_tokens: thousands(n.prompt_tokens),
        completion_tokens: thousands(n.completion_tokens),
        total_tokens: thousands(n.total_tokens),
        spend: dollars(n.cost_nanos),
        average_duration: n
            .average_duration_ms
            .map_or_else(|| "—".to_owned(), |ms| format!("{} ms", thousands(ms))),
    }
}

fn report(stats: &UsageStats) -> Report {
    let split = split_noun(&stats.by);
    let per = period_noun(stats.group_by);
    let charts = vec![
        chart_view(
            stats,
            Measure::Tokens,
            "usage-tokens",
            format!("Tokens per {per} by {split}"),
        ),
        chart_view(
            stats,
            Measure::Spend,
            "usage-spend",
            format!("Spend per {per} by {split}"),
        ),
        chart_view(
            stats,
            Measure::Generations,
            "usage-generations",
            format!("Generations per {per} by {split}"),
        ),
    ];
    let t = &stats.totals;
    Report {
        range: format!("{} to {}", stats.from, stats.to),
        split,
        totals: vec![
            Stat {
                label: "Generations",
                name: "generations",
                value: thousands(t.generations),
            },
            Stat {
                label: "Tokens",
                name: "tokens",
                value: thousands(t.total_tokens),
            },
            Stat {
                label: "Spend",
                name: "spend",
                value: dollars(t.cost_nanos),
            },
            Stat {
                label: "Failed",
                name: "errors",
                value: thousands(t.errors),
            },
        ],
        charts,
        breakdown: stats
            .breakdown
            .iter()
            .map(|part| breakdown_row(part_label(&stats.by, part), part.key.clone(), &part.figures))
            .collect(),
        totals_row: breakdown_row("Total".into(), String::new(), t),
        csv_href: report_href(
            "/dashboard/usage.csv",
            &stats.from,
            &stats.to,
            stats.group_by.as_str(),
            &stats.by,
        ),
    }
}

const GROUPINGS: [(&str, &str); 3] = [("day", "Day"), ("week", "Week"), ("month", "Month")];
const SPLITS: [(&str, &str); 3] = [
    ("model", "Model"),
    ("provider", "Provider"),
    ("source", "Source"),
];

/// Logs a failed read of a page's main content and answers 503 (the HTML error page).
pub(super) fn unavailable(what: &'static str, error: &ApiError) -> Response {
    tracing::error!(?error, what, "a dashboard page could not be read");
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

/// The page for `form`: the report, or the form with the refusal at its field (400).
async fn respond(
    state: &AppState,
    chrome: Chrome,
    caller: &Caller,
    form: &UsageForm,
    read: Result<StatsRequest, BadFilter>,
) -> Response {
    let text = |value: &Option<String>| value.as_deref().unwrap_or("").trim().to_owned();
    let (page, status) = match read {
        Ok(request) => {
            let stats = match usage_stats(state, &caller.user, request).await {
                Ok(stats) => stats,
                Err(error) => return unavailable("usage report", &error),
            };
            let (group_by, by) = (stats.group_by.as_str(), stats.by.clone());
            let page = UsagePage {
                section: "usage",
                groupings: choices(&GROUPINGS, group_by),
                splits: choices(&SPLITS, &by),
                quick: quick_ranges(&stats.from, &stats.to, group_by, &by),
                error: None,
                report: Some(report(&stats)),
                from: stats.from,
                to: stats.to,
                chrome,
            };
            (page, StatusCode::OK)
        }
        Err(bad) => {
            let group_by = text(&form.group_by);
            let by = text(&form.by);
            let page = UsagePage {
                section: "usage",
                groupings: choices(&GROUPINGS, &group_by),
                splits: choices(&SPLITS, &by),
                quick: quick_ranges(
                    "",
                    "",
                    known(&group_by, &GROUPINGS, "day"),
                    known(&by, &SPLITS, "model"),
                ),
                error: Some(bad),
                report: None,
                from: text(&form.from),
                to: text(&form.to),
                chrome,
            };
            (page, StatusCode::BAD_REQUEST)
        }
    };
    let mut response = render(&page);
    *response.status_mut() = status;
    response
}

/// `GET /dashboard/usage`.
async fn page(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Query(params): Query<StatsParams>,
    Query(form): Query<UsageForm>,
) -> Response {
    respond(&state, chrome, &caller, &form, params.read()).await
}

// ---- the CSV download ----

/// A spend in nano-dollars as exact dollars: `0.000078`, `12.5`.
fn exact_usd(nanos: i64) -> String {
    Nanos(nanos).usd().normalize().to_string()
}

const CSV_HEADER: &str = "start,key,label,generations,errors,prompt_tokens,completion_tokens,\
total_tokens,cost_usd\r\n";

/// The report as CSV: one row per bucket and key used in it, oldest first.
fn usage_csv(stats: &UsageStats) -> String {
    let mut out = String::from(CSV_HEADER);
    for bucket in &stats.series {
        for part in &bucket.parts {
            let f = &part.figures;
            let _ = write!(
                out,
                "{},{},{},{},{},{},{},{},{}\r\n",
                csv_cell(&bucket.start),
                csv_cell(&part.key),
                csv_cell(&part.label),
                f.generations,
                f.errors,
                f.prompt_tokens,
                f.completion_tokens,
                f.total_tokens,
                exact_usd(f.cost_nanos),
            );
        }
    }
    out
}

/// `GET /dashboard/usage.csv`: the page's numbers as a file; a refused parameter shows the
/// page's form with the message (400).
async fn csv(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Query(params): Query<StatsParams>,
    Query(form): Query<UsageForm>,
) -> Response {
    let request = match params.read() {
        Ok(request) => request,
        Err(bad) => return respond(&state, chrome, &caller, &form, Err(bad)).await,
    };
    let stats = match usage_stats(&state, &caller.user, request).await {
        Ok(stats) => stats,
        Err(error) => return unavailable("usage CSV", &error),
    };
    let name = format!("aipasta-usage-{}-{}.csv", stats.from, stats.to);
    let mut response = usage_csv(&stats).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::stats::{MonthAllowance, UsageBucket};

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1_000), "-1,000");
        assert_eq!(dollars(78_000), "$0.000078");
        assert_eq!(dollars(0), "$0");
        assert_eq!(dollars(1_500_000_000), "$1.50");
        assert_eq!(spend_label(78_000.0), dollars(78_000));
        assert_eq!(count_label(3.0), "3");
        assert_eq!(count_label(0.4), "0.4");
        assert_eq!(exact_usd(78_000), "0.000078");
        assert_eq!(exact_usd(12_500_000_000), "12.5");
        assert_eq!(exact_usd(0), "0");
    }

    fn numbers(generations: i64, tokens: i64, cost_nanos: i64) -> UsageNumbers {
        UsageNumbers {
            generations,
            total_tokens: tokens,
            cost_nanos,
            ..UsageNumbers::default()
        }
    }

    fn part(key: &str, generations: i64, cost_nanos: i64) -> UsagePart {
        UsagePart {
            key: key.into(),
            label: format!("={key}"),
            figures: numbers(generations, generations * 10, cost_nanos),
        }
    }

    fn stats(parts_per_bucket: Vec<Vec<UsagePart>>, breakdown: Vec<UsagePart>) -> UsageStats {
        let series = parts_per_bucket
            .into_iter()
            .enumerate()
            .map(|(i, parts)| {
                let mut totals = UsageNumbers::default();
                for p in &parts {
                    totals.generations += p.figures.generations;
                    totals.total_tokens += p.figures.total_tokens;
                    totals.cost_nanos += p.figures.cost_nanos;
                }
                UsageBucket {
                    start: format!("2026-03-0{}", i + 1),
                    totals,
                    parts,
                }
            })
            .collect();
        UsageStats {
            from: "2026-03-01".into(),
            to: "2026-03-02".into(),
            group_by: Grouping::Day,
            by: "model".into(),
            totals: UsageNumbers::default(),
            series,
            breakdown,
            month: MonthAllowance {
                limit: 100,
                used: 0,
                remaining: 100,
                percent_used: 0.0,
                resets_on: "2026-04-01".into(),
                days_left: 30,
                cost: None,
                cost_nanos: 0,
                generations: 0,
                alert: None,
            },
        }
    }

    #[test]
    fn charts_stack_the_seven_most_spent_and_sum_the_rest_as_other() {
        let keys: Vec<String> = (0..9).map(|i| format!("m{i}")).collect();
        // m0 is the most spent; every key used once on day 1, m8 twice on day 2.
        let breakdown: Vec<UsagePart> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| part(k, 1, 1000 - i as i64))
            .collect();
        let day1: Vec<UsagePart> = breakdown.clone();
        let day2 = vec![part("m8", 2, 20)];
        let stats = stats(vec![day1, day2], breakdown);
        let view = chart_view(&stats, Measure::Generations, "g", "Generations".into());
        assert_eq!(view.columns.len(), 8);
        assert_eq!(view.columns[0], "=m0");
        assert_eq!(view.columns[7], "Other");
        assert_eq!(view.rows[0].cells, ["1", "1", "1", "1", "1", "1", "1", "2"]);
        assert_eq!(view.rows[0].total, "9");
        assert_eq!(view.rows[1].cells.last().map(String::as_str), Some("2"));
        assert_eq!(view.rows[1].label, "2026-03-02");
        assert!(
            view.svg.contains("<title>Mar 2 · Other: 2</title>"),
            "{}",
            view.svg
        );
        assert!(view.legend.contains("=m0") && view.legend.contains("Other"));

        let csv = usage_csv(&stats);
        let mut lines = csv.split("\r\n");
        assert_eq!(
            lines.next(),
            Some(
                "start,key,label,generations,errors,prompt_tokens,completion_tokens,total_tokens,cost_usd"
            )
        );
        assert_eq!(
            lines.next(),
            Some("2026-03-01,m0,\"'=m0\",1,0,0,0,10,0.000001")
        );
        assert_eq!(csv.matches("\r\n").count(), 1 + 9 + 1);
    }

    #[test]
    fn bucket_labels() {
        assert_eq!(short_label("2026-03-05", Grouping::Day), "Mar 5");
        assert_eq!(short_label("2026-03-01", Grouping::Month), "Mar 2026");
        assert_eq!(
            row_label("2026-03-02", Grouping::Week),
            "Week of 2026-03-02"
        );
        assert_eq!(row_label("2026-03-01", Grouping::Month), "2026-03");
    }
}
