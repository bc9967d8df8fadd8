//! The playground form's parameter controls (only those the model supports, bounded by its
//! ranges and starting at its defaults) and reading a posted form back into a request.

use aipasta_store::catalog::ModelRow;

use crate::engine::prepare::ParameterInput;

/// A sampling parameter the playground can show: API name, form field (the plan's camelCase),
/// label, integer or not, rare enough for "Advanced", and the standard default and range.
struct Known {
    api: &'static str,
    field: &'static str,
    label: &'static str,
    integer: bool,
    advanced: bool,
    default: f64,
    min: f64,
    max: f64,
}

const KNOWN: &[Known] = &[
    Known {
        api: "temperature",
        field: "temperature",
        label: "Temperature",
        integer: false,
        advanced: false,
        default: 1.0,
        min: 0.0,
        max: 2.0,
    },
    Known {
        api: "top_p",
        field: "topP",
        label: "Top P",
        integer: false,
        advanced: false,
        default: 1.0,
        min: 0.0,
        max: 1.0,
    },
    Known {
        api: "top_k",
        field: "topK",
        label: "Top K",
        integer: true,
        advanced: true,
        default: 0.0,
        min: 0.0,
        max: 200.0,
    },
    Known {
        api: "frequency_penalty",
        field: "frequencyPenalty",
        label: "Frequency penalty",
        integer: false,
        advanced: true,
        default: 0.0,
        min: -2.0,
        max: 2.0,
    },
    Known {
        api: "presence_penalty",
        field: "presencePenalty",
        label: "Presence penalty",
        integer: false,
        advanced: true,
        default: 0.0,
        min: -2.0,
        max: 2.0,
    },
    Known {
        api: "repetition_penalty",
        field: "repetitionPenalty",
        label: "Repetition penalty",
        integer: false,
        advanced: true,
        default: 1.0,
        min: 0.0,
        max: 2.0,
    },
];

/// How a control is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A slider (revealed by the script) beside a number input.
    Slider,
    /// A number input only.
    Number,
    /// A text input.
    Text,
}

/// One parameter control of the form.
pub struct Control {
    pub field: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub min: String,
    pub max: String,
    pub step: String,
    /// The value shown (the default, or what was posted).
    pub value: String,
    /// The model's default ("" when the parameter is left unset by default).
    pub default: String,
    pub advanced: bool,
    pub hint: String,
}

impl Control {
    pub fn slider(&self) -> bool {
        self.kind == Kind::Slider
    }

    pub fn text(&self) -> bool {
        self.kind == Kind::Text
    }

    pub fn id(&self) -> String {
        format!("param-{}", self.field)
    }
}

