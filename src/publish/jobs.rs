//! Running one publish job: compile, plan versions, write every enabled target, then record
//! the release. Re-running a job after a crash is safe: compiling is deterministic, versions
//! are planned from the last recorded release, and targets skip what they already hold.

use super::plan::{next_release, plan_target, Wanted};
use super::targets::{self, Apply, ProbeContext, SiteSettings};
use crate::clock::SharedClock;
use crate::compile::{
    compile_project, CompileOptions, CssCache, DraftPage, ProjectContext, ProjectInput,
};
use crate::domain::publish::{Job, JobRequest, JobResult, Progress, ReleasePage, TargetResult};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashMap;
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
struct Failed(String);

/// The release to publish, before targets are written.
struct Desired {
    wanted: Vec<Wanted>,
    base: Vec<ReleasePage>,
    removed: Vec<String>,
    force: bool,
    bodies: HashMap<String, Value>,
}

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
    let desired = match desired(ctx, job, &project, &current, result).await? {
        Ok(d) => d,
        Err(f) => return Ok(Err(f)),
    };
    result.compile_ms = ms(started);
    let now = iso(ctx.clock.now());
    let returning: Vec<String> = {
        let live: std::collections::HashSet<&str> =
            current.iter().map(|p| p.page_id.as_str()).collect();
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
    let blobs: Vec<(String, String)> = desired
        .bodies
        .iter()
        .map(|(h, v)| (h.clone(), v.to_string()))
        .collect();
    ctx.store.put_blobs(project.id, &blobs).await?;
    progress.pages_total = release.len() as u64;
    progress.pages_compiled = desired.wanted.len() as u64;
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
    let bodies = desired.bodies;
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
                let missing: Vec<String> = plan
                    .upserts
                    .iter()
                    .filter(|p| !bodies.contains_key(&p.content_hash))
                    .map(|p| p.content_hash.clone())
                    .collect();
                let loaded = ctx
                    .store
                    .get_blobs(project.id, &missing)
                    .await
                    .map_err(|e| {
                        super::probe::ConnError::new(
                            super::probe::ErrorKind::Protocol,
                            e.to_string(),
                        )
                    })?;
                let mut upserts = Vec::with_capacity(plan.upserts.len());
                for p in &plan.upserts {
                    let mut body = match bodies.get(&p.content_hash) {
                        Some(b) => b.clone(),
                        None => loaded
                            .get(&p.content_hash)
                            .and_then(|s| serde_json::from_str(s).ok())
                            .ok_or_else(|| {
                                super::probe::ConnError::new(
                                    super::probe::ErrorKind::Protocol,
                                    format!("compiled page {} is missing", p.content_hash),
                                )
                            })?,
                    };
                    if let Some(m) = body.as_object_mut() {
                        m.insert("version".into(), Value::from(p.version));
                        m.insert("publishedAt".into(), Value::from(p.published_at.clone()));
                    }
                    upserts.push(body);
                }
                let apply = Apply {
                    tenant,
                    upserts,
                    deletes: &plan.deletes,
                    settings,
                    release_id,
                    job_id: job.id,
                    published_at: now,
                };
                target.apply(&apply).await?;
                Ok::<_, super::probe::ConnError>(plan)
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
    ctx.store
        .commit_release(
            job,
            &ctx.owner,
            &crate::store::releases::NewRelease {
                id: release_id,
                targets: &targets_json,
                pages: &release,
                progress,
                result,
            },
        )
        .await?;
    tracing::info!(job_id = %job.id, pages = release.len(), written = progress.pages_written, "published");
    Ok(Ok(()))
}

/// Works out the pages the job wants published, compiling drafts where it needs to.
async fn desired(
    ctx: &PublishContext,
    job: &Job,
    project: &crate::domain::project::Project,
    current: &[ReleasePage],
    result: &mut JobResult,
) -> Result<Result<Desired, Failed>, StoreError> {
    match &job.request {
        JobRequest::Publish { pages, force } => {
            let live = ctx.store.live_pages(project.id).await?;
            let selected = match pages {
                None => live,
                Some(ids) => {
                    if let Some(missing) = ids.iter().find(|id| !live.iter().any(|p| p.id == **id))
                    {
                        return Ok(Err(Failed(format!(
                            "page {missing} is not a live page of this project"
                        ))));
                    }
                    live.into_iter().filter(|p| ids.contains(&p.id)).collect()
                }
            };
            let datasources = ctx
                .store
                .list_datasources(project.id)
                .await?
                .iter()
                .map(|d| d.public())
                .collect();
            let input = project_input(project, selected, datasources);
            let (css, options) = (ctx.css.clone(), ctx.compile);
            // Compiling a large project is CPU work; keep it off the async workers.
            let out = tokio::task::spawn_blocking(move || compile_project(&input, &options, &css))
                .await
                .map_err(|e| StoreError::Corrupt(format!("compiler panicked: {e}")))?;
            result.diagnostics = out
                .diagnostics
                .iter()
                .filter_map(|d| serde_json::to_value(d).ok())
                .collect();
            if out.has_errors() {
                return Ok(Err(Failed(format!(
                    "{} compile errors; nothing was written",
                    out.errors().count()
                ))));
            }
            let mut bodies = HashMap::new();
            let mut wanted = Vec::new();
            for page in &out.pages {
                let hash = page
                    .content_hash
                    .clone()
                    .unwrap_or_else(|| page.compute_content_hash());
                wanted.push(Wanted {
                    page_id: page.id.clone(),
                    slug: page.slug.clone(),
                    content_hash: hash.clone(),
                });
                bodies.insert(hash, page.to_value());
            }
            let base = if pages.is_none() {
                Vec::new()
            } else {
                current.to_vec()
            };
            Ok(Ok(Desired {
                wanted,
                base,
                removed: Vec::new(),
                force: *force,
                bodies,
            }))
        }
        JobRequest::Unpublish { pages } => Ok(Ok(Desired {
            wanted: Vec::new(),
            base: current.to_vec(),
            removed: pages.iter().map(Uuid::to_string).collect(),
            force: false,
            bodies: HashMap::new(),
        })),
        JobRequest::Rollback { release_id } => {
            let release = match ctx.store.get_release(*release_id).await {
                Ok(r) if r.project_id == project.id => r,
                Ok(_) | Err(StoreError::NotFound) => {
                    return Ok(Err(Failed(format!("release {release_id} does not exist"))))
                }
                Err(e) => return Err(e),
            };
            let wanted = release
                .pages
                .unwrap_or_default()
                .into_iter()
                .map(|p| Wanted {
                    page_id: p.page_id,
                    slug: p.slug,
                    content_hash: p.content_hash,
                })
                .collect();
            Ok(Ok(Desired {
                wanted,
                base: Vec::new(),
                removed: Vec::new(),
                force: false,
                bodies: HashMap::new(),
            }))
        }
    }
}
