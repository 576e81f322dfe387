//! `GET /api/projects/{project}/drift` and `POST …/drift/repair`: do the targets and the cache
//! hold the last release, and rewrite exactly what they do not.

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::Auth;
use crate::api::publish::jobs::{enqueue, publish_project_by_ref, Accepted};
use crate::api::routes::{resource, Routes};
use crate::api::AppState;
use crate::domain::publish::JobRequest;
use crate::publish::drift::{check, DriftReport};
use actix_web::{web, HttpRequest, HttpResponse};

pub fn routes(r: &mut Routes) {
    r.add(resource![drift]).add(resource![repair]);
}

#[utoipa::path(get, operation_id = "getProjectDrift", summary = "Compare the project's targets and cache with its last release",
    path = "/api/projects/{project}/drift", tag = "publish",
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = DriftReport), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn drift(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = publish_project_by_ref(&state, &auth, &path).await?;
    Ok(HttpResponse::Ok().json(check(&state.publish, &project).await?))
}

/// Rewrites, as a job, what drifted: pages and settings on every enabled target (versions
/// unchanged) and cache keys.
#[utoipa::path(post, operation_id = "repairProjectDrift", path = "/api/projects/{project}/drift/repair", tag = "publish",
    params(("project" = String, Path, description = "Project UUID or slug"), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = Accepted), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`no_release`: nothing was published yet")))]
pub async fn repair(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = publish_project_by_ref(&state, &auth, &path).await?;
    let quota = crate::api::limits::check(&state, &req, project.id, Some(auth.0.token_id)).await?;
    let Some((release, _)) = state.store.current_release(project.id).await? else {
        return Err(ApiError::Conflict {
            code: "no_release",
            message: "nothing was published yet; publish first".into(),
            path: "",
        });
    };
    let request = JobRequest::Repair {
        release_id: release.id,
    };
    let res = enqueue(&state, &req, &auth, project.id, request).await?;
    Ok(quota.apply(res))
}
