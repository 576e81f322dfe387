//! What a retry of a job runs again: only what failed.
//!
//! A partial job's release is written again to the targets that failed it (no new release;
//! the release's per-target results are updated). A failed job is queued again as it was
//! asked, limited to the targets that failed.

use crate::domain::publish::{Job, JobRequest, JobState, TargetResult};
use crate::store::{Store, StoreError};
use uuid::Uuid;

/// Why a job cannot be retried.
#[derive(Debug, thiserror::Error)]
pub enum RetryRefused {
    /// Nothing failed that a retry could mend (`nothing_to_retry`).
    #[error("{0}")]
    NothingToRetry(&'static str),
    /// The job's release is no longer the current one (`release_superseded`).
    #[error("a newer release exists; publish again instead of retrying this one")]
    Superseded,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn failed_targets(results: &[TargetResult]) -> Vec<Uuid> {
    results
        .iter()
        .filter(|t| !t.ok)
        .map(|t| t.target_id)
        .collect()
}

/// The request a retry of `job` queues.
pub async fn retry_request(store: &Store, job: &Job) -> Result<JobRequest, RetryRefused> {
    match job.state {
        JobState::Partial => {
            let release_id = job
                .release_id
                .ok_or(RetryRefused::NothingToRetry("the job recorded no release"))?;
            let current = store.current_release(job.project_id).await?;
            if current.map(|(r, _)| r.id) != Some(release_id) {
                return Err(RetryRefused::Superseded);
            }
            let release = store.get_release(release_id).await?;
            let targets = failed_targets(&release.targets);
            if targets.is_empty() {
                return Err(RetryRefused::NothingToRetry(
                    "every target already holds this release",
                ));
            }
            Ok(JobRequest::Retry {
                release_id,
                targets,
            })
        }
        JobState::Failed => {
            let results = job.result.as_ref().map(|r| r.targets.as_slice());
            let targets = failed_targets(results.unwrap_or_default());
            Ok(if targets.is_empty() {
                job.request.clone()
            } else {
                job.request.limited_to(targets)
            })
        }
        _ => Err(RetryRefused::NothingToRetry(
            "only a failed or partial job can be retried",
        )),
    }
}
