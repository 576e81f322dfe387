//! The cache worker: drains the outbox project by project, under a per-project lease so
//! several edgepub processes apply each operation once and in order. Operations go out
//! pipelined in chunks; while the cache cannot be reached the project's operations wait with
//! exponential backoff and jitter and nothing is lost; a restart resumes them.

use super::values::{homepage_value, page_value};
use super::{connect, Cache, Cmd, Reply};
use crate::clock::SharedClock;
use crate::net::retry::Backoff;
use crate::net::{ConnError, NetPolicy};
use crate::store::outbox::{OutboxCursor, OutboxOp};
use crate::store::{Store, StoreError};
use crate::worker::{Lease, Stop, Work};
use rand::Rng;
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

/// Operations read and applied at once.
const BATCH: i64 = 256;
/// Commands per pipeline round trip.
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

impl CacheWork {
    async fn drain(&self, project: Uuid, lease: &Lease, stop: &Stop) -> Result<(), StoreError> {
        let settings = self.store.cache_settings(project).await?;
        if !settings.redis_enabled || settings.redis_url.is_none() {
            return self.store.outbox_skip(project).await;
        }
        let ttl = Ttl {
            secs: u64::try_from(settings.cache_ttl_page.max(1)).unwrap_or(60),
            jitter: u64::try_from(settings.cache_ttl_jitter.max(0)).unwrap_or(0),
        };
        let cache = match connect(&settings, self.policy, self.timeout).await {
            Ok(c) => c,
            Err(e) => return self.postpone(project, &e).await,
        };
        // Three stages that overlap, each a batch ahead of the next: reading operations and
        // their blobs (each pipeline's blobs on its own connection), building values (on the
        // blocking pool, a thread per pipeline), and sending pipelines while the previous one
        // is marked done. Each channel holds one batch, so memory stays at a few batches.
        let (fetched_tx, mut fetched_rx) = tokio::sync::mpsc::channel::<Vec<Fetched>>(1);
        let (built_tx, built_rx) = tokio::sync::mpsc::channel::<Vec<Chunk>>(1);
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
        let build = async move {
            while let Some(fetched) = fetched_rx.recv().await {
                if built_tx.send(build(fetched, ttl).await?).await.is_err() {
                    break;
                }
            }
            Ok::<(), StoreError>(())
        };
        let (fetched, built, applied) =
            tokio::join!(fetch, build, self.apply(cache.as_ref(), lease, built_rx));
        let (releases, unreachable) = applied?;
        // Releases finished before the cache went away still get their event.
        self.settled(project, &releases).await?;
        if let Some(e) = unreachable {
            return self.postpone(project, &e).await;
        }
        fetched.and(built)
    }

