//! The sign-in pages: `/auth/signin`, `/auth/signup`, `/auth/signout`, `/auth/error`. Plain
//! forms that work without JavaScript; errors are shown beside the form, what was typed is kept
//! (never the password).

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::header::{LOCATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::api::{ClientInfo, end_session, respond_with_cookies, start_session};
use super::guard::{Refusal, guarded_authenticate, guarded_register};
use super::identity::Identity;
use super::{Access, Routes};
use crate::chrome::Chrome;
use crate::pages::render;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/auth/signin", Access::Public, signin_page)
        .post("/auth/signin", Access::Public, signin_submit)
        .get("/auth/signup", Access::Public, signup_page)
        .post("/auth/signup", Access::Public, signup_submit)
        .get("/auth/signout", Access::Public, signout_page)
        .post("/auth/signout", Access::Public, signout_submit)
        .get("/auth/error", Access::Public, error_page)
}

/// Where a sign-in goes when `next` is missing or refused.
pub const DEFAULT_NEXT: &str = "/dashboard/settings";

/// `next` as a path on this site, or [`DEFAULT_NEXT`], so it can never be an open redirect.
///
/// Browsers are lenient with a `Location`: they drop tabs and newlines and read `\` as `/`, and
/// a server behind us may decode `%2F` once more, so `/%09/evil.example` or `/\evil.example`
/// would leave the site. `next` is judged fully percent-decoded with backslashes read as
/// slashes (the most lenient reading): it must start with one `/` (not `//`), hold no control
/// character (raw or encoded: no path of ours has one) and not be a sign-in page. What is sent
/// is then the WHATWG parser's serialisation of it, checked the same way, so nothing the
/// check did not see reaches the header.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(same_site_path)
        .unwrap_or_else(|| DEFAULT_NEXT.to_owned())
}

fn same_site_path(next: &str) -> Option<String> {
    if !is_site_path(&leniently_read(next)) {
        return None;
    }
    let base = url::Url::parse("http://site.invalid/").ok()?;
    let joined = base.join(next).ok()?;
    if joined.origin() != base.origin() {
        return None;
    }
    let path = &joined[url::Position::BeforePath..];
    is_site_path(path).then(|| path.to_owned())
}

/// `text` percent-decoded until nothing changes (double encoding included), with backslashes
/// read as slashes.
fn leniently_read(text: &str) -> String {
    let mut current = text.to_owned();
    for _ in 0..4 {
        let decoded = percent_encoding::percent_decode_str(&current)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == current {
            break;
        }
        current = decoded;
    }
    current.replace('\\', "/")
}

fn is_site_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && !path.starts_with("/auth/")
}

fn redirect(to: &str, cookies: Vec<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, value);
    }
    respond_with_cookies(response, cookies)
}

#[derive(Template)]
#[template(path = "auth_signin.html")]
struct SigninPage {
    chrome: Chrome,
    email: String,
    next: String,
    error: Option<String>,
    /// Configured sign-in providers: (key, label).
    providers: Vec<(String, String)>,
}

fn providers(state: &AppState) -> Vec<(String, String)> {
    state
        .config
        .auth
        .oauth
        .iter()
        .map(|p| (p.key.clone(), p.label.clone()))
        .collect()
}

#[derive(Template)]
#[template(path = "auth_signup.html")]
struct SignupPage {
    chrome: Chrome,
    name: String,
    email: String,
    next: String,
    error: Option<String>,
    min_password: usize,
}

#[derive(Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
}

async fn signin_page(
    State(state): State<AppState>,
    chrome: Chrome,
    identity: Identity,
    Query(query): Query<NextQuery>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    if identity.0.is_some() {
        return redirect(&next, Vec::new());
    }
    render(&SigninPage {
        chrome,
        email: String::new(),
        next,
        error: None,
        providers: providers(&state),
    })
}

#[derive(Deserialize)]
struct SigninForm {
    email: String,
    password: String,
    next: Option<String>,
}

