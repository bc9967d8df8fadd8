//! The OpenAI-compatible gateway end to end, on both databases, against the mock provider:
//! models, chat (whole and streamed, with and without usage), legacy completions, embeddings
//! and images, errors in OpenAI's shape (bad key, missing scope, unknown model, refused
//! parameters, the monthly limit, upstream failures before and after the first token), and the
//! history. Every response body and stream chunk is validated against the official OpenAI
//! OpenAPI schemas (`../shared/fixtures/openai-openapi.yaml`) when that file is present.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use aipasta_core::catalog::{Capabilities, ModelFacts, Pricing};
use aipasta_core::money::Price;
use aipasta_engine::EnvEndpoint;
use aipasta_mock::{
    DEFAULT_TEXT, MockConfig, MockServer, OPENAI_EMBEDDINGS_PATH, OPENAI_IMAGES_PATH,
    OPENROUTER_CHAT_PATH, OPENROUTER_COMPLETIONS_PATH, Outcome, Script,
};
use aipasta_providers::generate::ApiKey;
use aipasta_store::testing::backends;
use aipasta_store::{Backend, Query};
use aipasta_web::WebConfig;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Caller, Reply, TestApp, TestUser, mock_provider_config, spawn_app_with};

/// A seeded OpenRouter chat model: takes max_tokens, stop, temperature, top_p (not top_k).
const MODEL: &str = "ai21/jamba-large-1.7";
/// Models of the OpenAI-compatible endpoint `local` (the mock's `/v1`).
const EMBED_MODEL: &str = "local/text-embed-small";
const IMAGE_MODEL: &str = "local/pixel-painter";

// ---- conformance: the official OpenAI schemas ----

const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/openai-openapi.yaml"
);

/// Validators for the response schemas the gateway answers with.
struct Spec {
    validators: BTreeMap<&'static str, jsonschema::Validator>,
}

const SCHEMAS: &[&str] = &[
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "CreateCompletionResponse",
    "CreateEmbeddingResponse",
    "ImagesResponse",
    "ListModelsResponse",
    "Model",
    "ErrorResponse",
];

/// The spec, loaded once; `None` (with a note) when `../shared` is absent.
fn spec() -> Option<&'static Spec> {
    static SPEC: OnceLock<Option<Spec>> = OnceLock::new();
    SPEC.get_or_init(|| {
        let Ok(text) = std::fs::read_to_string(SPEC_PATH) else {
            eprintln!("note: {SPEC_PATH} is absent; OpenAI schema conformance is not checked");
            return None;
        };
        let yaml: serde_norway::Value =
            serde_norway::from_str(&widen_huge_integers(&text)).expect("the OpenAI spec parses");
        let document = yaml_to_json(yaml);
        let mut schemas = document["components"]["schemas"].clone();
        openapi_to_json_schema(&mut schemas);
        let validators = SCHEMAS
            .iter()
            .map(|name| {
                let root = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "$ref": format!("#/components/schemas/{name}"),
                    "components": {"schemas": schemas},
                });
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("{name} compiles: {e}"));
                (*name, validator)
            })
            .collect();
        Some(Spec { validators })
    })
    .as_ref()
}

