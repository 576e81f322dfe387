//! Recording a release: the release (or, for a retry, its updated per-target results) and
//! the job's end commit in one control-plane transaction, fenced by the project's lease so a
//! worker that lost its lease records nothing. Rows that must commit with a release (cache
//! outbox, outgoing events, audit) are written into the same transaction here.

use super::context::PublishContext;
use crate::domain::publish::{Job, JobResult, JobState, Progress, ReleasePage, TargetResult};
use crate::store::outbox::NewCacheOp;
use crate::store::releases::NewRelease;
use crate::store::StoreError;
use crate::webhooks::events;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What a job that wrote something leaves behind.
pub enum Outcome<'a> {
    /// A new release of these pages, published at `at`, with its cache operations.
    New {
        id: Uuid,
        pages: &'a [ReleasePage],
        /// The release before it (the current one), which it is recorded against.
        previous: &'a [ReleasePage],
        at: DateTime<Utc>,
        cache: Vec<NewCacheOp>,
    },
    /// An existing release written again to some of its targets; `before` are its results;
    /// `cache`: operations repairing its cache, with the release's number.
    Retried {
        id: Uuid,
        before: Vec<TargetResult>,
        cache: Option<(i64, Vec<NewCacheOp>)>,
    },
}

/// `complete` when every target holds the release, else `partial`.
fn status(targets: &[TargetResult]) -> &'static str {
    if targets.iter().all(|t| t.ok) {
        "complete"
    } else {
        "partial"
    }
}

pub async fn record(
    ctx: &PublishContext,
    job: &Job,
    outcome: Outcome<'_>,
    progress: &Progress,
    result: &JobResult,
    started: std::time::Instant,
) -> Result<(), StoreError> {
    let state = if result.targets.iter().all(|t| t.ok) {
        JobState::Succeeded
    } else {
        JobState::Partial
    };
    let mut tx = ctx.store.begin().await?;
    // The fence goes first: on SQLite it takes the write lock, on Postgres it locks the
    // lease row, so no other worker can take the lease until this commits.
    ctx.store
        .fence_lease(&mut tx, job.project_id, &ctx.owner)
        .await?;
    let mut superseded = Vec::new();
    let release_id = match outcome {
        Outcome::New {
            id,
            pages,
            previous,
            at,
            cache,
        } => {
            let (changed, removed) = super::plan::release_delta(previous, pages);
            let new = NewRelease {
                id,
                targets: &result.targets,
                changed: &changed,
                removed: &removed,
                status: status(&result.targets),
                created_at: at,
            };
            let release = ctx.store.insert_release(&mut tx, job, &new).await?;
            superseded = ctx
                .store
                .enqueue_cache_ops(&mut tx, job, id, release.number, &cache)
                .await?;
            id
        }
        Outcome::Retried {
            id,
            mut before,
            cache,
        } => {
            if let Some((number, ops)) = cache {
                superseded = ctx
                    .store
                    .enqueue_cache_ops(&mut tx, job, id, number, &ops)
                    .await?;
            }
            for t in &result.targets {
                match before.iter_mut().find(|b| b.target_id == t.target_id) {
                    Some(b) => *b = t.clone(),
                    None => before.push(t.clone()),
                }
            }
            ctx.store
                .update_release_targets(&mut tx, id, &before, status(&before))
                .await?;
            id
        }
    };
    // The event, recorded in this transaction, carries the time up to the commit; the job's
    // own result is rewritten with the time including it once the commit is done.
    let mut result = JobResult {
        total_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        ..result.clone()
    };
    ctx.store
        .finish_job(&mut tx, job.id, state, release_id, progress, &result)
        .await?;
    let event = events::job_ended(
        job,
        state,
        Some(release_id),
        progress,
        &result,
        ctx.clock.now(),
    );
    let notify = enqueue(ctx, &mut tx, job.project_id, &event).await?;
    // Older steps whose last pending operations this release superseded are over now; their
    // events commit with it.
    let settled = crate::cache::outbox::settle_steps_in(
        &ctx.store,
        &mut tx,
        &ctx.clock,
        job.project_id,
        &superseded,
    )
    .await?;
    tx.commit().await?;
    result.total_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if let Err(e) = ctx.store.set_job_result(job.id, &result).await {
        // The release is committed and the job finished; only the figure is short.
        tracing::warn!(job_id = %job.id, error = %e, "recording the job's total time failed");
    }
    ctx.cache_wake.notify_one();
    if notify || settled {
        ctx.hooks_wake.notify_one();
    }
    Ok(())
}

/// Ends a job that published nothing, with its `publish.failed` event.
pub async fn failed(
    ctx: &PublishContext,
    job: &Job,
    progress: &Progress,
    result: &JobResult,
) -> Result<(), StoreError> {
    let mut tx = ctx.store.begin().await?;
    ctx.store
        .fail_job(&mut tx, job.id, progress, result)
        .await?;
    let event = events::job_ended(
        job,
        JobState::Failed,
        None,
        progress,
        result,
        ctx.clock.now(),
    );
    let notify = enqueue(ctx, &mut tx, job.project_id, &event).await?;
    tx.commit().await?;
    if notify {
        ctx.hooks_wake.notify_one();
    }
    Ok(())
}

async fn enqueue(
    ctx: &PublishContext,
    tx: &mut crate::store::Tx,
    project: Uuid,
    e: &events::Event,
) -> Result<bool, StoreError> {
    ctx.store
        .enqueue_event(tx, project, e.id, e.kind, &e.payload, None)
        .await
}
