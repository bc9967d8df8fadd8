//! The JSON API under `/api`, one module per resource.

mod health;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(crate::catalog::api::router())
}
