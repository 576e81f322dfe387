//! Recording a release: the release, its pages and the job's end commit in one control-plane
//! transaction, fenced by the project's lease so a worker that lost its lease records
//! nothing. Rows that must commit with a release (cache outbox, outgoing events, audit) are
//! written into the same transaction here.

use super::context::PublishContext;
use crate::domain::publish::{Job, JobResult, Progress};
use crate::store::releases::NewRelease;
use crate::store::StoreError;

pub async fn record(
    ctx: &PublishContext,
    job: &Job,
    release: &NewRelease<'_>,
    progress: &Progress,
    result: &JobResult,
) -> Result<(), StoreError> {
    let mut tx = ctx.store.begin().await?;
    // The fence goes first: on SQLite it takes the write lock, on Postgres it locks the
    // lease row, so no other worker can take the lease until this commits.
    ctx.store
        .fence_lease(&mut tx, job.project_id, &ctx.owner)
        .await?;
    ctx.store.insert_release(&mut tx, job, release).await?;
    ctx.store
        .succeed_job(&mut tx, job.id, release.id, progress, result)
        .await?;
    tx.commit().await
}
