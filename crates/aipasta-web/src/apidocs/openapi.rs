//! The OpenAPI 3.1 document: every `/api` and `/v1` route the router registers (from the
//! same list the access rules come from, so a new route is in the document the day it is
//! added), with hand-written request and response schemas for the main ones.

use serde_json::{Map, Value, json};

use aipasta_core::params::{SAMPLING, SamplingParam, ValueKind};

use crate::auth::Access;
use crate::auth::access::Rule;
use crate::auth::tokens::API_KEY_PREFIX;

/// What we say about one operation beyond its path and access rule.
struct Operation {
    summary: &'static str,
    description: &'static str,
    tag: &'static str,
    request: Option<&'static str>,
    /// (status, description, schema name or none, content type).
    responses: &'static [(u16, &'static str, Option<&'static str>, &'static str)],
    /// Query parameters: (name, description, required).
    query: &'static [(&'static str, &'static str, bool)],
}

const JSON: &str = "application/json";
const SSE: &str = "text/event-stream";

/// The documented operations, by method and path as registered.
fn operation(method: &str, path: &str) -> Option<Operation> {
    let op = |summary, description, tag, request, responses, query| Operation {
        summary,
        description,
        tag,
        request,
        responses,
        query,
    };
    Some(match (method, path) {
        ("GET", "/v1/models") => op(
            "List models",
            "The catalog's active models in OpenAI's list shape. A model's `id` is what every other `/v1` call takes as `model`.",
            "OpenAI-compatible",
            None,
            &[(200, "The models.", Some("V1ModelList"), JSON)],
            &[],
        ),
        ("GET", "/v1/models/{*id}") => op(
            "Retrieve a model",
            "One active model. Ids contain slashes (`openai/gpt-4o`); send them as they are.",
            "OpenAI-compatible",
            None,
            &[
                (200, "The model.", Some("V1Model"), JSON),
                (
                    404,
                    "No active model has that id (`model_not_found`).",
                    Some("V1Error"),
                    JSON,
                ),
            ],
            &[],
        ),
        ("POST", "/v1/chat/completions") => op(
            "Create a chat completion",
            "OpenAI's chat completion. With `stream: true` the answer is Server-Sent Events: `data: {chat.completion.chunk}` lines — a first chunk with `delta: {role: \"assistant\", content: \"\"}`, content deltas, a chunk with an empty delta and `finish_reason`, then (with `stream_options.include_usage`) a chunk with `choices: []` and `usage` — and `data: [DONE]`. The first chunk (which carries the generation's id) is sent once the generation's row is stored, and `[DONE]` (or a whole answer) once its final row is. A failure after the stream started sends one `data: {\"error\": {...}}` event and closes without `[DONE]` (OpenAI's SDKs raise it as an `APIError`); a failure before the first token is an HTTP error. Parameters the model does not support are dropped; unknown fields are ignored; `n` must be 1; image content parts are refused. The generation is recorded with `source: v1`; its id is in the `X-AIPasta-Generation-Id` header.",
            "OpenAI-compatible",
            Some("V1ChatRequest"),
            &[
                (
                    200,
                    "The completion, or its chunks when streaming.",
                    Some("V1ChatCompletion"),
                    JSON,
                ),
                (
                    400,
                    "A refused request (`invalid_request_error`, with `param`).",
                    Some("V1Error"),
                    JSON,
                ),
                (
                    401,
                    "A missing or invalid API key (`invalid_api_key`).",
                    Some("V1Error"),
                    JSON,
                ),
                (
                    403,
                    "A key without the `generate` scope.",
                    Some("V1Error"),
                    JSON,
                ),
                (
                    404,
                    "An unknown model (`model_not_found`).",
                    Some("V1Error"),
                    JSON,
                ),
                (
                    429,
                    "Too many requests (`rate_limit_exceeded`) or the monthly token allowance used up (`insufficient_quota`).",
                    Some("V1Error"),
                    JSON,
                ),
                (502, "The provider failed.", Some("V1Error"), JSON),
                (
                    503,
                    "Generations cannot be saved right now (`storage_unavailable`); nothing was started. `Retry-After` says when to try again.",
                    Some("V1Error"),
                    JSON,
                ),
                (504, "The provider timed out.", Some("V1Error"), JSON),
            ],
            &[],
        ),
        ("POST", "/v1/completions") => op(
            "Create a completion (legacy)",
            "OpenAI's legacy text completion: `prompt` is a string or an array of one string. Streams `text_completion` chunks like chat does.",
            "OpenAI-compatible",
            Some("V1CompletionRequest"),
            &[
                (
                    200,
                    "The completion, or its chunks when streaming.",
                    Some("V1Completion"),
                    JSON,
                ),
                (400, "A refused request.", Some("V1Error"), JSON),
                (404, "An unknown model.", Some("V1Error"), JSON),
            ],
            &[],
        ),
        ("POST", "/v1/embeddings") => op(
            "Create embeddings",
            "Vectors from an embedding model: `input` is a string or an array of strings (up to 256; each is recorded as one generation). `encoding_format: base64` answers little-endian `f32`s.",
            "OpenAI-compatible",
            Some("V1EmbeddingRequest"),
            &[
                (
                    200,
                    "The vectors, in input order.",
                    Some("V1EmbeddingList"),
                    JSON,
                ),
                (
                    400,
                    "A refused request (a model that cannot embed: `unsupported_mode`).",
                    Some("V1Error"),
                    JSON,
                ),
            ],
            &[],
        ),
        ("POST", "/v1/images/generations") => op(
            "Create an image",
            "An image from an image model. `n` must be 1; `size` is `WIDTHxHEIGHT`; `response_format` is `b64_json` (the default here) or `url`, a link to `/api/generations/{id}/image` on the site's public address (`AIPASTA_PUBLIC_URL`; never taken from the request's `Host`) that needs the same `Authorization` header. Either form carries only images whose bytes are a PNG, JPEG, WebP or GIF, typed by those bytes whatever the provider claimed; a provider answer holding anything else (HTML, SVG, script, nothing) is refused as a whole — a 502 `upstream_malformed` saying what the image looked like, recorded as an `error`, with none of its images kept.",
            "OpenAI-compatible",
            Some("V1ImageRequest"),
            &[
                (200, "The image.", Some("V1ImagesResponse"), JSON),
                (400, "A refused request.", Some("V1Error"), JSON),
                (
                    502,
                    "The provider failed, or returned an image that is not a PNG, JPEG, WebP or GIF (`upstream_malformed`).",
                    Some("V1Error"),
                    JSON,
                ),
            ],
            &[],
        ),
        ("GET", "/api/models") => op(
            "List the catalog",
            "Active models, filtered and paged.",
            "Models",
            None,
            &[(200, "One page of models.", Some("ModelPage"), JSON)],
            &[
                ("search", "Words to find (each as a prefix).", false),
                (
                    "category",
                    "A category slug; its sub-categories are included.",
                    false,
                ),
                (
                    "provider",
                    "`openrouter`, `huggingface` or an endpoint's name.",
                    false,
                ),
                ("capability", "A capability the model must have.", false),
                ("free", "`true` for free models only.", false),
                (
                    "max_price",
                    "Highest input price per 1M tokens, in USD.",
                    false,
                ),
                ("min_context", "Smallest context length, in tokens.", false),
                (
                    "sort",
                    "The sort field (see the catalog page's choices).",
                    false,
                ),
                ("order", "`asc` or `desc`.", false),
                ("page", "1-based page number.", false),
                ("limit", "Models per page.", false),
            ],
        ),
        ("GET", "/api/models/{*id}") => op(
            "Model details",
            "One model by id or slug (slugs contain slashes), with related models.",
            "Models",
            None,
            &[
                (200, "The model.", Some("ModelEnvelope"), JSON),
                (404, "No such model.", Some("ApiError"), JSON),
            ],
            &[],
        ),
        ("GET", "/api/models/search") => op(
            "Search models",
            "Full-text search over names, ids, descriptions and tags.",
            "Models",
            None,
            &[(200, "The matches.", Some("ModelListEnvelope"), JSON)],
            &[
                ("q", "The text to search for (up to 200 characters).", true),
                ("limit", "1 to 50 (default 10).", false),
            ],
        ),
        ("GET", "/api/models/trending") => op(
            "Trending models",
            "The most used models of the last seven days.",
            "Models",
            None,
            &[(200, "The models.", Some("ModelListEnvelope"), JSON)],
            &[("limit", "1 to 50 (default 10).", false)],
        ),
        ("GET", "/api/models/categories") => op(
            "Categories",
            "The category tree with model counts.",
            "Models",
            None,
            &[(200, "The categories.", Some("Envelope"), JSON)],
            &[],
        ),
        ("POST", "/api/models/{*id}") => op(
            "Generate with a model",
            "`POST /api/models/{id}/generate`: the plan's generation call. Answers the finished generation, or Server-Sent Events (`start`, `delta`, `usage`, `done` or `error`) with `stream: true`. Unsupported parameters are refused.",
            "Generations",
            Some("GenerateRequest"),
            &[
                (
                    200,
                    "The generation (or its events).",
                    Some("GenerationEnvelope"),
                    JSON,
                ),
                (400, "A refused request.", Some("ApiError"), JSON),
                (404, "No such model.", Some("ApiError"), JSON),
                (
                    429,
                    "The monthly token allowance is used up.",
                    Some("ApiError"),
                    JSON,
                ),
                (502, "The provider failed.", Some("ApiError"), JSON),
                (
                    503,
                    "Generations cannot be saved right now (`storage_unavailable`) or the database is unreachable (`database_unavailable`); nothing was started. `Retry-After` says when to try again.",
                    Some("ApiError"),
                    JSON,
                ),
            ],
            &[],
        ),
        ("POST", "/api/ai/generate") => op(
            "Generate (model in the body)",
            "Like `/api/models/{id}/generate`, with `model` in the body; streams with `stream: true`.",
            "Generations",
            Some("UnifiedGenerateRequest"),
            &[
                (
                    200,
                    "The generation (or its events).",
                    Some("GenerationEnvelope"),
                    JSON,
                ),
                (
                    503,
                    "Generations cannot be saved right now (`storage_unavailable`, with `Retry-After`).",
                    Some("ApiError"),
                    JSON,
                ),
            ],
            &[],
        ),
        ("GET", "/api/health") => op(
            "Health",
            "`status` is `ok` after a real database round trip. 503 with the same shape: `unavailable` when the database does not answer (`error.code` `database_unavailable`), `degraded` while generations cannot be written, e.g. on a full disk (`writes_failing`, the reason in `error.message`, `data.writesFailingSince` in epoch milliseconds); new generations are refused meanwhile.",
            "Service",
            None,
            &[
                (200, "Healthy.", Some("Envelope"), JSON),
                (503, "Unavailable or degraded.", Some("ApiError"), JSON),
            ],
            &[],
        ),
        ("POST", "/api/ai/stream") => op(
            "Generate, streamed",
            "Always Server-Sent Events: `start`, `delta` (`{content}`), `usage`, then `done` (the generation) or `error`.",
            "Generations",
            Some("UnifiedGenerateRequest"),
            &[(200, "The events.", None, SSE)],
            &[],
        ),
        ("GET", "/api/generations/{id}") => op(
            "A generation",
            "One of your generations (from the playground, the API or `/v1`), with its input, output, usage, cost and timing; a running one shows its text so far.",
            "Generations",
            None,
            &[
                (200, "The generation.", Some("Envelope"), JSON),
                (404, "None of yours has that id.", Some("ApiError"), JSON),
            ],
            &[],
        ),
        ("GET", "/api/generations/{id}/stream") => op(
            "Reattach to a generation",
            "The events of a running generation from its start (text so far, then the rest); a finished one replays.",
            "Generations",
            None,
            &[(200, "The events.", None, SSE)],
            &[],
        ),
        ("POST", "/api/generations/{id}/cancel") => op(
            "Cancel a generation",
            "Stops a running generation; what it produced is kept with status `cancelled`.",
            "Generations",
            None,
            &[
                (
                    200,
                    "The generation as it ended.",
                    Some("GenerationEnvelope"),
                    JSON,
                ),
                (409, "It already ended.", Some("ApiError"), JSON),
            ],
            &[],
        ),
        ("GET", "/api/generations/{id}/image") => op(
            "A generated image",
            "One image of an image generation. Only images whose bytes are a PNG, JPEG, WebP or GIF are kept (a generation whose provider returned anything else ended as an `error` and kept none), and the bytes are checked again when served: `Content-Type` is `image/png`, `image/jpeg`, `image/webp` or `image/gif` as the bytes say, with `Content-Disposition: inline; filename=\"aipasta-{id}-{index}.{png|jpg|webp|gif}\"`. The image, and this route's own 404 and 410, are sent with `Content-Security-Policy: sandbox; default-src 'none'` (in place of the site's policy) and `X-Content-Type-Options: nosniff`. An image stored before images were checked whose bytes are no such image is never served (410 `image_not_served`).",
            "Generations",
            None,
            &[
                (
                    200,
                    "The image (`image/png`, `image/jpeg`, `image/webp` or `image/gif`).",
                    None,
                    "image/png",
                ),
                (
                    404,
                    "No such generation of yours, or no image at that index.",
                    Some("ApiError"),
                    JSON,
                ),
                (
                    410,
                    "A stored image that is not a PNG, JPEG, WebP or GIF (`image_not_served`).",
                    Some("ApiError"),
                    JSON,
                ),
            ],
            &[("index", "Which image (default 0).", false)],
        ),
        ("POST", "/api/auth/signup") => op(
            "Sign up",
            "Creates an account; answers it and a bearer token (JWT). Only created accounts count against the address's sign-up limit; a refused sign-up says why.",
            "Accounts",
            Some("SignupRequest"),
            &[
                (201, "The account and its token.", Some("AuthAnswer"), JSON),
                (
                    400,
                    "A refused email, name or password (`validation_error`).",
                    Some("ApiError"),
                    JSON,
                ),
                (
                    409,
                    "An account with this email exists (`email_taken`).",
                    Some("ApiError"),
                    JSON,
                ),
                (
                    429,
                    "Too many accounts created, or sign-up attempts, from this address (`Retry-After`).",
                    Some("ApiError"),
                    JSON,
                ),
            ],
            &[],
        ),
        ("POST", "/api/auth/signin") => op(
            "Sign in",
            "Answers the account and a bearer token (JWT) for `Authorization: Bearer`, valid for an hour, until a sign-out or a password change.",
            "Accounts",
            Some("SigninRequest"),
            &[
                (200, "The account and its token.", Some("AuthAnswer"), JSON),
                (
                    401,
                    "Wrong email or password, or an account that cannot sign in (`invalid_credentials`).",
                    Some("ApiError"),
                    JSON,
                ),
                (
                    429,
                    "Too many attempts or failures from this address (`Retry-After`).",
                    Some("ApiError"),
                    JSON,
                ),
            ],
            &[],
        ),
        ("POST", "/api/auth/signout") => op(
            "Sign out",
            "Ends the browser session, and every JWT the account was issued until now (on every device). An API key signs nothing out: revoke it instead.",
            "Accounts",
            None,
            &[(200, "Signed out.", Some("Envelope"), JSON)],
            &[],
        ),
        ("POST", "/api/users/password") => op(
            "Change your password",
            "Checks the current password, sets the new one, ends every other session and every JWT issued before. A caller who came with a JWT gets a new one in `data.token`.",
            "Accounts",
            None,
            &[
                (200, "Changed.", Some("Envelope"), JSON),
                (
                    400,
                    "The new password breaks the policy.",
                    Some("ApiError"),
                    JSON,
                ),
                (
                    403,
                    "The current password is wrong (`wrong_password`).",
                    Some("ApiError"),
                    JSON,
                ),
            ],
            &[],
        ),
        ("GET", "/api/users/api-keys") => op(
            "Your API keys",
            "Your personal API keys (never the keys themselves).",
            "Accounts",
            None,
            &[(200, "The keys.", Some("Envelope"), JSON)],
            &[],
        ),
        ("POST", "/api/users/api-keys") => op(
            "Create an API key",
            "A personal API key for `/api` and `/v1`, shown once. Scopes (at least one): `read` (GET calls), `generate` (generations and other changes), `admin` (admin and moderator routes; only admins can grant it, and the answer then carries a `warning`).",
            "Accounts",
            Some("NewApiKey"),
            &[
                (
                    201,
                    "The key, shown this once in `data.key`.",
                    Some("Envelope"),
                    JSON,
                ),
                (
                    400,
                    "No scope, an unknown scope, or a bad name or expiry (the message names the field, e.g. `scopes: ...`).",
                    Some("ApiError"),
                    JSON,
                ),
                (
                    403,
                    "The `admin` scope asked for by someone who is not an admin (`scopes: ...`).",
                    Some("ApiError"),
                    JSON,
                ),
            ],
            &[],
        ),
        ("DELETE", "/api/users/api-keys/{id}") => op(
            "Revoke an API key",
            "The key stops working at once.",
            "Accounts",
            None,
            &[(200, "Revoked.", Some("Envelope"), JSON)],
            &[],
        ),
        _ => return None,
    })
}

