//! Publishing: start jobs (202 + a status URL), follow them (JSON or Server-Sent Events),
//! and a dry-run compile. Jobs run in the background worker, here or in another process.

use crate::api::access::{load, Need};
use crate::api::content::pages::authorized_page;
use crate::api::content::projects::authorized;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, MaybeJson, PageQuery, Query};
use crate::api::routes::{resource, Routes};
use crate::api::{AppState, Paginated};
use crate::domain::project::Project;
use crate::domain::publish::{Job, JobRequest};
use crate::publish::dry_run::{dry_run, CompileReport};
use crate::store::publish::Enqueued;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub fn routes(r: &mut Routes) {
    r.add(resource![publish_project])
        .add(resource![publish_page])
        .add(resource![unpublish_page])
        .add(resource![list_jobs])
        .add(resource![get_job])
        .add(resource![compile]);
}

pub async fn publish_project_by_ref(
    state: &AppState,
    auth: &Auth,
    project: &str,
) -> Result<Project, ApiError> {
    crate::api::access::project(state, auth, Need::Publish, project).await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// Only these pages (default: every live page; pages no longer live are then removed).
    #[serde(default)]
    pub pages: Option<Vec<Uuid>>,
    /// Rewrite and re-version every page, even unchanged ones.
    #[serde(default)]
    pub force: bool,
    /// Only these targets (default: every enabled target of the project).
    #[serde(default)]
    pub targets: Option<Vec<Uuid>>,
}

/// Refuses a publish naming pages that are not live pages of the project, or targets that
/// are not its enabled targets (422, before any job exists).
pub async fn check_request(
    state: &AppState,
    project: Uuid,
    body: &PublishBody,
) -> Result<(), ApiError> {
    let problems = crate::publish::request::publish_problems(
        &state.store,
        project,
        body.pages.as_deref(),
        body.targets.as_deref(),
    )
    .await?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(problems))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub job_id: Uuid,
    pub status_url: String,
    pub events_url: String,
    pub job: Job,
}

/// Enqueues (or, for a repeated `Idempotency-Key` with the same body, returns) a job.
pub async fn enqueue(
    state: &AppState,
    req: &HttpRequest,
    auth: &Auth,
    project: Uuid,
    request: JobRequest,
) -> Result<HttpResponse, ApiError> {
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty());
    if key.is_some_and(|k| k.len() > 200) {
        return Err(ApiError::BadRequest {
            code: "bad_idempotency_key",
            message: "Idempotency-Key is longer than 200 characters".into(),
            details: serde_json::Value::Null,
        });
    }
    let enqueued = state
        .store
        .atomic(async {
            let enqueued = state
                .store
                .enqueue_job(project, &request, key, Some(auth.0.token_id))
                .await?;
            if let Enqueued::Created(job) = &enqueued {
                let summary = crate::audit::Summary::of(&request);
                let kind = request.kind();
                crate::api::admin::audit::record(req, auth, kind, Some(project), job.id, summary)
                    .await?;
            }
            Ok::<_, ApiError>(enqueued)
        })
        .await?;
    let job = match enqueued {
        Enqueued::Created(job) => {
            // After the commit, so the worker finds the job.
            state.wake_worker.notify_one();
            job
        }
        Enqueued::Existing(job) => job,
        Enqueued::KeyReused => {
            return Err(ApiError::Validation(vec![crate::domain::FieldError {
                path: String::new(),
                code: "idempotency_key_reused",
                message:
                    "this Idempotency-Key was used with a different request in the last 24 hours"
                        .into(),
            }]))
        }
    };
    Ok(accepted(job))
}

/// 202 with the job and where to follow it.
pub fn accepted(job: Job) -> HttpResponse {
    let status_url = format!("/api/publish-jobs/{}", job.id);
    HttpResponse::Accepted()
        .insert_header((actix_web::http::header::LOCATION, status_url.clone()))
        .json(Accepted {
            job_id: job.id,
            events_url: format!("{status_url}/events"),
            status_url,
            job,
        })
}

