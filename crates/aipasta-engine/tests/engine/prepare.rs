//! What a client asks for, checked against the model before anything runs: the input, the
//! parameters (the model's own ranges and list), the context. Refusals through
//! [`aipasta_engine::Engine::start`] name their field and leave nothing behind; `prepare`
//! itself is checked for the request it builds.

use aipasta_core::params::SamplingValues;
use aipasta_engine::prepare::{
    CODE_SYSTEM_PROMPT, GenerateInput, MAX_INPUT_CHARS, MAX_MESSAGES, Mode, ParameterInput,
    Unsupported, prepare,
};
use aipasta_engine::{Field, GenerationError};
use aipasta_mock::OPENAI_CHAT_PATH;
use aipasta_providers::generate::{ChatMessage, Role, Task};
use aipasta_store::Backend;
use aipasta_store::catalog::{ModelRow, find_model};
use aipasta_store::testing::backends;
use serde_json::Value;

use crate::support::{CHAT, CONTEXT, ENDPOINT, Harness, MAX_ANSWER, chat_model, prompt, wait};

fn with(parameters: ParameterInput) -> GenerateInput {
    GenerateInput {
        parameters,
        ..prompt("hello", true)
    }
}

fn message(role: Role, content: &str) -> ChatMessage {
    ChatMessage {
        role,
        content: content.into(),
    }
}

#[tokio::test]
async fn bad_input_and_parameters_are_refused_naming_their_field() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        let refuse = async |input: &GenerateInput| match h.start_generation(CHAT, input).await {
            Ok(live) => panic!("{backend:?}: {} started", live.id),
            Err(error) => error,
        };

        let error = refuse(&prompt("   ", true)).await;
        assert_eq!(error, GenerationError::MissingInput, "{backend:?}");
        assert_eq!(
            (error.code(), error.param()),
            ("missing_input", Some("messages"))
        );
        let only_system = GenerateInput {
            messages: Some(vec![message(Role::System, "be brief")]),
            ..GenerateInput::default()
        };
        assert_eq!(refuse(&only_system).await, GenerationError::MissingInput);

        let error = refuse(&with(ParameterInput {
            sampling: SamplingValues::from([("temperature", 3.5)]),
            ..ParameterInput::default()
        }))
        .await;
        assert_eq!(
            error,
            GenerationError::ParameterOutOfRange {
                param: "temperature",
                message: "`temperature` must be between 0 and 2; it was 3.5.".into()
            },
            "{backend:?}"
        );
        assert_eq!(
            (error.code(), error.param()),
            ("parameter_out_of_range", Some("temperature"))
        );
        assert_eq!(error.field(), Some(Field::Parameter("temperature")));

        for max_tokens in [0, MAX_ANSWER as u32 + 1] {
            let error = refuse(&with(ParameterInput {
                max_tokens: Some(max_tokens),
                ..ParameterInput::default()
            }))
            .await;
            assert_eq!(error.param(), Some("max_tokens"), "{max_tokens}: {error}");
            assert_eq!(error.code(), "parameter_out_of_range");
            assert!(
                error
                    .message()
                    .contains(&format!("between 1 and {MAX_ANSWER}")),
                "{error}"
            );
        }

        let error = refuse(&with(ParameterInput {
            stop: ["a", "b", "c", "d", "e"].map(String::from).to_vec(),
            ..ParameterInput::default()
        }))
        .await;
        assert_eq!(
            (error.code(), error.param()),
            ("parameter_out_of_range", Some("stop"))
        );

        // About 12,500 tokens for a context of 8,192.
        let error = refuse(&prompt(&"word ".repeat(10_000), true)).await;
        assert_eq!(
            error,
            GenerationError::ContextExceeded {
                model: "Test chat-a".into(),
                estimated: 12_500,
                context: CONTEXT
            },
            "{backend:?}"
        );
        assert_eq!(
            (error.code(), error.param()),
            ("prompt_too_long", Some("messages"))
        );

        // The model's own range wins over the standard one.
        h.edit_model(
            "UPDATE models SET temperature_max = $1 WHERE slug = $2",
            1.0,
            CHAT,
        )
        .await;
        let error = refuse(&with(ParameterInput {
            sampling: SamplingValues::from([("temperature", 1.5)]),
            ..ParameterInput::default()
        }))
        .await;
        assert_eq!(error.param(), Some("temperature"), "{backend:?}");
        assert_eq!(
            error.message(),
            "`temperature` must be between 0 and 1; it was 1.5."
        );

        assert_eq!(
            h.mock.request_count(OPENAI_CHAT_PATH),
            0,
            "{backend:?}: nothing was called"
        );
        assert_eq!(
            h.stored_generations().await,
            0,
            "{backend:?}: nothing was recorded"
        );
    }
}

