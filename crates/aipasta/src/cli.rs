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
    /// Work with the model catalog.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Manage administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Maintain the compiled-in seed catalog (for developers of AI Pasta).
    #[command(subcommand, hide = true)]
    Catalog(CatalogCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account, or make an existing account an admin (its password is set).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Fetch the providers' model lists and bring the catalog in step with them.
    Sync {
        /// Which provider to sync: openrouter, huggingface, all, or the name of an
        /// OpenAI-compatible endpoint (the environment's, `local` unless
        /// AIPASTA_OPENAI_COMPATIBLE_NAME says otherwise, or one an admin added). `all` includes
        /// every endpoint.
        #[arg(long, default_value = "all")]
        provider: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Rebuild the seed file from a captured OpenRouter `GET /models` answer (facts only: the
    /// providers' descriptions are left out).
    BuildSeed {
        /// The captured model list (JSON).
        #[arg(long)]
        from: PathBuf,
        /// Where to write the seed.
        #[arg(long, default_value = "crates/aipasta-store/seed/catalog.json")]
        out: PathBuf,
    },
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

    /// OpenRouter's API base URL.
    #[arg(
        long,
        env = "AIPASTA_OPENROUTER_BASE_URL",
        default_value = "https://openrouter.ai/api/v1",
        global = true
    )]
    pub openrouter_base_url: String,

    /// OpenRouter API key (`OPENROUTER_API_KEY` is read too).
    #[arg(long, env = "AIPASTA_OPENROUTER_API_KEY", hide_env_values = true, value_parser = parse_secret, global = true)]
    pub openrouter_api_key: Option<Secret>,

    /// The Hugging Face Hub, for its model lists.
    #[arg(
        long,
        env = "AIPASTA_HUGGINGFACE_HUB_URL",
        default_value = "https://huggingface.co",
        global = true
    )]
    pub huggingface_hub_url: String,

    /// Hugging Face's OpenAI-compatible router.
    #[arg(
        long,
        env = "AIPASTA_HUGGINGFACE_ROUTER_URL",
        default_value = "https://router.huggingface.co/v1",
        global = true
    )]
    pub huggingface_router_url: String,

    /// Hugging Face API key (`HUGGINGFACE_API_KEY` is read too).
    #[arg(long, env = "AIPASTA_HUGGINGFACE_API_KEY", hide_env_values = true, value_parser = parse_secret, global = true)]
    pub huggingface_api_key: Option<Secret>,

    /// Hugging Face's inference API, for text generation, images, summaries and translations.
    #[arg(
        long,
        env = "AIPASTA_HUGGINGFACE_INFERENCE_URL",
        default_value = "https://router.huggingface.co/hf-inference",
        global = true
    )]
    pub huggingface_inference_url: String,

    /// An OpenAI-compatible server to use (Ollama, vLLM, llama.cpp, LM Studio...), e.g.
    /// `http://localhost:11434/v1`. Trusted as set: local addresses are fine here.
    #[arg(long, env = "AIPASTA_OPENAI_COMPATIBLE_URL", global = true)]
    pub openai_compatible_url: Option<String>,

    /// Its API key, if it needs one.
    #[arg(long, env = "AIPASTA_OPENAI_COMPATIBLE_API_KEY", hide_env_values = true, value_parser = parse_secret, global = true)]
    pub openai_compatible_api_key: Option<Secret>,

    /// The provider name its models carry in the catalog.
    #[arg(
        long,
        env = "AIPASTA_OPENAI_COMPATIBLE_NAME",
        default_value = "local",
        global = true
    )]
    pub openai_compatible_name: String,

    /// Seconds to wait for a model's first token before giving up (or retrying).
    #[arg(
        long,
        env = "AIPASTA_FIRST_TOKEN_TIMEOUT",
        default_value_t = 60,
        global = true
    )]
    pub first_token_timeout: u64,

    /// Seconds of silence allowed between two tokens of a streamed answer.
    #[arg(
        long,
        env = "AIPASTA_TOKEN_TIMEOUT",
        default_value_t = 60,
        global = true
    )]
    pub token_timeout: u64,

    /// Seconds a whole generation may take.
    #[arg(
        long,
        env = "AIPASTA_GENERATION_TIMEOUT",
        default_value_t = 600,
        global = true
    )]
    pub generation_timeout: u64,

    /// Attempts per model before its first token when the provider is busy or unreachable
    /// (429, 502, 503, connection errors); 1 turns retries off.
    #[arg(long, env = "AIPASTA_GENERATION_ATTEMPTS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10), global = true)]
    pub generation_attempts: u32,

    /// Seconds a shutdown (SIGTERM, Ctrl-C) may take in all: running generations get up to
    /// half (at most 10 s), writing them the rest; what the database has not taken by then is
    /// saved to `<data-dir>/unwritten-generations.jsonl` and written at the next start.
    #[arg(
        long,
        env = "AIPASTA_SHUTDOWN_TIMEOUT",
        default_value_t = 20,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        global = true
    )]
    pub shutdown_timeout: u64,

    /// How many of the most downloaded Hugging Face models to list per task when syncing.
    #[arg(
        long,
        env = "AIPASTA_HUGGINGFACE_SYNC_LIMIT",
        default_value_t = 50,
        global = true
    )]
    pub huggingface_sync_limit: u32,

    /// The server secret that signs tokens and encrypts stored keys (32+ random characters).
    /// Generated into `<data-dir>/secret.key` on first start when unset.
    #[arg(long, env = "AIPASTA_SECRET_KEY", hide_env_values = true, value_parser = parse_secret, global = true)]
    pub secret_key: Option<Secret>,

    /// Emails of accounts that are admins, comma-separated (`ADMIN_EMAILS` is read too).
    #[arg(
        long,
        env = "AIPASTA_ADMIN_EMAILS",
        value_delimiter = ',',
        global = true
    )]
    pub admin_emails: Vec<String>,

    /// Mark cookies Secure: set when the site is served over HTTPS (behind a proxy).
    #[arg(
        long,
        env = "AIPASTA_SECURE_COOKIES",
        default_value_t = false,
        global = true
    )]
    pub secure_cookies: bool,

    /// The API's rate limit per signed-in account, e.g. `120/min,burst=60` (the default) or
    /// `100000/s` for a load test.
    #[arg(long, env = "AIPASTA_API_RATE_LIMIT", global = true)]
    pub api_rate_limit: Option<aipasta_web::ratelimit::Limit>,

    /// Redis URL for rate limits shared by several instances; in memory when unset.
    #[arg(long, env = "AIPASTA_REDIS_URL", hide_env_values = true, value_parser = parse_secret, global = true)]
    pub redis_url: Option<Secret>,

    /// The site's public address, e.g. `https://pasta.example.com`: OAuth callbacks, image
    /// links and API examples use it. Unset, they use the address the server listens on (a
    /// request's `Host` is never trusted for them).
    #[arg(long, env = "AIPASTA_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Seconds a client may take to send a request's headers, and a kept-alive connection may
    /// stay idle; slower clients are disconnected.
    #[arg(
        long,
        env = "AIPASTA_HEADER_TIMEOUT",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        global = true
    )]
    pub header_timeout: u64,

    /// Reverse proxies in front of the server, as addresses or CIDR ranges separated by commas
    /// (e.g. `127.0.0.1,10.0.0.0/8`). A request arriving from one of them is taken to come from
    /// the address its `X-Forwarded-For` names (the last one not itself a trusted proxy), for
    /// rate limits, sign-in lockouts and the recorded address. Unset, the header is ignored.
    #[arg(long, env = "AIPASTA_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// A bearer token `/metrics` asks for (`Authorization: Bearer <token>`); open when unset.
    #[arg(long, env = "AIPASTA_METRICS_TOKEN", hide_env_values = true, value_parser = parse_secret, global = true)]
    pub metrics_token: Option<Secret>,

    /// GitHub OAuth app: client id (turns on "Sign in with GitHub").
    #[arg(long, env = "AIPASTA_GITHUB_CLIENT_ID", global = true)]
    pub github_client_id: Option<String>,
    /// GitHub OAuth app: client secret.
    #[arg(long, env = "AIPASTA_GITHUB_CLIENT_SECRET", hide_env_values = true, value_parser = parse_secret, global = true)]
    pub github_client_secret: Option<Secret>,
    /// GitHub's web address (for GitHub Enterprise).
    #[arg(
        long,
        env = "AIPASTA_GITHUB_URL",
        default_value = "https://github.com",
        global = true
    )]
    pub github_url: String,
    /// GitHub's API address (for GitHub Enterprise).
    #[arg(
        long,
        env = "AIPASTA_GITHUB_API_URL",
        default_value = "https://api.github.com",
        global = true
    )]
    pub github_api_url: String,

    /// Google OAuth client id (turns on "Sign in with Google").
    #[arg(long, env = "AIPASTA_GOOGLE_CLIENT_ID", global = true)]
    pub google_client_id: Option<String>,
    /// Google OAuth client secret.
    #[arg(long, env = "AIPASTA_GOOGLE_CLIENT_SECRET", hide_env_values = true, value_parser = parse_secret, global = true)]
    pub google_client_secret: Option<Secret>,
    /// Google's OpenID Connect issuer.
    #[arg(
        long,
        env = "AIPASTA_GOOGLE_ISSUER",
        default_value = "https://accounts.google.com",
        global = true
    )]
    pub google_issuer: String,

    /// Any OpenID Connect provider: client id.
    #[arg(long, env = "AIPASTA_OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,
    /// Any OpenID Connect provider: client secret.
    #[arg(long, env = "AIPASTA_OIDC_CLIENT_SECRET", hide_env_values = true, value_parser = parse_secret, global = true)]
    pub oidc_client_secret: Option<Secret>,
    /// Any OpenID Connect provider: issuer URL (its discovery document is read from there).
    #[arg(long, env = "AIPASTA_OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,
    /// Any OpenID Connect provider: the name on the sign-in button.
    #[arg(
        long,
        env = "AIPASTA_OIDC_NAME",
        default_value = "Single sign-on",
        global = true
    )]
    pub oidc_name: String,

    /// Sync the catalog with the providers this often while serving (`30m`, `6h`, `1d`);
    /// `off` (the default) never syncs by itself.
    #[arg(long, env = "AIPASTA_MODEL_SYNC_INTERVAL", default_value = "off", value_parser = parse_interval, global = true)]
    pub model_sync_interval: Interval,
}

