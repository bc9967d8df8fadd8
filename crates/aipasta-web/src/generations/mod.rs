//! Generations over HTTP: starting one (the plan's `/api/models/{id}/generate` and
//! `/api/ai/...`), reading it, reattaching to its stream, cancelling it, and its images. The
//! `/v1` gateway starts generations through [`begin`] too.

pub mod api;
mod models;
pub mod sse;

use std::sync::Arc;

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use aipasta_core::money::Nanos;
use aipasta_providers::generate::Task;
use aipasta_store::catalog::ModelRow;

use crate::auth::Caller;
use crate::auth::api::ClientInfo;
use crate::engine::prepare::{GenerateInput, Unsupported, prepare};
use crate::engine::{Candidate, Live, Outcome, Plan, Source};
use crate::error::ApiError;
use crate::state::AppState;

pub use models::ModelCache;

/// The most fallback models tried after the first.
const MAX_FALLBACKS: usize = 3;

/// Checks everything a generation needs (model, input, limit, provider) and starts it.
pub async fn begin(
    state: &AppState,
    caller: &Caller,
    model_ref: &str,
    input: &GenerateInput,
    source: Source,
    unsupported: Unsupported,
    client: &ClientInfo,
) -> Result<Arc<Live>, ApiError> {
    // Refused up front rather than answered and held until the database takes it again.
    if let Some(failure) = state.engine.write_failure() {
        return Err(storage_unavailable(&failure.reason));
    }
    let model = state
        .models
        .get(&state.db, model_ref)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "model_not_found",
                format!("No model has the id {model_ref:?}."),
            )
        })?;
    check_available(&model)?;
    let request = prepare(&model, input, unsupported)?;
    let allowance = state
        .engine
        .usage
        .allowance(&state.db, &caller.user)
        .await?;
    if allowance.exhausted() {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "monthly_limit_reached",
            format!(
                "You have used {} of your {} tokens this month. The allowance renews on the 1st; an admin can raise it.",
                allowance.used, allowance.limit
            ),
        ));
    }
    let directory = &state.engine.directory;
    let user_id = &caller.user.id;
    let (upstream, network) = directory.resolve(&state.db, &model, user_id).await?;
    let mut candidates = vec![Candidate {
        upstream,
        network,
        model: model.clone(),
    }];
    for fallback in model.fallback_model_ids().iter().take(MAX_FALLBACKS) {
        // A fallback that is gone or has no key is skipped, not an error: the first model may
        // well answer.
        if let Ok(Some(row)) = state.models.get(&state.db, fallback).await
            && check_available(&row).is_ok()
            && let Ok((upstream, network)) = directory.resolve(&state.db, &row, user_id).await
        {
            candidates.push(Candidate {
                model: row,
                upstream,
                network,
            });
        }
    }
    let messages_json = serde_json::to_string(&request.messages).unwrap_or_else(|_| "[]".into());
    let plan = Plan {
        user_id: caller.user.id.clone(),
        candidates,
        // Images and vectors come whole whatever the client asked; the client's stream then
        // carries them as one event.
        stream: input.stream && !matches!(request.task, Task::ImageGeneration | Task::Embedding),
        request,
        source,
        session_id: input.session_id.clone().filter(|s| !s.trim().is_empty()),
        system_prompt: input.system_prompt.clone(),
        parameters_json: parameters_json(input),
        messages_json,
        ip_address: client.ip.clone(),
        user_agent: client.user_agent.clone(),
    };
    Ok(state.engine.start_generation(plan).await)
}

/// Generations cannot be recorded right now (the database is down, or its disk is full).
fn storage_unavailable(cause: &dyn std::fmt::Display) -> ApiError {
    tracing::warn!(%cause, "a generation was refused: generations cannot be recorded");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "storage_unavailable",
        "Generations cannot be saved right now, so none is started. Try again in a moment.",
    )
    .with_retry_after(crate::error::DATABASE_RETRY_AFTER_SECONDS)
}

