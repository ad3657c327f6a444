//! Waking projection runners when new events are committed.
//!
//! In-process appends bump a counter on a `watch` channel; on Postgres a `LISTEN restock_events`
//! task relays notifications from other processes into the same channel. A runner that was busy
//! when the bump happened still sees it (a `watch` remembers that the value changed), and runners
//! also poll on a timer, so a lost notification only delays, never stalls, a projection.

use restock_infrastructure::Db;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Wakeup {
    sender: Arc<watch::Sender<u64>>,
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

impl Wakeup {
    pub fn new() -> Self {
        let (sender, _) = watch::channel(0);
        Self {
            sender: Arc::new(sender),
        }
    }

    /// New events were committed.
    pub fn wake(&self) {
        self.sender.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn subscribe(&self) -> WakeListener {
        WakeListener {
            receiver: self.sender.subscribe(),
        }
    }

    /// On Postgres, relay `NOTIFY restock_events` from every process into this wake-up.
    pub fn listen(&self, db: &Db) {
        let Db::Postgres(pool) = db else { return };
        let pool = pool.clone();
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut listener) => match listener.listen("restock_events").await {
                        Ok(()) => {
                            while listener.recv().await.is_ok() {
                                me.wake();
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
}

impl WakeListener {
    /// Wait for a wake-up since the last call, or the poll interval, whichever comes first.
    pub async fn wait(&mut self, poll: Duration) {
        let _ = tokio::time::timeout(poll, self.receiver.changed()).await;
    }
}
