//! The cache outbox: a release's cache operations, written in the release's transaction and
//! applied by the cache worker. A newer release's operation on a key supersedes older pending
//! ones, so a stale value is never written after a fresher one.

use super::{on_pool, on_tx, Store, StoreError, Tx};
use crate::domain::publish::CacheStep;
use chrono::{DateTime, Utc};
use uuid::Uuid;

mod rows;

pub use rows::{NewCacheOp, OutboxCursor, OutboxOp, OutboxStats};

impl Store {
    /// Records a job's operations on a release (inside the transaction that records the
    /// release), superseding pending operations of older releases on the same keys; returns
    /// the (job, release) cache steps it superseded operations of (see
    /// [`Store::enqueue_release_cache_ops`]).
    pub async fn enqueue_cache_ops(
        &self,
        tx: &mut Tx,
        job: &crate::domain::publish::Job,
        release_id: Uuid,
        release_number: i64,
        ops: &[NewCacheOp],
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let count = ops.len() as i64;
        let sql = "UPDATE publish_jobs SET cache_ops = cache_ops + $2 WHERE id = $1";
        on_tx!(tx, c => sqlx::query(sql).bind(job.id).bind(count).execute(&mut *c).await.map(|_| ()))?;
        self.enqueue_release_cache_ops(
            tx,
            job.project_id,
            Some(job.id),
            release_id,
            release_number,
            ops,
        )
        .await
    }

    /// Records operations on a release with no job behind them (the verifier's cache repair),
    /// superseding pending operations of older writes on the same keys. Returns the (job,
    /// release) cache steps whose operations it superseded: a step may be over now with no
    /// operation left for the cache worker to apply, so its caller settles them after the
    /// commit (`cache::outbox::settle_steps`), or their `publish.cache_done` never comes.
    pub async fn enqueue_release_cache_ops(
        &self,
        tx: &mut Tx,
        project_id: Uuid,
        job_id: Option<Uuid>,
        release_id: Uuid,
        release_number: i64,
        ops: &[NewCacheOp],
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        let now = self.clock.now();
        let mut superseded: Vec<(Uuid, Uuid)> = Vec::new();
        for (n, chunk) in ops.chunks(200).enumerate() {
            let steps: Vec<(Option<Uuid>, Uuid)> = on_tx!(tx, c => {
                let mut qb = sqlx::QueryBuilder::new("UPDATE cache_outbox SET state = 'superseded', done_at = ");
                qb.push_bind(now).push(" WHERE project_id = ").push_bind(project_id)
                    .push(" AND state = 'pending' AND cache_key IN (");
                let mut sep = qb.separated(", ");
                for op in chunk {
                    sep.push_bind(&op.key);
                }
                qb.push(") RETURNING job_id, release_id");
                let steps = qb.build_query_as::<(Option<Uuid>, Uuid)>().fetch_all(&mut *c).await?;
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO cache_outbox (id, project_id, release_id, job_id, release_number, seq, cache_key, op, \
                     content_hash, version, published_at, state, attempts, next_attempt_at, created_at) ");
                qb.push_values(chunk.iter().enumerate(), |mut b, (i, op)| {
                    b.push_bind(Uuid::new_v4()).push_bind(project_id).push_bind(release_id).push_bind(job_id)
                        .push_bind(release_number)
                        .push_bind((n * 200 + i) as i64).push_bind(&op.key).push_bind(op.op).push_bind(&op.content_hash)
                        .push_bind(op.version).push_bind(&op.published_at).push_bind("pending").push_bind(0_i64)
                        .push_bind(now).push_bind(now);
                });
                qb.build().execute(&mut *c).await?;
                steps
            });
            for (job, release) in steps {
                if let Some(job) = job.filter(|j| Some(*j) != job_id) {
                    if !superseded.contains(&(job, release)) {
                        superseded.push((job, release));
                    }
                }
            }
        }
        Ok(superseded)
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

    /// Drops a project's pending operations (its cache was switched off since), keeping the
    /// reason with them so the job's cache step can say why nothing was written.
    pub async fn outbox_skip(&self, project_id: Uuid, reason: &str) -> Result<(), StoreError> {
        let sql = "UPDATE cache_outbox SET state = 'skipped', done_at = $2, last_error_kind = 'disabled', last_error = $3 \
                   WHERE project_id = $1 AND state = 'pending'";
        on_pool!(self, p => sqlx::query(sql).bind(project_id).bind(self.clock.now()).bind(reason).execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }

    /// The cache step of a job, when it wrote operations. Clients poll it while thousands
    /// of operations drain.
    pub async fn cache_step(&self, job_id: Uuid) -> Result<Option<CacheStep>, StoreError> {
        Ok(self.cache_steps(&[job_id]).await?.remove(&job_id))
    }

    /// The cache steps of several jobs in one statement (a job without cache operations has
    /// none). The total is the count kept with the job; only operations not yet done are
    /// counted, so a poll costs what is left, not everything a job wrote.
    pub async fn cache_steps(&self, job_ids: &[Uuid]) -> Result<Steps, StoreError> {
        if job_ids.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<StepRow> = on_pool!(self, p => {
            steps_query(job_ids).build_query_as().fetch_all(&mut *p).await?
        });
        Ok(steps(rows))
    }

    /// [`Store::cache_steps`] as `tx` sees them (operations it superseded count as over).
    pub async fn cache_steps_in(&self, tx: &mut Tx, job_ids: &[Uuid]) -> Result<Steps, StoreError> {
        if job_ids.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<StepRow> = on_tx!(tx, c => {
            steps_query(job_ids).build_query_as().fetch_all(&mut *c).await?
        });
        Ok(steps(rows))
    }

    /// When each of a project's cache keys was last written (applied writes only; deletes
    /// and operations never applied do not count). Read through the project's releases, whose
    /// index reaches their operations; kept only for as long as retention keeps them.
    pub async fn cache_keys_written(
        &self,
        project_id: Uuid,
    ) -> Result<std::collections::HashMap<String, DateTime<Utc>>, StoreError> {
        let sql = "SELECT cache_key, MAX(done_at) FROM cache_outbox \
                   WHERE release_id IN (SELECT id FROM releases WHERE project_id = $1) \
                   AND state = 'done' AND op <> 'del' AND done_at IS NOT NULL GROUP BY cache_key";
        let rows: Vec<(String, DateTime<Utc>)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(project_id).fetch_all(p).await)?;
        Ok(rows.into_iter().collect())
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
        job: crate::domain::publish::Job,
    ) -> Result<crate::domain::publish::Job, StoreError> {
        Ok(self.with_cache_steps(vec![job]).await?.remove(0))
    }

    /// Jobs with their cache steps, read in one statement for the whole list.
    pub async fn with_cache_steps(
        &self,
        mut jobs: Vec<crate::domain::publish::Job>,
    ) -> Result<Vec<crate::domain::publish::Job>, StoreError> {
        let ids: Vec<Uuid> = jobs
            .iter()
            .filter(|j| j.release_id.is_some())
            .map(|j| j.id)
            .collect();
        let mut steps = self.cache_steps(&ids).await?;
        for job in &mut jobs {
            job.cache = steps.remove(&job.id);
        }
        Ok(jobs)
    }

    pub async fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        let sql = "SELECT COUNT(*), MIN(created_at) FROM cache_outbox WHERE state = 'pending'";
        let (pending, oldest): (i64, Option<DateTime<Utc>>) =
            on_pool!(self, p => sqlx::query_as(sql).fetch_one(&mut *p).await)?;
        Ok(OutboxStats { pending, oldest })
    }
}

