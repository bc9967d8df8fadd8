//! `tracing` output: pretty lines for people, JSON lines for collectors.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::{LogFormat, Settings};

const DEFAULT_FILTER: &str = "info,sqlx=warn";

pub fn init(settings: &Settings) {
    let filter = settings
        .log
        .as_deref()
        .map(EnvFilter::try_new)
        .or_else(|| std::env::var("RUST_LOG").ok().map(EnvFilter::try_new))
        .and_then(Result::ok)
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER));
    // Colours only on a terminal: a log file or a collector gets no escape codes.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let result = match settings.log_format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    if let Err(error) = result {
        eprintln!("warning: logging was already set up: {error}");
    }
}
