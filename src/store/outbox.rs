//! The cache outbox: a release's cache operations, written in the release's transaction and
//! applied by the cache worker. A newer release's operation on a key supersedes older pending
//! ones, so a stale value is never written after a fresher one.

use super::{on_pool, on_tx, Store, StoreError, Tx};
use crate::domain::publish::CacheStep;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An operation to record: `op` is `del`, `page` or `homepage`; writes name the compiled
/// page (content hash) and how it is stamped.
#[derive(Debug, Clone)]
pub struct NewCacheOp {
    pub key: String,
    pub op: &'static str,
    pub content_hash: Option<String>,
    pub version: Option<i64>,
    pub published_at: Option<String>,
}

impl NewCacheOp {
    pub fn del(key: String) -> NewCacheOp {
        NewCacheOp {
            key,
            op: "del",
            content_hash: None,
            version: None,
            published_at: None,
        }
    }

    pub fn write(key: String, op: &'static str) -> NewCacheOp {
        NewCacheOp {
            op,
            ..NewCacheOp::del(key)
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxOp {
    pub id: Uuid,
    pub release_id: Uuid,
    /// The job that wrote it (its cache step); none only for operations of a release
    /// that was pruned before jobs were recorded with them.
    pub job_id: Option<Uuid>,
    pub release_number: i64,
    pub seq: i64,
    pub cache_key: String,
    pub op: String,
    pub content_hash: Option<String>,
    pub version: Option<i64>,
    pub published_at: Option<String>,
    pub attempts: i64,
}

impl OutboxOp {
    /// Where a drain that has read up to this operation goes on from.
    pub fn cursor(&self) -> OutboxCursor {
        OutboxCursor {
            release_number: self.release_number,
            seq: self.seq,
            id: self.id,
        }
    }
}

/// A position in a project's outbox order (release, then sequence, then id).
#[derive(Debug, Clone, Copy)]
pub struct OutboxCursor {
    pub release_number: i64,
    pub seq: i64,
    pub id: Uuid,
}

impl OutboxCursor {
    /// Before every operation.
    pub fn start() -> OutboxCursor {
        OutboxCursor {
            release_number: i64::MIN,
            seq: i64::MIN,
            id: Uuid::nil(),
        }
    }
}

/// Outbox figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutboxStats {
    pub pending: i64,
    pub oldest: Option<DateTime<Utc>>,
}

impl Store {
    /// Records a job's operations on a release (inside the transaction that records the
    /// release), superseding pending operations of older releases on the same keys.
    pub async fn enqueue_cache_ops(
        &self,
        tx: &mut Tx,
        job: &crate::domain::publish::Job,
        release_id: Uuid,
        release_number: i64,
        ops: &[NewCacheOp],
    ) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let (project_id, now) = (job.project_id, self.clock.now());
        let count = ops.len() as i64;
        let sql = "UPDATE publish_jobs SET cache_ops = cache_ops + $2 WHERE id = $1";
        on_tx!(tx, c => sqlx::query(sql).bind(job.id).bind(count).execute(&mut *c).await.map(|_| ()))?;
        for (n, chunk) in ops.chunks(200).enumerate() {
            on_tx!(tx, c => {
                let mut qb = sqlx::QueryBuilder::new("UPDATE cache_outbox SET state = 'superseded', done_at = ");
                qb.push_bind(now).push(" WHERE project_id = ").push_bind(project_id)
                    .push(" AND state = 'pending' AND cache_key IN (");
                let mut sep = qb.separated(", ");
                for op in chunk {
                    sep.push_bind(&op.key);
                }
                qb.push(")");
                qb.build().execute(&mut *c).await?;
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO cache_outbox (id, project_id, release_id, job_id, release_number, seq, cache_key, op, \
                     content_hash, version, published_at, state, attempts, next_attempt_at, created_at) ");
                qb.push_values(chunk.iter().enumerate(), |mut b, (i, op)| {
                    b.push_bind(Uuid::new_v4()).push_bind(project_id).push_bind(release_id).push_bind(job.id)
                        .push_bind(release_number)
                        .push_bind((n * 200 + i) as i64).push_bind(&op.key).push_bind(op.op).push_bind(&op.content_hash)
                        .push_bind(op.version).push_bind(&op.published_at).push_bind("pending").push_bind(0_i64)
                        .push_bind(now).push_bind(now);
                });
                qb.build().execute(&mut *c).await?;
            });
        }
        Ok(())
    }

    /// Projects with operations due now.
    pub async fn outbox_projects_due(&self) -> Result<Vec<Uuid>, StoreError> {
        let sql = "SELECT DISTINCT project_id FROM cache_outbox WHERE state = 'pending' AND next_attempt_at <= $1";
        Ok(
            on_pool!(self, p => sqlx::query_scalar::<_, Uuid>(sql).bind(self.clock.now()).fetch_all(&mut *p).await)?,
        )
    }

    /// The project's next due operations, oldest release first.
    pub async fn outbox_batch(
        &self,
        project_id: Uuid,
        limit: i64,
    ) -> Result<Vec<OutboxOp>, StoreError> {
        self.outbox_batch_after(project_id, OutboxCursor::start(), limit)
            .await
    }

    /// The project's next due operations after `after`, in outbox order: a drain reads its
    /// next batch while the previous one is still being applied (and not marked done yet).
    /// The pair comparison lets both databases walk the `(release_number, seq)` index from
    /// the cursor; `id` only breaks ties (a release's `seq` was once per chunk of 200).
    pub async fn outbox_batch_after(
        &self,
        project_id: Uuid,
        after: OutboxCursor,
        limit: i64,
    ) -> Result<Vec<OutboxOp>, StoreError> {
        let sql = "SELECT id, release_id, job_id, release_number, seq, cache_key, op, content_hash, version, published_at, attempts \
                   FROM cache_outbox WHERE project_id = $1 AND state = 'pending' AND next_attempt_at <= $2 \
                   AND (release_number, seq) >= ($3, $4) AND (release_number, seq, id) > ($3, $4, $5) \
                   ORDER BY release_number, seq, id LIMIT $6";
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, OutboxOp>(sql).bind(project_id).bind(self.clock.now())
            .bind(after.release_number).bind(after.seq).bind(after.id).bind(limit).fetch_all(&mut *p).await)?,
        )
    }

    /// Marks operations `done` (or `failed`: the cache refused them; never retried).
    pub async fn outbox_finish(
        &self,
        ids: &[Uuid],
        failed: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let (state, kind, message) = match failed {
            Some((k, m)) => ("failed", Some(k), Some(m)),
            None => ("done", None, None),
        };
        for chunk in ids.chunks(500) {
            on_pool!(self, p => {
                let mut qb = sqlx::QueryBuilder::new("UPDATE cache_outbox SET state = ");
                qb.push_bind(state).push(", done_at = ").push_bind(now)
                    .push(", last_error_kind = COALESCE(").push_bind(kind).push(", last_error_kind)")
                    .push(", last_error = COALESCE(").push_bind(message).push(", last_error)")
                    .push(" WHERE state = 'pending' AND id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id);
                }
                qb.push(")");
                qb.build().execute(&mut *p).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Postpones every pending operation of a project (the cache could not be reached).
    pub async fn outbox_postpone(
        &self,
        project_id: Uuid,
        until: DateTime<Utc>,
        kind: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE cache_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error_kind = $3, last_error = $4 \
                   WHERE project_id = $1 AND state = 'pending'";
        on_pool!(self, p => sqlx::query(sql).bind(project_id).bind(until).bind(kind).bind(message).execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }

    /// Drops a project's pending operations (its cache was switched off since).
    pub async fn outbox_skip(&self, project_id: Uuid) -> Result<(), StoreError> {
        let sql = "UPDATE cache_outbox SET state = 'skipped', done_at = $2 WHERE project_id = $1 AND state = 'pending'";
        on_pool!(self, p => sqlx::query(sql).bind(project_id).bind(self.clock.now()).execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }

    /// The cache step of a job, when it wrote operations. Clients poll it while thousands
    /// of operations drain: the total is kept with the job (counted only if the job is gone),
    /// and the rest is counted over the operations not done yet.
    pub async fn cache_step(&self, job_id: Uuid) -> Result<Option<CacheStep>, StoreError> {
        let sql = "SELECT COALESCE((SELECT cache_ops FROM publish_jobs WHERE id = $1), \
                       (SELECT COUNT(*) FROM cache_outbox WHERE job_id = $1)), \
                   COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN state = 'pending' AND attempts > 0 THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN last_error_kind IS NOT NULL THEN 1 ELSE 0 END), 0) \
                   FROM cache_outbox WHERE job_id = $1 AND state <> 'done'";
        let (total, pending, failed, retrying, errored): (i64, i64, i64, i64, i64) =
            on_pool!(self, p => sqlx::query_as(sql).bind(job_id).fetch_one(&mut *p).await)?;
        if total == 0 {
            return Ok(None);
        }
        let (last_error_kind, last_error) = if errored > 0 {
            let sql = "SELECT last_error_kind, last_error FROM cache_outbox \
                       WHERE job_id = $1 AND state <> 'done' AND last_error_kind IS NOT NULL LIMIT 1";
            let row: Option<(Option<String>, Option<String>)> = on_pool!(self, p => sqlx::query_as(sql).bind(job_id).fetch_optional(&mut *p).await)?;
            row.unwrap_or_default()
        } else {
            (None, None)
        };
        let status = if failed > 0 {
            "failed"
        } else if retrying > 0 {
            "retrying"
        } else if pending > 0 {
            "pending"
        } else {
            "done"
        };
        Ok(Some(CacheStep {
            status: status.into(),
            operations: total as u64,
            done: (total - pending - failed) as u64,
            last_error_kind,
            last_error,
        }))
    }

    /// A project's operations not applied yet.
    pub async fn pending_cache_ops(&self, project_id: Uuid) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM cache_outbox WHERE project_id = $1 AND state = 'pending'";
        Ok(
            on_pool!(self, p => sqlx::query_scalar::<_, i64>(sql).bind(project_id).fetch_one(&mut *p).await)?,
        )
    }

    /// The job with its release's cache step.
    pub async fn with_cache_step(
        &self,
        mut job: crate::domain::publish::Job,
    ) -> Result<crate::domain::publish::Job, StoreError> {
        if job.release_id.is_some() {
            job.cache = self.cache_step(job.id).await?;
        }
        Ok(job)
    }

    pub async fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        let sql = "SELECT COUNT(*), MIN(created_at) FROM cache_outbox WHERE state = 'pending'";
        let (pending, oldest): (i64, Option<DateTime<Utc>>) =
            on_pool!(self, p => sqlx::query_as(sql).fetch_one(&mut *p).await)?;
        Ok(OutboxStats { pending, oldest })
    }
}
