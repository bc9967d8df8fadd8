//! Starting a generation: everything it needs is checked (storage, model, input, allowance,
//! provider) before anything runs, and a refusal is a [`GenerationError`].

use std::sync::Arc;

use serde_json::{Value, json};

use aipasta_providers::generate::Task;
use aipasta_store::accounts::UserRow;
use aipasta_store::catalog::ModelRow;

use crate::error::GenerationError;
use crate::live::Live;
use crate::prepare::{GenerateInput, Mode, Unsupported, prepare};
use crate::{Candidate, Engine, Plan, Source};

/// The most fallback models tried after the first.
const MAX_FALLBACKS: usize = 3;

/// One request to generate, from any surface: the playground, the plan's API, `/v1`, and
/// (later) compare and batch.
#[derive(Debug, Clone, Copy)]
pub struct GenerateCommand<'a> {
    /// Who asks: their allowance is checked and their keys are used.
    pub user: &'a UserRow,
    /// The model's id or slug.
    pub model: &'a str,
    pub input: &'a GenerateInput,
    pub source: Source,
    /// What to do with a parameter the model does not take.
    pub unsupported: Unsupported,
    /// Recorded with the generation.
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

impl Engine {
    /// Checks everything a generation needs and starts it; it then runs whether or not
    /// anyone stays attached to the [`Live`] it answers.
    pub async fn start(
        self: &Arc<Self>,
        command: GenerateCommand<'_>,
    ) -> Result<Arc<Live>, GenerationError> {
        // Refused up front rather than answered and held until the database takes it again.
        if let Some(failure) = self.write_failure() {
            tracing::warn!(cause = %failure.reason, "a generation was refused: generations cannot be recorded");
            return Err(GenerationError::StorageUnavailable { started: false });
        }
        let model = self
            .models
            .get(&self.db, command.model)
            .await?
            .ok_or_else(|| GenerationError::ModelNotFound {
                model: command.model.to_owned(),
            })?;
        check_available(&model)?;
        let input = command.input;
        let request = prepare(&model, input, command.unsupported)?;
        let allowance = self.usage.allowance(&self.db, command.user).await?;
        if allowance.exhausted() {
            return Err(GenerationError::MonthlyLimitReached {
                used: allowance.used,
                limit: allowance.limit,
            });
        }
        let candidates = self.candidates(model, &command.user.id).await?;
        let messages_json =
            serde_json::to_string(&request.messages).unwrap_or_else(|_| "[]".into());
        let plan = Plan {
            user_id: command.user.id.clone(),
            candidates,
            // Images and vectors come whole whatever the client asked; the client's stream
            // then carries them as one event.
            stream: input.stream
                && !matches!(request.task, Task::ImageGeneration | Task::Embedding),
            mode: Mode::of(input.mode, request.task),
            request,
            source: command.source,
            session_id: input.session_id.clone().filter(|s| !s.trim().is_empty()),
            system_prompt: input.system_prompt.clone(),
            parameters_json: parameters_json(input),
            messages_json,
            ip_address: command.ip_address.map(str::to_owned),
            user_agent: command.user_agent.map(str::to_owned),
        };
        Ok(self.run_plan(plan).await)
    }

    /// The model, then its fallbacks that can be called: a fallback that is gone or has no
    /// key is skipped, not an error, since the first model may well answer.
    async fn candidates(
        &self,
        model: Arc<ModelRow>,
        user_id: &str,
    ) -> Result<Vec<Candidate>, GenerationError> {
        let (upstream, network) = self.directory.resolve(&self.db, &model, user_id).await?;
        let fallbacks = model.fallback_model_ids();
        let mut candidates = vec![Candidate {
            upstream,
            network,
            model,
        }];
        for fallback in fallbacks.iter().take(MAX_FALLBACKS) {
            if let Ok(Some(row)) = self.models.get(&self.db, fallback).await
                && check_available(&row).is_ok()
                && let Ok((upstream, network)) =
                    self.directory.resolve(&self.db, &row, user_id).await
            {
                candidates.push(Candidate {
                    model: row,
                    upstream,
                    network,
                });
            }
        }
        Ok(candidates)
    }
}

/// A deactivated, deprecated or maintained model is refused before any call.
pub fn check_available(model: &ModelRow) -> Result<(), GenerationError> {
    if !model.is_active || model.status == "deprecated" {
        return Err(GenerationError::ModelUnavailable {
            model: model.display_name.clone(),
        });
    }
    if model.status == "maintenance" {
        return Err(GenerationError::ModelMaintenance {
            model: model.display_name.clone(),
        });
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
    for (param, value) in p.sampling.iter() {
        put(param.field, param.json(value));
    }
    put("maxTokens", json!(p.max_tokens));
    put("seed", json!(p.seed));
    if !p.stop.is_empty() {
        put("stop", json!(p.stop));
    }
    put("width", json!(p.width));
    put("height", json!(p.height));
    put("targetLanguage", json!(p.target_language));
    if let Some(mode) = input.mode {
        put("mode", json!(mode.as_str()));
    }
    Value::Object(map).to_string()
}
