//! Running one publish job: compile, plan versions, write every enabled target, then record
//! the release. Re-running a job after a crash is safe: compiling is deterministic, versions
//! are planned from the last recorded release, and targets skip what they already hold.

use super::context::{iso, PublishContext};
use super::desired::desired;
use super::error::PublishError;
use super::plan::{next_release, plan_target, TargetPlan};
use super::targets::{self, Apply, ApplyReport, Bodies, SiteSettings, TargetError};
use crate::domain::project::Project;
use crate::domain::publish::{Job, JobResult, Progress, ReleasePage, TargetResult};
use crate::domain::target::Target;
use crate::store::releases::NewRelease;
use crate::store::{Store, StoreError};
use serde_json::Value;
use std::collections::HashSet;
use std::time::Instant;
use uuid::Uuid;

fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Runs a job to its end. A final failure ends the job as failed; a store error is returned
/// and the job stays unfinished, to be run again.
pub async fn run_job(ctx: &PublishContext, job: &Job) -> Result<(), StoreError> {
    let started = Instant::now();
    let mut progress = Progress {
        stage: "compiling".into(),
        ..Default::default()
    };
    let mut result = JobResult::default();
    ctx.store.set_progress(job.id, &progress).await?;
    match execute(ctx, job, &mut progress, &mut result, started).await {
        Ok(()) => Ok(()),
        Err(PublishError::Store(e)) => Err(e),
        Err(e) => {
            tracing::warn!(job_id = %job.id, reason = %e, "publish failed");
            result.error = Some(e.to_string());
            result.total_ms = ms(started);
            progress.stage = "failed".into();
            ctx.store.fail_job(job.id, &progress, &result).await
        }
    }
}

/// The new release's pages: the desired content with versions planned from the last release.
async fn plan_release(
    ctx: &PublishContext,
    job: &Job,
    project: &Project,
    progress: &mut Progress,
    result: &mut JobResult,
) -> Result<(Vec<ReleasePage>, bool), PublishError> {
    let current = ctx
        .store
        .current_release(project.id)
        .await?
        .map(|(_, pages)| pages)
        .unwrap_or_default();
    let desired = desired(ctx, job, project, &current, progress, result).await?;
    let returning: Vec<String> = {
        let live: HashSet<&str> = current.iter().map(|p| p.page_id.as_str()).collect();
        desired
            .wanted
            .iter()
            .filter(|w| !live.contains(w.page_id.as_str()))
            .map(|w| w.page_id.clone())
            .collect()
    };
    let highest = ctx.store.highest_versions(project.id, &returning).await?;
    let release = next_release(
        &current,
        &highest,
        &desired.base,
        &desired.wanted,
        &desired.removed,
        desired.force,
        &iso(ctx.clock.now()),
    );
    Ok((release, desired.force))
}

async fn execute(
    ctx: &PublishContext,
    job: &Job,
    progress: &mut Progress,
    result: &mut JobResult,
    started: Instant,
) -> Result<(), PublishError> {
    let project = ctx.store.get_project(&job.project_id.to_string()).await?;
    let (release, force) = plan_release(ctx, job, &project, progress, result).await?;
    result.compile_ms = ms(started);
    progress.pages_total = release.len() as u64;
    progress.stage = "writing".into();
    ctx.store.set_progress(job.id, progress).await?;

    let targets: Vec<_> = ctx
        .store
        .list_targets(project.id)
        .await?
        .into_iter()
        .filter(|t| t.enabled)
        .collect();
    if targets.is_empty() {
        return Err(PublishError::Rejected(
            "the project has no enabled publish target".into(),
        ));
    }
    let write_started = Instant::now();
    let release_id = Uuid::new_v4();
    let now = iso(ctx.clock.now());
    let share = Share {
        tenant: &project.tenant_slug,
        release: &release,
        force,
        bodies: &BlobBodies {
            store: &ctx.store,
            project_id: project.id,
        },
        settings: &SiteSettings::from(&project),
        release_id,
        job_id: job.id,
        published_at: &now,
    };
    let runs = targets.iter().map(|t| write_target(ctx, t, &share));
    result.targets = futures_util::future::try_join_all(runs).await?;
    result.write_ms = ms(write_started);
    progress.pages_written = result.targets.iter().map(|t| t.upserted).sum();
    let failed = result.targets.iter().filter(|t| !t.ok).count();
    if failed > 0 {
        return Err(PublishError::Targets {
            failed,
            total: result.targets.len(),
        });
    }
    progress.stage = "done".into();
    result.total_ms = ms(started);
    let targets_json = serde_json::to_value(&result.targets).unwrap_or_default();
    let new = NewRelease {
        id: release_id,
        targets: &targets_json,
        pages: &release,
    };
    super::release::record(ctx, job, &new, progress, result).await?;
    tracing::info!(job_id = %job.id, pages = release.len(), written = progress.pages_written, "published");
    Ok(())
}

