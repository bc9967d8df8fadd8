//! Keeps database writes off the request path, and tells the engine when a write is durable.
//!
//! Generations are queued to one writer task that records them by group commit: it writes as
//! soon as it has something and is not already writing, and whatever arrives while a write is
//! in flight goes into the next one. A lone request waits for one commit; a busy server still
//! writes in batches. The engine answers a client only once the write it waits on is durable
//! ([`Durable::wait`]): committed, or at shutdown, fsynced to the spill file.
//!
//! A batch the database fails to run is retried until it can (its writers wait; the engine
//! refuses new generations meanwhile, see [`Recorder::failure`]). A batch the database
//! rejects (a constraint, a value it refuses) is recorded write by write, so that one bad row
//! cannot stall every generation behind it. The start of a generation nobody waits on (a whole
//! answer: its id is only seen with the answer) is held back a little, so that the many
//! generations that end within a few milliseconds are one row written once.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use aipasta_core::clock::now_ms;
use aipasta_store::generations::{GenerationWrite, missing_references, spill, write_batch};
use aipasta_store::{Db, DbError};

/// Writes waiting for the writer; beyond this, `record` waits.
const QUEUE_CAPACITY: usize = 8192;
/// The most writes recorded in one transaction.
const MAX_BATCH: usize = 512;
/// How long the start of a generation nobody waits on is held back: most whole answers end
/// within it, and their start and end are then one row written once. It delays only when a
/// running generation's row becomes visible, never a response.
const HOLD_START: Duration = Duration::from_millis(20);
/// The longest wait between two attempts at a failing batch: writes resume within this of the
/// database coming back (or a full disk getting space).
const MAX_RETRY_DELAY: Duration = Duration::from_millis(500);

/// The recorder could not make a write durable: the database rejected it for good, or the
/// server stopped before it could be written and it could not be spilled either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotRecorded;

impl std::fmt::Display for NotRecorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the generation could not be recorded")
    }
}

impl std::error::Error for NotRecorded {}

/// Why writes are failing, for `/api/health` and for refusing new generations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFailure {
    /// The database's error, as logged.
    pub reason: String,
    /// When the failing batch first failed (epoch milliseconds).
    pub since_ms: i64,
}

enum Message {
    Write {
        write: Box<GenerationWrite>,
        /// Told once the write is durable; `None` for a start nobody waits on.
        durable: Option<oneshot::Sender<Result<(), NotRecorded>>>,
    },
    /// Answered once everything queued before it is recorded.
    Flush(oneshot::Sender<()>),
}

/// What the writer and the handles share.
struct Shared {
    failure: Mutex<Option<WriteFailure>>,
    /// Cancelled when shutdown's time is up: what is not written by then is spilled.
    give_up: CancellationToken,
    /// Where unwritten generations go at shutdown (`None`: nowhere, they are lost).
    spill_file: Option<PathBuf>,
}

/// The handle the engine queues writes through. Cloning shares the one writer.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Message>,
    shared: Arc<Shared>,
}

/// A queued write that the caller may wait on until it is durable.
#[must_use = "a client must not be answered before its write is durable"]
pub struct Durable(Option<oneshot::Receiver<Result<(), NotRecorded>>>);

impl Durable {
    /// Waits until the write is committed (or spilled at shutdown).
    pub async fn wait(self) -> Result<(), NotRecorded> {
        match self.0 {
            Some(receiver) => receiver.await.unwrap_or(Err(NotRecorded)),
            None => Err(NotRecorded),
        }
    }
}

impl Recorder {
    /// Starts the writer task on `db`. `on_written` sees every batch once it is recorded (or
    /// given up on), before its writers and anyone waiting on [`Recorder::flush`] are
    /// answered. At shutdown, what cannot be written goes to `spill_file`.
    pub fn start(
        db: Db,
        spill_file: Option<PathBuf>,
        on_written: impl Fn(&[GenerationWrite]) + Send + Sync + 'static,
    ) -> Recorder {
        let (queue, inbox) = mpsc::channel(QUEUE_CAPACITY);
        let shared = Arc::new(Shared {
            failure: Mutex::new(None),
            give_up: CancellationToken::new(),
            spill_file,
        });
        let writer = Writer {
            db,
            shared: shared.clone(),
            on_written: Box::new(on_written),
        };
        tokio::spawn(writer.run(inbox));
        Recorder { queue, shared }
    }

