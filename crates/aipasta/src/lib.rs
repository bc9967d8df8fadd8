//! The `aipasta` program: command-line interface, configuration and the commands it runs.

mod cli;
mod commands;
mod logging;

use std::process::ExitCode;

use clap::Parser;

pub use cli::{Cli, Command, Settings};

/// Reads `.env`, parses the command line and runs the chosen command.
pub fn main() -> ExitCode {
    // `.env` fills in variables the environment does not already set, so the precedence is
    // flag > environment > .env > default.
    let dotenv = dotenvy::dotenv();
    let cli = Cli::parse();
    logging::init(&cli.settings);
    if let Ok(path) = dotenv {
        tracing::debug!(path = %path.display(), "read .env");
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
