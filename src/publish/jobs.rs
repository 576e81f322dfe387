//! Running one publish job: compile, plan versions, write every chosen target in parallel,
//! then record the release. Re-running a job after a crash is safe: compiling is
//! deterministic, versions are planned from the last recorded release, and targets skip
//! what they already hold.
//!
//! Outcomes: every target written → a complete release, job `succeeded`; some written →
//! a partial release, job `partial` (`POST /api/publish-jobs/{id}/retry` re-runs the failed
//! targets); none written → no release, job `failed`. A retry job writes an existing release
//! to the targets that failed it and updates that release's per-target results.

use super::context::{iso, project_release, PublishContext};
use super::desired::desired;
use super::drift::cache_drift;
use super::error::PublishError;
use super::plan::next_release;
use super::release::{self, Outcome};
use super::targets::SiteSettings;
use super::write::{write_target, BlobBodies, Known, Share};
use crate::cache::plan::{cache_ops, CacheOp};
use crate::domain::project::Project;
use crate::domain::publish::{
    Job, JobRequest, JobResult, Progress, Release, ReleasePage, TargetStatus,
};
use crate::domain::target::Target;
use crate::store::outbox::NewCacheOp;
use crate::store::StoreError;
use std::sync::Arc;
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
            release::failed(ctx, job, &progress, &result).await
        }
    }
}

/// The pages of a release, shared: the current one is held in process between publishes.
type Pages = Arc<[ReleasePage]>;

/// The new release's pages (sorted by page id): the desired content with versions planned
/// from the last release.
async fn plan_release(
    ctx: &PublishContext,
    job: &Job,
    project: &Project,
    progress: &mut Progress,
    result: &mut JobResult,
) -> Result<(Vec<ReleasePage>, bool, Pages, Option<Release>), PublishError> {
    let (prior, current) = match ctx.store.current_manifest(project.id).await? {
        Some((release, pages)) => (Some(release), pages),
        None => (None, Pages::from(Vec::new())),
    };
    let desired = desired(ctx, job, project, progress, result).await?;
    // The current pages are sorted by page id.
    let live = |id: &str| {
        current
            .binary_search_by(|p| p.page_id.as_str().cmp(id))
            .is_ok()
    };
    let returning: Vec<String> = desired
        .wanted
        .iter()
        .filter(|w| !live(&w.page_id))
        .map(|w| w.page_id.clone())
        .collect();
    let highest = ctx.store.highest_versions(project.id, &returning).await?;
    let release = next_release(
        &current,
        &highest,
        if desired.from_current { &current } else { &[] },
        &desired.wanted,
        &desired.removed,
        desired.force,
        &iso(ctx.clock.now()),
    );
    Ok((release, desired.force, current, prior))
}

/// The enabled targets the job writes: all of them, or those it names.
async fn chosen_targets(
    ctx: &PublishContext,
    project: &Project,
    only: Option<&[Uuid]>,
) -> Result<Vec<Target>, PublishError> {
    let all = ctx.store.list_targets(project.id).await?;
    if let Some(ids) = only {
        if let Some(missing) = ids.iter().find(|id| !all.iter().any(|t| t.id == **id)) {
            return Err(PublishError::Rejected(format!(
                "target {missing} is not a target of this project"
            )));
        }
    }
    let chosen: Vec<Target> = all
        .into_iter()
        .filter(|t| t.enabled && only.is_none_or(|ids| ids.contains(&t.id)))
        .collect();
    if chosen.is_empty() {
        return Err(PublishError::Rejected(
            "the project has no enabled publish target".into(),
        ));
    }
    Ok(chosen)
}

