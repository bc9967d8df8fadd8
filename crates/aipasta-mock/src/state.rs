//! The mocks' mutable state (what to serve, scripted faults, recorded requests), shared by the
//! routes and the test's handle ([`crate::MockServer`], [`crate::MockOAuth`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::response::Response;
use tokio::sync::watch;

use crate::fault::{self, ErrorShape, Fault};
use crate::record::RecordedRequest;

/// One server's state: `T` is what that server serves (catalog bodies, OAuth clients and users);
/// faults and request records are common to every mock.
pub(crate) struct Shared<T> {
    inner: Mutex<Inner<T>>,
    /// Turns `true` when the server is dropped; stalls end early on it.
    shutdown: watch::Receiver<bool>,
}

pub(crate) struct Inner<T> {
    /// The server's own data.
    pub(crate) data: T,
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

impl<T> Inner<T> {
    pub(crate) fn record(&mut self, request: RecordedRequest) {
        *self.request_counts.entry(request.path.clone()).or_default() += 1;
        if self.requests.len() == RECORDED_REQUESTS_KEPT {
            self.requests.pop_front();
        }
        self.requests.push_back(request);
    }
}

impl<T> Shared<T> {
    pub(crate) fn new(data: T, shutdown: watch::Receiver<bool>) -> Shared<T> {
        Shared {
            inner: Mutex::new(Inner {
                data,
                faults: HashMap::new(),
                request_counts: HashMap::new(),
                requests: VecDeque::new(),
            }),
            shutdown,
        }
    }

    /// Locks the state. Held only for a copy or an assignment, never across an `.await`; a
    /// panicking test thread cannot leave the data half-written, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Scripts (or with `None` clears) a fault on one path.
    pub(crate) fn set_fault(&self, path: &str, fault: Option<Fault>) {
        let mut inner = self.lock();
        match fault {
            Some(fault) => inner.faults.insert(path.to_owned(), fault),
            None => inner.faults.remove(path),
        };
    }

    /// A receiver that turns `true` when the server is dropped, for answers that wait.
    pub(crate) fn shutdown(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    /// How many requests arrived for this path.
    pub(crate) fn request_count(&self, path: &str) -> usize {
        self.lock().request_counts.get(path).copied().unwrap_or(0)
    }

    /// The kept requests for this path, oldest first.
    pub(crate) fn requests(&self, path: &str) -> Vec<RecordedRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|request| request.path == path)
            .cloned()
            .collect()
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
