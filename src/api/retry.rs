//! `POST /api/publish-jobs/{id}/retry`: run again only what failed.
//!
//! A partial job's release is written again to the targets that failed it (no new release;
//! the release's per-target results are updated). A failed job is queued again as it was
//! asked, limited to the targets that failed. Either way the answer is a new job, like a
//! publish.

use super::access::{load, Need};
use super::error::{ApiError, ErrorBody};
use super::extract::Auth;
use super::publish::{enqueue, Accepted};
use super::AppState;
use crate::domain::publish::{Job, JobRequest, JobState, TargetResult};
use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

fn conflict(code: &'static str, message: &str) -> ApiError {
    ApiError::Conflict {
        code,
        message: message.into(),
        path: "",
    }
}

fn failed_targets(results: &[TargetResult]) -> Vec<Uuid> {
    results
        .iter()
        .filter(|t| !t.ok)
        .map(|t| t.target_id)
        .collect()
}

/// The request a retry of `job` queues.
async fn retry_request(state: &AppState, job: &Job) -> Result<JobRequest, ApiError> {
    let results = job
        .result
        .as_ref()
        .map(|r| r.targets.as_slice())
        .unwrap_or_default();
    match job.state {
        JobState::Partial => {
            let release_id = job
                .release_id
                .ok_or_else(|| conflict("nothing_to_retry", "the job recorded no release"))?;
            let current = state.store.current_release(job.project_id).await?;
            if current.map(|(r, _)| r.id) != Some(release_id) {
                return Err(conflict(
                    "release_superseded",
                    "a newer release exists; publish again instead of retrying this one",
                ));
            }
            let release = state.store.get_release(release_id).await?;
            let results: Vec<TargetResult> =
                serde_json::from_value(release.targets).unwrap_or_default();
            let targets = failed_targets(&results);
            if targets.is_empty() {
                return Err(conflict(
                    "nothing_to_retry",
                    "every target already holds this release",
                ));
            }
            Ok(JobRequest::Retry {
                release_id,
                targets,
            })
        }
        JobState::Failed => {
            let targets = failed_targets(results);
            Ok(if targets.is_empty() {
                job.request.clone()
            } else {
                job.request.limited_to(targets)
            })
        }
        _ => Err(conflict(
            "nothing_to_retry",
            "only a failed or partial job can be retried",
        )),
    }
}

#[utoipa::path(post, path = "/api/publish-jobs/{id}/retry", tag = "publish",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = Accepted, description = "A new job that re-runs only the failed targets"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`nothing_to_retry` (the job succeeded or is still running) or `release_superseded` (a newer release exists)")))]
pub async fn retry_job(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = load(&auth, Need::Publish, "publish job", &path, |id| {
        state.store.get_job(id)
    })
    .await?;
    let quota = super::limits::check(&state, &req, job.project_id, Some(auth.0.token_id)).await?;
    let request = retry_request(&state, &job).await?;
    let res = enqueue(&state, &req, &auth, job.project_id, request).await?;
    Ok(quota.apply(res))
}
