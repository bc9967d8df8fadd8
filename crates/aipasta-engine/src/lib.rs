//! The generation engine: every call to a model, from the playground, the API or `/v1`, runs
//! here as a server-side task that owns the upstream request, broadcasts its deltas to
//! whoever is attached ([`Live`]), and records the generation ([`Recorder`]). A client that
//! disconnects does not stop it; a client that reattaches gets the text so far, then the rest.
//!
//! Invariants:
//! - every generation gets a row: `pending` when it starts, its final status when it ends;
//! - a client is answered only from durable rows: a stream's id once its starting row is
//!   committed, any answer once its final row is (see [`Recorder`]);
//! - retries happen only before the first token; after it, a failure ends the generation
//!   with what was produced kept;
//! - no database query on the hot path other than the recorder's batched writes.

pub mod cost;
mod error;
mod live;
mod models;
pub mod prepare;
mod read;
mod recorder;
mod run;
mod start;
pub mod sync;
pub mod upstreams;
mod usage;
pub mod workers;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use aipasta_core::clock::now_ms;
use aipasta_core::id::new_id;
use aipasta_core::secret_box::SecretBox;
use aipasta_providers::generate::{GenerationRequest, Timeouts, Upstream};
use aipasta_providers::net::{UrlPolicy, guarded_client};
use aipasta_store::catalog::ModelRow;
use aipasta_store::generations::{GenerationRow, GenerationWrite, mark_interrupted, touch_pending};
use aipasta_store::{Backend, Db};

use crate::prepare::Mode;

pub use error::{DATABASE_RETRY_AFTER_SECONDS, Field, GenerationError};
pub use live::{Image, Live, LiveEvent, Outcome, StartRecord, Subscription};
pub use models::ModelCache;
pub use recorder::{NotRecorded, Recorder, WriteFailure};
pub use start::GenerateCommand;
pub use upstreams::{EnvEndpoint, Network, ProviderDirectory, ProviderSettings};
pub use usage::{Allowance, UsageMeter, first_day_of_month};
pub use workers::{Stop, Supervisor};

/// How the engine retries and how long it waits.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub providers: ProviderSettings,
    pub timeouts: Timeouts,
    /// Attempts per model before the first token (1 = no retry).
    pub max_attempts: u32,
    /// The first backoff; it doubles each attempt.
    pub base_backoff: Duration,
    /// The longest single wait before a retry (`Retry-After` or a loading model's
    /// `estimated_time` beyond it means: give up on this model, try the next).
    pub max_retry_wait: Duration,
    /// How long a shutdown may take in all: running generations get up to half of it (at most
    /// 10 s), writing what they produced gets the rest.
    pub shutdown_timeout: Duration,
    /// Where generations that cannot be written before shutdown's time runs out are kept
    /// (JSON lines, replayed at the next start); `None` loses them.
    pub spill_file: Option<PathBuf>,
}

impl Default for EngineSettings {
    fn default() -> EngineSettings {
        EngineSettings {
            providers: ProviderSettings::default(),
            timeouts: Timeouts::default(),
            max_attempts: 3,
            base_backoff: Duration::from_millis(250),
            max_retry_wait: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(20),
            spill_file: None,
        }
    }
}

/// What changed, for [`Engine::changed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Models were synced, edited or deprecated.
    Catalog,
    /// Provider endpoints or keys: an admin's, or an account's own.
    Providers,
    /// The platform's default monthly token limit.
    Limits,
}

/// Where a generation came from (`generations.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Playground,
    Api,
    V1,
    Compare,
    Batch,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Source::Playground,
        Source::Api,
        Source::V1,
        Source::Compare,
        Source::Batch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Playground => "playground",
            Source::Api => "api",
            Source::V1 => "v1",
            Source::Compare => "compare",
            Source::Batch => "batch",
        }
    }

    pub fn parse(text: &str) -> Option<Source> {
        Source::ALL
            .into_iter()
            .find(|source| source.as_str() == text)
    }
}

/// One model to try, with its endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub model: Arc<ModelRow>,
    pub upstream: Upstream,
    pub network: Network,
}

/// Everything a generation needs, already checked.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub user_id: String,
    /// The model asked for first, then its fallbacks in order.
    pub candidates: Vec<Candidate>,
    pub request: GenerationRequest,
    /// Stream from the upstream (and broadcast deltas), or ask for the whole answer at once.
    pub stream: bool,
    pub source: Source,
    pub mode: Mode,
    pub session_id: Option<String>,
    /// As the client gave them, for the record.
    pub system_prompt: Option<String>,
    pub parameters_json: String,
    /// `request.messages` as recorded, encoded once for the pending and the final row.
    pub messages_json: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// How often running generations refresh their rows, and how stale a pending row must be
/// before a sweep (on a shared database) takes it for an orphan.
const HEARTBEAT: Duration = Duration::from_secs(30);
/// The longest running generations may go on after a shutdown signal.
const GENERATION_GRACE: Duration = Duration::from_secs(10);
const ORPHANED_AFTER: Duration = Duration::from_secs(120);

