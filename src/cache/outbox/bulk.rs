//! Applying operations over a bulk connection (Redis standalone or Sentinel's master): one
//! blocking thread builds each value straight into a reused RESP buffer and sends it in
//! pipelines of about [`BULK_BYTES`], while the async side marks what was sent done. A value
//! is copied once between the compiled page and the socket, and the buffer is not
//! reallocated, so priming costs about what moving the bytes does.

use super::{Applied, CacheWork, Fetched};
use crate::cache::writes::{writes, Ttl};
use crate::cache::{Bulk, Reply};
use crate::net::ConnError;
use crate::store::outbox::OutboxOp;
use crate::store::StoreError;
use crate::worker::Lease;
use tokio::sync::mpsc::{Receiver, Sender};

/// Bytes of commands per round trip: large enough that waiting for the replies is a small
/// part of it, small enough that the buffer stays in cache-friendly sizes.
const BULK_BYTES: usize = 1 << 20;

/// A pipeline's operations and what sending them came to.
type Sent = (Vec<OutboxOp>, Result<Vec<Reply>, ConnError>);

impl CacheWork {
    pub(super) async fn apply_bulk(
        &self,
        conn: Box<dyn Bulk>,
        lease: &Lease,
        fetched: Receiver<Vec<Fetched>>,
        ttl: Ttl,
    ) -> Result<Applied, StoreError> {
        let (sent_tx, mut sent) = tokio::sync::mpsc::channel::<Sent>(1);
        let sender = tokio::task::spawn_blocking(move || send_all(conn, fetched, sent_tx, ttl));
        let mut out = Applied::new();
        while let Some((ops, replies)) = sent.recv().await {
            match replies {
                Ok(replies) => {
                    out.touched(&ops);
                    self.record(&ops, &replies).await?;
                }
                Err(e) => {
                    out.unreachable = Some(e);
                    break;
                }
            }
            if lease.lost() {
                break;
            }
        }
        // Closing the channel stops the sender at its next hand-over.
        drop(sent);
        out.built = sender
            .await
            .map_err(|e| StoreError::Corrupt(format!("building cache values failed: {e}")))?;
        Ok(out)
    }
}

/// Encodes and sends every fetched pipeline in turn; stops at the first connection error
/// (handed over with its operations) or when the receiving side is gone.
fn send_all(
    mut conn: Box<dyn Bulk>,
    mut fetched: Receiver<Vec<Fetched>>,
    sent: Sender<Sent>,
    ttl: Ttl,
) -> Result<(), StoreError> {
    let mut buf = Vec::with_capacity(BULK_BYTES + (BULK_BYTES >> 2));
    while let Some(batch) = fetched.blocking_recv() {
        for f in batch {
            let result = send_pipeline(conn.as_mut(), &mut buf, &f, ttl)?;
            let failed = result.is_err();
            if sent.blocking_send((f.ops, result)).is_err() || failed {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// One fetched pipeline's writes, in round trips of about [`BULK_BYTES`].
fn send_pipeline(
    conn: &mut dyn Bulk,
    buf: &mut Vec<u8>,
    f: &Fetched,
    ttl: Ttl,
) -> Result<Result<Vec<Reply>, ConnError>, StoreError> {
    let writes = writes(&f.ops, &f.blobs.index()?, ttl)?;
    let mut replies = Vec::with_capacity(writes.len());
    let mut queued = 0;
    for (i, w) in writes.iter().enumerate() {
        w.encode(buf);
        queued += 1;
        if buf.len() >= BULK_BYTES || i + 1 == writes.len() {
            let sent = conn.send(buf, queued);
            buf.clear();
            queued = 0;
            match sent {
                Ok(r) => replies.extend(r),
                Err(e) => return Ok(Err(e)),
            }
        }
    }
    Ok(Ok(replies))
}
