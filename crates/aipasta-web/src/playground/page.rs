//! The playground's pages: the model picker and one model's playground, read-only when signed
//! out, honest about a provider without a key, and able to run a model with a plain form post.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Form, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value, json};

use aipasta_core::money::{Nanos, human_usd};
use aipasta_providers::generate::{ChatMessage, Role};
use aipasta_store::DbError;
use aipasta_store::catalog::{self, ModelQuery, ModelRow};
use aipasta_store::generations::{self as stored, GenerationRow, SessionSummary};
use aipasta_store::presets;

use super::form::{self, Control};
use super::modes;
use super::runs::{self, RunLink};
use super::snippets::{self, Snippet};
use crate::auth::api::ClientInfo;
use crate::auth::{Caller, Identity};
use crate::catalog::ModelCard;
use crate::catalog::page_reads::{Section, log_failed_read, unavailable_page};
use crate::chrome::Chrome;
use crate::dashboard::favorites_pages::{FavoriteStar, Stars};
use crate::pages::render;
use crate::state::AppState;
use aipasta_engine::Source;
use aipasta_engine::prepare::{GenerateInput, Mode, Unsupported};

/// Conversations listed beside the playground.
const CONVERSATIONS: i64 = 30;
/// Recent runs listed on the picker (every model) and on a model's page (that model's).
const RUNS_ON_PICKER: i64 = 12;
const RUNS_ON_MODEL: i64 = 8;
/// The values of a vector shown before "Copy" and "Download" offer the rest.
const VECTOR_PREVIEW: usize = 8;

pub struct ModeTab {
    pub value: &'static str,
    pub label: &'static str,
    pub href: String,
    pub selected: bool,
}

/// One message of the conversation (or, outside chat, the prompt and its answer).
pub struct TurnView {
    /// `user` or `assistant`.
    pub role: &'static str,
    /// Sanitised HTML of the markdown.
    pub html: String,
    /// The text as written, for the script to send back in the next turn.
    pub raw: String,
    pub stats: String,
    pub error: Option<String>,
    pub images: Vec<String>,
    pub generation_id: String,
    pub embedding: Option<EmbeddingView>,
}

/// An embedding's answer: its size, its first values, and the whole vector to copy or download
/// (a `data:` link, so the download works without JavaScript and nothing is stored).
pub struct EmbeddingView {
    pub dimensions: usize,
    /// More than one vector: token-level features, one per token.
    pub vectors: usize,
    pub first: String,
    /// The first vector as a JSON array (or every vector, an array of arrays).
    pub json: String,
    pub download: String,
}

impl EmbeddingView {
    fn of(vectors: &[Vec<f32>]) -> Option<EmbeddingView> {
        let first = vectors.first()?;
        let json = if vectors.len() == 1 {
            serde_json::to_string(first)
        } else {
            serde_json::to_string(vectors)
        }
        .ok()?;
        let mut preview: Vec<String> = first
            .iter()
            .take(VECTOR_PREVIEW)
            .map(|v| format!("{v:.4}"))
            .collect();
        if first.len() > VECTOR_PREVIEW {
            preview.push("…".to_owned());
        }
        // Only digits, signs, dots, exponents, commas and brackets: the last three escaped.
        let encoded = json
            .replace(',', "%2C")
            .replace('[', "%5B")
            .replace(']', "%5D");
        Some(EmbeddingView {
            dimensions: first.len(),
            vectors: vectors.len(),
            first: preview.join(", "),
            download: format!("data:application/json;charset=utf-8,{encoded}"),
            json,
        })
    }
}

pub struct ConversationLink {
    pub href: String,
    pub title: String,
    pub meta: String,
    pub current: bool,
}

pub struct PresetOption {
    pub value: String,
    pub label: String,
    /// JSON object of camelCase parameters.
    pub parameters: String,
    pub system_prompt: String,
}

