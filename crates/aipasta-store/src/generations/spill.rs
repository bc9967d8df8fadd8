//! The spill file: generation writes that could not reach the database before a shutdown's
//! time ran out, kept as JSON lines in the data directory (fsynced before anyone is told they
//! are safe) and written to the database by the next start before it serves.
//!
//! Replaying is idempotent: a write already in the database (a write cut short at shutdown
//! may still have committed) is skipped, so counters never move twice.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use super::{GenerationWrite, write_batch};
use crate::{Db, DbError, Query};

/// The spill file's name in the data directory.
pub const FILE_NAME: &str = "unwritten-generations.jsonl";

/// Appends `writes` to `file` and makes them durable (the file, and the directory entry of a
/// new file, fsynced). Blocking: call it off the async threads.
pub fn append(file: &Path, writes: &[GenerationWrite]) -> std::io::Result<()> {
    let existed = file.exists();
    let mut lines = Vec::new();
    for write in writes {
        serde_json::to_writer(&mut lines, write)?;
        lines.push(b'\n');
    }
    let mut out = open_private(file)?;
    out.write_all(&lines)?;
    out.sync_all()?;
    if !existed && let Some(dir) = file.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn open_private(file: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file)
}

/// What a replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Writes recorded now.
    pub written: usize,
    /// Writes skipped: already in the database.
    pub already_stored: usize,
    /// Lines that could not be read (a spill cut short by a crash) or that the database
    /// rejected; logged.
    pub lost: usize,
}

/// The most writes replayed in one transaction.
const REPLAY_BATCH: usize = 256;

/// Writes what `file` holds to the database and removes the file. No file: nothing to do. A
/// database that fails meanwhile leaves the file in place (nothing is lost; the next start
/// tries again).
pub async fn replay(db: &Db, file: &Path) -> Result<Replayed, DbError> {
    let mut report = Replayed::default();
    let opened = match File::open(file) {
        Ok(opened) => opened,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(error) => {
            tracing::error!(%error, file = %file.display(), "could not open the spill file");
            return Ok(report);
        }
    };
    let mut writes = Vec::new();
    for (number, line) in BufReader::new(opened).lines().enumerate() {
        let parsed = line.map_err(|e| e.to_string()).and_then(|line| {
            serde_json::from_str::<GenerationWrite>(&line).map_err(|e| e.to_string())
        });
        match parsed {
            Ok(write) => writes.push(write),
            Err(error) => {
                tracing::error!(line = number + 1, %error, "a line of the spill file cannot be read; it is skipped");
                report.lost += 1;
            }
        }
    }
    for chunk in writes.chunks(REPLAY_BATCH) {
        let stored = stored_statuses(db, chunk).await?;
        let fresh: Vec<GenerationWrite> = chunk
            .iter()
            .filter(|write| !already_stored(write, stored.get(&write.row.id)))
            .cloned()
            .collect();
        report.already_stored += chunk.len() - fresh.len();
        match write_batch(db, &fresh).await {
            Ok(()) => report.written += fresh.len(),
            Err(error) if error.is_rejection() => {
                for write in &fresh {
                    match write_batch(db, std::slice::from_ref(write)).await {
                        Ok(()) => report.written += 1,
                        Err(error) if error.is_rejection() => {
                            tracing::error!(generation = %write.row.id, %error, "the database rejected a spilled generation; it is not recorded");
                            report.lost += 1;
                        }
                        Err(error) => return Err(error),
                    }
                }
            }
            Err(error) => return Err(error),
        }
    }
    if let Err(error) = std::fs::remove_file(file) {
        tracing::error!(%error, file = %file.display(), "could not remove the replayed spill file");
    }
    Ok(report)
}

/// Whether `write` is already in the database, given its generation's stored status: a start
/// is when any row exists; an end is when the stored row ended too (a heartbeat may have
/// touched a pending row after the end was spilled, so times do not tell), unless a sweep
/// marked it `interrupted` meanwhile, which the real end replaces (a sweep moves no counter).
fn already_stored(write: &GenerationWrite, stored_status: Option<&String>) -> bool {
    match (stored_status, &write.finished) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(status), Some(_)) => status != "pending" && status != "interrupted",
    }
}

/// The stored status of each generation among `writes` that has a row.
async fn stored_statuses(
    db: &Db,
    writes: &[GenerationWrite],
) -> Result<HashMap<String, String>, DbError> {
    let mut stored = HashMap::new();
    for write in writes {
        let status: Option<(String,)> = Query::new("SELECT status FROM generations WHERE id = $1")
            .bind(&write.row.id)
            .fetch_optional(db)
            .await?;
        if let Some((status,)) = status {
            stored.insert(write.row.id.clone(), status);
        }
    }
    Ok(stored)
}
