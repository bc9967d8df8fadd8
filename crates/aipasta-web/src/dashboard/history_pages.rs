//! `/dashboard/history`: every generation of the account in a table, filtered, searched,
//! sorted and paged by the query string (the same one `/api/users/history` reads), with a form
//! that deletes the rows ticked; and `/dashboard/history/{id}`: one generation whole (its
//! input, or its whole conversation, parameters, rendered output, images, usage and error),
//! with links to open it again in the playground or download it, and a delete form. Plain
//! links and forms: no JavaScript needed. Another account's id is the 404 page.

use askama::Template;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use aipasta_providers::generate::{ChatMessage, Role};
use aipasta_store::catalog;
use aipasta_store::generations::{
    self as stored, GenerationRow, ModelUse, delete_history, history_page, models_used,
    session_generations,
};

use super::filters::{BadFilter, HistoryParams, encode_cursor};
use super::history_view::{
    FILTER_KEYS, FilterForm, POSITION_KEYS, Row, delete_notice, duration, iso, list_href,
    mode_label, money, order_words, parameters, query_of, safe_return, source_label, status_words,
    thousands, value_of, when,
};
use crate::auth::{Access, Caller, Routes};
use crate::catalog::page_reads::{log_failed_read, unavailable_page};
use crate::chrome::Chrome;
use crate::markdown::{Style, render_cached};
use crate::pages::render;
use crate::state::AppState;

/// The most ids one delete form takes (a page shows at most 100).
const MAX_DELETE_IDS: usize = 1_000;
/// The most models the model filter offers.
const MODELS_OFFERED: i64 = 200;
/// The most turns of a conversation one page shows (the oldest first).
const MAX_TURNS: i64 = 500;

pub fn routes() -> Routes {
    use Access::Account;
    Routes::new()
        .get("/dashboard/history", Account, list)
        .post("/dashboard/history/delete", Account, delete_selected)
        .get("/dashboard/history/{id}", Account, entry)
        .post("/dashboard/history/{id}/delete", Account, delete_one)
}

/// What the list holds when it holds nothing.
#[derive(PartialEq, Eq)]
enum Empty {
    /// Rows to show.
    No,
    /// The account has never generated anything (no filter, first page).
    NothingYet,
    /// The filters leave nothing.
    NoMatch,
    /// Past the last row (after deleting the rest of a page, say).
    PastTheEnd,
}

#[derive(Template)]
#[template(path = "dashboard_history.html")]
struct ListPage {
    chrome: Chrome,
    section: &'static str,
    form: FilterForm,
    notice: Option<String>,
    /// The table (empty when the filters were refused).
    rows: Vec<Row>,
    empty: Empty,
    /// "Sorted by time, newest first", over the table.
    summary: String,
    next_href: Option<String>,
    first_href: Option<String>,
    /// This list's address, where a delete comes back to.
    return_to: String,
}

impl ListPage {
    fn nothing_yet(&self) -> bool {
        self.empty == Empty::NothingYet
    }

    fn no_match(&self) -> bool {
        self.empty == Empty::NoMatch
    }

    fn past_the_end(&self) -> bool {
        self.empty == Empty::PastTheEnd
    }
}

