//! The projection runner: catch up from a checkpoint in global commit order, apply a batch and
//! move the checkpoint in one transaction, then wait for more.
//!
//! The checkpoint update is a compare-and-set on the old value: if a second runner (another
//! process, or a rebuild that reset the checkpoint) moved it meanwhile, this runner's whole
//! batch rolls back and it starts again from what is stored. Events are therefore applied
//! exactly once even with several servers on one database.

use crate::projector::{ProjectionError, Projector, Replay};
use crate::wake::WakeListener;
use chrono::{DateTime, Utc};
use restock_application::ports::{EventStore, Position, RecordedEvent};
use restock_infrastructure::{execute, fetch_optional, Db, DbTx};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Events per batch. Large enough that a rebuild's cost per event is the applying, not the
/// transaction around it; small enough that a batch read ahead (see `catch_up`) holds a few MB.
const BATCH_SIZE: i64 = 4000;
const POLL: Duration = Duration::from_millis(500);
/// How long a woken runner waits for more events before reading a batch.
const COALESCE: Duration = Duration::from_millis(5);
/// The longest pause between batches under a steady stream of events (see `run`).
const MAX_COALESCE: Duration = Duration::from_millis(40);

/// A projection's checkpoint row, as `CheckpointRow` reads it.
macro_rules! select_checkpoint {
    () => {
        "SELECT tx_id, global_position, replay_tx_id, replay_position \
         FROM projection_checkpoints WHERE name = $1"
    };
}

#[derive(Debug, Clone, Copy, sqlx::FromRow)]
struct CheckpointRow {
    tx_id: i64,
    global_position: i64,
    replay_tx_id: i64,
    replay_position: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub position: Position,
    pub replay_until: Position,
}

impl From<CheckpointRow> for Checkpoint {
    fn from(r: CheckpointRow) -> Self {
        Self {
            position: Position {
                tx_id: r.tx_id,
                global_position: r.global_position,
            },
            replay_until: Position {
                tx_id: r.replay_tx_id,
                global_position: r.replay_position,
            },
        }
    }
}

/// A projection's progress, for `/metrics` and `restock projections status`.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectionStatus {
    pub name: String,
    pub tx_id: i64,
    pub global_position: i64,
    pub events_behind: i64,
    pub seconds_behind: f64,
}

#[derive(Clone)]
pub struct ProjectionRunner {
    db: Db,
    store: Arc<dyn EventStore>,
    projector: Arc<dyn Projector>,
    /// The checkpoint as this runner last committed or read it. Only a starting point for
    /// reading: every batch re-checks it under the row lock before writing.
    known: Arc<std::sync::Mutex<Option<Checkpoint>>>,
}

impl ProjectionRunner {
    pub fn new(db: Db, store: Arc<dyn EventStore>, projector: Arc<dyn Projector>) -> Self {
        Self {
            db,
            store,
            projector,
            known: Arc::default(),
        }
    }

