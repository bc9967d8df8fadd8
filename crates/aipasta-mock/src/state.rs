//! The mock's mutable state (bodies to serve, scripted faults, recorded requests), shared by the
//! routes and the test's [`crate::MockServer`] handle.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::response::Response;
use tokio::sync::watch;

use crate::fault::{self, ErrorShape, Fault};
use crate::record::RecordedRequest;

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Turns `true` when the server is dropped; stalls end early on it.
    shutdown: watch::Receiver<bool>,
}

pub(crate) struct Inner {
    pub(crate) openrouter_models: Bytes,
    pub(crate) hf_hub_models: Bytes,
    pub(crate) openai_models: Bytes,
    /// Scripted faults by request path.
    pub(crate) faults: HashMap<String, Fault>,
    /// Requests per path, all of them.
    pub(crate) request_counts: HashMap<String, usize>,
    /// The most recent requests, at most [`RECORDED_REQUESTS_KEPT`], so a benchmark sending
    /// millions of requests does not grow without bound.
    pub(crate) requests: VecDeque<RecordedRequest>,
}

/// How many recent requests are kept for inspection.
pub(crate) const RECORDED_REQUESTS_KEPT: usize = 1000;

impl Inner {
    pub(crate) fn record(&mut self, request: RecordedRequest) {
        *self.request_counts.entry(request.path.clone()).or_default() += 1;
        if self.requests.len() == RECORDED_REQUESTS_KEPT {
            self.requests.pop_front();
        }
        self.requests.push_back(request);
    }
}

impl Shared {
    pub(crate) fn new(inner: Inner, shutdown: watch::Receiver<bool>) -> Shared {
        Shared {
            inner: Mutex::new(inner),
            shutdown,
        }
    }

    /// Locks the state. Held only for a copy or an assignment, never across an `.await`; a
    /// panicking test thread cannot leave the data half-written, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Plays the fault scripted for `path`, if any. `Some` is the answer to send instead of the
    /// normal one; `None` means answer normally (no fault, or a stall that has ended).
    pub(crate) async fn play_fault(&self, path: &str, shape: ErrorShape) -> Option<Response> {
        let scripted = self.lock().faults.get(path).cloned();
        match scripted? {
            Fault::Status(status) => Some(fault::error_response(shape, status)),
            Fault::MalformedJson => Some(fault::malformed_json_response()),
            Fault::Raw {
                status,
                content_type,
                body,
            } => Some(fault::raw_response(status, &content_type, &body)),
            Fault::Stall(duration) => {
                self.stall(duration).await;
                None
            }
        }
    }

    async fn stall(&self, duration: Duration) {
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            _ = shutdown.wait_for(|stopping| *stopping) => {}
        }
    }
}
