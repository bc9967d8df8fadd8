//! The API code panel: the current request as curl, Python and JavaScript, for AI Pasta's own
//! `/api/ai/generate` and for the OpenAI-compatible `/v1/chat/completions`. `playground.js`
//! rebuilds the same snippets as the form changes.

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

pub fn snippets(request: &Request<'_>) -> Vec<Snippet> {
    let prompt = if request.prompt.trim().is_empty() {
        "Hello!"
    } else {
        request.prompt
    };
    let mut own = json!({"model": request.model, "mode": request.mode, "prompt": prompt});
    if !request.system.trim().is_empty() {
        own["systemPrompt"] = json!(request.system);
    }
    if !request.parameters.is_empty() {
        own["parameters"] = Value::Object(request.parameters.clone());
    }
    let mut messages = Vec::new();
    if !request.system.trim().is_empty() {
        messages.push(json!({"role": "system", "content": request.system}));
    }
    messages.push(json!({"role": "user", "content": prompt}));
    let mut v1 = json!({"model": request.model, "messages": messages});
    for (name, value) in request.parameters {
        v1[snake(name)] = value.clone();
    }
    let own_json = pretty(&own);
    let v1_json = pretty(&v1);
    let base = request.base;
    let quote = |s: &str| s.replace('\'', r"'\''");
    vec![
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
                "import os, requests\n\nresponse = requests.post(\n    \"{base}/api/ai/generate\",\n    headers={{\"Authorization\": f\"Bearer {{os.environ['AIPASTA_API_KEY']}}\"}},\n    json={own_json},\n)\nprint(response.json()[\"data\"][\"content\"])"
            ),
        },
        Snippet {
            id: "javascript",
            label: "JavaScript",
            code: format!(
                "const response = await fetch(\"{base}/api/ai/generate\", {{\n  method: \"POST\",\n  headers: {{\n    Authorization: `Bearer ${{process.env.AIPASTA_API_KEY}}`,\n    \"Content-Type\": \"application/json\",\n  }},\n  body: JSON.stringify({own_json}),\n}});\nconsole.log((await response.json()).data.content);"
            ),
        },
        Snippet {
            id: "v1-curl",
            label: "curl (/v1)",
            code: format!(
                "curl {base}/v1/chat/completions \\\n  -H \"Authorization: Bearer $AIPASTA_API_KEY\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{}'",
                quote(&v1_json)
            ),
        },
        Snippet {
            id: "v1-python",
            label: "Python (/v1)",
            code: format!(
                "import os\nfrom openai import OpenAI\n\nclient = OpenAI(base_url=\"{base}/v1\", api_key=os.environ[\"AIPASTA_API_KEY\"])\ncompletion = client.chat.completions.create(**{v1_json})\nprint(completion.choices[0].message.content)"
            ),
        },
        Snippet {
            id: "v1-javascript",
            label: "JavaScript (/v1)",
            code: format!(
                "import OpenAI from \"openai\";\n\nconst client = new OpenAI({{ baseURL: \"{base}/v1\", apiKey: process.env.AIPASTA_API_KEY }});\nconst completion = await client.chat.completions.create({v1_json});\nconsole.log(completion.choices[0].message.content);"
            ),
        },
    ]
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
}