    pub fn name(&self) -> &'static str {
        self.projector.name()
    }

    /// Run until `shutdown` turns true: catch up, then wait for a wake-up or the poll timer.
    /// A failing batch is logged and retried after a pause; it is never skipped.
    pub async fn run(self, mut wake: WakeListener, mut shutdown: watch::Receiver<bool>) {
        let name = self.name();
        // Let appends accumulate into one batch. The first pause after a wake-up is short, so
        // an isolated command is projected within milliseconds; while batches keep coming it
        // doubles up to MAX_COALESCE, so under a steady stream each projection commits a few
        // dozen times a second however many commands arrive, not once per few commands.
        let mut pause = COALESCE;
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.step().await {
                Ok(0) => {
                    tokio::select! {
                        _ = wake.wait(POLL) => {}
                        _ = shutdown.changed() => {}
                    }
                    pause = COALESCE;
                    tokio::time::sleep(pause).await;
                }
                Ok(n) if (n as i64) < BATCH_SIZE => {
                    pause = (pause * 2).min(MAX_COALESCE);
                    tokio::time::sleep(pause).await;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(projection = name, error = %e, "projection batch failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
    }

    /// Apply batches until nothing readable is left. Returns the number of events applied.
    ///
    /// The next batch is read while the current one is applied: reading (PostgreSQL sending
    /// rows, this process decoding them) and applying (this process folding, PostgreSQL
    /// writing) then overlap instead of taking turns, which left a core idle for much of a
    /// rebuild. Reading ahead is safe because a read depends only on the last position read,
    /// not on what was committed; if another runner moves the checkpoint, the batches read
    /// ahead are dropped and reading starts again from the stored checkpoint.
    pub async fn catch_up(&self) -> Result<u64, ProjectionError> {
        let mut total = 0u64;
        loop {
            let mut checkpoint = self.checkpoint().await?;
            let mut batches = read_ahead(self.store.clone(), checkpoint.position);
            let mut moved = false;
            while let Some(events) = batches.recv().await {
                let events = events?;
                let Some(last) = events.last().map(|e| e.position) else {
                    break;
                };
                match self.apply_batch(checkpoint, last, &events).await? {
                    Some(next) => {
                        self.remember(Some(next));
                        checkpoint = next;
                        total += events.len() as u64;
                    }
                    None => {
                        self.remember(None);
                        moved = true;
                        break;
                    }
                }
            }
            if !moved {
                // Idle now: re-read the stored checkpoint next time (see `step`).
                self.remember(None);
                return Ok(total);
            }
        }
    }

    /// Apply one batch. Returns how many events it applied; 0 means caught up.
    pub async fn step(&self) -> Result<usize, ProjectionError> {
        loop {
            let checkpoint = self.checkpoint().await?;
            let events = self.store.read_all(checkpoint.position, BATCH_SIZE).await?;
            let Some(last) = events.last().map(|e| e.position) else {
                // Idle: re-read the stored checkpoint next time, in case a rebuild in another
                // process reset it while this runner had nothing to do.
                self.remember(None);
                return Ok(0);
            };
            match self.apply_batch(checkpoint, last, &events).await? {
                Some(next) => {
                    self.remember(Some(next));
                    return Ok(events.len());
                }
                // Another runner, or a rebuild, moved the checkpoint: start again from it.
                None => self.remember(None),
            }
        }
    }

    /// Apply `events` read after `checkpoint` and move the checkpoint to `last`, in one
    /// transaction. `None` (and nothing written) when the stored checkpoint is not `checkpoint`.
    async fn apply_batch(
        &self,
        checkpoint: Checkpoint,
        last: Position,
        events: &[RecordedEvent],
    ) -> Result<Option<Checkpoint>, ProjectionError> {
        let name = self.name();
        let mut tx = self.db.begin().await?;
        // Lock the checkpoint before writing any row: a second runner on the same projection
        // (another server, or a rebuild's catch-up) waits here, then sees that the checkpoint
        // moved and drops its batch, instead of colliding with rows the first one wrote.
        if lock_checkpoint(&mut tx, name).await?.map(|c| c.position) != Some(checkpoint.position) {
            return Ok(None);
        }
        let replay = Replay {
            until: checkpoint.replay_until,
        };
        self.projector.apply(&mut tx, events, replay).await?;
        let moved = execute!(
            &mut tx,
            "UPDATE projection_checkpoints SET tx_id = $1, global_position = $2, updated_at = $3 \
             WHERE name = $4 AND tx_id = $5 AND global_position = $6",
            last.tx_id,
            last.global_position,
            Utc::now(),
            name,
            checkpoint.position.tx_id,
            checkpoint.position.global_position,
        )?;
        if moved != 1 {
            return Ok(None);
        }
        tx.commit().await?;
        self.projector.committed();
        Ok(Some(Checkpoint {
            position: last,
            ..checkpoint
        }))
    }

    /// The checkpoint to read from: the one this runner knows, else the stored one.
    async fn checkpoint(&self) -> Result<Checkpoint, ProjectionError> {
        if let Some(known) = self.known.lock().ok().and_then(|k| *k) {
            return Ok(known);
        }
        let stored = load_checkpoint(&self.db, self.name()).await?;
        self.remember(Some(stored));
        Ok(stored)
    }

    fn remember(&self, checkpoint: Option<Checkpoint>) {
        if let Ok(mut known) = self.known.lock() {
            *known = checkpoint;
        }
    }

    /// Empty the projector's tables and start again from the first event, in one transaction.
    /// Events this projection had already processed are marked as replayed history.
    pub async fn reset(&self) -> Result<(), ProjectionError> {
        let name = self.name();
        // Creates the checkpoint row on a projection's first run.
        load_checkpoint(&self.db, name).await?;
        let mut tx = self.db.begin().await?;
        // The checkpoint first, as a batch takes its locks: a runner mid-batch finishes before
        // the tables are emptied (and then finds its checkpoint moved), and the replay mark
        // includes everything it applied.
        let checkpoint = lock_checkpoint(&mut tx, name)
            .await?
            .ok_or(ProjectionError::Other(
                "checkpoint",
                format!("{name} missing"),
            ))?;
        empty_tables(&mut tx, self.projector.tables()).await?;
        let replay_until = checkpoint.position.max(checkpoint.replay_until);
        execute!(
            &mut tx,
            "UPDATE projection_checkpoints SET tx_id = 0, global_position = 0, \
             replay_tx_id = $1, replay_position = $2, updated_at = $3 WHERE name = $4",
            replay_until.tx_id,
            replay_until.global_position,
            Utc::now(),
            name,
        )?;
        tx.commit().await?;
        self.remember(None);
        Ok(())
    }

    pub async fn status(&self) -> Result<ProjectionStatus, ProjectionError> {
        let checkpoint = load_checkpoint(&self.db, self.name()).await?;
        let (behind, newest) = self.store.lag(checkpoint.position).await?;
        Ok(ProjectionStatus {
            name: self.name().to_owned(),
            tx_id: checkpoint.position.tx_id,
            global_position: checkpoint.position.global_position,
            events_behind: behind,
            seconds_behind: seconds_since(newest, behind),
        })
    }
}

/// Batches of the log after `after`, read one ahead of the consumer, until a read comes back
/// empty or fails (the failure is the last item). Dropping the receiver stops the reader.
fn read_ahead(
    store: Arc<dyn EventStore>,
    after: Position,
) -> mpsc::Receiver<Result<Vec<RecordedEvent>, ProjectionError>> {
    let (sender, receiver) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut after = after;
        loop {
            let batch = store.read_all(after, BATCH_SIZE).await;
            let next = match &batch {
                Ok(events) => events.last().map(|e| e.position),
                Err(_) => None,
            };
            if sender
                .send(batch.map_err(ProjectionError::from))
                .await
                .is_err()
            {
                return;
            }
            match next {
                Some(position) => after = position,
                None => return,
            }
        }
    });
    receiver
}

