//! Running one publish job: compile, plan versions, write every enabled target, then record
//! the release. Re-running a job after a crash is safe: compiling is deterministic, versions
//! are planned from the last recorded release, and targets skip what they already hold.

use super::desired::desired;
use super::plan::{next_release, plan_target};
use super::probe::{ConnError, ErrorKind};
use super::targets::{self, Apply, Bodies, ProbeContext, SiteSettings};
use crate::clock::SharedClock;
use crate::compile::{CompileOptions, CssCache, DraftPage, ProjectContext, ProjectInput};
use crate::domain::publish::{Job, JobResult, Progress, ReleasePage, TargetResult};
use crate::store::releases::NewRelease;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// Everything a worker needs, shared by all jobs of a process.
pub struct PublishContext {
    pub store: Store,
    pub clock: SharedClock,
    pub css: Arc<CssCache>,
    pub compile: CompileOptions,
    pub probe: ProbeContext,
    /// This process's lease owner id.
    pub owner: String,
    pub lease: chrono::Duration,
}

/// The compiler's input for a project's pages and datasources.
pub fn project_input(
    project: &crate::domain::project::Project,
    pages: Vec<crate::domain::page::Page>,
    datasources: Vec<crate::compile::Datasource>,
) -> ProjectInput {
    ProjectInput {
        pages: pages
            .into_iter()
            .map(|p| DraftPage {
                id: p.id.to_string(),
                slug: p.slug,
                name: p.name,
                title: p.title,
                description: p.description,
                layout_data: p.layout_data,
                seo_data: p.seo_data,
                is_public: p.is_public,
                is_homepage: p.is_homepage,
            })
            .collect(),
        datasources,
        context: ProjectContext {
            tenant_slug: project.tenant_slug.clone(),
            app_variables: None,
        },
    }
}

/// `2026-11-22T10:00:00.000Z`: the only form the edge's validator accepts.
pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A job that cannot succeed: ends it as failed with the reason.
pub struct Failed(pub String);

pub async fn run_job(ctx: &PublishContext, job: &Job) -> Result<(), StoreError> {
    let started = Instant::now();
    let mut progress = Progress {
        stage: "compiling".into(),
        ..Default::default()
    };
    let mut result = JobResult::default();
    ctx.store.set_progress(job.id, &progress).await?;
    let outcome = execute(ctx, job, &mut progress, &mut result, started).await;
    result.total_ms = ms(started);
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(Failed(reason))) => {
            tracing::warn!(job_id = %job.id, reason = %reason, "publish failed");
            result.error = Some(reason);
            progress.stage = "failed".into();
            ctx.store.fail_job(job.id, &progress, &result).await
        }
        Err(e) => Err(e),
    }
}

async fn execute(
    ctx: &PublishContext,
    job: &Job,
    progress: &mut Progress,
    result: &mut JobResult,
    started: Instant,
) -> Result<Result<(), Failed>, StoreError> {
    let project = ctx.store.get_project(&job.project_id.to_string()).await?;
    let current = ctx
        .store
        .current_release(project.id)
        .await?
        .map(|(_, pages)| pages)
        .unwrap_or_default();
    let desired = match desired(ctx, job, &project, &current, progress, result).await? {
        Ok(d) => d,
        Err(f) => return Ok(Err(f)),
    };
    result.compile_ms = ms(started);
    let now = iso(ctx.clock.now());
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
        &now,
    );
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
        return Ok(Err(Failed(
            "the project has no enabled publish target".into(),
        )));
    }
    let write_started = Instant::now();
    let release_id = Uuid::new_v4();
    let settings = SiteSettings::from(&project);
    let bodies = BlobBodies {
        store: &ctx.store,
        project_id: project.id,
    };
    let runs = targets.iter().map(|t| {
        let (release, bodies, settings, tenant, now) = (
            &release,
            &bodies,
            &settings,
            project.tenant_slug.as_str(),
            now.as_str(),
        );
        async move {
            let started = Instant::now();
            let mut r = TargetResult {
                target_id: t.id,
                name: t.name.clone(),
                kind: t.kind.as_str().into(),
                ..Default::default()
            };
            let outcome = async {
                let target = targets::open(t, &ctx.probe)?;
                let held = target.held(tenant).await?;
                let plan = plan_target(release, &held, desired.force);
                let apply = Apply {
                    tenant,
                    upserts: &plan.upserts,
                    deletes: &plan.deletes,
                    bodies,
                    settings,
                    release_id,
                    job_id: job.id,
                    published_at: now,
                };
                target.apply(&apply).await?;
                Ok::<_, ConnError>(plan)
            }
            .await;
            match outcome {
                Ok(plan) => {
                    r.ok = true;
                    r.upserted = plan.upserts.len() as u64;
                    r.deleted = plan.deletes.len() as u64;
                    r.unchanged = plan.unchanged;
                }
                Err(e) => r.error = Some(e.message),
            }
            r.duration_ms = ms(started);
            r
        }
    });
    result.targets = futures_util::future::join_all(runs).await;
    result.write_ms = ms(write_started);
    progress.pages_written = result.targets.iter().map(|t| t.upserted).sum();
    let failed = result.targets.iter().filter(|t| !t.ok).count();
    if failed > 0 {
        return Ok(Err(Failed(format!(
            "{failed} of {} targets failed",
            result.targets.len()
        ))));
    }
    progress.stage = "done".into();
    result.total_ms = ms(started);
    let targets_json = serde_json::to_value(&result.targets).unwrap_or_default();
    let new = NewRelease {
        id: release_id,
        targets: &targets_json,
        pages: &release,
        progress,
        result,
    };
    ctx.store.commit_release(job, &ctx.owner, &new).await?;
    tracing::info!(job_id = %job.id, pages = release.len(), written = progress.pages_written, "published");
    Ok(Ok(()))
}

/// Compiled pages for targets, read from the blob store a chunk at a time and stamped.
struct BlobBodies<'a> {
    store: &'a Store,
    project_id: Uuid,
}

#[async_trait::async_trait]
impl Bodies for BlobBodies<'_> {
    async fn load(&self, pages: &[ReleasePage]) -> Result<Vec<Value>, ConnError> {
        let hashes: Vec<String> = pages.iter().map(|p| p.content_hash.clone()).collect();
        let blobs = self
            .store
            .get_blobs(self.project_id, &hashes)
            .await
            .map_err(|e| {
                ConnError::new(
                    ErrorKind::Protocol,
                    format!("reading compiled pages failed: {e}"),
                )
            })?;
        pages
            .iter()
            .map(|p| {
                let mut body: Value = blobs
                    .get(&p.content_hash)
                    .and_then(|s| serde_json::from_str(s).ok())
                    .ok_or_else(|| {
                        ConnError::new(
                            ErrorKind::Protocol,
                            format!("compiled page {} is missing", p.content_hash),
                        )
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
