//! Catalog benchmark: 50,000 generated models; search and listing latency, `/models` weight.
//!
//! `cargo bench -p aipasta --bench catalog` runs it on SQLite (a temporary file), or on
//! PostgreSQL when `AIPASTA_BENCH_DATABASE_URL` names a server (a throw-away database is created
//! there and dropped afterwards). It prints figures with the goals beside them; it is
//! not a test and fails nothing. Without cargo's `--bench` flag (`cargo test --benches`) it does
//! a quick smoke run on a small catalog whose figures mean nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use aipasta_core::catalog::{Capabilities, Capability, ModelFacts, Pricing, SEED_CATEGORIES};
use aipasta_core::money::Price;
use aipasta_store::catalog::{self, ModelQuery, SortField, SortOrder};
use aipasta_store::testing::TestDatabase;
use aipasta_store::{Backend, Db, Query};
use aipasta_web::{AppState, WebConfig};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The PostgreSQL server to benchmark on; SQLite when unset.
const DATABASE_URL_VAR: &str = "AIPASTA_BENCH_DATABASE_URL";
const GOAL_QUERY_MS: f64 = 5.0;
const GOAL_HTML_BYTES: usize = 60_000;
const GOAL_PAGE_COMPRESSED_BYTES: usize = 100_000;
/// `upsert_provider_models` runs one transaction per call; this keeps each one moderate.
const SEED_CHUNK: usize = 5_000;
/// The listing the end-to-end timing requests.
const E2E_PATH: &str = "/models?q=llama&category=chat&sort=price";

/// How much work one run does.
struct Plan {
    models: usize,
    warmup: usize,
    /// Samples per figure (search: in total, over all queries).
    iterations: usize,
    http_requests: usize,
}

impl Plan {
    fn from_args() -> Plan {
        // cargo passes `--bench` to `harness = false` targets only under `cargo bench`.
        if std::env::args().any(|a| a == "--bench") {
            Plan {
                models: 50_000,
                warmup: 20,
                iterations: 600,
                http_requests: 200,
            }
        } else {
            Plan {
                models: 1_000,
                warmup: 2,
                iterations: 40,
                http_requests: 10,
            }
        }
    }
}

fn main() {
    let plan = Plan::from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let database = runtime.block_on(BenchDatabase::create());
    // A PostgreSQL database must be dropped even when the run panics.
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(run(&database.db, &plan))
    }));
    runtime.block_on(database.remove());
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

// ---------------------------------------------------------------------------------------------
// The database

enum Holder {
    Sqlite(TestDatabase),
    Postgres { server_url: String, name: String },
}

struct BenchDatabase {
    db: Db,
    holder: Holder,
}

