//! The publish work for the background loop (`crate::worker`): a project's jobs run one at a
//! time, oldest first, by whoever holds the project's lease; a job whose worker died is
//! resumed by the next holder.

use super::context::PublishContext;
use super::jobs::run_job;
use crate::store::StoreError;
use crate::worker::{Lease, Stop, Work};
use std::sync::Arc;
use uuid::Uuid;

/// Attempts after which a job that keeps failing to run (not a failed publish: an error
/// around it, such as the database going away) is given up.
const MAX_ATTEMPTS: i64 = 5;

pub struct PublishWork(pub Arc<PublishContext>);

#[async_trait::async_trait]
impl Work for PublishWork {
    fn name(&self) -> &'static str {
        "publish"
    }

    /// Every project with pending work whose lease we can take is drained.
    async fn pass(&self, stop: &Stop) -> Result<(), StoreError> {
        let ctx = &self.0;
        for project in ctx.store.projects_with_pending_jobs().await? {
            if stop.is_set() {
                break;
            }
            if let Some(lease) = Lease::acquire(&ctx.store, project, &ctx.owner, ctx.lease).await? {
                let result = drain(ctx, project, &lease, stop).await;
                lease.release().await;
                // Pruning waits for the project's lease; it is free now.
                ctx.retention_wake.notify_one();
                result?;
            }
        }
        Ok(())
    }
}

/// One pass in the calling task (`edgepub publish --wait`).
pub async fn tick(ctx: &Arc<PublishContext>) -> Result<(), StoreError> {
    PublishWork(ctx.clone()).pass(&Stop::never()).await
}

async fn drain(
    ctx: &PublishContext,
    project: Uuid,
    lease: &Lease,
    stop: &Stop,
) -> Result<(), StoreError> {
    while let Some(job) = ctx.store.next_job(project).await? {
        if lease.lost() || stop.is_set() {
            break;
        }
        if job.attempts >= MAX_ATTEMPTS {
            let result = crate::domain::publish::JobResult {
                error: Some("gave up after repeated errors".into()),
                ..Default::default()
            };
            super::release::failed(ctx, &job, &job.progress, &result).await?;
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