async fn execute(
    ctx: &PublishContext,
    job: &Job,
    progress: &mut Progress,
    result: &mut JobResult,
    started: Instant,
) -> Result<(), PublishError> {
    let project = ctx.store.get_project(&job.project_id.to_string()).await?;
    let (pages, force, existing, previous, prior) = match &job.request {
        JobRequest::Retry { release_id, .. } | JobRequest::Repair { release_id } => {
            let release = project_release(&ctx.store, &project, *release_id).await?;
            let pages = Pages::from(release.pages.clone().unwrap_or_default());
            (pages, false, Some(release), Pages::from(Vec::new()), None)
        }
        _ => {
            let (pages, force, current, prior) =
                plan_release(ctx, job, &project, progress, result).await?;
            (Pages::from(pages), force, None, current, prior)
        }
    };
    result.compile_ms = ms(started);
    progress.pages_total = pages.len() as u64;
    progress.stage = "writing".into();
    ctx.store.set_progress(job.id, progress).await?;
    let targets = chosen_targets(ctx, &project, job.request.targets()).await?;

    let write_started = Instant::now();
    let release_id = existing.as_ref().map_or_else(Uuid::new_v4, |r| r.id);
    // A retry writes its release with the release's own time and job, so every target ends
    // up with the same rows whichever job wrote them.
    let at = existing
        .as_ref()
        .map_or_else(|| ctx.clock.now(), |r| r.created_at);
    let now = iso(at);
    let share = Share {
        tenant: &project.tenant_slug,
        site_dir: &project.site_dir,
        release: &pages,
        force,
        bodies: &BlobBodies {
            store: &ctx.store,
            project_id: project.id,
        },
        settings: &SiteSettings::from(&project),
        release_id,
        job_id: existing.as_ref().map_or(job.id, |r| r.job_id),
        published_at: &now,
        known: prior.as_ref().map(|r| Known {
            release_id: r.id,
            pages: &previous,
            complete: r
                .targets
                .iter()
                .filter(|t| t.ok)
                .map(|t| t.target_id)
                .collect(),
        }),
        check_content: matches!(job.request, JobRequest::Repair { .. }),
    };
    let runs = targets.iter().map(|t| write_target(ctx, t, &share));
    result.targets = futures_util::future::try_join_all(runs).await?;
    result.write_ms = ms(write_started);
    progress.pages_written = result.targets.iter().map(|t| t.upserted).sum();
    let wrote_any = result
        .targets
        .iter()
        .any(|t| t.status != TargetStatus::Failed);
    if !wrote_any {
        return Err(PublishError::Targets {
            failed: result.targets.len(),
            total: result.targets.len(),
        });
    }
    progress.stage = "done".into();
    let new_release = existing.is_none();
    let outcome = match existing {
        None => Outcome::New {
            id: release_id,
            pages: &pages,
            previous: &previous,
            at,
            cache: cache_step(ctx, &project, &previous, &pages).await?,
        },
        Some(r) => Outcome::Retried {
            id: r.id,
            before: r.targets,
            cache: match job.request {
                JobRequest::Repair { .. } => cache_drift(ctx, &project, &pages)
                    .await?
                    .map(|(_, ops)| (r.number, ops)),
                _ => None,
            },
        },
    };
    release::record(ctx, job, outcome, progress, result, started).await?;
    if new_release {
        ctx.store
            .remember_manifest(project.id, release_id, pages.clone());
    }
    tracing::info!(job_id = %job.id, pages = pages.len(), written = progress.pages_written, "published");
    Ok(())
}

/// The cache operations of a new release (none when the project has no cache).
async fn cache_step(
    ctx: &PublishContext,
    project: &Project,
    previous: &[ReleasePage],
    next: &[ReleasePage],
) -> Result<Vec<NewCacheOp>, StoreError> {
    let settings = ctx.store.cache_settings(project.id).await?;
    if !settings.redis_enabled || settings.redis_url.is_none() {
        return Ok(Vec::new());
    }
    let homes = ctx.store.homepage_hashes(project.id).await?;
    let ops = cache_ops(
        settings.cache_mode,
        &project.tenant_slug,
        previous,
        next,
        &|hash| homes.contains(hash),
    );
    Ok(ops
        .into_iter()
        .map(|op| {
            let (op, page) = match op {
                CacheOp::Del(key) => (NewCacheOp::del(key), None),
                CacheOp::Page(key, p) => (NewCacheOp::write(key, "page"), Some(p)),
                CacheOp::Homepage(key, p) => (NewCacheOp::write(key, "homepage"), Some(p)),
            };
            match page {
                Some(p) => NewCacheOp {
                    content_hash: Some(p.content_hash),
                    version: Some(p.version),
                    published_at: Some(p.published_at),
                    ..op
                },
                None => op,
            }
        })
        .collect())
}
