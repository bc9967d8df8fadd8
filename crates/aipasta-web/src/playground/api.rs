//! The playground's JSON API: markdown rendered the way the page renders it, and the account's
//! named parameter presets.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use aipasta_store::presets::{self, PresetRow};

use crate::api::{Failure, Success, created, ok};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use aipasta_core::params::{SAMPLING, sampling_param};

/// The longest preset name.
const MAX_NAME: usize = 80;
/// The longest system prompt a preset keeps.
const MAX_SYSTEM_PROMPT: usize = 20_000;
/// The most presets one account keeps.
const MAX_PRESETS: usize = 100;
/// What a preset may hold besides the sampling parameters, as the playground names them.
const OTHER_PRESET_PARAMETERS: &[&str] = &["maxTokens", "seed", "stop"];

/// Every parameter a preset may hold: the sampling parameters' fields, then the others.
fn preset_parameters() -> impl Iterator<Item = &'static str> {
    SAMPLING
        .iter()
        .map(|param| param.field)
        .chain(OTHER_PRESET_PARAMETERS.iter().copied())
}

/// Markdown to render.
#[derive(Deserialize, ToSchema)]
#[schema(as = PlaygroundRenderRequest)]
pub struct RenderInput {
    /// At most 1 MiB.
    markdown: String,
}

/// Rendered markdown. Not in the envelope: the playground reads `html` directly.
#[derive(Serialize, ToSchema)]
#[schema(as = PlaygroundRendered)]
pub struct Rendered<'a> {
    /// Sanitised HTML, as the page renders an answer (or the text escaped as plain text).
    #[schema(value_type = String)]
    html: &'a str,
}

/// Render markdown
///
/// `{markdown}` → `{html}`, sanitised, rendered off the async threads within the render
/// budget (past it, or when too deeply nested, the text comes back escaped as plain text).
/// Not cached: the playground sends a growing answer's snapshots. The answer is not in the
/// envelope.
#[utoipa::path(
    post,
    path = "/api/playground/render",
    request_body = RenderInput,
    responses(
        (status = 200, description = "The HTML.", body = Rendered),
        (status = 413, description = "`markdown` is longer than is rendered (`markdown_too_long`).", body = Failure),
    ),
)]
pub async fn render(_caller: Caller, Json(input): Json<RenderInput>) -> ApiResult<Response> {
    use crate::markdown::{MAX_SOURCE_BYTES, Style, render_off_thread};
    if input.markdown.len() > MAX_SOURCE_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "markdown_too_long",
            format!(
                "`markdown` is {} bytes; at most {MAX_SOURCE_BYTES} bytes are rendered.",
                input.markdown.len()
            ),
        ));
    }
    // The answer is encoded on the blocking pool too: escaping megabytes of HTML into JSON on
    // an async thread would hold up every other request on it.
    let body = render_off_thread(Style::Answer, input.markdown, |html| {
        serde_json::to_vec(&Rendered { html: &html }).unwrap_or_default()
    })
    .await;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// A named set of playground parameters.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PlaygroundPreset)]
pub struct Preset {
    id: String,
    name: String,
    /// The sampling parameters (plan names), `maxTokens`, `seed` and `stop` it sets.
    #[schema(value_type = Object)]
    parameters: Value,
    system_prompt: Option<String>,
    /// Unix milliseconds.
    created_at: i64,
    /// Unix milliseconds.
    updated_at: i64,
}

impl From<&PresetRow> for Preset {
    fn from(row: &PresetRow) -> Preset {
        Preset {
            id: row.id.clone(),
            name: row.name.clone(),
            parameters: serde_json::from_str::<Value>(&row.parameters)
                .unwrap_or_else(|_| Value::Object(Map::new())),
            system_prompt: row.system_prompt.clone(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A deleted preset: only the envelope's `success`.
#[derive(Serialize, ToSchema)]
#[schema(as = PlaygroundPresetDeleted)]
pub struct Deleted {
    /// Always `true`.
    success: bool,
}

/// A preset to save. On a change, absent fields keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PlaygroundPresetInput)]
pub struct PresetInput {
    /// 1 to 80 characters, unique among the account's presets. Required on create.
    name: Option<String>,
    /// An object of sampling parameters (plan names, within their documented ranges),
    /// `maxTokens`, `seed` and `stop` (a string or up to 4).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    parameters: Option<Value>,
    /// Up to 20,000 characters; `system_prompt` is accepted too.
    #[serde(default, alias = "system_prompt")]
    system_prompt: Option<String>,
}

struct CheckedPreset {
    name: String,
    parameters: String,
    system_prompt: Option<String>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_preset", message)
}

fn check(input: PresetInput) -> ApiResult<CheckedPreset> {
    let name = input.name.unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(invalid("Give the preset a name."));
    }
    if name.chars().count() > MAX_NAME {
        return Err(invalid(format!(
            "A preset name has at most {MAX_NAME} characters."
        )));
    }
    let parameters = match input.parameters {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(invalid("`parameters` must be an object.")),
    };
    for (key, value) in &parameters {
        if !preset_parameters().any(|name| name == key) {
            return Err(invalid(format!(
                "`{key}` is not a parameter a preset can hold; use {}.",
                preset_parameters().collect::<Vec<_>>().join(", ")
            )));
        }
        let ok = match (key.as_str(), sampling_param(key)) {
            ("stop", _) => {
                value.as_array().is_some_and(|a| {
                    a.len() <= 4 && a.iter().all(|s| s.as_str().is_some_and(|s| !s.is_empty()))
                }) || value.as_str().is_some_and(|s| !s.is_empty())
            }
            ("maxTokens", _) => value.as_i64().is_some_and(|n| n >= 0),
            ("seed", _) => value.as_i64().is_some(),
            // Within the parameter's documented range (a model's own may be narrower; the
            // form checks that when the preset is applied).
            (_, Some(param)) => value
                .as_f64()
                .is_some_and(|v| param.check(v, param.min, param.max).is_ok()),
            (_, None) => false,
        };
        if !ok {
            return Err(invalid(format!("`{key}` has an invalid value: {value}.")));
        }
    }
    let system_prompt = input.system_prompt.filter(|s| !s.trim().is_empty());
    if system_prompt
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_SYSTEM_PROMPT)
    {
        return Err(invalid(format!(
            "A preset's system prompt has at most {MAX_SYSTEM_PROMPT} characters."
        )));
    }
    Ok(CheckedPreset {
        name,
        parameters: Value::Object(parameters).to_string(),
        system_prompt,
    })
}

fn taken(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "preset_name_taken",
        format!("You already have a preset named “{name}”. Pick another name."),
    )
}

/// List presets
///
/// The caller's parameter presets.
#[utoipa::path(
    get,
    path = "/api/users/presets",
    responses((status = 200, description = "The presets.", body = Success<Vec<Preset>>)),
)]
pub async fn list_presets(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let rows = presets::list_presets(&state.db, caller.id()).await?;
    Ok(ok(rows.iter().map(Preset::from).collect::<Vec<_>>()))
}