/// The path as OpenAPI writes it: `{*id}` becomes `{id}`, and the generate route its full
/// form.
fn openapi_path(method: &str, path: &str) -> String {
    if method == "POST" && path == "/api/models/{*id}" {
        return "/api/models/{id}/generate".to_owned();
    }
    path.replace("{*", "{")
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .map(|name| {
            let wildcard = name.starts_with('*');
            let name = name.trim_start_matches('*');
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": if wildcard {
                    "May contain slashes (model slugs such as `openai/gpt-4o`)."
                } else {
                    "The id."
                },
                "schema": {"type": "string"},
            })
        })
        .collect()
}

fn tag_for(path: &str) -> &'static str {
    if path.starts_with("/v1/") {
        "OpenAI-compatible"
    } else if path.starts_with("/api/admin/") {
        "Admin"
    } else if path.starts_with("/api/auth/") || path.starts_with("/api/users/") {
        "Accounts"
    } else if path.starts_with("/api/models") {
        "Models"
    } else if path.starts_with("/api/generations") || path.starts_with("/api/ai/") {
        "Generations"
    } else {
        "Service"
    }
}

fn security(access: Access) -> (Value, &'static str) {
    match access {
        Access::Public => (json!([]), "Anyone."),
        Access::User => (
            json!([{"bearer": []}, {"session": []}]),
            "Signed in: a session, a JWT, or an API key (`read` scope for GET, `generate` otherwise).",
        ),
        Access::Account => (
            json!([{"bearer": []}, {"session": []}]),
            "Signed in with a session or a JWT; API keys cannot manage an account.",
        ),
        Access::Moderator => (
            json!([{"bearer": []}, {"session": []}]),
            "Moderators and admins, with a session, a JWT, or an API key with the `admin` scope.",
        ),
        Access::Admin => (
            json!([{"bearer": []}, {"session": []}]),
            "Admins, with a session, a JWT, or an API key with the `admin` scope.",
        ),
    }
}

