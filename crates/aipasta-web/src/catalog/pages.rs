//! Catalog pages: `/models` (grid, search, filters), `/models/{category}`, `/models/{id}`.
//! `listing` builds the grid's pages, `model` a model's; this module routes to them.

mod listing;
mod model;

use axum::extract::{Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::response::Response;

use aipasta_store::catalog;

use super::page_reads::unavailable_page;
use crate::auth::{Access, Identity, Routes};
use crate::chrome::Chrome;
use crate::pages::{not_found, render};
use crate::state::AppState;
use listing::ListingPage;
use model::ModelPageView;

pub fn routes() -> Routes {
    Routes::new().get("/models", Access::Public, listing).get(
        "/models/{*rest}",
        Access::Public,
        category_or_model,
    )
}

/// A link in a trail of breadcrumbs or a list of categories.
pub struct Crumb {
    pub href: String,
    pub label: String,
}

/// The trail every catalog page starts with.
fn models_crumb() -> Crumb {
    Crumb {
        href: "/models".into(),
        label: "Models".into(),
    }
}

/// A count as people read it: `1,234,567`.
fn group_digits(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

async fn listing(
    State(state): State<AppState>,
    chrome: Chrome,
    identity: Identity,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    ListingPage::respond(&state, chrome, identity.0.as_ref(), &headers, pairs, None).await
}

/// Model slugs contain slashes, so one route serves a model's playground, a category's
/// listing and a model's page; the categories are read first to tell the last two apart.
async fn category_or_model(
    State(state): State<AppState>,
    Path(rest): Path<String>,
    chrome: Chrome,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
    request: Request,
) -> Response {
    let rest = rest.trim_matches('/').to_owned();
    if let Some(model) = rest.strip_suffix("/playground") {
        return crate::playground::open(&state, chrome, model, &pairs, request).await;
    }
    let caller = request
        .extensions()
        .get::<Identity>()
        .and_then(|identity| identity.0.clone());
    let categories = match catalog::categories(&state.db).await {
        Ok(categories) => categories,
        Err(error) => return unavailable_page("categories", &error),
    };
    if let Some(category) = categories.iter().find(|c| c.slug == rest) {
        return ListingPage::respond(
            &state,
            chrome,
            caller.as_ref(),
            &headers,
            pairs,
            Some(category.clone()),
        )
        .await;
    }
    match catalog::find_model(&state.db, &rest).await {
        Ok(Some(model)) => {
            render(&ModelPageView::build(&state, chrome, caller.as_ref(), model, &categories).await)
        }
        Ok(None) => not_found(request).await,
        Err(error) => unavailable_page("model", &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(group_digits(1_234_567), "1,234,567");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(-1_000), "-1,000");
    }
}