fn check_available(model: &ModelRow) -> Result<(), ApiError> {
    if !model.is_active || model.status == "deprecated" {
        return Err(ApiError::new(
            StatusCode::GONE,
            "model_unavailable",
            format!(
                "{} is no longer offered. Pick another model.",
                model.display_name
            ),
        ));
    }
    if model.status == "maintenance" {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "model_maintenance",
            format!(
                "{} is under maintenance. Try again later or pick another model.",
                model.display_name
            ),
        ));
    }
    Ok(())
}

/// The parameters as recorded: only those the client set.
fn parameters_json(input: &GenerateInput) -> String {
    let p = &input.parameters;
    let mut map = serde_json::Map::new();
    let mut put = |name: &str, value: Value| {
        if !value.is_null() {
            map.insert(name.to_owned(), value);
        }
    };
    put("temperature", json!(p.temperature));
    put("maxTokens", json!(p.max_tokens));
    put("topP", json!(p.top_p));
    put("topK", json!(p.top_k));
    put("frequencyPenalty", json!(p.frequency_penalty));
    put("presencePenalty", json!(p.presence_penalty));
    put("repetitionPenalty", json!(p.repetition_penalty));
    put("seed", json!(p.seed));
    if !p.stop.is_empty() {
        put("stop", json!(p.stop));
    }
    put("width", json!(p.width));
    put("height", json!(p.height));
    put("targetLanguage", json!(p.target_language));
    if let Some(mode) = input.mode {
        put("mode", json!(format!("{mode:?}").to_lowercase()));
    }
    Value::Object(map).to_string()
}

/// USD as a JSON number, for people and the plan's `cost` field; exact figures are in nanos.
pub fn usd(nanos: i64) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    Nanos(nanos).usd().to_f64()
}

/// The summary of a finished generation: the plan's `data` of a generate call. A typed
/// struct rather than a `json!` value: it is written once per generation on the gateway's
/// hot path, and a `Value` costs an allocation per field.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeSummary<'a> {
    id: &'a str,
    model: &'a str,
    status: &'a str,
    content: &'a str,
    finish_reason: Option<&'a str>,
    usage: UsageSummary,
    cost: Option<f64>,
    cost_nanos: i64,
    duration: i64,
    time_to_first_token: Option<i64>,
    answered_by: Option<&'a str>,
    images: Vec<String>,
    error: Option<FailureSummary<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageSummary {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    estimated: bool,
}

/// An error as clients see it: `{"code", "message"}`.
#[derive(Serialize)]
pub struct FailureSummary<'a> {
    pub code: &'a str,
    pub message: &'a str,
}

impl<'a> OutcomeSummary<'a> {
    pub fn new(id: &'a str, model: &'a str, outcome: &'a Outcome) -> OutcomeSummary<'a> {
        let usage = &outcome.usage;
        OutcomeSummary {
            id,
            model,
            status: outcome.status,
            content: &outcome.content,
            finish_reason: outcome.finish_reason.as_deref(),
            usage: UsageSummary {
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
                total_tokens: usage
                    .total_tokens
                    .max(usage.prompt_tokens + usage.completion_tokens),
                estimated: outcome.usage_estimated,
            },
            cost: usd(outcome.cost_nanos),
            cost_nanos: outcome.cost_nanos,
            duration: outcome.duration_ms,
            time_to_first_token: outcome.time_to_first_token_ms,
            answered_by: outcome.answered_by.as_deref(),
            images: (0..outcome.image_count)
                .map(|i| format!("/api/generations/{id}/image?index={i}"))
                .collect(),
            error: outcome.error.as_ref().map(|e| FailureSummary {
                code: &e.code,
                message: &e.message,
            }),
        }
    }
}

/// The HTTP status a failed generation answers with.
pub fn failure_status(outcome: &Outcome) -> StatusCode {
    let Some(error) = &outcome.error else {
        return StatusCode::OK;
    };
    match error.code.as_str() {
        "upstream_timeout" => StatusCode::GATEWAY_TIMEOUT,
        "upstream_rate_limited" => StatusCode::TOO_MANY_REQUESTS,
        "upstream_bad_request" => StatusCode::BAD_REQUEST,
        "unsupported_task" => StatusCode::BAD_REQUEST,
        "interrupted" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_GATEWAY,
    }
}
