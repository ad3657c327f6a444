//! Waking projection runners when new events are committed.
//!
//! Every append in this process goes through `ProductCommands`, which calls
//! [`Wakeup::committed`] after the commit. That bumps a counter on a `watch` channel the runners
//! wait on, and on PostgreSQL also asks the announcer task to `NOTIFY restock_events` so that
//! runners in other processes wake too; a listener task relays their notifications here.
//!
//! The announcer sends at most one notification per [`ANNOUNCE_GAP`], however many commits
//! happened meanwhile, and outside any append transaction (see [`Db::announce_commits`]). A
//! runner that was busy when the bump happened still sees it (a `watch` remembers that the value
//! changed), and runners also poll on a timer, so a lost notification (a process killed between
//! its commit and its announcement) only delays, never stalls, a projection.

use restock_application::ports::CommitListener;
use restock_infrastructure::{Db, COMMITS_CHANNEL};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The shortest interval between two announcements to other processes.
const ANNOUNCE_GAP: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
pub struct Wakeup {
    /// What runners wait on: commits here and commits announced by other processes.
    runners: Arc<watch::Sender<u64>>,
    /// Commits made here and not yet announced to other processes.
    unannounced: Arc<watch::Sender<u64>>,
}

impl Default for Wakeup {
    fn default() -> Self {
        Self::new()
    }
}

/// One runner's view of the wake-ups.
pub struct WakeListener {
    receiver: watch::Receiver<u64>,
}

fn bump(sender: &watch::Sender<u64>) {
    sender.send_modify(|n| *n = n.wrapping_add(1));
}

impl Wakeup {
    pub fn new() -> Self {
        Self {
            runners: Arc::new(watch::channel(0).0),
            unannounced: Arc::new(watch::channel(0).0),
        }
    }

    /// Events were committed by this process.
    pub fn wake(&self) {
        bump(&self.runners);
        bump(&self.unannounced);
    }

    pub fn subscribe(&self) -> WakeListener {
        WakeListener {
            receiver: self.runners.subscribe(),
        }
    }

    /// On PostgreSQL, announce this process's commits to the others and relay theirs here.
    /// On SQLite there are no others.
    pub fn connect(&self, db: &Db) {
        let Db::Postgres(pool) = db else { return };
        self.spawn_announcer(db.clone());
        let pool = pool.clone();
        let runners = self.runners.clone();
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut listener) => match listener.listen(COMMITS_CHANNEL).await {
                        Ok(()) => {
                            // Only the runners: re-announcing would echo between processes.
                            while listener.recv().await.is_ok() {
                                bump(&runners);
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "LISTEN restock_events failed"),
                    },
                    Err(e) => tracing::warn!(error = %e, "projection listener cannot connect"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    fn spawn_announcer(&self, db: Db) {
        let mut pending = self.unannounced.subscribe();
        tokio::spawn(async move {
            // Ends when every `Wakeup` clone is gone, i.e. with the server.
            while pending.changed().await.is_ok() {
                if let Err(e) = db.announce_commits().await {
                    // Other processes still poll; retry on the next commit.
                    tracing::warn!(error = %e, "announcing commits failed");
                }
                // At most one announcement per ANNOUNCE_GAP: each is a transaction of its own,
                // and other processes' runners coalesce for longer than this anyway.
                tokio::time::sleep(ANNOUNCE_GAP).await;
            }
        });
    }
}

impl CommitListener for Wakeup {
    fn committed(&self) {
        self.wake();
    }
}

impl WakeListener {
    /// Wait for a wake-up since the last call, or the poll interval, whichever comes first.
    /// `true` when woken.
    pub async fn wait(&mut self, poll: Duration) -> bool {
        matches!(
            tokio::time::timeout(poll, self.receiver.changed()).await,
            Ok(Ok(()))
        )
    }
}