#[derive(Template)]
#[template(path = "playground.html")]
struct PlaygroundPage {
    chrome: Chrome,
    card: ModelCard,
    slug: String,
    action: String,
    modes: Vec<ModeTab>,
    mode: &'static str,
    mode_kind: Mode,
    /// The system prompt applies: the model takes one and the mode samples text.
    takes_system: bool,
    system_prompt: String,
    prompt: String,
    controls: Vec<Control>,
    signed_in: bool,
    sign_in_href: String,
    unavailable: Option<String>,
    session: String,
    new_chat_href: String,
    turns: Vec<TurnView>,
    conversations: Section<ConversationLink>,
    runs: Section<RunLink>,
    /// Built-in presets, then the caller's saved ones.
    presets: Section<PresetOption>,
    snippets: Vec<Snippet>,
    form_error: Option<String>,
    /// After a post: the message box takes the focus again.
    autofocus: bool,
}

impl PlaygroundPage {
    fn can_send(&self) -> bool {
        self.signed_in && self.unavailable.is_none()
    }

    fn has_advanced(&self) -> bool {
        self.controls.iter().any(|c| c.advanced)
    }

    /// A refused advanced value is shown open, next to its message.
    fn advanced_open(&self) -> bool {
        self.controls
            .iter()
            .any(|c| c.advanced && c.error.is_some())
    }

    fn chat(&self) -> bool {
        self.mode_kind == Mode::Chat
    }

    fn samples(&self) -> bool {
        modes::samples(self.mode_kind)
    }

    fn streams(&self) -> bool {
        modes::streams(self.mode_kind)
    }

    fn input_label(&self) -> &'static str {
        modes::input_label(self.mode_kind)
    }

    fn placeholder(&self) -> &'static str {
        modes::placeholder(self.mode_kind)
    }
}

pub struct PickerRow {
    /// The model's catalog id.
    pub id: String,
    pub href: String,
    pub name: String,
    pub provider: String,
    pub price_in: String,
    pub price_out: String,
    pub context: String,
    /// The favorite star, for a signed-in visitor.
    pub star: Option<FavoriteStar>,
}

#[derive(Template)]
#[template(path = "playground_picker.html")]
struct PickerPage {
    chrome: Chrome,
    search: String,
    /// The caller's favorites, first (when not searching).
    favorites: Section<PickerRow>,
    recent: Section<PickerRow>,
    models: Vec<PickerRow>,
    summary: String,
    conversations: Section<ConversationLink>,
    runs: Section<RunLink>,
}

fn picker_row(model: &ModelRow) -> PickerRow {
    let card = ModelCard::from_row(model);
    PickerRow {
        id: model.id.clone(),
        href: playground_href(&model.slug),
        name: card.name,
        provider: card.provider,
        price_in: card.price_in,
        price_out: card.price_out,
        context: card.context,
        star: None,
    }
}

pub fn playground_href(slug: &str) -> String {
    format!("/models/{slug}/playground")
}

fn caller_of(request_identity: Option<&Identity>) -> Option<Caller> {
    request_identity.and_then(|identity| identity.0.clone())
}