/// A number for a form value: no trailing zeros.
pub fn number(value: f64) -> String {
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The controls for `model`: the parameters it supports (the standard ones when it lists
/// none), then the length limit, seed and stop sequences.
pub fn controls(model: &ModelRow) -> Vec<Control> {
    let supported = model.supported_parameters();
    let ranges = model.parameter_ranges();
    let listed = |name: &str| supported.iter().any(|p| p == name);
    let mut out = Vec::new();
    for known in KNOWN {
        let shown = if supported.is_empty() {
            !known.advanced
        } else {
            listed(known.api)
        };
        if !shown {
            continue;
        }
        let (min, max, default) = ranges
            .get(known.api)
            .map_or((known.min, known.max, known.default), |r| {
                (r.min, r.max, r.default)
            });
        out.push(Control {
            field: known.field,
            label: known.label,
            kind: Kind::Slider,
            min: number(min),
            max: number(max),
            step: if known.integer { "1" } else { "0.01" }.to_owned(),
            value: number(default),
            default: number(default),
            advanced: known.advanced,
            hint: format!(
                "{} to {}, default {}",
                number(min),
                number(max),
                number(default)
            ),
        });
    }
    let longest = model.max_tokens.filter(|m| *m > 0);
    out.push(Control {
        field: "maxTokens",
        label: "Max tokens",
        kind: Kind::Number,
        min: "1".into(),
        max: longest.map(|m| m.to_string()).unwrap_or_default(),
        step: "1".into(),
        value: String::new(),
        default: String::new(),
        advanced: false,
        hint: match longest {
            Some(m) => format!("The longest answer: up to {m} tokens; empty for the model's own"),
            None => "The longest answer; empty for the model's own".into(),
        },
    });
    if supported.is_empty() || listed("seed") {
        out.push(Control {
            field: "seed",
            label: "Seed",
            kind: Kind::Number,
            min: String::new(),
            max: String::new(),
            step: "1".into(),
            value: String::new(),
            default: String::new(),
            advanced: true,
            hint: "The same seed asks for the same answer; empty for random".into(),
        });
    }
    if supported.is_empty() || listed("stop") {
        out.push(Control {
            field: "stop",
            label: "Stop sequences",
            kind: Kind::Text,
            min: String::new(),
            max: String::new(),
            step: String::new(),
            value: String::new(),
            default: String::new(),
            advanced: true,
            hint: "Up to 4, separated by commas".into(),
        });
    }
    out
}

/// The last non-empty value of `key` in a posted form.
pub fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, v)| k == key && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
}

/// Reads the posted parameters: values equal to the default are left out (the model's own
/// default applies). Also sets each control's shown value to what was posted.
pub fn read(
    controls: &mut [Control],
    pairs: &[(String, String)],
) -> Result<ParameterInput, String> {
    let mut input = ParameterInput::default();
    for control in controls.iter_mut() {
        let Some(text) = value(pairs, control.field) else {
            control.value = String::new();
            continue;
        };
        control.value = text.to_owned();
        if text == control.default {
            continue;
        }
        let bad = || format!("{} must be a number; it was “{text}”.", control.label);
        match control.field {
            "maxTokens" => input.max_tokens = Some(text.parse().map_err(|_| bad())?),
            "seed" => input.seed = Some(text.parse().map_err(|_| bad())?),
            "topK" => {
                let v: f64 = text.parse().map_err(|_| bad())?;
                if v < 0.0 || v.fract() != 0.0 {
                    return Err(format!("{} must be a whole number.", control.label));
                }
                input.top_k = Some(v as u32);
            }
            "stop" => {
                input.stop = text
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            field => {
                let v: f64 = text.parse().map_err(|_| bad())?;
                if control
                    .default
                    .parse::<f64>()
                    .is_ok_and(|d| (d - v).abs() < 1e-9)
                {
                    continue;
                }
                match field {
                    "temperature" => input.temperature = Some(v),
                    "topP" => input.top_p = Some(v),
                    "frequencyPenalty" => input.frequency_penalty = Some(v),
                    "presencePenalty" => input.presence_penalty = Some(v),
                    "repetitionPenalty" => input.repetition_penalty = Some(v),
                    _ => {}
                }
            }
        }
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_and_defaults_are_left_out() {
        assert_eq!(number(0.7), "0.7");
        assert_eq!(number(2.0), "2");
        let mut controls = vec![Control {
            field: "temperature",
            label: "Temperature",
            kind: Kind::Slider,
            min: "0".into(),
            max: "2".into(),
            step: "0.01".into(),
            value: "1".into(),
            default: "1".into(),
            advanced: false,
            hint: String::new(),
        }];
        let same = vec![("temperature".to_owned(), "1.0".to_owned())];
        assert_eq!(read(&mut controls, &same).unwrap().temperature, None);
        let changed = vec![("temperature".to_owned(), "0.3".to_owned())];
        assert_eq!(
            read(&mut controls, &changed).unwrap().temperature,
            Some(0.3)
        );
        let bad = vec![("temperature".to_owned(), "hot".to_owned())];
        assert!(read(&mut controls, &bad).is_err());
    }
}
