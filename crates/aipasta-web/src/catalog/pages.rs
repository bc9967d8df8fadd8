//! Catalog pages: `/models` (grid, search, filters), `/models/{category}`, `/models/{id}`.

use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use aipasta_core::catalog::{Capability, ModelStatus, short_tokens};
use aipasta_core::money::{Price, human_usd, per_million_label, per_thousand_label};
use aipasta_store::catalog::{self, CategoryRow, ModelRow, SortField};
use rust_decimal::Decimal;

use super::view::{ModelCard, provider_label};
use super::{ListingError, run_listing};
use crate::auth::{Access, Routes};
use crate::chrome::Chrome;
use crate::pages::{not_found, render};
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new().get("/models", Access::Public, listing).get(
        "/models/{*rest}",
        Access::Public,
        category_or_model,
    )
}

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
}

pub struct Results {
    pub cards: Vec<ModelCard>,
    pub summary: String,
    pub next_href: Option<String>,
    pub prev_href: Option<String>,
    pub page: i64,
    pub pages: i64,
}

pub struct Crumb {
    pub href: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "models.html")]
struct ListingPage {
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

async fn listing(
    State(state): State<AppState>,
    chrome: Chrome,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    render_listing(&state, chrome, &headers, pairs, None).await
}

async fn render_listing(
    state: &AppState,
    chrome: Chrome,
    headers: &HeaderMap,
    mut pairs: Vec<(String, String)>,
    category: Option<CategoryRow>,
) -> Response {
    let path = chrome.path.clone();
    if let Some(category) = &category {
        pairs.retain(|(k, _)| k != "category");
        pairs.push(("category".into(), category.slug.clone()));
    }
    let outcome = run_listing(&state.db, &pairs, PAGE_SIZE).await;
    let (results, error, status, categories) = match outcome {
        Ok((query, page, categories)) => {
            let link_pairs: Vec<(String, String)> = if category.is_some() {
                pairs
                    .iter()
                    .filter(|(k, _)| k != "category")
                    .cloned()
                    .collect()
            } else {
                pairs.clone()
            };
            let summary = match (page.total, query.search.as_deref()) {
                (0, Some(text)) => {
                    format!("No models match “{text}”. Try fewer words or clear a filter.")
                }
                (0, None) => {
                    "No models match these filters. Clear a filter to see more.".to_owned()
                }
                // Counting stops early on broad listings: say so, and which page this is
                // (the page count is only a lower bound, so "page X of Y" is not shown).
                (n, _) if !page.total_exact => {
                    format!("More than {} models · page {}", group_digits(n), page.page)
                }
                (1, _) => "1 model".to_owned(),
                (n, _) => format!("{} models", group_digits(n)),
            };
            let results = Results {
                cards: page.models.iter().map(ModelCard::from_row).collect(),
                summary,
                next_href: (page.page < page.pages)
                    .then(|| href_with_page(&path, &link_pairs, page.page + 1)),
                prev_href: (page.page > 1)
                    .then(|| href_with_page(&path, &link_pairs, page.page - 1)),
                page: page.page,
                pages: if page.total_exact { page.pages } else { 0 },
            };
            (results, None, StatusCode::OK, categories)
        }
        Err(ListingError::Param(error)) => {
            let categories = catalog::categories(&state.db).await.unwrap_or_default();
            let results = Results {
                cards: Vec::new(),
                summary: String::new(),
                next_href: None,
                prev_href: None,
                page: 1,
                pages: 0,
            };
            (
                results,
                Some(error.message),
                StatusCode::BAD_REQUEST,
                categories,
            )
        }
        Err(ListingError::Db(error)) => {
            tracing::error!(%error, "catalog listing failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };

    if headers.contains_key(FRAGMENT_HEADER) {
        let mut response = render(&ResultsFragment { results });
        *response.status_mut() = status;
        return response;
    }

    let providers = catalog::providers(&state.db).await.unwrap_or_default();
    let current = |key: &str| value_of(&pairs, key);
    let mut category_options = vec![option("", "All categories", None)];
    category_options.extend(categories.iter().map(|c| {
        let label = if c.parent_id.is_some() {
            format!("— {}", c.name)
        } else {
            c.name.clone()
        };
        option(&c.slug, &label, current("category"))
    }));
    let mut provider_options = vec![option("", "All providers", None)];
    provider_options.extend(
        providers
            .iter()
            .map(|p| option(p, &provider_label(p), current("provider"))),
    );
    let mut capability_options = vec![option("", "Any capability", None)];
    capability_options.extend(
        Capability::ALL
            .iter()
            .map(|c| option(c.as_str(), c.label(), current("capability"))),
    );
    let sort_labels = [
        (SortField::Default, "Best match"),
        (SortField::Popularity, "Most used"),
        (SortField::Newest, "Newest"),
        (SortField::Name, "Name"),
        (SortField::Price, "Price"),
        (SortField::Context, "Context length"),
    ];
    let sorts = sort_labels
        .iter()
        .map(|(field, label)| {
            option(
                field.as_str(),
                label,
                Some(current("sort").unwrap_or("default")),
            )
        })
        .collect();
    let orders = vec![
        option("", "Natural order", current("order").or(Some(""))),
        option("asc", "Ascending", current("order")),
        option("desc", "Descending", current("order")),
    ];
    let filters = Filters {
        action: if category.is_some() {
            path.clone()
        } else {
            "/models".into()
        },
        search: current("search").or(current("q")).unwrap_or("").to_owned(),
        categories: category_options,
        providers: provider_options,
        capabilities: capability_options,
        sorts,
        orders,
        free: matches!(current("free"), Some("1" | "true" | "on" | "yes")),
        max_price: current("max_price").unwrap_or("").to_owned(),
        min_context: current("min_context").unwrap_or("").to_owned(),
        show_category: category.is_none(),
    };

    let mut breadcrumbs = vec![Crumb {
        href: "/models".into(),
        label: "Models".into(),
    }];
    let (title, heading, intro, subcategories) = match &category {
        Some(category) => {
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
                .map(|c| Crumb {
                    href: format!("/models/{}", c.slug),
                    label: format!("{} ({})", c.name, c.model_count),
                })
                .collect();
            (
                format!("{} models", category.name),
                category.name.clone(),
                category.description.clone().unwrap_or_default(),
                children,
            )
        }
        None => {
            let roots = categories
                .iter()
                .filter(|c| c.parent_id.is_none() && c.model_count > 0)
                .map(|c| Crumb {
                    href: format!("/models/{}", c.slug),
                    label: format!("{} ({})", c.name, c.model_count),
                })
                .collect();
            (
                "Models".to_owned(),
                "Models".to_owned(),
                "Every model this instance can reach, with what it costs and what it can do."
                    .to_owned(),
                roots,
            )
        }
    };
    let page = ListingPage {
        chrome,
        title,
        heading,
        intro,
        breadcrumbs,
        subcategories,
        filters,
        results,
        error,
    };
    let mut response = render(&page);
    *response.status_mut() = status;
    response
}

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
    let categories = match catalog::categories(&state.db).await {
        Ok(categories) => categories,
        Err(error) => {
            tracing::error!(%error, "could not read categories");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if let Some(category) = categories.iter().find(|c| c.slug == rest) {
        return render_listing(&state, chrome, &headers, pairs, Some(category.clone())).await;
    }
    match catalog::find_model(&state.db, &rest).await {
        Ok(Some(model)) => model_page(&state, chrome, model, &categories).await,
        Ok(None) => not_found(request).await,
        Err(error) => {
            tracing::error!(%error, "could not read model");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub struct Row {
    pub label: String,
    pub value: String,
}

fn row(label: &str, value: impl Into<String>) -> Row {
    Row {
        label: label.to_owned(),
        value: value.into(),
    }
}

pub struct PriceLine {
    pub what: String,
    pub per_million: String,
    pub per_thousand: String,
}

pub struct Example {
    pub what: String,
    pub cost: String,
}

pub struct ParameterLine {
    pub name: String,
    pub min: String,
    pub max: String,
    pub default: String,
}

pub struct Link {
    pub label: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "model.html")]
struct ModelPageView {
    chrome: Chrome,
    card: ModelCard,
    provider_model_id: String,
    status_note: Option<String>,
    description_html: String,
    provider_description_html: Option<String>,
    breadcrumbs: Vec<Crumb>,
    specs: Vec<Row>,
    prices: Vec<PriceLine>,
    examples: Vec<Example>,
    parameters: Vec<ParameterLine>,
    supported: Vec<String>,
    performance: Vec<Row>,
    links: Vec<Link>,
    tags: Vec<String>,
    related: Vec<ModelCard>,
}

fn cost_of(price: Option<Price>, units: u64) -> String {
    match price {
        None => "unknown".into(),
        Some(p) if p.is_zero() => "free".into(),
        Some(p) => format!("${}", human_usd(p.times(units))),
    }
}

fn number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A stored percentage (0 to 100) as people read it: "100%", "97.5%".
fn percent(value: f64) -> String {
    let text = format!("{value:.1}");
    format!("{}%", text.trim_end_matches(".0"))
}

fn date(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!("[year]-[month]-[day]"))
                .ok()
        })
        .unwrap_or_default()
}

async fn model_page(
    state: &AppState,
    chrome: Chrome,
    model: ModelRow,
    categories: &[CategoryRow],
) -> Response {
    let tags = catalog::model_tags(&state.db, &model.id)
        .await
        .unwrap_or_default();
    let related = catalog::related_models(&state.db, &model, 4)
        .await
        .unwrap_or_default();
    let pricing = model.pricing();
    let card = ModelCard::from_row(&model);

    let mut breadcrumbs = vec![Crumb {
        href: "/models".into(),
        label: "Models".into(),
    }];
    if let Some(category) = categories
        .iter()
        .find(|c| Some(&c.id) == model.category_id.as_ref())
    {
        if let Some(parent) = categories
            .iter()
            .find(|c| Some(&c.id) == category.parent_id.as_ref())
        {
            breadcrumbs.push(Crumb {
                href: format!("/models/{}", parent.slug),
                label: parent.name.clone(),
            });
        }
        breadcrumbs.push(Crumb {
            href: format!("/models/{}", category.slug),
            label: category.name.clone(),
        });
    }

    let mut specs = vec![
        row("Provider", provider_label(&model.provider)),
        row(
            "Developer",
            model.developer.clone().unwrap_or_else(|| "—".into()),
        ),
    ];
    if let Some(context) = model.context_length.filter(|c| *c > 0) {
        specs.push(row(
            "Context window",
            format!(
                "{} tokens ({})",
                group_digits(context),
                short_tokens(context)
            ),
        ));
    }
    if let Some(max) = model.max_tokens.filter(|m| *m > 0) {
        specs.push(row(
            "Longest answer",
            format!("{} tokens", group_digits(max)),
        ));
    }
    specs.push(row("Input", model.input_modalities().join(", ")));
    specs.push(row("Output", model.output_modalities().join(", ")));
    specs.push(row(
        "Streaming",
        if model.supports_streaming {
            "yes"
        } else {
            "no"
        },
    ));
    specs.push(row(
        "System prompt",
        if model.supports_system_prompt {
            "yes"
        } else {
            "no"
        },
    ));
    if let Some(released) = model.release_date {
        specs.push(row("Released", date(released)));
    }
    if let Some(license) = &model.license {
        specs.push(row("License", license.clone()));
    }

    let mut prices = Vec::new();
    for (what, price) in [
        ("Input tokens", pricing.prompt),
        ("Output tokens", pricing.completion),
    ] {
        prices.push(PriceLine {
            what: what.into(),
            per_million: per_million_label(price),
            per_thousand: per_thousand_label(price),
        });
    }
    for (what, price) in [
        ("Cached input tokens", pricing.cache_read),
        ("Cache writes", pricing.cache_write),
    ] {
        if price.is_some() {
            prices.push(PriceLine {
                what: what.into(),
                per_million: per_million_label(price),
                per_thousand: per_thousand_label(price),
            });
        }
    }
    let unit_price = |what: &str, price: Option<Price>| PriceLine {
        what: what.into(),
        per_million: format!("{} each", cost_of(price, 1)),
        per_thousand: format!("{} per 1,000", cost_of(price, 1000)),
    };
    if pricing.image.is_some() {
        prices.push(unit_price("Per input image", pricing.image));
    }
    if pricing.request.is_some() {
        prices.push(unit_price("Per request", pricing.request));
    }
    for (name, price) in &pricing.extra {
        prices.push(unit_price(&name.replace('_', " "), Some(*price)));
    }
    let examples = vec![
        Example {
            what: "1,000 input tokens".into(),
            cost: cost_of(pricing.prompt, 1_000),
        },
        Example {
            what: "1,000 output tokens".into(),
            cost: cost_of(pricing.completion, 1_000),
        },
        Example {
            what: "1 million input tokens".into(),
            cost: cost_of(pricing.prompt, 1_000_000),
        },
        Example {
            what: "1 million output tokens".into(),
            cost: cost_of(pricing.completion, 1_000_000),
        },
        Example {
            what: "A chat turn: 1,500 tokens in, 500 out".into(),
            cost: match (pricing.prompt, pricing.completion) {
                (Some(p), Some(c)) => {
                    let total: Decimal = p.times(1_500) + c.times(500);
                    if total.is_zero() {
                        "free".into()
                    } else {
                        format!("${}", human_usd(total))
                    }
                }
                _ => "unknown".into(),
            },
        },
    ];

    let parameters = model
        .parameter_ranges()
        .iter()
        .map(|(name, range)| ParameterLine {
            name: name.clone(),
            min: number(range.min),
            max: number(range.max),
            default: number(range.default),
        })
        .collect();

    let performance = match model.average_latency_ms {
        Some(latency) => vec![
            row(
                "Average latency",
                format!("{:.1} s", latency as f64 / 1000.0),
            ),
            row(
                "Success rate",
                model.success_rate.map_or("—".into(), percent),
            ),
            row("Generations here", group_digits(model.generation_count)),
        ],
        None => Vec::new(),
    };

    let mut links = Vec::new();
    for (label, href) in [
        ("Documentation", &model.documentation_url),
        ("Source code", &model.source_code_url),
        ("Paper", &model.paper_url),
    ] {
        if let Some(href) = href
            .as_ref()
            .filter(|h| h.starts_with("https://") || h.starts_with("http://"))
        {
            links.push(Link {
                label: label.into(),
                href: href.clone(),
            });
        }
    }
    if let Some(hf) = &model.hugging_face_id
        && model.provider != "huggingface"
    {
        links.push(Link {
            label: "Weights on Hugging Face".into(),
            href: format!("https://huggingface.co/{hf}"),
        });
    }

    let status_note = match model.status() {
        ModelStatus::Active => None,
        ModelStatus::Beta => Some("This model is in beta: expect changes.".to_owned()),
        ModelStatus::Maintenance => Some("This model is under maintenance and may not answer right now.".to_owned()),
        ModelStatus::Deprecated => Some(
            "This model is deprecated: its provider no longer lists it. Its history is kept, but new generations may fail.".to_owned(),
        ),
    };
    // Descriptions come from providers: rendered off the async threads, and cached.
    let provider_description = model
        .long_description
        .as_ref()
        .filter(|long| long.trim() != model.description.trim() && !long.trim().is_empty());
    let mut sources = vec![model.description.clone()];
    sources.extend(provider_description.cloned());
    let mut rendered =
        crate::markdown::render_cached(crate::markdown::Style::Description, sources).await;
    let provider_description_html = (rendered.len() > 1).then(|| rendered.remove(1));
    let description_html = rendered.pop().unwrap_or_default();
    let view = ModelPageView {
        chrome,
        provider_model_id: model.provider_model_id.clone(),
        status_note,
        description_html,
        provider_description_html,
        breadcrumbs,
        specs,
        prices,
        examples,
        parameters,
        supported: model.supported_parameters(),
        performance,
        links,
        tags,
        related: related.iter().map(ModelCard::from_row).collect(),
        card,
    };
    render(&view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_read_as_people_write_them() {
        assert_eq!(percent(100.0), "100%");
        assert_eq!(percent(97.5), "97.5%");
        assert_eq!(percent(99.96), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(66.666), "66.7%");
    }

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
        assert_eq!(group_digits(1_234_567), "1,234,567");
        assert_eq!(number(0.95), "0.95");
        assert_eq!(number(2.0), "2");
    }
}