/// What every target of one job writes from.
struct Share<'a> {
    tenant: &'a str,
    release: &'a [ReleasePage],
    force: bool,
    bodies: &'a dyn Bodies,
    settings: &'a SiteSettings,
    release_id: Uuid,
    job_id: Uuid,
    published_at: &'a str,
}

/// Diffs the release against what one target holds and writes the difference. The target's
/// own failure goes into its result; a control-plane failure fails the whole run.
async fn write_target(
    ctx: &PublishContext,
    t: &Target,
    s: &Share<'_>,
) -> Result<TargetResult, StoreError> {
    let started = Instant::now();
    let mut r = TargetResult {
        target_id: t.id,
        name: t.name.clone(),
        kind: t.kind.as_str().into(),
        ..Default::default()
    };
    let outcome = async {
        let target = targets::open(&t.fields(), &ctx.probe)?;
        let held = target.held(s.tenant).await?;
        let plan = plan_target(s.release, &held, s.force);
        let apply = Apply {
            tenant: s.tenant,
            upserts: &plan.upserts,
            deletes: &plan.deletes,
            bodies: s.bodies,
            settings: s.settings,
            release_id: s.release_id,
            job_id: s.job_id,
            published_at: s.published_at,
        };
        let report = target.apply(&apply).await?;
        Ok::<(TargetPlan, ApplyReport), TargetError>((plan, report))
    }
    .await;
    match outcome {
        Ok((plan, report)) => {
            r.ok = report.failed.is_empty();
            r.upserted = report.written;
            r.deleted = report.deleted;
            r.unchanged = plan.unchanged;
            if let Some(f) = report.failed.first() {
                r.error = Some(format!(
                    "{} pages failed; first: {}: {}",
                    report.failed.len(),
                    f.page_id,
                    f.error
                ));
            }
        }
        Err(TargetError::Store(e)) => return Err(e),
        Err(TargetError::Conn(e)) => r.error = Some(e.message),
    }
    r.duration_ms = ms(started);
    Ok(r)
}

/// Compiled pages for targets, read from the blob store a chunk at a time and stamped.
struct BlobBodies<'a> {
    store: &'a Store,
    project_id: Uuid,
}

#[async_trait::async_trait]
impl Bodies for BlobBodies<'_> {
    async fn load(&self, pages: &[ReleasePage]) -> Result<Vec<Value>, StoreError> {
        let hashes: Vec<String> = pages.iter().map(|p| p.content_hash.clone()).collect();
        let blobs = self.store.get_blobs(self.project_id, &hashes).await?;
        pages
            .iter()
            .map(|p| {
                let mut body: Value = blobs
                    .get(&p.content_hash)
                    .and_then(|s| serde_json::from_str(s).ok())
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("compiled page {} is missing", p.content_hash))
                    })?;
                if let Some(m) = body.as_object_mut() {
                    m.insert("version".into(), Value::from(p.version));
                    m.insert("publishedAt".into(), Value::from(p.published_at.clone()));
                }
                Ok(body)
            })
            .collect()
    }
}
