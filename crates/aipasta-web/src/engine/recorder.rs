//! Keeps database writes off the request path: generations are queued to one writer task that
//! records them in batches. A batch the database fails to run is retried until it can, never
//! dropped; the queue is bounded, so a database that cannot keep up slows new generations down
//! instead of losing old ones. A batch the database rejects (a constraint, a value it refuses)
//! is recorded write by write, so that one bad row cannot stall every generation behind it.
//! A generation's start waits one batch longer than its end, so that the many generations that
//! end within a few milliseconds are one row written once (see [`hold_back_starts`]).

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use aipasta_store::generations::{GenerationWrite, missing_references, write_batch};
use aipasta_store::{Db, DbError};

/// Writes waiting for the writer; beyond this, `record` waits.
const QUEUE_CAPACITY: usize = 8192;
/// The most writes recorded in one transaction.
const MAX_BATCH: usize = 512;
/// How long the writer gathers writes for one batch. It delays only when a row becomes visible
/// (and [`Recorder::flush`] cuts it short), never a response; each batch
/// costs a transaction and a statement per counter, so a longer wait means fewer of them (at
/// 2 ms, batches cost as much CPU as a third of the requests' own work at 1,000 req/s).
const GATHER: Duration = Duration::from_millis(10);
/// The longest wait between two attempts at a failing batch.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

enum Message {
    Write(Box<GenerationWrite>),
    /// Answered once everything queued before it is recorded.
    Flush(oneshot::Sender<()>),
}

/// The handle the engine queues writes through. Cloning shares the one writer.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Message>,
}

impl Recorder {
    /// Starts the writer task on `db`. `on_written` sees every batch once it is in the
    /// database, before anyone waiting on [`Recorder::flush`] is answered.
    pub fn start(db: Db, on_written: impl Fn(&[GenerationWrite]) + Send + 'static) -> Recorder {
        let (queue, inbox) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run_writer(db, inbox, on_written));
        Recorder { queue }
    }

    /// Queues a write. Waits only when the queue is full.
    pub async fn record(&self, write: GenerationWrite) {
        if self
            .queue
            .send(Message::Write(Box::new(write)))
            .await
            .is_err()
        {
            tracing::error!("the generation writer has stopped; a generation was not recorded");
        }
    }

    /// Waits until everything queued so far is in the database (tests, shutdown, and reads
    /// that must see a just-finished generation).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run_writer(
    db: Db,
    mut inbox: mpsc::Receiver<Message>,
    on_written: impl Fn(&[GenerationWrite]),
) {
    // Writes to record, the held-back starts of the previous round first.
    let mut batch: Vec<GenerationWrite> = Vec::with_capacity(MAX_BATCH);
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    let mut open = true;
    loop {
        let held_over = batch.len();
        if held_over == 0 {
            match inbox.recv().await {
                Some(first) => take(first, &mut batch, &mut waiting),
                None => return,
            }
        }
        let deadline = tokio::time::Instant::now() + GATHER;
        while open && batch.len() < MAX_BATCH && waiting.is_empty() {
            match tokio::time::timeout_at(deadline, inbox.recv()).await {
                Ok(Some(message)) => take(message, &mut batch, &mut waiting),
                Ok(None) => open = false,
                Err(_) => break,
            }
        }
        while batch.len() < MAX_BATCH {
            match inbox.try_recv() {
                Ok(message) => take(message, &mut batch, &mut waiting),
                Err(_) => break,
            }
        }
        // Nothing is held back from a flush or from the last batch.
        let held = if open && waiting.is_empty() {
            hold_back_starts(&mut batch, held_over)
        } else {
            Vec::new()
        };
        if !batch.is_empty() {
            record_batch(&db, &batch).await;
            on_written(&batch);
        }
        batch.clear();
        batch.extend(held);
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
        if !open && batch.is_empty() {
            return;
        }
    }
}

/// Takes out of `batch` the starts (`pending` rows) gathered this round, `batch[fresh..]`,
/// whose generation has not ended within it, to be recorded with the next batch: most
/// generations end within a round or two, and their start and end are then one row written
/// once rather than twice. A start is held back only once, so a running generation's row is
/// in the database at most two rounds after it began. Both parts keep their order.
fn hold_back_starts(batch: &mut Vec<GenerationWrite>, fresh: usize) -> Vec<GenerationWrite> {
    let ended: HashSet<String> = batch
        .iter()
        .filter(|write| write.finished.is_some())
        .map(|write| write.row.id.clone())
        .collect();
    batch
        .extract_if(fresh.., |write| {
            write.finished.is_none() && !ended.contains(&write.row.id)
        })
        .collect()
}

