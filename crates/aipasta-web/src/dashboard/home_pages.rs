//! `/dashboard`, the overview: this month's and all time's figures, this month's tokens against
//! the monthly limit, the last 30 days as charts (with their numbers in tables), the most used
//! models, the latest generations, and quick access to favorites and recently used models. Every
//! figure comes from the daily rollups, the account's counters or an index (never a scan of
//! generations); the reads run together.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use aipasta_store::generations::{
    HistoryItem, HistoryQuery, ModelUse, UsageSplit, count_models_used, history_page, models_used,
};
use aipasta_store::{DbError, favorites};

use super::alerts::UsageAlert;
use super::recommend::{RecommendationCard, recommendation_cards};
use super::stats::{Grouping, StatsRequest, today, usage_stats};
use super::usage_pages::{
    ChartView, Measure, chart_view, dollars, month_gauge, thousands, unavailable,
};
use crate::auth::{Access, Caller, Routes};
use crate::catalog::model_href;
use crate::catalog::page_reads::Section;
use crate::chrome::Chrome;
use crate::pages::render;
use crate::state::AppState;

/// The charts' range: the last 30 days, today included.
const CHART_DAYS: i64 = 30;
/// Lines in each list: most used models, recent generations, quick access.
const LIST: usize = 5;
/// Models read for the most used and the recently used lists (one query for both).
const MODELS_READ: i64 = 50;
/// A recent generation's prompt is cut to this many characters.
const EXCERPT_CHARS: usize = 90;

pub fn routes() -> Routes {
    Routes::new().get("/dashboard", Access::Account, page)
}

/// One figure in a card.
pub struct StatCard {
    pub label: &'static str,
    /// `data-stat`, for tests and scripts.
    pub name: &'static str,
    pub value: String,
}

/// A model in the most used list.
pub struct ModelLine {
    pub name: String,
    pub href: Option<String>,
    pub generations: String,
    pub spend: String,
}

/// A link to a model's playground.
pub struct QuickLink {
    pub name: String,
    pub href: String,
}

/// One of the latest generations.
pub struct RecentLine {
    pub href: String,
    pub model: String,
    pub mode: String,
    pub source: String,
    pub prompt: String,
    pub status: String,
    pub status_class: &'static str,
    pub tokens: String,
    pub cost: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "dashboard_home.html")]
struct HomePage {
    chrome: Chrome,
    section: &'static str,
    month: Vec<StatCard>,
    all_time: Vec<StatCard>,
    gauge: String,
    percent_used: String,
    resets_on: String,
    /// Anything generated, ever: otherwise the page leads to the playground.
    generated: bool,
    /// Anything generated in the charts' range.
    recent_usage: bool,
    charts: Vec<ChartView>,
    most_used: Section<ModelLine>,
    recent: Section<RecentLine>,
    favorites: Section<QuickLink>,
    recent_models: Section<QuickLink>,
    /// The highest usage alert passed this month, as an entry at the top.
    alert: Option<UsageAlert>,
    recommendations: Vec<RecommendationCard>,
}

fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

fn excerpt(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    }
}

fn status_class(status: &str) -> &'static str {
    match status {
        "success" => "pg-status-ok",
        "pending" => "pg-status-busy",
        _ => "pg-status-bad",
    }
}

fn recent_line(item: HistoryItem) -> RecentLine {
    RecentLine {
        href: format!("/dashboard/history/{}", item.id),
        model: item
            .model_name
            .or(item.model_id)
            .unwrap_or_else(|| "Deleted model".into()),
        prompt: if item.prompt_excerpt.trim().is_empty() {
            "(no prompt)".into()
        } else {
            excerpt(&item.prompt_excerpt, EXCERPT_CHARS)
        },
        status_class: status_class(&item.status),
        status: item.status,
        mode: item.mode,
        source: item.source,
        tokens: thousands(item.total_tokens),
        cost: dollars(item.cost_nanos),
        when: when(item.created_at),
    }
}

fn playground_link(name: String, slug: &str) -> QuickLink {
    QuickLink {
        name,
        href: format!("{}/playground", model_href(slug)),
    }
}

fn most_used_lines(used: &[ModelUse]) -> Vec<ModelLine> {
    used.iter()
        .take(LIST)
        .map(|m| ModelLine {
            name: m.name.clone().unwrap_or_else(|| m.model_id.clone()),
            href: m.slug.as_deref().map(model_href),
            generations: match m.generations {
                1 => "1 generation".to_owned(),
                n => format!("{} generations", thousands(n)),
            },
            spend: dollars(m.cost_nanos),
        })
        .collect()
}

