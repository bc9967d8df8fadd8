//! The API's documentation: the OpenAPI 3.1 document at `/api/openapi.json` (derived once from
//! the registered routes' annotations and types, see `openapi.rs`) and a readable page at
//! `/docs/api` with curl, Python (the OpenAI SDK) and JavaScript (fetch) examples.

mod openapi;

pub use openapi::{annotate, parameter_input_schema, v1_sampling_schema};

use std::sync::OnceLock;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa_axum::routes;

use aipasta_store::Query;

use crate::auth::{Access, Routes};
use crate::chrome::Chrome;
use crate::pages::render;
use crate::state::AppState;

pub fn routes() -> Routes {
    use Access::Public;
    Routes::new()
        .api(Public, routes!(openapi_json))
        .get("/docs/api", Public, page)
}

/// The document, as text, built on first use.
fn document() -> &'static (Value, String) {
    static DOCUMENT: OnceLock<(Value, String)> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let routes = crate::routes();
        let value = serde_json::to_value(openapi::document(routes.openapi())).unwrap_or_default();
        let text = value.to_string();
        (value, text)
    })
}

/// This document
///
/// The OpenAPI 3.1 description of `/api` and `/v1`, derived from the routes and the types
/// their handlers read and write.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    responses((status = 200, description = "The document.", content_type = "application/json", body = Object)),
)]
async fn openapi_json() -> Response {
    (
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        document().1.clone(),
    )
        .into_response()
}

/// One endpoint on the page, with its examples.
struct Example {
    title: &'static str,
    method: &'static str,
    path: &'static str,
    about: &'static str,
    curl: String,
    python: String,
    javascript: String,
}

