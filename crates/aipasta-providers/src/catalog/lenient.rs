//! Tolerant reading of provider JSON. Providers add fields and change types without notice; a
//! field we cannot read is treated as absent, and only a model we cannot identify is skipped.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::catalog::CatalogError;

/// `deserialize_with` for optional fields: a value of the wrong type reads as the default.
pub(crate) fn lenient<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

/// The string items of a JSON list, lower-cased, sorted and deduplicated so the same upstream
/// facts always give the same value (whatever order the provider sent them in).
pub(crate) fn sorted_strings(values: &[Value]) -> Vec<String> {
    let mut strings: Vec<String> = values
        .iter()
        .filter_map(Value::as_str)
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    strings.sort();
    strings.dedup();
    strings
}

/// `Some` for a non-blank string, trimmed.
pub(crate) fn non_blank(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// Reads a body that must be JSON and returns its list of models: the `data` array of an
/// object (OpenRouter, OpenAI) when `field` is given, else a top-level array (Hugging Face Hub).
pub(crate) fn model_list(
    body: &[u8],
    field: Option<&str>,
    source: &str,
) -> Result<Vec<Value>, CatalogError> {
    let document: Value = serde_json::from_slice(body)
        .map_err(|e| CatalogError::invalid(source, format!("not JSON ({e})")))?;
    let Some(field) = field else {
        return match document {
            Value::Array(models) => Ok(models),
            other => Err(CatalogError::invalid(
                source,
                format!("expected a JSON array, got {}", kind(&other)),
            )),
        };
    };
    match document {
        Value::Object(mut object) => match object.remove(field) {
            Some(Value::Array(models)) => Ok(models),
            _ => Err(CatalogError::invalid(
                source,
                match upstream_error_message(&object) {
                    Some(message) => {
                        format!("no `{field}` array; the answer is an error: {message}")
                    }
                    None => format!("no `{field}` array"),
                },
            )),
        },
        other => Err(CatalogError::invalid(
            source,
            format!(
                "expected a JSON object with a `{field}` array, got {}",
                kind(&other)
            ),
        )),
    }
}

/// The message of an `{"error": ...}` body, in the shapes providers use.
fn upstream_error_message(object: &serde_json::Map<String, Value>) -> Option<String> {
    match object.get("error")? {
        Value::String(message) => Some(message.clone()),
        Value::Object(error) => error
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The `id` of a model we are about to skip, for the warning.
pub(crate) fn id_for_log(model: &Value) -> String {
    model
        .get("id")
        .map(|id| id.to_string())
        .unwrap_or_else(|| "(no id)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Default)]
    struct Sample {
        #[serde(default, deserialize_with = "lenient")]
        count: Option<i64>,
    }

    #[test]
    fn a_wrongly_typed_field_reads_as_absent() {
        let sample: Sample = serde_json::from_str(r#"{"count": "many"}"#).unwrap_or_default();
        assert_eq!(sample.count, None);
        let sample: Sample = serde_json::from_str(r#"{"count": 3}"#).unwrap_or_default();
        assert_eq!(sample.count, Some(3));
    }

    #[test]
    fn list_shapes_are_checked() {
        assert_eq!(
            model_list(br#"{"data": [1, 2]}"#, Some("data"), "t").map(|v| v.len()),
            Ok(2)
        );
        assert_eq!(model_list(b"[1]", None, "t").map(|v| v.len()), Ok(1));
        let Err(CatalogError::InvalidJson { message, .. }) = model_list(
            br#"{"error": {"code": 401, "message": "No auth"}}"#,
            Some("data"),
            "t",
        ) else {
            panic!("an error body is not a list");
        };
        assert!(message.contains("No auth"), "{message}");
        assert!(model_list(b"{}", None, "t").is_err());
        assert!(model_list(b"<html>", Some("data"), "t").is_err());
    }
}
