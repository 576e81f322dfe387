//! Publish jobs, project leases, releases and compiled page blobs.

use super::{on_pool, on_tx, Store, StoreError, Tx};
use crate::domain::publish::{Job, JobRequest, JobResult, JobState, Progress};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

const JOB_COLS: &str =
    "id, project_id, kind, request, state, progress, result, release_id, attempts, created_by, \
                        created_at, started_at, finished_at, request_hash";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    project_id: Uuid,
    kind: String,
    request: Json<Value>,
    state: String,
    progress: Json<Value>,
    result: Option<Json<Value>>,
    release_id: Option<Uuid>,
    attempts: i64,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    request_hash: String,
}

impl JobRow {
    fn into_job(self) -> Result<(Job, String), StoreError> {
        let request: JobRequest = serde_json::from_value(self.request.0)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let job = Job {
            id: self.id,
            project_id: self.project_id,
            kind: self.kind,
            request,
            state: JobState::parse(&self.state),
            progress: serde_json::from_value(self.progress.0).unwrap_or_default(),
            result: self.result.and_then(|r| serde_json::from_value(r.0).ok()),
            release_id: self.release_id,
            attempts: self.attempts,
            created_by: self.created_by,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            cache: None,
        };
        Ok((job, self.request_hash))
    }
}

/// A new job's stored request, its hash (idempotency) and its initial progress.
fn new_job(request: &JobRequest) -> Result<(Value, String, Json<Value>), StoreError> {
    let body = serde_json::to_value(request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        crate::compile::canonical_json(&body).as_bytes(),
    ));
    let progress = Json(
        serde_json::to_value(Progress {
            stage: "queued".into(),
            ..Default::default()
        })
        .unwrap_or_default(),
    );
    Ok((body, hash, progress))
}

fn insert_job_sql() -> String {
    format!(
        "INSERT INTO publish_jobs (id, project_id, kind, request, idempotency_key, request_hash, created_by, state, progress, attempts, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, 0, $9) ON CONFLICT (project_id, idempotency_key) DO NOTHING RETURNING {JOB_COLS}"
    )
}

/// How long an `Idempotency-Key` is remembered.
const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;

/// Outcome of enqueueing with an idempotency key.
pub enum Enqueued {
    Created(Job),
    /// The same key and body within the window: the job created the first time.
    Existing(Job),
    /// The same key with another body.
    KeyReused,
}

impl Store {
    pub async fn enqueue_job(
        &self,
        project_id: Uuid,
        request: &JobRequest,
        key: Option<&str>,
        created_by: Option<Uuid>,
    ) -> Result<Enqueued, StoreError> {
        let (body, hash, progress) = new_job(request)?;
        let now = self.clock.now();
        let insert = insert_job_sql();
        let row = on_pool!(self, p => {
            if let Some(k) = key {
                // A key older than the window may be used again for a new job.
                sqlx::query("UPDATE publish_jobs SET idempotency_key = NULL WHERE project_id = $1 AND idempotency_key = $2 AND created_at < $3")
                    .bind(project_id).bind(k).bind(now - Duration::hours(IDEMPOTENCY_WINDOW_HOURS)).execute(&mut *p).await?;
            }
            sqlx::query_as::<_, JobRow>(&insert)
                .bind(Uuid::new_v4())
                .bind(project_id)
                .bind(request.kind())
                .bind(Json(&body))
                .bind(key)
                .bind(&hash)
                .bind(created_by)
                .bind(&progress)
                .bind(now)
                .fetch_optional(&mut *p)
                .await?
        });
        if let Some(row) = row {
            return Ok(Enqueued::Created(row.into_job()?.0));
        }
        let sql = format!(
            "SELECT {JOB_COLS} FROM publish_jobs WHERE project_id = $1 AND idempotency_key = $2"
        );
        let existing = on_pool!(self, p => sqlx::query_as::<_, JobRow>(&sql).bind(project_id).bind(key).fetch_one(&mut *p).await)?;
        let (job, existing_hash) = existing.into_job()?;
        Ok(if existing_hash == hash {
            Enqueued::Existing(job)
        } else {
            Enqueued::KeyReused
        })
    }

    /// Enqueues a job inside `tx` (no idempotency key), so whatever asked for it (a schedule
    /// being claimed) commits with it or not at all.
    pub async fn enqueue_job_with_id(
        &self,
        tx: &mut Tx,
        id: Uuid,
        project_id: Uuid,
        request: &JobRequest,
        created_by: Option<Uuid>,
    ) -> Result<Job, StoreError> {
        let (body, hash, progress) = new_job(request)?;
        let insert = insert_job_sql();
        let row = on_tx!(tx, c => sqlx::query_as::<_, JobRow>(&insert)
            .bind(id)
            .bind(project_id)
            .bind(request.kind())
            .bind(Json(&body))
            .bind(None::<&str>)
            .bind(&hash)
            .bind(created_by)
            .bind(&progress)
            .bind(self.clock.now())
            .fetch_one(c)
            .await?);
        Ok(row.into_job()?.0)
    }

