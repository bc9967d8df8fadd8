//! The admin API: users (role, status, limits), system settings, and the catalog (sync and
//! hand edits). The admin pages come with the admin issue; these endpoints are what they call.
//! `providers` has both the API and the `/admin/providers` page for provider keys and
//! OpenAI-compatible endpoints.

mod catalog;
pub mod providers;
mod users;

use crate::auth::Routes;

pub fn routes() -> Routes {
    users::routes()
        .merge(catalog::routes())
        .merge(providers::routes())
}
