//! The dashboard: the caller's history, usage and spend, and favorite models, as JSON
//! (`api.rs`) and as pages. `filters.rs` reads history's query string for both, `stats.rs`
//! computes the usage report both show.

pub mod api;
pub mod filters;
pub mod stats;

use crate::auth::Routes;

pub fn routes() -> Routes {
    api::routes()
}
