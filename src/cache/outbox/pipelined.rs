//! Applying operations through the cache's own pipelines (Upstash, Cluster): values are
//! built on the blocking pool, a thread per pipeline, while the previous pipeline is sent and
//! the one before it marked done.

use super::{Applied, CacheWork, Fetched};
use crate::cache::writes::{writes, Ttl};
use crate::cache::{Cache, Cmd, Reply};
use crate::store::outbox::OutboxOp;
use crate::store::StoreError;
use crate::worker::Lease;
use tokio::sync::mpsc::Receiver;

/// One pipeline: operations and their commands, in the same order.
struct Chunk {
    ops: Vec<OutboxOp>,
    cmds: Vec<Cmd>,
}

impl CacheWork {
    pub(super) async fn apply_pipelined(
        &self,
        cache: &dyn Cache,
        lease: &Lease,
        mut fetched: Receiver<Vec<Fetched>>,
        ttl: Ttl,
    ) -> Result<Applied, StoreError> {
        let (built_tx, built_rx) = tokio::sync::mpsc::channel::<Vec<Chunk>>(1);
        let build = async move {
            while let Some(batch) = fetched.recv().await {
                if built_tx.send(build(batch, ttl).await?).await.is_err() {
                    break;
                }
            }
            Ok::<(), StoreError>(())
        };
        let (built, applied) = tokio::join!(build, self.send(cache, lease, built_rx));
        let mut applied = applied?;
        applied.built = built;
        Ok(applied)
    }

    /// Sends each pipeline in turn, marking the previous one's operations done while the
    /// next is on the wire.
    async fn send(
        &self,
        cache: &dyn Cache,
        lease: &Lease,
        mut rx: Receiver<Vec<Chunk>>,
    ) -> Result<Applied, StoreError> {
        let mut out = Applied::new();
        let mut applied: Option<(Vec<OutboxOp>, Vec<Reply>)> = None;
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
                        out.touched(&chunk.ops);
                        applied = Some((chunk.ops, replies));
                    }
                    Err(e) => {
                        out.unreachable = Some(e);
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
        Ok(out)
    }
}

/// A batch's pipelines with their values built off the async workers (a value is a ~50 KB
/// page sliced and copied), a blocking task per pipeline so they build on all cores at once.
async fn build(fetched: Vec<Fetched>, ttl: Ttl) -> Result<Vec<Chunk>, StoreError> {
    let tasks: Vec<_> = fetched
        .into_iter()
        .map(|f| {
            tokio::task::spawn_blocking(move || {
                let cmds = writes(&f.ops, &f.blobs.index()?, ttl)?
                    .iter()
                    .map(|w| w.to_cmd())
                    .collect();
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