fn with_refusal(mut response: Response, refusal: &Refusal) -> Response {
    *response.status_mut() = refusal.status();
    if let Some(after) = refusal.retry_after()
        && let Ok(value) = HeaderValue::from_str(&after.as_secs().max(1).to_string())
    {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

async fn signin_submit(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    chrome: Chrome,
    Form(form): Form<SigninForm>,
) -> Response {
    let client = ClientInfo::from_request(&headers, Some(address));
    let next = safe_next(form.next.as_deref());
    match guarded_authenticate(&state, &client, &form.email, &form.password).await {
        Ok(user) => match start_session(&state, &user, &client).await {
            Ok(cookies) => redirect(&next, cookies),
            Err(failure) => {
                let page = SigninPage {
                    chrome,
                    email: form.email,
                    next,
                    error: Some(failure.message()),
                    providers: providers(&state),
                };
                let mut response = render(&page);
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response
            }
        },
        Err(refusal) => {
            let page = SigninPage {
                chrome,
                email: form.email.trim().to_owned(),
                next,
                error: Some(refusal.message()),
                providers: providers(&state),
            };
            with_refusal(render(&page), &refusal)
        }
    }
}

async fn signup_page(
    chrome: Chrome,
    identity: Identity,
    Query(query): Query<NextQuery>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    if identity.0.is_some() {
        return redirect(&next, Vec::new());
    }
    render(&SignupPage {
        chrome,
        name: String::new(),
        email: String::new(),
        next,
        error: None,
        min_password: aipasta_core::account::MIN_PASSWORD_CHARS,
    })
}

#[derive(Deserialize)]
struct SignupForm {
    name: String,
    email: String,
    password: String,
    next: Option<String>,
}

async fn signup_submit(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    chrome: Chrome,
    Form(form): Form<SignupForm>,
) -> Response {
    let client = ClientInfo::from_request(&headers, Some(address));
    let next = safe_next(form.next.as_deref());
    let outcome = guarded_register(&state, &client, &form.name, &form.email, &form.password).await;
    let refusal = match outcome {
        Ok(user) => match start_session(&state, &user, &client).await {
            Ok(cookies) => return redirect(&next, cookies),
            Err(failure) => Refusal::Failed(failure),
        },
        Err(refusal) => refusal,
    };
    let page = SignupPage {
        chrome,
        name: form.name.trim().to_owned(),
        email: form.email.trim().to_owned(),
        next,
        error: Some(refusal.message()),
        min_password: aipasta_core::account::MIN_PASSWORD_CHARS,
    };
    with_refusal(render(&page), &refusal)
}

#[derive(Template)]
#[template(path = "auth_signout.html")]
struct SignoutPage {
    chrome: Chrome,
    signed_in: bool,
}

async fn signout_page(chrome: Chrome, identity: Identity) -> Response {
    render(&SignoutPage {
        chrome,
        signed_in: identity.0.is_some(),
    })
}

async fn signout_submit(State(state): State<AppState>, identity: Identity) -> Response {
    let cookies = end_session(&state, &identity).await;
    redirect("/auth/signin?signedout=1", cookies)
}

#[derive(Template)]
#[template(path = "auth_error.html")]
struct ErrorPage {
    chrome: Chrome,
    message: String,
}

#[derive(Deserialize)]
struct ErrorQuery {
    error: Option<String>,
}

async fn error_page(chrome: Chrome, Query(query): Query<ErrorQuery>) -> Response {
    let message = match query.error.as_deref() {
        Some("access_denied") => {
            "You declined to share your account with AI Pasta, so you are not signed in."
        }
        Some("state") => "The sign-in took too long or was started elsewhere. Start again.",
        Some("suspended") => "This account is suspended. Contact the operator of this instance.",
        Some("unverified") => {
            "The provider did not confirm your email address, so it cannot be linked to an account here."
        }
        Some("provider") => {
            "The sign-in provider did not answer as expected. Try again in a moment."
        }
        _ => "Signing in did not work. Try again, or use another way to sign in.",
    };
    let mut response = render(&ErrorPage {
        chrome,
        message: message.to_owned(),
    });
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

#[cfg(test)]
mod tests {
    use super::{DEFAULT_NEXT, safe_next};

    #[test]
    fn next_is_a_path_on_this_site_or_the_default() {
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "\\/\\/evil.example",
            "/\t/evil.example",
            "/\r\n/evil.example",
            "/%09/evil.example",
            "/%0D%0ALocation:%20https://evil.example",
            "/a%00b",
            "/%2F/evil.example",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "/%252F/evil.example",
            "/.//evil.example",
            "/%2e%2e//evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            " //evil.example",
            "",
            "/auth/signout",
        ] {
            assert_eq!(safe_next(Some(hostile)), DEFAULT_NEXT, "{hostile:?}");
        }
        assert_eq!(safe_next(None), DEFAULT_NEXT);
        for kept in [
            "/models",
            "/models?q=claude+opus&sort=name",
            "/playground#chat",
        ] {
            assert_eq!(safe_next(Some(kept)), kept);
        }
        // What is sent is the parser's serialisation: nothing raw reaches the header.
        assert_eq!(safe_next(Some("/models?q=a b")), "/models?q=a%20b");
        assert_eq!(safe_next(Some("/models/./x/../y")), "/models/y");
    }
}
