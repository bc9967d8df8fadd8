//! The grid of models: `/models` and a category's `/models/{category}`, whole or, for the
//! page's script, only its results. [`ListingPage::respond`] runs the listing; the page around
//! it is assembled by small functions, one per part (results, filters, heading).

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use aipasta_core::catalog::Capability;
use aipasta_store::catalog::{self, CategoryRow, ModelPage, ModelQuery, SortField};

use super::{Crumb, group_digits, models_crumb};
use crate::auth::Caller;
use crate::catalog::page_reads::{Section, unavailable_page};
use crate::catalog::view::{ModelCard, provider_label};
use crate::catalog::{ListingError, run_listing};
use crate::chrome::Chrome;
use crate::dashboard::favorites_pages::Stars;
use crate::pages::render;
use crate::state::AppState;

/// Cards per page: a full grid at every width (1, 2, 3 or 4 columns).
const PAGE_SIZE: i64 = 24;
/// The header asking for only the results part of a listing (the page's script sends it).
const FRAGMENT_HEADER: &str = "x-fragment";

pub struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn option(value: &str, label: &str, current: Option<&str>) -> SelectOption {
    SelectOption {
        value: value.to_owned(),
        label: label.to_owned(),
        selected: current == Some(value),
    }
}

pub struct Filters {
    pub action: String,
    pub search: String,
    pub categories: Vec<SelectOption>,
    pub providers: Vec<SelectOption>,
    pub capabilities: Vec<SelectOption>,
    pub sorts: Vec<SelectOption>,
    pub orders: Vec<SelectOption>,
    pub free: bool,
    pub max_price: String,
    pub min_context: String,
    pub show_category: bool,
    /// What the filters could not offer because its list could not be read, in words.
    pub notices: Vec<&'static str>,
}

pub struct Results {
    pub cards: Vec<ModelCard>,
    pub summary: String,
    pub next_href: Option<String>,
    pub prev_href: Option<String>,
    pub page: i64,
    pub pages: i64,
}

impl Results {
    /// No results: the listing was refused.
    fn none() -> Results {
        Results {
            cards: Vec::new(),
            summary: String::new(),
            next_href: None,
            prev_href: None,
            page: 1,
            pages: 0,
        }
    }
}

#[derive(Template)]
#[template(path = "models.html")]
pub struct ListingPage {
    chrome: Chrome,
    title: String,
    heading: String,
    intro: String,
    breadcrumbs: Vec<Crumb>,
    subcategories: Vec<Crumb>,
    filters: Filters,
    results: Results,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "models_results.html")]
struct ResultsFragment {
    results: Results,
}

/// What running the listing gave the page.
struct Listed {
    results: Results,
    /// Why the listing was refused, for the page to say next to the filters.
    error: Option<String>,
    status: StatusCode,
    /// The categories, when the listing read them (a refused one may not have).
    categories: Option<Vec<CategoryRow>>,
}

/// The query's value of `key`, the last one given, when not blank.
fn value_of<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, v)| k == key && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
}

/// `path?query` with `page` set (or removed for page 1) and empty values dropped.
fn href_with_page(path: &str, pairs: &[(String, String)], page: i64) -> String {
    let mut kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(k, v)| k != "page" && !v.trim().is_empty())
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let page_text = page.to_string();
    if page > 1 {
        kept.push(("page", &page_text));
    }
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

impl ListingPage {
    /// Runs the listing the query asks for (within `category` on a category's page) and answers
    /// the whole page, or only its results when the page's script asks for them.
    pub async fn respond(
        state: &AppState,
        chrome: Chrome,
        caller: Option<&Caller>,
        headers: &HeaderMap,
        mut pairs: Vec<(String, String)>,
        category: Option<CategoryRow>,
    ) -> Response {
        if let Some(category) = &category {
            pairs.retain(|(k, _)| k != "category");
            pairs.push(("category".into(), category.slug.clone()));
        }
        let listed = match run_listing(&state.db, &pairs, PAGE_SIZE).await {
            Ok((query, page, categories)) => {
                let link_pairs = page_link_pairs(&pairs, &category);
                let mut results = results(&chrome.path, &link_pairs, &query, &page);
                if !results.cards.is_empty() {
                    // The stars send the browser back to this very page of results.
                    let here = href_with_page(&chrome.path, &link_pairs, page.page);
                    let stars = Stars::for_page(state, caller, &chrome.csrf, here).await;
                    Stars::mark(stars.as_ref(), &mut results.cards);
                }
                Listed {
                    results,
                    error: None,
                    status: StatusCode::OK,
                    categories: Some(categories),
                }
            }
            Err(ListingError::Param(error)) => Listed {
                results: Results::none(),
                error: Some(error.message),
                status: StatusCode::BAD_REQUEST,
                categories: None,
            },
            Err(ListingError::Db(error)) => return unavailable_page("catalog listing", &error),
        };
        let status = listed.status;
        let mut response = if headers.contains_key(FRAGMENT_HEADER) {
            render(&ResultsFragment {
                results: listed.results,
            })
        } else {
            render(&ListingPage::build(state, chrome, &pairs, category.as_ref(), listed).await)
        };
        *response.status_mut() = status;
        response
    }