    pub async fn get_job(&self, id: Uuid) -> Result<Job, StoreError> {
        let sql = format!("SELECT {JOB_COLS} FROM publish_jobs WHERE id = $1");
        let row = on_pool!(self, p => sqlx::query_as::<_, JobRow>(&sql).bind(id).fetch_optional(&mut *p).await)?;
        Ok(row.ok_or(StoreError::NotFound)?.into_job()?.0)
    }

    pub async fn list_jobs(
        &self,
        project_id: Uuid,
        w: super::Window,
    ) -> Result<(Vec<Job>, i64), StoreError> {
        let sql = format!("SELECT {JOB_COLS} FROM publish_jobs WHERE project_id = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3");
        let (rows, total) = on_pool!(self, p => {
            let rows = sqlx::query_as::<_, JobRow>(&sql).bind(project_id).bind(w.limit).bind(w.offset).fetch_all(&mut *p).await?;
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM publish_jobs WHERE project_id = $1").bind(project_id).fetch_one(&mut *p).await?;
            (rows, total)
        });
        let jobs = rows
            .into_iter()
            .map(|r| r.into_job().map(|j| j.0))
            .collect::<Result<_, _>>()?;
        Ok((jobs, total))
    }

    /// Projects with work left: queued jobs, or running ones whose worker may have died.
    pub async fn projects_with_pending_jobs(&self) -> Result<Vec<Uuid>, StoreError> {
        let sql =
            "SELECT DISTINCT project_id FROM publish_jobs WHERE state IN ('queued', 'running')";
        Ok(on_pool!(self, p => sqlx::query_scalar::<_, Uuid>(sql).fetch_all(&mut *p).await)?)
    }

    /// The project's oldest unfinished job. Only the lease holder calls this, so a `running`
    /// job here was left behind by a worker that lost its lease.
    pub async fn next_job(&self, project_id: Uuid) -> Result<Option<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLS} FROM publish_jobs WHERE project_id = $1 AND state IN ('queued', 'running') \
             ORDER BY created_at, id LIMIT 1"
        );
        let row = on_pool!(self, p => sqlx::query_as::<_, JobRow>(&sql).bind(project_id).fetch_optional(&mut *p).await)?;
        row.map(|r| r.into_job().map(|j| j.0)).transpose()
    }

    pub async fn start_job(&self, id: Uuid) -> Result<(), StoreError> {
        let sql = "UPDATE publish_jobs SET state = 'running', attempts = attempts + 1, started_at = COALESCE(started_at, $2) WHERE id = $1";
        on_pool!(self, p => sqlx::query(sql).bind(id).bind(self.clock.now()).execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn set_progress(&self, id: Uuid, progress: &Progress) -> Result<(), StoreError> {
        let value = serde_json::to_value(progress).unwrap_or_default();
        let sql = "UPDATE publish_jobs SET progress = $2 WHERE id = $1";
        on_pool!(self, p => sqlx::query(sql).bind(id).bind(Json(&value)).execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }

    /// Ends a job without a release (failure).
    pub async fn fail_job(
        &self,
        tx: &mut Tx,
        id: Uuid,
        progress: &Progress,
        result: &JobResult,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE publish_jobs SET state = 'failed', progress = $2, result = $3, finished_at = $4 WHERE id = $1";
        let (pr, re) = (
            serde_json::to_value(progress).unwrap_or_default(),
            serde_json::to_value(result).unwrap_or_default(),
        );
        on_tx!(tx, c => sqlx::query(sql).bind(id).bind(Json(&pr)).bind(Json(&re)).bind(self.clock.now()).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// Takes (or keeps) the project's publish lease. Atomic on both backends: the upsert only
    /// overwrites an expired lease or our own.
    pub async fn acquire_lease(
        &self,
        project_id: Uuid,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let sql = "INSERT INTO project_leases (project_id, owner, expires_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (project_id) DO UPDATE SET owner = $2, expires_at = $3 \
                   WHERE project_leases.expires_at < $4 OR project_leases.owner = $2 RETURNING owner";
        let got = on_pool!(self, p => sqlx::query_scalar::<_, String>(sql).bind(project_id).bind(owner).bind(now + ttl).bind(now).fetch_optional(&mut *p).await)?;
        Ok(got.is_some())
    }

    /// Extends our lease; false when it was lost (expired and taken by another worker).
    pub async fn renew_lease(
        &self,
        project_id: Uuid,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE project_leases SET expires_at = $3 WHERE project_id = $1 AND owner = $2";
        let n = on_pool!(self, p => sqlx::query(sql).bind(project_id).bind(owner).bind(self.clock.now() + ttl).execute(&mut *p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn release_lease(&self, project_id: Uuid, owner: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM project_leases WHERE project_id = $1 AND owner = $2";
        on_pool!(self, p => sqlx::query(sql).bind(project_id).bind(owner).execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }
}
