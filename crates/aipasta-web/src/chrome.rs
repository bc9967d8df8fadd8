//! The page chrome every HTML page shares: theme, navigation and asset URLs.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;

use aipasta_core::VERSION;

/// The colour theme a visitor chose; `System` follows the operating system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    Light,
    Dark,
    #[default]
    System,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::Light, Theme::Dark, Theme::System];

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::System => "system",
        }
    }

    pub fn parse(value: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.as_str() == value)
    }

    fn label(self) -> &'static str {
        match self {
            Theme::Light => "Light",
            Theme::Dark => "Dark",
            Theme::System => "System",
        }
    }
}

/// The cookie that remembers the theme (also written by `app.js`).
pub const THEME_COOKIE: &str = "theme";

/// A named cookie's value from a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub struct ThemeChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub pressed: bool,
}

/// The main navigation, in order. Later features add their pages here.
const NAV: &[(&str, &str)] = &[
    ("/", "Home"),
    ("/models", "Models"),
    ("/playground", "Playground"),
    ("/docs/api", "API"),
    ("/about", "About"),
    ("/contact", "Contact"),
];

/// The signed-in person, as the header shows them.
pub struct ChromeUser {
    pub name: String,
}

/// What the base layout needs, read from the request.
pub struct Chrome {
    pub theme: Theme,
    pub path: String,
    pub version: &'static str,
    /// This browser's CSRF token, for forms.
    pub csrf: String,
    pub user: Option<ChromeUser>,
    /// This month's usage passed one of the person's alert thresholds: a banner says so.
    pub usage_alert: Option<crate::dashboard::alerts::UsageAlert>,
}

impl Chrome {
    pub fn asset(&self, name: &str) -> &'static str {
        crate::assets::url(name)
    }

    pub fn nav(&self) -> Vec<NavItem> {
        // A model's playground (`/models/{id}/playground`) belongs to the playground section.
        let path = if self.path.ends_with("/playground") {
            "/playground"
        } else {
            self.path.as_str()
        };
        NAV.iter()
            .map(|&(href, label)| NavItem {
                href,
                label,
                current: path == href
                    || (href != "/"
                        && path
                            .strip_prefix(href)
                            .is_some_and(|rest| rest.starts_with('/'))),
            })
            .collect()
    }

    pub fn theme_choices(&self) -> Vec<ThemeChoice> {
        Theme::ALL
            .into_iter()
            .map(|theme| ThemeChoice {
                value: theme.as_str(),
                label: theme.label(),
                pressed: theme == self.theme,
            })
            .collect()
    }
}

impl FromRequestParts<crate::state::AppState> for Chrome {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::state::AppState,
    ) -> Result<Chrome, Infallible> {
        let mut chrome = Chrome::from_parts(parts);
        // A signed-in person's usage against their thresholds: in memory for a minute, so a
        // page costs no query most of the time.
        if let Some(caller) = parts
            .extensions
            .get::<crate::auth::Identity>()
            .and_then(|identity| identity.0.as_ref())
        {
            chrome.usage_alert = crate::dashboard::alerts::usage_alert(state, &caller.user).await;
        }
        Ok(chrome)
    }
}

impl Chrome {
    pub fn from_parts(parts: &Parts) -> Chrome {
        let caller = parts
            .extensions
            .get::<crate::auth::Identity>()
            .and_then(|identity| identity.0.as_ref());
        // A signed-in person's saved theme wins over the browser's cookie.
        let theme = caller
            .and_then(|c| Theme::parse(&c.user.theme))
            .filter(|t| *t != Theme::System)
            .or_else(|| cookie(&parts.headers, THEME_COOKIE).and_then(Theme::parse))
            .unwrap_or_default();
        Chrome {
            theme,
            path: parts.uri.path().to_string(),
            version: VERSION,
            csrf: parts
                .extensions
                .get::<crate::auth::csrf::CsrfToken>()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
            user: caller.map(|c| ChromeUser {
                name: c.user.name.clone(),
            }),
            usage_alert: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(cookie_header: &str) -> Parts {
        let (parts, ()) = Request::builder()
            .uri("/about")
            .header(COOKIE, cookie_header)
            .body(())
            .map(Request::into_parts)
            .unwrap_or_else(|e| panic!("{e}"));
        parts
    }

    #[test]
    fn theme_comes_from_the_cookie_and_defaults_to_system() {
        assert_eq!(
            Chrome::from_parts(&parts("a=1; theme=dark")).theme,
            Theme::Dark
        );
        assert_eq!(
            Chrome::from_parts(&parts("theme=purple")).theme,
            Theme::System
        );
        assert_eq!(Chrome::from_parts(&parts("")).theme, Theme::System);
    }

    #[test]
    fn navigation_marks_the_current_page() {
        let chrome = Chrome::from_parts(&parts(""));
        let current: Vec<_> = chrome.nav().into_iter().filter(|i| i.current).collect();
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].href, "/about");
    }
}
