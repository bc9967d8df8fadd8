//! Gateway benchmark: the parts `oha` cannot measure, against a running `aipasta serve` and a
//! running `aipasta-mock` (`scripts/bench-gateway.sh` starts both, pins them to cores, and runs
//! `oha` for the request figures):
//!
//! - `ttft`: time to first token, from writing the request to the first `delta` event through
//!   AI Pasta (`POST /api/ai/stream`) against the first `data:` chunk straight from the mock
//!   (`POST /api/v1/chat/completions` with `stream: true`), samples interleaved, each on a
//!   kept-alive connection so neither side pays for a TCP handshake;
//! - `streams`: AI Pasta's resident memory per open stream, with thousands of slow streams
//!   open at once (the mock must be started with a long `--chunk-delay-ms`);
//! - `proxy`: serves a bare proxy on `--bind` until killed: axum in, reqwest out (TCP_NODELAY
//!   both ways), each request's body passed to `--upstream` and the answer passed back, and
//!   nothing else. `oha` through it gives the floor that any gateway built on this stack pays
//!   on this machine, measured in the same run as AI Pasta.
//!
//! Figures are printed for people, and as `RESULT key=value` lines for the script. Run alone,
//! without a mode (as `cargo test --benches` does), it prints how to run it and exits: it needs
//! servers that the script starts.
//!
//! The HTTP client is a few lines over a raw `TcpStream` (HTTP/1.1, `Content-Length` and
//! chunked bodies), so that the client adds as little as possible to what is measured.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};

const GOAL_TTFT_OVERHEAD_MS: f64 = 1.0;
const GOAL_BYTES_PER_STREAM: f64 = 64.0 * 1024.0;
/// What AI Pasta sends before each new piece of text.
const DELTA_MARKER: &[u8] = b"event: delta";
/// What AI Pasta sends first on every stream.
const START_MARKER: &[u8] = b"event: start";
/// A chunk of an OpenAI-style stream.
const DATA_MARKER: &[u8] = b"data: {";
const PROMPT: &str = "Say something short about pasta.";
/// How long a stream may take to send its `start` event before it counts as failed.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Failed streams after which no more are opened.
const MAX_FAILED_OPENS: usize = 100;
/// The longest one time-to-first-token exchange may take before the run fails.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);

