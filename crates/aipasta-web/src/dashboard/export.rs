//! `GET /api/users/history/export`: the caller's history, with the list's filters and order,
//! as JSON, CSV or Markdown. Streamed a page of rows at a time (the store's keyset cursor),
//! read a page ahead of the writing, so memory stays flat whatever the size; CSV cells that a
//! spreadsheet would run as a formula are defused.

use std::borrow::Cow;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

use aipasta_store::generations::{HistoryQuery, HistoryRecord, MAX_EXPORT_PAGE, history_records};
use aipasta_store::{Db, DbError};
use tokio::sync::mpsc;

use super::filters::HistoryParams;
use crate::api::Failure;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::generations::usd;
use crate::state::AppState;

/// The export's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Markdown,
}

impl Format {
    fn parse(text: Option<&str>) -> Option<Format> {
        match text.map(str::trim) {
            None | Some("" | "json") => Some(Format::Json),
            Some("csv") => Some(Format::Csv),
            Some("md" | "markdown") => Some(Format::Markdown),
            Some(_) => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "md",
        }
    }
}

/// The export's format; the history filters (`HistoryParams`) apply too.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportFormat {
    /// `json` (default), `csv` or `md`.
    format: Option<String>,
}

/// One generation in a JSON export.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryExportItem<'a> {
    id: &'a str,
    /// RFC 3339, UTC.
    created_at: String,
    /// The model's slug (its id once the model was deleted).
    model: Option<&'a str>,
    model_name: Option<&'a str>,
    provider: Option<&'a str>,
    mode: &'a str,
    source: &'a str,
    status: &'a str,
    session_id: Option<&'a str>,
    /// What was asked: the prompt, or the last message when the prompt went as messages.
    prompt: Cow<'a, str>,
    system_prompt: Option<&'a str>,
    /// The conversation sent: `[{role, content}]`.
    #[schema(value_type = Object)]
    messages: Value,
    /// The parameters sent.
    #[schema(value_type = Object)]
    parameters: Value,
    output: &'a str,
    finish_reason: Option<&'a str>,
    prompt_tokens: i64,
    completion_tokens: i64,
    total_tokens: i64,
    /// USD.
    cost: Option<f64>,
    cost_nanos: i64,
    /// Milliseconds.
    duration: Option<i64>,
    /// Milliseconds.
    time_to_first_token: Option<i64>,
    error_code: Option<&'a str>,
    error_message: Option<&'a str>,
}

fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

impl<'a> HistoryExportItem<'a> {
    fn new(record: &'a HistoryRecord) -> HistoryExportItem<'a> {
        let row = &record.row;
        let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
        HistoryExportItem {
            id: &row.id,
            created_at: rfc3339(row.created_at),
            model: record.model_slug.as_deref().or(row.model_id.as_deref()),
            model_name: record.model_name.as_deref(),
            provider: row.provider.as_deref(),
            mode: &row.mode,
            source: &row.source,
            status: &row.status,
            session_id: row.session_id.as_deref(),
            prompt: asked(record),
            system_prompt: row.system_prompt.as_deref(),
            messages: parse(&row.messages),
            parameters: parse(&row.parameters),
            output: &row.output_content,
            finish_reason: row.finish_reason.as_deref(),
            prompt_tokens: row.prompt_tokens,
            completion_tokens: row.completion_tokens,
            total_tokens: row.total_tokens,
            cost: usd(row.cost_nanos),
            cost_nanos: row.cost_nanos,
            duration: row.duration_ms,
            time_to_first_token: row.time_to_first_token_ms,
            error_code: row.error_code.as_deref(),
            error_message: row.error_message.as_deref(),
        }
    }
}

/// A CSV cell: quoted when it must be (RFC 4180), and a text a spreadsheet would read as a
/// formula (`=`, `+`, `-`, `@`, a tab or a carriage return first) is prefixed with `'`.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = formula || text.contains([',', '"', '\n', '\r']);
    if !quoted {
        return Cow::Borrowed(text);
    }
    let mut cell = String::with_capacity(text.len() + 4);
    cell.push('"');
    if formula {
        cell.push('\'');
    }
    cell.push_str(&text.replace('"', "\"\""));
    cell.push('"');
    Cow::Owned(cell)
}

const CSV_HEADER: &str = "id,created_at,model,mode,source,status,session_id,system_prompt,\
prompt,output,prompt_tokens,completion_tokens,total_tokens,cost_usd,duration_ms,\
time_to_first_token_ms,error_code,error_message\r\n";

