//! One model's page, `/models/{id}`: what it is, what it costs, what it takes, how it has done
//! here. [`ModelPageView::build`] reads what the page needs beside the model's row and lays it
//! out with one small function per part.

use askama::Template;

use aipasta_core::catalog::{ModelStatus, Pricing, short_tokens};
use aipasta_core::money::{Price, human_usd, per_million_label, per_thousand_label};
use aipasta_store::catalog::{self, CategoryRow, ModelRow};
use rust_decimal::Decimal;

use super::{Crumb, group_digits, models_crumb};
use crate::auth::Caller;
use crate::catalog::page_reads::Section;
use crate::catalog::view::{ModelCard, provider_label};
use crate::chrome::Chrome;
use crate::dashboard::favorites_pages::Stars;
use crate::state::AppState;

/// How many related models the page suggests.
const RELATED: i64 = 4;

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
pub struct ModelPageView {
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
    tags: Section<String>,
    related: Section<ModelCard>,
}

impl ModelPageView {
    /// The page of `model`, whose category is found in `categories`. Its tags and related
    /// models are read here, each on its own: the model's page is worth showing without them,
    /// so a failed read leaves a notice in its place rather than the whole page failing.
    pub async fn build(
        state: &AppState,
        chrome: Chrome,
        caller: Option<&Caller>,
        model: ModelRow,
        categories: &[CategoryRow],
    ) -> ModelPageView {
        let tags = Section::read(
            "model tags",
            catalog::model_tags(&state.db, &model.id).await,
        );
        let mut related = Section::read(
            "related models",
            catalog::related_models(&state.db, &model, RELATED)
                .await
                .map(|rows| rows.iter().map(ModelCard::from_row).collect()),
        );
        let stars = Stars::for_page(state, caller, &chrome.csrf, chrome.path.clone()).await;
        let mut card = ModelCard::from_row(&model);
        card.star = stars.as_ref().map(|stars| stars.star(&model.id));
        Stars::mark(stars.as_ref(), &mut related.items);
        let (description_html, provider_description_html) = descriptions(&model).await;
        let pricing = model.pricing();
        ModelPageView {
            chrome,
            card,
            status_note: status_note(model.status()),
            description_html,
            provider_description_html,
            breadcrumbs: breadcrumbs(&model, categories),
            specs: specs(&model),
            prices: price_lines(&pricing),
            examples: cost_examples(&pricing),
            parameters: parameter_lines(&model),
            supported: model.supported_parameters(),
            performance: performance(&model),
            links: links(&model),
            tags,
            related,
            provider_model_id: model.provider_model_id,
        }
    }
}

