//! The sampling parameters AI Pasta passes to models: one table ([`SAMPLING`]) that request
//! parsing (`/api` and `/v1`), the checks against a model, the adapters' outgoing bodies, the
//! playground form, recorded parameters and the API documentation all read. Adding a sampling
//! parameter is one row here, plus whatever a provider needs beyond passing it by name.
//!
//! The length limit (`max_tokens`), the seed and the stop sequences are not in the table: each
//! has a rule of its own (bounded by the model's output limit; any integer; a list).

use std::fmt;

/// Whether a parameter takes any number or whole numbers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Number,
    Integer,
}

/// One sampling parameter.
#[derive(Debug)]
pub struct SamplingParam {
    /// The providers' name (snake_case): OpenAI's and OpenRouter's bodies, models' supported
    /// lists, `/v1` requests.
    pub name: &'static str,
    /// The plan's name (camelCase): `/api` requests, the playground form, recorded parameters.
    pub field: &'static str,
    pub label: &'static str,
    pub kind: ValueKind,
    /// The documented range, used when the model gives none of its own.
    pub min: f64,
    pub max: f64,
    /// The documented default, used when the model gives none of its own.
    pub default: f64,
    /// Shown under "Advanced" in the playground.
    pub advanced: bool,
    /// Hugging Face's text generation (TGI) takes it under the same name. OpenAI-compatible
    /// servers and OpenRouter are sent every parameter a model lists.
    pub tgi: bool,
    /// What it does, for the API documentation and the form's hint.
    pub summary: &'static str,
}

/// Every sampling parameter, in the order the playground shows them.
pub const SAMPLING: &[SamplingParam] = &[
    SamplingParam {
        name: "temperature",
        field: "temperature",
        label: "Temperature",
        kind: ValueKind::Number,
        min: 0.0,
        max: 2.0,
        default: 1.0,
        advanced: false,
        tgi: true,
        summary: "Randomness: lower is more focused, higher more varied.",
    },
    SamplingParam {
        name: "top_p",
        field: "topP",
        label: "Top P",
        kind: ValueKind::Number,
        min: 0.0,
        max: 1.0,
        default: 1.0,
        advanced: false,
        tgi: true,
        summary: "Nucleus sampling: only the most likely tokens whose probabilities add up to this.",
    },
    SamplingParam {
        name: "top_k",
        field: "topK",
        label: "Top K",
        kind: ValueKind::Integer,
        min: 0.0,
        max: 200.0,
        default: 0.0,
        advanced: true,
        tgi: true,
        summary: "Only the K most likely tokens (0: no limit).",
    },
    SamplingParam {
        name: "frequency_penalty",
        field: "frequencyPenalty",
        label: "Frequency penalty",
        kind: ValueKind::Number,
        min: -2.0,
        max: 2.0,
        default: 0.0,
        advanced: true,
        tgi: false,
        summary: "Discourages tokens by how often they already appeared.",
    },
    SamplingParam {
        name: "presence_penalty",
        field: "presencePenalty",
        label: "Presence penalty",
        kind: ValueKind::Number,
        min: -2.0,
        max: 2.0,
        default: 0.0,
        advanced: true,
        tgi: false,
        summary: "Discourages tokens that already appeared at all.",
    },
    SamplingParam {
        name: "repetition_penalty",
        field: "repetitionPenalty",
        label: "Repetition penalty",
        kind: ValueKind::Number,
        min: 0.0,
        max: 2.0,
        default: 1.0,
        advanced: true,
        tgi: true,
        summary: "Discourages repeating the input and earlier output (1: none).",
    },
    SamplingParam {
        name: "min_p",
        field: "minP",
        label: "Min P",
        kind: ValueKind::Number,
        min: 0.0,
        max: 1.0,
        default: 0.0,
        advanced: true,
        tgi: false,
        summary: "Only tokens at least this likely relative to the most likely one (0: off).",
    },
    SamplingParam {
        name: "top_a",
        field: "topA",
        label: "Top A",
        kind: ValueKind::Number,
        min: 0.0,
        max: 1.0,
        default: 0.0,
        advanced: true,
        tgi: false,
        summary: "Only tokens whose probability is high enough given the most likely one's (0: off).",
    },
];

/// The sampling parameter called `name` (its providers' name or its plan's name).
pub fn sampling_param(name: &str) -> Option<&'static SamplingParam> {
    SAMPLING.iter().find(|p| p.name == name || p.field == name)
}