/// The models used last first (by day), each to its playground; deleted ones left out.
fn recent_model_links(mut used: Vec<ModelUse>) -> Vec<QuickLink> {
    used.sort_by_key(|m| std::cmp::Reverse(m.last_day));
    used.into_iter()
        .filter_map(|m| {
            let slug = m.slug?;
            Some(playground_link(
                m.name.unwrap_or_else(|| slug.clone()),
                &slug,
            ))
        })
        .take(LIST)
        .collect()
}

fn stat(label: &'static str, name: &'static str, value: String) -> StatCard {
    StatCard { label, name, value }
}

/// `GET /dashboard`.
async fn page(State(state): State<AppState>, chrome: Chrome, caller: Caller) -> Response {
    let user = &caller.user;
    let today = today();
    let request = StatsRequest {
        from_day: today - (CHART_DAYS - 1),
        to_day: today,
        group_by: Grouping::Day,
        by: UsageSplit::Model,
    };
    let latest = HistoryQuery {
        descending: true,
        limit: LIST as i64,
        ..HistoryQuery::default()
    };
    let (stats, models_count, favorites, history, used, recommendations) = tokio::join!(
        usage_stats(&state, user, request),
        count_models_used(&state.db, &user.id),
        favorites::list_favorites(&state.db, &user.id),
        history_page(&state.db, &user.id, &latest),
        models_used(&state.db, &user.id, request.from_day, MODELS_READ),
        recommendation_cards(&state, &user.id),
    );
    let stats = match stats {
        Ok(stats) => stats,
        Err(error) => return unavailable("dashboard usage", &error),
    };
    let count = |result: &Result<Vec<_>, DbError>| match result {
        Ok(list) => thousands(list.len() as i64),
        Err(_) => "—".to_owned(),
    };
    let favorite_count = count(&favorites);
    let (most_used, recent_models) = match used {
        Ok(used) => (
            Section::of(most_used_lines(&used)),
            Section::of(recent_model_links(used)),
        ),
        Err(error) => (
            Section::read("models used", Err(error)),
            Section {
                items: Vec::new(),
                unreadable: true,
            },
        ),
    };
    let month = &stats.month;
    let page = HomePage {
        alert: stats.month.alert.clone(),
        recommendations,
        section: "overview",
        month: vec![
            stat(
                "Generations",
                "month-generations",
                thousands(month.generations),
            ),
            stat("Tokens", "month-tokens", thousands(month.used)),
            stat("Spend", "month-spend", dollars(month.cost_nanos)),
        ],
        all_time: vec![
            stat(
                "Generations",
                "total-generations",
                thousands(user.total_generations),
            ),
            stat("Tokens", "total-tokens", thousands(user.tokens_used)),
            stat("Spend", "total-spend", dollars(user.total_cost_nanos)),
            stat(
                "Models used",
                "models-used",
                models_count.map_or_else(|_| "—".to_owned(), thousands),
            ),
            stat("Favorites", "favorites", favorite_count),
        ],
        gauge: month_gauge(&stats),
        percent_used: format!("{}%", month.percent_used),
        resets_on: month.resets_on.clone(),
        generated: user.total_generations > 0,
        recent_usage: stats.totals.generations > 0,
        charts: vec![
            chart_view(
                &stats,
                Measure::Generations,
                "home-generations",
                "Generations per day, last 30 days".into(),
            ),
            chart_view(
                &stats,
                Measure::Spend,
                "home-spend",
                "Spend per day, last 30 days".into(),
            ),
        ],
        most_used,
        recent_models,
        recent: Section::read(
            "recent generations",
            history.map(|page| page.items.into_iter().map(recent_line).collect()),
        ),
        favorites: Section::read(
            "favorites",
            favorites.map(|list| {
                list.into_iter()
                    .map(|f| playground_link(f.name, &f.slug))
                    .collect()
            }),
        ),
        chrome,
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_one_line_and_cut() {
        assert_eq!(excerpt("a\n  b", 10), "a b");
        assert_eq!(excerpt("abcdefghij", 4), "abcd…");
        assert_eq!(when(0), "1970-01-01 00:00 UTC");
    }
}