    /// Sends each pipeline in turn, marking the previous one's operations done while the
    /// next is on the wire. Returns the releases touched and the error that stopped it, if
    /// the cache could not be reached.
    async fn apply(
        &self,
        cache: &dyn Cache,
        lease: &Lease,
        mut rx: tokio::sync::mpsc::Receiver<Vec<Chunk>>,
    ) -> Result<(Vec<Uuid>, Option<ConnError>), StoreError> {
        let mut releases: Vec<Uuid> = Vec::new();
        let mut applied: Option<(Vec<OutboxOp>, Vec<Reply>)> = None;
        let mut unreachable = None;
        'batches: while let Some(chunks) = rx.recv().await {
            for chunk in chunks {
                if lease.lost() {
                    break 'batches;
                }
                let record = async {
                    match applied.take() {
                        Some((ops, replies)) => self.record(&ops, &replies).await,
                        None => Ok(()),
                    }
                };
                let (replies, recorded) = tokio::join!(cache.exec(&chunk.cmds), record);
                recorded?;
                match replies {
                    Ok(replies) => {
                        for r in chunk.ops.iter().map(|o| o.release_id) {
                            if !releases.contains(&r) {
                                releases.push(r);
                            }
                        }
                        applied = Some((chunk.ops, replies));
                    }
                    Err(e) => {
                        unreachable = Some(e);
                        break 'batches;
                    }
                }
            }
        }
        // Stop the producer before the last marks (it may be waiting to hand over a batch).
        drop(rx);
        if let Some((ops, replies)) = applied {
            self.record(&ops, &replies).await?;
        }
        Ok((releases, unreachable))
    }

    /// Records `publish.cache_done` for each release whose operations are all applied now
    /// (once: the event's id is the release's).
    async fn settled(&self, project: Uuid, releases: &[Uuid]) -> Result<(), StoreError> {
        for release in releases {
            let Some(step) = self.store.cache_step(*release).await? else {
                continue;
            };
            if step.status != "done" && step.status != "failed" {
                continue;
            }
            let e = crate::webhooks::events::cache_done(project, *release, &step, self.clock.now());
            let mut tx = self.store.begin().await?;
            let notify = self
                .store
                .enqueue_event(&mut tx, project, e.id, e.kind, &e.payload, None)
                .await?;
            tx.commit().await?;
            if notify {
                self.hooks_wake.notify_one();
            }
        }
        Ok(())
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
            async move { self.store.get_blobs(project, &hashes).await }
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
    blobs: HashMap<String, String>,
}

/// A batch's pipelines with their values built off the async workers (a value is a ~50 KB
/// page sliced and copied), a blocking task per pipeline so they build on all cores at once.
async fn build(fetched: Vec<Fetched>, ttl: Ttl) -> Result<Vec<Chunk>, StoreError> {
    let tasks: Vec<_> = fetched
        .into_iter()
        .map(|f| {
            tokio::task::spawn_blocking(move || {
                let cmds = commands(&f.ops, &f.blobs, ttl)?;
                Ok::<Chunk, StoreError>(Chunk { ops: f.ops, cmds })
            })
        })
        .collect();
    let mut chunks = Vec::with_capacity(tasks.len());
    for t in tasks {
        let chunk = t
            .await
            .map_err(|e| StoreError::Corrupt(format!("building cache values failed: {e}")))??;
        chunks.push(chunk);
    }
    Ok(chunks)
}

/// A page key's time to live: `secs` plus up to `jitter` random seconds.
#[derive(Debug, Clone, Copy)]
struct Ttl {
    secs: u64,
    jitter: u64,
}

/// One pipeline: operations and their commands, in the same order.
struct Chunk {
    ops: Vec<OutboxOp>,
    cmds: Vec<Cmd>,
}

/// The commands for operations, values built from their compiled pages.
fn commands(
    batch: &[OutboxOp],
    blobs: &HashMap<String, String>,
    ttl: Ttl,
) -> Result<Vec<Cmd>, StoreError> {
    let mut rng = rand::thread_rng();
    batch
        .iter()
        .map(|op| {
            if op.op == "del" {
                return Ok(Cmd::new(["UNLINK", op.cache_key.as_str()]));
            }
            let hash = op.content_hash.as_deref().unwrap_or_default();
            let blob = blobs
                .get(hash)
                .ok_or_else(|| StoreError::Corrupt(format!("compiled page {hash} is missing")))?;
            let (version, at) = (
                op.version.unwrap_or(1),
                op.published_at.as_deref().unwrap_or_default(),
            );
            let value = if op.op == "homepage" {
                homepage_value(blob, version, at)
            } else {
                page_value(blob, version, at)
            }
            .map_err(|e| StoreError::Corrupt(format!("compiled page {hash}: {e}")))?;
            let secs = ttl.secs
                + if ttl.jitter > 0 {
                    rng.gen_range(0..=ttl.jitter)
                } else {
                    0
                };
            Ok(Cmd(vec![
                "SET".to_string(),
                op.cache_key.clone(),
                value,
                "EX".into(),
                secs.to_string(),
            ]))
        })
        .collect()
}
