//! Why a generation was refused, or why it ended without its answer: one typed enum for every
//! surface. Each variant knows its stable `code`, the request field it is about (`param`) and
//! its message for people; it knows no HTTP status. The web crate maps it once to the plan's
//! envelope and once to OpenAI's error shape, by variant, so no error text is ever parsed.

use std::borrow::Cow;

use aipasta_providers::generate::{ProviderError, ProviderErrorKind};
use aipasta_store::DbError;

/// A request field, as the plan's API and OpenAI's name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Model,
    /// The conversation or the prompt.
    Messages,
    Mode,
    /// A sampling or task parameter, by its provider (snake_case) name.
    Parameter(&'static str),
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::Model => "model",
            Field::Messages => "messages",
            Field::Mode => "mode",
            Field::Parameter(name) => name,
        }
    }
}

/// How a generation ends badly, or why one is not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenerationError {
    // Refused before it starts (nothing is recorded).
    /// Generations cannot be recorded right now (the database is down or its disk is full):
    /// refused up front (`started: false`), or stopped because its starting row could not be
    /// stored (`started: true`).
    StorageUnavailable {
        started: bool,
    },
    /// The database could not be read to check the request.
    DatabaseUnavailable,
    /// A bug or an unexpected database error; the cause was logged where it happened.
    Internal,
    /// No model has this id or slug.
    ModelNotFound {
        model: String,
    },
    /// The model is deactivated or deprecated.
    ModelUnavailable {
        model: String,
    },
    ModelMaintenance {
        model: String,
    },
    /// No prompt, or no message with text.
    MissingInput,
    TooManyMessages {
        limit: usize,
    },
    /// The model cannot do what was asked (`verb`: "generate images", ...; `None`: nothing the
    /// caller could run).
    UnsupportedMode {
        model: String,
        verb: Option<&'static str>,
    },
    /// The input is over the hard size limit, whatever the model.
    InputTooLarge {
        chars: usize,
        limit: usize,
    },
    /// The input is over the model's context.
    ContextExceeded {
        model: String,
        estimated: u64,
        context: i64,
    },
    /// A parameter outside its range; `message` says the range and the value.
    ParameterOutOfRange {
        param: &'static str,
        message: String,
    },
    /// A parameter the model does not take.
    UnsupportedParameter {
        param: &'static str,
        model: String,
    },
    /// The caller's tokens this month are used up.
    MonthlyLimitReached {
        used: i64,
        limit: i64,
    },
    /// The model's provider has no usable endpoint or key; `reason` says which.
    ProviderNotConfigured {
        model: String,
        provider: String,
        reason: &'static str,
    },

    // Ended without its answer (recorded with this code and message).
    /// The provider failed; `message` is the provider's, with keys and addresses removed.
    Upstream {
        kind: ProviderErrorKind,
        message: String,
        status: Option<u16>,
    },
    /// The server stopped (or restarted) while it ran; what was produced is kept.
    Interrupted {
        restarted: bool,
    },
    /// It ended, but its final row could not be stored, so the answer is not shown.
    NotRecorded,
}