fn main() {
    let args = Args::parse();
    let Some(mode) = args.mode.clone() else {
        println!(
            "gateway benchmark: needs a running AI Pasta and mock; run scripts/bench-gateway.sh"
        );
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let outcome = match mode.as_str() {
        "ttft" => runtime.block_on(ttft(&args)),
        "streams" => runtime.block_on(streams(&args)),
        "proxy" => runtime.block_on(bare_proxy(&args)),
        other => Err(format!("unknown mode {other:?} (ttft, streams or proxy)")),
    };
    if let Err(message) = outcome {
        eprintln!("gateway bench ({mode}): {message}");
        std::process::exit(1);
    }
}

/// `<mode> --name value ...`; cargo adds `--bench`, which is ignored.
struct Args {
    mode: Option<String>,
    options: HashMap<String, String>,
}

impl Args {
    fn parse() -> Args {
        let mut mode = None;
        let mut options = HashMap::new();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            if arg == "--bench" {
                continue;
            }
            match arg.strip_prefix("--") {
                Some(name) => {
                    let value = args.next().unwrap_or_default();
                    options.insert(name.to_owned(), value);
                }
                None if mode.is_none() => mode = Some(arg),
                None => {}
            }
        }
        Args { mode, options }
    }

    fn text(&self, name: &str) -> Result<String, String> {
        self.options
            .get(name)
            .cloned()
            .ok_or_else(|| format!("--{name} is required"))
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.options.get(name) {
            None => Ok(default),
            Some(text) => text
                .parse()
                .map_err(|_| format!("--{name} {text:?} is not a number")),
        }
    }

    /// `http://127.0.0.1:3000` (or a bare `127.0.0.1:3000`) as a socket address.
    fn address(&self, name: &str) -> Result<SocketAddr, String> {
        let text = self.text(name)?;
        let bare = text
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default();
        bare.parse()
            .map_err(|_| format!("--{name} {text:?} is not http://<ip>:<port>"))
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client.

/// One response, as far as the benchmark cares.
struct Response {
    status: u16,
    /// When the marker first appeared in the body, measured from the request's first byte.
    marker_at: Option<Duration>,
    body: Vec<u8>,
}

struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    /// Where unread bytes start in `buffer`.
    start: usize,
}

impl Connection {
    async fn open(address: SocketAddr) -> io::Result<Connection> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buffer: Vec::with_capacity(16 * 1024),
            start: 0,
        })
    }

    fn unread(&self) -> &[u8] {
        &self.buffer[self.start..]
    }

    /// Reads more bytes; an early end of the connection is an error.
    async fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 && self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        }
        let mut chunk = [0_u8; 16 * 1024];
        let read = self.stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection mid-response",
            ));
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(())
    }

    /// Waits until the unread bytes hold `needle`; answers its offset in them.
    async fn wait_for(&mut self, needle: &[u8]) -> io::Result<usize> {
        loop {
            if let Some(at) = find(self.unread(), needle) {
                return Ok(at);
            }
            self.fill().await?;
        }
    }

    async fn wait_for_bytes(&mut self, count: usize) -> io::Result<()> {
        while self.unread().len() < count {
            self.fill().await?;
        }
        Ok(())
    }

    fn take(&mut self, count: usize) -> Vec<u8> {
        let taken = self.buffer[self.start..self.start + count].to_vec();
        self.start += count;
        taken
    }

    /// Sends `request` and reads the whole response, noting when `marker` first shows in the
    /// body.
    async fn exchange(&mut self, request: &[u8], marker: &[u8]) -> io::Result<Response> {
        let sent = Instant::now();
        self.stream.write_all(request).await?;
        let head_end = self.wait_for(b"\r\n\r\n").await?;
        let head = String::from_utf8_lossy(&self.take(head_end + 4)).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let header = |name: &str| {
            head.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_ascii_lowercase())
            })
        };
        let mut body = Vec::new();
        let mut marker_at = None;
        if header("transfer-encoding").is_some_and(|te| te.contains("chunked")) {
            loop {
                let line_end = self.wait_for(b"\r\n").await?;
                let line = String::from_utf8_lossy(&self.take(line_end + 2)).into_owned();
                let size_text = line.trim().split(';').next().unwrap_or_default();
                let size = usize::from_str_radix(size_text, 16)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
                if size == 0 {
                    // No trailers from either server: the blank line ends the body.
                    self.wait_for_bytes(2).await?;
                    self.take(2);
                    break;
                }
                self.wait_for_bytes(size + 2).await?;
                let searched_from = body.len().saturating_sub(marker.len());
                body.extend_from_slice(&self.take(size));
                self.take(2);
                if marker_at.is_none() && find(&body[searched_from..], marker).is_some() {
                    marker_at = Some(sent.elapsed());
                }
            }
        } else {
            let length: usize = header("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            self.wait_for_bytes(length).await?;
            body = self.take(length);
            if find(&body, marker).is_some() {
                marker_at = Some(sent.elapsed());
            }
        }
        Ok(Response {
            status,
            marker_at,
            body,
        })
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn post(address: SocketAddr, path: &str, token: Option<&str>, body: &str) -> Vec<u8> {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: aipasta-gateway-bench\r\n\
         Accept: text/event-stream\r\nContent-Type: application/json\r\n{auth}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn aipasta_stream_request(address: SocketAddr, token: &str, model: &str) -> Vec<u8> {
    let body = serde_json::json!({"model": model, "prompt": PROMPT, "stream": true}).to_string();
    post(address, "/api/ai/stream", Some(token), &body)
}

// ---------------------------------------------------------------------------------------------
// Time to first token.

async fn ttft(args: &Args) -> Result<(), String> {
    let aipasta = args.address("aipasta")?;
    let mock = args.address("mock")?;
    let token = args.text("token")?;
    let model = args.text("model")?;
    // The id the provider knows the model by; the slug when they are the same.
    let upstream_model = args
        .text("upstream-model")
        .unwrap_or_else(|_| model.clone());
    let samples: usize = args.number("samples", 2000)?;
    let warmup: usize = args.number("warmup", 200)?;

    let through = aipasta_stream_request(aipasta, &token, &model);
    let straight_body = serde_json::json!({
        "model": upstream_model,
        "messages": [{"role": "user", "content": PROMPT}],
        "stream": true,
    })
    .to_string();
    let straight = post(
        mock,
        "/api/v1/chat/completions",
        Some("bench"),
        &straight_body,
    );

    let mut to_mock = Connection::open(mock)
        .await
        .map_err(|e| format!("cannot connect to the mock at {mock}: {e}"))?;
    let mut to_aipasta = Connection::open(aipasta)
        .await
        .map_err(|e| format!("cannot connect to AI Pasta at {aipasta}: {e}"))?;

    let mut mock_times = Vec::with_capacity(samples);
    let mut aipasta_times = Vec::with_capacity(samples);
    let mut answered = 0_usize;
    let mut failed = 0_usize;
    let started = Instant::now();
    for round in 0..(warmup + samples) {
        // Alternate which goes first, so neither always follows the other.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            let (connection, request, marker) = if side == 0 {
                (&mut to_mock, &straight, DATA_MARKER)
            } else {
                (&mut to_aipasta, &through, DELTA_MARKER)
            };
            let response =
                tokio::time::timeout(EXCHANGE_TIMEOUT, connection.exchange(request, marker))
                    .await
                    .map_err(|_| format!("no complete answer within {EXCHANGE_TIMEOUT:?}"))?
                    .map_err(|e| format!("a streaming request failed: {e}"))?;
            if side == 1 {
                if response.status == 200 {
                    answered += 1;
                } else {
                    failed += 1;
                }
            }
            let Some(at) = response.marker_at.filter(|_| response.status == 200) else {
                return Err(format!(
                    "{} answered {} without a first token: {}",
                    if side == 0 { "the mock" } else { "AI Pasta" },
                    response.status,
                    String::from_utf8_lossy(&response.body[..response.body.len().min(400)])
                ));
            };
            if round >= warmup {
                if side == 0 {
                    mock_times.push(at);
                } else {
                    aipasta_times.push(at);
                }
            }
        }
    }
    let elapsed = started.elapsed();
    let mock_p50 = percentile_ms(&mut mock_times, 50.0);
    let mock_p99 = percentile_ms(&mut mock_times, 99.0);
    let aipasta_p50 = percentile_ms(&mut aipasta_times, 50.0);
    let aipasta_p99 = percentile_ms(&mut aipasta_times, 99.0);
    let added_p50 = aipasta_p50 - mock_p50;
    let added_p99 = aipasta_p99 - mock_p99;
    println!(
        "time to first token, {samples} samples each (+{warmup} warm-up), {:.1} s:",
        elapsed.as_secs_f64()
    );
    println!(
        "  straight to the mock (first data: chunk): p50 {mock_p50:.3} ms, p99 {mock_p99:.3} ms"
    );
    println!(
        "  through AI Pasta (first delta event):     p50 {aipasta_p50:.3} ms, p99 {aipasta_p99:.3} ms"
    );
    println!(
        "  added: p50 {added_p50:.3} ms, p99 {added_p99:.3} ms (goal < {GOAL_TTFT_OVERHEAD_MS} ms) {}",
        verdict(added_p50 < GOAL_TTFT_OVERHEAD_MS)
    );
    println!(
        "RESULT ttft_mock_p50_ms={mock_p50:.3} ttft_mock_p99_ms={mock_p99:.3} \
         ttft_aipasta_p50_ms={aipasta_p50:.3} ttft_aipasta_p99_ms={aipasta_p99:.3} \
         ttft_added_p50_ms={added_p50:.3} ttft_added_p99_ms={added_p99:.3} \
         ttft_answered={answered} ttft_failed={failed}"
    );
    Ok(())
}

