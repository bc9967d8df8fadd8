//! Runs found again: the "Recent runs" lists (the account's playground generations outside
//! conversations, of every model on the picker, of one model on its page) and
//! `GET /playground/runs/{id}`, a run's input and output rendered on the server, with a form that
//! runs it again with the same input and parameters. Only the caller's own runs: another
//! account's id is a 404, like a made-up one.

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};

use aipasta_providers::generate::{ChatMessage, Role};
use aipasta_store::catalog;
use aipasta_store::generations::{self as stored, GenerationRow, RUN_EXCERPT_CHARS, RunSummary};

use super::form;
use super::modes;
use super::page::{playground_href, stats_line, when};
use crate::auth::Caller;
use crate::catalog::page_reads::unavailable_page;
use crate::chrome::Chrome;
use crate::pages::render;
use crate::state::AppState;
use aipasta_engine::prepare::Mode;

/// One run in a list.
pub struct RunLink {
    pub href: String,
    pub mode: &'static str,
    pub model: String,
    pub excerpt: String,
    pub when: String,
    pub status: &'static str,
    /// `ok`, `bad` or `busy`, for the status's colour.
    pub tone: &'static str,
}

/// The mode a run was made in, as recorded with its parameters (text when unrecorded).
pub fn mode_of(parameters: &str) -> Mode {
    serde_json::from_str::<serde_json::Value>(parameters)
        .ok()
        .and_then(|recorded| recorded.get("mode")?.as_str().and_then(modes::parse))
        .unwrap_or(Mode::Text)
}

/// What a run was asked: its prompt or, since text and code on a chat model send the prompt as
/// a message (and record no prompt), its last user message.
pub fn prompt_of(row: &GenerationRow) -> String {
    if !row.prompt.is_empty() {
        return row.prompt.clone();
    }
    serde_json::from_str::<Vec<ChatMessage>>(&row.messages)
        .ok()
        .and_then(|messages| messages.into_iter().rev().find(|m| m.role == Role::User))
        .map(|message| message.content)
        .unwrap_or_default()
}

/// A status in words, and its tone.
fn status_words(status: &str) -> (&'static str, &'static str) {
    match status {
        "success" => ("Done", "ok"),
        "pending" => ("Running", "busy"),
        "cancelled" => ("Stopped", "busy"),
        "timeout" => ("Timed out", "bad"),
        "interrupted" => ("Interrupted", "bad"),
        _ => ("Failed", "bad"),
    }
}

fn excerpt(prompt: &str) -> String {
    let mut text = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return "(no prompt)".to_owned();
    }
    if prompt.chars().count() >= RUN_EXCERPT_CHARS as usize {
        text.push('…');
    }
    text
}

fn link(run: RunSummary) -> RunLink {
    let (status, tone) = status_words(&run.status);
    RunLink {
        href: format!("/playground/runs/{}", run.id),
        mode: modes::label(mode_of(&run.parameters)),
        model: run
            .model_name
            .unwrap_or_else(|| "A deleted model".to_owned()),
        excerpt: excerpt(&run.prompt_excerpt),
        when: when(run.created_at),
        status,
        tone,
    }
}

/// The caller's recent runs, of one model or of all. A failure is the page's to show (and log):
/// an empty list would claim there are none.
pub async fn links(
    state: &AppState,
    caller: &Caller,
    model_id: Option<&str>,
    limit: i64,
) -> Result<Vec<RunLink>, aipasta_store::DbError> {
    let runs = stored::recent_runs(&state.db, caller.id(), model_id, limit).await?;
    Ok(runs.into_iter().map(link).collect())
}