    /// The whole page around the results. The filters' lists of categories and providers are
    /// side sections: when one cannot be read, the page still lists models and says which list
    /// is missing.
    async fn build(
        state: &AppState,
        chrome: Chrome,
        pairs: &[(String, String)],
        category: Option<&CategoryRow>,
        listed: Listed,
    ) -> ListingPage {
        let categories = match listed.categories {
            Some(categories) => Section::of(categories),
            None => Section::read("categories", catalog::categories(&state.db).await),
        };
        let providers = Section::read("providers", catalog::providers(&state.db).await);
        let filters = filters(&chrome.path, pairs, category, &categories, &providers);
        let heading = match category {
            Some(category) => Heading::of_category(category, &categories.items),
            None => Heading::of_all_models(&categories.items),
        };
        ListingPage {
            chrome,
            title: heading.title,
            heading: heading.heading,
            intro: heading.intro,
            breadcrumbs: heading.breadcrumbs,
            subcategories: heading.subcategories,
            filters,
            results: listed.results,
            error: listed.error,
        }
    }
}

/// The query as the page's links keep it: a category's page has the category in its path.
fn page_link_pairs(
    pairs: &[(String, String)],
    category: &Option<CategoryRow>,
) -> Vec<(String, String)> {
    if category.is_some() {
        pairs
            .iter()
            .filter(|(k, _)| k != "category")
            .cloned()
            .collect()
    } else {
        pairs.to_vec()
    }
}

/// One page of cards, what it holds in words, and the links to its neighbours.
fn results(
    path: &str,
    link_pairs: &[(String, String)],
    query: &ModelQuery,
    page: &ModelPage,
) -> Results {
    Results {
        cards: page.models.iter().map(ModelCard::from_row).collect(),
        summary: summary(page, query.search.as_deref()),
        next_href: (page.page < page.pages)
            .then(|| href_with_page(path, link_pairs, page.page + 1)),
        prev_href: (page.page > 1).then(|| href_with_page(path, link_pairs, page.page - 1)),
        page: page.page,
        pages: if page.total_exact { page.pages } else { 0 },
    }
}

/// How many models match, or, when none does, what to try instead.
fn summary(page: &ModelPage, search: Option<&str>) -> String {
    match (page.total, search) {
        (0, Some(text)) => {
            format!("No models match “{text}”. Try fewer words or clear a filter.")
        }
        (0, None) => "No models match these filters. Clear a filter to see more.".to_owned(),
        // Counting stops early on broad listings: say so, and which page this is
        // (the page count is only a lower bound, so "page X of Y" is not shown).
        (n, _) if !page.total_exact => {
            format!("More than {} models · page {}", group_digits(n), page.page)
        }
        (1, _) => "1 model".to_owned(),
        (n, _) => format!("{} models", group_digits(n)),
    }
}

/// The filter form, showing the query's current choices.
fn filters(
    path: &str,
    pairs: &[(String, String)],
    category: Option<&CategoryRow>,
    categories: &Section<CategoryRow>,
    providers: &Section<String>,
) -> Filters {
    let current = |key: &str| value_of(pairs, key);
    let mut notices = Vec::new();
    if categories.unreadable {
        notices.push(
            "The list of categories could not be loaded right now. Reload the page to try again.",
        );
    }
    if providers.unreadable {
        notices.push(
            "The list of providers could not be loaded right now. Reload the page to try again.",
        );
    }
    Filters {
        action: if category.is_some() {
            path.to_owned()
        } else {
            "/models".into()
        },
        search: current("search").or(current("q")).unwrap_or("").to_owned(),
        categories: category_options(&categories.items, current("category")),
        providers: provider_options(&providers.items, current("provider")),
        capabilities: capability_options(current("capability")),
        sorts: sort_options(current("sort")),
        orders: order_options(current("order")),
        free: matches!(current("free"), Some("1" | "true" | "on" | "yes")),
        max_price: current("max_price").unwrap_or("").to_owned(),
        min_context: current("min_context").unwrap_or("").to_owned(),
        show_category: category.is_none(),
        notices,
    }
}