    /// Queues a write; the answer says when it is durable. Waits only when the queue is full.
    pub async fn record(&self, write: GenerationWrite) -> Durable {
        let (durable, receiver) = oneshot::channel();
        let message = Message::Write {
            write: Box::new(write),
            durable: Some(durable),
        };
        if self.queue.send(message).await.is_err() {
            tracing::error!("the generation writer has stopped; a generation was not recorded");
            return Durable(None);
        }
        Durable(Some(receiver))
    }

    /// Queues the start of a generation nobody waits on: it may be held back until the
    /// generation ends (then only its end is written) for up to [`HOLD_START`].
    pub async fn record_start_quietly(&self, write: GenerationWrite) {
        let message = Message::Write {
            write: Box::new(write),
            durable: None,
        };
        if self.queue.send(message).await.is_err() {
            tracing::error!("the generation writer has stopped; a generation was not recorded");
        }
    }

    /// Waits until everything queued so far is recorded (tests, shutdown, and reads that
    /// must see a running generation's row).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Why writes are failing right now, if they are.
    pub fn failure(&self) -> Option<WriteFailure> {
        self.shared
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Writes everything queued, trying until `deadline`; whatever is still unwritten then is
    /// appended to the spill file (fsynced), which the next start replays.
    pub async fn close(&self, deadline: Instant) {
        let give_up = self.shared.give_up.clone();
        // Not cancelled when the flush ends early: a write queued after it must not wait on
        // a database that is down beyond the deadline either.
        tokio::spawn(async move {
            tokio::time::sleep_until(deadline).await;
            give_up.cancel();
        });
        self.flush().await;
    }
}

/// Whether a batch got into the database.
enum Written {
    Yes,
    /// The database rejected it: the same writes would be rejected again.
    Rejected(DbError),
    /// Shutdown's time ran out while the database could not be written.
    GaveUp,
}

/// Called with every batch once it is recorded (or given up on).
type OnWritten = Box<dyn Fn(&[GenerationWrite]) + Send + Sync>;

struct Writer {
    db: Db,
    shared: Arc<Shared>,
    on_written: OnWritten,
}

/// The writes of one batch and who waits on them.
#[derive(Default)]
struct Batch {
    writes: Vec<GenerationWrite>,
    /// `(index into writes, sender)`.
    durable: Vec<(usize, oneshot::Sender<Result<(), NotRecorded>>)>,
    flushes: Vec<oneshot::Sender<()>>,
}

impl Writer {
    async fn run(self, mut inbox: mpsc::Receiver<Message>) {
        let mut batch = Batch::default();
        // Starts nobody waits on, held back until they are due, oldest first.
        let mut held: Vec<(Instant, GenerationWrite)> = Vec::new();
        let mut open = true;
        loop {
            if open {
                // Idle: wait for a write, a flush, or the oldest held start falling due.
                let next = match held.first() {
                    Some((due, _)) => tokio::time::timeout_at(*due, inbox.recv()).await.ok(),
                    None => Some(inbox.recv().await),
                };
                match next {
                    Some(Some(message)) => take(message, &mut batch, &mut held),
                    Some(None) => open = false,
                    None => {}
                }
            }
            // Everything that arrived while the last batch was written goes into this one.
            while open && batch.writes.len() < MAX_BATCH {
                match inbox.try_recv() {
                    Ok(message) => take(message, &mut batch, &mut held),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => open = false,
                }
            }
            // Held starts go when due, and all of them for a flush or the last batch.
            let now = Instant::now();
            let release_all = !open || !batch.flushes.is_empty();
            let due = if release_all {
                held.len()
            } else {
                held.partition_point(|(due, _)| *due <= now)
            };
            let mut writes: Vec<GenerationWrite> =
                held.drain(..due).map(|(_, write)| write).collect();
            let offset = writes.len();
            writes.append(&mut batch.writes);
            let durable = batch
                .durable
                .drain(..)
                .map(|(index, sender)| (index + offset, sender))
                .collect::<Vec<_>>();
            let results = if writes.is_empty() {
                Vec::new()
            } else {
                self.record(&writes).await
            };
            if !writes.is_empty() {
                (self.on_written)(&writes);
            }
            for (index, sender) in durable {
                let result = results.get(index).copied().unwrap_or(Err(NotRecorded));
                let _ = sender.send(result);
            }
            for done in batch.flushes.drain(..) {
                let _ = done.send(());
            }
            if !open && held.is_empty() {
                return;
            }
        }
    }