pub struct Engine {
    db: Db,
    pub settings: EngineSettings,
    /// Endpoints and keys for each model.
    pub directory: ProviderDirectory,
    /// For URLs the operator set.
    http: reqwest::Client,
    /// For URLs an admin entered (SSRF guard).
    guarded_http: reqwest::Client,
    recorder: Recorder,
    pub usage: UsageMeter,
    /// Model rows for generations, reused for a few seconds.
    pub models: ModelCache,
    /// The engine's background tasks, and the server's beside them.
    pub workers: Supervisor,
    /// Generations by id, from their start until their final row is written: the recorder
    /// takes them out then, so reads and reattaches find either this or the finished row.
    running: Running,
    shutting_down: AtomicBool,
    /// Set once the shutdown has run: a second call waits for the first.
    stopped: tokio::sync::OnceCell<()>,
}

impl Engine {
    /// Starts the engine's writer and its heartbeat. `keys` opens the provider keys admins
    /// and users stored.
    pub fn launch(
        db: Db,
        http: reqwest::Client,
        settings: EngineSettings,
        keys: SecretBox,
    ) -> Arc<Engine> {
        let guarded_http = guarded_client(UrlPolicy {
            allow_private: false,
        })
        .unwrap_or_else(|error| {
            // Only a TLS backend that cannot start fails here, and then no client works; never
            // fall back to an unguarded one.
            tracing::error!(%error, "could not build the guarded HTTP client");
            reqwest::Client::new()
        });
        let running = Running::default();
        let forget = running.clone();
        let workers = Supervisor::default();
        let engine = Arc::new(Engine {
            recorder: Recorder::start(
                db.clone(),
                settings.spill_file.clone(),
                move |written| forget.written(written),
                &workers,
            ),
            db,
            directory: ProviderDirectory::new(settings.providers.clone(), keys),
            settings,
            http,
            guarded_http,
            usage: UsageMeter::default(),
            models: ModelCache::default(),
            workers,
            running,
            shutting_down: AtomicBool::new(false),
            stopped: tokio::sync::OnceCell::new(),
        });
        engine.workers.spawn(
            "generation heartbeat",
            Stop::WithServer,
            heartbeat(Arc::downgrade(&engine)),
        );
        engine
    }

    fn running(&self) -> MutexGuard<'_, HashMap<String, Arc<Live>>> {
        self.running.lock()
    }

    /// Runs a checked plan; it runs whether or not anyone stays attached. A streamed
    /// generation's id is shown to its client at once, so its starting row is committed
    /// before anything of it is shown ([`Live::start_recorded`]; the upstream call is under
    /// way meanwhile); a whole answer's start is recorded quietly, since its id is seen only
    /// with the answer, which waits for the final row.
    async fn run_plan(self: &Arc<Self>, plan: Plan) -> Arc<Live> {
        let created_at = now_ms();
        let model = plan.candidates.first().map(|c| c.model.clone());
        let live = Arc::new(Live::new(
            new_id(),
            plan.user_id.clone(),
            model.as_ref().map(|m| m.slug.clone()).unwrap_or_default(),
            created_at,
        ));
        self.running().insert(live.id.clone(), live.clone());
        let start = GenerationWrite {
            row: pending_row(&live, &plan, created_at),
            finished: None,
        };
        if plan.stream {
            let durable = self.recorder.record(start).await;
            let started = live.clone();
            tokio::spawn(async move {
                if durable.wait().await.is_ok() {
                    started.set_start(StartRecord::Durable);
                } else {
                    started.cancel();
                    started.set_start(StartRecord::Failed);
                }
            });
        } else {
            self.recorder.record_start_quietly(start).await;
            live.set_start(StartRecord::Durable);
        }
        tokio::spawn(run::run(self.clone(), live.clone(), plan));
        live
    }

    /// A generation still in memory: running, or finished with its final row not yet written.
    pub fn live(&self, id: &str) -> Option<Arc<Live>> {
        self.running().get(id).cloned()
    }

    /// Waits until every recorded generation is in the database (tests, and tools that read
    /// the table directly; a read of one generation waits for that one, see [`Engine::generation`]).
    pub async fn flush(&self) {
        self.recorder.flush().await;
    }

    /// Tells the engine something it caches changed on this instance, so it is read again
    /// at once (other instances see it when their entries expire, within seconds).
    pub fn changed(&self, change: Change) {
        match change {
            Change::Catalog => self.models.clear(),
            Change::Providers => self.directory.forget(),
            Change::Limits => self.usage.forget(),
        }
    }

    /// At start-up: rows a previous process left `pending` become `interrupted`. On SQLite
    /// (one process per file) that is every pending row; on PostgreSQL, other instances may be
    /// running theirs, so only rows without a recent heartbeat.
    pub async fn recover(db: &Db) -> Result<u64, aipasta_store::DbError> {
        let stale_before = match db.backend() {
            Backend::Sqlite => None,
            Backend::Postgres => Some(now_ms() - millis(ORPHANED_AFTER)),
        };
        mark_interrupted(db, stale_before).await
    }

    /// Why generations cannot be recorded right now, if they cannot: new ones are refused
    /// meanwhile rather than answered and held.
    pub fn write_failure(&self) -> Option<WriteFailure> {
        self.recorder.failure()
    }

    /// Stops taking part, by `deadline`: generations still running halfway there are ended
    /// as `interrupted` (their partial text kept), then everything is written; what the
    /// database has not taken by the deadline goes to the spill file. A second call waits for
    /// the first.
    pub async fn shutdown(&self, deadline: tokio::time::Instant) {
        self.stopped
            .get_or_init(|| async {
                let now = tokio::time::Instant::now();
                let grace = deadline.saturating_duration_since(now) / 2;
                let cutoff = now + grace.min(GENERATION_GRACE);
                while tokio::time::Instant::now() < cutoff && self.unfinished() > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                self.shutting_down.store(true, Ordering::SeqCst);
                let remaining: Vec<Arc<Live>> = self.running().values().cloned().collect();
                for live in &remaining {
                    live.cancel();
                }
                // Their final rows are queued as they end; the close below writes them.
                for live in remaining {
                    let _ = tokio::time::timeout_at(cutoff + Duration::from_secs(2), live.ended())
                        .await;
                }
                self.recorder.close(deadline).await;
            })
            .await;
    }

    fn unfinished(&self) -> usize {
        self.running()
            .values()
            .filter(|live| live.outcome().is_none())
            .count()
    }

    /// The client a candidate's calls go through.
    fn client_for(&self, network: Network) -> &reqwest::Client {
        match network {
            Network::Trusted => &self.http,
            Network::Guarded => &self.guarded_http,
        }
    }

    fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The generations in memory, shared by the engine and the recorder's writer.