fn take(
    message: Message,
    batch: &mut Vec<GenerationWrite>,
    waiting: &mut Vec<oneshot::Sender<()>>,
) {
    match message {
        Message::Write(write) => batch.push(*write),
        Message::Flush(done) => waiting.push(done),
    }
}

/// Records a batch. A batch the database rejects is recorded one write at a time, so a write
/// that can never be stored holds back nothing but itself.
async fn record_batch(db: &Db, batch: &[GenerationWrite]) {
    if let Err(rejection) = write_with_retries(db, batch).await {
        tracing::warn!(
            error = %rejection,
            writes = batch.len(),
            "the database rejected a batch of generations; recording them one by one"
        );
        for write in batch {
            record_alone(db, write).await;
        }
    }
}

/// Records one write. The database rejects a row that names an account or a model deleted while
/// its generation ran. A deleted account took its generations with it (`delete_account`), so
/// the write is dropped; a deleted model leaves its generations without one (`ON DELETE SET
/// NULL`), so the row is written that way. A write still rejected is logged and counted
/// (`aipasta_generation_writes_rejected_total`), and left out.
async fn record_alone(db: &Db, write: &GenerationWrite) {
    let Err(mut rejection) = write_with_retries(db, std::slice::from_ref(write)).await else {
        return;
    };
    if rejection.is_foreign_key_violation() {
        match missing_references(db, &write.row).await {
            Ok(missing) if missing.account => {
                tracing::info!(
                    generation = %write.row.id,
                    "the generation's account was deleted while it ran; it is not recorded"
                );
                return;
            }
            Ok(missing) if missing.model => {
                let mut orphan = write.clone();
                orphan.row.model_id = None;
                match write_with_retries(db, std::slice::from_ref(&orphan)).await {
                    Ok(()) => return,
                    Err(again) => rejection = again,
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not look up a generation's references"),
        }
    }
    metrics::counter!("aipasta_generation_writes_rejected_total").increment(1);
    tracing::error!(
        generation = %write.row.id,
        status = %write.row.status,
        error = %rejection,
        "the database rejected a generation's row; it is not recorded"
    );
}

/// Writes `batch`, waiting out a database that fails to run it (down, unreachable, busy) for as
/// long as it takes. Answers the error when the database rejects the batch itself: the same
/// writes would be rejected again.
async fn write_with_retries(db: &Db, batch: &[GenerationWrite]) -> Result<(), DbError> {
    let mut delay = Duration::from_millis(50);
    let mut attempt = 1_u32;
    loop {
        match write_batch(db, batch).await {
            Ok(()) => {
                metrics::counter!("aipasta_generation_writes_total").increment(batch.len() as u64);
                return Ok(());
            }
            Err(error) if error.is_rejection() => return Err(error),
            Err(error) => {
                tracing::error!(
                    %error,
                    attempt,
                    writes = batch.len(),
                    "could not record generations; retrying"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RETRY_DELAY);
                attempt += 1;
            }
        }
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

    fn ids(writes: &[GenerationWrite]) -> Vec<(&str, bool)> {
        writes
            .iter()
            .map(|w| (w.row.id.as_str(), w.finished.is_some()))
            .collect()
    }

    #[test]
    fn only_fresh_starts_of_generations_still_running_are_held_back() {
        // `old` was held back last round: it is written now, running or not.
        let mut batch = vec![
            write("old", false),
            write("quick", false),
            write("slow", false),
            write("quick", true),
            write("late", false),
            write("ended-before", true),
        ];
        let held = hold_back_starts(&mut batch, 1);
        assert_eq!(ids(&held), [("slow", false), ("late", false)]);
        assert_eq!(
            ids(&batch),
            [
                ("old", false),
                ("quick", false),
                ("quick", true),
                ("ended-before", true)
            ]
        );
    }

    #[test]
    fn a_batch_of_ends_or_of_held_over_starts_holds_nothing_back() {
        let mut batch = vec![write("a", true), write("b", true)];
        assert!(hold_back_starts(&mut batch, 0).is_empty());
        assert_eq!(batch.len(), 2);
        let mut held_over = vec![write("c", false), write("d", false)];
        assert!(hold_back_starts(&mut held_over, 2).is_empty());
        assert_eq!(held_over.len(), 2);
    }
}