fn percentile_ms(samples: &mut [Duration], percentile: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_unstable();
    let rank = ((percentile / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1].as_secs_f64() * 1000.0
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "MISS" }
}

// ---------------------------------------------------------------------------------------------
// Memory per open stream.

/// The resident set of a process, in kB.
fn rss_kb(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmRSS in /proc/{pid}/status"))
}

/// Counts of streams in each state, shared by the stream tasks.
#[derive(Default)]
struct Tally {
    /// Answered 200 and sent `start`.
    started: AtomicUsize,
    /// Received at least one `delta`, i.e. the upstream is streaming.
    streaming: AtomicUsize,
    failed: AtomicUsize,
}

/// Opens `count` streams, each held open (and read) until `stop` turns true. A stream that has
/// not started within [`OPEN_TIMEOUT`] counts as failed.
async fn open_streams(
    count: usize,
    aipasta: SocketAddr,
    request: Arc<Vec<u8>>,
    tally: Arc<Tally>,
    stop: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    // Connections are opened a few hundred at a time, so the listen backlog never overflows.
    let opening = Arc::new(Semaphore::new(200));
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        let permit = opening.clone().acquire_owned().await.expect("semaphore");
        // A server that refuses or ignores streams fails the run soon, not after every one.
        if tally.failed.load(Ordering::SeqCst) > MAX_FAILED_OPENS {
            break;
        }
        let request = request.clone();
        let tally = tally.clone();
        let mut stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let opened = tokio::time::timeout(OPEN_TIMEOUT, start_stream(aipasta, &request)).await;
            drop(permit);
            let Ok(Ok(mut connection)) = opened else {
                tally.failed.fetch_add(1, Ordering::SeqCst);
                return;
            };
            tally.started.fetch_add(1, Ordering::SeqCst);
            let follow = async {
                connection.wait_for(DELTA_MARKER).await?;
                tally.streaming.fetch_add(1, Ordering::SeqCst);
                // Keep reading, as a browser would.
                let mut sink = [0_u8; 4096];
                while connection.stream.read(&mut sink).await? > 0 {}
                io::Result::Ok(())
            };
            tokio::select! {
                result = follow => if result.is_err() {
                    tally.failed.fetch_add(1, Ordering::SeqCst);
                },
                _ = stop.wait_for(|s| *s) => {}
            }
        }));
    }
    tasks
}