#[utoipa::path(post, operation_id = "publishProject", summary = "Publish a project (a job; follow it at `events_url`)",
    path = "/api/projects/{project}/publish", tag = "publish",
    request_body(content = Option<PublishBody>, description = "Empty: publish every live page"),
    params(("project" = String, Path, description = "Project UUID or slug"), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = Accepted), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish_project(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: MaybeJson<PublishBody>,
) -> Result<HttpResponse, ApiError> {
    let project = publish_project_by_ref(&state, &auth, &path).await?;
    let quota = crate::api::limits::check(&state, &req, project.id, Some(auth.0.token_id)).await?;
    let body = body.take()?.unwrap_or_default();
    check_request(&state, project.id, &body).await?;
    let res = enqueue(
        &state,
        &req,
        &auth,
        project.id,
        JobRequest::Publish {
            pages: body.pages,
            force: body.force,
            targets: body.targets,
        },
    )
    .await?;
    Ok(quota.apply(res))
}

#[utoipa::path(post, operation_id = "publishPage", summary = "Publish one page",
    path = "/api/pages/{id}/publish", tag = "publish",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = Accepted), (status = 404, body = ErrorBody)))]
pub async fn publish_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let page = page_for_publish(&state, &auth, &path).await?;
    let quota = crate::api::limits::check(&state, &req, page.0, Some(auth.0.token_id)).await?;
    let res = enqueue(
        &state,
        &req,
        &auth,
        page.0,
        JobRequest::Publish {
            pages: Some(vec![page.1]),
            force: false,
            targets: None,
        },
    )
    .await?;
    Ok(quota.apply(res))
}

#[utoipa::path(post, operation_id = "unpublishPage", summary = "Unpublish one page",
    path = "/api/pages/{id}/unpublish", tag = "publish",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = Accepted), (status = 404, body = ErrorBody)))]
pub async fn unpublish_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let page = page_for_publish(&state, &auth, &path).await?;
    let quota = crate::api::limits::check(&state, &req, page.0, Some(auth.0.token_id)).await?;
    let res = enqueue(
        &state,
        &req,
        &auth,
        page.0,
        JobRequest::Unpublish {
            pages: vec![page.1],
            targets: None,
        },
    )
    .await?;
    Ok(quota.apply(res))
}

/// (project id, page id) of a page the caller may publish.
async fn page_for_publish(
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> Result<(Uuid, Uuid), ApiError> {
    let page = load(auth, Need::Publish, "page", id, |id| {
        state.store.get_page(id)
    })
    .await?;
    Ok((page.project_id, page.id))
}

#[utoipa::path(get, operation_id = "getPublishJob", summary = "A publish job's state, progress and results",
    path = "/api/publish-jobs/{id}", tag = "publish", params(("id" = Uuid, Path)),
    responses((status = 200, body = Job), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = authorized_job(&state, &auth, &path).await?;
    Ok(HttpResponse::Ok().json(state.store.with_cache_step(job).await?))
}

pub async fn authorized_job(state: &AppState, auth: &Auth, id: &str) -> Result<Job, ApiError> {
    load(auth, Need::Publish, "publish job", id, |id| {
        state.store.get_job(id)
    })
    .await
}

#[utoipa::path(get, operation_id = "listPublishJobs", summary = "A project's publish jobs",
    path = "/api/projects/{project}/publish-jobs", tag = "publish",
    params(("project" = String, Path, description = "Project UUID or slug"), PageQuery),
    responses((status = 200, body = Paginated<Job>, description = "Newest first"), (status = 404, body = ErrorBody)))]
pub async fn list_jobs(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let project = publish_project_by_ref(&state, &auth, &path).await?;
    let w = q.take()?.window();
    let (jobs, total) = state.store.list_jobs(project.id, w).await?;
    let items = state.store.with_cache_steps(jobs).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(items, total, w)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CompileQuery {
    /// Compile only this page (project-wide checks still run).
    pub page: Option<Uuid>,
}

/// A dry run: compiles the live drafts and reports, writing nothing.
#[utoipa::path(post, operation_id = "compileProject", path = "/api/projects/{project}/compile", tag = "publish",
    params(("project" = String, Path, description = "Project UUID or slug"), CompileQuery),
    responses((status = 200, body = CompileReport), (status = 404, body = ErrorBody)))]
pub async fn compile(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    q: Query<CompileQuery>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let q = q.take()?;
    if let Some(id) = q.page {
        authorized_page(&state, &auth, &id.to_string()).await?;
    }
    let report = dry_run(&state.publish, &project, q.page)
        .await?
        .ok_or(ApiError::NotFound("page"))?;
    Ok(HttpResponse::Ok().json(report))
}
