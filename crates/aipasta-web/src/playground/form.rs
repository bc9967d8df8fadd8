//! The playground form's parameter controls, per mode: the sampling parameters the model
//! supports (bounded by its ranges, starting at its defaults) for chat, text and code; what the
//! adapters pass on for images (size, seed) and translations (the target language); nothing for
//! summaries and vectors. Reading a posted form back checks every value against the bounds the
//! page declares, so a post without JavaScript is refused with the same words, next to the field.

use serde_json::Value;

use aipasta_store::catalog::ModelRow;

use aipasta_engine::prepare::{Mode, ParameterInput};

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
    /// The slider's step; whole-number fields also step by 1 in their number input.
    pub step: String,
    pub integer: bool,
    /// The longest text a text control takes ("" for no limit).
    pub max_length: String,
    /// The value shown (the default, or what was posted).
    pub value: String,
    /// The model's default ("" when the parameter is left unset by default).
    pub default: String,
    pub advanced: bool,
    pub hint: String,
    /// Why the posted value was refused, shown next to the field.
    pub error: Option<String>,
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

    /// The number input's `step`: whole numbers step by 1; other numbers take any value in
    /// range (the server checks the range only, so the browser must not refuse 0.333).
    pub fn input_step(&self) -> &str {
        if self.integer { "1" } else { "any" }
    }

    fn number(field: &'static str, label: &'static str, hint: impl Into<String>) -> Control {
        Control {
            field,
            label,
            kind: Kind::Number,
            min: String::new(),
            max: String::new(),
            step: "1".into(),
            integer: true,
            max_length: String::new(),
            value: String::new(),
            default: String::new(),
            advanced: false,
            hint: hint.into(),
            error: None,
        }
    }

    fn text_field(field: &'static str, label: &'static str, hint: impl Into<String>) -> Control {
        Control {
            kind: Kind::Text,
            step: String::new(),
            integer: false,
            ..Control::number(field, label, hint)
        }
    }

    fn bounded(mut self, min: &str, max: &str) -> Control {
        self.min = min.to_owned();
        self.max = max.to_owned();
        self
    }

    fn advanced(mut self) -> Control {
        self.advanced = true;
        self
    }

    fn with_max_length(mut self, chars: usize) -> Control {
        self.max_length = chars.to_string();
        self
    }
}

/// A number for a form value: no trailing zeros.
pub fn number(value: f64) -> String {
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Image sizes the engine accepts (`prepare.rs` refuses others), in pixels.
const IMAGE_SIDE: (&str, &str) = ("64", "4096");
/// The longest language code taken (NLLB's `fra_Latn`, mBART's `fr_XX`, plain `fr`).
const MAX_LANGUAGE_CHARS: usize = 32;

/// The controls `mode` takes on `model`.
pub fn controls(model: &ModelRow, mode: Mode) -> Vec<Control> {
    match mode {
        Mode::Chat | Mode::Text | Mode::Code => sampling_controls(model),
        Mode::Image => image_controls(model),
        Mode::Translate => vec![
            Control::text_field(
                "targetLanguage",
                "Target language",
                "For a model that translates into many languages, the code it expects (fr, fr_XX, fra_Latn); empty for a one-pair model such as opus-mt-en-fr",
            )
            .with_max_length(MAX_LANGUAGE_CHARS),
        ],
        Mode::Summarize | Mode::Embed => Vec::new(),
    }
}

/// Width, height and, where the adapter passes it on, a seed. Hugging Face sends each side
/// alone; OpenAI-style endpoints take a size only when both are set. No count: every adapter
/// asks for one image.
fn image_controls(model: &ModelRow) -> Vec<Control> {
    let (min, max) = IMAGE_SIDE;
    let side = |field, label| {
        Control::number(
            field,
            label,
            format!("{min} to {max} pixels; empty for the model's default"),
        )
        .bounded(min, max)
    };
    let mut out = vec![side("width", "Width"), side("height", "Height")];
    let supported = model.supported_parameters();
    let passes_seed = matches!(model.provider.as_str(), "openrouter" | "huggingface");
    if passes_seed && (supported.is_empty() || supported.iter().any(|p| p == "seed")) {
        out.push(seed_control());
    }
    out
}

fn seed_control() -> Control {
    Control::number(
        "seed",
        "Seed",
        "The same seed asks for the same answer; empty for random",
    )
    .advanced()
}

/// The sampling parameters it supports (the standard ones when it lists none), then the
/// length limit, seed and stop sequences.
fn sampling_controls(model: &ModelRow) -> Vec<Control> {
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
            integer: known.integer,
            max_length: String::new(),
            value: number(default),
            default: number(default),
            advanced: known.advanced,
            hint: format!(
                "{} to {}, default {}",
                number(min),
                number(max),
                number(default)
            ),
            error: None,
        });
    }
    let longest = model.max_tokens.filter(|m| *m > 0);
    let mut max_tokens = Control::number(
        "maxTokens",
        "Max tokens",
        match longest {
            Some(m) => format!("The longest answer: up to {m} tokens; empty for the model's own"),
            None => "The longest answer; empty for the model's own".into(),
        },
    );
    max_tokens.min = "1".into();
    max_tokens.max = longest.map(|m| m.to_string()).unwrap_or_default();
    out.push(max_tokens);
    if supported.is_empty() || listed("seed") {
        out.push(seed_control());
    }
    if supported.is_empty() || listed("stop") {
        out.push(
            Control::text_field("stop", "Stop sequences", "Up to 4, separated by commas")
                .advanced(),
        );
    }
    out
}