/// What a prompt is for a generation whose prompt went as messages: its last message.
fn asked(record: &HistoryRecord) -> Cow<'_, str> {
    let row = &record.row;
    if !row.prompt.is_empty() {
        return Cow::Borrowed(&row.prompt);
    }
    serde_json::from_str::<Value>(&row.messages)
        .ok()
        .and_then(|messages| {
            messages
                .as_array()?
                .last()?
                .get("content")?
                .as_str()
                .map(str::to_owned)
        })
        .map_or(Cow::Borrowed(""), Cow::Owned)
}

fn write_csv(out: &mut String, record: &HistoryRecord) {
    let row = &record.row;
    let optional = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let cells: [Cow<'_, str>; 18] = [
        Cow::Borrowed(row.id.as_str()),
        Cow::Owned(rfc3339(row.created_at)),
        Cow::Borrowed(
            record
                .model_slug
                .as_deref()
                .or(row.model_id.as_deref())
                .unwrap_or(""),
        ),
        Cow::Borrowed(&row.mode),
        Cow::Borrowed(&row.source),
        Cow::Borrowed(&row.status),
        Cow::Borrowed(row.session_id.as_deref().unwrap_or("")),
        Cow::Borrowed(row.system_prompt.as_deref().unwrap_or("")),
        asked(record),
        Cow::Borrowed(&row.output_content),
        Cow::Owned(row.prompt_tokens.to_string()),
        Cow::Owned(row.completion_tokens.to_string()),
        Cow::Owned(row.total_tokens.to_string()),
        Cow::Owned(aipasta_core::money::Nanos(row.cost_nanos).usd().to_string()),
        Cow::Owned(optional(row.duration_ms)),
        Cow::Owned(optional(row.time_to_first_token_ms)),
        Cow::Borrowed(row.error_code.as_deref().unwrap_or("")),
        Cow::Borrowed(row.error_message.as_deref().unwrap_or("")),
    ];
    for (index, cell) in cells.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&csv_cell(cell));
    }
    out.push_str("\r\n");
}