/// `GET /dashboard/history`.
async fn list(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let params = params_of(&pairs);
    let used = match models_used(&state.db, caller.id(), 0, MODELS_OFFERED).await {
        Ok(used) => used,
        Err(error) => {
            // The model filter then offers only what the address names; the rest works.
            log_failed_read("models used, for the history's filter", &error);
            Vec::<ModelUse>::new()
        }
    };
    let notice = delete_notice(&pairs);
    let mut filters = match params.read(&state).await {
        Ok(filters) => filters,
        Err(bad) => return refused(chrome, &pairs, &used, notice, bad),
    };
    filters.group_conversations();
    let page = match history_page(&state.db, caller.id(), &filters.query).await {
        Ok(page) => page,
        Err(error) => return unavailable_page("history", &error),
    };
    let query = &filters.query;
    let filtered = FILTER_KEYS.iter().any(|key| {
        !matches!(*key, "sort" | "order" | "group" | "limit") && !value_of(&pairs, key).is_empty()
    });
    let later = query.after.is_some() || query.offset > 0;
    let empty = match (page.items.is_empty(), filtered, later) {
        (false, _, _) => Empty::No,
        (true, _, true) => Empty::PastTheEnd,
        (true, true, false) => Empty::NoMatch,
        (true, false, false) => Empty::NothingYet,
    };
    let next_href = page.next.as_ref().map(|next| {
        let cursor = encode_cursor(next, query.sort, query.descending);
        format!(
            "/dashboard/history{}",
            query_of(&pairs, &FILTER_KEYS, &[("cursor", cursor.as_str())])
        )
    });
    let first_href =
        later.then(|| format!("/dashboard/history{}", query_of(&pairs, &FILTER_KEYS, &[])));
    let page = ListPage {
        section: "history",
        form: FilterForm::new(&pairs, &used, None),
        notice,
        summary: format!(
            "{} shown, {}{}",
            thousands(page.items.len() as i64),
            order_words(query.sort, query.descending),
            if query.conversations && query.search.is_none() {
                ", a conversation as its latest turn"
            } else {
                ""
            }
        ),
        rows: page.items.into_iter().map(Row::of).collect(),
        empty,
        next_href,
        first_href,
        return_to: list_href(&pairs),
        chrome,
    };
    render(&page)
}

/// The query string as [`HistoryParams`], each key's last value taken: a key sent twice (an
/// edited address) is read like the filter form would send it, never refused as a whole.
fn params_of(pairs: &[(String, String)]) -> HistoryParams {
    let keys: Vec<&str> = FILTER_KEYS.iter().chain(&POSITION_KEYS).copied().collect();
    let query = query_of(pairs, &keys, &[]);
    serde_urlencoded::from_str(query.trim_start_matches('?')).unwrap_or_default()
}

