//! The model catalog on the web: shared query parsing and presentation for the pages
//! (`pages.rs`) and the JSON API (`api.rs`); `page_reads.rs` is what these pages and the
//! playground's do when a database read fails.

pub mod api;
pub(crate) mod page_reads;
pub mod pages;
mod params;
mod view;

pub use params::{ParamError, parse_listing};
pub use view::{CatalogModel, CatalogModelDetails, ModelCard, model_href, provider_label};

use aipasta_store::catalog::{self, CategoryRow, ModelPage, ModelQuery};
use aipasta_store::{Db, DbError};

/// Why a listing could not be shown.
pub enum ListingError {
    Param(ParamError),
    Db(DbError),
}

impl From<DbError> for ListingError {
    fn from(error: DbError) -> ListingError {
        ListingError::Db(error)
    }
}

impl From<ListingError> for crate::ApiError {
    fn from(error: ListingError) -> crate::ApiError {
        match error {
            ListingError::Param(e) => crate::ApiError::bad_request("invalid_parameter", e.message),
            ListingError::Db(e) => e.into(),
        }
    }
}

/// Parses and runs a listing: unknown categories and providers, and pages past the end, are
/// refused with the parameter named.
pub async fn run_listing(
    db: &Db,
    pairs: &[(String, String)],
    default_limit: i64,
) -> Result<(ModelQuery, ModelPage, Vec<CategoryRow>), ListingError> {
    let query = parse_listing(pairs, default_limit).map_err(ListingError::Param)?;
    let categories = catalog::categories(db).await?;
    if let Some(slug) = &query.category
        && !categories.iter().any(|c| &c.slug == slug)
    {
        let known: Vec<&str> = categories.iter().map(|c| c.slug.as_str()).collect();
        return Err(ListingError::Param(ParamError {
            param: "category",
            message: format!(
                "`category` must be one of {}, not {slug:?}",
                known.join(", ")
            ),
        }));
    }
    if let Some(provider) = &query.provider {
        let providers = catalog::providers(db).await?;
        if !providers.contains(provider) {
            return Err(ListingError::Param(ParamError {
                param: "provider",
                message: format!(
                    "`provider` must be one of {}, not {provider:?}",
                    providers.join(", ")
                ),
            }));
        }
    }
    let page = catalog::list(db, &query).await?;
    if page.total > 0 && query.page > page.pages {
        return Err(ListingError::Param(ParamError {
            param: "page",
            message: format!(
                "`page` {} is past the last page ({})",
                query.page, page.pages
            ),
        }));
    }
    Ok((query, page, categories))
}