/// One of the caller's generations; a running one's row is written first, so it can be shown.
pub async fn own_generation(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Option<GenerationRow>, aipasta_engine::GenerationError> {
    state.engine.generation(id, caller.id()).await
}

/// A hidden field of the "Run again" form.
pub struct Hidden {
    pub name: String,
    pub value: String,
}

/// The "Run again" form: the model's playground and the run's input as posted fields.
pub struct Again {
    pub action: String,
    pub fields: Vec<Hidden>,
}

/// One message of a conversation's turn.
pub struct MessageView {
    /// `user`, `assistant` or `system`, for the style.
    pub role: &'static str,
    pub who: &'static str,
    pub content: String,
}

fn message_view(message: ChatMessage) -> MessageView {
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
}

#[derive(Template)]
#[template(path = "playground_run.html")]
struct RunPage {
    chrome: Chrome,
    mode: &'static str,
    model: String,
    /// The model's playground, when the model still exists.
    playground: Option<String>,
    when: String,
    status: &'static str,
    tone: &'static str,
    /// The text so far of a run still going.
    running: bool,
    system_prompt: String,
    prompt: String,
    /// A conversation turn's messages, as sent.
    messages: Vec<MessageView>,
    parameters: Vec<(&'static str, String)>,
    output_html: String,
    images: Vec<String>,
    error: Option<String>,
    stats: String,
    /// An embedding's vector is not stored: say so instead of an empty answer.
    vector_not_kept: bool,
    /// The form that runs it again: its action and fields (none for a conversation's turn or
    /// a deleted model).
    again: Option<Again>,
    edit_href: Option<String>,
    conversation_href: Option<String>,
}

/// `GET /playground/runs/{id}`.
pub async fn view(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let row = match own_generation(&state, &caller, &id).await {
        Ok(Some(row)) => row,
        Ok(None) => return crate::pages::not_found(request).await,
        // The engine logged the cause; 503 when the database is unavailable.
        Err(error) => return crate::error::generation_status(&error).into_response(),
    };
    let model = match &row.model_id {
        // Without its model the page could not offer "Run again", and would not say why.
        Some(model_id) => match catalog::find_model(&state.db, model_id).await {
            Ok(model) => model,
            Err(error) => return unavailable_page("the run's model", &error),
        },
        None => None,
    };
    let mode = mode_of(&row.parameters);
    let running = row.status == "pending";
    let output = match state.engine.live(&row.id) {
        Some(live) if running => live.content(),
        _ => row.output_content.clone(),
    };
    let (status, tone) = status_words(&row.status);
    let parameters = form::recorded_fields(&row.parameters);
    let playground = model.as_ref().map(|m| playground_href(&m.slug));
    let in_conversation = row.session_id.is_some();
    let prompt = prompt_of(&row);
    let again = match (&playground, in_conversation || running) {
        (Some(action), false) => {
            let mut fields = vec![
                hidden("mode", modes::value(mode)),
                hidden("prompt", &prompt),
            ];
            if let Some(system) = row.system_prompt.as_deref().filter(|s| !s.is_empty()) {
                fields.push(hidden("system_prompt", system));
            }
            fields.extend(
                parameters
                    .iter()
                    .map(|(field, _, value)| hidden(field, value)),
            );
            Some(Again {
                action: action.clone(),
                fields,
            })
        }
        _ => None,
    };
    let images = match stored::count_assets(&state.db, &row.id).await {
        Ok(count) => (0..count)
            .map(|i| format!("/api/generations/{}/image?index={i}", row.id))
            .collect(),
        Err(error) => {
            tracing::error!(%error, "could not count a run's images");
            Vec::new()
        }
    };
    let page = RunPage {
        mode: modes::label(mode),
        model: model
            .as_ref()
            .map_or_else(|| "A deleted model".to_owned(), |m| m.display_name.clone()),
        edit_href: playground
            .as_ref()
            .filter(|_| !in_conversation)
            .map(|href| format!("{href}?run={}", row.id)),
        conversation_href: row
            .session_id
            .as_ref()
            .map(|session| format!("/playground?session={session}")),
        playground,
        when: when(row.created_at),
        status,
        tone,
        running,
        system_prompt: row.system_prompt.clone().unwrap_or_default(),
        prompt,
        // A conversation's turn shows what was sent; other runs show their prompt.
        messages: if in_conversation {
            serde_json::from_str::<Vec<ChatMessage>>(&row.messages)
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m.role != Role::System)
                .map(message_view)
                .collect()
        } else {
            Vec::new()
        },
        parameters: parameters
            .into_iter()
            .map(|(_, label, value)| (label, value))
            .collect(),
        output_html: crate::markdown::render_cached(crate::markdown::Style::Answer, vec![output])
            .await
            .pop()
            .unwrap_or_default(),
        images,
        error: row.error_message.clone(),
        stats: if running {
            String::new()
        } else {
            stats_line(
                u64::try_from(row.prompt_tokens).unwrap_or(0),
                u64::try_from(row.completion_tokens).unwrap_or(0),
                row.cost_nanos,
                row.time_to_first_token_ms,
                row.duration_ms.unwrap_or(0),
            )
        },
        vector_not_kept: mode == Mode::Embed && row.status == "success",
        again,
        chrome,
    };
    render(&page)
}

fn hidden(name: &str, value: &str) -> Hidden {
    Hidden {
        name: name.to_owned(),
        value: value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_like_people_write_them() {
        assert_eq!(
            mode_of(r#"{"mode":"translate","targetLanguage":"fr"}"#),
            Mode::Translate
        );
        assert_eq!(mode_of("{}"), Mode::Text);
        assert_eq!(excerpt("  a\n\n b  "), "a b");
        assert_eq!(excerpt(""), "(no prompt)");
        let long = "x".repeat(RUN_EXCERPT_CHARS as usize);
        assert!(excerpt(&long).ends_with('…'));
        assert_eq!(status_words("cancelled"), ("Stopped", "busy"));
    }
}