/// A fence longer than any run of backticks in `text`, so the text cannot close it.
fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for ch in text.chars() {
        run = if ch == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

fn write_markdown(out: &mut String, record: &HistoryRecord) {
    let row = &record.row;
    let model = record
        .model_name
        .as_deref()
        .or(record.model_slug.as_deref())
        .or(row.model_id.as_deref())
        .unwrap_or("a deleted model");
    // Headings and list items hold only text we control or single-line names.
    let model = model.replace(['\n', '\r'], " ");
    out.push_str(&format!(
        "## {} · {} · {}\n\n- id: `{}`\n- source: {} · status: {}\n- tokens: {} prompt + {} completion · cost: ${} · duration: {}\n\n",
        rfc3339(row.created_at),
        model,
        row.mode,
        row.id,
        row.source,
        row.status,
        row.prompt_tokens,
        row.completion_tokens,
        aipasta_core::money::Nanos(row.cost_nanos).usd(),
        row.duration_ms
            .map_or_else(|| "—".to_owned(), |ms| format!("{ms} ms")),
    ));
    let mut block = |title: &str, text: &str| {
        if text.is_empty() {
            return;
        }
        let fence = fence(text);
        out.push_str(&format!("**{title}**\n\n{fence}text\n{text}\n{fence}\n\n"));
    };
    block("System prompt", row.system_prompt.as_deref().unwrap_or(""));
    block("Prompt", &asked(record));
    block("Output", &row.output_content);
    if let Some(message) = &row.error_message {
        block("Error", message);
    }
}

/// A page of whole rows, and whether it is the last; or what stopped the reading.
type Page = Result<(Vec<HistoryRecord>, bool), DbError>;

/// Reads the export's pages on a task of its own, a page ahead of the writer: the database
/// reads the next page while this one is written out (one after the other, the export took
/// the sum of the two). The channel holds one page, so memory stays flat; a client that goes
/// away drops the receiver, and the reader stops at its next page.
fn read_ahead(db: Db, user_id: String, mut query: HistoryQuery) -> mpsc::Receiver<Page> {
    let (sender, receiver) = mpsc::channel(1);
    tokio::spawn(async move {
        loop {
            let (page, next) = match history_records(&db, &user_id, &query).await {
                Ok((records, next)) => {
                    let last = next.is_none();
                    (Ok((records, last)), next)
                }
                Err(error) => (Err(error), None),
            };
            if sender.send(page).await.is_err() {
                break;
            }
            match next {
                Some(cursor) => query.after = Some(cursor),
                None => break,
            }
        }
    });
    receiver
}

/// The stream's progress: the pages to come, and whether a row was written yet.
struct Progress {
    pages: mpsc::Receiver<Page>,
    format: Format,
    started: bool,
    done: bool,
}

/// The next chunk: a page of rows (with the header first and the closing bracket last).
async fn next_chunk(mut progress: Progress) -> Option<(Result<Bytes, std::io::Error>, Progress)> {
    if progress.done {
        return None;
    }
    let mut out = String::new();
    if !progress.started {
        progress.started = true;
        match progress.format {
            Format::Json => out.push('['),
            Format::Csv => out.push_str(CSV_HEADER),
            Format::Markdown => out.push_str("# AI Pasta history\n\n"),
        }
    }
    let (records, last) = match progress.pages.recv().await {
        Some(Ok(page)) => page,
        failed => {
            // The status is sent already: cut the body, so the client sees a broken file
            // rather than a short one that looks whole.
            let error = match failed {
                Some(Err(error)) => error.to_string(),
                _ => "the export's reader stopped".to_owned(),
            };
            tracing::warn!(%error, "a history export stopped");
            progress.done = true;
            return Some((Err(std::io::Error::other(error)), progress));
        }
    };
    for record in &records {
        match progress.format {
            Format::Json => {
                if out.len() > 1 || !out.starts_with('[') {
                    out.push(',');
                }
                out.push('\n');
                let item = HistoryExportItem::new(record);
                out.push_str(&serde_json::to_string(&item).unwrap_or_default());
            }
            Format::Csv => write_csv(&mut out, record),
            Format::Markdown => write_markdown(&mut out, record),
        }
    }
    if last {
        progress.done = true;
        if progress.format == Format::Json {
            out.push_str("\n]\n");
        }
    }
    Some((Ok(Bytes::from(out)), progress))
}

/// Export your history
///
/// Your history with the list's filters, search and order, as `json` (an array of whole
/// generations), `csv` (one row per generation; cells a spreadsheet would run as a formula
/// are prefixed with `'`) or `md` (Markdown). Streamed, so any size can be exported; the file
/// name comes in `Content-Disposition`. `cursor`, `page` and `limit` are ignored: everything
/// that matches is exported.
#[utoipa::path(
    get,
    path = "/api/users/history/export",
    params(ExportFormat, HistoryParams),
    responses(
        (status = 200, description = "The export, streamed.", content(
            (Vec<HistoryExportItem> = "application/json"),
            (String = "text/csv"),
            (String = "text/markdown"),
        )),
        (status = 400, description = "A filter or the format is invalid (`validation_error`, `param` names it).", body = Failure),
    ),
)]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Query(format): Query<ExportFormat>,
    Query(params): Query<HistoryParams>,
) -> ApiResult<Response> {
    let format = Format::parse(format.format.as_deref()).ok_or_else(|| {
        let mut error =
            ApiError::bad_request("validation_error", "format must be json, csv or md.");
        error.param = Some("format");
        error
    })?;
    let mut query = params.read(&state).await?.query;
    query.after = None;
    query.offset = 0;
    query.limit = MAX_EXPORT_PAGE;
    let progress = Progress {
        pages: read_ahead(state.db.clone(), caller.id().to_owned(), query),
        format,
        started: false,
        done: false,
    };
    let body = Body::from_stream(futures_util::stream::unfold(progress, next_chunk));
    let today = super::stats::iso_day(super::stats::today());
    Ok((
        [
            (CONTENT_TYPE, format.content_type().to_owned()),
            (
                CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"aipasta-history-{today}.{}\"",
                    format.extension()
                ),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain text"), "plain text");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        for hostile in ["=HYPERLINK(\"x\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            let cell = csv_cell(hostile);
            assert!(cell.starts_with("\"'"), "{hostile:?} → {cell}");
        }
        assert_eq!(csv_cell("=1+1"), "\"'=1+1\"");
        assert_eq!(csv_cell(""), "");
        assert_eq!(
            csv_cell("a=b"),
            "a=b",
            "only a first character makes a formula"
        );
        assert_eq!(csv_cell("x-@"), "x-@");
    }

    #[test]
    fn a_fence_outlasts_the_backticks_inside() {
        assert_eq!(fence("no ticks"), "```");
        assert_eq!(fence("a ```` b"), "`````");
    }
}
