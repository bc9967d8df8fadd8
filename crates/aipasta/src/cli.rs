//! Command-line flags. Every flag has an `AIPASTA_*` environment variable; `.env.example` at the
//! repository root documents each one.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, Parser)]
#[command(
    name = "aipasta",
    version,
    about = "AI Pasta: a self-hosted AI model playground and OpenAI-compatible gateway"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the effective configuration, secrets redacted, and exit.
    Config,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Settings shared by every command.
#[derive(Debug, Args)]
pub struct Settings {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "AIPASTA_BIND",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub bind: SocketAddr,

    /// Directory for the SQLite database and other local state.
    #[arg(
        long,
        env = "AIPASTA_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Database URL (`postgres://...` or `sqlite://...`); the SQLite file `<data-dir>/aipasta.db`
    /// when unset.
    #[arg(
        long,
        env = "AIPASTA_DATABASE_URL",
        global = true,
        hide_env_values = true,
        value_parser = parse_secret
    )]
    pub database_url: Option<Secret>,

    /// Log format.
    #[arg(
        long,
        env = "AIPASTA_LOG_FORMAT",
        value_enum,
        default_value = "pretty",
        global = true
    )]
    pub log_format: LogFormat,

    /// Log filter, in `tracing` syntax (e.g. `info` or `info,aipasta_web=debug`). `RUST_LOG` is
    /// used when this is unset.
    #[arg(long, env = "AIPASTA_LOG", global = true)]
    pub log: Option<String>,

    /// Contact address shown on the contact page.
    #[arg(long, env = "AIPASTA_CONTACT_EMAIL", global = true)]
    pub contact_email: Option<String>,
}

/// A secret string whose `Debug` and `Display` never show the value.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

fn parse_secret(value: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret(SecretString::from(value.to_owned())))
}

impl Cli {
    pub fn chosen_command(&self) -> &Command {
        self.command.as_ref().unwrap_or(&Command::Serve)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default_and_secrets_do_not_leak_through_debug() {
        let cli = Cli::try_parse_from([
            "aipasta",
            "--database-url",
            "postgres://app:hunter2@db/aipasta",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(cli.chosen_command(), Command::Serve));
        let debug = format!("{cli:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("REDACTED"), "{debug}");
    }
}
