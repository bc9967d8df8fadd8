//! Dashboard benchmark: one account with 1,000,000 generations among 10,000,000 in the table;
//! history pages (first, 10,000 rows deep by cursor and by page number), searches, filtered
//! pages, a year's stats, a 100,000-row export and the dashboard home page.
//!
//! `cargo bench -p aipasta --bench dashboard` runs it on SQLite (a temporary file), or on
//! PostgreSQL when `AIPASTA_BENCH_DATABASE_URL` names a server (a throw-away database is created
//! there and dropped afterwards). It prints figures with the goals beside them; it is
//! not a test and fails nothing. Without cargo's `--bench` flag (`cargo test --benches`) it does
//! a quick smoke run at a tiny scale whose figures mean nothing. The scale can be set:
//! `AIPASTA_BENCH_GENERATIONS` (rows in the table) and `AIPASTA_BENCH_ACCOUNT_GENERATIONS` (the
//! measured account's share of them).
//!
//! The table is filled by set-based SQL (`INSERT … SELECT` over a generated series, a chunk of
//! rows per transaction), not by the recorder: prompts and outputs are drawn from pools of
//! generated texts, each row's choices from a multiplicative hash of its number, so both
//! databases hold the same rows. The history indexes are dropped for the load and recreated
//! afterwards from the very SQL the migrations left in the schema, and the schema is then
//! compared with the one the migrations made.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aipasta_store::generations::{HistoryCursor, HistoryQuery, HistorySort, history_page};
use aipasta_store::{Backend, Db, Query};
use aipasta_web::ratelimit::Limit;
use aipasta_web::{AppState, WebConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The PostgreSQL server to benchmark on; SQLite when unset.
const DATABASE_URL_VAR: &str = "AIPASTA_BENCH_DATABASE_URL";
const GENERATIONS_VAR: &str = "AIPASTA_BENCH_GENERATIONS";
const ACCOUNT_GENERATIONS_VAR: &str = "AIPASTA_BENCH_ACCOUNT_GENERATIONS";
/// Keeps the seeded database for later runs, which reuse it instead of seeding again, and for a
/// closer look (query plans): SQLite's file is `aipasta-bench.db` in the directory this names; on
/// PostgreSQL (any value) the database `aipasta_bench_kept`. Delete it to seed afresh.
const KEEP_VAR: &str = "AIPASTA_BENCH_KEEP";

/// The goals (p99, milliseconds; the export in rows per second).
const GOAL_PAGE_MS: f64 = 20.0;
const GOAL_SEARCH_MS: f64 = 50.0;
const GOAL_STATS_MS: f64 = 20.0;
const GOAL_EXPORT_ROWS_PER_S: f64 = 50_000.0;
/// The dashboard home page's goal (the whole page, rendered on the server).
const GOAL_DASHBOARD_MS: f64 = 30.0;

/// History pages as the list asks for them.
const PAGE_ROWS: i64 = 20;
/// How deep the deep pages are (rows before them), at full scale.
const DEEP_ROWS: u64 = 10_000;
/// The export's size at full scale.
const EXPORT_ROWS: u64 = 100_000;
/// Accounts besides the measured one share the rest of the table, about this many rows each.
const ROWS_PER_OTHER_ACCOUNT: u64 = 10_000;
/// Models the generations use (picked evenly from the seeded catalog).
const MODELS: usize = 12;
/// Favorites of the measured account (what the dashboard home lists).
const FAVORITES: usize = 6;
/// The span the generations are spread over, ending now.
const DAYS_OF_HISTORY: i64 = 730;
const DAY_MS: i64 = 86_400_000;
/// A figure stops sampling after this long (with at least `MIN_SAMPLES`): only one already far
/// over its goal takes that long.
const FIGURE_BUDGET: Duration = Duration::from_secs(90);
const MIN_SAMPLES: usize = 20;

/// How much work one run does.
struct Plan {
    /// Rows in the table, across accounts.
    generations: u64,
    /// Rows of the measured account.
    account: u64,
    /// Rows per load transaction.
    chunk: u64,
    /// Texts in each pool (prompts, outputs).
    texts: usize,
    warmup: usize,
    /// Samples per figure.
    iterations: usize,
    /// Timed exports (the median is reported).
    exports: usize,
    full: bool,
}

impl Plan {
    fn from_args() -> Plan {
        // cargo passes `--bench` to `harness = false` targets only under `cargo bench`.
        let full = std::env::args().any(|a| a == "--bench");
        let (generations, account) = if full {
            (10_000_000, 1_000_000)
        } else {
            (20_000, 2_000)
        };
        let generations = count_from_env(GENERATIONS_VAR).unwrap_or(generations);
        let account = count_from_env(ACCOUNT_GENERATIONS_VAR)
            .unwrap_or(account)
            .min(generations);
        assert!(
            account >= 400,
            "{ACCOUNT_GENERATIONS_VAR} must be 400 or more"
        );
        Plan {
            generations,
            account,
            chunk: 500_000,
            // Each text is used by about a 500th of the rows (at 10M), so a rare word is rare.
            texts: usize::try_from(generations / 500)
                .unwrap_or(20_000)
                .clamp(500, 20_000),
            warmup: if full { 20 } else { 2 },
            iterations: if full { 300 } else { 20 },
            exports: if full { 3 } else { 1 },
            full,
        }
    }

    /// Rows before the deep pages.
    fn deep(&self) -> u64 {
        // Whole pages of 100, which the walk reads.
        DEEP_ROWS.min(self.account / 2 / 100 * 100)
    }

    fn export_rows(&self) -> u64 {
        EXPORT_ROWS.min(self.account / 2)
    }

    fn other_accounts(&self) -> u64 {
        ((self.generations - self.account) / ROWS_PER_OTHER_ACCOUNT).max(1)
    }
}

/// A count from the environment (`10000000`, `10_000_000` or `10,000,000`).
fn count_from_env(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let digits: String = text.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    Some(
        digits
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {text:?}")),
    )
}

fn main() {
    let plan = Plan::from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let database = runtime.block_on(BenchDatabase::create());
    // A PostgreSQL database must be dropped even when the run panics.
    let outcome =
        std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(run(&database, &plan))));
    runtime.block_on(database.remove());
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

// ---------------------------------------------------------------------------------------------
// The database

enum Holder {
    /// A temporary SQLite file, deleted with it.
    Temporary(aipasta_store::testing::TestDatabase),
    /// A throw-away PostgreSQL database, dropped at the end.
    Postgres { server_url: String, name: String },
    /// A database kept for later runs (`AIPASTA_BENCH_KEEP`); `sqlite` is its file.
    Kept { sqlite: Option<PathBuf> },
}

struct BenchDatabase {
    db: Db,
    /// What a second pool connects to (the loader's, with its own settings).
    url: String,
    holder: Holder,
    /// Seeded by an earlier run (kept): seeding is skipped.
    reused: bool,
}

/// Which groups of figures to measure, e.g. `search,stats` (all when unset): history, search,
/// stats, export, dashboard.
const ONLY_VAR: &str = "AIPASTA_BENCH_ONLY";

/// The kept PostgreSQL database's name.
const KEPT_POSTGRES: &str = "aipasta_bench_kept";