/// A period such as `90s`, `30m`, `6h` or `1d`; `off` or `0` for never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval(pub Option<std::time::Duration>);

pub fn parse_interval(text: &str) -> Result<Interval, String> {
    let text = text.trim();
    if text.is_empty() || text == "off" || text == "0" {
        return Ok(Interval(None));
    }
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a period such as 30m, 6h or 1d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" | "" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("{text:?} has an unknown unit; use s, m, h or d")),
    };
    if number == 0 {
        return Ok(Interval(None));
    }
    if number * seconds < 60 {
        return Err("the sync interval must be at least one minute".into());
    }
    Ok(Interval(Some(std::time::Duration::from_secs(
        number * seconds,
    ))))
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

impl Settings {
    /// Admin emails from `AIPASTA_ADMIN_EMAILS` (or the flag) and the plan's `ADMIN_EMAILS`,
    /// normalised.
    pub fn admin_email_list(&self) -> Vec<String> {
        let mut emails: Vec<String> = self.admin_emails.clone();
        if let Ok(plan) = std::env::var("ADMIN_EMAILS") {
            emails.extend(plan.split(',').map(str::to_owned));
        }
        let mut emails: Vec<String> = emails
            .iter()
            .filter_map(|e| aipasta_core::account::Email::parse(e).ok())
            .map(|e| e.as_str().to_owned())
            .collect();
        emails.sort();
        emails.dedup();
        emails
    }