impl GenerationError {
    /// The stable code clients and the `generations.error_code` column see.
    pub fn code(&self) -> &'static str {
        use GenerationError::*;
        match self {
            StorageUnavailable { .. } => "storage_unavailable",
            DatabaseUnavailable => "database_unavailable",
            Internal => "internal_error",
            ModelNotFound { .. } => "model_not_found",
            ModelUnavailable { .. } => "model_unavailable",
            ModelMaintenance { .. } => "model_maintenance",
            MissingInput => "missing_input",
            TooManyMessages { .. } => "too_many_messages",
            UnsupportedMode { .. } => "unsupported_mode",
            InputTooLarge { .. } | ContextExceeded { .. } => "prompt_too_long",
            ParameterOutOfRange { .. } => "parameter_out_of_range",
            UnsupportedParameter { .. } => "unsupported_parameter",
            MonthlyLimitReached { .. } => "monthly_limit_reached",
            ProviderNotConfigured { .. } => "provider_not_configured",
            Upstream { kind, .. } => kind.as_str(),
            Interrupted { .. } => "interrupted",
            NotRecorded => "not_recorded",
        }
    }

    /// The request field the error is about, when it is about one.
    pub fn field(&self) -> Option<Field> {
        use GenerationError::*;
        match self {
            ModelNotFound { .. } | ModelUnavailable { .. } | ModelMaintenance { .. } => {
                Some(Field::Model)
            }
            UnsupportedMode { .. } => Some(Field::Mode),
            MissingInput
            | TooManyMessages { .. }
            | InputTooLarge { .. }
            | ContextExceeded { .. } => Some(Field::Messages),
            ParameterOutOfRange { param, .. } | UnsupportedParameter { param, .. } => {
                Some(Field::Parameter(param))
            }
            _ => None,
        }
    }

    /// The name of the request field the error is about (`model`, `messages`, `temperature`).
    pub fn param(&self) -> Option<&'static str> {
        self.field().map(Field::name)
    }

    /// What went wrong and what to do, for people.
    pub fn message(&self) -> Cow<'_, str> {
        use GenerationError::*;
        Cow::Owned(match self {
            StorageUnavailable { started: false } => {
                return "Generations cannot be saved right now, so none is started. Try again in a moment.".into();
            }
            StorageUnavailable { started: true } => {
                return "Generations cannot be saved right now, so this one was stopped. Try again in a moment.".into();
            }
            DatabaseUnavailable => {
                return "The database is unavailable right now; nothing was changed. Try again in a moment.".into();
            }
            Internal => {
                return "Something went wrong on our side. The error was logged; try again in a moment.".into();
            }
            ModelNotFound { model } => format!("No model has the id {model:?}."),
            ModelUnavailable { model } => {
                format!("{model} is no longer offered. Pick another model.")
            }
            ModelMaintenance { model } => {
                format!("{model} is under maintenance. Try again later or pick another model.")
            }
            MissingInput => {
                return "Write a prompt (or send `messages` with at least one non-empty message)."
                    .into();
            }
            TooManyMessages { limit } => {
                format!("A conversation can hold at most {limit} messages.")
            }
            UnsupportedMode {
                model,
                verb: Some(verb),
            } => format!("{model} cannot {verb}."),
            UnsupportedMode { model, verb: None } => format!("{model} cannot be run from here."),
            InputTooLarge { chars, limit } => {
                format!("The input is {chars} characters; the limit is {limit}.")
            }
            ContextExceeded {
                model,
                estimated,
                context,
            } => format!(
                "The input is about {estimated} tokens, more than {model}'s context of {context} tokens. Shorten it or pick a model with a longer context."
            ),
            ParameterOutOfRange { message, .. } | Upstream { message, .. } => {
                return Cow::Borrowed(message);
            }
            UnsupportedParameter { param, model } => format!(
                "{model} does not accept `{param}`. Remove it, or pick a model that supports it."
            ),
            MonthlyLimitReached { used, limit } => format!(
                "You have used {used} of your {limit} tokens this month. The allowance renews on the 1st; an admin can raise it."
            ),
            ProviderNotConfigured {
                model,
                provider,
                reason,
            } => format!(
                "{model} runs on {provider}, and {reason}. An admin can add one on the Providers admin page, or you can add your own key in Settings."
            ),
            Interrupted { restarted: true } => {
                return "The server restarted while this generation was running; what was produced is kept.".into();
            }
            Interrupted { restarted: false } => {
                return "The server stopped while this generation was running.".into();
            }
            NotRecorded => {
                return "The answer could not be saved, so it is not shown. Try again.".into();
            }
        })
    }

    /// The upstream's HTTP status, when the provider answered with one.
    pub fn upstream_status(&self) -> Option<u16> {
        match self {
            GenerationError::Upstream { status, .. } => *status,
            _ => None,
        }
    }

    /// Seconds a client should wait before trying again, when the failure is passing.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            GenerationError::StorageUnavailable { started: false }
            | GenerationError::DatabaseUnavailable => Some(DATABASE_RETRY_AFTER_SECONDS),
            _ => None,
        }
    }
}

impl std::fmt::Display for GenerationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for GenerationError {}

/// How long a client is asked to wait when the database is unavailable.
pub const DATABASE_RETRY_AFTER_SECONDS: u64 = 5;

impl GenerationError {
    /// A database error, by kind; the cause is logged once, here, and clients see only the kind.
    pub fn from_db(error: &DbError) -> GenerationError {
        if error.is_unavailable() {
            tracing::warn!(%error, "database unavailable");
            GenerationError::DatabaseUnavailable
        } else {
            tracing::error!(%error, "internal error");
            GenerationError::Internal
        }
    }
}

impl From<DbError> for GenerationError {
    fn from(error: DbError) -> GenerationError {
        GenerationError::from_db(&error)
    }
}

impl From<ProviderError> for GenerationError {
    fn from(error: ProviderError) -> GenerationError {
        GenerationError::Upstream {
            kind: error.kind,
            message: error.message,
            status: error.status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_named_by_their_field_not_their_text() {
        let error = GenerationError::ParameterOutOfRange {
            param: "temperature",
            message: "Some words without backticks.".into(),
        };
        assert_eq!(error.param(), Some("temperature"));
        assert_eq!(error.code(), "parameter_out_of_range");
        assert_eq!(error.message(), "Some words without backticks.");
        let error = GenerationError::ContextExceeded {
            model: "Tiny".into(),
            estimated: 900,
            context: 512,
        };
        assert_eq!(
            (error.code(), error.param()),
            ("prompt_too_long", Some("messages"))
        );
        assert!(error.message().contains("Tiny's context of 512 tokens"));
    }

    #[test]
    fn upstream_failures_carry_the_providers_kind_and_status() {
        let mut upstream = ProviderError::new(ProviderErrorKind::RateLimited, "Slow down.");
        upstream.status = Some(429);
        let error = GenerationError::from(upstream);
        assert_eq!(error.code(), "upstream_rate_limited");
        assert_eq!(error.upstream_status(), Some(429));
        assert_eq!(error.param(), None);
    }
}