    /// Records `writes` and answers, for each, whether it is durable.
    async fn record(&self, writes: &[GenerationWrite]) -> Vec<Result<(), NotRecorded>> {
        match self.write_with_retries(writes).await {
            Written::Yes => vec![Ok(()); writes.len()],
            Written::GaveUp => {
                let spilled = self.spill(writes).await;
                vec![spilled; writes.len()]
            }
            Written::Rejected(rejection) => {
                tracing::warn!(
                    error = %rejection,
                    writes = writes.len(),
                    "the database rejected a batch of generations; recording them one by one"
                );
                let mut results = Vec::with_capacity(writes.len());
                for write in writes {
                    results.push(self.record_alone(write).await);
                }
                results
            }
        }
    }

    /// Records one write. The database rejects a row that names an account or a model deleted
    /// while its generation ran. A deleted account took its generations with it
    /// (`delete_account`), so the write is dropped; a deleted model leaves its generations
    /// without one (`ON DELETE SET NULL`), so the row is written that way. A write still
    /// rejected is logged and counted (`aipasta_generation_writes_rejected_total`), and left
    /// out.
    async fn record_alone(&self, write: &GenerationWrite) -> Result<(), NotRecorded> {
        let mut rejection = match self.write_with_retries(std::slice::from_ref(write)).await {
            Written::Yes => return Ok(()),
            Written::GaveUp => return self.spill(std::slice::from_ref(write)).await,
            Written::Rejected(rejection) => rejection,
        };
        if rejection.is_foreign_key_violation() {
            match missing_references(&self.db, &write.row).await {
                Ok(missing) if missing.account => {
                    tracing::info!(
                        generation = %write.row.id,
                        "the generation's account was deleted while it ran; it is not recorded"
                    );
                    return Err(NotRecorded);
                }
                Ok(missing) if missing.model => {
                    let mut orphan = write.clone();
                    orphan.row.model_id = None;
                    match self.write_with_retries(std::slice::from_ref(&orphan)).await {
                        Written::Yes => return Ok(()),
                        Written::GaveUp => return self.spill(std::slice::from_ref(&orphan)).await,
                        Written::Rejected(again) => rejection = again,
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "could not look up a generation's references");
                }
            }
        }
        metrics::counter!("aipasta_generation_writes_rejected_total").increment(1);
        tracing::error!(
            generation = %write.row.id,
            status = %write.row.status,
            error = %rejection,
            "the database rejected a generation's row; it is not recorded"
        );
        Err(NotRecorded)
    }

    /// Writes `writes`, waiting out a database that fails to run them (down, unreachable, a
    /// full disk) until it can or shutdown's time runs out. While it fails, [`Shared::failure`]
    /// says why.
    async fn write_with_retries(&self, writes: &[GenerationWrite]) -> Written {
        let mut delay = Duration::from_millis(25);
        let mut attempt = 1_u32;
        loop {
            // Once shutdown's time is up nothing waits on the database any more. A write cut
            // short here may still have committed: replaying the spill skips what is stored.
            let outcome = tokio::select! {
                biased;
                () = self.shared.give_up.cancelled() => return Written::GaveUp,
                result = write_batch(&self.db, writes) => result,
            };
            match outcome {
                Ok(()) => {
                    metrics::counter!("aipasta_generation_writes_total")
                        .increment(writes.len() as u64);
                    self.set_failure(None);
                    return Written::Yes;
                }
                Err(error) if error.is_rejection() => {
                    self.set_failure(None);
                    return Written::Rejected(error);
                }
                Err(error) => {
                    tracing::error!(
                        %error,
                        attempt,
                        writes = writes.len(),
                        "could not record generations; retrying"
                    );
                    self.set_failure(Some(error.to_string()));
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = self.shared.give_up.cancelled() => return Written::GaveUp,
                    }
                    delay = (delay * 2).min(MAX_RETRY_DELAY);
                    attempt += 1;
                }
            }
        }
    }