/// Where the model sits: Models, then its category's parent and its category when it has one.
fn breadcrumbs(model: &ModelRow, categories: &[CategoryRow]) -> Vec<Crumb> {
    let mut breadcrumbs = vec![models_crumb()];
    let Some(category) = categories
        .iter()
        .find(|c| Some(&c.id) == model.category_id.as_ref())
    else {
        return breadcrumbs;
    };
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
    breadcrumbs
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// The specifications card: only the facts the provider gave (no "0 tokens" context).
fn specs(model: &ModelRow) -> Vec<Row> {
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
    specs.push(row("Streaming", yes_no(model.supports_streaming)));
    specs.push(row("System prompt", yes_no(model.supports_system_prompt)));
    if let Some(released) = model.release_date {
        specs.push(row("Released", date(released)));
    }
    if let Some(license) = &model.license {
        specs.push(row("License", license.clone()));
    }
    specs
}

/// The price table: tokens always (an unknown price says so), caches, images, requests and
/// any other unit only when the provider prices them.
fn price_lines(pricing: &Pricing) -> Vec<PriceLine> {
    let token_line = |what: &str, price: Option<Price>| PriceLine {
        what: what.into(),
        per_million: per_million_label(price),
        per_thousand: per_thousand_label(price),
    };
    let unit_line = |what: &str, price: Option<Price>| PriceLine {
        what: what.into(),
        per_million: format!("{} each", cost_of(price, 1)),
        per_thousand: format!("{} per 1,000", cost_of(price, 1000)),
    };
    let mut prices = vec![
        token_line("Input tokens", pricing.prompt),
        token_line("Output tokens", pricing.completion),
    ];
    for (what, price) in [
        ("Cached input tokens", pricing.cache_read),
        ("Cache writes", pricing.cache_write),
    ] {
        if price.is_some() {
            prices.push(token_line(what, price));
        }
    }
    if pricing.image.is_some() {
        prices.push(unit_line("Per input image", pricing.image));
    }
    if pricing.request.is_some() {
        prices.push(unit_line("Per request", pricing.request));
    }
    for (name, price) in &pricing.extra {
        prices.push(unit_line(&name.replace('_', " "), Some(*price)));
    }
    prices
}

/// What typical uses cost, so nobody has to multiply per-token prices in their head.
fn cost_examples(pricing: &Pricing) -> Vec<Example> {
    let example = |what: &str, cost: String| Example {
        what: what.into(),
        cost,
    };
    vec![
        example("1,000 input tokens", cost_of(pricing.prompt, 1_000)),
        example("1,000 output tokens", cost_of(pricing.completion, 1_000)),
        example("1 million input tokens", cost_of(pricing.prompt, 1_000_000)),
        example(
            "1 million output tokens",
            cost_of(pricing.completion, 1_000_000),
        ),
        example(
            "A chat turn: 1,500 tokens in, 500 out",
            chat_turn_cost(pricing),
        ),
    ]
}

/// 1,500 tokens in and 500 out: unknown unless both prices are known.
fn chat_turn_cost(pricing: &Pricing) -> String {
    match (pricing.prompt, pricing.completion) {
        (Some(p), Some(c)) => {
            let total: Decimal = p.times(1_500) + c.times(500);
            if total.is_zero() {
                "free".into()
            } else {
                format!("${}", human_usd(total))
            }
        }
        _ => "unknown".into(),
    }
}

/// `units` at `price` in words: "unknown", "free" or dollars.
fn cost_of(price: Option<Price>, units: u64) -> String {
    match price {
        None => "unknown".into(),
        Some(p) if p.is_zero() => "free".into(),
        Some(p) => format!("${}", human_usd(p.times(units))),
    }
}

/// The sampling parameters the model takes, with their ranges and defaults.
fn parameter_lines(model: &ModelRow) -> Vec<ParameterLine> {
    model
        .parameter_ranges()
        .iter()
        .map(|(name, range)| ParameterLine {
            name: name.clone(),
            min: number(range.min),
            max: number(range.max),
            default: number(range.default),
        })
        .collect()
}

/// How the model has done on this instance; nothing before its first generation here.
fn performance(model: &ModelRow) -> Vec<Row> {
    let Some(latency) = model.average_latency_ms else {
        return Vec::new();
    };
    vec![
        row(
            "Average latency",
            format!("{:.1} s", latency as f64 / 1000.0),
        ),
        row(
            "Success rate",
            model.success_rate.map_or("—".into(), percent),
        ),
        row("Generations here", group_digits(model.generation_count)),
    ]
}

/// Links the provider gave, only http(s) ones (they come from outside), and the weights on
/// Hugging Face for a model served elsewhere.
fn links(model: &ModelRow) -> Vec<Link> {
    let mut links: Vec<Link> = [
        ("Documentation", &model.documentation_url),
        ("Source code", &model.source_code_url),
        ("Paper", &model.paper_url),
    ]
    .into_iter()
    .filter_map(|(label, href)| {
        href.as_ref()
            .filter(|h| h.starts_with("https://") || h.starts_with("http://"))
            .map(|href| Link {
                label: label.into(),
                href: href.clone(),
            })
    })
    .collect();
    if let Some(hf) = &model.hugging_face_id
        && model.provider != "huggingface"
    {
        links.push(Link {
            label: "Weights on Hugging Face".into(),
            href: format!("https://huggingface.co/{hf}"),
        });
    }
    links
}

/// A warning for a model that may not answer as expected; none for an active one.
fn status_note(status: ModelStatus) -> Option<String> {
    match status {
        ModelStatus::Active => None,
        ModelStatus::Beta => Some("This model is in beta: expect changes.".to_owned()),
        ModelStatus::Maintenance => Some("This model is under maintenance and may not answer right now.".to_owned()),
        ModelStatus::Deprecated => Some(
            "This model is deprecated: its provider no longer lists it. Its history is kept, but new generations may fail.".to_owned(),
        ),
    }
}

/// The description as HTML, and the provider's longer one when it says more. Descriptions
/// come from providers: rendered off the async threads, and cached.
async fn descriptions(model: &ModelRow) -> (String, Option<String>) {
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
    (description_html, provider_description_html)
}

/// A parameter's bound as people write it: `0.95`, `2`.
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
    fn bounds_read_as_people_write_them() {
        assert_eq!(number(0.95), "0.95");
        assert_eq!(number(2.0), "2");
    }
}
