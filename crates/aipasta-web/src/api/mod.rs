//! The JSON API under `/api`, one module per resource.

mod health;

use crate::auth::Routes;

pub fn routes() -> Routes {
    health::routes().merge(crate::catalog::api::routes())
}
