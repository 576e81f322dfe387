//! The cache worker: drains the outbox project by project, under a per-project lease so
//! several edgepub processes apply each operation once and in order. Operations go out
//! pipelined in chunks; while the cache cannot be reached the project's operations wait with
//! exponential backoff and jitter and nothing is lost; a restart resumes them.

mod bulk;
mod pipelined;

use super::writes::Ttl;
use super::{connect, Reply};
use crate::clock::SharedClock;
use crate::net::retry::Backoff;
use crate::net::{ConnError, NetPolicy};
use crate::store::blobs::BlobRows;
use crate::store::outbox::{OutboxCursor, OutboxOp};
use crate::store::{Store, StoreError, Tx};
use crate::worker::{Lease, Stop, Work};
use std::time::Duration;
use uuid::Uuid;

/// Operations read and applied at once.
const BATCH: i64 = 256;
/// Operations whose compiled pages are read in one query (and, on the pipelined path, sent
/// in one round trip).
const PIPELINE: usize = 128;

pub struct CacheWork {
    pub store: Store,
    pub clock: SharedClock,
    pub policy: NetPolicy,
    pub timeout: Duration,
    pub owner: String,
    pub lease: chrono::Duration,
    /// Pause after the n-th failed attempt: `delay(n)`.
    pub backoff: Backoff,
    /// Wakes the webhook worker when a settled cache step records its event.
    pub hooks_wake: std::sync::Arc<tokio::sync::Notify>,
}

/// The lease scope of a project's cache operations (apart from its publish lease).
pub fn lease_scope(project: Uuid) -> Uuid {
    Uuid::new_v5(&project, b"edgepub-cache-outbox")
}

#[async_trait::async_trait]
impl Work for CacheWork {
    fn name(&self) -> &'static str {
        "cache"
    }

    async fn pass(&self, stop: &Stop) -> Result<(), StoreError> {
        for project in self.store.outbox_projects_due().await? {
            if stop.is_set() {
                break;
            }
            let scope = lease_scope(project);
            if let Some(lease) = Lease::acquire(&self.store, scope, &self.owner, self.lease).await?
            {
                let result = self.drain(project, &lease, stop).await;
                lease.release().await;
                result?;
            }
        }
        Ok(())
    }
}

/// Records `publish.cache_done` for each of these (job, release) cache steps that is over
/// now (once: the event's id is the job's, so a step settled twice, by the worker that applied
/// its last operation and by the publish that superseded it, sends one event).
pub async fn settle_steps(
    store: &Store,
    clock: &SharedClock,
    hooks_wake: &tokio::sync::Notify,
    project: Uuid,
    steps: &[(Uuid, Uuid)],
) -> Result<(), StoreError> {
    if steps.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    let notify = settle_steps_in(store, &mut tx, clock, project, steps).await?;
    tx.commit().await?;
    if notify {
        hooks_wake.notify_one();
    }
    Ok(())
}

/// [`settle_steps`] inside `tx`, which superseded their last operations: the events commit
/// with it, so no crash between the two can lose one. True when an event was recorded (wake
/// the webhook worker once `tx` committed).
pub async fn settle_steps_in(
    store: &Store,
    tx: &mut Tx,
    clock: &SharedClock,
    project: Uuid,
    steps: &[(Uuid, Uuid)],
) -> Result<bool, StoreError> {
    let jobs: Vec<Uuid> = steps.iter().map(|&(job, _)| job).collect();
    let found = store.cache_steps_in(tx, &jobs).await?;
    let mut notify = false;
    for &(job, release) in steps {
        let Some(step) = found.get(&job) else {
            continue;
        };
        if step.status != "done" && step.status != "failed" {
            continue;
        }
        let e = crate::webhooks::events::cache_done(project, job, release, step, clock.now());
        notify |= store
            .enqueue_event(tx, project, e.id, e.kind, &e.payload, None)
            .await?;
    }
    Ok(notify)
}

