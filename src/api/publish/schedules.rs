//! Scheduled publishing: `/api/projects/{project}/schedules`. A schedule becomes an ordinary
//! publish job when its time comes (`crate::publish::schedule`). Needs the `publish` scope.

use crate::api::admin::audit;
use crate::api::admin::audit::{audited, Did};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{uuid_or_404, Auth, JsonBody, PageQuery, Query};
use crate::api::publish::jobs::publish_project_by_ref;
use crate::api::routes::{resource, Routes};
use crate::api::{AppState, Paginated};
use crate::audit::Summary;
use crate::domain::schedule::{
    Schedule, ScheduleAction, ScheduleRequest, ScheduleState, PAST_TOLERANCE_SECS,
};
use crate::domain::FieldError;
use crate::store::schedules::Cancel;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

pub fn routes(r: &mut Routes) {
    r.add(resource![list, create])
        .add(resource![get, cancel])
        .add(resource![cancel_post]);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// When to run (RFC 3339). At most a minute in the past (clock skew): such a schedule
    /// runs at once; older times are refused.
    pub at: DateTime<Utc>,
    pub action: ScheduleAction,
    /// Only these pages. Default: publish every live page; unpublish every page of the
    /// current release (the whole site).
    #[serde(default)]
    pub pages: Option<Vec<uuid::Uuid>>,
    /// Publish only: rewrite and re-version every page.
    #[serde(default)]
    pub force: bool,
    /// Only these targets (default: every enabled target of the project).
    #[serde(default)]
    pub targets: Option<Vec<uuid::Uuid>>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only schedules in this state: pending, ran, cancelled or failed (empty: any).
    #[param(pattern = "^(pending|ran|cancelled|failed)?$")]
    pub state: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[utoipa::path(post, operation_id = "createSchedule", summary = "Schedule a publish or unpublish",
    path = "/api/projects/{project}/schedules", tag = "schedules", request_body = ScheduleBody,
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 201, body = Schedule), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<ScheduleBody>,
) -> Result<HttpResponse, ApiError> {
    let project = publish_project_by_ref(&state, &auth, &path).await?;
    let body = body.take()?;
    let request = ScheduleRequest {
        action: body.action,
        pages: body.pages,
        force: body.force,
        targets: body.targets,
    };
    let mut problems = Vec::new();
    if body.at < state.store.now() - chrono::Duration::seconds(PAST_TOLERANCE_SECS) {
        problems.push(FieldError {
            path: "/at".into(),
            code: "in_the_past",
            message: "the time has passed; schedule a time in the future".into(),
        });
    }
    if request.force && request.action == ScheduleAction::Unpublish {
        problems.push(FieldError {
            path: "/force".into(),
            code: "not_for_unpublish",
            message: "`force` applies to publishing only".into(),
        });
    }
    problems.extend(crate::publish::schedule::problems(&state.store, project.id, &request).await?);
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    let s = audited(&state, &req, &auth, async {
        let s = state
            .store
            .create_schedule(project.id, body.at, &request, Some(auth.0.token_id))
            .await
            .map_err(|e| ApiError::from_store(e, "project"))?;
        let r = &s.request;
        let summary = Summary::of(&serde_json::json!({
            "at": s.at, "action": r.action, "pages": r.pages, "force": r.force, "targets": r.targets,
        }));
        let did = Did::new("schedule.create", Some(project.id), s.id, summary);
        Ok((s, did))
}).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/projects/{}/schedules/{}", project.id, s.id),
        ))
        .json(s))
}

#[utoipa::path(get, operation_id = "listSchedules", summary = "A project's schedules",
    path = "/api/projects/{project}/schedules", tag = "schedules",
    params(("project" = String, Path, description = "Project UUID or slug"), ListQuery),
    responses((status = 200, body = Paginated<Schedule>, description = "By time, earliest first"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    q: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let project = publish_project_by_ref(&state, &auth, &path).await?;
    let q = q.take()?;
    // An empty `state` is no filter, as if it were left out.
    let filter = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(ScheduleState::parse(s).ok_or_else(|| {
            ApiError::Validation(vec![FieldError {
                path: "state".into(),
                code: "unknown_state",
                message: "state is one of pending, ran, cancelled, failed".into(),
            }])
        })?),
    };
    let w = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .window();
    let (items, total) = state.store.list_schedules(project.id, filter, w).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(items, total, w)))
}

#[utoipa::path(get, operation_id = "getSchedule", summary = "Read a schedule",
    path = "/api/projects/{project}/schedules/{id}", tag = "schedules",
    params(("project" = String, Path, description = "Project UUID or slug"), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Schedule), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let project = publish_project_by_ref(&state, &auth, &path.0).await?;
    let id = uuid_or_404(&path.1, "schedule")?;
    let s = state
        .store
        .get_schedule(project.id, id)
        .await
        .map_err(|e| ApiError::from_store(e, "schedule"))?;
    Ok(HttpResponse::Ok().json(s))
}

/// Cancels a pending schedule (`DELETE` or `POST …/cancel`); one that already ran or failed
/// is a 409.
#[utoipa::path(delete, operation_id = "deleteSchedule", path = "/api/projects/{project}/schedules/{id}", tag = "schedules",
    params(("project" = String, Path, description = "Project UUID or slug"), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Schedule, description = "Cancelled"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let project = publish_project_by_ref(&state, &auth, &path.0).await?;
    let id = uuid_or_404(&path.1, "schedule")?;
    state
        .store
        .atomic(async {
            match state
                .store
                .cancel_schedule(project.id, id)
                .await
                .map_err(|e| ApiError::from_store(e, "schedule"))?
            {
                Cancel::Cancelled(s) => {
                    let summary = Summary::of(&serde_json::json!({ "at": s.at, "state": s.state }));
                    audit::record(
                        &req,
                        &auth,
                        "schedule.cancel",
                        Some(project.id),
                        s.id,
                        summary,
                    )
                    .await?;
                    Ok(HttpResponse::Ok().json(s))
                }
                Cancel::AlreadyCancelled(s) => Ok(HttpResponse::Ok().json(s)),
                Cancel::Finished(s) => Err(ApiError::Conflict {
                    code: "schedule_finished",
                    message: format!(
                        "the schedule has already {}",
                        match s.state {
                            ScheduleState::Failed => "failed",
                            _ => "run",
                        }
                    ),
                    path: "/state",
                }),
            }
        })
        .await
}

/// The same as `DELETE`, for clients that cannot send one.
#[utoipa::path(post, operation_id = "cancelSchedule", path = "/api/projects/{project}/schedules/{id}/cancel", tag = "schedules",
    params(("project" = String, Path, description = "Project UUID or slug"), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Schedule, description = "Cancelled"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    cancel(state, req, auth, path).await
}