fn seconds_since(newest_unprocessed: Option<DateTime<Utc>>, behind: i64) -> f64 {
    match newest_unprocessed {
        Some(t) if behind > 0 => ((Utc::now() - t).num_milliseconds().max(0) as f64) / 1000.0,
        _ => 0.0,
    }
}

/// The checkpoint as seen inside a transaction, locked until it ends. (SQLite has no row locks;
/// its write transaction already excludes every other writer.)
async fn lock_checkpoint(tx: &mut DbTx, name: &str) -> Result<Option<Checkpoint>, ProjectionError> {
    let sql = match tx {
        DbTx::Postgres(_) => concat!(select_checkpoint!(), " FOR UPDATE"),
        DbTx::Sqlite(_) => select_checkpoint!(),
    };
    let row = fetch_optional!(tx, CheckpointRow, sql, name)?;
    Ok(row.map(Checkpoint::from))
}

/// Delete every row of `tables`. On PostgreSQL one TRUNCATE: it drops the files instead of
/// marking each row dead (a rebuild's ledger holds a row per event; DELETE of 118k rows took
/// 60-160 ms here) and is transactional there. Its exclusive lock makes readers of these tables
/// wait for the reset's commit, which follows at once.
async fn empty_tables(tx: &mut DbTx, tables: &[&str]) -> Result<(), ProjectionError> {
    match tx {
        DbTx::Postgres(t) => {
            sqlx::query(&format!("TRUNCATE {}", tables.join(", ")))
                .execute(&mut **t)
                .await?;
        }
        DbTx::Sqlite(_) => {
            for table in tables {
                execute!(&mut *tx, &format!("DELETE FROM {table}"))?;
            }
        }
    }
    Ok(())
}

/// The stored checkpoint, created at the start of the log the first time it is asked for.
async fn load_checkpoint(db: &Db, name: &str) -> Result<Checkpoint, ProjectionError> {
    if let Some(found) = read_checkpoint(db, name).await? {
        return Ok(found);
    }
    let mut tx = db.begin().await?;
    execute!(
        &mut tx,
        "INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
        name
    )?;
    tx.commit().await?;
    read_checkpoint(db, name)
        .await?
        .ok_or(ProjectionError::Other(
            "checkpoint",
            format!("{name} missing"),
        ))
}

async fn read_checkpoint(db: &Db, name: &str) -> Result<Option<Checkpoint>, ProjectionError> {
    let mut tx = db.begin_read().await?;
    let row = fetch_optional!(&mut tx, CheckpointRow, select_checkpoint!(), name)?;
    tx.commit().await?;
    Ok(row.map(Checkpoint::from))
}