/// Every category, children marked under their parents (the list comes in that order).
fn category_options(categories: &[CategoryRow], current: Option<&str>) -> Vec<SelectOption> {
    let mut options = vec![option("", "All categories", None)];
    options.extend(categories.iter().map(|c| {
        let label = if c.parent_id.is_some() {
            format!("— {}", c.name)
        } else {
            c.name.clone()
        };
        option(&c.slug, &label, current)
    }));
    options
}

fn provider_options(providers: &[String], current: Option<&str>) -> Vec<SelectOption> {
    let mut options = vec![option("", "All providers", None)];
    options.extend(
        providers
            .iter()
            .map(|p| option(p, &provider_label(p), current)),
    );
    options
}

fn capability_options(current: Option<&str>) -> Vec<SelectOption> {
    let mut options = vec![option("", "Any capability", None)];
    options.extend(
        Capability::ALL
            .iter()
            .map(|c| option(c.as_str(), c.label(), current)),
    );
    options
}

/// The sort orders, the default one selected when the query names none.
fn sort_options(current: Option<&str>) -> Vec<SelectOption> {
    [
        (SortField::Default, "Best match"),
        (SortField::Popularity, "Most used"),
        (SortField::Newest, "Newest"),
        (SortField::Name, "Name"),
        (SortField::Price, "Price"),
        (SortField::Context, "Context length"),
    ]
    .iter()
    .map(|(field, label)| option(field.as_str(), label, Some(current.unwrap_or("default"))))
    .collect()
}

fn order_options(current: Option<&str>) -> Vec<SelectOption> {
    vec![
        option("", "Natural order", current.or(Some(""))),
        option("asc", "Ascending", current),
        option("desc", "Descending", current),
    ]
}

/// The top of the page: its title, heading and intro, where it sits, and the categories to go
/// on to.
struct Heading {
    title: String,
    heading: String,
    intro: String,
    breadcrumbs: Vec<Crumb>,
    subcategories: Vec<Crumb>,
}

impl Heading {
    /// A category's page: under its parent, if any, and leading to its children.
    fn of_category(category: &CategoryRow, categories: &[CategoryRow]) -> Heading {
        let mut breadcrumbs = vec![models_crumb()];
        if let Some(parent) = categories
            .iter()
            .find(|c| Some(&c.id) == category.parent_id.as_ref())
        {
            breadcrumbs.push(Crumb {
                href: format!("/models/{}", parent.slug),
                label: parent.name.clone(),
            });
        }
        let children = categories
            .iter()
            .filter(|c| c.parent_id.as_deref() == Some(category.id.as_str()))
            .map(category_link)
            .collect();
        Heading {
            title: format!("{} models", category.name),
            heading: category.name.clone(),
            intro: category.description.clone().unwrap_or_default(),
            breadcrumbs,
            subcategories: children,
        }
    }

    /// Every model: leading to the top-level categories that list any.
    fn of_all_models(categories: &[CategoryRow]) -> Heading {
        let roots = categories
            .iter()
            .filter(|c| c.parent_id.is_none() && c.model_count > 0)
            .map(category_link)
            .collect();
        Heading {
            title: "Models".to_owned(),
            heading: "Models".to_owned(),
            intro: "Every model this instance can reach, with what it costs and what it can do."
                .to_owned(),
            breadcrumbs: vec![models_crumb()],
            subcategories: roots,
        }
    }
}

/// A category's page, with how many models it lists.
fn category_link(category: &CategoryRow) -> Crumb {
    Crumb {
        href: format!("/models/{}", category.slug),
        label: format!("{} ({})", category.name, category.model_count),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_filters_and_drop_empty_values() {
        let pairs = vec![
            ("q".to_owned(), "claude".to_owned()),
            ("category".to_owned(), String::new()),
            ("page".to_owned(), "3".to_owned()),
        ];
        assert_eq!(
            href_with_page("/models", &pairs, 4),
            "/models?q=claude&page=4"
        );
        assert_eq!(href_with_page("/models", &pairs, 1), "/models?q=claude");
    }

    #[test]
    fn unreadable_lists_leave_their_filters_with_a_notice() {
        let pairs = vec![("provider".to_owned(), "openrouter".to_owned())];
        let categories = Section::read("categories", Err(aipasta_store::DbError::Timeout));
        let providers = Section::of(vec!["openrouter".to_owned()]);
        let filters = filters("/models", &pairs, None, &categories, &providers);
        assert_eq!(filters.categories.len(), 1, "only “All categories”");
        assert_eq!(
            filters.notices,
            ["The list of categories could not be loaded right now. Reload the page to try again."]
        );
        assert!(
            filters
                .providers
                .iter()
                .any(|p| p.selected && p.value == "openrouter")
        );
    }
}
