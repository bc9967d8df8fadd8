//! `/admin/providers`: the built-in providers' keys and the OpenAI-compatible endpoints, as
//! plain forms that post and redirect (no JavaScript needed). A refused form renders the page
//! again with the message and what was entered, except the key.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{
    EndpointInput, FirstSync, KeySource, ProviderFailure, background_sync_sentence, builtin_label,
    clear_builtin_key, create_endpoint, delete_endpoint, overview, report_sentence,
    set_builtin_key, sync_provider, update_endpoint, when,
};
use crate::auth::{Access, Caller, Routes};
use crate::chrome::Chrome;
use crate::pages::render;
use crate::state::AppState;

pub fn routes() -> Routes {
    use Access::Admin;
    Routes::new()
        .get("/admin/providers", Admin, page)
        .post("/admin/providers", Admin, create)
        .post("/admin/providers/sync", Admin, sync)
        .post("/admin/providers/{id}/edit", Admin, edit)
        .post("/admin/providers/{id}/delete", Admin, delete)
        .post(
            "/admin/providers/builtin/{provider}/key",
            Admin,
            save_builtin_key,
        )
        .post(
            "/admin/providers/builtin/{provider}/key/delete",
            Admin,
            remove_builtin_key,
        )
}

pub struct BuiltinLine {
    pub provider: &'static str,
    pub label: &'static str,
    /// Where the key in use comes from, in words.
    pub source: &'static str,
    pub stored_hint: Option<String>,
    pub environment_key: bool,
    pub models: i64,
}

pub struct EndpointLine {
    pub id: String,
    pub name: String,
    pub base_url: String,
    pub key_hint: Option<String>,
    pub allow_private: bool,
    pub active: bool,
    pub models: i64,
    pub updated: String,
    /// The edit form is open: its save was refused, and it shows what was entered.
    pub editing: bool,
    /// What its background sync is doing (a failed sync's reason), when one runs.
    pub sync_status: Option<String>,
}

/// The operator's endpoint, from the environment.
pub struct EnvironmentLine {
    pub name: String,
    /// Without any password it may carry.
    pub base_url: String,
    pub has_key: bool,
    pub models: i64,
    /// What its background sync is doing (a failed sync's reason), when one runs.
    pub sync_status: Option<String>,
}

/// What the add form shows: empty, or what was entered when it was refused (never the key).
#[derive(Default)]
pub struct AddValues {
    pub name: String,
    pub base_url: String,
    pub allow_private: bool,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin_providers.html")]
struct ProvidersPage {
    chrome: Chrome,
    notice: Option<String>,
    error: Option<String>,
    builtins: Vec<BuiltinLine>,
    endpoints: Vec<EndpointLine>,
    environment: Vec<EnvironmentLine>,
    add: AddValues,
}

/// What to show besides the current settings.
#[derive(Default)]
struct View {
    notice: Option<String>,
    error: Option<String>,
    add: Option<AddValues>,
    /// A refused edit: the endpoint's id and what was entered.
    edit: Option<(String, EditForm)>,
}

fn source_words(source: KeySource) -> &'static str {
    match source {
        KeySource::Stored => "the key stored here",
        KeySource::Environment => "the key from the environment",
        KeySource::None => "none: its models cannot be used until a key is added",
    }
}

