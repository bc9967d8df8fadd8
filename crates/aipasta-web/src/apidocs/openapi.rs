//! The OpenAPI 3.1 document, derived. Every JSON route is registered with
//! [`Routes::api`](crate::auth::Routes::api) from its handler's `#[utoipa::path]` annotation,
//! whose request and response bodies are the types the handler reads and writes. This module
//! adds what the route's access rule says (its security, who may call it, the 401 and 403 it
//! can answer), the error every operation can answer, a stable operation id, and the frame
//! (info, tags, security schemes).

use axum::http::Method;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Schema, Type,
};
use utoipa::{Modify, OpenApi as _};

use aipasta_core::params::{SAMPLING, SamplingParam, ValueKind};

use crate::api::Failure;
use crate::auth::Access;
use crate::auth::tokens::API_KEY_PREFIX;
use crate::v1::error::OpenAiErrorBody;

/// The document's frame; the operations come from the routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "AI Pasta API"),
    servers((url = "/")),
    tags(
        (name = "OpenAI-compatible", description = "Any OpenAI SDK with `base_url` set to this server's `/v1`."),
        (name = "Models", description = "The catalog."),
        (name = "Generations", description = "Running models and reading the results."),
        (name = "Playground", description = "The playground's presets, snippets and rendering."),
        (name = "Accounts", description = "Signing in, the account, API keys and provider keys."),
        (name = "Admin", description = "Administration."),
        (name = "Service", description = "Health and the service itself."),
    ),
    components(schemas(Failure, OpenAiErrorBody)),
    modifiers(&Frame),
)]
struct Frame;

impl Modify for Frame {
    fn modify(&self, openapi: &mut OpenApi) {
        openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
        openapi.info.description = Some(format!(
            "AI Pasta's JSON API (`/api`, the plan's envelope `{{\"success\", \"data\"}}` and errors \
             `{{\"success\": false, \"error\": {{\"code\", \"message\"}}}}`) and its OpenAI-compatible \
             gateway (`/v1`, OpenAI's shapes and errors `{{\"error\": {{\"message\", \"type\", \"param\", \
             \"code\"}}}}`). Authenticate with a personal API key (`Authorization: Bearer \
             {API_KEY_PREFIX}...`, created in Settings or with `POST /api/users/api-keys`), a JWT from \
             `/api/auth/signin`, or a browser session. A readable version is at `/docs/api`."
        ));
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(format!(
            "A personal API key (`{API_KEY_PREFIX}...`) or a JWT from `POST /api/auth/signin`."
        ));
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "aipasta_session",
                "A browser session (unsafe methods also need the CSRF token).",
            ))),
        );
    }
}

/// The whole document: the frame and the routes' operations and schemas.
pub fn document(routes: &OpenApi) -> OpenApi {
    let mut document = Frame::openapi();
    document.merge(routes.clone());
    document
}

/// Completes a route's documented operations from its access rule, and says which methods it
/// serves (for the rule).
///
/// # Panics
///
/// When the annotation names no method the router can serve: the route would have no rule.
pub fn annotate(path: &str, item: &mut PathItem, access: Access) -> Vec<Method> {
    let documented_path = path.replace("{*", "{");
    let mut methods = Vec::new();
    for (method, operation) in [
        (Method::GET, &mut item.get),
        (Method::POST, &mut item.post),
        (Method::PUT, &mut item.put),
        (Method::PATCH, &mut item.patch),
        (Method::DELETE, &mut item.delete),
    ] {
        if let Some(operation) = operation {
            complete(operation, &method, &documented_path, access);
            methods.push(method);
        }
    }
    assert!(
        !methods.is_empty(),
        "{path}: the annotation names no GET, POST, PUT, PATCH or DELETE operation"
    );
    methods
}

