//! Releases: every successful publish, and rolling back to one.

use crate::api::access::{load, Need};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, PageQuery, Query};
use crate::api::publish::jobs::{enqueue, publish_project_by_ref, Accepted};
use crate::api::routes::{resource, Routes};
use crate::api::{AppState, Paginated};
use crate::domain::publish::{JobRequest, Release};
use actix_web::{web, HttpRequest, HttpResponse};

pub fn routes(r: &mut Routes) {
    r.add(resource![list])
        .add(resource![get])
        .add(resource![rollback]);
}

#[utoipa::path(get, operation_id = "listReleases", summary = "A project's releases",
    path = "/api/projects/{project}/releases", tag = "publish",
    params(("project" = String, Path, description = "Project UUID or slug"), PageQuery),
    responses((status = 200, body = Paginated<Release>, description = "Newest first"), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let project = publish_project_by_ref(&state, &auth, &path).await?;
    let w = q.take()?.window();
    let (items, total) = state.store.list_releases(project.id, w).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(items, total, w)))
}

async fn authorized_release(state: &AppState, auth: &Auth, id: &str) -> Result<Release, ApiError> {
    load(auth, Need::Publish, "release", id, |id| {
        state.store.get_release(id)
    })
    .await
}

#[utoipa::path(get, operation_id = "getRelease", summary = "Read a release",
    path = "/api/releases/{id}", tag = "publish", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Release, description = "With its pages: versions and content hashes"), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(authorized_release(&state, &auth, &path).await?))
}

/// Republishes the release's compiled pages as a new release.
#[utoipa::path(post, operation_id = "rollbackRelease", path = "/api/releases/{id}/rollback", tag = "publish",
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = Accepted), (status = 404, body = ErrorBody)))]
pub async fn rollback(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let r = authorized_release(&state, &auth, &path).await?;
    let quota =
        crate::api::limits::check(&state, &req, r.project_id, Some(auth.0.token_id)).await?;
    let res = enqueue(
        &state,
        &req,
        &auth,
        r.project_id,
        JobRequest::Rollback {
            release_id: r.id,
            targets: None,
        },
    )
    .await?;
    Ok(quota.apply(res))
}
