//! The JSON API under `/api`, one module per resource.

pub mod envelope;
mod health;

pub use envelope::{Failure, Success, created, ok};

use crate::auth::Routes;

pub fn routes() -> Routes {
    health::routes().merge(crate::catalog::api::routes())
}