    fn set_failure(&self, reason: Option<String>) {
        let mut failure = self
            .shared
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match reason {
            None => *failure = None,
            Some(reason) => {
                let since_ms = failure.as_ref().map_or_else(now_ms, |f| f.since_ms);
                *failure = Some(WriteFailure { reason, since_ms });
            }
        }
    }

    /// Appends `writes` to the spill file, off the async threads; durable once fsynced.
    async fn spill(&self, writes: &[GenerationWrite]) -> Result<(), NotRecorded> {
        let Some(file) = self.shared.spill_file.clone() else {
            tracing::error!(
                writes = writes.len(),
                "shutdown: generations could not be written and there is no spill file; they are lost"
            );
            return Err(NotRecorded);
        };
        let writes = writes.to_vec();
        let count = writes.len();
        let spilled =
            tokio::task::spawn_blocking(move || spill::append(&file, &writes).map(|()| file)).await;
        match spilled {
            Ok(Ok(file)) => {
                tracing::warn!(
                    writes = count,
                    file = %file.display(),
                    "shutdown: the database could not be written in time; generations were saved to the spill file, which the next start replays"
                );
                Ok(())
            }
            Ok(Err(error)) => {
                tracing::error!(%error, writes = count, "shutdown: could not write the spill file; generations are lost");
                Err(NotRecorded)
            }
            Err(error) => {
                tracing::error!(%error, "shutdown: the spill task failed; generations are lost");
                Err(NotRecorded)
            }
        }
    }
}

/// Sorts a message into the batch: an end takes its held start out (the end's row replaces
/// it); a start nobody waits on is held back; a flush is answered after this batch.
fn take(message: Message, batch: &mut Batch, held: &mut Vec<(Instant, GenerationWrite)>) {
    match message {
        Message::Write { write, durable } => {
            if write.finished.is_some() {
                held.retain(|(_, start)| start.row.id != write.row.id);
            } else if durable.is_none() {
                held.push((Instant::now() + HOLD_START, *write));
                return;
            }
            if let Some(sender) = durable {
                batch.durable.push((batch.writes.len(), sender));
            }
            batch.writes.push(*write);
        }
        Message::Flush(done) => batch.flushes.push(done),
    }
}

#[cfg(test)]
mod tests {
    use aipasta_store::generations::{Finished, GenerationRow};

    use super::*;

    fn write(id: &str, ended: bool) -> GenerationWrite {
        GenerationWrite {
            row: GenerationRow {
                id: id.to_owned(),
                status: if ended { "success" } else { "pending" }.into(),
                ..GenerationRow::default()
            },
            finished: ended.then(Finished::default),
        }
    }

    fn message(id: &str, ended: bool, waited_on: bool) -> Message {
        Message::Write {
            write: Box::new(write(id, ended)),
            durable: waited_on.then(|| oneshot::channel().0),
        }
    }

    fn ids(writes: &[GenerationWrite]) -> Vec<(&str, bool)> {
        writes
            .iter()
            .map(|w| (w.row.id.as_str(), w.finished.is_some()))
            .collect()
    }

    #[test]
    fn quiet_starts_are_held_and_dropped_by_their_end() {
        let mut batch = Batch::default();
        let mut held = Vec::new();
        take(message("whole", false, false), &mut batch, &mut held);
        take(message("stream", false, true), &mut batch, &mut held);
        take(message("slow", false, false), &mut batch, &mut held);
        assert_eq!(ids(&batch.writes), [("stream", false)]);
        assert_eq!(held.len(), 2, "both quiet starts are held");
        take(message("whole", true, true), &mut batch, &mut held);
        assert_eq!(ids(&batch.writes), [("stream", false), ("whole", true)]);
        let still_held: Vec<&str> = held.iter().map(|(_, w)| w.row.id.as_str()).collect();
        assert_eq!(still_held, ["slow"], "the ended generation's start is gone");
        assert_eq!(
            batch.durable.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [0, 1],
            "each waiter points at its own write"
        );
    }
}
