//! Generations over HTTP: starting one (the plan's `/api/models/{id}/generate` and
//! `/api/ai/...`), reading it, reattaching to its stream, cancelling it, and its images. The
//! `/v1` gateway starts generations through [`begin`] too.

pub mod api;
pub mod sse;

use std::sync::Arc;

use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use aipasta_core::money::Nanos;
use aipasta_engine::prepare::{GenerateInput, Unsupported};
use aipasta_engine::{GenerateCommand, GenerationError, Live, Outcome, Source};

use crate::auth::Caller;
use crate::auth::api::ClientInfo;
use crate::error::generation_status;
use crate::state::AppState;

/// Starts a generation for the caller through the engine, which checks everything it needs
/// (model, input, allowance, provider) first.
pub async fn begin(
    state: &AppState,
    caller: &Caller,
    model: &str,
    input: &GenerateInput,
    source: Source,
    unsupported: Unsupported,
    client: &ClientInfo,
) -> Result<Arc<Live>, GenerationError> {
    state
        .engine
        .start(GenerateCommand {
            user: &caller.user,
            model,
            input,
            source,
            unsupported,
            ip_address: client.ip.as_deref(),
            user_agent: client.user_agent.as_deref(),
        })
        .await
}

/// USD as a JSON number, for people and the plan's `cost` field; exact figures are in nanos.
pub fn usd(nanos: i64) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    Nanos(nanos).usd().to_f64()
}

/// The summary of a finished generation: the plan's `data` of a generate call. A typed
/// struct rather than a `json!` value: it is written once per generation on the gateway's
/// hot path, and a `Value` costs an allocation per field.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GenerationOutcome)]
pub struct OutcomeSummary<'a> {
    /// The generation's id (for `GET /api/generations/{id}`).
    id: &'a str,
    /// The model's slug.
    model: &'a str,
    /// `success`, `error`, `timeout`, `cancelled` or `interrupted`.
    status: &'a str,
    /// The text produced (what was produced before a failure or a cancel, too).
    content: &'a str,
    /// The provider's reason for stopping (`stop`, `length`, ...).
    finish_reason: Option<&'a str>,
    usage: UsageSummary,
    /// USD.
    cost: Option<f64>,
    /// The exact cost in nano-dollars.
    cost_nanos: i64,
    /// Milliseconds.
    duration: i64,
    /// Milliseconds until the first text arrived.
    time_to_first_token: Option<i64>,
    /// The fallback model that answered, if one did.
    answered_by: Option<&'a str>,
    /// Links to the images made (`/api/generations/{id}/image?index=N`).
    images: Vec<String>,
    /// Why it failed, when it did.
    error: Option<FailureSummary<'a>>,
}

/// Tokens of a generation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GenerationUsage)]
struct UsageSummary {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    /// True when the provider reported no usage and the counts are estimated.
    estimated: bool,
}

/// An error as clients see it: `{"code", "message"}`.
#[derive(Serialize, ToSchema)]
#[schema(as = GenerationFailure)]
pub struct FailureSummary<'a> {
    /// A stable, machine-readable code (`provider_error`, `timeout`, `cancelled`, ...).
    pub code: &'a str,
    /// What happened, for a person.
    #[schema(value_type = String)]
    pub message: std::borrow::Cow<'a, str>,
}

impl<'a> FailureSummary<'a> {
    pub fn new(error: &'a GenerationError) -> FailureSummary<'a> {
        FailureSummary {
            code: error.code(),
            message: error.message(),
        }
    }
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
            images: (0..outcome.images.len())
                .map(|i| format!("/api/generations/{id}/image?index={i}"))
                .collect(),
            error: outcome.error.as_ref().map(FailureSummary::new),
        }
    }
}

/// The HTTP status a finished generation answers with: 200, or its failure's.
pub fn failure_status(outcome: &Outcome) -> StatusCode {
    outcome
        .error
        .as_ref()
        .map_or(StatusCode::OK, generation_status)
}
