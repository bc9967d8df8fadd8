//! Model syncs that run beside the server, never in its way: at start-up ([`sync_at_start`]:
//! every OpenAI-compatible endpoint, and the built-ins that have a key) and when an admin adds
//! an endpoint ([`start`]).
//!
//! A sync that fails is tried again after [`RetryBackoff::first`] (5 s), then after twice as
//! long each time up to [`RetryBackoff::longest`] (10 minutes), each wait drawn within ±20% so
//! that instances started together do not knock in step; it stops when a sync succeeds, when
//! only an admin can mend the failure (the endpoint was deleted or turned off), or when the
//! server stops. Each failure is logged with its reason. Nothing here holds up start-up or a
//! request: the syncs are tasks of their own, one per provider, so a stalled provider delays
//! no other.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use aipasta_engine::sync::{ProviderReport, SyncTarget, targets_at_start};

use crate::services::sync_for_server;
use crate::state::AppState;

/// How long a failing background sync waits before it tries again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBackoff {
    /// The wait after the first failure.
    pub first: Duration,
    /// The longest wait: each failure doubles the wait until it reaches this.
    pub longest: Duration,
}

impl Default for RetryBackoff {
    fn default() -> RetryBackoff {
        RetryBackoff {
            first: Duration::from_secs(5),
            longest: Duration::from_secs(600),
        }
    }
}

impl RetryBackoff {
    fn next(&self, wait: Duration) -> Duration {
        wait.saturating_mul(2).min(self.longest)
    }
}

/// `wait`, give or take a fifth.
fn jittered(wait: Duration) -> Duration {
    wait.mul_f64(rand::random_range(0.8..1.2))
}

/// What a provider's background sync is doing.
#[derive(Debug, Clone)]
pub enum SyncState {
    /// Fetching or saving its models now.
    Running,
    /// The last try failed with `error`; the next one is at `retry_at`.
    Waiting { error: String, retry_at: Instant },
}

struct Task {
    /// Tells this task from a later one for the same provider.
    id: u64,
    abort: AbortHandle,
    state: SyncState,
}

/// The background syncs of this server: at most one per provider.
#[derive(Default)]
pub struct BackgroundSyncs {
    tasks: Mutex<HashMap<String, Task>>,
    next_id: AtomicU64,
    /// Set when the server stops: no sync starts after it.
    stopped: AtomicBool,
}

impl BackgroundSyncs {
    /// What `provider`'s background sync is doing; `None` when none runs.
    pub fn state(&self, provider: &str) -> Option<SyncState> {
        self.lock().get(provider).map(|task| task.state.clone())
    }

    /// Ends `provider`'s background sync, if one runs (its endpoint is gone or turned off).
    pub fn stop(&self, provider: &str) {
        if let Some(task) = self.lock().remove(provider) {
            task.abort.abort();
        }
    }

    /// Ends every background sync, and starts none after this: the server is stopping. A sync
    /// stopped while it saves leaves the catalog as it was (its transaction is rolled back).
    pub fn stop_all(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        for (_, task) in self.lock().drain() {
            task.abort.abort();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Task>> {
        // A panic elsewhere while holding the lock leaves the map as consistent as ever.
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_state(&self, provider: &str, id: u64, state: SyncState) {
        if let Some(task) = self.lock().get_mut(provider).filter(|t| t.id == id) {
            task.state = state;
        }
    }

    fn finish(&self, provider: &str, id: u64) {
        let mut tasks = self.lock();
        if tasks.get(provider).is_some_and(|t| t.id == id) {
            tasks.remove(provider);
        }
    }
}

/// Starts syncing, in the background, what [`targets_at_start`] names. Returns at once.
pub fn sync_at_start(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        for target in targets_at_start(&state.db, &state.config.sync).await {
            tracing::info!(
                provider = target.name(),
                "syncing the provider's models in the background"
            );
            drop(start(&state, target));
        }
    });
}

/// Syncs `target` (one provider, not [`SyncTarget::All`]) in the background, trying again
/// after failures as the module says; a background sync already running for the same provider
/// is replaced, so the new one tries at once. The receiver gets the first try's report (or
/// nothing, if the sync is replaced or stopped first).
pub fn start(state: &AppState, target: SyncTarget) -> oneshot::Receiver<ProviderReport> {
    let (first_report, receiver) = oneshot::channel();
    let syncs = &state.background_syncs;
    if syncs.stopped.load(Ordering::SeqCst) {
        return receiver;
    }
    let id = syncs.next_id.fetch_add(1, Ordering::Relaxed);
    let provider = target.name().to_owned();
    // Held while spawning, so the task cannot finish before its entry is in the map.
    let mut tasks = syncs.lock();
    let task = tokio::spawn(sync_until_done(state.clone(), target, id, first_report));
    let replaced = tasks.insert(
        provider,
        Task {
            id,
            abort: task.abort_handle(),
            state: SyncState::Running,
        },
    );
    if let Some(replaced) = replaced {
        replaced.abort.abort();
    }
    receiver
}

async fn sync_until_done(
    state: AppState,
    target: SyncTarget,
    id: u64,
    first_report: oneshot::Sender<ProviderReport>,
) {
    let provider = target.name().to_owned();
    let backoff = state.config.sync_retry;
    let mut wait = backoff.first;
    let mut first_report = Some(first_report);
    loop {
        let Some(report) = sync_for_server(&state, target.clone()).await.pop() else {
            break;
        };
        if let Some(sender) = first_report.take() {
            // Nobody may be waiting any more; the sync goes on regardless.
            let _ = sender.send(report.clone());
        }
        let error = match report.result {
            Ok(_) => break,
            Err(_) if !report.retryable => {
                tracing::warn!(
                    provider,
                    "the model sync is not tried again: an admin must act first"
                );
                break;
            }
            Err(error) => error,
        };
        let pause = jittered(wait);
        tracing::info!(
            provider,
            retry_in_seconds = pause.as_secs(),
            "the model sync will be tried again"
        );
        state.background_syncs.set_state(
            &provider,
            id,
            SyncState::Waiting {
                error,
                retry_at: Instant::now() + pause,
            },
        );
        tokio::time::sleep(pause).await;
        state
            .background_syncs
            .set_state(&provider, id, SyncState::Running);
        wait = backoff.next(wait);
    }
    state.background_syncs.finish(&provider, id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_5_seconds_to_10_minutes() {
        let backoff = RetryBackoff::default();
        let mut wait = backoff.first;
        let mut waits = vec![wait.as_secs()];
        for _ in 0..10 {
            wait = backoff.next(wait);
            waits.push(wait.as_secs());
        }
        assert_eq!(
            waits,
            [5, 10, 20, 40, 80, 160, 320, 600, 600, 600, 600],
            "{waits:?}"
        );
    }

    #[test]
    fn jitter_stays_within_a_fifth() {
        let wait = Duration::from_secs(10);
        let drawn: Vec<Duration> = (0..200).map(|_| jittered(wait)).collect();
        assert!(
            drawn
                .iter()
                .all(|d| *d >= Duration::from_secs(8) && *d < Duration::from_secs(12))
        );
        assert!(
            drawn.iter().any(|d| *d != drawn[0]),
            "the waits are spread, not all the same"
        );
    }
}
