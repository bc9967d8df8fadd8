//! The API code panel: the current request as curl, Python and JavaScript, for AI Pasta's own
//! `/api/ai/generate` and for the OpenAI-compatible endpoint of the mode (`/v1/chat/completions`,
//! `/v1/images/generations` or `/v1/embeddings`). `playground.js` rebuilds the same snippets as
//! the form changes.

use serde_json::{Map, Value, json};

pub struct Snippet {
    pub id: &'static str,
    pub label: &'static str,
    pub code: String,
}

/// What a snippet sends.
pub struct Request<'a> {
    pub base: &'a str,
    pub model: &'a str,
    pub mode: &'a str,
    pub prompt: &'a str,
    pub system: &'a str,
    /// camelCase parameters, as the playground sends them.
    pub parameters: &'a Map<String, Value>,
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_uppercase() {
            out.push('_');
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Which OpenAI-compatible endpoint serves a mode, if any: summaries and translations have
/// none, and a vector comes back only from `/v1/embeddings` (the plan's answer carries text and
/// image links, not vectors).
#[derive(Clone, Copy, PartialEq, Eq)]
enum V1 {
    Chat,
    Images,
    Embeddings,
    None,
}

fn v1_of(mode: &str) -> V1 {
    match mode {
        "image" => V1::Images,
        "embed" => V1::Embeddings,
        "summarize" | "translate" => V1::None,
        _ => V1::Chat,
    }
}

pub fn snippets(request: &Request<'_>) -> Vec<Snippet> {
    let prompt = if request.prompt.trim().is_empty() {
        "Hello!"
    } else {
        request.prompt
    };
    let v1 = v1_of(request.mode);
    let base = request.base;
    let quote = |s: &str| s.replace('\'', r"'\''");
    let mut out = Vec::new();
    if v1 != V1::Embeddings {
        let mut own = json!({"model": request.model, "mode": request.mode, "prompt": prompt});
        if !request.system.trim().is_empty() {
            own["systemPrompt"] = json!(request.system);
        }
        if !request.parameters.is_empty() {
            own["parameters"] = Value::Object(request.parameters.clone());
        }
        let own_json = pretty(&own);
        let (py_read, js_read) = if v1 == V1::Images {
            (r#"["data"]["images"]"#, ".data.images")
        } else {
            (r#"["data"]["content"]"#, ".data.content")
        };
        out.extend([
            Snippet {
                id: "curl",
                label: "curl",
                code: format!(
                    "curl {base}/api/ai/generate \\\n  -H \"Authorization: Bearer $AIPASTA_API_KEY\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{}'",
                    quote(&own_json)
                ),
            },
            Snippet {
                id: "python",
                label: "Python",
                code: format!(
                    "import os, requests\n\nresponse = requests.post(\n    \"{base}/api/ai/generate\",\n    headers={{\"Authorization\": f\"Bearer {{os.environ['AIPASTA_API_KEY']}}\"}},\n    json={own_json},\n)\nprint(response.json(){py_read})"
                ),
            },
            Snippet {
                id: "javascript",
                label: "JavaScript",
                code: format!(
                    "const response = await fetch(\"{base}/api/ai/generate\", {{\n  method: \"POST\",\n  headers: {{\n    Authorization: `Bearer ${{process.env.AIPASTA_API_KEY}}`,\n    \"Content-Type\": \"application/json\",\n  }},\n  body: JSON.stringify({own_json}),\n}});\nconsole.log((await response.json()){js_read});"
                ),
            },
        ]);
    }
    let (path, body, call, read) = match v1 {
        V1::None => return out,
        V1::Chat => {
            let mut messages = Vec::new();
            if !request.system.trim().is_empty() {
                messages.push(json!({"role": "system", "content": request.system}));
            }
            messages.push(json!({"role": "user", "content": prompt}));
            let mut body = json!({"model": request.model, "messages": messages});
            for (name, value) in request.parameters {
                body[snake(name)] = value.clone();
            }
            (
                "chat/completions",
                body,
                "chat.completions.create",
                "choices[0].message.content",
            )
        }
        V1::Images => {
            let mut body = json!({"model": request.model, "prompt": prompt});
            if let (Some(width), Some(height)) = (
                request.parameters.get("width"),
                request.parameters.get("height"),
            ) {
                body["size"] = json!(format!("{width}x{height}"));
            }
            (
                "images/generations",
                body,
                "images.generate",
                "data[0].b64_json[:60]",
            )
        }
        V1::Embeddings => (
            "embeddings",
            json!({"model": request.model, "input": prompt}),
            "embeddings.create",
            "data[0].embedding[:8]",
        ),
    };
    let v1_json = pretty(&body);
    // JavaScript has no slices: the same read, written its way.
    let js_read = read
        .replace("[:60]", ".slice(0, 60)")
        .replace("[:8]", ".slice(0, 8)");
    out.extend([
        Snippet {
            id: "v1-curl",
            label: "curl (/v1)",
            code: format!(
                "curl {base}/v1/{path} \\\n  -H \"Authorization: Bearer $AIPASTA_API_KEY\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{}'",
                quote(&v1_json)
            ),
        },
        Snippet {
            id: "v1-python",
            label: "Python (/v1)",
            code: format!(
                "import os\nfrom openai import OpenAI\n\nclient = OpenAI(base_url=\"{base}/v1\", api_key=os.environ[\"AIPASTA_API_KEY\"])\nresult = client.{call}(**{v1_json})\nprint(result.{read})"
            ),
        },
        Snippet {
            id: "v1-javascript",
            label: "JavaScript (/v1)",
            code: format!(
                "import OpenAI from \"openai\";\n\nconst client = new OpenAI({{ baseURL: \"{base}/v1\", apiKey: process.env.AIPASTA_API_KEY }});\nconst result = await client.{call}({v1_json});\nconsole.log(result.{js_read});"
            ),
        },
    ]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_carry_the_model_and_parameters() {
        let mut parameters = Map::new();
        parameters.insert("topP".into(), json!(0.5));
        let all = snippets(&Request {
            base: "http://localhost:3000",
            model: "a/b",
            mode: "chat",
            prompt: "it's",
            system: "",
            parameters: &parameters,
        });
        assert_eq!(all.len(), 6);
        assert!(all[0].code.contains("\"topP\": 0.5"));
        assert!(all[0].code.contains(r"it'\''s"));
        assert!(all[3].code.contains("\"top_p\": 0.5"));
    }

    #[test]
    fn each_mode_gets_the_endpoint_that_serves_it() {
        let mut parameters = Map::new();
        parameters.insert("width".into(), json!(512));
        parameters.insert("height".into(), json!(256));
        let request = |mode| Request {
            base: "http://localhost:3000",
            model: "a/b",
            mode,
            prompt: "x",
            system: "",
            parameters: &parameters,
        };
        let image = snippets(&request("image"));
        assert!(image[3].code.contains("/v1/images/generations"));
        assert!(image[3].code.contains("\"size\": \"512x256\""));
        assert!(image[1].code.contains(r#"["data"]["images"]"#));
        let embed = snippets(&request("embed"));
        assert_eq!(embed.len(), 3, "only /v1 returns vectors");
        assert!(embed[0].code.contains("/v1/embeddings"));
        let summary = snippets(&request("summarize"));
        assert_eq!(summary.len(), 3, "no /v1 endpoint summarises");
        assert!(summary[0].code.contains("\"mode\": \"summarize\""));
    }
}