impl CacheWork {
    async fn drain(&self, project: Uuid, lease: &Lease, stop: &Stop) -> Result<(), StoreError> {
        let settings = self.store.cache_settings(project).await?;
        if !settings.redis_enabled || settings.redis_url.is_none() {
            let reason = if settings.redis_url.is_none() {
                "the cache settings were removed before these operations were applied; nothing was written to the cache"
            } else {
                "the cache was disabled (redis_enabled: false) before these operations were applied; nothing was written to it"
            };
            return self.store.outbox_skip(project, reason).await;
        }
        let ttl = Ttl {
            secs: u64::try_from(settings.cache_ttl_page.max(1)).unwrap_or(60),
            jitter: u64::try_from(settings.cache_ttl_jitter.max(0)).unwrap_or(0),
        };
        let cache = match connect(&settings, self.policy, self.timeout).await {
            Ok(c) => c,
            Err(e) => return self.postpone(project, &e).await,
        };
        let bulk = match cache.bulk().await {
            Ok(b) => b,
            Err(e) => return self.postpone(project, &e).await,
        };
        // Reading operations and their blobs (each pipeline's on its own connection) runs a
        // batch ahead of building and sending values; the channel holds one batch, so memory
        // stays at a few batches.
        let (fetched_tx, fetched_rx) = tokio::sync::mpsc::channel::<Vec<Fetched>>(1);
        let fetch = async move {
            let mut after = OutboxCursor::start();
            while !stop.is_set() && !lease.lost() && !fetched_tx.is_closed() {
                let batch = self.store.outbox_batch_after(project, after, BATCH).await?;
                let Some(last) = batch.last() else { break };
                after = last.cursor();
                let fetched = self.fetch(project, batch).await?;
                if fetched_tx.send(fetched).await.is_err() {
                    break;
                }
            }
            Ok::<(), StoreError>(())
        };
        let apply = async {
            match bulk {
                Some(conn) => self.apply_bulk(conn, lease, fetched_rx, ttl).await,
                None => {
                    self.apply_pipelined(cache.as_ref(), lease, fetched_rx, ttl)
                        .await
                }
            }
        };
        let (fetched, applied) = tokio::join!(fetch, apply);
        let Applied {
            steps,
            unreachable,
            built,
        } = applied?;
        // Steps finished before the cache went away still get their event.
        self.settled(project, &steps).await?;
        if let Some(e) = unreachable {
            return self.postpone(project, &e).await;
        }
        fetched.and(built)
    }

    async fn settled(&self, project: Uuid, steps: &[(Uuid, Uuid)]) -> Result<(), StoreError> {
        settle_steps(&self.store, &self.clock, &self.hooks_wake, project, steps).await
    }

    /// Marks applied operations done and refused ones failed.
    async fn record(&self, ops: &[OutboxOp], replies: &[Reply]) -> Result<(), StoreError> {
        let mut done = Vec::with_capacity(ops.len());
        for (op, reply) in ops.iter().zip(replies) {
            match reply {
                Reply::Error(e) => {
                    let message: String = e
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .chars()
                        .take(200)
                        .collect();
                    tracing::warn!(key = %op.cache_key, error = %message, "the cache refused an operation");
                    self.store
                        .outbox_finish(&[op.id], Some(("protocol", &message)))
                        .await?;
                }
                _ => done.push(op.id),
            }
        }
        self.store.outbox_finish(&done, None).await
    }

    async fn postpone(&self, project: Uuid, e: &ConnError) -> Result<(), StoreError> {
        let attempts = self
            .store
            .outbox_batch(project, 1)
            .await?
            .first()
            .map_or(0, |o| o.attempts);
        let n = u32::try_from(attempts + 1).unwrap_or(u32::MAX);
        let pause = chrono::Duration::from_std(self.backoff.delay(n)).unwrap_or_default();
        tracing::info!(project_id = %project, kind = ?e.kind, attempt = n, "cache unreachable; operations wait");
        self.store
            .outbox_postpone(
                project,
                self.clock.now() + pause,
                e.kind.as_str(),
                &e.message,
            )
            .await
    }

    /// A batch cut into pipelines, each with the compiled pages it writes (read at once,
    /// each pipeline's on its own connection).
    async fn fetch(&self, project: Uuid, batch: Vec<OutboxOp>) -> Result<Vec<Fetched>, StoreError> {
        let mut batch = batch.into_iter().peekable();
        let mut parts: Vec<Vec<OutboxOp>> = Vec::new();
        while batch.peek().is_some() {
            parts.push(batch.by_ref().take(PIPELINE).collect());
        }
        let reads = parts.iter().map(|ops| {
            let mut hashes: Vec<String> =
                ops.iter().filter_map(|o| o.content_hash.clone()).collect();
            hashes.sort_unstable();
            hashes.dedup();
            async move { self.store.blob_rows(project, &hashes).await }
        });
        let blobs = futures_util::future::join_all(reads).await;
        parts
            .into_iter()
            .zip(blobs)
            .map(|(ops, blobs)| Ok(Fetched { ops, blobs: blobs? }))
            .collect()
    }
}

/// One pipeline's operations and the compiled pages they write, by content hash.
struct Fetched {
    ops: Vec<OutboxOp>,
    blobs: BlobRows,
}

/// What applying a drain's operations came to.
struct Applied {
    /// The cache steps (job, release) whose operations were applied (some or all).
    steps: Vec<(Uuid, Uuid)>,
    /// The error that stopped it, if the cache could not be reached.
    unreachable: Option<ConnError>,
    /// Whether every value could be built (a missing or broken compiled page stops it).
    built: Result<(), StoreError>,
}

impl Applied {
    fn new() -> Applied {
        Applied {
            steps: Vec::new(),
            unreachable: None,
            built: Ok(()),
        }
    }

    fn touched(&mut self, ops: &[OutboxOp]) {
        for o in ops {
            let Some(job) = o.job_id else { continue };
            if !self.steps.contains(&(job, o.release_id)) {
                self.steps.push((job, o.release_id));
            }
        }
    }
}
