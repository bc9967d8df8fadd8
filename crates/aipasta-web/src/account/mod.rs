//! A person's own account: profile, preferences, password, sessions, API keys, export and
//! deletion — as JSON under `/api/users/...` and as the `/dashboard/settings` page. Both call
//! the same operations in `service.rs`.

mod api;
mod export;
mod pages;
mod service;
mod views;

use crate::auth::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