/// Sends a stream request and waits for its `start` event.
async fn start_stream(aipasta: SocketAddr, request: &[u8]) -> io::Result<Connection> {
    let mut connection = Connection::open(aipasta).await?;
    connection.stream.write_all(request).await?;
    let head_end = connection.wait_for(b"\r\n\r\n").await?;
    let ok = connection.unread().starts_with(b"HTTP/1.1 200");
    connection.take(head_end + 4);
    if !ok {
        return Err(io::Error::other("the stream was refused"));
    }
    connection.wait_for(START_MARKER).await?;
    Ok(connection)
}

/// Waits until `done()` or the deadline; answers whether it got there.
async fn wait_until(deadline: Instant, done: impl Fn() -> bool) -> bool {
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

async fn streams(args: &Args) -> Result<(), String> {
    let aipasta = args.address("aipasta")?;
    let token = args.text("token")?;
    let model = args.text("model")?;
    let pid: u32 = args.number("pid", 0)?;
    let count: usize = args.number("count", 5000)?;
    let warmup: usize = args.number("warmup", 50)?;
    let settle = Duration::from_millis(args.number("settle-ms", 2000)?);
    let timeout = Duration::from_secs(args.number("timeout-s", 60)?);
    if pid == 0 {
        return Err("--pid (AI Pasta's process id) is required".into());
    }
    let request = Arc::new(aipasta_stream_request(aipasta, &token, &model));
    let (stop_sender, stop) = watch::channel(false);

    // A few streams first, so that what every server allocates once (pools, buffers, caches)
    // is in the baseline.
    let warm_tally = Arc::new(Tally::default());
    let warm_tasks = open_streams(
        warmup,
        aipasta,
        request.clone(),
        warm_tally.clone(),
        stop.clone(),
    )
    .await;
    let deadline = Instant::now() + timeout;
    if !wait_until(deadline, || {
        warm_tally.streaming.load(Ordering::SeqCst) + warm_tally.failed.load(Ordering::SeqCst)
            >= warmup
    })
    .await
    {
        return Err("the warm-up streams did not start streaming in time".into());
    }
    tokio::time::sleep(settle).await;
    let before = rss_kb(pid)?;

    let tally = Arc::new(Tally::default());
    let opening_started = Instant::now();
    let tasks = open_streams(count, aipasta, request, tally.clone(), stop).await;
    let deadline = Instant::now() + timeout;
    let all_streaming = wait_until(deadline, || {
        tally.streaming.load(Ordering::SeqCst) + tally.failed.load(Ordering::SeqCst) >= count
    })
    .await;
    let opening_took = opening_started.elapsed();
    tokio::time::sleep(settle).await;
    let with = rss_kb(pid)?;
    let started = tally.started.load(Ordering::SeqCst);
    let streaming = tally.streaming.load(Ordering::SeqCst);
    let failed = tally.failed.load(Ordering::SeqCst) + warm_tally.failed.load(Ordering::SeqCst);
    let answered = started + warm_tally.started.load(Ordering::SeqCst);

    stop_sender.send_replace(true);
    for task in warm_tasks.into_iter().chain(tasks) {
        let abort = task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }

    let per_stream = (with.saturating_sub(before) as f64 * 1024.0) / streaming.max(1) as f64;
    println!(
        "open streams: {streaming} of {count} streaming after {:.1} s ({started} started, {failed} failed{})",
        opening_took.as_secs_f64(),
        if all_streaming {
            ""
        } else {
            "; timed out waiting"
        }
    );
    println!(
        "  AI Pasta RSS {} kB before ({warmup} warm-up streams open), {} kB with them: {:.1} KB per stream (goal < {} KB) {}",
        before,
        with,
        per_stream / 1024.0,
        GOAL_BYTES_PER_STREAM / 1024.0,
        verdict(per_stream < GOAL_BYTES_PER_STREAM && streaming == count)
    );
    println!(
        "RESULT streams_requested={count} streams_streaming={streaming} streams_failed={failed} \
         rss_before_kb={before} rss_with_kb={with} bytes_per_stream={per_stream:.0} \
         streams_answered={answered}"
    );
    Ok(())
}

/// The bare proxy of the `proxy` mode; runs until the process is killed.
async fn bare_proxy(args: &Args) -> Result<(), String> {
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{StatusCode, header};
    use axum::serve::ListenerExt;

    type Upstream = Arc<(reqwest::Client, String)>;
    async fn pass(State(upstream): State<Upstream>, body: Bytes) -> axum::response::Response {
        use axum::response::IntoResponse;
        let (client, url) = &*upstream;
        let sent = client
            .post(url.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let answer = match sent {
            Ok(response) => response.bytes().await,
            Err(error) => Err(error),
        };
        match answer {
            Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
            Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
        }
    }

    let bind = args.address("bind")?;
    let upstream = args.text("upstream")?;
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("bind {bind}: {e}"))?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    let app = axum::Router::new()
        .route("/proxy", axum::routing::post(pass))
        .with_state(Arc::new((client, upstream)));
    println!("bare proxy on {bind}");
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}