/// The document for `rules`.
pub fn document(rules: &[Rule], version: &str) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for rule in rules {
        let is_api = rule.path.starts_with("/api/") || rule.path.starts_with("/v1/");
        if !is_api {
            continue;
        }
        let method = rule.method.as_str();
        let path = openapi_path(method, rule.path);
        let (security, who) = security(rule.access);
        let documented = operation(method, rule.path);
        let mut parameters = path_parameters(&path);
        let mut op = Map::new();
        match &documented {
            Some(doc) => {
                op.insert("summary".into(), json!(doc.summary));
                op.insert(
                    "description".into(),
                    json!(format!("{}\n\nWho may call it: {who}", doc.description)),
                );
                op.insert("tags".into(), json!([doc.tag]));
                for (name, description, required) in doc.query {
                    parameters.push(json!({
                        "name": name, "in": "query", "required": required,
                        "description": description, "schema": {"type": "string"},
                    }));
                }
                if let Some(schema) = doc.request {
                    op.insert(
                        "requestBody".into(),
                        json!({"required": true, "content": {JSON: {"schema": reference(schema)}}}),
                    );
                }
                let mut responses = Map::new();
                for (status, description, schema, content_type) in doc.responses {
                    let mut response = json!({"description": description});
                    let schema = schema.map_or_else(|| json!({"type": "string"}), reference);
                    let mut content = Map::new();
                    content.insert((*content_type).into(), json!({"schema": schema}));
                    if *status == 200
                        && doc.responses.iter().all(|r| r.3 != SSE)
                        && streams(rule.path)
                    {
                        content.insert(
                            SSE.into(),
                            json!({"schema": {"type": "string", "description": "Server-Sent Events, with `stream: true`."}}),
                        );
                    }
                    response["content"] = Value::Object(content);
                    responses.insert(status.to_string(), response);
                }
                op.insert("responses".into(), Value::Object(responses));
            }
            None => {
                op.insert("summary".into(), json!(format!("{method} {path}")));
                op.insert(
                    "description".into(),
                    json!(format!("Who may call it: {who}")),
                );
                op.insert("tags".into(), json!([tag_for(rule.path)]));
                let error = if rule.path.starts_with("/v1/") {
                    "V1Error"
                } else {
                    "ApiError"
                };
                op.insert(
                    "responses".into(),
                    json!({
                        "200": {"description": "Success.", "content": {JSON: {"schema": reference("Envelope")}}},
                        "default": {"description": "An error.", "content": {JSON: {"schema": reference(error)}}},
                    }),
                );
            }
        }
        if !parameters.is_empty() {
            op.insert("parameters".into(), Value::Array(parameters));
        }
        op.insert("security".into(), security);
        op.insert("operationId".into(), json!(operation_id(method, &path)));
        let entry = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = entry {
            map.insert(method.to_ascii_lowercase(), Value::Object(op));
        }
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "AI Pasta API",
            "version": version,
            "description": format!("AI Pasta's JSON API (`/api`, the plan's envelope `{{\"success\", \"data\"}}` and errors `{{\"success\": false, \"error\": {{\"code\", \"message\"}}}}`) and its OpenAI-compatible gateway (`/v1`, OpenAI's shapes and errors `{{\"error\": {{\"message\", \"type\", \"param\", \"code\"}}}}`). Authenticate with a personal API key (`Authorization: Bearer {API_KEY_PREFIX}...`, created in Settings or with `POST /api/users/api-keys`), a JWT from `/api/auth/signin`, or a browser session. A readable version is at `/docs/api`."),
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "OpenAI-compatible", "description": "Any OpenAI SDK with `base_url` set to this server's `/v1`."},
            {"name": "Models", "description": "The catalog."},
            {"name": "Generations", "description": "Running models and reading the results."},
            {"name": "Accounts", "description": "Signing in and API keys."},
            {"name": "Admin", "description": "Administration."},
            {"name": "Service", "description": "Health and the service itself."},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": format!("A personal API key (`{API_KEY_PREFIX}...`) or a JWT from `POST /api/auth/signin`."),
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "aipasta_session", "description": "A browser session (unsafe methods also need the CSRF token)."},
            },
            "schemas": schemas(),
        },
    })
}