#[tokio::test]
async fn unsupported_parameters_are_refused_or_dropped_as_the_caller_asks() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        // The chat models list temperature, top_p, max_tokens and stop only.
        let input = with(ParameterInput {
            sampling: SamplingValues::from([("temperature", 0.5), ("frequency_penalty", 0.1)]),
            seed: Some(7),
            ..ParameterInput::default()
        });
        let error = match h.start_as(&h.user, CHAT, &input, Unsupported::Refuse).await {
            Ok(live) => panic!("{backend:?}: {} started", live.id),
            Err(error) => error,
        };
        assert_eq!(
            error,
            GenerationError::UnsupportedParameter {
                param: "frequency_penalty",
                model: "Test chat-a".into()
            },
            "{backend:?}"
        );
        assert_eq!(
            (error.code(), error.param()),
            ("unsupported_parameter", Some("frequency_penalty"))
        );
        assert_eq!(h.mock.request_count(OPENAI_CHAT_PATH), 0);

        let live = h
            .start_as(&h.user, CHAT, &input, Unsupported::Drop)
            .await
            .unwrap_or_else(|error| panic!("{backend:?}: {error}"));
        assert_eq!(wait(&live).await.status, "success");
        let sent = h.mock.requests(OPENAI_CHAT_PATH)[0].json().unwrap();
        assert_eq!(sent["temperature"], 0.5, "{sent}");
        assert_eq!(sent.get("frequency_penalty"), None, "{sent}");
        assert_eq!(sent.get("seed"), None, "{sent}");
        // The record says what the client sent, dropped parameters included.
        let row = h.row(&live.id).await;
        let recorded: Value = serde_json::from_str(&row.parameters).unwrap();
        assert_eq!(recorded["frequencyPenalty"], 0.1, "{recorded}");
    }
}

/// The chat model's row and a text-only model's. `prepare` reads no storage: one backend
/// is enough to get the rows.
async fn rows() -> (Harness, ModelRow, ModelRow) {
    let h = Harness::start(Backend::Sqlite).await;
    let mut facts = chat_model(ENDPOINT, "text-only");
    facts.capabilities.chat_completion = false;
    facts.context_length = None;
    let text_only = h.add_model(facts).await;
    let chat = find_model(&h.db, CHAT).await.unwrap().unwrap();
    let text_only = find_model(&h.db, &text_only).await.unwrap().unwrap();
    (h, chat, text_only)
}

#[tokio::test]
async fn prepare_builds_the_conversation_the_mode_asks_for() {
    let (_h, chat, text_only) = rows().await;

    let code = GenerateInput {
        mode: Some(Mode::Code),
        ..prompt("fizzbuzz in rust", false)
    };
    let request = prepare(&chat, &code, Unsupported::Refuse).unwrap();
    assert_eq!(request.task, Task::Chat);
    assert_eq!(request.model, "chat-a");
    assert_eq!(
        request.messages,
        [
            message(Role::System, CODE_SYSTEM_PROMPT),
            message(Role::User, "fizzbuzz in rust")
        ]
    );
    let own_system = GenerateInput {
        system_prompt: Some("Answer in French.".into()),
        ..code.clone()
    };
    assert_eq!(
        prepare(&chat, &own_system, Unsupported::Refuse)
            .unwrap()
            .messages[0],
        message(Role::System, "Answer in French.")
    );

    // A text-only model gets the conversation's user turns as its prompt, after the system's.
    let conversation = GenerateInput {
        system_prompt: Some("Be brief.".into()),
        messages: Some(vec![
            message(Role::User, "first"),
            message(Role::Assistant, "reply"),
            message(Role::User, "second"),
        ]),
        mode: Some(Mode::Text),
        ..GenerateInput::default()
    };
    let request = prepare(&text_only, &conversation, Unsupported::Refuse).unwrap();
    assert_eq!(request.task, Task::TextCompletion);
    assert_eq!(request.prompt, "Be brief.\n\nfirst\n\nsecond");
    assert!(request.messages.is_empty());
}

#[tokio::test]
async fn prepare_refuses_what_the_model_or_the_limits_do_not_allow() {
    let (_h, chat, text_only) = rows().await;

    let image = GenerateInput {
        mode: Some(Mode::Image),
        ..prompt("a cat", false)
    };
    let error = prepare(&chat, &image, Unsupported::Refuse).unwrap_err();
    assert_eq!(
        error,
        GenerationError::UnsupportedMode {
            model: "Test chat-a".into(),
            verb: Some("generate images")
        }
    );
    assert_eq!(
        (error.code(), error.param()),
        ("unsupported_mode", Some("mode"))
    );

    let long = GenerateInput {
        messages: Some(vec![message(Role::User, "hi"); MAX_MESSAGES + 1]),
        ..GenerateInput::default()
    };
    let error = prepare(&chat, &long, Unsupported::Refuse).unwrap_err();
    assert_eq!(
        error,
        GenerationError::TooManyMessages {
            limit: MAX_MESSAGES
        }
    );
    assert_eq!(error.param(), Some("messages"));

    // Over the hard limit whatever the context (the text-only model states none).
    let huge = prompt(&"x".repeat(MAX_INPUT_CHARS + 1), false);
    let error = prepare(&text_only, &huge, Unsupported::Refuse).unwrap_err();
    assert_eq!(
        error,
        GenerationError::InputTooLarge {
            chars: MAX_INPUT_CHARS + 1,
            limit: MAX_INPUT_CHARS
        }
    );
    assert_eq!(
        (error.code(), error.param()),
        ("prompt_too_long", Some("messages"))
    );

    let wide = with(ParameterInput {
        width: Some(32),
        ..ParameterInput::default()
    });
    let error = prepare(&chat, &wide, Unsupported::Drop).unwrap_err();
    assert_eq!(
        (error.code(), error.param()),
        ("parameter_out_of_range", Some("width"))
    );

    // Refused even when unsupported parameters are dropped: a value out of range is a mistake.
    let hot = with(ParameterInput {
        sampling: SamplingValues::from([("temperature", -1.0)]),
        ..ParameterInput::default()
    });
    assert_eq!(
        prepare(&chat, &hot, Unsupported::Drop).unwrap_err().param(),
        Some("temperature")
    );
}
