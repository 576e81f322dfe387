//! Continuous verification: a background [`Work`] that runs each project's drift check when
//! its interval comes round, keeps the result, says when drift appears or goes
//! (`drift.detected`, `drift.resolved`: on a change only, never on every pass while drift
//! persists) and, when the project allows it, repairs: the cache through the outbox (`cache`),
//! or everything through the repair job (`all`), each with an audit entry by `verifier`.
//!
//! A pass is claimed with a conditional UPDATE (`Store::claim_verification`), so of several
//! processes sharing the database one runs it. The check itself streams a target's rows 50 at
//! a time and the cache's keys 100 at a time, yielding between chunks, and the loop yields
//! between projects, so a large project does not hold the runtime; a pass that outlives its
//! interval is given up. What stays in memory is the release's page list and the ids,
//! versions and hashes the target holds (~200 bytes a page), never the pages' bodies at once.

use super::context::PublishContext;
use super::drift::{check_with_repair, DriftReport};
use crate::audit::{Actor, Entry, Summary};
use crate::domain::publish::JobRequest;
use crate::domain::verification::{RepairMode, Verification};
use crate::store::outbox::NewCacheOp;
use crate::store::publish::Enqueued;
use crate::store::verification::PassResult;
use crate::store::{StoreError, Window};
use crate::worker::{Lease, Stop, Work};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

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
        // A pass that outlives its interval is given up: the next one, already due (and
        // perhaps claimed elsewhere), starts over, and only the latest claim's result is kept.
        let limit = std::time::Duration::from_secs(v.interval_secs.unsigned_abs().max(1));
        let checked = tokio::time::timeout(limit, check_with_repair(&self.ctx, &project)).await;
        let (report, cache_ops) = match checked {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                // The next interval tries again; the last result stays what it was.
                tracing::warn!(project_id = %project.id, error = %e, "a verification pass failed");
                return Ok(true);
            }
            Err(_) => {
                tracing::warn!(project_id = %project.id, limit_secs = v.interval_secs, "a verification pass outlived its interval; given up");
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
                project.id,
                &PassResult {
                    runs: pass,
                    at: started,
                    duration_ms,
                    drifted: report.drifted,
                    report: &value,
                    counts: &report.counts(),
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
            self.repair(v.repair, project.id, pass, &report, cache_ops)
                .await?;
        }
        Ok(true)
    }

    /// Repairs what the project's mode covers: in `cache` mode the drifted cache keys (written
    /// through the outbox, whatever the targets hold), in `all` mode everything, through the
    /// repair job.
    async fn repair(
        &self,
        mode: RepairMode,
        project_id: Uuid,
        pass: i64,
        report: &DriftReport,
        cache_ops: Vec<NewCacheOp>,
    ) -> Result<(), StoreError> {
        let (Some(release_id), Some(number)) = (report.release_id, report.release_number) else {
            return Ok(());
        };
        match mode {
            RepairMode::Off => Ok(()),
            RepairMode::All => self.repair_job(project_id, pass, release_id).await,
            RepairMode::Cache => {
                let cache_drifted = report
                    .cache
                    .as_ref()
                    .is_some_and(|c| !c.missing.is_empty() || !c.stale.is_empty());
                if !cache_drifted || cache_ops.is_empty() {
                    return Ok(());
                }
                self.repair_cache(project_id, release_id, number, &cache_ops)
                    .await
            }
        }
    }

    /// Enqueues the repair job (targets and cache), with the verifier's audit entry.
    async fn repair_job(
        &self,
        project_id: Uuid,
        pass: i64,
        release_id: Uuid,
    ) -> Result<(), StoreError> {
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
                let summary = json!({
                    "job_id": job.id, "repair": RepairMode::All.as_str(), "release_id": release_id,
                });
                crate::audit::write(store, &entry(project_id, job.id.to_string(), &summary))
                    .await?;
                Ok::<_, StoreError>(true)
            })
            .await?;
        if created {
            // After the commit, so the worker finds the job.
            self.wake_publish.notify_one();
        }
        Ok(())
    }

    /// Writes the operations that repair the drifted cache keys to the outbox, with the
    /// verifier's audit entry. Under the project's publish lease (its own owner id, so it
    /// never counts as this process's publish worker): a release recorded meanwhile would
    /// otherwise have its newer values superseded by this older release's.
    async fn repair_cache(
        &self,
        project_id: Uuid,
        release_id: Uuid,
        number: i64,
        ops: &[NewCacheOp],
    ) -> Result<(), StoreError> {
        let store = &self.ctx.store;
        let owner = format!("{}-verifier", self.ctx.owner);
        let Some(lease) = Lease::acquire(store, project_id, &owner, self.ctx.lease).await? else {
            tracing::info!(project_id = %project_id, "cache repair deferred: a job holds the project");
            return Ok(());
        };
        let written = store
            .atomic(async {
                let window = Window {
                    limit: 1,
                    offset: 0,
                };
                let (newest, _) = store.list_releases(project_id, window).await?;
                if newest.first().map(|r| r.id) != Some(release_id) {
                    // A newer release was recorded since the check: its own cache step holds.
                    return Ok(None);
                }
                let mut tx = store.begin().await?;
                store.fence_lease(&mut tx, project_id, &owner).await?;
                let superseded = store
                    .enqueue_release_cache_ops(&mut tx, project_id, None, release_id, number, ops)
                    .await?;
                let summary = json!({
                    "repair": RepairMode::Cache.as_str(), "release_id": release_id, "keys": ops.len(),
                });
                crate::audit::write(store, &entry(project_id, release_id.to_string(), &summary))
                    .await?;
                // The steps this superseded are over: their events commit with the repair.
                let ctx = &self.ctx;
                let settled = crate::cache::outbox::settle_steps_in(
                    store,
                    &mut tx,
                    &ctx.clock,
                    project_id,
                    &superseded,
                )
                .await?;
                Ok::<_, StoreError>(Some(settled))
            })
            .await;
        lease.release().await;
        // A job may have waited for the lease.
        self.wake_publish.notify_one();
        if let Some(settled) = written? {
            self.ctx.cache_wake.notify_one();
            if settled {
                self.ctx.hooks_wake.notify_one();
            }
        }
        Ok(())
    }
}

/// The audit entry of a repair the verifier started.
fn entry(project_id: Uuid, subject: String, summary: &Value) -> Entry {
    Entry {
        actor: Actor::System {
            name: "verifier",
            on_behalf_of: None,
        },
        action: "drift.repair",
        project_id: Some(project_id),
        subject_id: Some(subject),
        summary: Summary::of(summary),
        request_id: None,
        client_addr: None,
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
                "pages": t.drifted_pages(),
                "settings": t.settings,
            })
        })
        .collect();
    let cache = report
        .cache
        .as_ref()
        .map(|c| json!({"readable": c.error.is_none(), "keys": c.drifted_keys()}));
    json!({"release_id": report.release_id, "release_number": report.release_number,
        "targets": targets, "cache": cache})
}