impl BenchDatabase {
    /// A fresh, migrated database, or the kept one. `TestDatabase` reads its own variable,
    /// which a program cannot set for itself without `unsafe` (forbidden here), so PostgreSQL
    /// is created by hand.
    async fn create() -> BenchDatabase {
        let server_url = std::env::var(DATABASE_URL_VAR)
            .ok()
            .filter(|url| !url.trim().is_empty());
        let keep = std::env::var(KEEP_VAR)
            .ok()
            .filter(|dir| !dir.trim().is_empty());
        let (url, holder, reused) = match (server_url, keep) {
            (None, None) => {
                let (test_db, db) =
                    aipasta_store::testing::TestDatabase::migrated(Backend::Sqlite).await;
                return BenchDatabase {
                    db,
                    url: test_db.url.clone(),
                    holder: Holder::Temporary(test_db),
                    reused: false,
                };
            }
            (None, Some(dir)) => {
                std::fs::create_dir_all(&dir).expect("the directory to keep the database in");
                let file = Path::new(&dir).join("aipasta-bench.db");
                let reused = file.exists();
                (
                    format!("sqlite://{}", file.display()),
                    Holder::Kept { sqlite: Some(file) },
                    reused,
                )
            }
            (Some(server_url), keep) => {
                let name = match keep {
                    Some(_) => KEPT_POSTGRES.to_owned(),
                    None => format!(
                        "aipasta_bench_{}",
                        aipasta_core::id::new_id().replace('-', "")
                    ),
                };
                let admin = Db::connect(&server_url)
                    .await
                    .unwrap_or_else(|e| panic!("connect to {DATABASE_URL_VAR}: {e}"));
                let exists: i64 = Query::new("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
                    .bind(name.as_str())
                    .fetch_scalar(&admin)
                    .await
                    .expect("look for the database");
                if exists == 0 {
                    Query::new(format!("CREATE DATABASE {name}"))
                        .execute(&admin)
                        .await
                        .expect("create the benchmark database");
                }
                admin.close().await;
                let url = aipasta_store::testing::replace_database(&server_url, &name);
                let holder = if keep.is_some() {
                    Holder::Kept { sqlite: None }
                } else {
                    Holder::Postgres { server_url, name }
                };
                (url, holder, exists > 0)
            }
        };
        let db = Db::connect(&url)
            .await
            .expect("connect to the benchmark database");
        db.migrate().await.expect("migrate");
        if reused {
            println!("reusing the kept database ({KEEP_VAR}): seeding is skipped");
        }
        BenchDatabase {
            db,
            url,
            holder,
            reused,
        }
    }

    async fn remove(self) {
        self.db.close().await;
        match self.holder {
            // Dropping it deletes the temporary directory.
            Holder::Temporary(test_db) => drop(test_db),
            Holder::Postgres { server_url, name } => {
                aipasta_store::testing::drop_postgres_database(&server_url, &name).await
            }
            Holder::Kept { sqlite } => println!(
                "kept the database for later runs: {}",
                sqlite.map_or(KEPT_POSTGRES.to_owned(), |file| file.display().to_string())
            ),
        }
    }

    /// The database's size on disk, in bytes.
    async fn size(&self) -> u64 {
        let sqlite_file = match &self.holder {
            Holder::Temporary(test_db) => Some(
                test_db
                    .data_dir()
                    .expect("SQLite directory")
                    .join("aipasta.db"),
            ),
            Holder::Kept { sqlite } => sqlite.clone(),
            Holder::Postgres { .. } => None,
        };
        match sqlite_file {
            Some(file) => [file.clone(), file.with_extension("db-wal")]
                .iter()
                .filter_map(|path| std::fs::metadata(path).ok())
                .map(|meta| meta.len())
                .sum(),
            None => {
                let bytes: i64 = Query::new("SELECT pg_database_size(current_database())")
                    .fetch_scalar(&self.db)
                    .await
                    .expect("database size");
                u64::try_from(bytes).unwrap_or(0)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The run

/// The app, served in this process on a local port.
struct Server {
    address: std::net::SocketAddr,
    client: reqwest::Client,
    shutdown: oneshot::Sender<()>,
}

impl Server {
    async fn start(db: &Db) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let mut config = WebConfig::default();
        // The benchmark calls far faster than a person: it measures the work, not the limiter.
        config.limits.api_per_account = Limit::per_second(1_000_000);
        config.limits.api_per_ip = Limit::per_second(1_000_000);
        let state = AppState::new(db.clone(), config);
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let signal = async {
                let _ = stopped.await;
            };
            if let Err(error) = aipasta_web::serve(listener, state, signal).await {
                eprintln!("server stopped: {error}");
            }
        });
        Server {
            address,
            client: reqwest::Client::new(),
            shutdown,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Signs an account up through the API.
    async fn sign_up(&self, email: &str) -> Account {
        self.auth(
            "/api/auth/signup",
            serde_json::json!({ "name": "Heavy User", "email": email, "password": PASSWORD }),
            reqwest::StatusCode::CREATED,
        )
        .await
    }

    /// Signs in to an account seeded by an earlier run.
    async fn sign_in(&self, email: &str) -> Account {
        self.auth(
            "/api/auth/signin",
            serde_json::json!({ "email": email, "password": PASSWORD }),
            reqwest::StatusCode::OK,
        )
        .await
    }

    async fn auth(
        &self,
        path: &str,
        body: serde_json::Value,
        expected: reqwest::StatusCode,
    ) -> Account {
        let response = self
            .client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        assert_eq!(response.status(), expected, "POST {path}");
        let body: serde_json::Value = response.json().await.expect("the account");
        Account {
            id: body["user"]["id"].as_str().expect("user id").to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
        }
    }

    /// `GET path` with the bearer token; answers the body as text, after checking the status.
    async fn page(&self, token: &str, path: &str) -> String {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.text().await.expect("body")
    }

    /// `GET path` with the bearer token; answers the body's length, after checking the status.
    async fn get(&self, token: &str, path: &str) -> usize {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status();
        let body = response.bytes().await.expect("body");
        assert!(
            status.is_success(),
            "GET {path}: {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
        body.len()
    }
}

/// The measured account's sign-in.
const ACCOUNT_EMAIL: &str = "heavy@example.com";
const PASSWORD: &str = "pasta al dente 42";

/// The measured account.
struct Account {
    id: String,
    token: String,
}

async fn run(database: &BenchDatabase, plan: &Plan) {
    let db = &database.db;
    let backend = db.backend().as_str();
    println!(
        "dashboard benchmark on {backend}: {} generations, {} of them one account's, {} samples \
         per figure{}",
        group_digits(plan.generations),
        group_digits(plan.account),
        plan.iterations,
        if plan.full {
            ""
        } else {
            " (smoke run without --bench: figures are meaningless)"
        }
    );
    let mut table = Table::default();

    aipasta_store::catalog::seed_if_empty(db)
        .await
        .expect("seed the catalog");
    let server = Server::start(db).await;
    let choices = Choices::make(db, plan).await;
    let seeded = choices.seeded();
    let account = if database.reused {
        let account = server.sign_in(ACCOUNT_EMAIL).await;
        check_counts(db, plan, &account).await;
        account
    } else {
        let account = server.sign_up(ACCOUNT_EMAIL).await;
        let started = Instant::now();
        seed(database, plan, &account, &choices).await;
        let seeding = started.elapsed();
        println!("\n  seeded in {:.1} min", seeding.as_secs_f64() / 60.0);
        table.info(
            &format!(
                "seeding {} generations (+ indexes, rollups)",
                group_digits(plan.generations)
            ),
            format!("{:.1} min", seeding.as_secs_f64() / 60.0),
        );
        account
    };
    let size = database.size().await;
    table.info(
        "database size on disk",
        format!("{:.2} GB", size as f64 / 1e9),
    );

    if wanted("history") {
        history_figures(db, plan, &account, &seeded, &mut table).await;
    }
    if wanted("search") {
        search_figures(db, plan, &account, &seeded, &mut table).await;
    }
    if wanted("stats") {
        stats_figures(db, &server, plan, &account, &mut table).await;
    }
    if wanted("export") {
        export_figures(db, &server, plan, &account, &mut table).await;
    }
    if wanted("dashboard") {
        dashboard_figures(db, &server, plan, &account, &mut table).await;
    }
    let _ = server.shutdown.send(());

    println!(
        "\n== summary: {backend}, {} generations, {} of them the measured account's",
        group_digits(plan.generations),
        group_digits(plan.account)
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

/// Whether the run measures `group` (all of them unless `AIPASTA_BENCH_ONLY` lists some).
fn wanted(group: &str) -> bool {
    std::env::var(ONLY_VAR)
        .ok()
        .filter(|only| !only.trim().is_empty())
        .is_none_or(|only| only.split(',').any(|g| g.trim() == group))
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

// ---------------------------------------------------------------------------------------------
// Seeding

/// What seeding chose that the figures use.
struct Seeded {
    /// A model the account uses little (for the model filter).
    rare_model: String,
    rare_words: Vec<String>,
    common_words: Vec<String>,
    word_pairs: Vec<String>,
}

/// One model the generations use.
struct BenchModel {
    id: String,
    provider: String,
    /// Micro-dollars per million tokens (nano-dollars per thousand).
    price_in: i64,
    price_out: i64,
}

/// The models and texts the rows are made of, and the words the searches look for: the same
/// on every run at one scale (so a kept database's can be made again).
struct Choices {
    models: Vec<BenchModel>,
    texts: Texts,
    words: Words,
}

impl Choices {
    async fn make(db: &Db, plan: &Plan) -> Choices {
        // Models, picked evenly from the seeded catalog.
        let all: Vec<(String, String, Option<i64>, Option<i64>)> = Query::new(
            "SELECT id, provider, price_prompt_per_m_micros, price_completion_per_m_micros \
             FROM models ORDER BY id",
        )
        .fetch_all(db)
        .await
        .expect("models");
        assert!(all.len() >= MODELS, "the seeded catalog has too few models");
        let models = (0..MODELS)
            .map(|i| {
                let (id, provider, price_in, price_out) = &all[i * all.len() / MODELS];
                BenchModel {
                    id: id.clone(),
                    provider: provider.clone(),
                    price_in: price_in.filter(|p| *p > 0).unwrap_or(500_000),
                    price_out: price_out.filter(|p| *p > 0).unwrap_or(1_500_000),
                }
            })
            .collect();
        let texts = Texts::generate(plan.texts);
        let words = texts.pick_words();
        Choices {
            models,
            texts,
            words,
        }
    }

    fn seeded(&self) -> Seeded {
        Seeded {
            // The model the account uses least (the weights fall with the index).
            rare_model: self.models.last().expect("models").id.clone(),
            rare_words: self.words.rare.clone(),
            common_words: self.words.common.clone(),
            word_pairs: self.words.pairs.clone(),
        }
    }
}

async fn seed(database: &BenchDatabase, plan: &Plan, account: &Account, choices: &Choices) {
    let backend = database.db.backend();
    // The loader's own pool: its connection settings (a large page cache, sorter threads) end
    // with it, so the measured pool is as the app opens it.
    let loader = Db::connect(&database.url).await.expect("loader pool");
    let step = Instant::now();
    let (models, texts) = (&choices.models, &choices.texts);

    // Scratch tables the load reads (dropped at the end).
    let integer_key = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY",
        Backend::Postgres => "BIGINT PRIMARY KEY",
    };
    for sql in [
        format!(
            "CREATE TABLE bench_models (k {integer_key}, id TEXT NOT NULL, \
             provider TEXT NOT NULL, price_in BIGINT NOT NULL, price_out BIGINT NOT NULL)"
        ),
        format!("CREATE TABLE bench_prompts (n {integer_key}, body TEXT NOT NULL)"),
        format!("CREATE TABLE bench_outputs (n {integer_key}, body TEXT NOT NULL)"),
    ] {
        Query::new(sql)
            .execute(&loader)
            .await
            .expect("scratch table");
    }
    for (k, model) in models.iter().enumerate() {
        Query::new(
            "INSERT INTO bench_models (k, id, provider, price_in, price_out) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(k as i64)
        .bind(model.id.as_str())
        .bind(model.provider.as_str())
        .bind(model.price_in)
        .bind(model.price_out)
        .execute(&loader)
        .await
        .expect("bench model");
    }
    insert_texts(&loader, "bench_prompts", &texts.prompts).await;
    insert_texts(&loader, "bench_outputs", &texts.outputs).await;

    // The other accounts.
    let now = aipasta_core::clock::now_ms();
    let start = now - DAYS_OF_HISTORY * DAY_MS;
    let others = plan.other_accounts();
    let series = series_sql(backend);
    Query::new(format!(
        "{series} INSERT INTO users (id, email, name, password_hash, created_at, updated_at) \
         SELECT 'bench-user-' || CAST(n AS TEXT), 'bench-' || CAST(n AS TEXT) || '@example.com', \
         'Bench user ' || CAST(n AS TEXT), NULL, $3, $3 FROM s"
    ))
    .bind(0_i64)
    .bind(i64::try_from(others).unwrap_or(i64::MAX) - 1)
    .bind(start)
    .execute(&loader)
    .await
    .expect("other accounts");
    for model in models.iter().take(FAVORITES) {
        aipasta_store::favorites::add_favorite(&loader, &account.id, &model.id)
            .await
            .expect("favorite");
    }
    println!(
        "  {} models, {} other accounts, {} + {} texts ({:.1} s)",
        models.len(),
        group_digits(others),
        group_digits(texts.prompts.len() as u64),
        group_digits(texts.outputs.len() as u64),
        step.elapsed().as_secs_f64()
    );

    // The schema as the migrations made it, then without the history indexes for the load.
    let schema_before = schema(&loader).await;
    let indexes = droppable_indexes(&loader).await;
    for (name, _) in &indexes {
        Query::new(format!("DROP INDEX {name}"))
            .execute(&loader)
            .await
            .expect("drop index");
    }
    println!(
        "  dropped {} indexes of generations for the load: {}",
        indexes.len(),
        indexes
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );

    // On SQLite the full-text index is filled after the load, newest first as migration 11
    // fills it: FTS5 flushes what it holds whenever a rowid is not above the last, and its
    // rowids are the generations' negated, so filling it row by row in a long transaction
    // writes a segment per row (seven times slower).
    let fts_trigger = if backend == Backend::Sqlite {
        let sql: String = Query::new(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' \
             AND name = 'generations_fts_insert'",
        )
        .fetch_scalar(&loader)
        .await
        .expect("the full-text index's insert trigger");
        Query::new("DROP TRIGGER generations_fts_insert")
            .execute(&loader)
            .await
            .expect("drop the trigger");
        Some(sql)
    } else {
        None
    };

    // The rows, a chunk per transaction.
    let step = Instant::now();
    let insert = generations_insert_sql(backend);
    let mut first = 1_u64;
    while first <= plan.generations {
        let last = (first + plan.chunk - 1).min(plan.generations);
        let chunk_started = Instant::now();
        let mut tx = loader.begin().await.expect("begin");
        loader_settings(backend, &mut tx).await;
        let inserted = Query::new(insert.clone())
            .bind(i64::try_from(first).unwrap_or(i64::MAX))
            .bind(i64::try_from(last).unwrap_or(i64::MAX))
            .bind(i64::try_from(plan.account).unwrap_or(i64::MAX))
            .bind(i64::try_from(plan.generations).unwrap_or(i64::MAX))
            .bind(account.id.as_str())
            .bind(i64::try_from(others).unwrap_or(i64::MAX))
            .bind(start)
            .bind(DAYS_OF_HISTORY * DAY_MS)
            // Rows are written in time order, each up to five rows' spacing late.
            .bind((5 * DAYS_OF_HISTORY * DAY_MS / plan.generations as i64).max(1))
            .bind(MODELS as i64)
            .bind(texts.prompts.len() as i64)
            .execute(&mut tx)
            .await
            .expect("insert generations");
        tx.commit().await.expect("commit");
        assert_eq!(inserted, last - first + 1, "rows inserted");
        println!(
            "  generations {:>12} ({:.1} s for this chunk, {:.0} rows/s so far)",
            group_digits(last),
            chunk_started.elapsed().as_secs_f64(),
            last as f64 / step.elapsed().as_secs_f64()
        );
        first = last + 1;
    }
    println!(
        "  inserted {} rows in {:.1} s",
        group_digits(plan.generations),
        step.elapsed().as_secs_f64()
    );

    if let Some(trigger) = fts_trigger {
        // A chunk of rows per transaction, newest first throughout: one transaction of the
        // whole table (34 minutes at 10,000,000 rows) outlived sqlx's connection lifetime,
        // and closing that connection checkpointed the whole WAL while the next transaction
        // waited for a connection until it timed out.
        let step = Instant::now();
        let newest: i64 = Query::new("SELECT COALESCE(MAX(rowid), 0) FROM generations")
            .fetch_scalar(&loader)
            .await
            .expect("the newest rowid");
        let chunk = i64::try_from(plan.chunk * 2).unwrap_or(i64::MAX);
        let mut below = newest + 1;
        while below > 1 {
            let from = (below - chunk).max(1);
            let mut tx = loader.begin().await.expect("begin");
            loader_settings(backend, &mut tx).await;
            Query::new(
                "INSERT INTO generations_fts (rowid, owner, input, output) \
                 SELECT -rowid, 'u' || replace(user_id, '-', ''), \
                   SUBSTR(prompt, 1, 50000) || ' ' || SUBSTR(COALESCE(CASE WHEN \
                     json_valid(messages) THEN json_extract(messages, '$[#-1].content') END, \
                     ''), 1, 50000), \
                   SUBSTR(output_content, 1, 50000) \
                 FROM generations WHERE rowid >= $1 AND rowid < $2 ORDER BY rowid DESC",
            )
            .bind(from)
            .bind(below)
            .execute(&mut tx)
            .await
            .expect("fill the full-text index");
            tx.commit().await.expect("commit");
            below = from;
        }
        Query::new(trigger)
            .execute(&loader)
            .await
            .expect("recreate the trigger");
        println!(
            "  full-text index filled in {:.1} s",
            step.elapsed().as_secs_f64()
        );
    }

    // The indexes again, from the very SQL the migrations left in the schema.
    for (name, sql) in &indexes {
        let step = Instant::now();
        let mut tx = loader.begin().await.expect("begin");
        loader_settings(backend, &mut tx).await;
        Query::new(sql.clone())
            .execute(&mut tx)
            .await
            .unwrap_or_else(|e| panic!("recreate {name}: {e}"));
        tx.commit().await.expect("commit");
        println!(
            "  index {name} rebuilt in {:.1} s",
            step.elapsed().as_secs_f64()
        );
    }

    // Usage rollups and account totals, as the recorder keeps them (write.rs, migrations 10
    // and 13's back-fills). On SQLite the generations are read in the table's order: it would
    // otherwise walk an index in the grouping's order (account first), a random read of the
    // table per row (hours at 10,000,000 rows).
    let step = Instant::now();
    let whole_table = match backend {
        Backend::Sqlite => "generations NOT INDEXED",
        Backend::Postgres => "generations",
    };
    Query::new(format!(
        "INSERT INTO usage_days (user_id, day, model_id, source, generations, errors, \
         prompt_tokens, completion_tokens, cost_nanos, total_duration_ms) \
         SELECT user_id, created_at / 86400000, model_id, source, COUNT(*), \
         SUM(CASE WHEN status IN ('error', 'timeout', 'interrupted') THEN 1 ELSE 0 END), \
         SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_nanos), \
         SUM(COALESCE(duration_ms, 0)) \
         FROM {whole_table} \
         WHERE user_id IS NOT NULL AND model_id IS NOT NULL AND status <> 'pending' \
         GROUP BY user_id, created_at / 86400000, model_id, source"
    ))
    .execute(&loader)
    .await
    .expect("usage rollups");
    Query::new(
        "INSERT INTO usage_model_days (user_id, day, model_id, generations, errors, \
         prompt_tokens, completion_tokens, cost_nanos, total_duration_ms) \
         SELECT user_id, day, model_id, SUM(generations), SUM(errors), SUM(prompt_tokens), \
         SUM(completion_tokens), SUM(cost_nanos), SUM(total_duration_ms) \
         FROM usage_days GROUP BY user_id, day, model_id",
    )
    .execute(&loader)
    .await
    .expect("usage rollups by model");
    Query::new(format!(
        "UPDATE users SET total_generations = t.generations, tokens_used = t.tokens, \
         total_cost_nanos = t.cost, last_generation_at = t.last_at \
         FROM (SELECT user_id, COUNT(*) AS generations, \
               SUM(prompt_tokens + completion_tokens) AS tokens, SUM(cost_nanos) AS cost, \
               MAX(updated_at) AS last_at \
               FROM {whole_table} WHERE user_id IS NOT NULL GROUP BY user_id) t \
         WHERE users.id = t.user_id"
    ))
    .execute(&loader)
    .await
    .expect("account totals");
    Query::new(
        "UPDATE models SET generation_count = generation_count + COALESCE((SELECT \
         SUM(u.generations) FROM usage_days u WHERE u.model_id = models.id), 0)",
    )
    .execute(&loader)
    .await
    .expect("model counts");
    let usage_rows: i64 = Query::new("SELECT COUNT(*) FROM usage_days")
        .fetch_scalar(&loader)
        .await
        .expect("count usage rows");
    println!(
        "  usage rollups ({} rows) and totals in {:.1} s",
        group_digits(u64::try_from(usage_rows).unwrap_or(0)),
        step.elapsed().as_secs_f64()
    );

    for table in ["bench_models", "bench_prompts", "bench_outputs"] {
        Query::new(format!("DROP TABLE {table}"))
            .execute(&loader)
            .await
            .expect("drop scratch table");
    }
    let step = Instant::now();
    match backend {
        Backend::Sqlite => {
            Query::new("ANALYZE")
                .execute(&loader)
                .await
                .expect("analyze");
            Query::new("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&loader)
                .await
                .expect("checkpoint");
        }
        Backend::Postgres => {
            // The steady state: autovacuum would analyse the new rows and mark their pages
            // all-visible (which index-only scans need) soon; doing it now makes runs
            // repeatable.
            Query::new("VACUUM ANALYZE")
                .execute(&loader)
                .await
                .expect("vacuum analyze");
        }
    }
    println!(
        "  {} in {:.1} s",
        match backend {
            Backend::Sqlite => "ANALYZE and WAL checkpoint",
            Backend::Postgres => "VACUUM ANALYZE",
        },
        step.elapsed().as_secs_f64()
    );

    check_seeded(&loader, plan, account, &schema_before, &choices.words).await;
    loader.close().await;
}

/// The loader's connection settings, for one transaction: memory for sorting (index builds)
/// and, on SQLite, a large page cache and sorter threads. None of them is stored in the schema.
async fn loader_settings(backend: Backend, tx: &mut aipasta_store::Tx) {
    let settings: &[&str] = match backend {
        Backend::Sqlite => &["PRAGMA cache_size = -1000000", "PRAGMA threads = 2"],
        Backend::Postgres => &[
            "SET LOCAL maintenance_work_mem = '1GB'",
            "SET LOCAL work_mem = '256MB'",
        ],
    };
    for sql in settings {
        Query::new(*sql)
            .execute(&mut *tx)
            .await
            .expect("loader setting");
    }
}

/// Numbers `$1` to `$2` as the common table expression `s(n)`.
fn series_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "WITH RECURSIVE s(n) AS (SELECT CAST($1 AS INTEGER) UNION ALL \
             SELECT n + 1 FROM s WHERE n < $2)"
        }
        Backend::Postgres => {
            "WITH s(n) AS (SELECT generate_series(CAST($1 AS BIGINT), CAST($2 AS BIGINT)))"
        }
    }
}

/// Rows `$1` to `$2` of the table. Parameters: $3 the account's rows, $4 all rows, $5 the
/// account's id, $6 the other accounts, $7 the first instant, $8 the span, $9 the jitter,
/// $10 the models, $11 the texts in each pool.
///
/// Row n belongs to the account when ⌊n·$3/$4⌋ steps up at n (exactly $3 rows, evenly
/// spread); every other choice is a hash of n (below) taken modulo the number of choices. The
/// joins are written as `CROSS JOIN`, which SQLite keeps in the order written: the series
/// outside, each look-up by key inside.
fn generations_insert_sql(backend: Backend) -> String {
    let series = series_sql(backend);
    let id = match backend {
        Backend::Sqlite => {
            "printf('%08x-%04x-7%03x-8%03x-%012x', created >> 16, created & 65535, h7 % 4096, \
             h8 % 4096, n)"
                .to_owned()
        }
        Backend::Postgres => "lpad(to_hex(created >> 16), 8, '0') || '-' \
             || lpad(to_hex(created & 65535), 4, '0') || '-7' || lpad(to_hex(h7 % 4096), 3, '0') \
             || '-8' || lpad(to_hex(h8 % 4096), 3, '0') || '-' || lpad(to_hex(n), 12, '0')"
            .to_owned(),
    };
    // n·k modulo the prime 2³¹ − 1 for a large k, then squared (plus n) modulo it again: a
    // product alone stays linear in n, so its low digits would repeat in patterns.
    let multipliers = [
        742_938_285_i64,
        950_706_376,
        1_226_874_159,
        62_089_911,
        1_343_714_438,
        2_049_513_912,
        781_259_587,
        482_920_308,
        1_034_200_239,
    ];
    let products = multipliers
        .iter()
        .enumerate()
        .map(|(i, k)| format!("(n * {k}) % 2147483647 AS a{}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let hashes = (1..=multipliers.len())
        .map(|i| format!("(a{i} * a{i} + n) % 2147483647 AS h{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{series}, \
         a AS (SELECT n, {products} FROM s), \
         r AS (SELECT n, CASE WHEN (n * $3) / $4 > ((n - 1) * $3) / $4 THEN 1 ELSE 0 END AS heavy, \
               {hashes} FROM a), \
         g AS (SELECT n, heavy, h1, h7, h8, h9, \
               CASE WHEN heavy = 1 THEN $5 ELSE 'bench-user-' || CAST(h1 % $6 AS TEXT) END \
                 AS user_id, \
               $7 + ((n - 1) * $8) / $4 + h2 % $9 AS created, \
               CASE WHEN heavy = 1 THEN ($10 * (h3 % 100) * (h3 % 100)) / 10000 \
                 ELSE ((h1 % $6) * 7 + h3 % 3) % $10 END AS mk, \
               CASE WHEN heavy = 0 THEN CASE WHEN h4 % 100 < 70 THEN 'playground' ELSE 'v1' END \
                 WHEN h4 % 100 < 45 THEN 'playground' WHEN h4 % 100 < 75 THEN 'v1' \
                 WHEN h4 % 100 < 90 THEN 'api' WHEN h4 % 100 < 96 THEN 'compare' \
                 ELSE 'batch' END AS source, \
               CASE WHEN h5 % 100 < 40 THEN 'chat' WHEN h5 % 100 < 55 THEN 'text' \
                 WHEN h5 % 100 < 75 THEN 'code' WHEN h5 % 100 < 83 THEN 'image' \
                 WHEN h5 % 100 < 90 THEN 'summarize' WHEN h5 % 100 < 96 THEN 'translate' \
                 ELSE 'embed' END AS mode, \
               CASE WHEN h6 % 1000 < 930 THEN 'success' WHEN h6 % 1000 < 970 THEN 'error' \
                 WHEN h6 % 1000 < 980 THEN 'timeout' WHEN h6 % 1000 < 990 THEN 'cancelled' \
                 ELSE 'interrupted' END AS status, \
               h7 % $11 AS pi, h8 % $11 AS oi \
               FROM r), \
         x AS (SELECT g.n, g.heavy, g.h1, g.h7, g.h8, g.h9, g.user_id, g.created, g.source, \
               g.mode, g.status, m.id AS model_id, m.provider, m.price_in, m.price_out, \
               p.body AS ptext, \
               CASE WHEN g.mode IN ('image', 'embed') THEN '' \
                 WHEN g.status = 'success' THEN o.body \
                 WHEN g.status IN ('cancelled', 'interrupted') THEN SUBSTR(o.body, 1, 200) \
                 ELSE '' END AS otext \
               FROM g CROSS JOIN bench_models m CROSS JOIN bench_prompts p \
               CROSS JOIN bench_outputs o WHERE m.k = g.mk AND p.n = g.pi AND o.n = g.oi), \
         y AS (SELECT x.*, LENGTH(ptext) / 4 + 4 AS ptok, LENGTH(otext) / 4 AS ctok, \
               CASE status WHEN 'success' THEN 400 + (h9 / 7) % 15000 \
                 WHEN 'error' THEN 50 + h9 % 2000 WHEN 'timeout' THEN 60000 \
                 ELSE 200 + h9 % 5000 END AS dur \
               FROM x) \
         INSERT INTO generations (id, user_id, model_id, session_id, source, mode, prompt, \
           system_prompt, messages, parameters, output_content, finish_reason, prompt_tokens, \
           completion_tokens, total_tokens, duration_ms, time_to_first_token_ms, cost_nanos, \
           provider, status, error_code, error_message, visibility, created_at, updated_at) \
         SELECT {id}, user_id, model_id, \
           CASE WHEN mode = 'chat' AND h9 % 4 = 0 THEN 'session-' || \
             CASE WHEN heavy = 1 THEN 'h' ELSE CAST(h1 % $6 AS TEXT) END || '-' \
             || CAST(n / 2000 AS TEXT) END, \
           source, mode, \
           CASE WHEN mode = 'chat' THEN '' ELSE ptext END, \
           CASE WHEN h9 % 10 < 3 THEN 'You are a careful assistant. Answer briefly.' END, \
           CASE WHEN mode = 'chat' THEN '[{{\"role\":\"user\",\"content\":\"' || ptext || '\"}}]' \
             ELSE '[]' END, \
           '{{\"temperature\":0.7,\"max_tokens\":1024}}', \
           otext, \
           CASE WHEN status = 'success' THEN 'stop' END, \
           ptok, ctok, ptok + ctok, dur, \
           CASE WHEN status = 'success' THEN 80 + (h9 / 13) % 900 END, \
           (ptok * price_in + ctok * price_out) / 1000, provider, status, \
           CASE status WHEN 'error' THEN 'upstream_error' WHEN 'timeout' THEN 'timeout' END, \
           CASE status WHEN 'error' THEN 'The provider answered 502 Bad Gateway.' \
             WHEN 'timeout' THEN 'The provider did not answer in time.' END, \
           'private', created, created + dur \
         FROM y"
    )
}

async fn insert_texts(db: &Db, table: &str, texts: &[String]) {
    let mut tx = db.begin().await.expect("begin");
    for (chunk_index, chunk) in texts.chunks(200).enumerate() {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let mut insert = Query::new(format!(
            "INSERT INTO {table} (n, body) VALUES {}",
            rows.join(", ")
        ));
        for (i, text) in chunk.iter().enumerate() {
            insert = insert
                .bind((chunk_index * 200 + i) as i64)
                .bind(text.as_str());
        }
        insert.execute(&mut tx).await.expect("insert texts");
    }
    tx.commit().await.expect("commit");
}

/// The indexes of `generations` that the load can do without, with the SQL that makes each
/// (as the schema stores it: SQLite keeps the migration's text, PostgreSQL its definition).
async fn droppable_indexes(db: &Db) -> Vec<(String, String)> {
    let sql = match db.backend() {
        // The primary key's index has no SQL and cannot be dropped.
        Backend::Sqlite => {
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' \
             AND tbl_name = 'generations' AND sql IS NOT NULL ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT CAST(c.relname AS TEXT), pg_get_indexdef(i.indexrelid) FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = CAST('generations' AS regclass) \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
             ORDER BY 1"
        }
    };
    Query::new(sql).fetch_all(db).await.expect("indexes")
}

/// The schema's indexes, triggers and tables, each with its definition.
async fn schema(db: &Db) -> Vec<(String, String)> {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT type || ' ' || name, COALESCE(sql, '') FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_stat%' AND name NOT LIKE 'bench_%' ORDER BY 1"
        }
        Backend::Postgres => {
            "SELECT 'index ' || indexname, indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() AND indexname NOT LIKE 'bench_%' \
             UNION ALL SELECT 'trigger ' || tgname, pg_get_triggerdef(oid) FROM pg_trigger \
             WHERE NOT tgisinternal \
             UNION ALL SELECT 'invalid index ' || CAST(CAST(indexrelid AS regclass) AS TEXT), '' \
             FROM pg_index \
             WHERE NOT indisvalid OR NOT indisready ORDER BY 1"
        }
    };
    Query::new(sql).fetch_all(db).await.expect("schema")
}

/// The rows in the table and the account's, checked against the plan.
async fn check_counts(db: &Db, plan: &Plan, account: &Account) -> (i64, i64) {
    let total: i64 = Query::new("SELECT COUNT(*) FROM generations")
        .fetch_scalar(db)
        .await
        .expect("count");
    let mine: i64 = Query::new("SELECT COUNT(*) FROM generations WHERE user_id = $1")
        .bind(account.id.as_str())
        .fetch_scalar(db)
        .await
        .expect("count");
    assert_eq!(
        (total, mine),
        (plan.generations as i64, plan.account as i64),
        "rows in the database (a kept one seeded at another scale? delete it)"
    );
    (total, mine)
}

/// The schema is the migrations' again, the full-text index holds every row, and the rows are
/// what was asked for.
async fn check_seeded(
    db: &Db,
    plan: &Plan,
    account: &Account,
    schema_before: &[(String, String)],
    words: &Words,
) {
    let after = schema(db).await;
    if after != schema_before {
        let before: HashSet<_> = schema_before.iter().collect();
        let now: HashSet<_> = after.iter().collect();
        panic!(
            "the schema differs from the migrated one: missing {:?}, new {:?}",
            before.difference(&now).collect::<Vec<_>>(),
            now.difference(&before).collect::<Vec<_>>()
        );
    }
    for name in [
        "generations_user_time_idx",
        "generations_user_cost_idx",
        "generations_user_tokens_idx",
        "generations_user_duration_idx",
        "generations_user_model_time_idx",
    ] {
        assert!(
            after
                .iter()
                .any(|(what, _)| what == &format!("index {name}")),
            "{name} is missing"
        );
    }
    let full_text = match db.backend() {
        Backend::Sqlite => ["trigger generations_fts_insert", "table generations_fts"],
        Backend::Postgres => [
            "index generations_search_idx",
            "index generations_user_time_idx",
        ],
    };
    for name in full_text {
        assert!(
            after.iter().any(|(what, _)| what == name),
            "{name} is missing"
        );
    }

    let (total, mine) = check_counts(db, plan, account).await;
    // Every row is in the full-text index: a rare word is found as often by the index as by
    // reading every row.
    let word = &words.rare[0];
    let (indexed, scanned): (i64, i64) = match db.backend() {
        Backend::Sqlite => {
            let docs: i64 = Query::new("SELECT COUNT(*) FROM generations_fts_docsize")
                .fetch_scalar(db)
                .await
                .expect("count indexed rows");
            assert_eq!(docs, total, "rows in generations_fts");
            (
                Query::new("SELECT COUNT(*) FROM generations_fts WHERE generations_fts MATCH $1")
                    .bind(format!("\"{word}\""))
                    .fetch_scalar(db)
                    .await
                    .expect("count by index"),
                Query::new(
                    "SELECT COUNT(*) FROM generations WHERE INSTR(prompt, $1) > 0 \
                     OR INSTR(messages, $1) > 0 OR INSTR(output_content, $1) > 0",
                )
                .bind(word.as_str())
                .fetch_scalar(db)
                .await
                .expect("count by scan"),
            )
        }
        Backend::Postgres => {
            let mut tx = db.begin().await.expect("begin");
            Query::new("SET LOCAL enable_seqscan = off")
                .execute(&mut tx)
                .await
                .expect("setting");
            let indexed = Query::new(
                "SELECT COUNT(*) FROM generations g \
                 WHERE search_vector @@ to_tsquery('simple'::regconfig, $1)",
            )
            .bind(word.as_str())
            .fetch_scalar(&mut tx)
            .await
            .expect("count by index");
            tx.commit().await.expect("commit");
            (
                indexed,
                Query::new(
                    "SELECT COUNT(*) FROM generations WHERE STRPOS(prompt, $1) > 0 \
                     OR STRPOS(messages, $1) > 0 OR STRPOS(output_content, $1) > 0",
                )
                .bind(word.as_str())
                .fetch_scalar(db)
                .await
                .expect("count by scan"),
            )
        }
    };
    assert!(indexed > 0, "'{word}' is in no row");
    assert_eq!(indexed, scanned, "rows with '{word}': index against scan");
    println!(
        "  checked: the schema is the migrated one ({} indexes, triggers and tables), \
         {} rows of which {} the account's, '{word}' in {indexed} rows by index and by scan",
        after.len(),
        group_digits(u64::try_from(total).unwrap_or(0)),
        group_digits(u64::try_from(mine).unwrap_or(0)),
    );
}

// ---------------------------------------------------------------------------------------------
// The figures

async fn history_figures(
    db: &Db,
    plan: &Plan,
    account: &Account,
    seeded: &Seeded,
    table: &mut Table,
) {
    println!("\n== history: the store call history_page, {PAGE_ROWS} rows a page, newest first");
    let first_page = HistoryQuery {
        descending: true,
        limit: PAGE_ROWS,
        ..HistoryQuery::default()
    };
    let samples = full_pages(db, plan, &account.id, &first_page).await;
    table.latency("history: first page", &samples, Some(GOAL_PAGE_MS));

    // The history page's default: each conversation once, as its latest turn.
    let grouped = HistoryQuery {
        conversations: true,
        ..first_page.clone()
    };
    let samples = full_pages(db, plan, &account.id, &grouped).await;
    table.latency(
        "history: first page, a conversation as one row",
        &samples,
        Some(GOAL_PAGE_MS),
    );

    let deep = plan.deep();
    for (sort, conversations) in [
        (HistorySort::Time, false),
        (HistorySort::Cost, false),
        (HistorySort::Time, true),
    ] {
        let query = HistoryQuery {
            sort,
            conversations,
            descending: true,
            limit: PAGE_ROWS,
            ..HistoryQuery::default()
        };
        let cursor = walk(db, &account.id, &query, deep).await;
        let deep_page = HistoryQuery {
            after: Some(cursor),
            ..query
        };
        let samples = full_pages(db, plan, &account.id, &deep_page).await;
        let what = if conversations {
            "a conversation as one row".to_owned()
        } else {
            format!("sort={}", sort.as_str())
        };
        table.latency(
            &format!(
                "history: page {} rows deep by cursor, {what}",
                group_digits(deep)
            ),
            &samples,
            Some(GOAL_PAGE_MS),
        );
    }

    let numbered = HistoryQuery {
        descending: true,
        limit: PAGE_ROWS,
        offset: deep as i64,
        ..HistoryQuery::default()
    };
    let samples = full_pages(db, plan, &account.id, &numbered).await;
    table.latency(
        &format!(
            "history: page {} rows deep by number (offset)",
            group_digits(deep)
        ),
        &samples,
        None,
    );

    for (label, query) in [
        (
            "history filtered: one model (least used)",
            HistoryQuery {
                model_id: Some(seeded.rare_model.clone()),
                ..first_page.clone()
            },
        ),
        (
            "history filtered: mode=code",
            HistoryQuery {
                mode: Some("code".into()),
                ..first_page.clone()
            },
        ),
        (
            "history filtered: status=error",
            HistoryQuery {
                status: Some("error".into()),
                ..first_page.clone()
            },
        ),
    ] {
        let samples = measure(plan, || async {
            let page = history_page(db, &account.id, &query).await.expect("page");
            assert!(!page.items.is_empty());
        })
        .await;
        table.latency(label, &samples, None);
    }
}

/// The cursor after `rows` rows of `query`, reached page by page as a reader would.
async fn walk(db: &Db, user_id: &str, query: &HistoryQuery, rows: u64) -> HistoryCursor {
    let started = Instant::now();
    let mut query = HistoryQuery {
        limit: 100,
        ..query.clone()
    };
    let mut seen = 0_u64;
    loop {
        let page = history_page(db, user_id, &query).await.expect("walk");
        seen += page.items.len() as u64;
        let next = page.next.expect("a next page");
        if seen >= rows {
            assert_eq!(seen, rows, "the walk stops on a page boundary");
            println!(
                "  walked {} rows by {} in {:.2} s ({:.2} ms a page of 100)",
                group_digits(rows),
                query.sort.as_str(),
                started.elapsed().as_secs_f64(),
                started.elapsed().as_secs_f64() * 1e3 / (rows as f64 / 100.0)
            );
            return next;
        }
        query.after = Some(next);
    }
}

async fn search_figures(
    db: &Db,
    plan: &Plan,
    account: &Account,
    seeded: &Seeded,
    table: &mut Table,
) {
    println!(
        "\n== search: history_page with q, first page of {PAGE_ROWS}, newest first unless marked"
    );
    println!(
        "  {:<34} {:>10} {:>9} {:>9} {:>9}",
        "query", "matches", "p50 ms", "p99 ms", "max ms"
    );
    // Words match whole; a start needs its `*` (`func*`), and gathers every document with a
    // word of that start, so it is timed apart, as is a search in another order than time.
    let prefixes: Vec<String> = seeded
        .common_words
        .iter()
        .map(|word| format!("{}*", &word[..word.len().min(3)]))
        .collect();
    for (label, queries, sort, goal) in [
        (
            "search: a rare word",
            &seeded.rare_words,
            HistorySort::Time,
            Some(GOAL_SEARCH_MS),
        ),
        (
            "search: a common word",
            &seeded.common_words,
            HistorySort::Time,
            Some(GOAL_SEARCH_MS),
        ),
        (
            "search: two words",
            &seeded.word_pairs,
            HistorySort::Time,
            Some(GOAL_SEARCH_MS),
        ),
        (
            "search: a common start (3 letters and *)",
            &prefixes,
            HistorySort::Time,
            None,
        ),
        (
            "search: a common word, sort=cost",
            &seeded.common_words,
            HistorySort::Cost,
            None,
        ),
    ] {
        let per_query = plan.iterations.div_ceil(queries.len());
        let quick = Plan {
            iterations: per_query,
            warmup: plan.warmup.min(5),
            ..*plan
        };
        let mut all = Vec::new();
        for text in queries {
            let matches = count_matches(db, &account.id, text).await;
            let query = HistoryQuery {
                search: Some(text.clone()),
                sort,
                descending: true,
                limit: PAGE_ROWS,
                ..HistoryQuery::default()
            };
            let samples = measure(&quick, || async {
                let page = history_page(db, &account.id, &query).await.expect("search");
                assert_eq!(
                    page.items.len() as i64,
                    matches.min(PAGE_ROWS),
                    "search '{text}'"
                );
            })
            .await;
            println!(
                "  {:<34} {:>10} {:>9.2} {:>9.2} {:>9.2}",
                text,
                group_digits(u64::try_from(matches).unwrap_or(0)),
                samples.ms(0.50),
                samples.ms(0.99),
                samples.max_ms()
            );
            all.extend(samples.0);
        }
        table.latency(label, &Samples::new(all), goal);
    }
}

/// How many of the account's generations a search finds (every row, not a page), counted
/// apart from the store's query: on SQLite in the account's FTS5 documents, on PostgreSQL by
/// the stored vector.
async fn count_matches(db: &Db, user_id: &str, text: &str) -> i64 {
    let words = aipasta_store::generations::search_words(text);
    let sql = match db.backend() {
        Backend::Sqlite => {
            let mut terms = vec![format!("owner : \"u{}\"", user_id.replace('-', ""))];
            terms.extend(words.iter().map(|w| {
                let star = if w.prefix { "*" } else { "" };
                format!("{{input output}} : \"{}\"{star}", w.text)
            }));
            Query::new("SELECT COUNT(*) FROM generations_fts WHERE generations_fts MATCH $1")
                .bind(terms.join(" AND "))
        }
        Backend::Postgres => {
            let expression = words
                .iter()
                .map(|w| format!("{}{}", w.text, if w.prefix { ":*" } else { "" }))
                .collect::<Vec<_>>()
                .join(" & ");
            Query::new(
                "SELECT COUNT(*) FROM generations WHERE user_id = $1 AND \
                 search_vector @@ to_tsquery('simple'::regconfig, $2)",
            )
            .bind(user_id)
            .bind(expression)
        }
    };
    sql.fetch_scalar(db).await.expect("count matches")
}

async fn stats_figures(
    db: &Db,
    server: &Server,
    plan: &Plan,
    account: &Account,
    table: &mut Table,
) {
    let today = aipasta_core::clock::now_ms().div_euclid(DAY_MS);
    // The store's part of it: the year's rollup rows, by day and model.
    let rows = std::cell::Cell::new(0);
    let samples = measure(plan, || async {
        rows.set(
            aipasta_store::generations::usage_by_day(
                db,
                &account.id,
                today - 364,
                today + 1,
                aipasta_store::generations::UsageSplit::Model,
            )
            .await
            .expect("usage by day")
            .len(),
        );
    })
    .await;
    table.latency(
        &format!(
            "stats: the store's usage_by_day for a year ({} rows)",
            rows.get()
        ),
        &samples,
        None,
    );
    let path = format!(
        "/api/users/stats?from={}&to={}&groupBy=day&by=model",
        iso_day(today - 364),
        iso_day(today)
    );
    println!("\n== stats: GET {path}");
    let size = server.get(&account.token, &path).await;
    let samples = measure(plan, || async {
        server.get(&account.token, &path).await;
    })
    .await;
    println!("  answer: {} bytes of JSON", group_digits(size as u64));
    table.latency(
        "GET stats of a year, by day and model",
        &samples,
        Some(GOAL_STATS_MS),
    );
}

async fn export_figures(
    db: &Db,
    server: &Server,
    plan: &Plan,
    account: &Account,
    table: &mut Table,
) {
    let rows = plan.export_rows();
    // From the day of the account's `rows`-th newest generation: at least `rows` rows.
    let from = |rows: u64| async move {
        let created: i64 = Query::new(
            "SELECT created_at FROM generations WHERE user_id = $1 \
             ORDER BY created_at DESC LIMIT 1 OFFSET $2",
        )
        .bind(account.id.as_str())
        .bind(i64::try_from(rows).unwrap_or(i64::MAX) - 1)
        .fetch_scalar(db)
        .await
        .expect("export range");
        iso_day(created.div_euclid(DAY_MS))
    };
    println!("\n== export: GET /api/users/history/export?format=csv&from=…, read to the end");
    // A tenth of the size first: memory that stays flat grows as much for either.
    let small = format!(
        "/api/users/history/export?format=csv&from={}",
        from(rows / 10).await
    );
    let small_run = export_once(server, &account.token, &small).await;
    let from_day = from(rows).await;
    let path = format!("/api/users/history/export?format=csv&from={from_day}");
    // The store's part: the same pages of whole rows, read and dropped.
    let started = Instant::now();
    let mut query = HistoryQuery {
        from: Some(day_number(&from_day) * DAY_MS),
        descending: true,
        limit: aipasta_store::generations::MAX_EXPORT_PAGE,
        ..HistoryQuery::default()
    };
    let mut read = 0_u64;
    loop {
        let (records, next) = aipasta_store::generations::history_records(db, &account.id, &query)
            .await
            .expect("export page");
        read += records.len() as u64;
        match next {
            Some(cursor) => query.after = Some(cursor),
            None => break,
        }
    }
    let store_rate = read as f64 / started.elapsed().as_secs_f64();
    println!(
        "  the store alone (history_records, pages of {}): {} rows in {:.2} s, {store_rate:.0} rows/s",
        aipasta_store::generations::MAX_EXPORT_PAGE,
        group_digits(read),
        started.elapsed().as_secs_f64()
    );
    table.info(
        "export: the store's history_records alone",
        format!("{} rows/s", group_digits(store_rate as u64)),
    );
    let mut runs = Vec::new();
    for _ in 0..plan.exports {
        runs.push(export_once(server, &account.token, &path).await);
    }
    for run in std::iter::once(&small_run).chain(&runs) {
        println!(
            "  {} rows, {:.1} MB in {:.2} s: {:.0} rows/s; peak resident memory +{:.1} MB \
             (resident after: +{:.1} MB)",
            group_digits(run.rows),
            run.bytes as f64 / 1e6,
            run.elapsed.as_secs_f64(),
            run.rows_per_second(),
            run.peak_growth as f64 / 1e6,
            run.resident_growth as f64 / 1e6
        );
    }
    runs.sort_by(|a, b| a.rows_per_second().total_cmp(&b.rows_per_second()));
    let median = &runs[runs.len() / 2];
    assert!(median.rows >= rows, "the export holds {rows} rows or more");
    table.push(Row {
        figure: format!(
            "GET export, CSV, {} rows (median of {})",
            group_digits(median.rows),
            runs.len()
        ),
        value: format!(
            "{} rows/s ({:.1} MB/s)",
            group_digits(median.rows_per_second() as u64),
            median.bytes as f64 / 1e6 / median.elapsed.as_secs_f64()
        ),
        goal: format!("> {} rows/s", group_digits(GOAL_EXPORT_ROWS_PER_S as u64)),
        pass: Some(median.rows_per_second() > GOAL_EXPORT_ROWS_PER_S),
    });
    let peak = runs.iter().map(|r| r.peak_growth).max().unwrap_or(0);
    table.info(
        &format!(
            "export: peak memory growth, {} rows / {} rows",
            group_digits(small_run.rows),
            group_digits(median.rows)
        ),
        format!(
            "+{:.1} MB / +{:.1} MB",
            small_run.peak_growth as f64 / 1e6,
            peak as f64 / 1e6
        ),
    );
}

struct ExportRun {
    rows: u64,
    bytes: u64,
    elapsed: Duration,
    /// Peak resident memory during the export over resident memory before it.
    peak_growth: u64,
    resident_growth: u64,
}

impl ExportRun {
    fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64()
    }
}

/// One export, read chunk by chunk and counted (the server runs in this process, so the
/// process's peak resident memory covers it).
async fn export_once(server: &Server, token: &str, path: &str) -> ExportRun {
    reset_peak_memory();
    let before = memory_status("VmRSS");
    let started = Instant::now();
    let mut response = server
        .client
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("export");
    assert!(response.status().is_success(), "{}", response.status());
    let (mut lines, mut bytes) = (0_u64, 0_u64);
    while let Some(chunk) = response.chunk().await.expect("export chunk") {
        bytes += chunk.len() as u64;
        // Records end with CRLF; the generated texts hold bare LFs only.
        lines += chunk.iter().filter(|b| **b == b'\r').count() as u64;
    }
    let elapsed = started.elapsed();
    ExportRun {
        rows: lines.saturating_sub(1),
        bytes,
        elapsed,
        peak_growth: memory_status("VmHWM").saturating_sub(before),
        resident_growth: memory_status("VmRSS").saturating_sub(before),
    }
}

/// A figure of /proc/self/status in bytes (Linux; 0 elsewhere).
fn memory_status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with(&format!("{field}:")))
                .and_then(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Starts the peak resident figure (`VmHWM`) again from the present one (Linux).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn dashboard_figures(
    db: &Db,
    server: &Server,
    plan: &Plan,
    account: &Account,
    table: &mut Table,
) {
    println!("\n== dashboard home: GET /dashboard, the whole page");
    // The page answers a signed-out caller with the sign-in page (a redirect, which reqwest
    // follows): make sure the figure is the dashboard's.
    let page = server.page(&account.token, "/dashboard").await;
    assert!(
        page.contains("Most used models") && !page.contains("name=\"password\""),
        "GET /dashboard did not answer the account's dashboard"
    );
    println!(
        "  answer: {} bytes of HTML",
        group_digits(page.len() as u64)
    );
    home_parts(db, plan, account).await;
    let samples = measure(plan, || async {
        server.get(&account.token, "/dashboard").await;
    })
    .await;
    table.latency(
        "GET /dashboard (the home page)",
        &samples,
        Some(GOAL_DASHBOARD_MS),
    );
}

/// The store calls the home page makes (its own and its recommendations'), one at a time,
/// p50 each: where its time goes.
async fn home_parts(db: &Db, plan: &Plan, account: &Account) {
    use aipasta_store::generations::{UsageSplit, count_models_used, models_used, usage_by_day};
    use aipasta_store::recommendations::{models_by_id, models_in_categories, shared_taste};
    let today = aipasta_core::clock::now_ms().div_euclid(DAY_MS);
    let user = account.id.as_str();
    let quick = Plan {
        iterations: plan.iterations.min(50),
        warmup: 2,
        ..*plan
    };
    let used = models_used(db, user, today - 90, 8)
        .await
        .expect("models used");
    let ids: Vec<String> = used.iter().map(|m| m.model_id.clone()).collect();
    let anchors = models_by_id(db, &ids).await.expect("models by id");
    let mut categories: Vec<String> = anchors
        .iter()
        .filter_map(|m| m.category_id.clone())
        .collect();
    categories.sort();
    categories.dedup();
    println!("  the store calls it makes, one at a time (p50):");
    macro_rules! part {
        ($label:expr, $call:expr) => {{
            let samples = measure(&quick, || async {
                $call.await.expect($label);
            })
            .await;
            println!("    {:<52} {:>7.2} ms", $label, samples.ms(0.50));
        }};
    }
    part!(
        "usage_by_day, 30 days by model",
        usage_by_day(db, user, today - 29, today + 1, UsageSplit::Model)
    );
    part!(
        "usage_total, this month",
        aipasta_store::generations::usage_total(db, user, today - 5, today + 1)
    );
    part!("count_models_used", count_models_used(db, user));
    part!(
        "models_used, 30 days",
        models_used(db, user, today - 30, 50)
    );
    part!(
        "models_used, 90 days (anchors)",
        models_used(db, user, today - 90, 8)
    );
    part!(
        "list_favorites",
        aipasta_store::favorites::list_favorites(db, user)
    );
    part!(
        "history_page, 5 rows",
        history_page(
            db,
            user,
            &HistoryQuery {
                descending: true,
                limit: 5,
                ..HistoryQuery::default()
            }
        )
    );
    part!("models_by_id (anchors)", models_by_id(db, &ids));
    part!(
        "models_in_categories (candidates)",
        models_in_categories(db, &categories)
    );
    part!("shared_taste", shared_taste(db, user, 10));
}

/// Samples of reading `query`'s page, which must be a whole page.
async fn full_pages(db: &Db, plan: &Plan, user_id: &str, query: &HistoryQuery) -> Samples {
    measure(plan, || async {
        let page = history_page(db, user_id, query).await.expect("page");
        assert_eq!(page.items.len(), PAGE_ROWS as usize);
    })
    .await
}

/// The day number of `YYYY-MM-DD` (days since 1970-01-01).
fn day_number(text: &str) -> i64 {
    let parts: Vec<i64> = text
        .split('-')
        .map(|p| p.parse().expect("a date"))
        .collect();
    let (y, m, d) = (parts[0], parts[1], parts[2]);
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01), proleptic Gregorian.
fn iso_day(day: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
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

/// `plan.iterations` timed calls after `plan.warmup` untimed ones; fewer (at least
/// [`MIN_SAMPLES`]) when they take longer than [`FIGURE_BUDGET`] in all.
async fn measure<F, Fut>(plan: &Plan, mut call: F) -> Samples
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..plan.warmup {
        call().await;
    }
    let budget_started = Instant::now();
    let mut samples = Vec::with_capacity(plan.iterations);
    for _ in 0..plan.iterations {
        let started = Instant::now();
        call().await;
        samples.push(started.elapsed());
        if samples.len() >= MIN_SAMPLES && budget_started.elapsed() > FIGURE_BUDGET {
            println!(
                "  (stopped after {} samples: over {} s)",
                samples.len(),
                FIGURE_BUDGET.as_secs()
            );
            break;
        }
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
    fn push(&mut self, row: Row) {
        println!(
            "  {}: {}{}",
            row.figure,
            row.value,
            match row.pass {
                Some(true) => format!(" (goal {}: met)", row.goal),
                Some(false) => format!(" (goal {}: MISSED)", row.goal),
                None => String::new(),
            }
        );
        self.0.push(row);
    }

    fn info(&mut self, figure: &str, value: String) {
        self.push(Row {
            figure: figure.to_owned(),
            value,
            goal: String::new(),
            pass: None,
        });
    }

    /// p50 / p95 / p99 (and the number of samples), the p99 against `goal_ms`.
    fn latency(&mut self, figure: &str, samples: &Samples, goal_ms: Option<f64>) {
        let p99 = samples.ms(0.99);
        self.push(Row {
            figure: figure.to_owned(),
            value: format!(
                "{:.2} / {:.2} / {:.2} ms (n={})",
                samples.ms(0.50),
                samples.ms(0.95),
                p99,
                samples.0.len()
            ),
            goal: goal_ms.map_or(String::new(), |g| format!("p99 < {g} ms")),
            pass: goal_ms.map(|g| p99 < g),
        });
    }

    fn print(&self) {
        println!(
            "{:<56} {:>38}   {:<16} verdict",
            "figure", "value (p50 / p95 / p99)", "goal"
        );
        for row in &self.0 {
            let verdict = match row.pass {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "",
            };
            println!(
                "{:<56} {:>38}   {:<16} {verdict}",
                row.figure, row.value, row.goal
            );
        }
        println!(
            "(store calls unless marked GET, which are whole requests through HTTP with a \
             bearer token, body read; MB = 1,000,000 bytes)"
        );
    }
}

fn group_digits(n: u64) -> String {
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

// ---------------------------------------------------------------------------------------------
// The generated texts

/// xorshift64*: deterministic, so every run (and both backends) sees the same texts.
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

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
}

/// Words in the order of how often they are used (a Zipf law over the vocabulary: the n-th
/// word is used about 1/n as often as the first); made-up words follow them.
const WORDS: &[&str] = &[
    "the",
    "to",
    "and",
    "of",
    "a",
    "in",
    "is",
    "for",
    "that",
    "you",
    "it",
    "with",
    "on",
    "this",
    "as",
    "be",
    "are",
    "can",
    "or",
    "your",
    "if",
    "an",
    "by",
    "from",
    "use",
    "will",
    "not",
    "we",
    "function",
    "data",
    "code",
    "how",
    "write",
    "example",
    "value",
    "should",
    "each",
    "file",
    "list",
    "return",
    "user",
    "make",
    "when",
    "using",
    "which",
    "error",
    "string",
    "more",
    "first",
    "time",
    "text",
    "new",
    "model",
    "also",
    "one",
    "all",
    "these",
    "table",
    "then",
    "test",
    "explain",
    "create",
    "result",
    "number",
    "question",
    "python",
    "summary",
    "query",
    "email",
    "page",
    "class",
    "other",
    "need",
    "output",
    "input",
    "changes",
    "server",
    "request",
    "response",
    "type",
    "only",
    "like",
    "into",
    "about",
    "step",
    "simple",
    "name",
    "short",
    "version",
    "default",
    "between",
    "without",
    "database",
    "translate",
    "image",
    "message",
    "story",
    "report",
    "project",
    "customer",
    "team",
    "order",
    "product",
    "problem",
    "support",
    "method",
    "object",
    "array",
    "loop",
    "variable",
    "script",
    "service",
    "system",
    "design",
    "document",
    "language",
    "english",
    "french",
    "german",
    "spanish",
    "article",
    "paragraph",
    "sentence",
    "title",
    "letter",
    "review",
    "feedback",
    "meeting",
    "schedule",
    "budget",
    "price",
    "market",
    "sales",
    "plan",
    "goal",
    "idea",
    "draft",
    "tone",
    "formal",
    "friendly",
    "rewrite",
    "improve",
    "check",
    "fix",
    "bug",
    "compile",
    "runtime",
    "memory",
    "thread",
    "async",
    "network",
    "cache",
    "index",
    "search",
    "sort",
    "filter",
    "format",
    "parse",
    "json",
    "csv",
    "api",
    "endpoint",
    "token",
    "config",
    "deploy",
    "docker",
    "rust",
    "javascript",
    "typescript",
    "react",
    "sql",
    "postgres",
    "sqlite",
    "linux",
    "shell",
    "command",
    "regex",
    "unicode",
    "date",
    "number",
    "math",
    "proof",
    "equation",
    "chart",
    "graph",
    "picture",
    "photo",
    "sunset",
    "mountain",
    "ocean",
    "forest",
    "city",
    "street",
    "night",
    "winter",
    "summer",
    "coffee",
    "recipe",
    "dinner",
    "travel",
    "hotel",
    "flight",
    "weather",
    "history",
    "science",
    "physics",
    "biology",
    "chemistry",
    "economy",
    "policy",
    "health",
    "sleep",
    "exercise",
    "music",
    "guitar",
    "poem",
    "novel",
    "character",
    "dialogue",
    "scene",
    "ending",
    "chapter",
    "lesson",
    "student",
    "teacher",
    "school",
    "course",
    "exam",
    "career",
    "resume",
    "interview",
    "salary",
    "contract",
    "invoice",
    "payment",
    "refund",
    "shipping",
    "warranty",
    "garden",
    "kitchen",
    "bicycle",
    "battery",
    "engine",
    "satellite",
    "telescope",
    "volcano",
];

/// Syllables for made-up words: the long tail of the vocabulary, and the rare words.
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "ven", "tor", "sil", "quo", "bel", "dra", "fen", "gor", "hal", "jin",
    "kel", "lun", "mor", "nal", "pim", "rud", "sar", "tev", "ul", "vor", "wex", "yil", "zan",
    "brak", "cim", "dus", "elo", "fra", "gib", "hon", "ist", "jor",
];

/// Words in the vocabulary (common first); the rest of the rare list.
const VOCABULARY: usize = 20_000;
const RARE_WORDS: usize = 3_000;

struct Texts {
    prompts: Vec<String>,
    outputs: Vec<String>,
    vocabulary: Vec<String>,
    rare: Vec<String>,
}

/// The words the searches look for.
struct Words {
    rare: Vec<String>,
    common: Vec<String>,
    pairs: Vec<String>,
}

impl Texts {
    /// `count` prompts and `count` outputs of 20 to 200 words (log-uniform: most are short).
    fn generate(count: usize) -> Texts {
        let mut rng = Rng::new(0x0da5_b0a4_d5ee_d001);
        let mut seen: HashSet<String> = WORDS.iter().map(|w| (*w).to_owned()).collect();
        let mut vocabulary: Vec<String> = WORDS.iter().map(|w| (*w).to_owned()).collect();
        let made_up = |rng: &mut Rng, syllables: usize| -> String {
            (0..syllables)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect()
        };
        while vocabulary.len() < VOCABULARY {
            let syllables = 2 + rng.below(2);
            let word = made_up(&mut rng, syllables);
            if seen.insert(word.clone()) {
                vocabulary.push(word);
            }
        }
        let mut rare = Vec::with_capacity(RARE_WORDS);
        while rare.len() < RARE_WORDS {
            let syllables = 4 + rng.below(2);
            let word = made_up(&mut rng, syllables);
            if seen.insert(word.clone()) {
                rare.push(word);
            }
        }
        // The cumulative weights of a Zipf law with exponent 1.
        let mut cumulative = Vec::with_capacity(vocabulary.len());
        let mut sum = 0.0;
        for rank in 0..vocabulary.len() {
            sum += 1.0 / (rank as f64 + 1.0);
            cumulative.push(sum);
        }
        let text = |rng: &mut Rng, paragraphs: bool| -> String {
            let (low, high) = (20_f64.ln(), 200_f64.ln());
            let words = (low + rng.unit() * (high - low)).exp() as usize;
            let mut out = String::with_capacity(words * 8);
            let rare_at = rng.percent(3).then(|| rng.below(words));
            let mut sentence = 0;
            let mut sentences = 0;
            for i in 0..words {
                let word = if rare_at == Some(i) {
                    rare[rng.below(rare.len())].as_str()
                } else {
                    let roll = rng.unit() * sum;
                    let rank = cumulative.partition_point(|c| *c < roll);
                    vocabulary[rank.min(vocabulary.len() - 1)].as_str()
                };
                // Rare words are never capitalised, so a plain substring search finds them.
                if sentence == 0 && rare_at != Some(i) {
                    let mut chars = word.chars();
                    if let Some(first) = chars.next() {
                        out.extend(first.to_uppercase());
                        out.push_str(chars.as_str());
                    }
                } else {
                    out.push_str(word);
                }
                sentence += 1;
                let end = i + 1 == words;
                if end || (sentence >= 6 && rng.percent(12)) {
                    out.push(if !paragraphs && end { '?' } else { '.' });
                    sentence = 0;
                    sentences += 1;
                    if !end {
                        // Outputs break into paragraphs (bare line feeds, as models write).
                        if paragraphs && sentences % 3 == 0 {
                            out.push_str("\n\n");
                        } else {
                            out.push(' ');
                        }
                    }
                } else if rng.percent(6) {
                    out.push_str(", ");
                } else {
                    out.push(' ');
                }
            }
            out
        };
        let prompts = (0..count).map(|_| text(&mut rng, false)).collect();
        let outputs = (0..count).map(|_| text(&mut rng, true)).collect();
        Texts {
            prompts,
            outputs,
            vocabulary,
            rare,
        }
    }

    /// Words to search for, by how many texts hold them: rare words in exactly one text (each
    /// text is used by about one row in `texts`), common words in 20–50% of the rows, and pairs
    /// of a common word and one in 3–8% of the rows.
    fn pick_words(&self) -> Words {
        let documents = |texts: &[String]| -> HashMap<String, usize> {
            let mut counts = HashMap::new();
            for text in texts {
                let words: HashSet<String> = text
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(str::to_lowercase)
                    .collect();
                for word in words {
                    *counts.entry(word).or_insert(0) += 1;
                }
            }
            counts
        };
        let in_prompts = documents(&self.prompts);
        let in_outputs = documents(&self.outputs);
        let n = self.prompts.len() as f64;
        // The share of rows holding the word (a row's prompt and output are independent).
        let share = |word: &str| -> f64 {
            let p = *in_prompts.get(word).unwrap_or(&0) as f64 / n;
            let o = *in_outputs.get(word).unwrap_or(&0) as f64 / n;
            1.0 - (1.0 - p) * (1.0 - o)
        };
        let rare: Vec<String> = self
            .rare
            .iter()
            .filter(|w| {
                in_prompts.get(w.as_str()).unwrap_or(&0) + in_outputs.get(w.as_str()).unwrap_or(&0)
                    == 1
                    // Not inside a longer rare word, so a substring search counts it exactly.
                    && !self.rare.iter().any(|other| other != *w && other.contains(w.as_str()))
            })
            .take(5)
            .cloned()
            .collect();
        assert!(!rare.is_empty(), "no rare word in the texts");
        let pick = |low: f64, high: f64, min_len: usize| -> Vec<String> {
            self.vocabulary
                .iter()
                .filter(|w| w.len() >= min_len && (low..high).contains(&share(w)))
                .take(5)
                .cloned()
                .collect()
        };
        let common = pick(0.2, 0.5, 4);
        let less_common = pick(0.03, 0.08, 4);
        assert!(
            !common.is_empty() && !less_common.is_empty(),
            "no common word"
        );
        let pairs = common
            .iter()
            .zip(less_common.iter())
            .map(|(a, b)| format!("{a} {b}"))
            .collect();
        Words {
            rare,
            common,
            pairs,
        }
    }
}