    /// The OpenRouter key from `AIPASTA_OPENROUTER_API_KEY` (or the flag), else `OPENROUTER_API_KEY`.
    pub fn openrouter_key(&self) -> Option<String> {
        self.openrouter_api_key
            .as_ref()
            .map(|s| s.expose().to_owned())
            .or_else(|| std::env::var("OPENROUTER_API_KEY").ok())
            .filter(|k| !k.trim().is_empty())
    }

    /// The Hugging Face key from `AIPASTA_HUGGINGFACE_API_KEY` (or the flag), else `HUGGINGFACE_API_KEY`.
    pub fn huggingface_key(&self) -> Option<String> {
        self.huggingface_api_key
            .as_ref()
            .map(|s| s.expose().to_owned())
            .or_else(|| std::env::var("HUGGINGFACE_API_KEY").ok())
            .filter(|k| !k.trim().is_empty())
    }
}

impl Cli {
    pub fn chosen_command(&self) -> &Command {
        self.command.as_ref().unwrap_or(&Command::Serve)
    }
}

/// A trusted proxy: one address (`10.0.0.2`, `::1`) or a range (`10.0.0.0/8`).
fn parse_proxy(value: &str) -> Result<ipnet::IpNet, String> {
    let value = value.trim();
    value
        .parse::<ipnet::IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{value:?} is neither an IP address nor a CIDR range (10.0.0.0/8)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_intervals_parse() {
        use std::time::Duration;
        assert_eq!(parse_interval("off"), Ok(Interval(None)));
        assert_eq!(parse_interval("0"), Ok(Interval(None)));
        assert_eq!(
            parse_interval("30m"),
            Ok(Interval(Some(Duration::from_secs(1800))))
        );
        assert_eq!(
            parse_interval("6h"),
            Ok(Interval(Some(Duration::from_secs(21_600))))
        );
        assert_eq!(
            parse_interval("1d"),
            Ok(Interval(Some(Duration::from_secs(86_400))))
        );
        assert!(parse_interval("10s").is_err(), "too often");
        assert!(parse_interval("soon").is_err());
        assert!(parse_interval("5y").is_err());
    }

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
