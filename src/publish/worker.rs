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

/// A running worker; [`WorkerHandle::stop`] lets the job in hand finish, then ends it.
pub struct WorkerHandle {
    task: tokio::task::JoinHandle<()>,
    stopping: Arc<AtomicBool>,
    wake: Arc<Notify>,
}

impl WorkerHandle {
    /// Stops taking jobs and waits (up to `grace`) for the current one. A job cut off after
    /// that is resumed by the next worker to take the project's lease.
    pub async fn stop(self, grace: Duration) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        if tokio::time::timeout(grace, self.task).await.is_err() {
            tracing::warn!("a publish job was still running at shutdown; it will be resumed");
        }
    }
}

pub fn spawn(ctx: Arc<PublishContext>, wake: Arc<Notify>, poll: Duration) -> WorkerHandle {
    let stopping = Arc::new(AtomicBool::new(false));
    let task = {
        let (stopping, wake) = (stopping.clone(), wake.clone());
        tokio::spawn(async move {
            while !stopping.load(Ordering::SeqCst) {
                if let Err(e) = pass(&ctx, &stopping).await {
                    tracing::warn!(error = %e, "publish worker pass failed");
                }
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        })
    };
    WorkerHandle {
        task,
        stopping,
        wake,
    }
}

/// One pass: every project with pending work whose lease we can take is drained.
pub async fn tick(ctx: &Arc<PublishContext>) -> Result<(), crate::store::StoreError> {
    pass(ctx, &AtomicBool::new(false)).await
}

async fn pass(
    ctx: &Arc<PublishContext>,
    stopping: &AtomicBool,
) -> Result<(), crate::store::StoreError> {
    for project in ctx.store.projects_with_pending_jobs().await? {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        if ctx
            .store
            .acquire_lease(project, &ctx.owner, ctx.lease)
            .await?
        {
            let result = drain(ctx, project, stopping).await;
            let _ = ctx.store.release_lease(project, &ctx.owner).await;
            result?;
        }
    }
    Ok(())
}

async fn drain(
    ctx: &Arc<PublishContext>,
    project: Uuid,
    stopping: &AtomicBool,
) -> Result<(), crate::store::StoreError> {
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
            if lost.load(Ordering::SeqCst) || stopping.load(Ordering::SeqCst) {
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
