//! `POST /api/publish-jobs/{id}/retry`: run again only what failed (the decision is
//! `publish::retry`); the answer is a new job, like a publish.

use crate::api::access::{load, Need};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::Auth;
use crate::api::publish::jobs::{enqueue, Accepted};
use crate::api::routes::{resource, Routes};
use crate::api::AppState;
use crate::publish::retry::{retry_request, RetryRefused};
use actix_web::{web, HttpRequest, HttpResponse};

pub fn routes(r: &mut Routes) {
    r.add(resource![retry_job]);
}

/// A retry that cannot run is a 409 naming why.
fn refused(e: RetryRefused) -> ApiError {
    let (code, message) = match e {
        RetryRefused::Store(e) => return ApiError::from(e),
        RetryRefused::Superseded => ("release_superseded", e.to_string()),
        RetryRefused::NothingToRetry(m) => ("nothing_to_retry", m.to_string()),
    };
    ApiError::Conflict {
        code,
        message,
        path: "",
    }
}

#[utoipa::path(post, operation_id = "retryPublishJob", summary = "Re-run only what a failed or partial job failed",
    path = "/api/publish-jobs/{id}/retry", tag = "publish",
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
    let quota =
        crate::api::limits::check(&state, &req, job.project_id, Some(auth.0.token_id)).await?;
    let request = retry_request(&state.store, &job).await.map_err(refused)?;
    let res = enqueue(&state, &req, &auth, job.project_id, request).await?;
    Ok(quota.apply(res))
}
