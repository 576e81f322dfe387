//! Continuous verification rows. A due row is claimed with a conditional UPDATE on its `runs`
//! counter: of several processes racing for one pass exactly one sees its UPDATE change a row,
//! and the result is written only by the claim that is still the latest (`runs` unchanged).

use super::{on_pool, on_tx, Store, StoreError, Tx};
use crate::domain::verification::{RepairMode, Verification, VerificationInput};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

const COLS: &str = "project_id, interval_secs, repair, next_run_at, runs, last_pass, last_run_at, \
                    last_duration_ms, last_drifted, last_report";

#[derive(sqlx::FromRow)]
struct Row {
    project_id: Uuid,
    interval_secs: i64,
    repair: String,
    next_run_at: Option<DateTime<Utc>>,
    runs: i64,
    last_pass: Option<i64>,
    last_run_at: Option<DateTime<Utc>>,
    last_duration_ms: Option<i64>,
    last_drifted: Option<bool>,
    last_report: Option<Json<Value>>,
}

impl Row {
    fn into_verification(self) -> Result<Verification, StoreError> {
        let repair = RepairMode::parse(&self.repair)
            .ok_or_else(|| StoreError::Corrupt(format!("verification repair {}", self.repair)))?;
        Ok(Verification {
            project_id: self.project_id,
            interval_secs: self.interval_secs,
            repair,
            next_run_at: self.next_run_at,
            runs: self.runs,
            last_pass: self.last_pass,
            last_run_at: self.last_run_at,
            last_duration_ms: self.last_duration_ms,
            last_drifted: self.last_drifted,
            last_report: self.last_report.map(|j| j.0),
        })
    }
}

/// What one pass found, as [`Store::finish_verification`] keeps it.
pub struct PassResult<'a> {
    /// The claim's fence (`Some(runs)` from [`Store::claim_verification`]).
    pub runs: i64,
    pub at: DateTime<Utc>,
    pub duration_ms: i64,
    pub drifted: bool,
    pub report: &'a Value,
    /// Drifted pages per target name, for `/metrics`.
    pub counts: &'a [(String, i64)],
}

/// One project's last pass as `/metrics` shows it.
pub struct LastPass {
    pub project_slug: String,
    pub at: DateTime<Utc>,
    /// Drifted pages per target name.
    pub counts: Counts,
}

/// A pass's drift counts: stored with it, or (a pass recorded before they were) its report,
/// read once to count.
pub enum Counts {
    Stored(Vec<(String, i64)>),
    Report(Value),
}

impl Store {
    /// The project's verification row; `None` while it was never set (off).
    pub async fn get_verification(
        &self,
        project_id: Uuid,
    ) -> Result<Option<Verification>, StoreError> {
        let sql = format!("SELECT {COLS} FROM project_verification WHERE project_id = $1");
        let row = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(project_id).fetch_optional(&mut *p).await)?;
        row.map(Row::into_verification).transpose()
    }

    /// Sets the schedule; the next pass is one interval from now (none when off). The last
    /// result is kept.
    pub async fn set_verification(
        &self,
        project_id: Uuid,
        input: &VerificationInput,
    ) -> Result<Verification, StoreError> {
        let next = (input.interval_secs > 0)
            .then(|| self.clock.now() + Duration::seconds(input.interval_secs));
        let sql = format!(
            "INSERT INTO project_verification (project_id, interval_secs, repair, next_run_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (project_id) DO UPDATE SET \
             interval_secs = excluded.interval_secs, repair = excluded.repair, \
             next_run_at = excluded.next_run_at RETURNING {COLS}"
        );
        let row = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql)
            .bind(project_id).bind(input.interval_secs).bind(input.repair.as_str()).bind(next)
            .fetch_one(&mut *p).await)?;
        row.into_verification()
    }

    /// Enabled rows whose next pass is due, most overdue first.
    pub async fn due_verifications(&self, limit: i64) -> Result<Vec<Verification>, StoreError> {
        let sql = format!(
            "SELECT {COLS} FROM project_verification WHERE interval_secs > 0 AND next_run_at <= $1 \
             ORDER BY next_run_at, project_id LIMIT $2"
        );
        let rows = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(self.clock.now()).bind(limit).fetch_all(&mut *p).await)?;
        rows.into_iter().map(Row::into_verification).collect()
    }

    /// Claims a due pass and moves the next one an interval on. `Some(runs)`, the claim's
    /// fence, when this process won it; `None` when another one did first.
    pub async fn claim_verification(&self, v: &Verification) -> Result<Option<i64>, StoreError> {
        let next = self.clock.now() + Duration::seconds(v.interval_secs);
        let sql = "UPDATE project_verification SET runs = runs + 1, next_run_at = $3 \
                   WHERE project_id = $1 AND runs = $2 AND interval_secs > 0";
        let n = on_pool!(self, p => sqlx::query(sql).bind(v.project_id).bind(v.runs).bind(next).execute(&mut *p).await?.rows_affected());
        Ok((n == 1).then_some(v.runs + 1))
    }

    /// Writes a pass's result in `tx` unless a later claim superseded it; false then.
    pub async fn finish_verification(
        &self,
        tx: &mut Tx,
        project_id: Uuid,
        pass: &PassResult<'_>,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE project_verification SET last_pass = $2, last_run_at = $3, last_duration_ms = $4, \
                   last_drifted = $5, last_report = $6, last_counts = $7 WHERE project_id = $1 AND runs = $2";
        let n = on_tx!(tx, c => sqlx::query(sql).bind(project_id).bind(pass.runs).bind(pass.at)
            .bind(pass.duration_ms).bind(pass.drifted).bind(Json(pass.report)).bind(Json(pass.counts))
            .execute(c).await?.rows_affected());
        Ok(n == 1)
    }

    /// Every project's last pass, for `/metrics`.
    pub async fn last_passes(&self) -> Result<Vec<LastPass>, StoreError> {
        // The report only where no counts were stored with it: a scrape reads a few numbers
        // per project, however large the reports.
        let sql = "SELECT p.slug, v.last_run_at, v.last_counts, \
                   CASE WHEN v.last_counts IS NULL THEN v.last_report END \
                   FROM project_verification v JOIN projects p ON p.id = v.project_id \
                   WHERE v.last_run_at IS NOT NULL AND v.last_report IS NOT NULL ORDER BY p.slug";
        type Row = (
            String,
            DateTime<Utc>,
            Option<Json<Vec<(String, i64)>>>,
            Option<Json<Value>>,
        );
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(sql).fetch_all(&mut *p).await)?;
        Ok(rows
            .into_iter()
            .map(|(project_slug, at, counts, report)| LastPass {
                project_slug,
                at,
                counts: match (counts, report) {
                    (Some(c), _) => Counts::Stored(c.0),
                    (None, r) => Counts::Report(r.map(|r| r.0).unwrap_or_default()),
                },
            })
            .collect())
    }
}