#[derive(Clone, Default)]
struct Running(Arc<Mutex<HashMap<String, Arc<Live>>>>);

impl Running {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Live>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Called by the writer right after each batch: tells each generation its row is in the
    /// database, and drops those whose final rows `written` holds (from now on they are read
    /// from the database). Done a few at a time, while their memory is still warm (a sweep
    /// once a second of everything finished 5 s before stalled requests for up to 27 ms at
    /// 1,000 generations a second). They are freed after the lock is released, so starting a
    /// generation never waits on the frees.
    fn written(&self, written: &[GenerationWrite]) {
        let removed: Vec<Arc<Live>> = {
            let mut running = self.lock();
            written
                .iter()
                .filter_map(|write| {
                    if write.finished.is_some() {
                        running.remove(&write.row.id)
                    } else {
                        running.get(&write.row.id).cloned()
                    }
                })
                .collect()
        };
        for live in &removed {
            live.mark_row_written();
        }
        drop(removed);
    }
}

/// Keeps running generations' rows fresh, and ends rows orphaned by another instance.
async fn heartbeat(engine: std::sync::Weak<Engine>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        let ids: Vec<String> = engine
            .running()
            .values()
            .filter(|live| live.outcome().is_none())
            .map(|live| live.id.clone())
            .collect();
        if let Err(error) = touch_pending(&engine.db, &ids).await {
            tracing::warn!(%error, "could not refresh running generations");
        }
        if engine.db.backend() == Backend::Postgres
            && let Err(error) =
                mark_interrupted(&engine.db, Some(now_ms() - millis(ORPHANED_AFTER))).await
        {
            tracing::warn!(%error, "could not sweep orphaned generations");
        }
    }
}

/// The row written when a generation starts.
fn pending_row(live: &Live, plan: &Plan, created_at: i64) -> GenerationRow {
    let first = plan.candidates.first();
    GenerationRow {
        id: live.id.clone(),
        user_id: Some(plan.user_id.clone()),
        model_id: first.map(|c| c.model.id.clone()),
        session_id: plan.session_id.clone(),
        source: plan.source.as_str().to_owned(),
        mode: plan.mode.as_str().to_owned(),
        prompt: plan.request.prompt.clone(),
        system_prompt: plan.system_prompt.clone(),
        messages: plan.messages_json.clone(),
        parameters: plan.parameters_json.clone(),
        output_content: String::new(),
        finish_reason: None,
        prompt_tokens: 0,
        completion_tokens: 0,
        total_tokens: 0,
        duration_ms: None,
        time_to_first_token_ms: None,
        cost_nanos: 0,
        provider: first.map(|c| c.model.provider.clone()),
        model_version: None,
        provider_generation_id: None,
        ip_address: plan.ip_address.clone(),
        user_agent: plan.user_agent.clone(),
        status: "pending".into(),
        error_code: None,
        error_message: None,
        error_details: None,
        visibility: "private".into(),
        created_at,
        updated_at: created_at,
    }
}
