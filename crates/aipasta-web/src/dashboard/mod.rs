//! The dashboard: the caller's history, usage and spend, and favorite models, as JSON
//! (`api.rs`) and as pages. `filters.rs` reads history's query string for both, `stats.rs`
//! computes the usage report both show.

pub mod api;
pub mod favorites_pages;
pub mod filters;
mod home_pages;
pub mod stats;
mod usage_pages;

use crate::auth::Routes;

pub fn routes() -> Routes {
    api::routes()
        .merge(home_pages::routes())
        .merge(usage_pages::routes())
        .merge(favorites_pages::routes())
}

/// One link of the dashboard's sidebar.
#[allow(dead_code)] // read by dashboard_base.html, which the dashboard pages extend
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
#[allow(dead_code)] // see DashboardLink
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