fn complete(operation: &mut Operation, method: &Method, path: &str, access: Access) {
    let (who, signed_in) = who_may_call(access);
    operation.operation_id = Some(operation_id(method.as_str(), path));
    if operation.tags.as_ref().is_none_or(Vec::is_empty) {
        operation.tags = Some(vec![tag_for(path).to_owned()]);
    }
    let description = operation.description.take().unwrap_or_default();
    operation.description = Some(if description.is_empty() {
        format!("Who may call it: {who}")
    } else {
        format!("{description}\n\nWho may call it: {who}")
    });
    operation.security = Some(if signed_in {
        vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]
    } else {
        Vec::new()
    });
    let error = if path.starts_with("/v1/") {
        "V1Error"
    } else {
        "ApiError"
    };
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, description: &str| {
        responses.entry(status.to_owned()).or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name(error)))
                            .build(),
                    )
                    .build(),
            )
        });
    };
    if signed_in {
        add(
            "401",
            "Nobody is signed in, or the key or token is not valid.",
        );
        add(
            "403",
            "The caller may not do this (their role, or the key's scopes).",
        );
    }
    add(
        "default",
        "An error: the body says which (`code`) and why (`message`).",
    );
}

/// Who may call a route of `access`, and whether they must be signed in.
fn who_may_call(access: Access) -> (&'static str, bool) {
    match access {
        Access::Public => ("Anyone.", false),
        Access::User => (
            "Signed in: a session, a JWT, or an API key (`read` scope for GET, `generate` otherwise).",
            true,
        ),
        Access::Account => (
            "Signed in with a session or a JWT; API keys cannot manage an account.",
            true,
        ),
        Access::Moderator => (
            "Moderators and admins, with a session, a JWT, or an API key with the `admin` scope.",
            true,
        ),
        Access::Admin => (
            "Admins, with a session, a JWT, or an API key with the `admin` scope.",
            true,
        ),
    }
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
    } else if path.starts_with("/api/playground") {
        "Playground"
    } else {
        "Service"
    }
}

/// `POST /api/users/api-keys` → `postApiUsersApiKeys`: stable, unique, and readable in the
/// clients generators make.
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
fn sampling_schema(param: &SamplingParam) -> Schema {
    let kind = if param.kind == ValueKind::Integer {
        Type::Integer
    } else {
        Type::Number
    };
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(kind)
            .minimum(Some(param.min))
            .maximum(Some(param.max))
            .description(Some(param.summary))
            .build(),
    )
}

/// The plan's `parameters` object (`ParameterInput`): the table's sampling parameters by
/// their plan names (the providers' snake_case names are accepted too), then the others.
pub fn parameter_input_schema() -> Schema {
    let mut object = ObjectBuilder::new().description(Some(
        "Sampling and output parameters. Sampling parameters take the plan's camelCase name or \
         the providers' snake_case one.",
    ));
    for param in SAMPLING {
        object = object.property(param.field, sampling_schema(param));
    }
    object = object
        .property("maxTokens", ObjectBuilder::new().schema_type(Type::Integer))
        .property("seed", ObjectBuilder::new().schema_type(Type::Integer))
        .property("stop", stop_schema(None))
        .property("width", ObjectBuilder::new().schema_type(Type::Integer))
        .property("height", ObjectBuilder::new().schema_type(Type::Integer))
        .property(
            "targetLanguage",
            ObjectBuilder::new().schema_type(Type::String),
        );
    Schema::Object(object.build())
}

/// The fields `/v1` reads into `ParameterInput`: the table's parameters by their snake_case
/// names, `max_tokens`, `stop` and `seed`.
pub fn v1_sampling_schema() -> Schema {
    let mut object = ObjectBuilder::new();
    for param in SAMPLING {
        object = object.property(param.name, sampling_schema(param));
    }
    object = object
        .property(
            "max_tokens",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        )
        .property("stop", stop_schema(Some(4)))
        .property("seed", ObjectBuilder::new().schema_type(Type::Integer));
    Schema::Object(object.build())
}

/// `stop`: a string or a list of strings (of at most `most`).
fn stop_schema(most: Option<usize>) -> Schema {
    let list = utoipa::openapi::schema::ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String))
        .max_items(most);
    Schema::OneOf(
        utoipa::openapi::schema::OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(list)
            .build(),
    )
}