/// Save a preset
///
/// Saves a named set of playground parameters (and a system prompt) for the caller, who keeps
/// at most 100.
#[utoipa::path(
    post,
    path = "/api/users/presets",
    request_body = PresetInput,
    responses(
        (status = 201, description = "The saved preset.", body = Success<Preset>),
        (status = 400, description = "A refused field, or 100 presets already (`invalid_preset`).", body = Failure),
        (status = 409, description = "The caller has a preset of that name (`preset_name_taken`).", body = Failure),
    ),
)]
pub async fn create_preset(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<PresetInput>,
) -> ApiResult<Response> {
    let preset = check(input)?;
    if presets::list_presets(&state.db, caller.id()).await?.len() >= MAX_PRESETS {
        return Err(invalid(format!(
            "You have {MAX_PRESETS} presets, the most an account keeps. Delete one first."
        )));
    }
    match presets::create_preset(
        &state.db,
        caller.id(),
        &preset.name,
        &preset.parameters,
        preset.system_prompt.as_deref(),
    )
    .await
    {
        Ok(row) => Ok(created(Preset::from(&row))),
        Err(error) if error.is_unique_violation() => Err(taken(&preset.name)),
        Err(error) => Err(error.into()),
    }
}

/// Change a preset
///
/// Renames or changes one of the caller's presets; absent fields keep their value.
#[utoipa::path(
    put,
    path = "/api/users/presets/{id}",
    params(("id" = String, Path, description = "The preset's id.")),
    request_body = PresetInput,
    responses(
        (status = 200, description = "The preset as it is now.", body = Success<Preset>),
        (status = 400, description = "A refused field (`invalid_preset`).", body = Failure),
        (status = 404, description = "The caller has no preset with that id (`not_found`).", body = Failure),
        (status = 409, description = "The caller has another preset of that name (`preset_name_taken`).", body = Failure),
    ),
)]
pub async fn update_preset(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<PresetInput>,
) -> ApiResult<Response> {
    let Some(existing) = presets::find_preset(&state.db, caller.id(), &id).await? else {
        return Err(ApiError::not_found("You have no preset with that id."));
    };
    let input = PresetInput {
        name: input.name.or(Some(existing.name)),
        parameters: input
            .parameters
            .or_else(|| serde_json::from_str(&existing.parameters).ok()),
        system_prompt: input.system_prompt.or(existing.system_prompt),
    };
    let preset = check(input)?;
    match presets::update_preset(
        &state.db,
        caller.id(),
        &id,
        &preset.name,
        &preset.parameters,
        preset.system_prompt.as_deref(),
    )
    .await
    {
        Ok(Some(row)) => Ok(ok(Preset::from(&row))),
        Ok(None) => Err(ApiError::not_found("You have no preset with that id.")),
        Err(error) if error.is_unique_violation() => Err(taken(&preset.name)),
        Err(error) => Err(error.into()),
    }
}

/// Delete a preset
///
/// Deletes one of the caller's presets.
#[utoipa::path(
    delete,
    path = "/api/users/presets/{id}",
    params(("id" = String, Path, description = "The preset's id.")),
    responses(
        (status = 200, description = "Deleted.", body = Deleted),
        (status = 404, description = "The caller has no preset with that id (`not_found`).", body = Failure),
    ),
)]
pub async fn delete_preset(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    if presets::delete_preset(&state.db, caller.id(), &id).await? {
        Ok(Json(Deleted { success: true }))
    } else {
        Err(ApiError::not_found("You have no preset with that id."))
    }
}
