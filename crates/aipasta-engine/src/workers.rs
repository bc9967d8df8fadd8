//! The background work of a running server (the recorder's writer, heartbeats, session expiry,
//! periodic syncs, index warm-up), started under one supervisor: each task has a name, how it
//! ended is logged (finished, stopped, or panicked — a panic is an error, never silent), and
//! the ones that would run forever are stopped together when the server stops.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::task::AbortHandle;

/// Starts and watches named background tasks. Cloning shares the one supervisor.
#[derive(Clone, Default)]
pub struct Supervisor {
    /// Tasks that [`Supervisor::stop_all`] ends.
    stoppable: Arc<Mutex<Vec<(&'static str, AbortHandle)>>>,
}

/// Whether [`Supervisor::stop_all`] may end a task, or it must end on its own (a writer that
/// still holds generations to record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ended by `stop_all` when the server stops.
    WithServer,
    /// Ends by itself; `stop_all` leaves it alone.
    OnItsOwn,
}

impl Supervisor {
    /// Runs `task` as the worker `name`, and logs how it ends.
    pub fn spawn(
        &self,
        name: &'static str,
        stop: Stop,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        let handle = tokio::spawn(task);
        if stop == Stop::WithServer {
            let mut stoppable = self.lock();
            stoppable.retain(|(_, task)| !task.is_finished());
            stoppable.push((name, handle.abort_handle()));
        }
        tokio::spawn(async move {
            match handle.await {
                Ok(()) => tracing::debug!(worker = name, "background worker finished"),
                Err(error) if error.is_cancelled() => {
                    tracing::debug!(worker = name, "background worker stopped")
                }
                Err(error) => {
                    tracing::error!(worker = name, %error, "background worker panicked")
                }
            }
        });
    }

    /// Stops every worker started with [`Stop::WithServer`].
    pub fn stop_all(&self) {
        for (_, task) in self.lock().drain(..) {
            task.abort();
        }
    }

    /// The names of the stoppable workers still running (for tests and diagnostics).
    pub fn running(&self) -> Vec<&'static str> {
        self.lock()
            .iter()
            .filter(|(_, task)| !task.is_finished())
            .map(|(name, _)| *name)
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(&'static str, AbortHandle)>> {
        self.stoppable
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn stop_all_ends_only_the_workers_that_stop_with_the_server() {
        let workers = Supervisor::default();
        let (finished_tx, finished_rx) = tokio::sync::oneshot::channel();
        workers.spawn("forever", Stop::WithServer, std::future::pending());
        workers.spawn("writer", Stop::OnItsOwn, async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = finished_tx.send(());
        });
        assert_eq!(workers.running(), ["forever"]);
        workers.stop_all();
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(workers.running().is_empty());
        // The writer was left to finish its work.
        tokio::time::timeout(Duration::from_secs(2), finished_rx)
            .await
            .expect("the writer finished")
            .expect("and said so");
    }

    #[tokio::test]
    async fn a_panicking_worker_does_not_take_the_supervisor_down() {
        let workers = Supervisor::default();
        workers.spawn("broken", Stop::WithServer, async { panic!("a bug") });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(workers.running().is_empty());
        workers.spawn("next", Stop::WithServer, std::future::pending());
        assert_eq!(workers.running(), ["next"]);
        workers.stop_all();
    }
}