/// The spec writes `seed`'s bounds as integers beyond 64 bits, which the YAML parser refuses:
/// such values become floats (`…0.0`).
fn widen_huge_integers(text: &str) -> String {
    text.lines()
        .map(|line| {
            let value = line.rsplit_once(": ").map_or("", |(_, v)| v.trim());
            let digits = value.trim_start_matches('-');
            if digits.len() >= 19 && digits.bytes().all(|b| b.is_ascii_digit()) {
                format!("{line}.0\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

/// YAML to JSON; numbers beyond 64 bits (the spec has one) become floats.
fn yaml_to_json(value: serde_norway::Value) -> Value {
    use serde_norway::Value as Yaml;
    match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => n
            .as_i64()
            .map(Value::from)
            .or_else(|| n.as_u64().map(Value::from))
            .or_else(|| n.as_f64().map(Value::from))
            .unwrap_or(Value::Null),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.into_iter()
                .filter_map(|(k, v)| match k {
                    Yaml::String(k) => Some((k, yaml_to_json(v))),
                    Yaml::Number(n) => Some((n.to_string(), yaml_to_json(v))),
                    Yaml::Bool(b) => Some((b.to_string(), yaml_to_json(v))),
                    _ => None,
                })
                .collect(),
        ),
        Yaml::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

/// OpenAPI's `nullable: true` (still used in parts of the 3.1 document) as JSON Schema's
/// `null` type, so that `null` values the spec allows validate.
fn openapi_to_json_schema(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                openapi_to_json_schema(child);
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                if let Some(Value::String(kind)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([kind, "null"]));
                }
                if let Some(Value::Array(values)) = map.get_mut("enum") {
                    values.push(Value::Null);
                }
                if let Some(reference) = map.remove("$ref") {
                    map.insert(
                        "anyOf".into(),
                        json!([{"$ref": reference}, {"type": "null"}]),
                    );
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(openapi_to_json_schema),
        _ => {}
    }
}

/// Panics unless `instance` validates against the named OpenAI schema (skipped without the
/// spec).
fn conforms(schema: &str, instance: &Value) {
    let Some(spec) = spec() else { return };
    let validator = &spec.validators[schema];
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not a valid {schema}: {errors:#?}\n{instance:#}"
    );
}

// ---- set-up ----

fn config(mock: &MockServer) -> WebConfig {
    let mut config = mock_provider_config(mock);
    config.engine.providers.openai_compatible = vec![EnvEndpoint {
        name: "local".into(),
        base_url: mock.openai_base_url(),
        api_key: Some(ApiKey::new("sk-local")),
    }];
    config
}

struct Setup {
    mock: MockServer,
    app: TestApp,
    user: TestUser,
    /// A key with the `read` and `generate` scopes.
    key: String,
}

async fn start(backend: Backend) -> Setup {
    let mock = MockServer::start(MockConfig::default()).await;
    let app = spawn_app_with(backend, config(&mock), true).await;
    let user = app.sign_up("SDK User", "sdk@example.com").await;
    let key = create_key(&app, &user, &["read", "generate"]).await;
    Setup {
        mock,
        app,
        user,
        key,
    }
}

async fn create_key(app: &TestApp, user: &TestUser, scopes: &[&str]) -> String {
    let body = app
        .user(user)
        .post(
            "/api/users/api-keys",
            json!({"name": "sdk", "scopes": scopes}),
        )
        .await
        .json();
    body["data"]["key"].as_str().expect("a key").to_owned()
}

impl Setup {
    /// Calls with the SDK's key, as OpenAI's clients do.
    fn sdk(&self) -> Caller<'_> {
        self.app.bearer(&self.key)
    }

    async fn post(
        &self,
        path: &str,
        body: Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let reply = self.sdk().post(path, body).await;
        let body = reply.json();
        (reply.status, reply.headers, body)
    }

    /// A streamed call: the `data:` payloads, in order.
    async fn stream(&self, path: &str, body: Value) -> Vec<String> {
        let response = self.sdk().post(path, body).await;
        assert_eq!(response.status, StatusCode::OK);
        assert!(
            response
                .header("content-type")
                .starts_with("text/event-stream")
        );
        assert!(response.headers.contains_key("x-aipasta-generation-id"));
        data_lines(&response.text())
    }
}

fn data_lines(body: &str) -> Vec<String> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|block| {
            let data: Vec<&str> = block
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .collect()
}

/// An OpenAI error with this status, type and code; answers the error object.
fn assert_error(status: StatusCode, body: &Value, want: StatusCode, code: &str) -> Value {
    assert_eq!(status, want, "{body}");
    conforms("ErrorResponse", body);
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        !body["error"]["message"].as_str().unwrap_or("").is_empty(),
        "{body}"
    );
    assert!(
        body.get("success").is_none(),
        "not the plan's envelope: {body}"
    );
    body["error"].clone()
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    status: String,
    source: String,
    output_content: String,
    user_id: Option<String>,
}

async fn row(app: &TestApp, id: &str) -> Row {
    app.state.engine.flush().await;
    Query::new("SELECT status, source, output_content, user_id FROM generations WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

fn generation_id(headers: &reqwest::header::HeaderMap) -> String {
    headers["x-aipasta-generation-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn add_local_models(app: &TestApp) {
    let facts = |id: &str, category: &str, capabilities: Capabilities, output: &str| ModelFacts {
        provider: "local".into(),
        provider_model_id: id.into(),
        slug: format!("local/{id}"),
        name: id.into(),
        description: None,
        category: category.into(),
        tags: Vec::new(),
        pricing: Pricing {
            prompt: Some(Price::parse("0.0000001").unwrap()),
            ..Pricing::default()
        },
        capabilities,
        input_modalities: vec!["text".into()],
        output_modalities: vec![output.into()],
        context_length: Some(8192),
        max_output_tokens: None,
        supported_parameters: Vec::new(),
        parameter_defaults: BTreeMap::new(),
        developer: None,
        hugging_face_id: None,
        license: None,
        released_at: None,
        downloads: None,
    };
    let models = [
        facts(
            "text-embed-small",
            "embeddings",
            Capabilities {
                embedding: true,
                ..Capabilities::default()
            },
            "embeddings",
        ),
        facts(
            "pixel-painter",
            "image-generation",
            Capabilities {
                image_generation: true,
                ..Capabilities::default()
            },
            "image",
        ),
    ];
    aipasta_store::catalog::upsert_provider_models(&app.db, "local", &models, false)
        .await
        .unwrap();
}

// ---- tests ----

#[tokio::test]
async fn models_are_listed_in_openais_shape() {
    for backend in backends() {
        let s = start(backend).await;
        let response = s.sdk().get("/v1/models").await;
        assert_eq!(response.status, StatusCode::OK);
        let body = response.json();
        conforms("ListModelsResponse", &body);
        assert_eq!(body["object"], "list");
        let data = body["data"].as_array().unwrap();
        assert!(data.len() > 10, "{backend:?}: the seeded catalog");
        let model = data.iter().find(|m| m["id"] == MODEL).expect("the model");
        assert_eq!(model["object"], "model");
        assert_eq!(model["owned_by"], "openrouter");
        assert!(model["created"].as_i64().unwrap() > 1_600_000_000);
        assert!(
            model["created"].as_i64().unwrap() < 10_000_000_000,
            "seconds"
        );

        // One model, by its slug (which holds a slash).
        let response = s.sdk().get(&format!("/v1/models/{MODEL}")).await;
        assert_eq!(response.status, StatusCode::OK);
        let one = response.json();
        conforms("Model", &one);
        assert_eq!(&one, model);

        // Deprecated models are not listed, nor found.
        Query::new("UPDATE models SET status = 'deprecated' WHERE slug = $1")
            .bind(MODEL)
            .execute(&s.app.db)
            .await
            .unwrap();
        s.app.db.note_catalog_change();
        s.app.state.engine.changed(aipasta_engine::Change::Catalog);
        let body = s.sdk().get("/v1/models").await.json();
        assert!(
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["id"] != MODEL)
        );
        for path in [
            format!("/v1/models/{MODEL}"),
            "/v1/models/nobody/nothing".to_owned(),
        ] {
            let response = s.sdk().get(&path).await;
            let body = response.json();
            let error = assert_error(
                response.status,
                &body,
                StatusCode::NOT_FOUND,
                "model_not_found",
            );
            assert_eq!(error["param"], "model");
        }
    }
}

#[tokio::test]
async fn a_chat_completion_is_answered_recorded_and_in_the_history() {
    for backend in backends() {
        let s = start(backend).await;
        let (status, headers, body) = s
            .post(
                "/v1/chat/completions",
                json!({
                    "model": MODEL,
                    "messages": [
                        {"role": "system", "content": "Be brief."},
                        {"role": "user", "content": [
                            {"type": "text", "text": "Say"},
                            {"type": "text", "text": "something"}
                        ]}
                    ],
                    "temperature": 0.5,
                    "max_tokens": 500,
                    "max_completion_tokens": 64,
                    "stop": "END",
                    "top_k": 40,
                    "user": "end-user-7",
                    "logit_bias": {"50256": -100},
                    "some_future_field": {"x": 1}
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        conforms("CreateChatCompletionResponse", &body);
        let id = generation_id(&headers);
        assert_eq!(body["id"], format!("chatcmpl-{id}"));
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["model"], MODEL);
        let choice = &body["choices"][0];
        assert_eq!(choice["message"]["role"], "assistant");
        assert_eq!(choice["message"]["content"], DEFAULT_TEXT);
        assert_eq!(choice["finish_reason"], "stop");
        // The mock counts input words (2 + 2) and one token per word answered (9).
        assert_eq!(body["usage"]["prompt_tokens"], 4);
        assert_eq!(body["usage"]["completion_tokens"], 9);
        assert_eq!(body["usage"]["total_tokens"], 13);
        let created = body["created"].as_i64().unwrap();
        assert!((created - aipasta_core::clock::now_ms() / 1000).abs() < 60);

        // What went upstream: parts joined, max_completion_tokens winning, top_k dropped
        // (the model does not take it), unknown fields not passed on.
        let sent = s.mock.requests(OPENROUTER_CHAT_PATH);
        assert_eq!(sent.len(), 1);
        let request = sent[0].json().unwrap();
        assert_eq!(request["messages"][0]["role"], "system");
        assert_eq!(request["messages"][1]["content"], "Say\nsomething");
        assert_eq!(request["temperature"], 0.5);
        assert_eq!(request["max_tokens"], 64);
        assert_eq!(request["stop"], json!(["END"]));
        assert!(request.get("top_k").is_none(), "{request}");
        assert!(request.get("logit_bias").is_none(), "{request}");

        // In the history, marked as coming from /v1, readable with the same key.
        let stored = row(&s.app, &id).await;
        assert_eq!(stored.source, "v1");
        assert_eq!(stored.status, "success");
        assert_eq!(stored.output_content, DEFAULT_TEXT);
        assert_eq!(stored.user_id.as_deref(), Some(s.user.id.as_str()));
        let record = s.sdk().get(&format!("/api/generations/{id}")).await.json();
        assert_eq!(record["data"]["source"], "v1", "{record}");
        assert_eq!(record["data"]["output"]["content"], DEFAULT_TEXT);
        assert_eq!(record["data"]["input"]["parameters"]["maxTokens"], 64);
        // And counted in the account's usage.
        let (generations, tokens): (i64, i64) =
            Query::new("SELECT total_generations, tokens_used FROM users WHERE id = $1")
                .bind(&s.user.id)
                .fetch_one(&s.app.db)
                .await
                .unwrap();
        assert_eq!((generations, tokens), (1, 13));
    }
}

/// Checks a chat stream's chunks and answers the text they carry.
fn check_chat_chunks(lines: &[String], include_usage: bool) -> String {
    assert_eq!(
        lines.last().map(String::as_str),
        Some("[DONE]"),
        "{lines:?}"
    );
    let chunks: Vec<Value> = lines[..lines.len() - 1]
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for chunk in &chunks {
        conforms("CreateChatCompletionStreamResponse", chunk);
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], chunks[0]["id"]);
        assert_eq!(chunk["created"], chunks[0]["created"]);
        assert_eq!(chunk["model"], MODEL);
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let (content_chunks, tail) = if include_usage {
        let usage = chunks.last().unwrap();
        assert_eq!(usage["choices"], json!([]));
        assert_eq!(usage["usage"]["completion_tokens"], 9);
        assert_eq!(usage["usage"]["prompt_tokens"], 2);
        assert_eq!(usage["usage"]["total_tokens"], 11);
        for chunk in &chunks[..chunks.len() - 1] {
            assert_eq!(chunk["usage"], Value::Null, "{chunk}");
        }
        (&chunks[1..chunks.len() - 2], &chunks[chunks.len() - 2])
    } else {
        assert!(chunks.iter().all(|c| c.get("usage").is_none()));
        (&chunks[1..chunks.len() - 1], chunks.last().unwrap())
    };
    assert_eq!(tail["choices"][0]["delta"], json!({}));
    assert_eq!(tail["choices"][0]["finish_reason"], "stop");
    assert!(content_chunks.len() >= 5, "{lines:?}");
    content_chunks
        .iter()
        .map(|c| {
            assert_eq!(c["choices"][0]["finish_reason"], Value::Null);
            c["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_streamed_chat_sends_chunks_and_done_with_and_without_usage() {
    for backend in backends() {
        let s = start(backend).await;
        let lines = s
            .stream(
                "/v1/chat/completions",
                json!({"model": MODEL, "stream": true,
                       "messages": [{"role": "user", "content": "Stream please"}]}),
            )
            .await;
        assert_eq!(check_chat_chunks(&lines, false), DEFAULT_TEXT);

        let lines = s
            .stream(
                "/v1/chat/completions",
                json!({"model": MODEL, "stream": true,
                       "stream_options": {"include_usage": true},
                       "messages": [{"role": "user", "content": "Stream please"}]}),
            )
            .await;
        assert_eq!(check_chat_chunks(&lines, true), DEFAULT_TEXT);
        let first: Value = serde_json::from_str(&lines[0]).unwrap();
        let id = first["id"]
            .as_str()
            .unwrap()
            .strip_prefix("chatcmpl-")
            .unwrap();
        let stored = row(&s.app, id).await;
        assert_eq!(
            (stored.source.as_str(), stored.status.as_str()),
            ("v1", "success")
        );
        assert_eq!(
            s.mock.requests(OPENROUTER_CHAT_PATH)[1].json().unwrap()["stream"],
            true
        );
    }
}

#[tokio::test]
async fn upstream_failures_answer_openai_errors_before_and_during_a_stream() {
    for backend in backends() {
        let s = start(backend).await;
        // After the first token: the text so far, then an error event, and no [DONE].
        s.mock.push_script(
            OPENROUTER_CHAT_PATH,
            Script::outcome_only(Outcome::ErrorAfter(3)).chunk_delay(Duration::from_millis(40)),
        );
        let lines = s
            .stream(
                "/v1/chat/completions",
                json!({"model": MODEL, "stream": true,
                       "messages": [{"role": "user", "content": "fail midway"}]}),
            )
            .await;
        assert_ne!(
            lines.last().map(String::as_str),
            Some("[DONE]"),
            "{lines:?}"
        );
        let error: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
        conforms("ErrorResponse", &error);
        assert_eq!(error["error"]["code"], "stream_error", "{error}");
        assert_eq!(error["error"]["type"], "server_error");
        let chunks: Vec<Value> = lines[..lines.len() - 1]
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        chunks
            .iter()
            .for_each(|c| conforms("CreateChatCompletionStreamResponse", c));
        let partial: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert!(
            !partial.is_empty() && DEFAULT_TEXT.starts_with(&partial),
            "{partial:?}"
        );
        let id = chunks[0]["id"]
            .as_str()
            .unwrap()
            .strip_prefix("chatcmpl-")
            .unwrap();
        let stored = row(&s.app, id).await;
        assert_eq!(stored.status, "error");
        assert_eq!(stored.output_content, partial);

        // Before any token (every attempt refused): an HTTP error, which SDKs raise and retry.
        for _ in 0..3 {
            s.mock
                .push_script(OPENROUTER_CHAT_PATH, Script::status(502));
        }
        let response = s
            .sdk()
            .post(
                "/v1/chat/completions",
                json!({"model": MODEL, "stream": true,
                       "messages": [{"role": "user", "content": "anyone?"}]}),
            )
            .await;
        assert!(response.headers.contains_key("x-aipasta-generation-id"));
        let body = response.json();
        assert_eq!(response.status, StatusCode::BAD_GATEWAY, "{body}");
        conforms("ErrorResponse", &body);
        assert!(
            body["error"]["code"]
                .as_str()
                .unwrap()
                .starts_with("upstream_"),
            "{body}"
        );
        assert_eq!(body["error"]["type"], "server_error");

        // Not streaming: a provider's refusal is a 502 with its code.
        s.mock
            .push_script(OPENROUTER_CHAT_PATH, Script::status(402));
        let (status, headers, body) = s
            .post(
                "/v1/chat/completions",
                json!({"model": MODEL, "messages": [{"role": "user", "content": "no credits"}]}),
            )
            .await;
        assert_error(
            status,
            &body,
            StatusCode::BAD_GATEWAY,
            "upstream_payment_required",
        );
        assert_eq!(row(&s.app, &generation_id(&headers)).await.status, "error");
    }
}

#[tokio::test]
async fn keys_and_scopes_are_checked_with_openai_errors() {
    for backend in backends() {
        let s = start(backend).await;
        let chat = json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]});
        // No key, a malformed key, a revoked-looking key.
        for auth in [
            None,
            Some("Bearer nonsense"),
            Some("Bearer aip_0000000000000000"),
        ] {
            // Built by hand: the malformed credential is what is tested.
            let mut request = s
                .app
                .client
                .post(s.app.url("/v1/chat/completions"))
                .json(&chat);
            if let Some(auth) = auth {
                request = request.header("authorization", auth);
            }
            let response = Reply::read(request).await;
            let body = response.json();
            let error = assert_error(
                response.status,
                &body,
                StatusCode::UNAUTHORIZED,
                "invalid_api_key",
            );
            assert_eq!(error["type"], "invalid_request_error");
        }
        // A key with only the read scope lists models but cannot generate.
        let reader = create_key(&s.app, &s.user, &["read"]).await;
        let response = s.app.bearer(&reader).get("/v1/models").await;
        assert_eq!(response.status, StatusCode::OK);
        let response = s
            .app
            .bearer(&reader)
            .post("/v1/chat/completions", chat.clone())
            .await;
        let body = response.json();
        let error = assert_error(
            response.status,
            &body,
            StatusCode::FORBIDDEN,
            "insufficient_permissions",
        );
        assert!(error["message"].as_str().unwrap().contains("generate"));
        // Unknown routes and wrong methods answer OpenAI's shape too.
        let response = s.sdk().post("/v1/nothing/here", chat).await;
        assert_error(
            response.status,
            &response.json(),
            StatusCode::NOT_FOUND,
            "unknown_url",
        );
        let response = s.sdk().get("/v1/chat/completions").await;
        let body = response.json();
        assert_error(
            response.status,
            &body,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        );
        assert_eq!(s.mock.request_count(OPENROUTER_CHAT_PATH), 0);
    }
}

#[tokio::test]
async fn bad_requests_unknown_models_and_the_monthly_limit_are_refused_like_openai() {
    for backend in backends() {
        let s = start(backend).await;
        let user = |content: Value| json!([{"role": "user", "content": content}]);
        let cases = [
            (
                json!({"model": "nobody/nothing", "messages": user(json!("hi"))}),
                StatusCode::NOT_FOUND,
                "model_not_found",
                Some("model"),
            ),
            (
                json!({"messages": user(json!("hi"))}),
                StatusCode::BAD_REQUEST,
                "missing_required_parameter",
                Some("model"),
            ),
            (
                json!({"model": MODEL, "messages": user(json!("hi")), "temperature": 3.5}),
                StatusCode::BAD_REQUEST,
                "parameter_out_of_range",
                Some("temperature"),
            ),
            (
                json!({"model": MODEL, "messages": []}),
                StatusCode::BAD_REQUEST,
                "empty_array",
                Some("messages"),
            ),
            (
                json!({"model": MODEL, "messages": user(json!("   "))}),
                StatusCode::BAD_REQUEST,
                "missing_input",
                Some("messages"),
            ),
            (
                json!({"model": MODEL, "messages": user(json!([
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
                ]))}),
                StatusCode::BAD_REQUEST,
                "image_input_not_supported",
                Some("messages[0].content[1]"),
            ),
            (
                json!({"model": MODEL, "messages": user(json!("hi")), "n": 2}),
                StatusCode::BAD_REQUEST,
                "unsupported_value",
                Some("n"),
            ),
            (
                json!({"model": MODEL, "messages": [{"role": "tool", "content": "42"}]}),
                StatusCode::BAD_REQUEST,
                "unsupported_value",
                Some("messages[0].role"),
            ),
            (
                json!({"model": MODEL, "messages": user(json!("x".repeat(1_100_000)))}),
                StatusCode::BAD_REQUEST,
                "context_length_exceeded",
                Some("messages"),
            ),
        ];
        for (body, want, code, param) in cases {
            let (status, _, answer) = s.post("/v1/chat/completions", body).await;
            let error = assert_error(status, &answer, want, code);
            assert_eq!(error["param"].as_str(), param, "{code}: {answer}");
        }
        // Not JSON at all.
        // Built by hand: a body that is not JSON is what is tested.
        let response = Reply::read(
            s.app
                .client
                .post(s.app.url("/v1/chat/completions"))
                .bearer_auth(&s.key)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
        assert_error(
            response.status,
            &response.json(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        );
        assert_eq!(s.mock.request_count(OPENROUTER_CHAT_PATH), 0);

        // The monthly token limit: one call fits, the next is refused as OpenAI's quota error.
        // Through the store, as the admin API does: it tells cached callers their row changed.
        aipasta_store::accounts::set_usage_limits(&s.app.db, &s.user.id, Some(10), "free")
            .await
            .unwrap();
        s.app.state.engine.usage.forget();
        let chat = json!({"model": MODEL, "messages": user(json!("one"))});
        let (status, _, body) = s.post("/v1/chat/completions", chat.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _, body) = s.post("/v1/chat/completions", chat).await;
        let error = assert_error(
            status,
            &body,
            StatusCode::TOO_MANY_REQUESTS,
            "insufficient_quota",
        );
        assert_eq!(error["type"], "insufficient_quota");
        assert_eq!(s.mock.request_count(OPENROUTER_CHAT_PATH), 1);
    }
}

#[tokio::test]
async fn legacy_completions_answer_text_completions_whole_and_streamed() {
    for backend in backends() {
        let s = start(backend).await;
        let (status, headers, body) = s
            .post(
                "/v1/completions",
                json!({"model": MODEL, "prompt": ["Once upon a time"], "max_tokens": 5}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        conforms("CreateCompletionResponse", &body);
        let id = generation_id(&headers);
        assert_eq!(body["id"], format!("cmpl-{id}"));
        assert_eq!(body["object"], "text_completion");
        assert_eq!(
            body["choices"][0]["text"].as_str().unwrap().trim_end(),
            "The mock model answers with"
        );
        assert_eq!(body["choices"][0]["finish_reason"], "length");
        assert_eq!(row(&s.app, &id).await.source, "v1");

        let lines = s
            .stream(
                "/v1/completions",
                json!({"model": MODEL, "prompt": "Once", "stream": true,
                       "stream_options": {"include_usage": true}}),
            )
            .await;
        assert_eq!(lines.last().map(String::as_str), Some("[DONE]"));
        let chunks: Vec<Value> = lines[..lines.len() - 1]
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let usage = chunks.last().unwrap();
        assert_eq!(usage["choices"], json!([]));
        assert_eq!(usage["usage"]["completion_tokens"], 9);
        let text: String = chunks[..chunks.len() - 1]
            .iter()
            .map(|c| {
                assert_eq!(c["object"], "text_completion");
                // The spec reuses the whole response's schema for chunks, whose
                // finish_reason is not nullable; OpenAI streams `null` until the last chunk.
                let mut as_whole = c.clone();
                // Likewise `usage: null` before the last chunk, with include_usage.
                if as_whole["choices"][0]["finish_reason"].is_null() {
                    as_whole["choices"][0]["finish_reason"] = json!("stop");
                }
                if as_whole["usage"].is_null() {
                    as_whole.as_object_mut().unwrap().remove("usage");
                }
                conforms("CreateCompletionResponse", &as_whole);
                c["choices"][0]["text"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(text, DEFAULT_TEXT);
        assert_eq!(
            chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
            "stop"
        );

        // A prompt list longer than one is refused.
        let (status, _, body) = s
            .post(
                "/v1/completions",
                json!({"model": MODEL, "prompt": ["a", "b"]}),
            )
            .await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "unsupported_value");
        assert_eq!(error["param"], "prompt");
        // The seeded chat model answers through the chat route upstream.
        assert_eq!(s.mock.request_count(OPENROUTER_COMPLETIONS_PATH), 0);
    }
}

#[tokio::test]
async fn embeddings_and_images_run_through_an_openai_compatible_endpoint() {
    for backend in backends() {
        let s = start(backend).await;
        add_local_models(&s.app).await;

        let (status, headers, body) = s
            .post(
                "/v1/embeddings",
                json!({"model": EMBED_MODEL, "input": "the quick brown fox"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        conforms("CreateEmbeddingResponse", &body);
        assert_eq!(body["object"], "list");
        assert_eq!(body["model"], EMBED_MODEL);
        let first = body["data"][0]["embedding"].as_array().unwrap().clone();
        assert!(!first.is_empty());
        assert_eq!(body["data"][0]["object"], "embedding");
        assert_eq!(body["usage"]["prompt_tokens"], 4);
        let id = generation_id(&headers);
        assert_eq!(row(&s.app, &id).await.source, "v1");
        let sent = s.mock.requests(OPENAI_EMBEDDINGS_PATH)[0].json().unwrap();
        assert_eq!(sent["model"], "text-embed-small");

        // A list: one vector per input, in order; the same text gives the same vector.
        let (status, headers, body) = s
            .post(
                "/v1/embeddings",
                json!({"model": EMBED_MODEL, "input": ["a b", "the quick brown fox", "c"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        conforms("CreateEmbeddingResponse", &body);
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len(), 3);
        assert_eq!(data[1]["embedding"].as_array().unwrap(), &first);
        assert_eq!(data[2]["index"], 2);
        assert_eq!(body["usage"]["prompt_tokens"], 7);
        assert_eq!(generation_id(&headers).split(',').count(), 3);

        // base64: little-endian f32s.
        let (_, _, body) = s
            .post(
                "/v1/embeddings",
                json!({"model": EMBED_MODEL, "input": "the quick brown fox",
                       "encoding_format": "base64"}),
            )
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body["data"][0]["embedding"].as_str().unwrap())
            .unwrap();
        let floats: Vec<f64> = bytes
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect();
        let expected: Vec<f64> = first.iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(floats.len(), expected.len());
        assert!(
            floats
                .iter()
                .zip(&expected)
                .all(|(a, b)| (a - b).abs() < 1e-6)
        );

        // A chat model cannot embed.
        let (status, _, body) = s
            .post("/v1/embeddings", json!({"model": MODEL, "input": "x"}))
            .await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "unsupported_mode");
        assert_eq!(error["param"], "model");

        // Images: b64_json by default, the size passed on.
        let (status, headers, body) = s
            .post(
                "/v1/images/generations",
                json!({"model": IMAGE_MODEL, "prompt": "a red square", "size": "128x64"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        conforms("ImagesResponse", &body);
        let png = base64::engine::general_purpose::STANDARD
            .decode(body["data"][0]["b64_json"].as_str().unwrap())
            .unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let sent = s.mock.requests(OPENAI_IMAGES_PATH)[0].json().unwrap();
        assert_eq!(sent["size"], "128x64");
        let id = generation_id(&headers);
        assert_eq!(row(&s.app, &id).await.source, "v1");

        // As a URL to the stored image, fetched with the same key.
        let (status, _, body) = s
            .post(
                "/v1/images/generations",
                json!({"model": IMAGE_MODEL, "prompt": "a red square", "response_format": "url"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        conforms("ImagesResponse", &body);
        let url = body["data"][0]["url"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("http://{}/api/generations/", s.app.address)),
            "{url}"
        );
        // The URL as given (absolute), not a path on the app.
        let image = Reply::read(s.app.client.get(url).bearer_auth(&s.key)).await;
        assert_eq!(image.status, StatusCode::OK);
        assert_eq!(image.header("content-type"), "image/png");

        // Refusals: n above 1, a malformed size, a text model.
        for (body, code, param) in [
            (
                json!({"model": IMAGE_MODEL, "prompt": "x", "n": 2}),
                "unsupported_value",
                "n",
            ),
            (
                json!({"model": IMAGE_MODEL, "prompt": "x", "size": "huge"}),
                "invalid_value",
                "size",
            ),
            (
                json!({"model": MODEL, "prompt": "x"}),
                "unsupported_mode",
                "model",
            ),
        ] {
            let (status, _, answer) = s.post("/v1/images/generations", body).await;
            let error = assert_error(status, &answer, StatusCode::BAD_REQUEST, code);
            assert_eq!(error["param"], param, "{answer}");
        }
    }
}

#[tokio::test]
async fn the_openapi_document_and_the_docs_page_describe_every_api_route() {
    for backend in backends() {
        let app = spawn_app_with(backend, WebConfig::default(), true).await;
        let response = app.get("/api/openapi.json").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let doc: Value = response.json().await.unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        // Every registered /api and /v1 route, with its method.
        for rule in aipasta_web::routes().rules() {
            if !(rule.path.starts_with("/api/") || rule.path.starts_with("/v1/")) {
                continue;
            }
            // Model ids hold slashes: the wildcard routes answer `{id}/generate` and
            // `{id}/favorite`.
            let path = match (&rule.method, rule.path.as_str()) {
                (&Method::POST, "/api/models/{*id}") => "/api/models/{id}/generate".to_owned(),
                (&Method::DELETE, "/api/models/{*id}") => "/api/models/{id}/favorite".to_owned(),
                _ => rule.path.replace("{*", "{"),
            };
            let method = rule.method.as_str().to_ascii_lowercase();
            assert!(
                paths.get(&path).and_then(|p| p.get(&method)).is_some(),
                "{method} {path} is documented"
            );
        }
        let chat = &paths["/v1/chat/completions"]["post"];
        assert_eq!(
            chat["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/V1ChatRequest"
        );
        assert!(chat["responses"]["200"]["content"]["text/event-stream"].is_object());
        assert_eq!(chat["security"][0]["bearer"], json!([]));

        let response = app.get("/docs/api").await;
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap();
        for needle in [
            "/v1/chat/completions",
            "base_url=",
            "await fetch(",
            "curl http://",
            "/api/openapi.json",
            "/api/models/{id}/generate",
        ] {
            assert!(html.contains(needle), "the page shows {needle}");
        }
        // Strict CSP: scripts only from files, no inline handlers.
        for script in html.split("<script").skip(1) {
            assert!(
                script.split('>').next().unwrap().contains("src="),
                "inline script"
            );
        }
        assert!(!html.contains(" onclick="));
    }
}