fn streams(path: &str) -> bool {
    matches!(
        path,
        "/v1/chat/completions" | "/v1/completions" | "/api/models/{*id}" | "/api/ai/generate"
    )
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for part in path
        .split(['/', '{', '}', '-', '.'])
        .filter(|p| !p.is_empty())
    {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.extend(chars);
        }
    }
    id
}

/// A sampling parameter's schema, from the parameter table: its type, documented range and
/// meaning (a model may take a narrower range; `GET /api/models/{id}` says which).
fn sampling_schema(param: &SamplingParam) -> Value {
    json!({
        "type": if param.kind == ValueKind::Integer { "integer" } else { "number" },
        "minimum": param.min,
        "maximum": param.max,
        "description": param.summary,
    })
}

/// The plan's `parameters` object: the table's sampling parameters by their plan names (the
/// providers' snake_case names are accepted too), then the others.
fn generate_parameters_schema() -> Value {
    let mut properties = Map::new();
    for param in SAMPLING {
        properties.insert(param.field.to_owned(), sampling_schema(param));
    }
    let others = json!({
        "maxTokens": {"type": "integer"},
        "seed": {"type": "integer"},
        "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "width": {"type": "integer"},
        "height": {"type": "integer"},
        "targetLanguage": {"type": "string"},
    });
    if let Value::Object(others) = others {
        properties.extend(others);
    }
    json!({"type": "object", "properties": properties})
}

