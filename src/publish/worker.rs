//! The job worker: a claim-with-lease loop over `publish_jobs`, so several edgepub processes
//! sharing one database cooperate. A project's jobs run one at a time, oldest first, by
//! whoever holds the project's lease; a lease that is not renewed expires and another worker
//! (or this one, restarted) resumes the unfinished job.

use super::jobs::{run_job, PublishContext};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use uuid::Uuid;

/// Attempts after which a job that keeps failing to run (not a failed publish: an error
/// around it, such as the database going away) is given up.
const MAX_ATTEMPTS: i64 = 5;

pub fn spawn(
    ctx: Arc<PublishContext>,
    wake: Arc<Notify>,
    poll: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = tick(&ctx).await {
                tracing::warn!(error = %e, "publish worker pass failed");
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    })
}

/// One pass: every project with pending work whose lease we can take is drained.
pub async fn tick(ctx: &Arc<PublishContext>) -> Result<(), crate::store::StoreError> {
    for project in ctx.store.projects_with_pending_jobs().await? {
        if ctx
            .store
            .acquire_lease(project, &ctx.owner, ctx.lease)
            .await?
        {
            let result = drain(ctx, project).await;
            let _ = ctx.store.release_lease(project, &ctx.owner).await;
            result?;
        }
    }
    Ok(())
}

async fn drain(ctx: &Arc<PublishContext>, project: Uuid) -> Result<(), crate::store::StoreError> {
    let lost = Arc::new(AtomicBool::new(false));
    let renewer = {
        let (ctx, lost) = (ctx.clone(), lost.clone());
        let every = (ctx.lease / 3).to_std().unwrap_or(Duration::from_secs(5));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if !matches!(
                    ctx.store.renew_lease(project, &ctx.owner, ctx.lease).await,
                    Ok(true)
                ) {
                    lost.store(true, Ordering::SeqCst);
                    return;
                }
            }
        })
    };
    let result = async {
        while let Some(job) = ctx.store.next_job(project).await? {
            if lost.load(Ordering::SeqCst) {
                break;
            }
            if job.attempts >= MAX_ATTEMPTS {
                let result = crate::domain::publish::JobResult {
                    error: Some("gave up after repeated errors".into()),
                    ..Default::default()
                };
                ctx.store.fail_job(job.id, &job.progress, &result).await?;
                continue;
            }
            ctx.store.start_job(job.id).await?;
            if let Err(e) = run_job(ctx, &job).await {
                // Left running: the next pass (here or elsewhere) retries it.
                tracing::warn!(job_id = %job.id, error = %e, "publish job interrupted");
                return Err(e);
            }
        }
        Ok(())
    }
    .await;
    renewer.abort();
    result
}
