//! The dashboard: the caller's history, usage and spend, and favorite models, as JSON
//! (`api.rs`, `export.rs`: streamed JSON, CSV and Markdown) and as pages (`home_pages.rs` the
//! overview, `history_pages.rs` with `history_view.rs` its words, `usage_pages.rs` with its CSV,
//! `favorites_pages.rs` with the star toggle). `filters.rs` reads history's query string for
//! both, `stats.rs` computes the usage report both show, `recommend.rs` and `alerts.rs` what
//! the overview adds.

pub mod alerts;
pub mod api;
pub mod export;
pub mod favorites_pages;
pub mod filters;
mod history_pages;
mod history_view;
mod home_pages;
pub mod recommend;
pub mod stats;
mod usage_pages;

pub use recommend::{CATEGORY_MODELS_TTL, POPULARITY_TTL};

use crate::auth::Routes;

pub fn routes() -> Routes {
    api::routes()
        .merge(history_pages::routes())
        .merge(home_pages::routes())
        .merge(usage_pages::routes())
        .merge(favorites_pages::routes())
}

/// One link of the dashboard's sidebar.
pub struct DashboardLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The dashboard's sections, in the sidebar's order.
const SECTIONS: [(&str, &str, &str); 5] = [
    ("overview", "/dashboard", "Overview"),
    ("history", "/dashboard/history", "History"),
    ("usage", "/dashboard/usage", "Usage"),
    ("favorites", "/dashboard/favorites", "Favorites"),
    ("settings", "/dashboard/settings", "Settings"),
];

/// The sidebar with `section` (`overview`, `history`, `usage`, `favorites`, `settings`)
/// marked as the current page. Templates that extend `dashboard_base.html` call it.
pub fn dashboard_nav(section: &str) -> Vec<DashboardLink> {
    SECTIONS
        .iter()
        .map(|&(name, href, label)| DashboardLink {
            href,
            label,
            current: name == section,
        })
        .collect()
}