async fn render_page(state: &AppState, chrome: Chrome, view: View, status: StatusCode) -> Response {
    let overview = match overview(state).await {
        Ok(overview) => overview,
        Err(failure) => {
            tracing::error!(?failure, "admin providers page");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let endpoints = overview
        .endpoints
        .iter()
        .map(|(row, models)| {
            let entered = view.edit.as_ref().filter(|(id, _)| *id == row.id);
            EndpointLine {
                id: row.id.clone(),
                name: row.name.clone(),
                base_url: entered
                    .map(|(_, form)| form.base_url.clone())
                    .unwrap_or_else(|| row.base_url.clone()),
                key_hint: row.api_key_hint.clone(),
                allow_private: entered
                    .map_or(row.allow_private, |(_, f)| f.allow_private.is_some()),
                active: entered.map_or(row.is_active, |(_, f)| f.active.is_some()),
                models: *models,
                updated: when(row.updated_at),
                editing: entered.is_some(),
                sync_status: background_sync_sentence(state, &row.name),
            }
        })
        .collect();
    let environment = overview
        .environment
        .into_iter()
        .map(|e| EnvironmentLine {
            sync_status: background_sync_sentence(state, &e.name),
            name: e.name,
            base_url: e.base_url,
            has_key: e.has_key,
            models: e.models,
        })
        .collect();
    let page = ProvidersPage {
        chrome,
        notice: view.notice,
        error: view.error,
        builtins: overview
            .builtins
            .iter()
            .map(|b| BuiltinLine {
                provider: b.provider,
                label: b.label,
                source: source_words(b.source),
                stored_hint: b.stored_hint.clone(),
                environment_key: b.environment_key,
                models: b.models,
            })
            .collect(),
        endpoints,
        environment,
        add: view.add.unwrap_or(AddValues {
            active: true,
            ..AddValues::default()
        }),
    };
    let mut response = render(&page);
    *response.status_mut() = status;
    response
}

fn failure_status(failure: &ProviderFailure) -> StatusCode {
    match failure {
        ProviderFailure::Invalid(_) => StatusCode::BAD_REQUEST,
        ProviderFailure::NotFound(_) => StatusCode::NOT_FOUND,
        ProviderFailure::Conflict(_) => StatusCode::CONFLICT,
        ProviderFailure::Internal(cause) => {
            tracing::error!(%cause, "admin providers");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The page again with `failure`'s message (and `view`'s entered values).
async fn refused(
    state: &AppState,
    chrome: Chrome,
    failure: ProviderFailure,
    mut view: View,
) -> Response {
    let status = failure_status(&failure);
    view.error = Some(failure.message());
    render_page(state, chrome, view, status).await
}

fn back(done: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("/admin/providers?done={done}")) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    done: Option<String>,
    /// How many models a new endpoint's first sync brought.
    models: Option<u64>,
}

/// Where to go after adding an endpoint: the page, saying what its first sync did.
fn created(first_sync: &FirstSync) -> Response {
    match first_sync {
        FirstSync::Done(report) => match &report.result {
            Ok(_) => back(&format!("created-synced&models={}", report.fetched)),
            Err(_) => back("created-failed"),
        },
        FirstSync::Pending => back("created-pending"),
        FirstSync::Off => back("created-off"),
    }
}

async fn page(
    State(state): State<AppState>,
    chrome: Chrome,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let models = query.models.unwrap_or(0);
    let synced = match models {
        0 => "The endpoint is added and synced, but it lists no models.".to_owned(),
        1 => "The endpoint is added and synced: 1 model arrived in the catalog.".to_owned(),
        n => format!("The endpoint is added and synced: {n} models arrived in the catalog."),
    };
    let notice = query.done.as_deref().map(|done| {
        match done {
            "created-synced" => synced.as_str(),
            "created-failed" => {
                "The endpoint is added, but its models could not be fetched; its card below says why. AI Pasta keeps trying in the background, and an edit tries again at once."
            }
            "created-pending" => {
                "The endpoint is added. Its models are still being fetched and appear in the catalog when that finishes."
            }
            "created-off" => {
                "The endpoint is added, turned off: its models are fetched when it is turned on."
            }
            "saved" => "The endpoint is saved.",
            "deleted" => {
                "The endpoint is deleted. Its models stay in the catalog as deprecated, so past generations keep their model."
            }
            "key-saved" => "The key is stored, sealed; only its hint is shown from now on.",
            "key-removed" => "The stored key is removed.",
            _ => "Saved.",
        }
        .to_owned()
    });
    let view = View {
        notice,
        ..View::default()
    };
    render_page(&state, chrome, view, StatusCode::OK).await
}

#[derive(Deserialize)]
struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    api_key: String,
    allow_private: Option<String>,
    active: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Form(form): Form<AddForm>,
) -> Response {
    let input = EndpointInput {
        name: Some(form.name.clone()),
        base_url: Some(form.base_url.clone()),
        api_key: Some(form.api_key),
        allow_private: Some(form.allow_private.is_some()),
        is_active: Some(form.active.is_some()),
    };
    match create_endpoint(&state, caller.id(), &input).await {
        Ok((_, first_sync)) => created(&first_sync),
        Err(failure) => {
            let view = View {
                add: Some(AddValues {
                    name: form.name,
                    base_url: form.base_url,
                    allow_private: form.allow_private.is_some(),
                    active: form.active.is_some(),
                }),
                ..View::default()
            };
            refused(&state, chrome, failure, view).await
        }
    }
}

#[derive(Deserialize, Clone)]
struct EditForm {
    #[serde(default)]
    base_url: String,
    /// Blank keeps the stored key.
    #[serde(default)]
    api_key: String,
    remove_key: Option<String>,
    allow_private: Option<String>,
    active: Option<String>,
}

async fn edit(
    State(state): State<AppState>,
    chrome: Chrome,
    Path(id): Path<String>,
    Form(form): Form<EditForm>,
) -> Response {
    let api_key = if form.remove_key.is_some() {
        Some(String::new())
    } else if form.api_key.trim().is_empty() {
        None
    } else {
        Some(form.api_key.clone())
    };
    let input = EndpointInput {
        name: None,
        base_url: Some(form.base_url.clone()),
        api_key,
        allow_private: Some(form.allow_private.is_some()),
        is_active: Some(form.active.is_some()),
    };
    match update_endpoint(&state, &id, &input).await {
        Ok(_) => back("saved"),
        Err(failure) => {
            let view = View {
                edit: Some((id, form)),
                ..View::default()
            };
            refused(&state, chrome, failure, view).await
        }
    }
}

#[derive(Deserialize)]
struct DeleteForm {
    confirm: Option<String>,
}

async fn delete(
    State(state): State<AppState>,
    chrome: Chrome,
    Path(id): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Response {
    if form.confirm.as_deref() != Some("yes") {
        let failure = ProviderFailure::Invalid(
            "Tick the box to confirm the deletion; nothing was deleted.".into(),
        );
        return refused(&state, chrome, failure, View::default()).await;
    }
    match delete_endpoint(&state, &id).await {
        Ok(_) => back("deleted"),
        Err(failure) => refused(&state, chrome, failure, View::default()).await,
    }
}

#[derive(Deserialize)]
struct SyncForm {
    #[serde(default)]
    provider: String,
}

/// Syncs one provider and shows what changed (or why nothing did) on the page.
async fn sync(
    State(state): State<AppState>,
    chrome: Chrome,
    Form(form): Form<SyncForm>,
) -> Response {
    match sync_provider(&state, form.provider.trim()).await {
        Ok(report) => {
            let sentence = report_sentence(&report);
            let (view, status) = if report.result.is_ok() {
                (
                    View {
                        notice: Some(sentence),
                        ..View::default()
                    },
                    StatusCode::OK,
                )
            } else {
                (
                    View {
                        error: Some(sentence),
                        ..View::default()
                    },
                    StatusCode::BAD_GATEWAY,
                )
            };
            render_page(&state, chrome, view, status).await
        }
        Err(failure) => refused(&state, chrome, failure, View::default()).await,
    }
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    api_key: String,
}

async fn save_builtin_key(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Path(provider): Path<String>,
    Form(form): Form<KeyForm>,
) -> Response {
    match set_builtin_key(&state, &provider, &form.api_key, caller.id()).await {
        Ok(_) => back("key-saved"),
        Err(failure) => {
            let failure = match failure {
                ProviderFailure::Invalid(message) => ProviderFailure::Invalid(format!(
                    "{}: {message}",
                    builtin_label(&provider).unwrap_or("Key")
                )),
                other => other,
            };
            refused(&state, chrome, failure, View::default()).await
        }
    }
}

async fn remove_builtin_key(
    State(state): State<AppState>,
    chrome: Chrome,
    Path(provider): Path<String>,
) -> Response {
    match clear_builtin_key(&state, &provider).await {
        Ok(()) => back("key-removed"),
        Err(failure) => refused(&state, chrome, failure, View::default()).await,
    }
}
