//! Background work, written once: a loop that runs a [`Work`]'s pass whenever it is woken or
//! its poll interval passes, one shutdown signal for every loop, and [`Lease`], a row lease in
//! the database renewed in the background, so several edgepub processes sharing one database
//! cooperate (whoever holds a scope's lease does its work; a lease not renewed expires and
//! another process takes over). Publishing uses it now; an outbox drainer, webhook delivery
//! and schedules plug in the same way. A loop knows nothing of what its work does.

use crate::store::{Store, StoreError};
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use uuid::Uuid;

/// The shutdown signal as a worker sees it.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// A signal that is never set (one-off passes, e.g. `edgepub publish --wait`).
    pub fn never() -> Stop {
        let (tx, rx) = watch::channel(false);
        // Keep the channel open for the life of the process.
        std::mem::forget(tx);
        Stop(rx)
    }
}

/// One kind of background work.
#[async_trait]
pub trait Work: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// Claims and runs whatever is due, returning early once `stop` is set. An error is
    /// logged and the next pass tries again.
    async fn pass(&self, stop: &Stop) -> Result<(), StoreError>;
}

/// The process's background loops and their shared shutdown signal.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<(&'static str, tokio::task::JoinHandle<()>)>,
}

impl Default for Workers {
    fn default() -> Self {
        Workers {
            stop: watch::channel(false).0,
            tasks: Vec::new(),
        }
    }
}

impl Workers {
    /// Runs `work` now, then whenever `wake` is notified or `poll` passes, until stopped.
    pub fn spawn(&mut self, work: Arc<dyn Work>, wake: Arc<Notify>, poll: Duration) {
        let mut stop = Stop(self.stop.subscribe());
        let name = work.name();
        let task = tokio::spawn(async move {
            while !stop.is_set() {
                if let Err(e) = work.pass(&stop).await {
                    tracing::warn!(worker = name, error = %e, "worker pass failed");
                }
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = stop.0.changed() => {}
                }
            }
        });
        self.tasks.push((name, task));
    }

    /// Stops taking work and waits (up to `grace` in all) for what is in hand. Work cut off
    /// after that is resumed by the next holder of its lease.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        for (name, mut task) in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                // Cut off here, before the database pool closes under it; its lease expires
                // and the next holder resumes the work.
                task.abort();
                let _ = task.await;
                tracing::warn!(
                    worker = name,
                    "work was still running at shutdown; it will be resumed"
                );
            }
        }
    }
}

/// A lease on one scope (a project) held in the database and renewed every third of its
/// time to live until released. `lost()` turns true when a renewal fails: the holder must
/// stop, and its final writes are fenced by the store (`Store::fence_lease`).
pub struct Lease {
    store: Store,
    scope: Uuid,
    owner: String,
    lost: Arc<AtomicBool>,
    renewer: tokio::task::JoinHandle<()>,
}

impl Lease {
    /// Takes the scope's lease, or `None` while another owner holds an unexpired one.
    pub async fn acquire(
        store: &Store,
        scope: Uuid,
        owner: &str,
        ttl: chrono::Duration,
    ) -> Result<Option<Lease>, StoreError> {
        if !store.acquire_lease(scope, owner, ttl).await? {
            return Ok(None);
        }
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = {
            let (store, owner, lost) = (store.clone(), owner.to_string(), lost.clone());
            let every = (ttl / 3).to_std().unwrap_or(Duration::from_secs(5));
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    if !matches!(store.renew_lease(scope, &owner, ttl).await, Ok(true)) {
                        lost.store(true, Ordering::SeqCst);
                        return;
                    }
                }
            })
        };
        Ok(Some(Lease {
            store: store.clone(),
            scope,
            owner: owner.to_string(),
            lost,
            renewer,
        }))
    }

    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Gives the lease up so another worker need not wait for it to expire.
    pub async fn release(self) {
        self.renewer.abort();
        if let Err(e) = self.store.release_lease(self.scope, &self.owner).await {
            tracing::warn!(error = %e, "releasing a lease failed; it will expire");
        }
    }
}
