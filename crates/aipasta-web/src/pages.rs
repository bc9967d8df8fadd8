//! Server-rendered pages shared by every part of the site: home, about, contact, errors.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Request, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::auth::{Access, Routes};
use crate::chrome::{Chrome, THEME_COOKIE, Theme};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Routes {
    use Access::Public;
    Routes::new()
        .get("/", Public, home)
        .get("/about", Public, about)
        .get("/contact", Public, contact)
        .post("/preferences/theme", Public, set_theme)
}

/// Renders a template, or the plain error page if the template itself fails.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><h1>Something went wrong</h1>"),
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    model_count: i64,
    /// "Trending" once there is traffic, "Featured" before.
    showcase_title: &'static str,
    /// The showcase's cards, already HTML (see [`HomeData`]); empty when there are none.
    showcase_html: Arc<str>,
}

/// The home page's model cards, rendered when its data is cached.
#[derive(Template)]
#[template(
    source = "{% for card in cards %}{% include \"_model_card.html\" %}{% endfor %}",
    ext = "html"
)]
struct ShowcaseCards<'a> {
    cards: &'a [crate::catalog::ModelCard],
}

/// What the home page shows from the catalog. It changes slowly, so it is read from the
/// database at most every [`HOME_TTL`], and its cards are rendered to HTML then too: the
/// busiest page costs no query, no price formatting and no escaping of card texts.
pub struct HomeData {
    model_count: i64,
    showcase_title: &'static str,
    showcase_html: Arc<str>,
}

const HOME_TTL: std::time::Duration = std::time::Duration::from_secs(30);

async fn home_data(state: &AppState) -> Arc<HomeData> {
    use aipasta_store::catalog;
    if let Some(cached) = state.home_cache.get(HOME_TTL) {
        return cached;
    }
    let today = aipasta_core::clock::now_ms() / 86_400_000;
    let showcase = catalog::trending(&state.db, today - 7, 8)
        .await
        .unwrap_or_default();
    let busy = showcase.iter().any(|m| m.generation_count > 0);
    let data = Arc::new(HomeData {
        model_count: catalog::count_listed_models(&state.db).await.unwrap_or(0),
        showcase_title: if busy {
            "Trending this week"
        } else {
            "Featured models"
        },
        showcase_html: showcase_html(&showcase).into(),
    });
    state.home_cache.put(data.clone());
    data
}

fn showcase_html(models: &[aipasta_store::catalog::ModelRow]) -> String {
    let cards: Vec<crate::catalog::ModelCard> = models
        .iter()
        .map(crate::catalog::ModelCard::from_row)
        .collect();
    ShowcaseCards { cards: &cards }
        .render()
        .unwrap_or_else(|error| {
            tracing::error!(%error, "the home page's cards failed to render");
            String::new()
        })
}

async fn home(State(state): State<AppState>, chrome: Chrome) -> Response {
    let data = home_data(&state).await;
    render(&HomePage {
        chrome,
        model_count: data.model_count,
        showcase_title: data.showcase_title,
        showcase_html: data.showcase_html.clone(),
    })
}

#[derive(Template)]
#[template(path = "about.html")]
struct AboutPage {
    chrome: Chrome,
    database: &'static str,
}

async fn about(State(state): State<AppState>, chrome: Chrome) -> Response {
    render(&AboutPage {
        chrome,
        database: state.db.backend().as_str(),
    })
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    chrome: Chrome,
    contact_email: Option<String>,
}

async fn contact(State(state): State<AppState>, chrome: Chrome) -> Response {
    render(&ContactPage {
        chrome,
        contact_email: state.config.contact_email.clone(),
    })
}

#[derive(Deserialize)]
struct ThemeForm {
    theme: String,
    return_to: Option<String>,
}

/// The theme switch without JavaScript: remember the choice in a cookie, go back to the page.
async fn set_theme(Form(form): Form<ThemeForm>) -> Response {
    let Some(theme) = Theme::parse(&form.theme) else {
        return (
            StatusCode::BAD_REQUEST,
            "Unknown theme; choose light, dark or system.",
        )
            .into_response();
    };
    // Only same-site paths, so the form cannot be used as an open redirect.
    let back = form
        .return_to
        .filter(|path| path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'))
        .unwrap_or_else(|| "/".to_string());
    let cookie = format!(
        "{THEME_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        theme.as_str()
    );
    let mut headers = HeaderMap::new();
    if let (Ok(cookie), Ok(location)) =
        (HeaderValue::from_str(&cookie), HeaderValue::from_str(&back))
    {
        headers.insert(SET_COOKIE, cookie);
        headers.insert(LOCATION, location);
    }
    (StatusCode::SEE_OTHER, headers).into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub status: u16,
    pub heading: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl ErrorPage {
    pub fn for_status(parts: &Parts, status: StatusCode, request_id: Option<String>) -> ErrorPage {
        let (heading, message) = match status.as_u16() {
            404 => (
                "Page not found",
                "There is nothing at this address. It may have moved, or the link may be mistyped.",
            ),
            405 => (
                "Not allowed here",
                "This address does not accept that kind of request.",
            ),
            413 => (
                "Too large",
                "What you sent is larger than this server accepts.",
            ),
            429 => (
                "Too many requests",
                "Slow down a little and try again in a moment.",
            ),
            s if s >= 500 => (
                "Something went wrong",
                "The error was logged. Try again in a moment; if it keeps happening, tell the operator and quote the reference below.",
            ),
            _ => ("That did not work", "The request could not be completed."),
        };
        ErrorPage {
            chrome: Chrome::from_parts(parts),
            status: status.as_u16(),
            heading: heading.to_string(),
            message: message.to_string(),
            request_id,
        }
    }
}

/// Whether a path belongs to the JSON API, whose errors are JSON, never HTML.
pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || path == "/v1" || path.starts_with("/v1/")
}

/// The fallback for unknown routes: JSON under `/api`, the HTML 404 page elsewhere.
pub async fn not_found(request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    if is_api_path(parts.uri.path()) {
        let message = format!("No API route matches {}.", parts.uri.path());
        return ApiError::not_found(message).into_response();
    }
    let page = ErrorPage::for_status(&parts, StatusCode::NOT_FOUND, None);
    let mut response = render(&page);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
