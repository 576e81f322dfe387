//! Continuous verification: a background [`Work`] that runs each project's drift check when
//! its interval comes round, keeps the result, says when drift appears or goes
//! (`drift.detected`, `drift.resolved`: on a change only, never on every pass while drift
//! persists) and, when the project allows it, asks for the repair.
//!
//! A pass is claimed with a conditional UPDATE (`Store::claim_verification`), so of several
//! processes sharing the database one runs it. The check itself streams a target's rows 50 at
//! a time; the loop yields between projects so a large project does not hold the runtime.

use super::context::PublishContext;
use super::drift::{check, DriftReport};
use crate::audit::{Actor, Entry, Summary};
use crate::domain::publish::JobRequest;
use crate::domain::verification::{RepairMode, Verification};
use crate::store::publish::Enqueued;
use crate::store::verification::FinishedPass;
use crate::store::StoreError;
use crate::worker::{Stop, Work};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::Notify;

/// Rows claimed per query; the pass loops until none are due.
const BATCH: i64 = 20;

pub struct VerifyWork {
    pub ctx: Arc<PublishContext>,
    /// Wakes this process's publish worker once a repair job is enqueued.
    pub wake_publish: Arc<Notify>,
}

#[async_trait::async_trait]
impl Work for VerifyWork {
    fn name(&self) -> &'static str {
        "verification"
    }

    async fn pass(&self, stop: &Stop) -> Result<(), StoreError> {
        loop {
            let due = self.ctx.store.due_verifications(BATCH).await?;
            if due.is_empty() {
                return Ok(());
            }
            let mut progressed = false;
            for v in due {
                if stop.is_set() {
                    return Ok(());
                }
                progressed |= self.run(&v).await?;
                tokio::task::yield_now().await;
            }
            // Every row was taken by another process: let it finish rather than spin.
            if !progressed {
                return Ok(());
            }
        }
    }
}

impl VerifyWork {
    /// Claims and runs one project's pass; true when this process claimed it.
    async fn run(&self, v: &Verification) -> Result<bool, StoreError> {
        let store = &self.ctx.store;
        let Some(pass) = store.claim_verification(v).await? else {
            return Ok(false);
        };
        let project = match store.get_project(&v.project_id.to_string()).await {
            Ok(p) => p,
            Err(StoreError::NotFound) => return Ok(true),
            Err(e) => return Err(e),
        };
        let started = self.ctx.clock.now();
        let timer = std::time::Instant::now();
        let report = match check(&self.ctx, &project).await {
            Ok(r) => r,
            Err(e) => {
                // The next interval tries again; the last result stays what it was.
                tracing::warn!(project_id = %project.id, error = %e, "a verification pass failed");
                return Ok(true);
            }
        };
        let duration_ms = i64::try_from(timer.elapsed().as_millis()).unwrap_or(i64::MAX);
        let mut value =
            serde_json::to_value(&report).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        value["summary"] = Value::String(report.summary());
        let was = v.last_drifted.unwrap_or(false);
        let mut tx = store.begin().await?;
        if !store
            .finish_verification(
                &mut tx,
                &FinishedPass {
                    project_id: project.id,
                    runs: pass,
                    at: started,
                    duration_ms,
                    drifted: report.drifted,
                    report: &value,
                },
            )
            .await?
        {
            tx.rollback().await?;
            return Ok(true);
        }
        let mut notify = false;
        if report.drifted != was {
            let e = crate::webhooks::events::drift_changed(
                project.id,
                pass,
                report.drifted,
                &report.summary(),
                &counts(&report),
                self.ctx.clock.now(),
            );
            notify = store
                .enqueue_event(&mut tx, project.id, e.id, e.kind, &e.payload, None)
                .await?;
        }
        tx.commit().await?;
        if notify {
            self.ctx.hooks_wake.notify_one();
        }
        tracing::info!(project_id = %project.id, drifted = report.drifted, duration_ms, "verified");
        if report.drifted {
            self.repair(v.repair, project.id, pass, &report).await?;
        }
        Ok(true)
    }

    /// Enqueues the repair job when the project's mode covers what drifted. In `cache` mode
    /// that is only when the targets are clean: the repair job rewrites drifted target rows
    /// too, which `cache` does not allow.
    async fn repair(
        &self,
        mode: RepairMode,
        project_id: uuid::Uuid,
        pass: i64,
        report: &DriftReport,
    ) -> Result<(), StoreError> {
        let targets_clean = !report.targets.iter().any(super::drift::target_drifted);
        let allowed = match mode {
            RepairMode::Off => false,
            RepairMode::Cache => targets_clean,
            RepairMode::All => true,
        };
        let Some(release_id) = report.release_id.filter(|_| allowed) else {
            return Ok(());
        };
        let key = format!("verification-{pass}");
        let request = JobRequest::Repair { release_id };
        let store = &self.ctx.store;
        let created = store
            .atomic(async {
                let job = match store
                    .enqueue_job(project_id, &request, Some(&key), None)
                    .await?
                {
                    Enqueued::Created(job) => job,
                    _ => return Ok(false),
                };
                let entry = Entry {
                    actor: Actor::System {
                        name: "verifier",
                        on_behalf_of: None,
                    },
                    action: "drift.repair",
                    project_id: Some(project_id),
                    subject_id: Some(job.id.to_string()),
                    summary: Summary::of(&json!({
                        "job_id": job.id, "repair": mode.as_str(), "release_id": release_id,
                    })),
                    request_id: None,
                    client_addr: None,
                };
                crate::audit::write(store, &entry).await?;
                Ok::<_, StoreError>(true)
            })
            .await?;
        if created {
            // After the commit, so the worker finds the job.
            self.wake_publish.notify_one();
        }
        Ok(())
    }
}

/// What drifted, in counts per target and for the cache: an event stays small however many
/// pages drifted (the full report is at `GET /api/projects/{project}/verification`).
pub fn counts(report: &DriftReport) -> Value {
    let targets: Vec<Value> = report
        .targets
        .iter()
        .map(|t| {
            json!({
                "target_id": t.target_id, "name": t.name, "readable": t.error.is_none(),
                "pages": t.missing.len() + t.extra.len() + t.changed.len(),
                "settings": t.settings,
            })
        })
        .collect();
    let cache = report
        .cache
        .as_ref()
        .map(|c| json!({"readable": c.error.is_none(), "keys": c.missing.len() + c.stale.len()}));
    json!({"release_id": report.release_id, "release_number": report.release_number,
        "targets": targets, "cache": cache})
}
