//! The playground: `/playground` (a model picker), `/models/{id}/playground` (run a model in
//! chat, text, code, image, summarise, translate or embed mode) and `/playground/runs/{id}` (a
//! past run, to read and run again). The page works without JavaScript (a form that posts and
//! shows the answer, rendered on the server); `static/playground.js` streams answers through
//! `/api/ai/stream` instead. Also the playground's small JSON API: rendering markdown the same
//! way the page does, and the account's parameter presets.

mod api;
mod form;
mod modes;
mod page;
mod runs;
mod snippets;

pub use page::open;

use utoipa_axum::routes;

use crate::auth::{Access, Routes};

pub fn routes() -> Routes {
    use Access::{Public, User};
    Routes::new()
        .get("/playground", Public, page::picker)
        .get("/playground/runs/{id}", User, runs::view)
        // Model ids contain slashes: `GET /models/{id}/playground` is served by the catalog's
        // `/models/{*rest}` handler (which calls [`open`]); the form posts to the same path.
        .post("/models/{*rest}", User, page::run)
        .api(User, routes!(api::render))
        .api(User, routes!(api::list_presets))
        .api(User, routes!(api::create_preset))
        .api(User, routes!(api::update_preset))
        .api(User, routes!(api::delete_preset))
}