impl SamplingParam {
    /// Whether `value` is one this parameter takes at all (within `min..=max`, a whole number
    /// for integer parameters); the message says why not.
    pub fn check(&self, value: f64, min: f64, max: f64) -> Result<f64, String> {
        let name = self.name;
        if !value.is_finite() || value < min || value > max {
            return Err(format!(
                "`{name}` must be between {min} and {max}; it was {value}."
            ));
        }
        if self.kind == ValueKind::Integer && value.fract() != 0.0 {
            return Err(format!("`{name}` must be a whole number; it was {value}."));
        }
        Ok(value)
    }
}

/// A value for each parameter of [`SAMPLING`] (`None`: not sent, the provider's default).
/// Copied, not allocated: every request carries one.
#[derive(Clone, Copy, Default, PartialEq)]
pub struct SamplingValues([Option<f64>; SAMPLING.len()]);

impl SamplingValues {
    pub fn get(&self, name: &str) -> Option<f64> {
        let index = SAMPLING.iter().position(|p| p.name == name)?;
        self.0[index]
    }

    /// Sets `param`'s value (a parameter from [`SAMPLING`]).
    pub fn set(&mut self, param: &SamplingParam, value: Option<f64>) {
        if let Some(index) = SAMPLING.iter().position(|p| p.name == param.name) {
            self.0[index] = value;
        }
    }

    /// The parameters that have a value, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static SamplingParam, f64)> + '_ {
        SAMPLING
            .iter()
            .zip(self.0.iter())
            .filter_map(|(param, value)| value.map(|value| (param, value)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }
}

impl fmt::Debug for SamplingValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(param, value)| (param.name, value)))
            .finish()
    }
}

impl<const N: usize> From<[(&str, f64); N]> for SamplingValues {
    /// Values by name; a name outside the table is ignored.
    fn from(values: [(&str, f64); N]) -> SamplingValues {
        let mut out = SamplingValues::default();
        for (name, value) in values {
            if let Some(param) = sampling_param(name) {
                out.set(param, Some(value));
            }
        }
        out
    }
}

impl serde::Serialize for SamplingValues {
    /// As `{"temperature": 0.5, "top_k": 40}`: whole numbers for integer parameters.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (param, value) in self.iter() {
            map.serialize_entry(param.name, &param.json(value))?;
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for SamplingValues {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SamplingValues, D::Error> {
        let map = std::collections::BTreeMap::<String, f64>::deserialize(d)?;
        let mut out = SamplingValues::default();
        for (name, value) in map {
            if let Some(param) = sampling_param(&name) {
                out.set(param, Some(value));
            }
        }
        Ok(out)
    }
}

impl SamplingParam {
    /// The value as JSON: a whole number for integer parameters.
    pub fn json(&self, value: f64) -> serde_json::Value {
        match self.kind {
            ValueKind::Integer => serde_json::Value::from(value as i64),
            ValueKind::Number => serde_json::Value::from(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_fields_are_unique_and_defaults_in_range() {
        for (i, param) in SAMPLING.iter().enumerate() {
            assert!(
                param.min <= param.default && param.default <= param.max,
                "{param:?}"
            );
            for other in &SAMPLING[i + 1..] {
                assert_ne!(param.name, other.name);
                assert_ne!(param.field, other.field);
            }
            assert_eq!(sampling_param(param.name).unwrap().name, param.name);
            assert_eq!(sampling_param(param.field).unwrap().name, param.name);
        }
    }

    #[test]
    fn values_round_trip_by_name_with_integers_as_integers() {
        let values = SamplingValues::from([("temperature", 0.5), ("topK", 40.0), ("nope", 1.0)]);
        assert_eq!(values.get("temperature"), Some(0.5));
        assert_eq!(values.get("top_k"), Some(40.0));
        let json = serde_json::to_value(values).unwrap();
        assert_eq!(json, serde_json::json!({"temperature": 0.5, "top_k": 40}));
        let back: SamplingValues = serde_json::from_value(json).unwrap();
        assert_eq!(back, values);
    }

    #[test]
    fn checks_say_what_is_wrong() {
        let top_k = sampling_param("top_k").unwrap();
        assert_eq!(top_k.check(40.0, 0.0, 200.0), Ok(40.0));
        assert_eq!(
            top_k.check(4.5, 0.0, 200.0),
            Err("`top_k` must be a whole number; it was 4.5.".into())
        );
        let temperature = sampling_param("temperature").unwrap();
        assert_eq!(
            temperature.check(3.5, 0.0, 2.0),
            Err("`temperature` must be between 0 and 2; it was 3.5.".into())
        );
        assert!(temperature.check(f64::NAN, 0.0, 2.0).is_err());
    }
}
