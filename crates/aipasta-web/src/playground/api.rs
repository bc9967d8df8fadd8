//! The playground's JSON API: markdown rendered the way the page renders it, and the account's
//! named parameter presets.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use aipasta_store::presets::{self, PresetRow};

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

#[derive(Deserialize)]
pub struct RenderInput {
    markdown: String,
}

/// `POST /api/playground/render`: `{markdown}` → `{html}`, sanitised, rendered off the async
/// threads within the render budget (past it, or when too deeply nested, the text comes back
/// escaped as plain text). Not cached: the playground sends a growing answer's snapshots.
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
        serde_json::to_vec(&json!({ "html": html })).unwrap_or_default()
    })
    .await;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn preset_json(row: &PresetRow) -> Value {
    json!({
        "id": row.id,
        "name": row.name,
        "parameters": serde_json::from_str::<Value>(&row.parameters).unwrap_or_else(|_| json!({})),
        "systemPrompt": row.system_prompt,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresetInput {
    name: Option<String>,
    #[serde(default)]
    parameters: Option<Value>,
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

/// `GET /api/users/presets`.
pub async fn list_presets(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let rows = presets::list_presets(&state.db, caller.id()).await?;
    Ok(Json(
        json!({"success": true, "data": rows.iter().map(preset_json).collect::<Vec<_>>()}),
    ))
}

/// `POST /api/users/presets`.
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
        Ok(row) => Ok((
            StatusCode::CREATED,
            Json(json!({"success": true, "data": preset_json(&row)})),
        )
            .into_response()),
        Err(error) if error.is_unique_violation() => Err(taken(&preset.name)),
        Err(error) => Err(error.into()),
    }
}

/// `PUT /api/users/presets/{id}`: rename or change one.
pub async fn update_preset(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<PresetInput>,
) -> ApiResult<Json<Value>> {
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
        Ok(Some(row)) => Ok(Json(json!({"success": true, "data": preset_json(&row)}))),
        Ok(None) => Err(ApiError::not_found("You have no preset with that id.")),
        Err(error) if error.is_unique_violation() => Err(taken(&preset.name)),
        Err(error) => Err(error.into()),
    }
}

/// `DELETE /api/users/presets/{id}`.
pub async fn delete_preset(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if presets::delete_preset(&state.db, caller.id(), &id).await? {
        Ok(Json(json!({"success": true})))
    } else {
        Err(ApiError::not_found("You have no preset with that id."))
    }
}