/// Cache steps by job id.
pub type Steps = std::collections::HashMap<Uuid, CacheStep>;

/// (job, total, pending, failed, retrying, skipped, first error kind, first error)
type StepRow = (
    Uuid,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

fn steps_query<'a, DB: sqlx::Database>(job_ids: &[Uuid]) -> sqlx::QueryBuilder<'a, DB>
where
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let first_error = |col: &str| {
        format!(
            "(SELECT e.{col} FROM cache_outbox e WHERE e.job_id = j.id AND e.state <> 'done' \
             AND e.last_error_kind IS NOT NULL ORDER BY e.id LIMIT 1)"
        )
    };
    let head = format!(
        "SELECT j.id, j.cache_ops, \
         COALESCE(SUM(CASE WHEN o.state = 'pending' THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN o.state = 'failed' THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN o.state = 'pending' AND o.attempts > 0 THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN o.state = 'skipped' THEN 1 ELSE 0 END), 0), \
         {}, {} \
         FROM publish_jobs j LEFT JOIN cache_outbox o ON o.job_id = j.id AND o.state <> 'done' \
         WHERE j.id IN (",
        first_error("last_error_kind"),
        first_error("last_error")
    );
    let mut qb = sqlx::QueryBuilder::new(head);
    let mut sep = qb.separated(", ");
    for id in job_ids {
        sep.push_bind(*id);
    }
    qb.push(") GROUP BY j.id, j.cache_ops");
    qb
}

fn steps(rows: Vec<StepRow>) -> Steps {
    rows.into_iter()
        .filter(|r| r.1 > 0)
        .map(
            |(id, total, pending, failed, retrying, skipped, kind, error)| {
                let status = if failed > 0 {
                    "failed"
                } else if retrying > 0 {
                    "retrying"
                } else if pending > 0 {
                    "pending"
                } else if skipped > 0 {
                    "skipped"
                } else {
                    "done"
                };
                let step = CacheStep {
                    status: status.into(),
                    operations: total as u64,
                    done: (total - pending - failed - skipped) as u64,
                    last_error_kind: kind,
                    last_error: error,
                };
                (id, step)
            },
        )
        .collect()
}