/// The form again with the refused value's message beside its field, and no table (400).
fn refused(
    chrome: Chrome,
    pairs: &[(String, String)],
    used: &[ModelUse],
    notice: Option<String>,
    bad: BadFilter,
) -> Response {
    let page = ListPage {
        section: "history",
        form: FilterForm::new(pairs, used, Some(bad)),
        notice,
        rows: Vec::new(),
        empty: Empty::No,
        summary: String::new(),
        next_href: None,
        first_href: None,
        return_to: "/dashboard/history".to_owned(),
        chrome,
    };
    let mut response = render(&page);
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// `location` (a list address from [`safe_return`]) with `extra` added to its query.
fn with_notice(location: &str, extra: &[(&str, String)]) -> String {
    let extra = serde_urlencoded::to_string(extra).unwrap_or_default();
    let joiner = if location.contains('?') { '&' } else { '?' };
    format!("{location}{joiner}{extra}")
}

/// `POST /dashboard/history/delete`: deletes the ticked rows (`ids`) that are the caller's and
/// have ended, and goes back to the list (`return_to`, a history address) saying what it did.
async fn delete_selected(
    State(state): State<AppState>,
    caller: Caller,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let back = safe_return(value_of(&pairs, "return_to"));
    let mut ids: Vec<String> = Vec::new();
    for (key, value) in &pairs {
        let id = value.trim();
        if key == "ids" && !id.is_empty() && !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
    }
    if ids.is_empty() {
        return see_other(&with_notice(&back, &[("notice", "none-selected".into())]));
    }
    if ids.len() > MAX_DELETE_IDS {
        return see_other(&with_notice(&back, &[("notice", "too-many".into())]));
    }
    let outcome = match delete_history(&state.db, caller.id(), &ids).await {
        Ok(outcome) => outcome,
        Err(error) => return unavailable_page("history, to delete from it", &error),
    };
    let mut counts = vec![("deleted", outcome.deleted.len().to_string())];
    if !outcome.running.is_empty() {
        counts.push(("kept", outcome.running.len().to_string()));
    }
    if !outcome.missing.is_empty() {
        counts.push(("missing", outcome.missing.len().to_string()));
    }
    see_other(&with_notice(&back, &counts))
}

/// One turn of a conversation on a generation's page.
struct TurnView {
    href: String,
    asked: String,
    answer_html: String,
    status: &'static str,
    tone: &'static str,
    error: Option<String>,
    /// The generation this page is about.
    current: bool,
}

/// One message of a generation sent as messages.
struct MessageView {
    /// `user`, `assistant` or `system`, for the style.
    role: &'static str,
    who: &'static str,
    content: String,
}

#[derive(Template)]
#[template(path = "dashboard_history_entry.html")]
struct EntryPage {
    chrome: Chrome,
    section: &'static str,
    id: String,
    notice: Option<String>,
    mode: &'static str,
    source: &'static str,
    model: String,
    model_href: Option<String>,
    status: &'static str,
    tone: &'static str,
    running: bool,
    created: String,
    created_iso: String,
    system_prompt: String,
    /// The whole conversation, when the generation is one of its turns.
    turns: Vec<TurnView>,
    /// The conversation is longer than the page shows.
    turns_cut: bool,
    messages: Vec<MessageView>,
    prompt: String,
    parameters: Vec<(String, String)>,
    output_html: String,
    output_raw: String,
    images: Vec<String>,
    /// An embedding's vector is not stored: say so instead of an empty answer.
    vector_not_kept: bool,
    prompt_tokens: String,
    completion_tokens: String,
    total_tokens: String,
    cost: String,
    duration: String,
    first_token: String,
    finish_reason: Option<String>,
    provider: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    /// Opens it again in the playground, with the same input and parameters.
    playground_href: Option<String>,
    /// Why it cannot be opened again, when it cannot.
    playground_note: &'static str,
}

/// `GET /dashboard/history/{id}`.
async fn entry(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
    request: Request,
) -> Response {
    // The engine's read waits for a generation still being written, as the playground's does.
    let row = match state.engine.generation(&id, caller.id()).await {
        Ok(Some(row)) => row,
        Ok(None) => return crate::pages::not_found(request).await,
        Err(error) => return crate::error::generation_status(&error).into_response(),
    };
    let model = match &row.model_id {
        Some(model_id) => match catalog::find_model(&state.db, model_id).await {
            Ok(model) => model,
            Err(error) => return unavailable_page("the generation's model", &error),
        },
        None => None,
    };
    let running = row.status == "pending";
    let output = match state.engine.live(&row.id) {
        Some(live) if running => live.content(),
        _ => row.output_content.clone(),
    };
    let turns = match &row.session_id {
        Some(session) => {
            match session_generations(&state.db, caller.id(), session, MAX_TURNS + 1).await {
                Ok(turns) => turns,
                Err(error) => return unavailable_page("the conversation", &error),
            }
        }
        None => Vec::new(),
    };
    let turns_cut = turns.len() as i64 > MAX_TURNS;
    let images = match stored::count_assets(&state.db, &row.id).await {
        Ok(count) => (0..count)
            .map(|i| format!("/api/generations/{}/image?index={i}", row.id))
            .collect(),
        Err(error) => return unavailable_page("the generation's images", &error),
    };
    // Every answer of the page rendered in one go (finished ones come from the cache).
    let mut sources = vec![output.clone()];
    sources.extend(turns.iter().take(MAX_TURNS as usize).map(|turn| {
        if running && turn.id == row.id {
            output.clone()
        } else {
            turn.output_content.clone()
        }
    }));
    let mut rendered = render_cached(Style::Answer, sources).await.into_iter();
    let output_html = rendered.next().unwrap_or_default();
    let turns: Vec<TurnView> = turns
        .into_iter()
        .take(MAX_TURNS as usize)
        .zip(rendered)
        .map(|(turn, answer_html)| {
            let (status, tone) = status_words(&turn.status);
            TurnView {
                href: format!("/dashboard/history/{}", turn.id),
                current: turn.id == row.id,
                asked: turn.asked,
                answer_html,
                status,
                tone,
                error: turn.error_message,
            }
        })
        .collect();
    let (prompt, messages) = input_of(&row);
    let (playground_href, playground_note) = match (&row.session_id, &model) {
        (Some(session), Some(_)) => (
            Some(format!(
                "/playground?{}",
                serde_urlencoded::to_string([("session", session)]).unwrap_or_default()
            )),
            "",
        ),
        (None, Some(model)) => (
            Some(format!("/models/{}/playground?run={}", model.slug, row.id)),
            "",
        ),
        (_, None) => (
            None,
            "Its model is no longer in the catalog, so it cannot run again.",
        ),
    };
    let (status, tone) = status_words(&row.status);
    let page = EntryPage {
        section: "history",
        notice: (value_of(&pairs, "notice") == "running")
            .then(|| "This generation is still running: stop it first, then delete it.".to_owned()),
        mode: mode_label(&row.mode),
        source: source_label(&row.source),
        model: model.as_ref().map_or_else(
            || {
                row.model_id
                    .clone()
                    .unwrap_or_else(|| "A deleted model".to_owned())
            },
            |m| m.display_name.clone(),
        ),
        model_href: model.as_ref().map(|m| format!("/models/{}", m.slug)),
        status,
        tone,
        running,
        created: when(row.created_at),
        created_iso: iso(row.created_at),
        system_prompt: row.system_prompt.clone().unwrap_or_default(),
        turns_cut,
        turns,
        messages,
        prompt,
        parameters: parameters(&row.parameters),
        output_html,
        output_raw: output,
        images,
        vector_not_kept: row.mode == "embed" && row.status == "success",
        prompt_tokens: thousands(row.prompt_tokens),
        completion_tokens: thousands(row.completion_tokens),
        total_tokens: thousands(row.total_tokens),
        cost: money(row.cost_nanos),
        duration: row.duration_ms.map_or_else(|| "—".to_owned(), duration),
        first_token: row
            .time_to_first_token_ms
            .map_or_else(|| "—".to_owned(), duration),
        finish_reason: row.finish_reason.clone(),
        provider: row.provider.clone(),
        error_code: row.error_code.clone(),
        error_message: row.error_message.clone(),
        playground_href,
        playground_note,
        id: row.id,
        chrome,
    };
    render(&page)
}

/// What a generation was asked, outside a conversation: its prompt, or the messages it sent
/// (one user message alone reads as a prompt: text and code runs on chat models send theirs
/// that way).
fn input_of(row: &GenerationRow) -> (String, Vec<MessageView>) {
    if !row.prompt.is_empty() {
        return (row.prompt.clone(), Vec::new());
    }
    let messages: Vec<ChatMessage> = serde_json::from_str(&row.messages).unwrap_or_default();
    let mut messages: Vec<ChatMessage> = messages
        .into_iter()
        .filter(|m| m.role != Role::System)
        .collect();
    if messages.len() == 1 && messages[0].role == Role::User {
        return (messages.remove(0).content, Vec::new());
    }
    let views = messages
        .into_iter()
        .map(|message| {
            let (role, who) = match message.role {
                Role::User => ("user", "You"),
                Role::Assistant => ("assistant", "Model"),
                Role::System => ("system", "System"),
            };
            MessageView {
                role,
                who,
                content: message.content,
            }
        })
        .collect();
    (String::new(), views)
}

/// `POST /dashboard/history/{id}/delete`: deletes one generation; a running one is kept, with
/// a notice on its page.
async fn delete_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let outcome = match delete_history(&state.db, caller.id(), std::slice::from_ref(&id)).await {
        Ok(outcome) => outcome,
        Err(error) => return unavailable_page("history, to delete from it", &error),
    };
    if let Some(running) = outcome.running.first() {
        return see_other(&format!("/dashboard/history/{running}?notice=running"));
    }
    if outcome.deleted.is_empty() {
        return crate::pages::not_found(request).await;
    }
    see_other("/dashboard/history?deleted=1")
}
