//! The cache worker: drains the outbox project by project, under a per-project lease so
//! several edgepub processes apply each operation once and in order. Operations go out
//! pipelined in chunks; while the cache cannot be reached the project's operations wait with
//! exponential backoff and jitter and nothing is lost; a restart resumes them.

use super::values::{homepage_value, page_value};
use super::{connect, Cmd, Reply};
use crate::clock::SharedClock;
use crate::net::retry::Backoff;
use crate::net::{ConnError, NetPolicy};
use crate::store::outbox::OutboxOp;
use crate::store::{Store, StoreError};
use crate::worker::{Lease, Stop, Work};
use rand::Rng;
use std::time::Duration;
use uuid::Uuid;

/// Operations read and applied at once.
const BATCH: i64 = 500;
/// Commands per pipeline round trip.
const PIPELINE: usize = 250;

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
        let ttl = u64::try_from(settings.cache_ttl_page.max(1)).unwrap_or(60);
        let jitter = u64::try_from(settings.cache_ttl_jitter.max(0)).unwrap_or(0);
        let cache = match connect(&settings, self.policy, self.timeout).await {
            Ok(c) => c,
            Err(e) => return self.postpone(project, &e).await,
        };
        // Releases touched by this drain; whether each is settled is asked once, at the end
        // (asking after every batch would read a 10,000-operation release 20 times).
        let mut releases: Vec<Uuid> = Vec::new();
        while !stop.is_set() && !lease.lost() {
            let batch = self.store.outbox_batch(project, BATCH).await?;
            if batch.is_empty() {
                break;
            }
            let cmds = self.commands(project, &batch, ttl, jitter).await?;
            for (ops, cmds) in batch.chunks(PIPELINE).zip(cmds.chunks(PIPELINE)) {
                let replies = match cache.exec(cmds).await {
                    Ok(r) => r,
                    Err(e) => {
                        // Releases finished before the cache went away still get their event.
                        self.settled(project, &releases).await?;
                        return self.postpone(project, &e).await;
                    }
                };
                self.record(ops, &replies).await?;
            }
            for r in batch.iter().map(|o| o.release_id) {
                if !releases.contains(&r) {
                    releases.push(r);
                }
            }
        }
        self.settled(project, &releases).await
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

    /// The commands for a batch, values built from the blob store.
    async fn commands(
        &self,
        project: Uuid,
        batch: &[OutboxOp],
        ttl: u64,
        jitter: u64,
    ) -> Result<Vec<Cmd>, StoreError> {
        let hashes: Vec<String> = batch
            .iter()
            .filter_map(|o| o.content_hash.clone())
            .collect();
        let blobs = self.store.get_blobs(project, &hashes).await?;
        let mut rng = rand::thread_rng();
        batch
            .iter()
            .map(|op| {
                if op.op == "del" {
                    return Ok(Cmd::new(["UNLINK", op.cache_key.as_str()]));
                }
                let hash = op.content_hash.as_deref().unwrap_or_default();
                let blob = blobs.get(hash).ok_or_else(|| {
                    StoreError::Corrupt(format!("compiled page {hash} is missing"))
                })?;
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
                let secs = ttl
                    + if jitter > 0 {
                        rng.gen_range(0..=jitter)
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
}
