//! `aipasta-mock`: the mock upstream as a program, for demos and benchmarks. Every generation
//! route answers with the script given on the command line; stops on Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use aipasta_mock::{MockConfig, MockServer, Script};
use clap::Parser;

/// Serves the mock providers (OpenRouter, OpenAI-compatible, Hugging Face) until Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "aipasta-mock", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9000")]
    bind: SocketAddr,
    /// Stream deltas per answer (0: one per word).
    #[arg(long, default_value_t = 0)]
    chunks: usize,
    /// Milliseconds before each delta after the first (and before the first).
    #[arg(long, default_value_t = 0)]
    chunk_delay_ms: u64,
    /// The answer's text.
    #[arg(long)]
    text: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let server = match MockServer::try_start_on(args.bind, MockConfig::default()).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("aipasta-mock: cannot listen on {}: {error}", args.bind);
            return ExitCode::FAILURE;
        }
    };
    let delay = Duration::from_millis(args.chunk_delay_ms);
    let mut script = Script::default()
        .chunks(args.chunks)
        .first_token_delay(delay)
        .chunk_delay(delay);
    if let Some(text) = args.text {
        script.text = text;
    }
    server.set_fallback_script(script);
    println!("aipasta-mock listening on {}", server.url());
    println!(
        "  OpenRouter base URL:        {}",
        server.openrouter_base_url()
    );
    println!("  OpenAI-compatible base URL: {}", server.openai_base_url());
    println!(
        "  Hugging Face router:        {}",
        server.hf_router_base_url()
    );
    println!(
        "  Hugging Face inference:     {}",
        server.hf_inference_url()
    );
    println!("  Hugging Face Hub:           {}", server.url());
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("aipasta-mock: cannot wait for Ctrl-C: {error}");
        return ExitCode::FAILURE;
    }
    drop(server);
    ExitCode::SUCCESS
}