impl BenchDatabase {
    /// A fresh, migrated database. `TestDatabase` reads its own variable, which a program cannot
    /// set for itself without `unsafe` (forbidden here), so PostgreSQL is created the same way
    /// by hand.
    async fn create() -> BenchDatabase {
        let server_url = std::env::var(DATABASE_URL_VAR)
            .ok()
            .filter(|url| !url.trim().is_empty());
        let Some(server_url) = server_url else {
            let (test_db, db) = TestDatabase::migrated(Backend::Sqlite).await;
            return BenchDatabase {
                db,
                holder: Holder::Sqlite(test_db),
            };
        };
        let name = format!(
            "aipasta_bench_{}",
            aipasta_core::id::new_id().replace('-', "")
        );
        let admin = Db::connect(&server_url)
            .await
            .unwrap_or_else(|e| panic!("connect to {DATABASE_URL_VAR}: {e}"));
        Query::new(format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create the benchmark database");
        admin.close().await;
        let db = Db::connect(&aipasta_store::testing::replace_database(
            &server_url,
            &name,
        ))
        .await
        .expect("connect to the benchmark database");
        db.migrate().await.expect("migrate");
        BenchDatabase {
            db,
            holder: Holder::Postgres { server_url, name },
        }
    }

    async fn remove(self) {
        self.db.close().await;
        match self.holder {
            // Dropping it deletes the temporary directory.
            Holder::Sqlite(test_db) => drop(test_db),
            Holder::Postgres { server_url, name } => {
                aipasta_store::testing::drop_postgres_database(&server_url, &name).await
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The run

async fn run(db: &Db, plan: &Plan) {
    let backend = db.backend().as_str();
    println!(
        "catalog benchmark on {backend}: {} models, {} samples per figure{}",
        group_digits(plan.models),
        plan.iterations,
        if plan.models < 50_000 {
            " (smoke run without --bench: figures are meaningless)"
        } else {
            ""
        }
    );
    let mut table = Table::default();

    catalog::seed_categories(db).await.expect("seed categories");
    let facts = generate(plan.models);
    let started = Instant::now();
    for (i, chunk) in facts.chunks(SEED_CHUNK).enumerate() {
        let chunk_started = Instant::now();
        catalog::upsert_provider_models(db, "openrouter", chunk, false)
            .await
            .expect("insert models");
        println!(
            "  seeded {:>6} models ({:.1} s for this chunk)",
            group_digits((i * SEED_CHUNK + chunk.len()).min(facts.len())),
            chunk_started.elapsed().as_secs_f64()
        );
    }
    let seeding = started.elapsed();
    if db.backend() == Backend::Postgres {
        // The steady state: autovacuum analyses the new rows and marks their pages all-visible
        // (which index-only scans need) within a minute; doing it now makes runs repeatable.
        // SQLite is left as the app leaves it.
        Query::new("VACUUM ANALYZE models")
            .execute(db)
            .await
            .expect("vacuum");
    }
    table.info(
        &format!("seeding {} models", group_digits(facts.len())),
        format!("{:.1} s", seeding.as_secs_f64()),
    );

    index_figures(db, &mut table).await;
    search_figures(db, plan, &facts, &mut table).await;
    listing_figures(db, plan, &mut table).await;
    page_figures(db, plan, &mut table).await;

    println!(
        "\n== summary: {backend}, {} models",
        group_digits(facts.len())
    );
    table.print();
    if let Some(load) = load_average() {
        // Other work on the machine inflates the tails; say how busy it was.
        println!(
            "load average at the end: {load} ({} CPUs)",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
    }
}

/// The 1-, 5- and 15-minute load averages, where the system reports them (Linux).
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The in-memory listing index: the first query after a catalog change builds it.
async fn index_figures(db: &Db, table: &mut Table) {
    let page_one = ModelQuery {
        page: 1,
        limit: 24,
        count_up_to: Some(catalog::COUNT_UP_TO),
        ..ModelQuery::default()
    };
    // The index logs how long loading and building took; shown here for this figure only (the
    // builds run in this task, on this thread).
    let _logs = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_env_filter("aipasta_store::catalog::index=debug")
            .with_target(false)
            .finish(),
    );
    let before = resident_bytes();
    catalog::list(db, &page_one).await.expect("list");
    let grown = resident_bytes().saturating_sub(before);
    let builds = measure(0, 5, || async {
        db.note_catalog_change();
        catalog::list(db, &page_one).await.expect("list");
    })
    .await;
    println!(
        "\n== index: first listing after a catalog change (a rebuild) p50 {:.1} ms, max {:.1} ms; \
         resident memory grew {:.1} MB at the first build",
        builds.ms(0.5),
        builds.max_ms(),
        grown as f64 / 1e6
    );
    table.info(
        "index rebuild (query after a change) p50",
        format!("{:.1} ms", builds.ms(0.5)),
    );
    table.info(
        "resident memory added by the index",
        format!("{:.1} MB", grown as f64 / 1e6),
    );
}

/// This process's resident memory (Linux; 0 elsewhere).
fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|text| text.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Store calls, timed one by one.
async fn search_figures(db: &Db, plan: &Plan, facts: &[ModelFacts], table: &mut Table) {
    let exact_id = facts[facts.len() / 3].provider_model_id.clone();
    let exact_name = facts[facts.len() * 2 / 3].name.clone();
    let queries: Vec<String> = [
        "coder",
        "vision",
        "llama",
        "instruct",
        "embed",
        "reasoner",
        "translate",
        "nov",
        "gem",
        "nova 7b",
        "qwen coder",
        "flash lite",
        "mixtral 8x7b",
        "anthropic claude",
        "70b instruct",
        "deepseek r1",
        "hermes 3",
        &exact_id,
        &exact_name,
        "xylophone quartet",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();

    println!("\n== search: catalog::search(text, 10), by query");
    println!(
        "  {:<44} {:>8} {:>9} {:>9} {:>9}",
        "query", "matches", "p50 ms", "p99 ms", "max ms"
    );
    let per_query = plan.iterations.div_ceil(queries.len());
    let mut all = Vec::new();
    for text in &queries {
        let matches = catalog::list(
            db,
            &ModelQuery {
                search: Some(text.clone()),
                page: 1,
                limit: 1,
                ..ModelQuery::default()
            },
        )
        .await
        .expect("count matches")
        .total;
        let samples = measure(plan.warmup.min(5), per_query, || async move {
            let found = catalog::search(db, text, 10).await.expect("search");
            assert!(found.len() <= 10);
        })
        .await;
        println!(
            "  {:<44} {:>8} {:>9.2} {:>9.2} {:>9.2}",
            shorten(text, 44),
            group_digits(usize::try_from(matches).unwrap_or(0)),
            samples.ms(0.50),
            samples.ms(0.99),
            samples.max_ms()
        );
        all.extend(samples.0);
    }
    let all = Samples::new(all);
    println!(
        "  all {} samples: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.0.len(),
        all.ms(0.50),
        all.ms(0.95),
        all.ms(0.99),
        all.max_ms()
    );
    table.latency("search", &all, true);
}

async fn listing_figures(db: &Db, plan: &Plan, table: &mut Table) {
    // As the catalog's pages and API ask: page 1 of 24, matches counted up to COUNT_UP_TO.
    let page_one = |query: ModelQuery| ModelQuery {
        page: 1,
        limit: 24,
        count_up_to: Some(catalog::COUNT_UP_TO),
        ..query
    };
    let listings = [
        (
            "listing chat+code+<=$1/M by price",
            page_one(ModelQuery {
                category: Some("chat".into()),
                capability: Some(Capability::Code),
                max_prompt_price_micros: Some(1_000_000),
                sort: SortField::Price,
                ..ModelQuery::default()
            }),
        ),
        (
            "listing free by newest",
            page_one(ModelQuery {
                free_only: true,
                sort: SortField::Newest,
                ..ModelQuery::default()
            }),
        ),
        (
            "listing 'llama'+text-gen by context",
            page_one(ModelQuery {
                search: Some("llama".into()),
                category: Some("text-generation".into()),
                sort: SortField::Context,
                ..ModelQuery::default()
            }),
        ),
        (
            "listing unfiltered, default sort",
            page_one(ModelQuery::default()),
        ),
        (
            "listing 'instruct' by relevance",
            page_one(ModelQuery {
                search: Some("instruct".into()),
                ..ModelQuery::default()
            }),
        ),
        (
            "listing image-analysis by name, desc",
            page_one(ModelQuery {
                category: Some("image-analysis".into()),
                sort: SortField::Name,
                order: Some(SortOrder::Desc),
                ..ModelQuery::default()
            }),
        ),
        (
            "listing >=128K context by popularity",
            page_one(ModelQuery {
                min_context: Some(128_000),
                sort: SortField::Popularity,
                ..ModelQuery::default()
            }),
        ),
    ];
    println!(
        "\n== listing: catalog::list, page 1 of 24, counted up to {}",
        group_digits(usize::try_from(catalog::COUNT_UP_TO).unwrap_or(0))
    );
    println!(
        "  {:<40} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "query", "matches", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    for (label, query) in &listings {
        // Every match, counted apart from the timed calls.
        let every = ModelQuery {
            count_up_to: None,
            ..query.clone()
        };
        let total = catalog::list(db, &every).await.expect("list").total;
        let samples = measure(plan.warmup, plan.iterations / 2, || async move {
            let page = catalog::list(db, query).await.expect("list");
            assert!(page.models.len() <= 24);
        })
        .await;
        println!(
            "  {:<40} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            label,
            group_digits(usize::try_from(total).unwrap_or(0)),
            samples.ms(0.50),
            samples.ms(0.95),
            samples.ms(0.99),
            samples.max_ms()
        );
        table.latency(label, &samples, false);
    }
}

/// The real app in-process, as the integration tests start it.
async fn page_figures(db: &Db, plan: &Plan, table: &mut Table) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let state = AppState::new(db.clone(), WebConfig::default());
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let signal = async {
            let _ = stopped.await;
        };
        if let Err(error) = aipasta_web::serve(listener, state, signal).await {
            eprintln!("server stopped: {error}");
        }
    });
    // Built without reqwest's `gzip` feature, so bodies arrive as sent: compressed lengths are
    // what goes over the wire.
    let client = reqwest::Client::new();
    let url = |path: &str| format!("http://{address}{path}");

    println!("\n== page weight: GET /models");
    let html = client
        .get(url("/models"))
        .send()
        .await
        .expect("GET /models");
    assert!(html.status().is_success(), "/models: {}", html.status());
    let html = html.text().await.expect("/models body");
    let cards = html.matches("class=\"model-card\"").count();
    let (html_gzip, html_encoding) = compressed_size(&client, &url("/models")).await;
    println!(
        "  /models: {cards} cards, {} bytes raw, {} bytes {html_encoding}",
        group_digits(html.len()),
        group_digits(html_gzip)
    );
    if cards != 24 {
        println!("  warning: expected 24 cards, found {cards}");
    }
    table.size(
        "/models HTML (24 cards), raw",
        html.len(),
        Some(GOAL_HTML_BYTES),
    );
    table.size("/models HTML, gzip", html_gzip, None);

    let mut total = html_gzip;
    for asset in asset_urls(&html) {
        let (size, encoding) = compressed_size(&client, &url(&asset)).await;
        println!("  {asset}: {} bytes {encoding}", group_digits(size));
        let name = asset.rsplit('/').next().unwrap_or(&asset);
        table.size(&format!("{name}, gzip"), size, None);
        total += size;
    }
    table.size(
        "page: HTML+CSS+JS, gzip",
        total,
        Some(GOAL_PAGE_COMPRESSED_BYTES),
    );

    println!("\n== end to end: GET {E2E_PATH} (gzip, body read)");
    let (client, e2e_url) = (&client, &url(E2E_PATH));
    let samples = measure(plan.warmup, plan.http_requests, || async move {
        let response = client
            .get(e2e_url)
            .header(ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .expect("GET listing");
        assert!(response.status().is_success(), "{}", response.status());
        response.bytes().await.expect("listing body");
    })
    .await;
    println!(
        "  {} requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        samples.0.len(),
        samples.ms(0.50),
        samples.ms(0.99),
        samples.max_ms()
    );
    table.info(
        "GET /models?q&category&sort p50",
        format!("{:.2} ms", samples.ms(0.50)),
    );
    table.info(
        "GET /models?q&category&sort p99",
        format!("{:.2} ms", samples.ms(0.99)),
    );
    let _ = shutdown.send(());
}

/// The body length of `url` fetched with `accept-encoding: gzip`, and the encoding it came in.
async fn compressed_size(client: &reqwest::Client, url: &str) -> (usize, String) {
    let response = client
        .get(url)
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    let encoding = response
        .headers()
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map_or("uncompressed (no content-encoding)".to_owned(), |v| {
            v.to_owned()
        });
    let size = response.bytes().await.expect("body").len();
    (size, encoding)
}

/// The page's own stylesheets and scripts: `/static/<hash>/<name>.css|.js`, in order.
fn asset_urls(html: &str) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for piece in html.split("\"/static/").skip(1) {
        let Some(end) = piece.find('"') else { continue };
        let url = format!("/static/{}", &piece[..end]);
        if (url.ends_with(".css") || url.ends_with(".js")) && !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls
}

// ---------------------------------------------------------------------------------------------
// Timing and the table

struct Samples(Vec<Duration>);

impl Samples {
    fn new(mut samples: Vec<Duration>) -> Samples {
        samples.sort_unstable();
        Samples(samples)
    }

    /// The nearest-rank percentile `q` (0–1), in milliseconds.
    fn ms(&self, q: f64) -> f64 {
        let rank = (q * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1].as_secs_f64() * 1e3
    }

    fn max_ms(&self) -> f64 {
        self.ms(1.0)
    }
}

async fn measure<F, Fut>(warmup: usize, iterations: usize, mut call: F) -> Samples
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..warmup {
        call().await;
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        call().await;
        samples.push(started.elapsed());
    }
    Samples::new(samples)
}

struct Row {
    figure: String,
    value: String,
    goal: String,
    /// `None` for figures without a goal.
    pass: Option<bool>,
}

#[derive(Default)]
struct Table(Vec<Row>);

impl Table {
    fn info(&mut self, figure: &str, value: String) {
        self.0.push(Row {
            figure: figure.to_owned(),
            value,
            goal: String::new(),
            pass: None,
        });
    }

    /// p99 against the goal; with `detail`, p50, p95 and max as well.
    fn latency(&mut self, figure: &str, samples: &Samples, detail: bool) {
        if detail {
            self.info(
                &format!("{figure} p50"),
                format!("{:.2} ms", samples.ms(0.50)),
            );
            self.info(
                &format!("{figure} p95"),
                format!("{:.2} ms", samples.ms(0.95)),
            );
        }
        let p99 = samples.ms(0.99);
        self.0.push(Row {
            figure: format!("{figure} p99"),
            value: format!("{p99:.2} ms"),
            goal: format!("< {GOAL_QUERY_MS} ms"),
            pass: Some(p99 < GOAL_QUERY_MS),
        });
        if detail {
            self.info(
                &format!("{figure} max"),
                format!("{:.2} ms", samples.max_ms()),
            );
        }
    }

    fn size(&mut self, figure: &str, bytes: usize, goal: Option<usize>) {
        self.0.push(Row {
            figure: figure.to_owned(),
            value: format!("{:.1} KB", bytes as f64 / 1e3),
            goal: goal.map_or(String::new(), |g| format!("< {} KB", g / 1000)),
            pass: goal.map(|g| bytes < g),
        });
    }

    fn print(&self) {
        for row in &self.0 {
            let verdict = match row.pass {
                Some(true) => "PASS",
                Some(false) => "MISS",
                None => "",
            };
            let goal = if row.goal.is_empty() {
                String::new()
            } else {
                format!("goal {}", row.goal)
            };
            println!(
                "{:<40} {:>10}   {:<14} {verdict}",
                row.figure, row.value, goal
            );
        }
        println!("(KB = 1,000 bytes; latencies are the store call alone unless marked GET)");
    }
}

fn group_digits(n: usize) -> String {
    let text = n.to_string();
    let mut out = String::new();
    for (i, ch) in text.chars().enumerate() {
        if i > 0 && (text.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(width - 1).collect();
        format!("{kept}…")
    }
}

// ---------------------------------------------------------------------------------------------
// The generated catalog

/// xorshift64*: deterministic, so every run (and both backends) sees the same catalog.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut roll = self.below(total as usize) as u32;
        for &(item, weight) in items {
            if roll < weight {
                return item;
            }
            roll -= weight;
        }
        items[items.len() - 1].0
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
}

const DEVELOPERS: [&str; 60] = [
    "OpenAI",
    "Anthropic",
    "Google",
    "Meta",
    "Mistral",
    "Qwen",
    "DeepSeek",
    "Cohere",
    "xAI",
    "Microsoft",
    "Amazon",
    "NVIDIA",
    "IBM",
    "AI21",
    "Perplexity",
    "Nous Research",
    "Alibaba",
    "Baidu",
    "Tencent",
    "Zhipu",
    "Moonshot",
    "MiniMax",
    "01.AI",
    "Inflection",
    "Reka",
    "Liquid",
    "Databricks",
    "Snowflake",
    "Together",
    "Fireworks",
    "Stability",
    "Black Forest Labs",
    "Ideogram",
    "Recraft",
    "Jina",
    "Voyage",
    "Nomic",
    "BAAI",
    "Salesforce",
    "ServiceNow",
    "Hugging Face",
    "Allen AI",
    "EleutherAI",
    "TII",
    "Upstage",
    "Sao10K",
    "Gryphe",
    "Cognitive Computations",
    "Teknium",
    "NeverSleep",
    "Anthracite",
    "Arcee",
    "Inception",
    "Morph",
    "Acme",
    "Nimbus Labs",
    "Orion AI",
    "Lumen",
    "Vertex Forge",
    "Cerebras",
];

/// Families anyone may publish under (fine-tunes carry the base model's name).
const FAMILIES: &[&str] = &[
    "Llama", "Gemma", "Qwen", "Mistral", "Mixtral", "Hermes", "Dolphin", "Ernie", "Hunyuan",
    "Solar", "Atlas", "Orion", "Falcon", "Lyra", "Vega", "Aurora", "Zephyr", "Cascade", "Echo",
    "Helix", "Quartz", "Sable", "Tempest", "Nebula", "Pulse", "Onyx", "Cobalt", "Ember", "Fable",
    "Glint", "Harbor", "Iris", "Juno", "Kestrel", "Lumina", "Mosaic", "Opal", "Prism", "Raven",
    "Sierra", "Tundra", "Vortex",
];

const OWN_FAMILIES: &[(&str, &[&str])] = &[
    ("OpenAI", &["GPT", "o4"]),
    (
        "Anthropic",
        &["Claude Opus", "Claude Sonnet", "Claude Haiku"],
    ),
    ("Google", &["Gemini", "Gemma"]),
    ("Meta", &["Llama"]),
    ("Mistral", &["Mistral", "Mixtral", "Ministral"]),
    ("Qwen", &["Qwen"]),
    ("DeepSeek", &["DeepSeek"]),
    ("Cohere", &["Command"]),
    ("xAI", &["Grok"]),
    ("Microsoft", &["Phi"]),
    ("Amazon", &["Nova", "Titan"]),
    ("NVIDIA", &["Nemotron"]),
    ("IBM", &["Granite"]),
    ("AI21", &["Jamba"]),
    ("Perplexity", &["Sonar"]),
    ("Nous Research", &["Hermes"]),
    ("Zhipu", &["GLM"]),
    ("Moonshot", &["Kimi"]),
    ("01.AI", &["Yi"]),
    ("Snowflake", &["Arctic"]),
];

const CATEGORY_WEIGHTS: &[(&str, u32)] = &[
    ("chat", 34),
    ("text-generation", 12),
    ("reasoning", 10),
    ("code", 12),
    ("image-generation", 8),
    ("image-analysis", 9),
    ("embeddings", 7),
    ("summarization", 4),
    ("translation", 4),
];

/// Name parts that make sense for a category, so "coder" finds code models.
fn variants(category: &str) -> &'static [&'static str] {
    match category {
        "chat" => &[
            "Chat", "Instruct", "Turbo", "Mini", "Pro", "Flash", "Lite", "Max", "Nano", "Plus",
        ],
        "text-generation" => &["Base", "Instruct", "Turbo", "Pro", "Lite", "Large"],
        "reasoning" => &["Reasoner", "Thinking", "R1", "Deep Think", "Pro Reasoning"],
        "code" => &["Coder", "Code", "Dev", "Coder Instruct", "Codestral"],
        "image-generation" => &["Image", "Diffusion", "Art", "Canvas", "Render"],
        "image-analysis" => &["Vision", "VL", "Vision Instruct", "Omni", "Sight"],
        "embeddings" => &["Embed", "Embedding", "Retriever", "Text Embed"],
        "summarization" => &["Summarizer", "Digest", "Brief"],
        _ => &["Translate", "MT", "Polyglot"],
    }
}

const VERSIONS: &[&str] = &["2", "2.5", "3", "3.1", "3.5", "4", "4.1", "5"];
const SIZES: &[&str] = &[
    "1B", "3B", "7B", "8B", "13B", "14B", "32B", "34B", "70B", "72B", "405B", "8x7B", "8x22B",
];
const SUFFIXES: &[&str] = &[
    "Preview",
    "Experimental",
    "Latest",
    "Beta",
    "Online",
    "Extended",
];
const TAGS: &[&str] = &[
    "open-weights",
    "instruct",
    "multilingual",
    "tools",
    "json-mode",
    "long-context",
    "fast",
    "vision",
    "function-calling",
    "fine-tune",
    "quantized",
    "moe",
    "roleplay",
    "math",
    "agents",
    "rag",
    "on-device",
    "research",
    "enterprise",
    "creative-writing",
];
const ADJECTIVES: &[&str] = &[
    "compact",
    "fast",
    "capable",
    "efficient",
    "open-weights",
    "flagship",
    "experimental",
    "balanced",
    "lightweight",
    "frontier",
];
const PURPOSES: &[&str] = &[
    "for everyday assistant work",
    "tuned for long documents and careful instruction following",
    "built for agents, tool use and structured output",
    "optimised for low latency at high volume",
    "for multilingual customer support",
    "trained on permissively licensed data",
    "for retrieval-augmented generation over private documents",
    "distilled from a larger teacher model",
    "with strong results in mathematics and science benchmarks",
    "for on-device and edge deployment",
];
const LICENSES: &[&str] = &[
    "apache-2.0",
    "mit",
    "llama3.1",
    "gemma",
    "cc-by-nc-4.0",
    "proprietary",
];
/// Context lengths with how common they are.
const CONTEXTS: &[(i64, u32)] = &[
    (4_096, 6),
    (8_192, 12),
    (16_384, 8),
    (32_768, 16),
    (65_536, 8),
    (128_000, 12),
    (131_072, 16),
    (200_000, 8),
    (262_144, 6),
    (1_000_000, 4),
    (1_048_576, 3),
    (2_000_000, 1),
];
/// 2022-01-01 in milliseconds since the epoch; releases spread over four years from there.
const FIRST_RELEASE_MS: i64 = 1_640_995_200_000;
const DAY_MS: i64 = 86_400_000;

fn slugify(text: &str) -> String {
    let mut out = String::new();
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() || ch == '.' {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// A price in USD per token from micro-dollars per million tokens (exact, as providers list).
fn per_token(micros_per_million: i64) -> Price {
    Price::parse(&format!("0.{micros_per_million:012}")).expect("price")
}

fn pricing(category: &str, rng: &mut Rng) -> Pricing {
    match rng.below(100) {
        // Free models are common on OpenRouter.
        0..12 => Pricing {
            prompt: Some(Price::ZERO),
            completion: Some(Price::ZERO),
            ..Pricing::default()
        },
        // Router models whose price is unknown.
        12..14 => Pricing::default(),
        _ => {
            // Log-uniform from $0.02 to $60 per million input tokens.
            let (low, high) = (20_000_f64.ln(), 60_000_000_f64.ln());
            let prompt = (low + rng.unit() * (high - low)).exp() as i64;
            let completion = if category == "embeddings" {
                0
            } else {
                prompt * (1 + rng.below(5) as i64)
            };
            Pricing {
                prompt: Some(per_token(prompt)),
                completion: Some(per_token(completion)),
                image: (category == "image-generation")
                    .then(|| Price::parse(rng.pick(&["0.003", "0.02", "0.04", "0.08"])))
                    .transpose()
                    .expect("image price"),
                cache_read: rng.percent(20).then(|| per_token(prompt / 10)),
                ..Pricing::default()
            }
        }
    }
}

fn capabilities(category: &str, rng: &mut Rng) -> Capabilities {
    let mut caps = Capabilities::default();
    match category {
        "image-generation" => caps.image_generation = true,
        "embeddings" => caps.embedding = true,
        "image-analysis" => {
            caps.image_analysis = true;
            caps.text_generation = true;
            caps.chat_completion = true;
            caps.summarization = rng.percent(30);
        }
        _ => {
            caps.text_generation = true;
            caps.chat_completion = category != "text-generation" || rng.percent(50);
            caps.code_generation = category == "code" || rng.percent(30);
            caps.summarization = category == "summarization" || rng.percent(40);
            caps.translation = category == "translation" || rng.percent(30);
            caps.image_analysis = rng.percent(20);
        }
    }
    caps
}

/// `count` models from ~60 developers, each with a few model families of its own.
fn generate(count: usize) -> Vec<ModelFacts> {
    for (slug, _) in CATEGORY_WEIGHTS {
        assert!(
            SEED_CATEGORIES.iter().any(|c| c.slug == *slug),
            "unknown category {slug}"
        );
    }
    let mut rng = Rng::new(0x5eed_ca7a_1090);
    // Known developers keep their own families; everyone also publishes a few more (fine-tunes
    // of popular families, house brands), so a family name matches one to a few percent.
    let families: Vec<Vec<&str>> = DEVELOPERS
        .iter()
        .map(|developer| {
            let own = OWN_FAMILIES
                .iter()
                .filter(|(d, _)| d == developer)
                .flat_map(|(_, families)| families.iter().copied());
            let more: Vec<&str> = (0..1 + rng.below(4)).map(|_| rng.pick(FAMILIES)).collect();
            own.chain(more).collect()
        })
        .collect();
    let mut ids = HashSet::with_capacity(count);
    let mut models = Vec::with_capacity(count);
    while models.len() < count {
        let d = rng.below(DEVELOPERS.len());
        let developer = DEVELOPERS[d];
        let category = rng.weighted(CATEGORY_WEIGHTS);
        let mut parts = vec![rng.pick(&families[d])];
        if rng.percent(75) {
            parts.push(rng.pick(VERSIONS));
        }
        if rng.percent(85) {
            parts.push(rng.pick(variants(category)));
        }
        if rng.percent(55) {
            parts.push(rng.pick(SIZES));
        }
        if rng.percent(25) {
            parts.push(rng.pick(SUFFIXES));
        }
        let display = parts.join(" ");
        let provider_model_id = format!("{}/{}", slugify(developer), slugify(&display));
        // Repeated combinations are drawn again, like a provider never listing an id twice.
        if !ids.insert(provider_model_id.clone()) {
            continue;
        }

        let context_length = if category == "embeddings" {
            rng.pick(&[4_096, 8_192, 32_768])
        } else {
            rng.weighted(CONTEXTS)
        };
        let capabilities = capabilities(category, &mut rng);
        let mut supported_parameters: Vec<String> = ["max_tokens", "temperature", "top_p", "stop"]
            .map(str::to_owned)
            .into();
        if rng.percent(40) {
            supported_parameters.push("tools".into());
        }
        if category == "reasoning" {
            supported_parameters.push("reasoning".into());
        }
        if rng.percent(30) {
            supported_parameters.push("top_k".into());
        }
        let license = rng.percent(60).then(|| rng.pick(LICENSES));
        let open = license.is_some_and(|l| l != "proprietary");
        let kind = SEED_CATEGORIES
            .iter()
            .find(|c| c.slug == category)
            .map_or("AI", |c| c.name)
            .to_lowercase();
        // Most providers describe their models; the rest get the app's generated text.
        let description = rng.percent(70).then(|| {
            format!(
                "{display} is a {} {kind} model from {developer}, {}. It reads up to {} tokens \
                 and suits {}.",
                rng.pick(ADJECTIVES),
                rng.pick(PURPOSES),
                context_length,
                rng.pick(&[
                    "prototyping",
                    "production workloads",
                    "batch jobs",
                    "interactive apps",
                    "research",
                ])
            )
        });
        let tags: Vec<String> = (0..1 + rng.below(4))
            .map(|_| (rng.pick(TAGS)).to_owned())
            .collect();
        models.push(ModelFacts {
            provider: "openrouter".into(),
            slug: provider_model_id.clone(),
            hugging_face_id: open.then(|| format!("{}/{}", developer.replace(' ', ""), display)),
            provider_model_id,
            name: format!("{developer}: {display}"),
            description,
            category: category.into(),
            tags,
            pricing: pricing(category, &mut rng),
            capabilities,
            input_modalities: if capabilities.image_analysis {
                vec!["text".into(), "image".into()]
            } else {
                vec!["text".into()]
            },
            output_modalities: vec![
                if capabilities.image_generation {
                    "image"
                } else if capabilities.embedding {
                    "embeddings"
                } else {
                    "text"
                }
                .into(),
            ],
            context_length: Some(context_length),
            max_output_tokens: rng
                .percent(60)
                .then(|| context_length.min(rng.pick(&[4_096, 8_192, 16_384, 32_768, 65_536]))),
            supported_parameters,
            developer: Some(developer.into()),
            license: license.map(str::to_owned),
            released_at: rng.percent(96).then(|| {
                FIRST_RELEASE_MS
                    + rng.below(4 * 365) as i64 * DAY_MS
                    + rng.below(DAY_MS as usize) as i64
            }),
            downloads: rng.percent(30).then(|| rng.below(5_000_000) as i64),
            ..ModelFacts::default()
        });
    }
    models
}