/// One row of the endpoint table.
struct Endpoint {
    method: String,
    path: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct ApiDocsPage {
    chrome: Chrome,
    /// How personal API keys start.
    key_prefix: &'static str,
    base: String,
    model: String,
    examples: Vec<Example>,
    endpoints: Vec<Endpoint>,
}

async fn page(State(state): State<AppState>, chrome: Chrome, headers: HeaderMap) -> Response {
    let base = crate::site::base_url(&state, &headers);
    let model = example_model(&state).await;
    let endpoints = endpoints();
    render(&ApiDocsPage {
        chrome,
        key_prefix: crate::auth::tokens::API_KEY_PREFIX,
        examples: examples(&base, &model),
        base,
        model,
        endpoints,
    })
}

/// A real chat model from the catalog for the examples (the most used one).
async fn example_model(state: &AppState) -> String {
    Query::new(
        "SELECT slug FROM models WHERE is_active = TRUE AND status <> 'deprecated' \
         AND cap_chat_completion = TRUE ORDER BY generation_count DESC, slug LIMIT 1",
    )
    .fetch_optional::<(String,)>(&state.db)
    .await
    .ok()
    .flatten()
    .map_or_else(|| "openai/gpt-4o-mini".to_owned(), |(slug,)| slug)
}

fn endpoints() -> Vec<Endpoint> {
    let Some(paths) = document().0["paths"].as_object() else {
        return Vec::new();
    };
    let mut rows: Vec<Endpoint> = paths
        .iter()
        .flat_map(|(path, methods)| {
            methods
                .as_object()
                .into_iter()
                .flatten()
                .map(move |(method, op)| Endpoint {
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                    summary: op["summary"].as_str().unwrap_or_default().to_owned(),
                })
        })
        .collect();
    // The gateway first, then the API in path order.
    rows.sort_by(|a, b| {
        (!a.path.starts_with("/v1"), &a.path, &a.method).cmp(&(
            !b.path.starts_with("/v1"),
            &b.path,
            &b.method,
        ))
    });
    rows
}

fn examples(base: &str, model: &str) -> Vec<Example> {
    let key = "$AIPASTA_API_KEY";
    vec![
        Example {
            title: "Chat completion",
            method: "POST",
            path: "/v1/chat/completions",
            about: "The answer in OpenAI's chat.completion shape; the generation is recorded with its tokens and cost.",
            curl: format!(
                "curl {base}/v1/chat/completions \\\n  -H \"Authorization: Bearer {key}\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{{\"model\": \"{model}\", \"messages\": [{{\"role\": \"user\", \"content\": \"Write a haiku about pasta.\"}}]}}'"
            ),
            python: format!(
                "import os\nfrom openai import OpenAI\n\nclient = OpenAI(base_url=\"{base}/v1\", api_key=os.environ[\"AIPASTA_API_KEY\"])\nanswer = client.chat.completions.create(\n    model=\"{model}\",\n    messages=[{{\"role\": \"user\", \"content\": \"Write a haiku about pasta.\"}}],\n)\nprint(answer.choices[0].message.content)"
            ),
            javascript: format!(
                "const response = await fetch(\"{base}/v1/chat/completions\", {{\n  method: \"POST\",\n  headers: {{\n    \"Authorization\": `Bearer ${{process.env.AIPASTA_API_KEY}}`,\n    \"Content-Type\": \"application/json\",\n  }},\n  body: JSON.stringify({{\n    model: \"{model}\",\n    messages: [{{ role: \"user\", content: \"Write a haiku about pasta.\" }}],\n  }}),\n}});\nconst answer = await response.json();\nconsole.log(answer.choices[0].message.content);"
            ),
        },
        Example {
            title: "Streaming",
            method: "POST",
            path: "/v1/chat/completions",
            about: "With stream: true, chat.completion.chunk events end with data: [DONE]; stream_options.include_usage adds a last chunk with the token counts.",
            curl: format!(
                "curl -N {base}/v1/chat/completions \\\n  -H \"Authorization: Bearer {key}\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{{\"model\": \"{model}\", \"stream\": true, \"stream_options\": {{\"include_usage\": true}}, \"messages\": [{{\"role\": \"user\", \"content\": \"Count to ten.\"}}]}}'"
            ),
            python: format!(
                "stream = client.chat.completions.create(\n    model=\"{model}\",\n    messages=[{{\"role\": \"user\", \"content\": \"Count to ten.\"}}],\n    stream=True,\n    stream_options={{\"include_usage\": True}},\n)\nfor chunk in stream:\n    if chunk.choices and chunk.choices[0].delta.content:\n        print(chunk.choices[0].delta.content, end=\"\", flush=True)\n    if chunk.usage:\n        print(\"\\n\", chunk.usage)"
            ),
            javascript: format!(
                "const response = await fetch(\"{base}/v1/chat/completions\", {{\n  method: \"POST\",\n  headers: {{\n    \"Authorization\": `Bearer ${{process.env.AIPASTA_API_KEY}}`,\n    \"Content-Type\": \"application/json\",\n  }},\n  body: JSON.stringify({{ model: \"{model}\", stream: true,\n    messages: [{{ role: \"user\", content: \"Count to ten.\" }}] }}),\n}});\nconst reader = response.body.pipeThrough(new TextDecoderStream()).getReader();\nlet buffer = \"\";\nfor (;;) {{\n  const {{ value, done }} = await reader.read();\n  if (done) break;\n  buffer += value;\n  const events = buffer.split(\"\\n\\n\");\n  buffer = events.pop();\n  for (const event of events) {{\n    const data = event.replace(/^data: /, \"\");\n    if (data === \"[DONE]\") break;\n    const chunk = JSON.parse(data);\n    if (chunk.error) throw new Error(chunk.error.message);\n    process.stdout.write(chunk.choices[0]?.delta?.content ?? \"\");\n  }}\n}}"
            ),
        },
        Example {
            title: "Models",
            method: "GET",
            path: "/v1/models",
            about: "Every active model; its id is the model name the other calls take. A key with the read scope is enough.",
            curl: format!("curl {base}/v1/models -H \"Authorization: Bearer {key}\""),
            python: "for model in client.models.list():\n    print(model.id, model.owned_by)".to_owned(),
            javascript: format!(
                "const models = await fetch(\"{base}/v1/models\", {{\n  headers: {{ \"Authorization\": `Bearer ${{process.env.AIPASTA_API_KEY}}` }},\n}}).then((r) => r.json());\nconsole.log(models.data.map((m) => m.id));"
            ),
        },
        Example {
            title: "Embeddings",
            method: "POST",
            path: "/v1/embeddings",
            about: "Vectors from an embedding model; input is a string or a list of strings.",
            curl: format!(
                "curl {base}/v1/embeddings \\\n  -H \"Authorization: Bearer {key}\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{{\"model\": \"EMBEDDING_MODEL_ID\", \"input\": [\"al dente\", \"overcooked\"]}}'"
            ),
            python: "result = client.embeddings.create(model=\"EMBEDDING_MODEL_ID\", input=[\"al dente\", \"overcooked\"])\nprint(len(result.data[0].embedding))".to_owned(),
            javascript: format!(
                "const result = await fetch(\"{base}/v1/embeddings\", {{\n  method: \"POST\",\n  headers: {{\n    \"Authorization\": `Bearer ${{process.env.AIPASTA_API_KEY}}`,\n    \"Content-Type\": \"application/json\",\n  }},\n  body: JSON.stringify({{ model: \"EMBEDDING_MODEL_ID\", input: [\"al dente\", \"overcooked\"] }}),\n}}).then((r) => r.json());\nconsole.log(result.data[0].embedding.length);"
            ),
        },
        Example {
            title: "Images",
            method: "POST",
            path: "/v1/images/generations",
            about: "One image from an image model, as base64 (the default) or, with response_format: url, a link that needs the same Authorization header.",
            curl: format!(
                "curl {base}/v1/images/generations \\\n  -H \"Authorization: Bearer {key}\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{{\"model\": \"IMAGE_MODEL_ID\", \"prompt\": \"a bowl of spaghetti, watercolour\", \"size\": \"1024x1024\"}}'"
            ),
            python: "import base64\n\nimage = client.images.generate(model=\"IMAGE_MODEL_ID\", prompt=\"a bowl of spaghetti, watercolour\", size=\"1024x1024\")\nopen(\"pasta.png\", \"wb\").write(base64.b64decode(image.data[0].b64_json))".to_owned(),
            javascript: format!(
                "const image = await fetch(\"{base}/v1/images/generations\", {{\n  method: \"POST\",\n  headers: {{\n    \"Authorization\": `Bearer ${{process.env.AIPASTA_API_KEY}}`,\n    \"Content-Type\": \"application/json\",\n  }},\n  body: JSON.stringify({{ model: \"IMAGE_MODEL_ID\", prompt: \"a bowl of spaghetti, watercolour\" }}),\n}}).then((r) => r.json());\nconst png = Buffer.from(image.data[0].b64_json, \"base64\");"
            ),
        },
        Example {
            title: "The plan's API: generate",
            method: "POST",
            path: "/api/models/{id}/generate",
            about: "AI Pasta's own shape ({success, data}), with cost, timing and fallbacks in the answer; stream: true sends start, delta, usage and done events.",
            curl: format!(
                "curl {base}/api/models/{model}/generate \\\n  -H \"Authorization: Bearer {key}\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{{\"prompt\": \"Write a haiku about pasta.\", \"parameters\": {{\"temperature\": 0.7, \"maxTokens\": 200}}}}'"
            ),
            python: format!(
                "import os, requests\n\nanswer = requests.post(\n    \"{base}/api/models/{model}/generate\",\n    headers={{\"Authorization\": f\"Bearer {{os.environ['AIPASTA_API_KEY']}}\"}},\n    json={{\"prompt\": \"Write a haiku about pasta.\", \"parameters\": {{\"maxTokens\": 200}}}},\n).json()\nprint(answer[\"data\"][\"content\"], answer[\"data\"][\"cost\"])"
            ),
            javascript: format!(
                "const answer = await fetch(\"{base}/api/models/{model}/generate\", {{\n  method: \"POST\",\n  headers: {{\n    \"Authorization\": `Bearer ${{process.env.AIPASTA_API_KEY}}`,\n    \"Content-Type\": \"application/json\",\n  }},\n  body: JSON.stringify({{ prompt: \"Write a haiku about pasta.\", parameters: {{ maxTokens: 200 }} }}),\n}}).then((r) => r.json());\nconsole.log(answer.data.content, answer.data.cost);"
            ),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_covers_the_api_and_the_gateway() {
        let (doc, _) = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/v1/models",
            "/v1/models/{id}",
            "/v1/chat/completions",
            "/v1/completions",
            "/v1/embeddings",
            "/v1/images/generations",
            "/api/models",
            "/api/models/{id}",
            "/api/models/{id}/generate",
            "/api/ai/generate",
            "/api/ai/stream",
            "/api/generations/{id}",
            "/api/generations/{id}/stream",
            "/api/generations/{id}/cancel",
            "/api/generations/{id}/image",
            "/api/auth/signup",
            "/api/auth/signin",
            "/api/users/api-keys",
            "/api/openapi.json",
        ] {
            assert!(paths.contains_key(path), "{path} is documented");
        }
        // Every reference resolves.
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for reference in text.split("\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "{name} is defined");
        }
        // Pages are not API routes.
        assert!(!paths.contains_key("/docs/api"));
    }

    #[test]
    fn every_json_route_is_documented_with_its_method() {
        let (doc, _) = document();
        let routes = crate::routes();
        let mut json_routes = 0;
        for rule in routes.rules() {
            if !crate::pages::is_api_path(&rule.path) {
                continue;
            }
            // Model ids hold slashes: the wildcard routes serve the operations documented
            // under `{id}/generate` and `{id}/favorite`.
            let documented: Vec<String> = match (rule.method.as_str(), rule.path.as_str()) {
                ("POST", "/api/models/{*id}") => vec![
                    "/api/models/{id}/generate".into(),
                    "/api/models/{id}/favorite".into(),
                ],
                ("DELETE", "/api/models/{*id}") => vec!["/api/models/{id}/favorite".into()],
                _ => vec![rule.path.replace("{*", "{")],
            };
            for documented in documented {
                json_routes += 1;
                let operation =
                    &doc["paths"][&documented][rule.method.as_str().to_ascii_lowercase()];
                assert!(
                    operation.is_object(),
                    "{} {} has no operation in the document",
                    rule.method,
                    rule.path
                );
                for field in ["summary", "description", "operationId"] {
                    assert!(
                        operation[field]
                            .as_str()
                            .is_some_and(|text| !text.is_empty()),
                        "{} {} lacks a {field}",
                        rule.method,
                        rule.path
                    );
                }
                let responses = operation["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|status| status.starts_with('2')),
                    "{} {} documents no success",
                    rule.method,
                    rule.path
                );
                for (status, response) in responses {
                    assert!(
                        response["description"]
                            .as_str()
                            .is_some_and(|t| !t.is_empty()),
                        "{} {} answers {status} without a description",
                        rule.method,
                        rule.path
                    );
                }
            }
        }
        let operations: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(
            operations, json_routes,
            "the document has an operation no route serves"
        );
    }

    /// The document changes only on purpose: a change to a handler's annotation or to a type
    /// it reads or writes shows here, to be reviewed and accepted with `cargo insta review`
    /// (or by replacing the `.snap` file with the `.snap.new` one the failing run wrote).
    #[test]
    fn the_document_changes_only_on_purpose() {
        let (doc, _) = document();
        let mut doc = doc.clone();
        // The version moves with every release; the rest must not move by accident.
        doc["info"]["version"] = "(version)".into();
        insta::assert_snapshot!("openapi", serde_json::to_string_pretty(&doc).unwrap());
    }
}
