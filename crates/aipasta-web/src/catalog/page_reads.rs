//! What the catalog's and the playground's pages do when a database read fails.
//!
//! When the page's main content cannot be read (the model, the listing, the conversation or run
//! the address names), there is nothing honest to show: the answer is the HTML error page with
//! 503, since the same request may well work in a moment. When only a side section cannot be
//! read (the filters' lists, a model's tags or related models, recent runs, conversations, saved
//! presets), the rest of the page is still worth showing, but the section must say that it
//! could not be loaded: shown empty, it would tell the user something false ("you have no
//! conversations"). Either way the cause is logged once, here, and never shown.

use aipasta_store::DbError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Logs a failed read of `what` once: a warning when the database is unavailable (it passes on
/// its own), an error otherwise (a fault someone has to mend).
pub fn log_failed_read(what: &'static str, error: &DbError) {
    if error.is_unavailable() {
        tracing::warn!(%error, what, "a page could not read from the database");
    } else {
        tracing::error!(%error, what, "a page could not read from the database");
    }
}

/// The page cannot be shown without `what`: logs why and answers 503, which the `respond`
/// middleware turns into the HTML error page.
pub fn unavailable_page(what: &'static str, error: &DbError) -> Response {
    log_failed_read(what, error);
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

/// A side section of a page, read on its own: what it lists, and whether that could be read,
/// so that its template shows a notice rather than an empty list that would mislead.
pub struct Section<T> {
    pub items: Vec<T>,
    /// The read failed (and was logged): the section says so instead of listing nothing.
    pub unreadable: bool,
}

impl<T> Section<T> {
    /// A section with nothing to read, such as a signed-out visitor's conversations.
    pub fn empty() -> Section<T> {
        Section::of(Vec::new())
    }

    /// A section whose items are already at hand.
    pub fn of(items: Vec<T>) -> Section<T> {
        Section {
            items,
            unreadable: false,
        }
    }

    /// The section `result` gives: its items, or, logged, the fact that `what` failed to load.
    pub fn read(what: &'static str, result: Result<Vec<T>, DbError>) -> Section<T> {
        match result {
            Ok(items) => Section::of(items),
            Err(error) => {
                log_failed_read(what, &error);
                Section {
                    items: Vec::new(),
                    unreadable: true,
                }
            }
        }
    }

    /// Whether the page shows the section at all: it has something to list, or it has to say
    /// that its list could not be loaded.
    pub fn shown(&self) -> bool {
        self.unreadable || !self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure() -> DbError {
        DbError::Timeout
    }

    #[test]
    fn a_section_that_failed_to_load_is_shown_to_say_so() {
        let failed: Section<u8> = Section::read("runs", Err(failure()));
        assert!(failed.unreadable && failed.items.is_empty());
        assert!(failed.shown(), "a failed section is not hidden as if empty");

        let nothing: Section<u8> = Section::read("runs", Ok(Vec::new()));
        assert!(!nothing.unreadable && !nothing.shown());
        let some = Section::read("runs", Ok(vec![1, 2]));
        assert!(!some.unreadable && some.shown());
        assert_eq!(some.items, [1, 2]);
    }

    #[test]
    fn a_page_without_its_main_content_is_a_503() {
        let response = unavailable_page("model", &failure());
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