/// A session id as the playground makes them (a UUID); anything else is ignored.
fn valid_session(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// `GET /playground`: search the catalog and pick a model; recently used ones first.
/// `?session=` reopens a conversation on its model's page.
pub async fn picker(
    State(state): State<AppState>,
    chrome: Chrome,
    identity: Identity,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let caller = identity.0;
    if let (Some(caller), Some(session)) = (&caller, form::value(&pairs, "session"))
        && valid_session(session)
    {
        match conversation_model(&state, caller, session).await {
            Ok(Some(model)) => {
                return Redirect::to(&format!(
                    "{}?mode=chat&session={session}",
                    playground_href(&model.slug)
                ))
                .into_response();
            }
            Ok(None) => {}
            // Showing the picker instead would pass for a conversation that is gone.
            Err(error) => return unavailable_page("conversation to reopen", &error),
        }
    }
    let search = form::value(&pairs, "q").unwrap_or("").to_owned();
    let query = ModelQuery {
        search: (!search.is_empty()).then(|| search.clone()),
        page: 1,
        limit: 60,
        ..ModelQuery::default()
    };
    let page = match catalog::list(&state.db, &query).await {
        Ok(page) => page,
        Err(error) => return unavailable_page("playground picker listing", &error),
    };
    let mut models: Vec<PickerRow> = page.models.iter().map(picker_row).collect();
    let mut favorites = Section::empty();
    let mut recent = Section::empty();
    let mut conversations = Section::empty();
    let mut runs = Section::empty();
    if let Some(caller) = &caller {
        let here = if search.is_empty() {
            "/playground".to_owned()
        } else {
            let query = serde_urlencoded::to_string([("q", search.as_str())]).unwrap_or_default();
            format!("/playground?{query}")
        };
        // One query for the stars and the favorites' order; their rows come from the listing
        // or the engine's model cache.
        let stars = match Stars::read(&state, Some(caller), &chrome.csrf, here).await {
            Ok(stars) => stars,
            Err(error) => {
                favorites = Section::read("favorites", Err(error));
                None
            }
        };
        if let Some(stars) = &stars {
            // Favorites first: a list of their own over the whole picker, and first among
            // search results.
            models.sort_by_key(|row| !stars.is_favorite(&row.id));
            if search.is_empty() {
                favorites = Section::of(favorite_rows(&state, stars, &page.models).await);
            }
        }
        if search.is_empty() {
            recent = Section::read(
                "recently used models",
                stored::recent_models(&state.db, caller.id(), 6)
                    .await
                    .map(|models| models.iter().map(picker_row).collect()),
            );
        }
        if let Some(stars) = &stars {
            let rows = models
                .iter_mut()
                .chain(favorites.items.iter_mut())
                .chain(recent.items.iter_mut());
            for row in rows {
                row.star = Some(stars.star(&row.id));
            }
        }
        conversations = conversation_links(&state, caller, None).await;
        runs = Section::read(
            "recent runs",
            runs::links(&state, caller, None, RUNS_ON_PICKER).await,
        );
    }
    let summary = match (page.total, search.is_empty()) {
        (0, false) => format!("No models match “{search}”. Try fewer words."),
        (0, true) => "No models yet: an admin can sync the catalog.".to_owned(),
        (n, _) if n > page.models.len() as i64 => {
            format!(
                "Showing {} of {n} models; search to narrow.",
                page.models.len()
            )
        }
        (n, _) => format!("{n} models"),
    };
    render(&PickerPage {
        chrome,
        search,
        favorites,
        recent,
        models,
        summary,
        conversations,
        runs,
    })
}

/// The picker's rows of the caller's favorites, in their order: from the listing's rows when
/// there, else from the engine's model cache; models no longer listed are left out.
async fn favorite_rows(state: &AppState, stars: &Stars, listed: &[ModelRow]) -> Vec<PickerRow> {
    let mut rows = Vec::with_capacity(stars.ids().len());
    for id in stars.ids() {
        if let Some(model) = listed.iter().find(|m| m.id == *id) {
            rows.push(picker_row(model));
        } else if let Ok(Some(model)) = state.engine.models.get(&state.db, id).await
            && model.is_active
            && model.status != "deprecated"
        {
            rows.push(picker_row(&model));
        }
    }
    rows
}

/// The model a conversation of the caller's last ran, to reopen the conversation on its page;
/// none for an unknown conversation or one whose model was deleted.
async fn conversation_model(
    state: &AppState,
    caller: &Caller,
    session: &str,
) -> Result<Option<ModelRow>, DbError> {
    let latest = stored::latest_in_session(&state.db, caller.id(), session).await?;
    match latest.and_then(|row| row.model_id) {
        Some(model_id) => catalog::find_model(&state.db, &model_id).await,
        None => Ok(None),
    }
}

/// The caller's conversations, `current` marked.
async fn conversation_links(
    state: &AppState,
    caller: &Caller,
    current: Option<&str>,
) -> Section<ConversationLink> {
    Section::read(
        "conversations",
        stored::list_sessions(&state.db, caller.id(), CONVERSATIONS)
            .await
            .map(|sessions| {
                sessions
                    .into_iter()
                    .map(|s| conversation_link(s, current))
                    .collect()
            }),
    )
}

/// A conversation in the list: its first message as its title, its size and its last turn.
fn conversation_link(s: SessionSummary, current: Option<&str>) -> ConversationLink {
    let first_user = serde_json::from_str::<Vec<ChatMessage>>(&s.first_messages)
        .unwrap_or_default()
        .into_iter()
        .find(|m| m.role == Role::User)
        .map(|m| m.content)
        .unwrap_or(s.first_prompt);
    let mut title: String = first_user.trim().chars().take(60).collect();
    if title.is_empty() {
        title = "Untitled conversation".into();
    }
    ConversationLink {
        href: format!("/playground?session={}", s.session_id),
        title,
        meta: format!(
            "{} turn{} · {}",
            s.turns,
            if s.turns == 1 { "" } else { "s" },
            when(s.last_at)
        ),
        current: current == Some(s.session_id.as_str()),
    }
}

pub fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// Why `model` cannot run here right now, in words for the page; `None` when it can.
async fn unavailable(state: &AppState, model: &ModelRow, user_id: &str) -> Option<String> {
    if !model.is_active || model.status == "deprecated" {
        return Some(format!(
            "{} is no longer offered. Pick another model.",
            model.display_name
        ));
    }
    if model.status == "maintenance" {
        return Some(format!(
            "{} is under maintenance. Try again later.",
            model.display_name
        ));
    }
    match state
        .engine
        .directory
        .resolve(&state.db, model, user_id)
        .await
    {
        Ok(_) => None,
        Err(error) => Some(error.message().into_owned()),
    }
}

/// Earlier turns of a conversation, from its latest answered generation.
fn history_of(row: &GenerationRow) -> Vec<ChatMessage> {
    let mut messages: Vec<ChatMessage> = serde_json::from_str::<Vec<ChatMessage>>(&row.messages)
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.role != Role::System)
        .collect();
    if messages.is_empty() && !row.prompt.trim().is_empty() {
        messages.push(ChatMessage {
            role: Role::User,
            content: row.prompt.clone(),
        });
    }
    messages.push(ChatMessage {
        role: Role::Assistant,
        content: row.output_content.clone(),
    });
    messages
}

