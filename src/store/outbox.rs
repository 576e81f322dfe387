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
    pub cache_key: String,
    pub op: String,
    pub content_hash: Option<String>,
    pub version: Option<i64>,
    pub published_at: Option<String>,
    pub attempts: i64,
}

/// Outbox figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutboxStats {
    pub pending: i64,
    pub oldest: Option<DateTime<Utc>>,
}

impl Store {
    /// Records a release's operations (inside the release's transaction), superseding pending
    /// operations of older releases on the same keys.
    pub async fn enqueue_cache_ops(
        &self,
        tx: &mut Tx,
        project_id: Uuid,
        release_id: Uuid,
        release_number: i64,
        ops: &[NewCacheOp],
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        for chunk in ops.chunks(200) {
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
                    "INSERT INTO cache_outbox (id, project_id, release_id, release_number, seq, cache_key, op, content_hash, \
                     version, published_at, state, attempts, next_attempt_at, created_at) ");
                qb.push_values(chunk.iter().enumerate(), |mut b, (i, op)| {
                    b.push_bind(Uuid::new_v4()).push_bind(project_id).push_bind(release_id).push_bind(release_number)
                        .push_bind(i as i64).push_bind(&op.key).push_bind(op.op).push_bind(&op.content_hash)
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
            on_pool!(self, p => sqlx::query_scalar::<_, Uuid>(sql).bind(self.clock.now()).fetch_all(p).await)?,
        )
    }

    /// The project's next due operations, oldest release first.
    pub async fn outbox_batch(
        &self,
        project_id: Uuid,
        limit: i64,
    ) -> Result<Vec<OutboxOp>, StoreError> {
        let sql = "SELECT id, release_id, cache_key, op, content_hash, version, published_at, attempts FROM cache_outbox \
                   WHERE project_id = $1 AND state = 'pending' AND next_attempt_at <= $2 \
                   ORDER BY release_number, seq LIMIT $3";
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, OutboxOp>(sql).bind(project_id).bind(self.clock.now()).bind(limit).fetch_all(p).await)?,
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
                qb.build().execute(p).await.map(|_| ())
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
        on_pool!(self, p => sqlx::query(sql).bind(project_id).bind(until).bind(kind).bind(message).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Drops a project's pending operations (its cache was switched off since).
    pub async fn outbox_skip(&self, project_id: Uuid) -> Result<(), StoreError> {
        let sql = "UPDATE cache_outbox SET state = 'skipped', done_at = $2 WHERE project_id = $1 AND state = 'pending'";
        on_pool!(self, p => sqlx::query(sql).bind(project_id).bind(self.clock.now()).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// The cache step of a release, when it has operations.
    pub async fn cache_step(&self, release_id: Uuid) -> Result<Option<CacheStep>, StoreError> {
        let sql = "SELECT state, attempts, last_error_kind, last_error FROM cache_outbox WHERE release_id = $1";
        let rows: Vec<(String, i64, Option<String>, Option<String>)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(release_id).fetch_all(p).await)?;
        if rows.is_empty() {
            return Ok(None);
        }
        let count = |s: &str| rows.iter().filter(|r| r.0 == s).count() as u64;
        let (pending, failed) = (count("pending"), count("failed"));
        let retrying = rows.iter().any(|r| r.0 == "pending" && r.1 > 0);
        let errored = rows.iter().find(|r| r.2.is_some() && r.0 != "done");
        let status = if failed > 0 {
            "failed"
        } else if retrying {
            "retrying"
        } else if pending > 0 {
            "pending"
        } else {
            "done"
        };
        Ok(Some(CacheStep {
            status: status.into(),
            operations: rows.len() as u64,
            done: rows.len() as u64 - pending - failed,
            last_error_kind: errored.and_then(|r| r.2.clone()),
            last_error: errored.and_then(|r| r.3.clone()),
        }))
    }

    /// A project's operations not applied yet.
    pub async fn pending_cache_ops(&self, project_id: Uuid) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM cache_outbox WHERE project_id = $1 AND state = 'pending'";
        Ok(
            on_pool!(self, p => sqlx::query_scalar::<_, i64>(sql).bind(project_id).fetch_one(p).await)?,
        )
    }

    /// The job with its release's cache step.
    pub async fn with_cache_step(
        &self,
        mut job: crate::domain::publish::Job,
    ) -> Result<crate::domain::publish::Job, StoreError> {
        if let Some(release) = job.release_id {
            job.cache = self.cache_step(release).await?;
        }
        Ok(job)
    }

    pub async fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        let sql = "SELECT COUNT(*), MIN(created_at) FROM cache_outbox WHERE state = 'pending'";
        let (pending, oldest): (i64, Option<DateTime<Utc>>) =
            on_pool!(self, p => sqlx::query_as(sql).fetch_one(p).await)?;
        Ok(OutboxStats { pending, oldest })
    }
}