/// The hand-written schemas.
fn schemas() -> Value {
    let usage = json!({
        "type": "object",
        "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
        "properties": {
            "prompt_tokens": {"type": "integer"},
            "completion_tokens": {"type": "integer"},
            "total_tokens": {"type": "integer"},
        },
    });
    let mut sampling = json!({
        "max_tokens": {"type": "integer", "minimum": 1},
        "max_completion_tokens": {"type": "integer", "minimum": 1, "description": "Wins over `max_tokens`."},
        "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 4}]},
        "seed": {"type": "integer"},
        "n": {"type": "integer", "const": 1},
        "stream": {"type": "boolean"},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
        "user": {"type": "string", "description": "Accepted and ignored."},
    });
    for param in SAMPLING {
        sampling[param.name] = sampling_schema(param);
    }
    let with = |mut base: Value, extra: &Value| {
        if let (Some(props), Some(extra)) = (base["properties"].as_object_mut(), extra.as_object())
        {
            for (k, v) in extra {
                props.insert(k.clone(), v.clone());
            }
        }
        base
    };
    let mut schemas = Map::new();
    schemas.insert("V1Error".into(), json!({
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["message", "type", "param", "code"],
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string", "examples": ["invalid_request_error", "insufficient_quota", "requests", "server_error"]},
                    "param": {"type": ["string", "null"]},
                    "code": {"type": ["string", "null"], "examples": ["invalid_api_key", "model_not_found", "insufficient_quota", "rate_limit_exceeded", "context_length_exceeded"]},
                },
            }},
        }));
    schemas.insert(
        "V1Model".into(),
        json!({
            "type": "object",
            "required": ["id", "object", "created", "owned_by"],
            "properties": {
                "id": {"type": "string", "examples": ["openai/gpt-4o-mini"]},
                "object": {"const": "model"},
                "created": {"type": "integer", "description": "Unix seconds."},
                "owned_by": {"type": "string", "description": "The provider."},
            },
        }),
    );
    schemas.insert("V1ModelList".into(), json!({
            "type": "object",
            "required": ["object", "data"],
            "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": reference("V1Model")}},
        }));
    schemas.insert("V1Usage".into(), json!(usage));
    schemas.insert("V1ChatMessage".into(), json!({
            "type": "object",
            "required": ["role"],
            "properties": {
                "role": {"enum": ["system", "developer", "user", "assistant"]},
                "content": {"oneOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "object", "required": ["type"], "properties": {
                        "type": {"const": "text"}, "text": {"type": "string"}}}},
                    {"type": "null"},
                ]},
            },
        }));
    schemas.insert("V1ChatRequest".into(), json!(with(json!({
            "type": "object",
            "required": ["model", "messages"],
            "properties": {
                "model": {"type": "string"},
                "messages": {"type": "array", "minItems": 1, "items": reference("V1ChatMessage")},
            },
        }), &sampling)));
    schemas.insert("V1ChatCompletion".into(), json!({
            "type": "object",
            "required": ["id", "object", "created", "model", "choices"],
            "properties": {
                "id": {"type": "string", "description": "`chatcmpl-` and the generation id."},
                "object": {"const": "chat.completion"},
                "created": {"type": "integer"},
                "model": {"type": "string"},
                "choices": {"type": "array", "items": {"type": "object", "properties": {
                    "index": {"type": "integer"},
                    "message": {"type": "object", "properties": {
                        "role": {"const": "assistant"}, "content": {"type": "string"}, "refusal": {"type": "null"}}},
                    "logprobs": {"type": "null"},
                    "finish_reason": {"enum": ["stop", "length", "content_filter", "tool_calls"]},
                }}},
                "usage": reference("V1Usage"),
            },
        }));
    schemas.insert("V1ChatCompletionChunk".into(), json!({
            "type": "object",
            "required": ["id", "object", "created", "model", "choices"],
            "properties": {
                "id": {"type": "string"},
                "object": {"const": "chat.completion.chunk"},
                "created": {"type": "integer"},
                "model": {"type": "string"},
                "choices": {"type": "array", "items": {"type": "object", "properties": {
                    "index": {"type": "integer"},
                    "delta": {"type": "object", "properties": {"role": {"const": "assistant"}, "content": {"type": "string"}}},
                    "finish_reason": {"type": ["string", "null"]},
                }}},
                "usage": {"oneOf": [reference("V1Usage"), {"type": "null"}]},
            },
        }));
    schemas.insert("V1CompletionRequest".into(), json!(with(json!({
            "type": "object",
            "required": ["model", "prompt"],
            "properties": {
                "model": {"type": "string"},
                "prompt": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 1}]},
            },
        }), &sampling)));
    schemas.insert(
        "V1Completion".into(),
        json!({
            "type": "object",
            "required": ["id", "object", "created", "model", "choices"],
            "properties": {
                "id": {"type": "string", "description": "`cmpl-` and the generation id."},
                "object": {"const": "text_completion"},
                "created": {"type": "integer"},
                "model": {"type": "string"},
                "choices": {"type": "array", "items": {"type": "object", "properties": {
                    "text": {"type": "string"}, "index": {"type": "integer"},
                    "logprobs": {"type": "null"},
                    "finish_reason": {"enum": ["stop", "length", "content_filter", null]},
                }}},
                "usage": reference("V1Usage"),
            },
        }),
    );
    schemas.insert("V1EmbeddingRequest".into(), json!({
            "type": "object",
            "required": ["model", "input"],
            "properties": {
                "model": {"type": "string"},
                "input": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 256}]},
                "encoding_format": {"enum": ["float", "base64"]},
            },
        }));
    schemas.insert("V1EmbeddingList".into(), json!({
            "type": "object",
            "required": ["object", "data", "model", "usage"],
            "properties": {
                "object": {"const": "list"},
                "data": {"type": "array", "items": {"type": "object", "required": ["object", "index", "embedding"], "properties": {
                    "object": {"const": "embedding"},
                    "index": {"type": "integer"},
                    "embedding": {"oneOf": [{"type": "array", "items": {"type": "number"}}, {"type": "string", "description": "base64 little-endian f32s"}]},
                }}},
                "model": {"type": "string"},
                "usage": {"type": "object", "properties": {"prompt_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"}}},
            },
        }));
    schemas.insert(
        "V1ImageRequest".into(),
        json!({
            "type": "object",
            "required": ["model", "prompt"],
            "properties": {
                "model": {"type": "string"},
                "prompt": {"type": "string"},
                "n": {"const": 1},
                "size": {"type": "string", "examples": ["1024x1024", "auto"]},
                "response_format": {"enum": ["b64_json", "url"], "default": "b64_json"},
                "seed": {"type": "integer"},
            },
        }),
    );
    schemas.insert(
        "V1ImagesResponse".into(),
        json!({
            "type": "object",
            "required": ["created", "data"],
            "properties": {
                "created": {"type": "integer"},
                "data": {"type": "array", "items": {"type": "object", "properties": {
                    "b64_json": {"type": "string"}, "url": {"type": "string", "format": "uri"},
                    "revised_prompt": {"type": "string"}}}},
            },
        }),
    );
    schemas.insert(
        "ApiError".into(),
        json!({
            "type": "object",
            "required": ["success", "error"],
            "properties": {
                "success": {"const": false},
                "error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "param": {"type": "string", "description": "The request field at fault, when the error is about one (`model`, `messages`, `temperature`, ...)."}}},
            },
        }),
    );
    schemas.insert("Envelope".into(), json!({
            "type": "object",
            "required": ["success"],
            "properties": {"success": {"const": true}, "data": {}, "pagination": {"type": "object"}},
        }));
    schemas.insert("ModelSummary".into(), json!({
            "type": "object",
            "properties": {
                "id": {"type": "string", "description": "The slug, e.g. `openai/gpt-4o`."},
                "uuid": {"type": "string"}, "name": {"type": "string"}, "displayName": {"type": "string"},
                "provider": {"type": "string"}, "category": {"type": ["string", "null"]},
                "pricing": {"type": "object"}, "capabilities": {"type": "object"},
                "contextLength": {"type": ["integer", "null"]},
                "performance": {
                    "type": "object",
                    "description": "One model's answer only: this instance's figures, moving averages over roughly the last 20 to 60 generations.",
                    "properties": {
                        "averageLatency": {"type": ["integer", "null"], "description": "Milliseconds, of successful generations."},
                        "successRate": {"type": ["number", "null"], "minimum": 0, "maximum": 100, "description": "A percentage (0 to 100) of finished generations that succeeded; cancelled ones are not counted."},
                        "uptime": {"type": ["number", "null"], "description": "A percentage; not measured yet."},
                    },
                },
            },
        }));
    schemas.insert(
        "ModelPage".into(),
        json!({
            "type": "object",
            "properties": {
                "success": {"const": true},
                "data": {"type": "array", "items": reference("ModelSummary")},
                "pagination": {"type": "object", "properties": {
                    "current": {"type": "integer"}, "pages": {"type": "integer"},
                    "total": {"type": "integer"}, "limit": {"type": "integer"},
                    "totalExact": {"type": "boolean", "description": "False when counting stopped after 1,000 matches (or just past the requested page): more than `total` models match, and `pages` is a lower bound."}}},
            },
        }),
    );
    schemas.insert("ModelListEnvelope".into(), json!({
            "type": "object",
            "properties": {"success": {"const": true}, "data": {"type": "array", "items": reference("ModelSummary")}},
        }));
    schemas.insert(
        "ModelEnvelope".into(),
        json!({
            "type": "object",
            "properties": {"success": {"const": true}, "data": reference("ModelSummary")},
        }),
    );
    schemas.insert("GenerateRequest".into(), json!({
            "type": "object",
            "properties": {
                "prompt": {"type": "string"},
                "messages": {"type": "array", "items": {"type": "object", "required": ["role", "content"], "properties": {
                    "role": {"enum": ["system", "user", "assistant"]}, "content": {"type": "string"}}}},
                "systemPrompt": {"type": "string"},
                "mode": {"enum": ["chat", "text", "code", "image", "summarize", "translate", "embed"]},
                "stream": {"type": "boolean"},
                "sessionId": {"type": "string"},
                "parameters": generate_parameters_schema(),
            },
        }));
    schemas.insert("UnifiedGenerateRequest".into(), json!({
            "allOf": [reference("GenerateRequest"), {"type": "object", "required": ["model"], "properties": {"model": {"type": "string"}}}],
        }));
    schemas.insert("Generation".into(), json!({
            "type": "object",
            "properties": {
                "id": {"type": "string"}, "model": {"type": "string"},
                "status": {"enum": ["success", "error", "timeout", "cancelled", "interrupted"]},
                "content": {"type": "string"}, "finishReason": {"type": ["string", "null"]},
                "usage": {"type": "object", "properties": {
                    "promptTokens": {"type": "integer"}, "completionTokens": {"type": "integer"},
                    "totalTokens": {"type": "integer"}, "estimated": {"type": "boolean"}}},
                "cost": {"type": ["number", "null"], "description": "USD."},
                "costNanos": {"type": "integer", "description": "Exact cost in nano-dollars."},
                "duration": {"type": "integer", "description": "Milliseconds."},
                "timeToFirstToken": {"type": ["integer", "null"]},
                "answeredBy": {"type": ["string", "null"], "description": "The fallback model that answered, if one did."},
                "images": {"type": "array", "items": {"type": "string"}},
                "error": {"type": ["object", "null"]},
            },
        }));
    schemas.insert("GenerationEnvelope".into(), json!({
            "type": "object",
            "properties": {"success": {"type": "boolean"}, "data": reference("Generation"), "error": {"type": "object"}},
        }));
    schemas.insert("SignupRequest".into(), json!({
            "type": "object",
            "required": ["name", "email", "password"],
            "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}, "password": {"type": "string"}},
        }));
    schemas.insert(
        "SigninRequest".into(),
        json!({
            "type": "object",
            "required": ["email", "password"],
            "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
        }),
    );
    schemas.insert("AuthAnswer".into(), json!({
            "type": "object",
            "properties": {
                "success": {"const": true},
                "user": {"type": "object", "properties": {"id": {"type": "string"}, "email": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string"}}},
                "token": {"type": "string", "description": "A JWT for `Authorization: Bearer`."},
            },
        }));
    schemas.insert(
        "NewApiKey".into(),
        json!({
            "type": "object",
            "required": ["name", "scopes"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 100},
                "scopes": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"enum": ["read", "generate", "admin"]},
                    "description": "`admin` only for admins: it opens the admin and moderator routes to the key.",
                },
                "expiresInDays": {"type": "integer", "minimum": 1, "maximum": 3650},
            },
        }),
    );
    Value::Object(schemas)
}