/// The form fields the playground records, in the order a run shows them, with their labels.
pub const FIELDS: &[(&str, &str)] = &[
    ("temperature", "Temperature"),
    ("topP", "Top P"),
    ("topK", "Top K"),
    ("frequencyPenalty", "Frequency penalty"),
    ("presencePenalty", "Presence penalty"),
    ("repetitionPenalty", "Repetition penalty"),
    ("maxTokens", "Max tokens"),
    ("seed", "Seed"),
    ("stop", "Stop sequences"),
    ("width", "Width"),
    ("height", "Height"),
    ("targetLanguage", "Target language"),
];

/// A generation's recorded parameters (camelCase JSON, as `generations::parameters_json` writes
/// them) as form fields and their text, in [`FIELDS`] order: what a run shows and what running
/// it again posts.
pub fn recorded_fields(parameters: &str) -> Vec<(&'static str, &'static str, String)> {
    let Ok(Value::Object(recorded)) = serde_json::from_str::<Value>(parameters) else {
        return Vec::new();
    };
    FIELDS
        .iter()
        .filter_map(|&(field, label)| {
            let text = match recorded.get(field)? {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => return None,
            };
            Some((field, label, text))
        })
        .collect()
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
/// default applies). Sets each control's shown value to what was posted and, for a value out
/// of its bounds, its error; the first error is also the answer.
pub fn read(
    controls: &mut [Control],
    pairs: &[(String, String)],
) -> Result<ParameterInput, String> {
    let mut input = ParameterInput::default();
    let mut first_error = None;
    for control in controls.iter_mut() {
        control.error = None;
        let Some(text) = value(pairs, control.field) else {
            control.value = String::new();
            continue;
        };
        control.value = text.to_owned();
        if let Err(message) = read_one(control, text, &mut input) {
            first_error.get_or_insert_with(|| message.clone());
            control.error = Some(message);
        }
    }
    first_error.map_or(Ok(input), Err)
}

fn read_one(control: &Control, text: &str, input: &mut ParameterInput) -> Result<(), String> {
    let label = control.label;
    match control.field {
        "stop" => {
            input.stop = text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            return Ok(());
        }
        "targetLanguage" => {
            let limit = control.max_length.parse().unwrap_or(usize::MAX);
            if text.chars().count() > limit {
                return Err(format!("{label} takes at most {limit} characters."));
            }
            input.target_language = Some(text.to_owned());
            return Ok(());
        }
        _ => {}
    }
    let value: f64 = text
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| format!("{label} must be a number; it was “{text}”."))?;
    if control.integer && value.fract() != 0.0 {
        return Err(format!("{label} must be a whole number; it was {text}."));
    }
    let min = control.min.parse::<f64>().ok();
    let max = control.max.parse::<f64>().ok();
    if min.is_some_and(|min| value < min) || max.is_some_and(|max| value > max) {
        return Err(match (min, max) {
            (Some(_), Some(_)) => format!(
                "{label} must be between {} and {}; it was {text}.",
                control.min, control.max
            ),
            (Some(_), None) => format!("{label} must be at least {}; it was {text}.", control.min),
            _ => format!("{label} must be at most {}; it was {text}.", control.max),
        });
    }
    if control
        .default
        .parse::<f64>()
        .is_ok_and(|d| (d - value).abs() < 1e-9)
    {
        return Ok(());
    }
    let whole = |largest: f64| {
        if value < 0.0 || value > largest {
            Err(format!("{label} is too large; it was {text}."))
        } else {
            Ok(value as u64)
        }
    };
    match control.field {
        "maxTokens" => input.max_tokens = Some(whole(f64::from(u32::MAX))? as u32),
        "topK" => input.top_k = Some(whole(f64::from(u32::MAX))? as u32),
        "width" => input.width = Some(whole(f64::from(u32::MAX))? as u32),
        "height" => input.height = Some(whole(f64::from(u32::MAX))? as u32),
        "seed" => {
            input.seed = Some(
                text.parse::<i64>()
                    .map_err(|_| format!("{label} must be a whole number; it was {text}."))?,
            );
        }
        "temperature" => input.temperature = Some(value),
        "topP" => input.top_p = Some(value),
        "frequencyPenalty" => input.frequency_penalty = Some(value),
        "presencePenalty" => input.presence_penalty = Some(value),
        "repetitionPenalty" => input.repetition_penalty = Some(value),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temperature() -> Control {
        Control {
            field: "temperature",
            label: "Temperature",
            kind: Kind::Slider,
            min: "0".into(),
            max: "2".into(),
            step: "0.01".into(),
            integer: false,
            max_length: String::new(),
            value: "1".into(),
            default: "1".into(),
            advanced: false,
            hint: String::new(),
            error: None,
        }
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn numbers_read_back_and_defaults_are_left_out() {
        assert_eq!(number(0.7), "0.7");
        assert_eq!(number(2.0), "2");
        let mut controls = vec![temperature()];
        assert_eq!(
            read(&mut controls, &form(&[("temperature", "1.0")]))
                .unwrap()
                .temperature,
            None
        );
        assert_eq!(
            read(&mut controls, &form(&[("temperature", "0.333")]))
                .unwrap()
                .temperature,
            Some(0.333)
        );
        assert!(read(&mut controls, &form(&[("temperature", "hot")])).is_err());
    }

    #[test]
    fn values_out_of_bounds_are_refused_naming_the_field() {
        let mut controls = vec![
            temperature(),
            Control::number("width", "Width", "").bounded("64", "4096"),
            Control::number("seed", "Seed", ""),
        ];
        let error = read(
            &mut controls,
            &form(&[("temperature", "5"), ("width", "9000")]),
        )
        .unwrap_err();
        assert_eq!(error, "Temperature must be between 0 and 2; it was 5.");
        assert_eq!(controls[0].error.as_deref(), Some(error.as_str()));
        assert_eq!(
            controls[1].error.as_deref(),
            Some("Width must be between 64 and 4096; it was 9000.")
        );
        assert_eq!(controls[0].value, "5", "the posted value is shown back");
        let error = read(&mut controls, &form(&[("seed", "1.5")])).unwrap_err();
        assert_eq!(error, "Seed must be a whole number; it was 1.5.");
        assert!(controls[0].error.is_none(), "errors are per post");
        let read_back = read(&mut controls, &form(&[("width", "512"), ("seed", "-7")])).unwrap();
        assert_eq!((read_back.width, read_back.seed), (Some(512), Some(-7)));
    }

    #[test]
    fn recorded_parameters_come_back_as_form_fields() {
        let fields = recorded_fields(
            r#"{"temperature":0.3,"stop":["a","b"],"width":512,"targetLanguage":"fr","mode":"text"}"#,
        );
        assert_eq!(
            fields,
            vec![
                ("temperature", "Temperature", "0.3".to_owned()),
                ("stop", "Stop sequences", "a, b".to_owned()),
                ("width", "Width", "512".to_owned()),
                ("targetLanguage", "Target language", "fr".to_owned()),
            ]
        );
        assert!(recorded_fields("not json").is_empty());
    }
}