/// A turn showing `message`; its `html` is filled in by [`render_turns`].
async fn render_turns(turns: &mut [TurnView]) {
    let sources = turns.iter().map(|t| t.raw.clone()).collect();
    let rendered = crate::markdown::render_cached(crate::markdown::Style::Answer, sources).await;
    for (turn, html) in turns.iter_mut().zip(rendered) {
        turn.html = html;
    }
}

fn turn(message: &ChatMessage) -> TurnView {
    TurnView {
        role: if message.role == Role::User {
            "user"
        } else {
            "assistant"
        },
        html: String::new(),
        raw: message.content.clone(),
        stats: String::new(),
        error: None,
        images: Vec::new(),
        generation_id: String::new(),
        embedding: None,
    }
}

/// `1.2 s` or `340 ms`.
fn seconds(ms: i64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// The line under an answer: tokens, cost, time to first token, total time.
pub fn stats_line(
    prompt_tokens: u64,
    completion_tokens: u64,
    cost_nanos: i64,
    ttft_ms: Option<i64>,
    duration_ms: i64,
) -> String {
    let mut parts = vec![
        format!("{prompt_tokens} tokens in"),
        format!("{completion_tokens} out"),
        format!("${}", human_usd(Nanos(cost_nanos).usd())),
    ];
    if let Some(ttft) = ttft_ms {
        parts.push(format!("first token {}", seconds(ttft)));
    }
    parts.push(format!("total {}", seconds(duration_ms)));
    parts.join(" · ")
}

/// What the form holds, posted or fresh.
struct Posted {
    mode: Mode,
    prompt: String,
    system_prompt: Option<String>,
    conversation: Conversation,
}

/// The conversation the page continues (in chat; other modes only carry its id along).
struct Conversation {
    /// Its id: the one the request named, or a new one.
    session: String,
    /// Its latest answered generation, whose messages are the conversation so far.
    latest: Option<GenerationRow>,
}

/// A conversation the request named whose turns could not be read (the error is logged where
/// it is handled).
struct UnreadConversation {
    session: String,
    error: DbError,
}

impl Conversation {
    /// The conversation `asked` names, read back for a signed-in caller in chat, or a new one
    /// (nothing to read: its id has just been made). A failed read is an error, not an empty
    /// conversation: shown empty, the next message would be sent without the earlier ones.
    async fn open(
        state: &AppState,
        caller: Option<&Caller>,
        mode: Mode,
        asked: Option<&str>,
    ) -> Result<Conversation, UnreadConversation> {
        let Some(session) = asked.filter(|s| valid_session(s)).map(str::to_owned) else {
            return Ok(Conversation {
                session: uuid::Uuid::new_v4().to_string(),
                latest: None,
            });
        };
        let Some(caller) = caller.filter(|_| mode == Mode::Chat) else {
            return Ok(Conversation {
                session,
                latest: None,
            });
        };
        match stored::latest_in_session(&state.db, caller.id(), &session).await {
            Ok(latest) => Ok(Conversation { session, latest }),
            Err(error) => Err(UnreadConversation { session, error }),
        }
    }
}

impl PlaygroundPage {
    /// One model's playground for `caller` (none when signed out): the form as `posted` left
    /// it, the conversation so far, and the side sections (recent runs, conversations,
    /// presets), each of which shows a notice instead of its list when that cannot be read.
    #[allow(clippy::too_many_arguments)] // one page's inputs, each from its own place
    async fn build(
        state: &AppState,
        chrome: Chrome,
        headers: &HeaderMap,
        caller: Option<&Caller>,
        model: &ModelRow,
        offered: &[Mode],
        posted: Posted,
        controls: Vec<Control>,
    ) -> PlaygroundPage {
        let mode = posted.mode;
        let href = playground_href(&model.slug);
        let Conversation { session, latest } = posted.conversation;
        let mut system_prompt = posted.system_prompt.unwrap_or_default();
        let mut turns = Vec::new();
        if let Some(row) = &latest {
            turns = conversation_turns(row).await;
            if system_prompt.is_empty() {
                system_prompt = row.system_prompt.clone().unwrap_or_default();
            }
        }
        let (conversations, runs) = match caller {
            Some(caller) => (
                conversation_links(state, caller, Some(&session)).await,
                Section::read(
                    "recent runs",
                    runs::links(state, caller, Some(&model.id), RUNS_ON_MODEL).await,
                ),
            ),
            None => (Section::empty(), Section::empty()),
        };
        let presets = preset_options(state, caller, mode, &controls).await;
        let unavailable_note = unavailable(state, model, caller.map_or("", |c| c.id())).await;
        let takes_system = model.supports_system_prompt && modes::samples(mode);
        let base = crate::site::base_url(state, headers);
        let snippets = snippets::snippets(&snippets::Request {
            base: &base,
            model: &model.slug,
            mode: modes::value(mode),
            prompt: &posted.prompt,
            system: if takes_system { &system_prompt } else { "" },
            parameters: &sent_parameters(&controls),
        });
        let mut card = ModelCard::from_row(model);
        // The chosen model's own star, beside its name (the picker's rows have theirs); it
        // comes back to this mode.
        let here = if offered.first() == Some(&mode) {
            chrome.path.clone()
        } else {
            format!("{}?mode={}", chrome.path, modes::value(mode))
        };
        card.star = Stars::for_page(state, caller, &chrome.csrf, here)
            .await
            .map(|stars| stars.star(&model.id));
        PlaygroundPage {
            card,
            action: href.clone(),
            modes: mode_tabs(offered, mode, &href),
            mode: modes::value(mode),
            mode_kind: mode,
            takes_system,
            system_prompt,
            prompt: posted.prompt,
            controls,
            signed_in: caller.is_some(),
            sign_in_href: sign_in_href(&chrome.path),
            unavailable: unavailable_note,
            session,
            new_chat_href: format!("{href}?mode=chat"),
            turns,
            conversations,
            runs,
            presets,
            snippets,
            form_error: None,
            autofocus: false,
            slug: model.slug.clone(),
            chrome,
        }
    }
}

/// The conversation so far as turns, rendered; its last answer carries its generation's id,
/// by which the script recognises it when it reattaches after a reload.
async fn conversation_turns(latest: &GenerationRow) -> Vec<TurnView> {
    let mut turns: Vec<TurnView> = history_of(latest).iter().map(turn).collect();
    render_turns(&mut turns).await;
    if let Some(last) = turns.last_mut() {
        last.generation_id = latest.id.clone();
    }
    turns
}

/// The presets the form offers, in modes that sample: the built-in ones, then the caller's
/// saved ones, which a failed read leaves out with a notice (the built-in ones still work).
async fn preset_options(
    state: &AppState,
    caller: Option<&Caller>,
    mode: Mode,
    controls: &[Control],
) -> Section<PresetOption> {
    if !modes::samples(mode) {
        return Section::empty();
    }
    let mut options = builtin_presets(controls);
    let Some(caller) = caller else {
        return Section::of(options);
    };
    let saved = Section::read(
        "saved presets",
        presets::list_presets(&state.db, caller.id())
            .await
            .map(|saved| {
                saved
                    .into_iter()
                    .map(|preset| PresetOption {
                        value: preset.id,
                        label: preset.name,
                        parameters: preset.parameters,
                        system_prompt: preset.system_prompt.unwrap_or_default(),
                    })
                    .collect()
            }),
    );
    options.extend(saved.items);
    Section {
        items: options,
        unreadable: saved.unreadable,
    }
}

/// The parameters the API code shows: those set to something other than the model's default.
fn sent_parameters(controls: &[Control]) -> Map<String, Value> {
    let mut parameters = Map::new();
    for control in controls {
        if control.value.is_empty() || control.value == control.default {
            continue;
        }
        let value = match control.field {
            "stop" => json!(
                control
                    .value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            ),
            _ if control.text() => json!(control.value),
            _ => control
                .value
                .parse::<f64>()
                .map_or(Value::Null, |v| json!(v)),
        };
        if !value.is_null() {
            parameters.insert(control.field.to_owned(), value);
        }
    }
    parameters
}

/// A tab per mode the model offers, the page's own marked.
fn mode_tabs(offered: &[Mode], mode: Mode, href: &str) -> Vec<ModeTab> {
    offered
        .iter()
        .map(|&offered| ModeTab {
            value: modes::value(offered),
            label: modes::label(offered),
            href: format!("{href}?mode={}", modes::value(offered)),
            selected: offered == mode,
        })
        .collect()
}

/// Sign-in that comes back to this page.
fn sign_in_href(path: &str) -> String {
    format!(
        "/auth/signin?next={}",
        serde_urlencoded::to_string([("", path)])
            .unwrap_or_default()
            .trim_start_matches('=')
    )
}

fn builtin_presets(controls: &[Control]) -> Vec<PresetOption> {
    if !controls.iter().any(|c| c.field == "temperature") {
        return Vec::new();
    }
    let top_p = controls.iter().any(|c| c.field == "topP");
    [
        ("precise", "Precise", 0.2, 0.9),
        ("balanced", "Balanced", 0.7, 1.0),
        ("creative", "Creative", 1.2, 1.0),
    ]
    .into_iter()
    .map(|(value, label, temperature, p)| {
        let mut parameters = json!({"temperature": temperature});
        if top_p {
            parameters["topP"] = json!(p);
        }
        PresetOption {
            value: format!("builtin:{value}"),
            label: label.to_owned(),
            parameters: parameters.to_string(),
            system_prompt: String::new(),
        }
    })
    .collect()
}

/// `GET /models/{id}/playground`, reached through the catalog's `/models/{*rest}` handler.
/// `?run={id}` fills the form from one of the caller's runs of this model, to change and send.
pub async fn open(
    state: &AppState,
    chrome: Chrome,
    model_ref: &str,
    pairs: &[(String, String)],
    request: Request,
) -> Response {
    let model = match catalog::find_model(&state.db, model_ref).await {
        Ok(Some(model)) => model,
        Ok(None) => return crate::pages::not_found(request).await,
        Err(error) => return unavailable_page("model", &error),
    };
    let caller = caller_of(request.extensions().get::<Identity>());
    let offered = modes::offered(&model);
    let mut asked_mode = form::value(pairs, "mode").map(str::to_owned);
    let mut prompt = form::value(pairs, "prompt").unwrap_or("").to_owned();
    let mut system_prompt = None;
    let mut recorded = Vec::new();
    let run_to_edit = match (&caller, form::value(pairs, "run")) {
        (Some(caller), Some(run_id)) => match runs::own_generation(state, caller, run_id).await {
            Ok(run) => run,
            // An empty form would pass for the run asked for. The engine logged the cause.
            Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        },
        _ => None,
    };
    if let Some(run) = run_to_edit
        && run.model_id.as_deref() == Some(model.id.as_str())
        && run.session_id.is_none()
    {
        asked_mode = Some(modes::value(runs::mode_of(&run.parameters)).to_owned());
        prompt = runs::prompt_of(&run);
        system_prompt = run.system_prompt;
        recorded = form::recorded_fields(&run.parameters);
    }
    let mode = modes::choose(&offered, asked_mode.as_deref());
    let mut controls = form::controls(&model, mode);
    for control in &mut controls {
        if let Some((_, _, value)) = recorded
            .iter()
            .find(|(field, _, _)| *field == control.field)
        {
            control.value = value.clone();
        }
    }
    let asked_session = form::value(pairs, "session");
    let conversation = match Conversation::open(state, caller.as_ref(), mode, asked_session).await {
        Ok(conversation) => conversation,
        Err(unread) => return unavailable_page("conversation", &unread.error),
    };
    let posted = Posted {
        mode,
        prompt,
        system_prompt,
        conversation,
    };
    let page = PlaygroundPage::build(
        state,
        chrome,
        request.headers(),
        caller.as_ref(),
        &model,
        &offered,
        posted,
        controls,
    )
    .await;
    render(&page)
}

/// `POST /models/{id}/playground`: runs the model without streaming and shows the answer.
pub async fn run(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Path(rest): Path<String>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let rest = rest.trim_matches('/');
    let Some(model_ref) = rest.strip_suffix("/playground") else {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    };
    let model = match catalog::find_model(&state.db, model_ref).await {
        Ok(Some(model)) => model,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(error) => return unavailable_page("model", &error),
    };
    let offered = modes::offered(&model);
    let mode = modes::choose(&offered, form::value(&pairs, "mode"));
    let mut controls = form::controls(&model, mode);
    let parameters = form::read(&mut controls, &pairs);
    let prompt = pairs
        .iter()
        .rev()
        .find(|(k, _)| k == "prompt")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let asked_session = form::value(&pairs, "session");
    let (conversation, conversation_unread) =
        match Conversation::open(&state, Some(&caller), mode, asked_session).await {
            Ok(conversation) => (conversation, false),
            Err(unread) => {
                log_failed_read("conversation", &unread.error);
                let conversation = Conversation {
                    session: unread.session,
                    latest: None,
                };
                (conversation, true)
            }
        };
    let posted = Posted {
        mode,
        prompt: prompt.clone(),
        system_prompt: form::value(&pairs, "system_prompt").map(str::to_owned),
        conversation,
    };
    let mut page = PlaygroundPage::build(
        &state,
        chrome,
        &headers,
        Some(&caller),
        &model,
        &offered,
        posted,
        controls,
    )
    .await;
    page.autofocus = true;
    if conversation_unread {
        // Sent without its earlier turns, the message would start the conversation over; the
        // page keeps what was typed, to send once the conversation can be read.
        page.form_error = Some(
            "This conversation could not be loaded right now, so nothing was sent. Try again in a moment."
                .into(),
        );
        return not_sent(&page);
    }
    let parameters = match parameters {
        Ok(parameters) => parameters,
        Err(message) => {
            page.form_error = Some(message);
            return unprocessable(&page);
        }
    };
    if prompt.trim().is_empty() {
        page.form_error = Some("Write a prompt first.".into());
        return unprocessable(&page);
    }
    if let Some(note) = &page.unavailable {
        page.form_error = Some(note.clone());
        return unprocessable(&page);
    }
    let chat = page.chat();
    let user_message = ChatMessage {
        role: Role::User,
        content: prompt.clone(),
    };
    let mut messages: Vec<ChatMessage> = if chat {
        page.turns
            .iter()
            .map(|t| ChatMessage {
                role: if t.role == "user" {
                    Role::User
                } else {
                    Role::Assistant
                },
                content: t.raw.clone(),
            })
            .collect()
    } else {
        page.turns.clear();
        Vec::new()
    };
    messages.push(user_message.clone());
    let system = page.system_prompt.trim().to_owned();
    let input = GenerateInput {
        prompt: (!chat).then(|| prompt.clone()),
        messages: chat.then_some(messages),
        system_prompt: (page.takes_system && !system.is_empty()).then_some(system),
        parameters,
        mode: Some(mode),
        stream: false,
        session_id: chat.then(|| page.session.clone()),
    };
    let client = ClientInfo::from_request(&headers, Some(address));
    let mut asked = turn(&user_message);
    render_turns(std::slice::from_mut(&mut asked)).await;
    page.turns.push(asked);
    let mut answer = TurnView {
        role: "assistant",
        html: String::new(),
        raw: String::new(),
        stats: String::new(),
        error: None,
        images: Vec::new(),
        generation_id: String::new(),
        embedding: None,
    };
    match crate::generations::begin(
        &state,
        &caller,
        &model.slug,
        &input,
        Source::Playground,
        Unsupported::Refuse,
        &client,
    )
    .await
    {
        Err(error) => answer.error = Some(error.message().into_owned()),
        Ok(live) => {
            let outcome = live.wait().await;
            answer.generation_id = live.id.clone();
            answer.raw = outcome.content.clone();
            render_turns(std::slice::from_mut(&mut answer)).await;
            answer.stats = stats_line(
                outcome.usage.prompt_tokens,
                outcome.usage.completion_tokens,
                outcome.cost_nanos,
                outcome.time_to_first_token_ms,
                outcome.duration_ms,
            );
            answer.images = (0..outcome.images.len())
                .map(|i| format!("/api/generations/{}/image?index={i}", live.id))
                .collect();
            answer.embedding = EmbeddingView::of(&outcome.embeddings);
            answer.error = outcome.error.as_ref().map(|e| e.message().into_owned());
        }
    }
    if answer.error.is_none() && chat {
        page.prompt.clear();
    }
    page.turns.push(answer);
    if chat {
        page.conversations = conversation_links(&state, &caller, Some(&page.session)).await;
    }
    render(&page)
}

fn unprocessable(page: &PlaygroundPage) -> Response {
    let mut response = render(page);
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}

/// The page with its form as posted, for a message that could not be sent because the
/// database could not be read: 503, since the same post may well work in a moment.
fn not_sent(page: &PlaygroundPage) -> Response {
    let mut response = render(page);
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_read_like_people_write_them() {
        assert_eq!(
            stats_line(12, 30, 1_500_000, Some(250), 1_300),
            "12 tokens in · 30 out · $0.0015 · first token 250 ms · total 1.3 s"
        );
        assert!(valid_session("0193c0de-0000-7000-8000-000000000000"));
        assert!(!valid_session("x'; drop"));
    }

    #[test]
    fn a_vector_shows_its_size_and_first_values_and_downloads_whole() {
        let vector: Vec<f32> = (0..20).map(|i| i as f32 / 8.0 - 1.0).collect();
        let view = EmbeddingView::of(std::slice::from_ref(&vector)).unwrap();
        assert_eq!((view.dimensions, view.vectors), (20, 1));
        assert_eq!(
            view.first,
            "-1.0000, -0.8750, -0.7500, -0.6250, -0.5000, -0.3750, -0.2500, -0.1250, …"
        );
        let sent: Vec<f32> = serde_json::from_str(&view.json).unwrap();
        assert_eq!(sent, vector);
        let encoded = view
            .download
            .strip_prefix("data:application/json;charset=utf-8,")
            .unwrap();
        assert!(!encoded.contains([',', '[', ']']), "{encoded}");
        let decoded = encoded
            .replace("%2C", ",")
            .replace("%5B", "[")
            .replace("%5D", "]");
        assert_eq!(decoded, view.json);
        assert!(EmbeddingView::of(&[]).is_none());
        let tokens = EmbeddingView::of(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
        assert_eq!((tokens.dimensions, tokens.vectors), (2, 2));
        assert_eq!(tokens.json, "[[1.0,2.0],[3.0,4.0]]");
    }
}
