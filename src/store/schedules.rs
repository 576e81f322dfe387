//! Scheduled publishes. The worker claims a due schedule with a conditional UPDATE (`WHERE
//! state = 'pending'`) in the transaction that inserts its publish job: of several processes
//! racing for one schedule exactly one sees its UPDATE change a row (Postgres re-checks the
//! condition after waiting for the winner's row lock; SQLite has one writer), and a crash
//! before the commit loses neither the schedule nor doubles the job.

use super::{on_pool, on_tx, Store, StoreError, Window};
use crate::domain::publish::{Job, JobRequest};
use crate::domain::schedule::{late_by, Schedule, ScheduleRequest, ScheduleState, LATE_AFTER_SECS};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

const COLS: &str = "id, project_id, run_at, request, state, job_id, late_by_secs, error, created_by, created_at, finished_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    project_id: Uuid,
    run_at: DateTime<Utc>,
    request: Json<Value>,
    state: String,
    job_id: Option<Uuid>,
    late_by_secs: Option<i64>,
    error: Option<String>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl Row {
    fn into_schedule(self) -> Result<Schedule, StoreError> {
        let request: ScheduleRequest = serde_json::from_value(self.request.0)
            .map_err(|e| StoreError::Corrupt(format!("schedule {}: {e}", self.id)))?;
        let state = ScheduleState::parse(&self.state)
            .ok_or_else(|| StoreError::Corrupt(format!("schedule state {}", self.state)))?;
        Ok(Schedule {
            id: self.id,
            project_id: self.project_id,
            at: self.run_at,
            request,
            state,
            job_id: self.job_id,
            late_by_secs: self.late_by_secs,
            late: self.late_by_secs.is_some_and(|s| s > LATE_AFTER_SECS),
            error: self.error,
            created_by: self.created_by,
            created_at: self.created_at,
            finished_at: self.finished_at,
        })
    }
}

/// The outcome of cancelling.
pub enum Cancel {
    Cancelled(Schedule),
    /// Cancelled before.
    AlreadyCancelled(Schedule),
    /// Already ran or failed: nothing left to cancel.
    Finished(Schedule),
}

impl Store {
    pub async fn create_schedule(
        &self,
        project_id: Uuid,
        at: DateTime<Utc>,
        request: &ScheduleRequest,
        created_by: Option<Uuid>,
    ) -> Result<Schedule, StoreError> {
        let body = serde_json::to_value(request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sql = format!(
            "INSERT INTO publish_schedules (id, project_id, run_at, request, state, created_by, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6) RETURNING {COLS}"
        );
        let row = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql)
            .bind(Uuid::new_v4()).bind(project_id).bind(at).bind(Json(&body))
            .bind(created_by).bind(self.clock.now())
            .fetch_one(&mut *p).await)?;
        row.into_schedule()
    }

    pub async fn get_schedule(&self, project_id: Uuid, id: Uuid) -> Result<Schedule, StoreError> {
        let sql = format!("SELECT {COLS} FROM publish_schedules WHERE id = $1 AND project_id = $2");
        let row = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(id).bind(project_id).fetch_optional(&mut *p).await)?;
        row.ok_or(StoreError::NotFound)?.into_schedule()
    }

    /// A project's schedules by time, optionally in one state.
    pub async fn list_schedules(
        &self,
        project_id: Uuid,
        state: Option<ScheduleState>,
        w: Window,
    ) -> Result<(Vec<Schedule>, i64), StoreError> {
        let filter = "project_id = $1 AND ($2 IS NULL OR state = $2)";
        let sql = format!(
            "SELECT {COLS} FROM publish_schedules WHERE {filter} ORDER BY run_at, id LIMIT $3 OFFSET $4"
        );
        let count = format!("SELECT COUNT(*) FROM publish_schedules WHERE {filter}");
        let state = state.map(ScheduleState::as_str);
        let (rows, total) = on_pool!(self, p => {
            let rows = sqlx::query_as::<_, Row>(&sql).bind(project_id).bind(state).bind(w.limit).bind(w.offset).fetch_all(&mut *p).await?;
            let total: i64 = sqlx::query_scalar(&count).bind(project_id).bind(state).fetch_one(&mut *p).await?;
            (rows, total)
        });
        let items = rows
            .into_iter()
            .map(Row::into_schedule)
            .collect::<Result<_, _>>()?;
        Ok((items, total))
    }

    /// Cancels a pending schedule; a cancelled one stays cancelled (cancelling is idempotent).
    pub async fn cancel_schedule(&self, project_id: Uuid, id: Uuid) -> Result<Cancel, StoreError> {
        let sql = format!(
            "UPDATE publish_schedules SET state = 'cancelled', finished_at = $3 \
             WHERE id = $1 AND project_id = $2 AND state = 'pending' RETURNING {COLS}"
        );
        let row = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(id).bind(project_id).bind(self.clock.now()).fetch_optional(&mut *p).await)?;
        if let Some(row) = row {
            return Ok(Cancel::Cancelled(row.into_schedule()?));
        }
        let s = self.get_schedule(project_id, id).await?;
        Ok(match s.state {
            ScheduleState::Cancelled => Cancel::AlreadyCancelled(s),
            _ => Cancel::Finished(s),
        })
    }

    /// Pending schedules whose time has come, oldest first.
    pub async fn due_schedules(&self, limit: i64) -> Result<Vec<Schedule>, StoreError> {
        let sql = format!(
            "SELECT {COLS} FROM publish_schedules WHERE state = 'pending' AND run_at <= $1 ORDER BY run_at, id LIMIT $2"
        );
        let rows = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(self.clock.now()).bind(limit).fetch_all(&mut *p).await)?;
        rows.into_iter().map(Row::into_schedule).collect()
    }

    /// Claims a due schedule and enqueues its job in one transaction. `None`: another process
    /// claimed (or someone cancelled) it first, and nothing was written.
    pub async fn run_schedule(
        &self,
        s: &Schedule,
        request: &JobRequest,
    ) -> Result<Option<Job>, StoreError> {
        let now = self.clock.now();
        let job_id = Uuid::new_v4();
        let mut tx = self.begin().await?;
        let sql = "UPDATE publish_schedules SET state = 'ran', job_id = $2, late_by_secs = $3, finished_at = $4 \
                   WHERE id = $1 AND state = 'pending'";
        let claimed = on_tx!(&mut tx, c => sqlx::query(sql).bind(s.id).bind(job_id).bind(late_by(s.at, now)).bind(now).execute(c).await?.rows_affected());
        if claimed != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let job = self
            .enqueue_job_with_id(&mut tx, job_id, s.project_id, request, s.created_by)
            .await?;
        tx.commit().await?;
        Ok(Some(job))
    }

    /// Marks a due schedule failed (it could not become a job); false if it was claimed first.
    pub async fn fail_schedule(&self, s: &Schedule, error: &str) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let sql = "UPDATE publish_schedules SET state = 'failed', error = $2, late_by_secs = $3, finished_at = $4 \
                   WHERE id = $1 AND state = 'pending'";
        let n = on_pool!(self, p => sqlx::query(sql).bind(s.id).bind(error).bind(late_by(s.at, now)).bind(now).execute(&mut *p).await?.rows_affected());
        Ok(n == 1)
    }
}
